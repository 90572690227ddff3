package pack

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeSchedule     = "aws:scheduler/schedule:Schedule"
	typeStateMachine = "aws:sfn/stateMachine:StateMachine"
)

// schedulerTargetSafety: left to its defaults, Scheduler retries a failing
// target 185 times over a day and then drops the event; nothing records that
// a scheduled job never ran.
var schedulerTargetSafety = resourcePolicy{
	name:        "scheduler-target-safety",
	description: "EventBridge Scheduler targets have a dead-letter queue and a retry policy capped at the configured attempts.",
	level:       mandatory,
	settings: []setting{intSetting{
		name: "maxRetryAttempts", description: "Largest acceptable target.retryPolicy.maximumRetryAttempts.",
		min: 0, max: 185, field: func(c *Config) *int { return &c.MaxScheduleRetryAttempts },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeSchedule || at(r.Properties, "target").IsComputed() {
			return
		}
		if v := at(r.Properties, "target", "deadLetterConfig", "arn"); !isSet(v) {
			report("target.deadLetterConfig.arn is " + describe(v) + ": an event Scheduler gives up on is dropped " +
				"without a trace; send it to an SQS dead-letter queue")
		}
		v := at(r.Properties, "target", "retryPolicy", "maximumRetryAttempts")
		n, ok := numberOf(v)
		switch {
		case v.IsComputed():
		case !ok:
			report(fmt.Sprintf("target.retryPolicy.maximumRetryAttempts is %s, so Scheduler retries up to 185 times "+
				"over 24 hours before the dead-letter queue hears of it; set it to at most %d", describe(v), cfg.MaxScheduleRetryAttempts))
		case n < 0 || n > float64(cfg.MaxScheduleRetryAttempts):
			report(fmt.Sprintf("target.retryPolicy.maximumRetryAttempts is %v, must be 0 to %d", n, cfg.MaxScheduleRetryAttempts))
		}
	},
}

// sfnLogging: without execution logs, a failed state machine run leaves only
// its history, which Step Functions keeps 90 days and nothing can alarm on.
var sfnLogging = resourcePolicy{
	name:        "sfn-logging",
	description: "Step Functions state machines log at level ERROR or ALL to a CloudWatch Logs destination.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeStateMachine || at(r.Properties, "loggingConfiguration").IsComputed() {
			return
		}
		level := at(r.Properties, "loggingConfiguration", "level")
		if s, _ := stringOf(level); !level.IsComputed() && !strings.EqualFold(s, "ERROR") && !strings.EqualFold(s, "ALL") {
			what := describe(level)
			if level.IsNull() {
				what += " (OFF)"
			}
			report("loggingConfiguration.level is " + what + `: set "ERROR" (or "ALL") so failed executions are logged`)
		}
		if v := at(r.Properties, "loggingConfiguration", "logDestination"); !isSet(v) {
			report("loggingConfiguration.logDestination is " + describe(v) + `: name a log group ARN ("arn:...:log-group:<name>:*")`)
		}
	},
}
