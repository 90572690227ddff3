package components_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/recovery/drill"
)

const (
	drillType   = "manga-assist:data:RestoreDrill"
	drillSource = "arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions"
	drillKey    = "arn:aws:kms:us-east-1:123456789012:key/table"
)

func drillArgs() components.RestoreDrillArgs {
	return components.RestoreDrillArgs{
		SourceTableName:      pulumi.String("manga-assist-sessions"),
		SourceTableArn:       pulumi.String(drillSource),
		SourceTableKMSKeyArn: pulumi.String(drillKey),
		AlarmTopicArn:        pulumi.String("arn:aws:sns:us-east-1:123456789012:alarms"),
		Tags:                 map[string]string{"project": "manga-assist-data", "environment": "unit"},
	}
}

// restoreDrill runs the component and returns the result and its children
// keyed by "type name".
func restoreDrill(t *testing.T, args components.RestoreDrillArgs) (preview.Result, map[string]preview.Resource) {
	t.Helper()
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewRestoreDrill(ctx, "drill", &args)
		return err
	})
	var parent string
	for _, r := range result.Find(drillType) {
		parent = r.URN
	}
	require.NotEmpty(t, parent)
	kids := map[string]preview.Resource{}
	for _, r := range result.Resources {
		if r.Parent == parent {
			kids[r.Type+" "+r.Name] = r
		}
	}
	return result, kids
}

func drillKid(t *testing.T, kids map[string]preview.Resource, typ, name string) map[string]any {
	t.Helper()
	r, ok := kids[typ+" "+name]
	require.True(t, ok, "no %s %s among %v", typ, name, drillKeys(kids))
	return r.Inputs
}

func drillKeys(m map[string]preview.Resource) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

type drillStmt struct {
	Sid       string
	Effect    string
	Action    any
	Resource  any
	Principal map[string]string
	Condition map[string]map[string]string
}

func drillStatements(t *testing.T, doc any) map[string]drillStmt {
	t.Helper()
	var d struct{ Statement []drillStmt }
	require.NoError(t, json.Unmarshal([]byte(doc.(string)), &d))
	out := map[string]drillStmt{}
	for i, s := range d.Statement {
		key := s.Sid
		if key == "" {
			key = string(rune('0' + i))
		}
		out[key] = s
	}
	return out
}

