// Package schedule reads EventBridge-style schedule expressions, the form
// EventBridge Scheduler and AWS Backup rules share: cron(minutes hours
// day-of-month month day-of-week year) and rate(value unit), in UTC
// (EventBridge User Guide, "Cron expressions" and "Rate expressions"). The
// stack settings validate with it; the policy pack asks it whether an AWS
// Backup rule runs every day.
package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Validate checks an expression for a recurring schedule: cron(minutes
// hours day-of-month month day-of-week year) or rate(value unit). One-time
// at(...) expressions are refused: backups recur.
func Validate(expr string) error {
	switch {
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return validateCron(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return validateRate(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
	default:
		return fmt.Errorf("must be cron(minutes hours day-of-month month day-of-week year) or rate(value unit), e.g. cron(0 2 * * ? *)")
	}
}

var ratePattern = regexp.MustCompile(`^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$`)

func validateRate(body string) error {
	m := ratePattern.FindStringSubmatch(body)
	if m == nil {
		return fmt.Errorf("rate must be rate(<positive whole number> minute(s)|hour(s)|day(s)), e.g. rate(1 day)")
	}
	n, _ := strconv.Atoi(m[1])
	if singular := n == 1; singular != !strings.HasSuffix(m[2], "s") {
		return fmt.Errorf("rate unit must be singular for 1 and plural otherwise, e.g. rate(1 day), rate(2 days)")
	}
	return nil
}

// cronField describes one field of a cron expression.
type cronField struct {
	name    string
	lo, hi  int
	names   []string // names usable instead of numbers
	special string   // extra characters allowed besides , - * /
}

var cronFields = []cronField{
	{name: "minutes", lo: 0, hi: 59},
	{name: "hours", lo: 0, hi: 23},
	{name: "day-of-month", lo: 1, hi: 31, special: "?LW"},
	{name: "month", lo: 1, hi: 12, names: strings.Fields("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")},
	{name: "day-of-week", lo: 1, hi: 7, names: strings.Fields("SUN MON TUE WED THU FRI SAT"), special: "?L#"},
	{name: "year", lo: 1970, hi: 2199},
}

func validateCron(body string) error {
	parts := strings.Fields(body)
	if len(parts) != len(cronFields) {
		return fmt.Errorf("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(parts))
	}
	for i, f := range cronFields {
		if err := f.validate(parts[i]); err != nil {
			return fmt.Errorf("cron %s field %q: %w", f.name, parts[i], err)
		}
	}
	// Scheduler needs exactly one of the two day fields to be "?".
	if (parts[2] == "?") == (parts[4] == "?") {
		return fmt.Errorf("cron needs '?' in exactly one of day-of-month (%q) and day-of-week (%q)", parts[2], parts[4])
	}
	return nil
}

func (f cronField) validate(field string) error {
	if field == "?" {
		if !strings.Contains(f.special, "?") {
			return fmt.Errorf("'?' is only allowed in day-of-month and day-of-week")
		}
		return nil
	}
	for _, item := range strings.Split(field, ",") {
		if err := f.validateItem(item); err != nil {
			return err
		}
	}
	return nil
}

// validateItem checks one comma-separated item: *, a value, a range a-b, any
// of those with /step, or the day forms L, LW, 15W (month days), 6L and 2#3
// (week days).
func (f cronField) validateItem(item string) error {
	if strings.Contains(f.special, "L") && (item == "L" || (f.name == "day-of-month" && item == "LW")) {
		return nil
	}
	if strings.Contains(f.special, "W") && strings.HasSuffix(item, "W") {
		return f.value(strings.TrimSuffix(item, "W"))
	}
	if strings.Contains(f.special, "#") && strings.Contains(item, "#") {
		day, nth, _ := strings.Cut(item, "#")
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("the week number after '#' must be 1 to 5")
		}
		return f.value(day)
	}
	if f.name == "day-of-week" && strings.HasSuffix(item, "L") {
		return f.value(strings.TrimSuffix(item, "L"))
	}

	base, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		if n, err := strconv.Atoi(step); err != nil || n < 1 {
			return fmt.Errorf("step after '/' must be a positive whole number")
		}
	}
	if base == "*" {
		return nil
	}
	if lo, hi, isRange := strings.Cut(base, "-"); isRange {
		if err := f.value(lo); err != nil {
			return err
		}
		return f.value(hi)
	}
	return f.value(base)
}

func (f cronField) value(s string) error {
	for _, n := range f.names {
		if strings.EqualFold(s, n) {
			return nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.lo || n > f.hi {
		if len(f.names) > 0 {
			return fmt.Errorf("values must be %d-%d or %s-%s", f.lo, f.hi, f.names[0], f.names[len(f.names)-1])
		}
		return fmt.Errorf("values must be %d-%d", f.lo, f.hi)
	}
	return nil
}

// RunsDaily tells whether a valid expression starts something on every day,
// or more often: a rate of at most a day, or a cron whose minutes and hours
// select a time, whose month and year select every value, and whose day
// field that is not "?" selects every day (L, W and # select particular
// days). err is Validate's, or a range that runs backwards.
func RunsDaily(expr string) (bool, error) {
	if err := Validate(expr); err != nil {
		return false, err
	}
	if body, ok := strings.CutPrefix(expr, "rate("); ok {
		m := ratePattern.FindStringSubmatch(strings.TrimSuffix(body, ")"))
		n, _ := strconv.Atoi(m[1])
		minutes := map[string]int{"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[m[2]]
		return n*minutes <= 1440, nil
	}
	parts := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	daily := true
	for i, f := range cronFields {
		if parts[i] == "?" {
			continue
		}
		all, err := f.coversAll(parts[i])
		if err != nil {
			return false, fmt.Errorf("cron %s field %q: %w", f.name, parts[i], err)
		}
		// Minutes and hours only pick the time of day; Validate made sure
		// they pick one.
		if f.name != "minutes" && f.name != "hours" {
			daily = daily && all
		}
	}
	return daily, nil
}

// particularDay is a day form that selects particular days: L, LW, 15W
// (days of the month), 6L, 2#3 (days of the week).
var particularDay = regexp.MustCompile(`(?i)^(L|LW|\d+W|\w+L|\w+#\d)$`)

// coversAll tells whether a valid field selects every value of its range.
// The day forms L, LW, 15W, 6L and 2#3 select particular days.
func (f cronField) coversAll(field string) (bool, error) {
	selected := map[int]bool{}
	for _, item := range strings.Split(field, ",") {
		if f.special != "" && particularDay.MatchString(item) {
			continue
		}
		base, step, hasStep := strings.Cut(item, "/")
		every := 1
		if hasStep {
			every, _ = strconv.Atoi(step)
		}
		lo, hi := f.lo, f.hi
		switch a, b, isRange := strings.Cut(base, "-"); {
		case base == "*":
		case isRange:
			lo, hi = f.number(a), f.number(b)
			if lo > hi {
				return false, fmt.Errorf("the range %s runs backwards", base)
			}
		default:
			lo = f.number(base)
			if !hasStep {
				hi = lo
			}
		}
		for v := lo; v <= hi; v += every {
			selected[v] = true
		}
	}
	return len(selected) == f.hi-f.lo+1, nil
}

// number is a valid value's number: a name's position, or the number.
func (f cronField) number(s string) int {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.lo + i
		}
	}
	n, _ := strconv.Atoi(s)
	return n
}
