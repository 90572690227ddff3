package components

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/lambdabuild"
	"github.com/manga-assist/manga-assist-data/internal/recovery/drill"
)

// RestoreDrillArgs configures a RestoreDrill. The source table is required;
// every other field has the default its comment gives.
type RestoreDrillArgs struct {
	// SourceTableName and SourceTableArn are the table the drill restores
	// (SessionsTable.TableName, .TableArn).
	SourceTableName, SourceTableArn pulumi.StringInput
	// SourceTableKMSKeyArn is the table's customer managed key: a restored
	// table is encrypted with the source's settings, so the machine's role
	// needs to use it. nil for a table under an AWS owned key.
	SourceTableKMSKeyArn pulumi.StringInput

	// Name prefixes physical names: <Name>-<part>-<stack>. Default "manga-assist".
	Name string
	// Schedule is an EventBridge Scheduler expression, in UTC. Default
	// monthly, the 1st at 04:00: after the nightly exports and backups.
	Schedule string
	// SampleSize is how many restored items are compared with the source. Default 100.
	SampleSize int
	// TolerancePercent is how far the restored table may differ from the
	// live source, which keeps changing after the restore point: item count
	// and sampled items, in percent. Default 1.
	TolerancePercent int
	// MaxWaitMinutes bounds the wait for the restore (a PITR restore takes
	// 15 to 60 minutes). Default 180.
	MaxWaitMinutes int
	// LogRetentionDays of the verifier's and the machine's log groups.
	// Default 365: a monthly drill's logs over a year.
	LogRetentionDays int
	// AlarmTopicArn receives the alarms; nil: no alarms (an alarm nobody
	// hears is no alarm, and the policy pack refuses it).
	AlarmTopicArn pulumi.StringInput
	// Tags go on every resource, beside component=RestoreDrill.
	Tags map[string]string
}

// Defaults of RestoreDrillArgs.
const (
	DefaultDrillSchedule         = "cron(0 4 1 * ? *)"
	DefaultDrillSampleSize       = 100
	DefaultDrillTolerancePercent = 1
	DefaultDrillMaxWaitMinutes   = 180
	DefaultDrillLogRetentionDays = 365

	// drillHandler is the directory under handlers/ the verifier is built from.
	drillHandler = "restoredrill"
	// drillPollSeconds is the wait between two DescribeTable calls.
	drillPollSeconds = 60
	// The schedule's retry policy (EventBridge Scheduler API Reference,
	// RetryPolicy: 0-185 attempts, 60-86400 s). Starting an execution fails
	// only on throttling or a missing machine; the default, 185 retries over
	// 24 hours, would hide that for a day.
	drillScheduleRetries   = 3
	drillScheduleMaxAgeSec = 3600
	// drillDLQRetentionSeconds is SQS's longest retention, 14 days.
	drillDLQRetentionSeconds = 1209600
)

var (
	// Step Functions API Reference, CreateStateMachine: name 1-80
	// characters, letters, digits, hyphens and underscores.
	drillMachineNameRule = nameRule{"Step Functions state machine", 80, regexp.MustCompile(`^[0-9A-Za-z_-]+$`),
		"letters, digits, hyphens and underscores", "Step Functions API Reference, CreateStateMachine"}
	// EventBridge Scheduler API Reference, CreateSchedule: Name 1-64, [0-9a-zA-Z-_.]+.
	drillScheduleNameRule = nameRule{"EventBridge schedule", 64, regexp.MustCompile(`^[0-9a-zA-Z._-]+$`),
		"letters, digits, dots, hyphens and underscores", "EventBridge Scheduler API Reference, CreateSchedule"}
	// SQS API Reference, CreateQueue: QueueName up to 80 characters.
	drillQueueNameRule = nameRule{"SQS queue", 80, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
		"letters, digits, hyphens and underscores", "SQS API Reference, CreateQueue"}
	drillSchedulePattern = regexp.MustCompile(`^(cron|rate|at)\(.+\)$`)
)

var drillNames = []struct {
	what  string
	rule  nameRule
	build func(prefix, stack string) string
}{
	{"verifier function", lambdaNameRule, func(n, s string) string { return physicalName(n, "restore-drill-verify", s) }},
	{"state machine", drillMachineNameRule, func(n, s string) string { return physicalName(n, "restore-drill", s) }},
	{"schedule", drillScheduleNameRule, func(n, s string) string { return physicalName(n, "restore-drill", s) }},
	{"dead-letter queue", drillQueueNameRule, func(n, s string) string { return physicalName(n, "restore-drill-dlq", s) }},
}

