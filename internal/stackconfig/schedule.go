package stackconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ValidateSchedule checks an EventBridge Scheduler expression for a recurring
// schedule: cron(minutes hours day-of-month month day-of-week year) or
// rate(value unit). One-time at(...) expressions are refused: backups recur.
func ValidateSchedule(expr string) error {
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
