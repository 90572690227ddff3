package pack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AWS Backup rule schedules. A rule's ScheduleExpression is an EventBridge
// style cron expression, cron(Minutes Hours Day-of-month Month Day-of-week
// Year) in UTC or the rule's ScheduleExpressionTimezone (AWS Backup
// Developer Guide, API_BackupRule: "ScheduleExpression ... For more
// information about AWS cron expressions, see Schedule Expressions for
// Rules"; EventBridge User Guide, "Cron expressions": six fields, one of
// Day-of-month and Day-of-week must be "?", wildcards , - * ? / L W #).
// AWS Backup documents cron only; a rate(...) expression, which EventBridge
// accepts, is read as well so that it is judged by its interval rather than
// refused. When a rule has no expression, AWS Backup uses
// cron(0 5 ? * * *), daily at 05:00 UTC (API_BackupRule, ScheduleExpression).

// defaultBackupSchedule is what AWS Backup runs a rule on when it sets none.
const defaultBackupSchedule = "cron(0 5 ? * * *)"

// runsDaily tells whether a schedule expression starts a backup on every
// day, or more often. err says why an expression is not one AWS Backup
// takes.
func runsDaily(expr string) (daily bool, err error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return cronRunsDaily(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return rateRunsDaily(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
	}
	return false, fmt.Errorf("not a cron(...) or rate(...) expression")
}

// rateRunsDaily reads "value unit" (EventBridge: minute(s), hour(s), day(s)).
func rateRunsDaily(body string) (bool, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 {
		return false, fmt.Errorf("rate(%s): want rate(value unit)", body)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1 {
		return false, fmt.Errorf("rate(%s): the value must be a positive whole number", body)
	}
	minutes := map[string]int{"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[fields[1]]
	if minutes == 0 {
		return false, fmt.Errorf("rate(%s): the unit must be minute(s), hour(s) or day(s)", body)
	}
	return n*minutes <= 1440, nil
}

// specialDay is an L, W or # item of a day field: the last day (of the
// month, or a weekday's last in the month), the weekday nearest a date, the
// nth weekday of the month.
var specialDay = regexp.MustCompile(`(?i)^(L|LW|L-\d+|\d+W|\w+L|\w+#\d)$`)

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	cronMinutes    = cronField{name: "minutes", min: 0, max: 59}
	cronHours      = cronField{name: "hours", min: 0, max: 23}
	cronDayOfMonth = cronField{name: "day-of-month", min: 1, max: 31}
	cronMonth      = cronField{name: "month", min: 1, max: 12,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	cronDayOfWeek = cronField{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	cronYear      = cronField{name: "year", min: 1970, max: 2199}
)

// cronRunsDaily: the expression fires on every day when its minutes and
// hours select at least one time, every month and every year are selected,
// and the day field that is not "?" selects every day.
func cronRunsDaily(body string) (bool, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return false, fmt.Errorf("cron(%s): want six fields (minutes hours day-of-month month day-of-week year), got %d", body, len(f))
	}
	minute, hour, dom, month, dow, year := f[0], f[1], f[2], f[3], f[4], f[5]
	if (dom == "?") == (dow == "?") {
		return false, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", body)
	}
	all := true
	for _, c := range []struct {
		field cronField
		expr  string
		day   bool // a day field, where L, W and # select particular days
	}{
		{cronMinutes, minute, false}, {cronHours, hour, false}, {cronDayOfMonth, dom, true},
		{cronMonth, month, false}, {cronDayOfWeek, dow, true}, {cronYear, year, false},
	} {
		if c.expr == "?" {
			continue
		}
		covered, some, err := c.field.parse(c.expr, c.day)
		if err != nil {
			return false, fmt.Errorf("cron(%s): %w", body, err)
		}
		switch c.field.name {
		case "minutes", "hours":
			if !some {
				return false, fmt.Errorf("cron(%s): %s selects nothing", body, c.field.name)
			}
		default:
			all = all && covered
		}
	}
	return all, nil
}

// parse reads one cron field: covered is true when it selects every value
// of its range, some when it selects at least one.
func (f cronField) parse(expr string, day bool) (covered, some bool, err error) {
	selected := map[int]bool{}
	for _, item := range strings.Split(expr, ",") {
		if day && specialDay.MatchString(item) {
			// L (last), W (nearest weekday), # (nth weekday): particular days.
			some = true
			continue
		}
		rangePart, stepPart, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			if step, err = strconv.Atoi(stepPart); err != nil || step < 1 {
				return false, false, fmt.Errorf("%s %q: bad increment", f.name, item)
			}
		}
		lo, hi := f.min, f.max
		switch {
		case rangePart == "*":
		case strings.Contains(rangePart, "-"):
			a, b, _ := strings.Cut(rangePart, "-")
			if lo, err = f.value(a); err != nil {
				return false, false, err
			}
			if hi, err = f.value(b); err != nil {
				return false, false, err
			}
			if lo > hi {
				return false, false, fmt.Errorf("%s %q: the range runs backwards", f.name, item)
			}
		default:
			if lo, err = f.value(rangePart); err != nil {
				return false, false, err
			}
			if !hasStep {
				hi = lo
			}
		}
		for v := lo; v <= hi; v += step {
			selected[v] = true
		}
	}
	some = some || len(selected) > 0
	return len(selected) == f.max-f.min+1, some, nil
}

func (f cronField) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("%s %q: not a value from %d to %d", f.name, s, f.min, f.max)
	}
	return n, nil
}