func (a RestoreDrillArgs) withDefaults(stack string) (RestoreDrillArgs, error) {
	if a.Name == "" {
		a.Name = DefaultPipelineName
	}
	if a.Schedule == "" {
		a.Schedule = DefaultDrillSchedule
	}
	defaultInt(&a.SampleSize, DefaultDrillSampleSize)
	defaultInt(&a.TolerancePercent, DefaultDrillTolerancePercent)
	defaultInt(&a.MaxWaitMinutes, DefaultDrillMaxWaitMinutes)
	defaultInt(&a.LogRetentionDays, DefaultDrillLogRetentionDays)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if a.SourceTableName == nil || a.SourceTableArn == nil {
		bad("SourceTableName, SourceTableArn: required")
	}
	if !drillSchedulePattern.MatchString(a.Schedule) {
		bad("Schedule %q: must be an EventBridge Scheduler expression, cron(...), rate(...) or at(...)", a.Schedule)
	}
	if a.SampleSize < 1 || a.SampleSize > 10000 {
		bad("SampleSize %d: must be 1 to 10000", a.SampleSize)
	}
	if a.TolerancePercent < 0 || a.TolerancePercent > 50 {
		bad("TolerancePercent %d: must be 0 to 50", a.TolerancePercent)
	}
	if a.MaxWaitMinutes < 5 || a.MaxWaitMinutes > 24*60 {
		bad("MaxWaitMinutes %d: must be 5 to 1440", a.MaxWaitMinutes)
	}
	for _, n := range drillNames {
		if p := n.rule.problem("Name: "+n.what, n.build(a.Name, stack), stack); p != "" {
			problems = append(problems, p)
		}
	}
	return a, argsError("RestoreDrillArgs", problems)
}

// RestoreDrill proves every month that the sessions table can be restored:
// EventBridge Scheduler starts a Step Functions machine that restores the
// table to its latest restorable time into a scratch table (the AWS SDK
// integration for RestoreTableToPointInTime; no Lambda waits on a restore
// that takes up to an hour), polls DescribeTable until it is ACTIVE, has a
// Go Lambda compare it with the source and publish the drill's metrics,
// deletes the scratch table whatever the outcome, and fails the execution
// on any mismatch. Alarms watch failed executions, the verifier's
// DrillFailed metric and the schedule's dead-letter queue.
type RestoreDrill struct {
	pulumi.ResourceState

	StateMachineArn    pulumi.StringOutput `pulumi:"stateMachineArn"`
	VerifierName       pulumi.StringOutput `pulumi:"verifierFunctionName"`
	ScheduleName       pulumi.StringOutput `pulumi:"scheduleName"`
	DeadLetterQueueArn pulumi.StringOutput `pulumi:"deadLetterQueueArn"`
}