func TestRestoreDrillResources(t *testing.T) {
	result, kids := restoreDrill(t, drillArgs())
	assert.Empty(t, result.Mandatory(), "no mandatory policy violation")
	for _, v := range result.Violations {
		assert.NotContains(t, v.URN, "RestoreDrill", "advisory verdict on the drill: %s %s", v.Policy, v.Message)
	}

	// Scheduler: monthly, UTC, retry policy and the encrypted DLQ.
	sched := drillKid(t, kids, "aws:scheduler/schedule:Schedule", "drill")
	assert.Equal(t, components.DefaultDrillSchedule, sched["scheduleExpression"])
	assert.Equal(t, "UTC", sched["scheduleExpressionTimezone"])
	target := sched["target"].(map[string]any)
	assert.Equal(t, map[string]any{"maximumRetryAttempts": 3.0, "maximumEventAgeInSeconds": 3600.0}, target["retryPolicy"])
	queue := drillKid(t, kids, "aws:sqs/queue:Queue", "drill-dlq")
	assert.Equal(t, "arn:aws:sqs:us-east-1:123456789012:"+queue["name"].(string), target["deadLetterConfig"].(map[string]any)["arn"])
	assert.Contains(t, queue["kmsMasterKeyId"], "arn:aws:kms:us-east-1:123456789012:key/", "the DLQ is encrypted with the drill's key")
	// The mocks give the machine a generic ARN; the schedule must target it.
	assert.Contains(t, target["arn"], ":manga-assist-restore-drill-unit")

	// Roles: each trusted by its service, for this account only.
	for name, service := range map[string]string{"drill-scheduler": "scheduler.amazonaws.com", "drill-machine": "states.amazonaws.com", "drill-verify": "lambda.amazonaws.com"} {
		trust := drillStatements(t, drillKid(t, kids, "aws:iam/role:Role", name)["assumeRolePolicy"])["0"]
		assert.Equal(t, service, trust.Principal["Service"], name)
		assert.Equal(t, "123456789012", trust.Condition["StringEquals"]["aws:SourceAccount"], name)
	}
	sp := drillStatements(t, drillKid(t, kids, "aws:iam/rolePolicy:RolePolicy", "drill-scheduler")["policy"])
	assert.Equal(t, "states:StartExecution", sp["StartDrill"].Action)
	assert.Equal(t, target["arn"], sp["StartDrill"].Resource)
	assert.Equal(t, target["deadLetterConfig"].(map[string]any)["arn"], sp["DeadLetters"].Resource)
	assert.Equal(t, queue["kmsMasterKeyId"], sp["EncryptDeadLetters"].Resource)

	// The machine's role restores only the source, touches only scratch tables.
	mp := drillStatements(t, drillKid(t, kids, "aws:iam/rolePolicy:RolePolicy", "drill-machine")["policy"])
	assert.Equal(t, "dynamodb:RestoreTableToPointInTime", mp["RestoreSource"].Action)
	assert.Equal(t, drillSource, mp["RestoreSource"].Resource)
	assert.Equal(t, drillSource+"-drill-*", mp["WatchAndDropScratch"].Resource)
	assert.Equal(t, drillSource+"-drill-*", mp["FillScratch"].Resource)
	assert.Equal(t, drillKey, mp["UseTableKey"].Resource)
	assert.Equal(t, "dynamodb.us-east-1.amazonaws.com", mp["UseTableKey"].Condition["StringEquals"]["kms:ViaService"])
	vp := drillStatements(t, drillKid(t, kids, "aws:iam/rolePolicy:RolePolicy", "drill-verify")["policy"])
	assert.Equal(t, []any{drillSource, drillSource + "-drill-*"}, vp["ReadTables"].Resource)

	// The verifier is built from handlers/restoredrill like the router.
	fn := drillKid(t, kids, "aws:lambda/function:Function", "drill-verify")
	assert.Equal(t, "provided.al2023", fn["runtime"])
	assert.NotEmpty(t, fn["sourceCodeHash"])

	// The machine logs failures to its own log group; both log groups are
	// encrypted with the drill's key and kept a year.
	machine := drillKid(t, kids, "aws:sfn/stateMachine:StateMachine", "drill")
	logging := machine["loggingConfiguration"].(map[string]any)
	assert.Equal(t, "ERROR", logging["level"])
	mlogs := drillKid(t, kids, "aws:cloudwatch/logGroup:LogGroup", "drill-machine")
	assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:"+mlogs["name"].(string)+":*", logging["logDestination"])
	for _, lg := range []string{"drill-machine", "drill-verify"} {
		g := drillKid(t, kids, "aws:cloudwatch/logGroup:LogGroup", lg)
		assert.Equal(t, queue["kmsMasterKeyId"], g["kmsKeyId"], lg)
		assert.Equal(t, 365.0, g["retentionInDays"], lg)
	}
	assert.Equal(t, "*", mp["DeliverLogs"].Resource)

	// Alarms on failed executions, the verifier's metric and the DLQ.
	alarms := map[string]string{}
	for k, r := range kids {
		if strings.HasPrefix(k, "aws:cloudwatch/metricAlarm:MetricAlarm ") {
			alarms[r.Inputs["metricName"].(string)] = r.Inputs["namespace"].(string)
			assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:alarms"}, r.Inputs["alarmActions"])
		}
	}
	assert.Equal(t, map[string]string{"ExecutionsFailed": "AWS/States", drill.MetricFailed: drill.MetricNamespace,
		"ApproximateNumberOfMessagesVisible": "AWS/SQS"}, alarms)
}

