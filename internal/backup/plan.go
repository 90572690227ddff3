package backup

import "time"

// DynamoDB's rule for incremental exports (DynamoDB Developer Guide,
// "Requesting a table export": the export period must be at least 15
// minutes and at most 24 hours; ExportFromTime inclusive, ExportToTime
// exclusive).
const (
	MinWindow = 15 * time.Minute
	MaxWindow = 24 * time.Hour
)

// Window is one incremental export period, [From, To).
type Window struct{ From, To time.Time }

// Windows splits [from, end) into consecutive windows of at most MaxWindow;
// a remainder shorter than MinWindow is left for a later run, so no window
// is ever under 15 minutes or over 24 hours. With fullOnly (the hourly
// catch-up) only MaxWindow-long windows are returned: the catch-up closes
// gaps of whole days and leaves the rest to the scheduled run. At most limit
// windows are returned.
func Windows(from, end time.Time, fullOnly bool, limit int) []Window {
	var out []Window
	for len(out) < limit {
		to := from.Add(MaxWindow)
		if to.After(end) {
			to = end
		}
		length := to.Sub(from)
		if length < MinWindow || fullOnly && length < MaxWindow {
			break
		}
		out = append(out, Window{From: from, To: to})
		from = to
	}
	return out
}
