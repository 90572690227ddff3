package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func schedule(name string, target map[string]any) Resource {
	all := map[string]any{
		"arn":              "arn:aws:lambda:us-east-1:123456789012:function:job",
		"roleArn":          "arn:aws:iam::123456789012:role/scheduler",
		"deadLetterConfig": map[string]any{"arn": "arn:aws:sqs:us-east-1:123456789012:job-dlq"},
		"retryPolicy":      map[string]any{"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600},
	}
	for k, v := range target {
		all[k] = v
	}
	return res(typeSchedule, name, map[string]any{
		"scheduleExpression": "rate(1 hour)", "flexibleTimeWindow": map[string]any{"mode": "OFF"}, "target": all,
	})
}

func TestSchedulerTargetSafety(t *testing.T) {
	bare := schedule("bare", map[string]any{"deadLetterConfig": nil, "retryPolicy": nil})
	many := schedule("many", map[string]any{"retryPolicy": map[string]any{"maximumRetryAttempts": 185}})
	runCases(t, "scheduler-target-safety", "mandatory", []policyCase{
		{name: "dead-letter queue and capped retries", resources: []Resource{
			schedule("job", nil),
			schedule("no-retries", map[string]any{"retryPolicy": map[string]any{"maximumRetryAttempts": 0}}),
		}},
		{name: "defaults", resources: []Resource{bare}, want: []expected{
			{bare.URN, "target.deadLetterConfig.arn is not set"},
			{bare.URN, "target.retryPolicy.maximumRetryAttempts is not set, so Scheduler retries up to 185 times"},
		}},
		{name: "too many retries", resources: []Resource{many}, want: []expected{
			{many.URN, "target.retryPolicy.maximumRetryAttempts is 185, must be 0 to 10"}}},
		{name: "unknown values", resources: []Resource{
			res(typeSchedule, "a", map[string]any{"target": unknown}),
			schedule("b", map[string]any{"deadLetterConfig": unknown, "retryPolicy": unknown}),
			schedule("c", map[string]any{"deadLetterConfig": map[string]any{"arn": unknown},
				"retryPolicy": map[string]any{"maximumRetryAttempts": unknown}}),
		}},
	})
	cfg := DefaultConfig()
	cfg.MaxScheduleRetryAttempts = 185
	assert.Empty(t, violationsWith(t, cfg, "scheduler-target-safety", many), "the configured cap applies")
}

func stateMachine(name string, logging any) Resource {
	return res(typeStateMachine, name, map[string]any{
		"definition": `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`, "roleArn": "arn:aws:iam::123456789012:role/sfn",
		"loggingConfiguration": logging,
	})
}

func TestSFNLogging(t *testing.T) {
	const group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/m:*"
	off := stateMachine("off", nil)
	fatal := stateMachine("fatal", map[string]any{"level": "FATAL", "logDestination": group})
	nowhere := stateMachine("nowhere", map[string]any{"level": "ALL", "includeExecutionData": true})
	runCases(t, "sfn-logging", "mandatory", []policyCase{
		{name: "ERROR and ALL to a log group", resources: []Resource{
			stateMachine("errors", map[string]any{"level": "ERROR", "logDestination": group}),
			stateMachine("all", map[string]any{"level": "ALL", "logDestination": group, "includeExecutionData": false}),
		}},
		{name: "no logging", resources: []Resource{off}, want: []expected{
			{off.URN, "loggingConfiguration.level is not set (OFF)"}, {off.URN, "loggingConfiguration.logDestination is not set"}}},
		{name: "FATAL only", resources: []Resource{fatal}, want: []expected{{fatal.URN, `loggingConfiguration.level is "FATAL"`}}},
		{name: "no destination", resources: []Resource{nowhere}, want: []expected{{nowhere.URN, "logDestination is not set"}}},
		{name: "unknown values", resources: []Resource{
			stateMachine("a", unknown),
			stateMachine("b", map[string]any{"level": unknown, "logDestination": unknown}),
		}},
	})
}