// The definition: SDK integrations for restore, describe and delete; every
// transition lands on a state; every path after the restore deletes the
// scratch table before it ends.
func TestRestoreDrillDefinition(t *testing.T) {
	_, kids := restoreDrill(t, drillArgs())
	var def struct {
		StartAt string
		States  map[string]map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(drillKid(t, kids, "aws:sfn/stateMachine:StateMachine", "drill")["definition"].(string)), &def))
	assert.Equal(t, "arn:aws:states:::aws-sdk:dynamodb:restoreTableToPointInTime", def.States["Restore"]["Resource"])
	assert.Equal(t, "arn:aws:states:::aws-sdk:dynamodb:describeTable", def.States["Describe"]["Resource"])
	assert.Equal(t, "arn:aws:states:::aws-sdk:dynamodb:deleteTable", def.States["Delete"]["Resource"])
	assert.Equal(t, "arn:aws:states:::aws-sdk:dynamodb:deleteTable", def.States["CleanUp"]["Resource"])
	params := def.States["Restore"]["Parameters"].(map[string]any)
	assert.Equal(t, true, params["UseLatestRestorableTime"])
	assert.Equal(t, "States.Format('manga-assist-sessions-drill-{}', $$.Execution.Name)", params["TargetTableName.$"])

	next := func(s map[string]any) []string {
		var out []string
		if n, ok := s["Next"].(string); ok {
			out = append(out, n)
		}
		if n, ok := s["Default"].(string); ok {
			out = append(out, n)
		}
		for _, key := range []string{"Choices", "Catch"} {
			if list, ok := s[key].([]any); ok {
				for _, c := range list {
					out = append(out, c.(map[string]any)["Next"].(string))
				}
			}
		}
		return out
	}
	reached := map[string]bool{def.StartAt: true}
	queue := []string{def.StartAt}
	for len(queue) > 0 {
		s := def.States[queue[0]]
		require.NotNil(t, s, "a transition to %s, which does not exist", queue[0])
		queue = queue[1:]
		for _, n := range next(s) {
			if !reached[n] {
				reached[n] = true
				queue = append(queue, n)
			}
		}
	}
	assert.Len(t, reached, len(def.States), "every state is reachable")

	// Every task after the restore catches every error into the clean-up,
	// except the deletes themselves (retried; a failed delete fails the
	// execution, which alarms).
	for name, st := range def.States {
		if st["Type"] != "Task" || name == "Restore" || name == "Delete" || name == "CleanUp" {
			continue
		}
		catches, _ := st["Catch"].([]any)
		require.NotEmpty(t, catches, "%s has no Catch", name)
		c := catches[0].(map[string]any)
		assert.Equal(t, []any{"States.ALL"}, c["ErrorEquals"], name)
		assert.Equal(t, "CleanUp", c["Next"], name)
	}

	// From every state after the restore, every path to a Fail state passes
	// a deleteTable first.
	var walk func(name string, deleted bool, seen map[string]bool)
	walk = func(name string, deleted bool, seen map[string]bool) {
		s := def.States[name]
		if s["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:deleteTable" {
			deleted = true
		}
		if s["Type"] == "Fail" || s["Type"] == "Succeed" {
			assert.True(t, deleted, "%s is reached without deleting the scratch table", name)
			return
		}
		if seen[name] {
			return
		}
		seen[name] = true
		for _, n := range next(s) {
			walk(n, deleted, seen)
		}
	}
	walk("Wait", false, map[string]bool{})
}

func TestRestoreDrillRefusesBadArgs(t *testing.T) {
	args := components.RestoreDrillArgs{Schedule: "monthly", SampleSize: -1, TolerancePercent: 90, MaxWaitMinutes: 2,
		Name: strings.Repeat("n", 70)}
	_, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewRestoreDrill(ctx, "drill", &args)
		return err
	}, "test", "unit", "us-east-1", nil)
	require.Error(t, err)
	for _, want := range []string{
		"RestoreDrillArgs.SourceTableName, SourceTableArn: required",
		`RestoreDrillArgs.Schedule "monthly": must be an EventBridge Scheduler expression`,
		"RestoreDrillArgs.SampleSize -1: must be 1 to 10000",
		"RestoreDrillArgs.TolerancePercent 90: must be 0 to 50",
		"RestoreDrillArgs.MaxWaitMinutes 2: must be 5 to 1440",
		"RestoreDrillArgs.Name: verifier function",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// Without a topic there is nobody to tell: no alarms, rather than alarms
// without actions.
func TestRestoreDrillWithoutTopicHasNoAlarms(t *testing.T) {
	args := drillArgs()
	args.AlarmTopicArn = nil
	result, _ := restoreDrill(t, args)
	assert.Empty(t, result.Find("aws:cloudwatch/metricAlarm:MetricAlarm"))
	assert.NotEmpty(t, result.Find("aws:sfn/stateMachine:StateMachine"), "the drill itself is still there")
}
