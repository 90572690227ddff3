package schedule

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Names that hold the letters of the day forms (JUL, WED) are names, not
// particular days; the day forms select particular days.
func TestRunsDaily(t *testing.T) {
	for expr, want := range map[string]bool{
		"cron(0 5 ? * * *)":                           true,
		"cron(0 5 ? * SUN-SAT *)":                     true,
		"cron(0 5 ? * SUN,MON,TUE,WED,THU,FRI,SAT *)": true,
		"cron(0 5 ? JAN-DEC * *)":                     true,
		"cron(0/30 * * * ? *)":                        true,
		"rate(1 day)":                                 true,
		"rate(90 minutes)":                            true,
		"cron(0 5 ? JAN-JUL * *)":                     false,
		"cron(0 5 ? * MON-WED *)":                     false,
		"cron(0 5 ? * WED *)":                         false,
		"cron(0 5 L * ? *)":                           false,
		"cron(0 5 15W * ? *)":                         false,
		"cron(0 5 ? * 6L *)":                          false,
		"cron(0 5 ? * 2#3 *)":                         false,
		"cron(0 5 1/2 * ? *)":                         false,
		"rate(2 days)":                                false,
		"rate(25 hours)":                              false,
	} {
		got, err := RunsDaily(expr)
		if assert.NoError(t, err, expr) {
			assert.Equal(t, want, got, expr)
		}
	}
	for _, bad := range []string{"cron(0 5 10-1 * ? *)", "cron(0 5 * * *)", "rate(1 days)", "at(2026-01-01T00:00:00)"} {
		_, err := RunsDaily(bad)
		assert.Error(t, err, bad)
	}
}