// NewRestoreDrill builds the verifier and creates the drill.
func NewRestoreDrill(ctx *pulumi.Context, name string, args *RestoreDrillArgs, opts ...pulumi.ResourceOption) (*RestoreDrill, error) {
	if args == nil {
		args = &RestoreDrillArgs{}
	}
	a, err := args.withDefaults(ctx.Stack())
	if err != nil {
		return nil, err
	}
	code, err := lambdabuild.Build(context.Background(), drillHandler, lambdabuild.Options{})
	if err != nil {
		return nil, fmt.Errorf("RestoreDrill %s: %w", name, err)
	}
	c := &RestoreDrill{}
	if err := ctx.RegisterComponentResource(typeToken("RestoreDrill"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagsFor("RestoreDrill", a.Tags)
	physical := func(part string) string { return physicalName(a.Name, part, ctx.Stack()) }
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()
	region := aws.GetRegionOutput(ctx, aws.GetRegionOutputArgs{}, parent).Name()
	role := func(suffix, service string) (*iam.Role, error) {
		return iam.NewRole(ctx, name+"-"+suffix, &iam.RoleArgs{
			AssumeRolePolicy: account.ApplyT(func(acct string) (string, error) { return assumeRolePolicy(service, acct) }).(pulumi.StringOutput),
			Tags:             tags,
		}, parent)
	}
	// Scratch tables are <source>-drill-<execution name>; the machine may
	// touch only those, and only restore the source.
	scratchArns := pulumi.All(a.SourceTableArn).ApplyT(func(v []any) string { return v[0].(string) + "-drill-*" }).(pulumi.StringOutput)

	// The key of the dead-letter queue and the log groups: the account's IAM
	// governs it, as the default policy does (the schedule's role gets its
	// use by IAM policy), and CloudWatch Logs may use it for this account's
	// log groups in the region (CloudWatch Logs User Guide, "Encrypt log data
	// in CloudWatch Logs using AWS KMS": the regional service principal,
	// limited by the encryption context's log-group ARN).
	key, err := newKey(ctx, name, keyArgs{
		alias:              fmt.Sprintf("%s/%s/restore-drill", ctx.Project(), ctx.Stack()),
		description:        "Encrypts the restore drill's dead-letter queue and logs",
		deletionWindowDays: DefaultKMSKeyDeletionWindowDays,
		policy: pulumi.All(account, region).ApplyT(func(v []any) (string, error) {
			acct, reg := v[0].(string), v[1].(string)
			return policyDocument(
				policyStatement{Sid: "AccountIAM", Effect: "Allow",
					Principal: map[string]string{"AWS": "arn:aws:iam::" + acct + ":root"}, Action: "kms:*", Resource: "*"},
				policyStatement{Sid: "CloudWatchLogsEncrypt", Effect: "Allow",
					Principal: map[string]string{"Service": "logs." + reg + ".amazonaws.com"},
					Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
						"kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"},
					Resource: "*",
					Condition: map[string]any{"ArnLike": map[string]string{
						"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:" + reg + ":" + acct + ":log-group:*"}}},
			)
		}).(pulumi.StringOutput),
		tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	dlq, err := sqs.NewQueue(ctx, name+"-dlq", &sqs.QueueArgs{
		Name:                    pulumi.String(physical("restore-drill-dlq")),
		KmsMasterKeyId:          key.Arn,
		MessageRetentionSeconds: pulumi.Int(drillDLQRetentionSeconds),
		Tags:                    tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	// The verifier Lambda: reads the source and the scratch tables, nothing else.
	functionName := physical("restore-drill-verify")
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-verify", &cloudwatch.LogGroupArgs{
		Name: pulumi.String("/aws/lambda/" + functionName), RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId: key.Arn, Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	fnRole, err := role("verify", "lambda.amazonaws.com")
	if err != nil {
		return nil, err
	}
	fnPolicy, err := iam.NewRolePolicy(ctx, name+"-verify", &iam.RolePolicyArgs{
		Role: fnRole.Name,
		Policy: pulumi.All(a.SourceTableArn, scratchArns, logs.Arn).ApplyT(func(v []any) (string, error) {
			return policyDocument(
				policyStatement{Sid: "ReadTables", Effect: "Allow", Action: []string{"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:DescribeTable"},
					Resource: []string{v[0].(string), v[1].(string)}},
				policyStatement{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: v[2].(string) + ":*"},
			)
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	verifier, err := lambda.NewFunction(ctx, name+"-verify", &lambda.FunctionArgs{
		Name:           pulumi.String(functionName),
		Description:    pulumi.String("Verifies the restore drill's scratch table against the sessions table and publishes the drill's metrics"),
		Runtime:        pulumi.String(string(lambda.RuntimeCustomAL2023)),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           code.Archive(),
		SourceCodeHash: pulumi.String(code.SourceCodeHash),
		Role:           fnRole.Arn,
		MemorySize:     pulumi.Int(256),
		Timeout:        pulumi.Int(900), // two full COUNT scans of the table
		LoggingConfig:  &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Tags:           tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{fnPolicy}))
	if err != nil {
		return nil, err
	}

	// The state machine, its log group and its role.
	smLogs, err := cloudwatch.NewLogGroup(ctx, name+"-machine", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vendedlogs/states/" + physical("restore-drill")),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId:        key.Arn,
		Tags:            tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	smRole, err := role("machine", "states.amazonaws.com")
	if err != nil {
		return nil, err
	}
	keyArn := a.SourceTableKMSKeyArn
	if keyArn == nil {
		keyArn = pulumi.String("")
	}
	smPolicy, err := iam.NewRolePolicy(ctx, name+"-machine", &iam.RolePolicyArgs{
		Role: smRole.Name,
		Policy: pulumi.All(a.SourceTableArn, scratchArns, verifier.Arn, keyArn, region).ApplyT(func(v []any) (string, error) {
			return drillMachinePolicy(v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string))
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	definition := pulumi.All(a.SourceTableName, verifier.Arn).ApplyT(func(v []any) (string, error) {
		return DrillDefinition(v[0].(string), v[1].(string), a.SampleSize, float64(a.TolerancePercent)/100, a.MaxWaitMinutes)
	}).(pulumi.StringOutput)
	machine, err := sfn.NewStateMachine(ctx, name, &sfn.StateMachineArgs{
		Name:       pulumi.String(physical("restore-drill")),
		Type:       pulumi.String("STANDARD"), // a restore outlasts an Express workflow's 5 minutes
		RoleArn:    smRole.Arn,
		Definition: definition,
		// ERROR: every failed state and execution, with its input and error
		// (table names and times, no items).
		LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
			Level:                pulumi.String("ERROR"),
			IncludeExecutionData: pulumi.Bool(true),
			LogDestination:       pulumi.Sprintf("%s:*", smLogs.Arn),
		},
		Tags: tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{smPolicy}))
	if err != nil {
		return nil, err
	}

	// The monthly schedule, its role, retry policy and dead-letter queue.
	schedRole, err := role("scheduler", "scheduler.amazonaws.com")
	if err != nil {
		return nil, err
	}
	schedPolicy, err := iam.NewRolePolicy(ctx, name+"-scheduler", &iam.RolePolicyArgs{
		Role: schedRole.Name,
		Policy: pulumi.All(machine.Arn, dlq.Arn, key.Arn).ApplyT(func(v []any) (string, error) {
			return policyDocument(
				// EventBridge Scheduler User Guide, "Using templated targets":
				// a Step Functions target needs states:StartExecution.
				policyStatement{Sid: "StartDrill", Effect: "Allow", Action: "states:StartExecution", Resource: v[0].(string)},
				// "Configuring a dead-letter queue": the execution role sends
				// the dead-letter events (sqs:SendMessage); for an SSE-KMS
				// queue a producer needs kms:GenerateDataKey and kms:Decrypt
				// on its key (SQS Developer Guide, "Key management").
				policyStatement{Sid: "DeadLetters", Effect: "Allow", Action: "sqs:SendMessage", Resource: v[1].(string)},
				policyStatement{Sid: "EncryptDeadLetters", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: v[2].(string)},
			)
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	schedule, err := scheduler.NewSchedule(ctx, name, &scheduler.ScheduleArgs{
		Name:                       pulumi.String(physical("restore-drill")),
		Description:                pulumi.String("Monthly restore drill of the sessions table: restore, verify, delete"),
		ScheduleExpression:         pulumi.String(a.Schedule),
		ScheduleExpressionTimezone: pulumi.String("UTC"),
		FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
		State:                      pulumi.String("ENABLED"),
		Target: &scheduler.ScheduleTargetArgs{
			Arn:     machine.Arn,
			RoleArn: schedRole.Arn,
			Input:   pulumi.String(`{"trigger":"schedule"}`),
			RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
				MaximumRetryAttempts:     pulumi.Int(drillScheduleRetries),
				MaximumEventAgeInSeconds: pulumi.Int(drillScheduleMaxAgeSec),
			},
			DeadLetterConfig: &scheduler.ScheduleTargetDeadLetterConfigArgs{Arn: dlq.Arn},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{schedPolicy}))
	if err != nil {
		return nil, err
	}

	// Alarms: a failed execution (restore, verification or mismatch), the
	// verifier's own DrillFailed metric, a schedule that could not start it.
	var alarms []struct {
		suffix, description, namespace, metric string
		dims                                   pulumi.StringMap
		period                                 int
	}
	var actions pulumi.Array
	if a.AlarmTopicArn != nil {
		actions = pulumi.Array{a.AlarmTopicArn}
		alarms = []struct {
			suffix, description, namespace, metric string
			dims                                   pulumi.StringMap
			period                                 int
		}{
			{"restore-drill-failed", "The monthly restore drill failed: restore, verification or a mismatch (see the execution's history)",
				"AWS/States", "ExecutionsFailed", pulumi.StringMap{"StateMachineArn": machine.Arn}, 3600},
			{"restore-drill-mismatch", "The restored table did not match the sessions table (the verifier's DrillFailed metric)",
				drill.MetricNamespace, drill.MetricFailed, pulumi.StringMap{drill.MetricDimension: a.SourceTableName}, 3600},
			{"restore-drill-not-started", "EventBridge Scheduler could not start the restore drill (messages in its dead-letter queue)",
				"AWS/SQS", "ApproximateNumberOfMessagesVisible", pulumi.StringMap{"QueueName": dlq.Name}, 300},
		}
	}
	for _, al := range alarms {
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.suffix, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(physical(al.suffix)),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dims,
			Statistic:          pulumi.String("Maximum"),
			Period:             pulumi.Int(al.period),
			EvaluationPeriods:  pulumi.Int(1),
			Threshold:          pulumi.Float64(0),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               tags,
		}, parent); err != nil {
			return nil, err
		}
	}

	c.StateMachineArn = machine.Arn
	c.VerifierName = verifier.Name
	c.ScheduleName = schedule.Name
	c.DeadLetterQueueArn = dlq.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"stateMachineArn":      c.StateMachineArn,
		"verifierFunctionName": c.VerifierName,
		"scheduleName":         c.ScheduleName,
		"deadLetterQueueArn":   c.DeadLetterQueueArn,
	})
}

// drillMachinePolicy is what the machine's role may do.
func drillMachinePolicy(sourceArn, scratchArns, verifierArn, keyArn, region string) (string, error) {
	statements := []policyStatement{
		// DynamoDB Developer Guide, "Using IAM with DynamoDB backup and
		// restore": RestoreTableToPointInTime on the source table, and read
		// and write permissions on the target table.
		{Sid: "RestoreSource", Effect: "Allow", Action: "dynamodb:RestoreTableToPointInTime", Resource: sourceArn},
		{Sid: "FillScratch", Effect: "Allow", Action: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
			"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"}, Resource: scratchArns},
		// The AWS SDK integrations call DescribeTable and DeleteTable with
		// the role's own permissions (Step Functions Developer Guide, "IAM
		// policies for integrated services").
		{Sid: "WatchAndDropScratch", Effect: "Allow", Action: []string{"dynamodb:DescribeTable", "dynamodb:DeleteTable"}, Resource: scratchArns},
		{Sid: "Verify", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: []string{verifierArn, verifierArn + ":*"}},
		// Step Functions Developer Guide, "Logging Step Functions using
		// CloudWatch Logs": the log delivery actions, which take no resource.
		{Sid: "DeliverLogs", Effect: "Allow",
			Action: []string{"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
				"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"},
			Resource: "*"},
	}
	if keyArn != "" {
		// The restored table is encrypted like the source, with its key; the
		// caller of the restore must be able to use it through DynamoDB (KMS
		// Developer Guide, "How Amazon DynamoDB uses AWS KMS").
		statements = append(statements, policyStatement{Sid: "UseTableKey", Effect: "Allow",
			Action: []string{"kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
				"kms:ReEncryptFrom", "kms:ReEncryptTo"},
			Resource:  keyArn,
			Condition: map[string]any{"StringEquals": map[string]string{"kms:ViaService": "dynamodb." + region + ".amazonaws.com"}}})
	}
	return policyDocument(statements...)
}

// DrillDefinition is the state machine, in the Amazon States Language:
//
//	Restore (aws-sdk:dynamodb:restoreTableToPointInTime, latest restorable time)
//	  → Wait 60 s → Describe (aws-sdk:dynamodb:describeTable) → ACTIVE? → Verify (lambda:invoke)
//	  → Delete (aws-sdk:dynamodb:deleteTable) → Passed? → Succeed | Fail DrillMismatch
//
// Only GetItem, PutItem, UpdateItem and DeleteItem have optimized DynamoDB
// integrations; the rest go through the AWS SDK integration, whose errors
// carry the prefix "DynamoDb." (Step Functions Developer Guide, "Call
// DynamoDB APIs with Step Functions"). Any failure after the restore started
// deletes the scratch table before the execution fails. The wait is bounded
// by maxWaitMinutes.
func DrillDefinition(source, verifierArn string, sample int, tolerance float64, maxWaitMinutes int) (string, error) {
	sdk := func(api string) string { return "arn:aws:states:::aws-sdk:dynamodb:" + api }
	retry := []map[string]any{{"ErrorEquals": []string{"DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException", "States.Timeout"},
		"IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2, "JitterStrategy": "FULL"}}
	cleanup := []map[string]any{{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": "CleanUp"}}
	def := map[string]any{
		"Comment": "Monthly restore drill of " + source + ": restore to the latest restorable time into a scratch table, verify, delete",
		"StartAt": "Restore",
		"States": map[string]any{
			"Restore": map[string]any{
				"Type":     "Task",
				"Resource": sdk("restoreTableToPointInTime"),
				"Parameters": map[string]any{
					"SourceTableName":         source,
					"TargetTableName.$":       "States.Format('" + strings.ReplaceAll(source, "'", "") + "-drill-{}', $$.Execution.Name)",
					"UseLatestRestorableTime": true,
				},
				"ResultSelector": map[string]any{"table.$": "$.TableDescription.TableName", "polls": 0},
				"ResultPath":     "$.scratch",
				"Retry":          retry,
				"Next":           "Wait",
			},
			"Wait": map[string]any{"Type": "Wait", "Seconds": drillPollSeconds, "Next": "Describe"},
			"Describe": map[string]any{
				"Type":           "Task",
				"Resource":       sdk("describeTable"),
				"Parameters":     map[string]any{"TableName.$": "$.scratch.table"},
				"ResultSelector": map[string]any{"status.$": "$.Table.TableStatus"},
				"ResultPath":     "$.described",
				"Retry":          retry,
				"Catch":          cleanup,
				"Next":           "Count",
			},
			"Count": map[string]any{
				"Type":       "Pass",
				"Parameters": map[string]any{"table.$": "$.scratch.table", "polls.$": "States.MathAdd($.scratch.polls, 1)"},
				"ResultPath": "$.scratch",
				"Next":       "Active?",
			},
			"Active?": map[string]any{
				"Type": "Choice",
				"Choices": []map[string]any{
					{"Variable": "$.described.status", "StringEquals": "ACTIVE", "Next": "Verify"},
					{"Variable": "$.scratch.polls", "NumericGreaterThanEquals": maxWaitMinutes * 60 / drillPollSeconds, "Next": "TooSlow"},
				},
				"Default": "Wait",
			},
			"TooSlow": map[string]any{
				"Type":       "Pass",
				"Parameters": map[string]any{"Error": "DrillRestoreTooSlow", "Cause": fmt.Sprintf("the scratch table was not ACTIVE after %d minutes", maxWaitMinutes)},
				"ResultPath": "$.error",
				"Next":       "CleanUp",
			},
			"Verify": map[string]any{
				"Type":     "Task",
				"Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": map[string]any{
					"FunctionName": verifierArn,
					"Payload": map[string]any{
						"source_table":    source,
						"scratch_table.$": "$.scratch.table",
						"sample":          sample,
						"tolerance":       tolerance,
						"started.$":       "$$.Execution.StartTime",
					},
				},
				"ResultSelector": map[string]any{"passed.$": "$.Payload.passed", "rto_seconds.$": "$.Payload.rto_seconds", "count.$": "$.Payload.count"},
				"ResultPath":     "$.verified",
				"Retry": []map[string]any{{"ErrorEquals": []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
					"IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 2}},
				"Catch": cleanup,
				"Next":  "Delete",
			},
			"Delete": map[string]any{
				"Type":       "Task",
				"Resource":   sdk("deleteTable"),
				"Parameters": map[string]any{"TableName.$": "$.scratch.table"},
				"ResultPath": drillNull{},
				"Retry":      retry,
				"Next":       "Passed?",
			},
			"Passed?": map[string]any{
				"Type":    "Choice",
				"Choices": []map[string]any{{"Variable": "$.verified.passed", "BooleanEquals": true, "Next": "Done"}},
				"Default": "Mismatch",
			},
			"Done":     map[string]any{"Type": "Succeed"},
			"Mismatch": map[string]any{"Type": "Fail", "Error": "DrillMismatch", "Cause": "the restored table differs from the source beyond the tolerance: see the verifier's log"},
			"CleanUp": map[string]any{
				"Type":       "Task",
				"Resource":   sdk("deleteTable"),
				"Parameters": map[string]any{"TableName.$": "$.scratch.table"},
				"ResultPath": drillNull{},
				"Retry":      retry,
				"Catch":      []map[string]any{{"ErrorEquals": []string{"States.ALL"}, "ResultPath": drillNull{}, "Next": "DrillFailed"}},
				"Next":       "DrillFailed",
			},
			"DrillFailed": map[string]any{"Type": "Fail", "Error": "DrillFailed", "Cause": "the drill did not complete: see the execution's history"},
		},
	}
	b, err := json.MarshalIndent(def, "", "  ")
	return string(b), err
}

// null marshals as JSON null: "ResultPath": null discards a state's result.
type drillNull struct{}

func (drillNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }
