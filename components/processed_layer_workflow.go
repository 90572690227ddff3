package components

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"text/template"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/athena"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// The workflow's statements: components/queries/workflow/*.sql, in the
// order the workflow runs them. Each file's leading comment explains it and
// is not sent to Athena.
//
//go:embed queries/workflow/*.sql
var workflowQueries embed.FS

// workflowSteps are the Athena steps: the state's name, the key of its
// statement in the definition ($sql.<key>) and the file it comes from.
var workflowSteps = []struct{ state, key, file string }{
	{"CreateTable", "createTable", "1-create-table.sql"},
	{"Merge", "merge", "2-merge.sql"},
	{"ExpireRetention", "expire", "3-expire.sql"},
	{"Compact", "optimize", "4-optimize.sql"},
	{"Vacuum", "vacuum", "5-vacuum.sql"},
}

// Run-time placeholders of the statements. The workflow's Plan state
// computes the dates from the run's scheduled time; each Athena step puts
// them in with $replace before it starts its query.
const (
	runDatePlaceholder        = "{run_date}"
	windowStartPlaceholder    = "{window_start}"
	retentionStartPlaceholder = "{retention_start}"
)

// processedLocation is the table's S3 location in the data bucket. VACUUM
// needs a folder, not a bucket root (Athena User Guide, "VACUUM").
func processedLocation(bucket string) string {
	return "s3://" + bucket + "/" + ProcessedPrefix + ProcessedTableName + "/"
}

// workflowSQL returns the statements by key, with the build-time fields
// (columns, location) filled in and the run-time placeholders left.
func workflowSQL(location string) (map[string]string, error) {
	cols := analytics.Columns()
	var defs, names, source []string
	for _, c := range cols {
		defs = append(defs, fmt.Sprintf("    %s %s COMMENT '%s'", c.Name, c.Type, strings.ReplaceAll(c.Comment, "'", "''")))
		names = append(names, c.Name)
		source = append(source, "s."+c.Name)
	}
	fields := map[string]string{
		"ColumnDefinitions": strings.Join(defs, ",\n"),
		"Columns":           strings.Join(names, ", "),
		"SourceColumns":     strings.Join(source, ", "),
		"Location":          strings.ReplaceAll(location, "'", "''"),
	}
	out := map[string]string{}
	for _, s := range workflowSteps {
		text, err := workflowQueries.ReadFile(path.Join("queries", "workflow", s.file))
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(s.file).Option("missingkey=error").Parse(stripLeadingComments(string(text)))
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, fields); err != nil {
			return nil, fmt.Errorf("%s: %w", s.file, err)
		}
		out[s.key] = b.String()
	}
	return out, nil
}

// stripLeadingComments drops the comment lines before the statement, which
// explain it to readers of the file: Athena sends DDL (CREATE TABLE) to a
// different parser than DML, and neither needs to see them.
func stripLeadingComments(sql string) string {
	lines := strings.Split(sql, "\n")
	for len(lines) > 0 && (strings.HasPrefix(strings.TrimSpace(lines[0]), "--") || strings.TrimSpace(lines[0]) == "") {
		lines = lines[1:]
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// workflowConfig is what the state machine's definition depends on.
type workflowConfig struct {
	Database, Workgroup string
	RetentionDays       int
	SQL                 map[string]string // by workflowSteps key
}

// state is one state of an Amazon States Language definition.
type state = map[string]any

// athenaSync is the optimized Athena integration that waits for the query
// to finish (Step Functions Developer Guide, "Run Athena queries with Step
// Functions": StartQueryExecution supports .sync).
const athenaSync = "arn:aws:states:::athena:startQueryExecution.sync"

// glueGetTable is the AWS SDK integration the workflow looks the table up with.
const glueGetTable = "arn:aws:states:::aws-sdk:glue:getTable"

// dayMillis is a UTC day in JSONata's milliseconds.
const dayMillis = 86400000

// utcDay is a JSONata expression: the UTC day, YYYY-MM-DD, that is days
// before the input's scheduledTime.
func utcDay(days string) string {
	return fmt.Sprintf("$fromMillis($toMillis($states.input.scheduledTime) - %s * %d, '[Y0001]-[M01]-[D01]')", days, dayMillis)
}

// workflowDefinition is the workflow in Amazon States Language, with
// JSONata as its query language (Step Functions Developer Guide,
// "Transforming data with JSONata in Step Functions"; JSONata 2.0.6).
//
// Its input comes from the schedule: {"scheduledTime": <the schedule's
// time>, "lookbackDays": N}. Every date is computed from scheduledTime, so
// a retried or re-run execution with the same input processes the same
// days. The states, in order:
//
//	CheckInput      (Choice) a bad input fails the run before any query
//	Plan            (Pass) the run's day, the window's first day, the retention's first day, the statements
//	FindTable       (glue:GetTable) the table exists: go to Merge; EntityNotFound: CreateTable
//	CreateTable     CREATE TABLE IF NOT EXISTS (Iceberg), as pulumi-aws cannot (see 1-create-table.sql)
//	Merge           MERGE INTO from raw/, the window's events, each once, inserts only
//	ExpireRetention DELETE FROM ... WHERE event_ts before the retention
//	Compact         OPTIMIZE ... REWRITE DATA USING BIN_PACK for the window
//	Vacuum          VACUUM
//	Done            (Succeed)
//
// Every Athena step retries a failed query twice (each statement is
// idempotent: MERGE inserts only what is missing) and then goes to
// RunFailed, which fails the execution with ProcessedLayer.<Step>Failed.
func workflowDefinition(cfg workflowConfig) (string, error) {
	for _, s := range workflowSteps {
		if cfg.SQL[s.key] == "" {
			return "", fmt.Errorf("workflowDefinition: no statement %s", s.key)
		}
	}
	failed := func(step string) []any {
		return []any{state{
			"ErrorEquals": []string{"States.ALL"},
			"Assign":      map[string]any{"failedStep": step},
			"Next":        "RunFailed",
		}}
	}
	render := func(key string) string {
		return fmt.Sprintf("{%% $replace($replace($replace($sql.%s, '%s', $runDate), '%s', $windowStart), '%s', $retentionStart) %%}",
			key, runDatePlaceholder, windowStartPlaceholder, retentionStartPlaceholder)
	}
	states := map[string]any{
		"CheckInput": state{
			"Type":    "Choice",
			"Comment": "The schedule's input: the run's scheduled time (UTC, ISO 8601) and the window in days.",
			"Choices": []any{state{
				// Each test only on a value of the right type: JSONata
				// refuses to compare a string with a number.
				"Condition": fmt.Sprintf("{%% ($t := $states.input.scheduledTime; $d := $states.input.lookbackDays; "+
					"($type($t) = 'string' ? $contains($t, /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/) : false) and "+
					"($type($d) = 'number' ? ($d >= 1 and $d <= %d and $d = $floor($d)) : false)) %%}", cfg.RetentionDays),
				"Next": "Plan",
			}},
			"Default": "BadInput",
		},
		"BadInput": state{
			"Type":  "Fail",
			"Error": "ProcessedLayer.BadInput",
			"Cause": fmt.Sprintf(`the input must be {"scheduledTime": "YYYY-MM-DDThh:mm:ssZ", "lookbackDays": 1 to %d}`, cfg.RetentionDays),
		},
		"Plan": state{
			"Type":    "Pass",
			"Comment": "Dates from the scheduled time, never from the clock: a retried run reads the same days.",
			"Assign": map[string]any{
				"runDate":        "{% " + utcDay("0") + " %}",
				"windowStart":    "{% " + utcDay("$states.input.lookbackDays") + " %}",
				"retentionStart": "{% " + utcDay(fmt.Sprint(cfg.RetentionDays)) + " %}",
				"sql":            sqlByKey(cfg.SQL),
			},
			"Next": "FindTable",
		},
		"FindTable": state{
			"Type":     "Task",
			"Comment":  "The Iceberg table is created by the workflow, once: pulumi-aws cannot create it with its partitions.",
			"Resource": glueGetTable,
			"Arguments": map[string]any{
				"DatabaseName": cfg.Database,
				"Name":         ProcessedTableName,
			},
			"Output": "{% {} %}",
			"Retry": []any{state{
				"ErrorEquals":     []string{"Glue.InternalServiceException", "Glue.OperationTimeoutException", "Glue.ThrottlingException"},
				"IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2.0, "JitterStrategy": "FULL",
			}},
			"Catch": append([]any{state{
				"ErrorEquals": []string{"Glue.EntityNotFoundException"},
				"Output":      "{% {} %}",
				"Next":        "CreateTable",
			}}, failed("FindTable")...),
			"Next": "Merge",
		},
		"RunFailed": state{
			"Type":  "Fail",
			"Error": "{% 'ProcessedLayer' & '.' & $failedStep & 'Failed' %}",
			"Cause": "{% $exists($states.input.Cause) ? $states.input.Cause : 'no cause given' %}",
		},
		"Done": state{"Type": "Succeed"},
	}
	for i, s := range workflowSteps {
		next := "Done"
		if i+1 < len(workflowSteps) {
			next = workflowSteps[i+1].state
		}
		states[s.state] = state{
			"Type":     "Task",
			"Resource": athenaSync,
			"Arguments": map[string]any{
				"QueryString":           render(s.key),
				"WorkGroup":             cfg.Workgroup,
				"QueryExecutionContext": map[string]any{"Catalog": "AwsDataCatalog", "Database": cfg.Database},
			},
			"Output":         "{% {} %}",
			"TimeoutSeconds": 3600,
			// A failed query is retried: every statement may run again
			// (MERGE inserts only what is missing, the others converge),
			// and Iceberg refuses a commit that lost a race with another.
			"Retry": []any{state{
				"ErrorEquals":     []string{"States.TaskFailed"},
				"IntervalSeconds": 60, "MaxAttempts": 2, "BackoffRate": 4.0, "JitterStrategy": "FULL",
			}},
			"Catch": failed(s.state),
			"Next":  next,
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the statements keep their < and >, readable in the console
	enc.SetIndent("", "  ")
	err := enc.Encode(map[string]any{
		"Comment":        "The processed layer: " + ProcessedTableName + " from raw/, daily (see components/processed_layer_workflow.go)",
		"QueryLanguage":  "JSONata",
		"StartAt":        "CheckInput",
		"TimeoutSeconds": 6 * 3600,
		"States":         states,
	})
	return strings.TrimSuffix(b.String(), "\n"), err
}

func sqlByKey(sql map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range sql {
		out[k] = v
	}
	return out
}

// workflow is what NewProcessedLayer's workflow step creates.
type workflow struct {
	machine   *sfn.StateMachine
	workgroup *athena.Workgroup
	group     *scheduler.ScheduleGroup
	dlq       *sqs.Queue
}

// role is an IAM role that only service, acting for this account, may assume.
func (l *layer) role(name, service string) (*iam.Role, error) {
	return iam.NewRole(l.ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: l.account.ApplyT(func(account string) (string, error) {
			return assumeRolePolicy(service, account)
		}).(pulumi.StringOutput),
		Tags: l.tags,
	}, l.parent)
}

// workflowAccess is what the state machine's role may touch.
type workflowAccess struct {
	Region, Account, Workgroup, Database, RawTable string
	DataBucketArn, DataKeyArn                      string
	ResultsBucketArn, ResultsKeyArn                string
}

// stateMachinePolicy lets the workflow run its queries and nothing else:
// Athena in its own workgroup (Step Functions Developer Guide, "IAM
// policies for calling Amazon Athena", .sync: StartQueryExecution,
// StopQueryExecution, GetQueryExecution, GetDataCatalog); the Glue catalog,
// the database and the two tables, with table writes on the processed one
// only (an Iceberg commit updates its Glue table); raw/ read-only, the
// table's folder read-write-delete (VACUUM deletes files: Athena User
// Guide, "VACUUM"); its results folder; the two buckets' keys; and the
// CloudWatch Logs delivery actions its logging needs, which take no
// resource (Step Functions Developer Guide, "Logging Step Functions using
// CloudWatch Logs": CreateLogDelivery, ..., DescribeLogGroups on "*").
func stateMachinePolicy(w workflowAccess) (string, error) {
	glue := fmt.Sprintf("arn:aws:glue:%s:%s:", w.Region, w.Account)
	table := func(name string) string { return glue + "table/" + w.Database + "/" + name }
	processed := w.DataBucketArn + "/" + ProcessedPrefix + ProcessedTableName + "/"
	results := w.ResultsBucketArn + "/" + processingResultsPrefix
	return policyDocument(
		policyStatement{Sid: "RunQueries", Effect: "Allow",
			Action:   []string{"athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"},
			Resource: fmt.Sprintf("arn:aws:athena:%s:%s:workgroup/%s", w.Region, w.Account, w.Workgroup)},
		policyStatement{Sid: "UseCatalog", Effect: "Allow", Action: "athena:GetDataCatalog",
			Resource: fmt.Sprintf("arn:aws:athena:%s:%s:datacatalog/AwsDataCatalog", w.Region, w.Account)},
		policyStatement{Sid: "ReadRawTable", Effect: "Allow",
			Action:   []string{"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:BatchGetPartition"},
			Resource: []string{glue + "catalog", glue + "database/" + w.Database, table(w.RawTable)}},
		policyStatement{Sid: "OwnProcessedTable", Effect: "Allow",
			Action:   []string{"glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"},
			Resource: []string{glue + "catalog", glue + "database/" + w.Database, table(ProcessedTableName)}},
		policyStatement{Sid: "ReadRaw", Effect: "Allow", Action: "s3:GetObject", Resource: w.DataBucketArn + "/raw/*"},
		policyStatement{Sid: "WriteProcessed", Effect: "Allow",
			Action:   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			Resource: processed + "*"},
		policyStatement{Sid: "ListData", Effect: "Allow",
			Action: []string{"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}, Resource: w.DataBucketArn,
			Condition: map[string]any{"StringLike": map[string]any{"s3:prefix": []string{"raw/*", ProcessedPrefix + ProcessedTableName + "/*"}}}},
		policyStatement{Sid: "WriteResults", Effect: "Allow",
			Action:   []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			Resource: results + "*"},
		policyStatement{Sid: "ListResults", Effect: "Allow",
			Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: w.ResultsBucketArn,
			Condition: map[string]any{"StringLike": map[string]any{"s3:prefix": []string{processingResultsPrefix + "*"}}}},
		policyStatement{Sid: "UseBucketKeys", Effect: "Allow",
			Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{w.DataKeyArn, w.ResultsKeyArn}},
		policyStatement{Sid: "DeliverLogs", Effect: "Allow",
			Action: []string{"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
				"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"},
			Resource: "*"},
	)
}

// schedulerPolicy lets the schedules start the workflow and, when they
// cannot, put the event in the dead-letter queue (EventBridge Scheduler
// User Guide, "Configuring a schedule's dead-letter queue": sqs:SendMessage
// for the execution role), which is encrypted with a customer managed key:
// a producer needs kms:GenerateDataKey and kms:Decrypt on it (SQS
// Developer Guide, "Key management"). The key's policy is the default one,
// which leaves it to IAM, so no key-policy statement is needed: Scheduler
// sends with this role, not as a service principal.
func schedulerPolicy(machineArn, queueArn, keyArn string) (string, error) {
	return policyDocument(
		policyStatement{Sid: "StartWorkflow", Effect: "Allow", Action: "states:StartExecution", Resource: machineArn},
		policyStatement{Sid: "DeadLetter", Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn},
		policyStatement{Sid: "EncryptDeadLetter", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: keyArn},
	)
}

// processingResultsPrefix is where the workflow's workgroup writes results.
const processingResultsPrefix = "athena/processing/"

// scheduleRetry is the schedules' retry policy: how long and how often
// Scheduler retries starting the workflow (not the workflow's own failures,
// which its states retry) before the event goes to the dead-letter queue.
// EventBridge Scheduler API Reference, RetryPolicy: MaximumEventAgeInSeconds
// 60-86400, MaximumRetryAttempts 0-185.
var scheduleRetry = struct{ maxAgeSeconds, maxAttempts int }{3600, 10}

// workflow creates the workgroup, the state machine with its role and log
// group, the schedules with their role and dead-letter queue, and the alarms.
func (l *layer) workflow(name string) (workflow, error) {
	var w workflow
	a, stack := l.a, l.ctx.Stack()
	results := a.QueryResultsBucket
	var err error
	w.workgroup, err = athena.NewWorkgroup(l.ctx, name+"-processing", &athena.WorkgroupArgs{
		Name:         pulumi.String(l.physical("processing")),
		Description:  pulumi.String("The processed layer's workflow: MERGE, DELETE, OPTIMIZE and VACUUM of " + ProcessedTableName),
		ForceDestroy: pulumi.Bool(a.ForceDestroy),
		Configuration: &athena.WorkgroupConfigurationArgs{
			EnforceWorkgroupConfiguration:   pulumi.Bool(true),
			PublishCloudwatchMetricsEnabled: pulumi.Bool(true),
			BytesScannedCutoffPerQuery:      pulumi.Int(a.ScanLimitBytes),
			// MERGE, OPTIMIZE and VACUUM on Iceberg need engine v3 (Athena
			// User Guide, "VACUUM": engine version 3 only).
			EngineVersion: &athena.WorkgroupConfigurationEngineVersionArgs{
				SelectedEngineVersion: pulumi.String("Athena engine version 3"),
			},
			ResultConfiguration: &athena.WorkgroupConfigurationResultConfigurationArgs{
				OutputLocation: pulumi.Sprintf("s3://%s/%s", results.Name, processingResultsPrefix),
				EncryptionConfiguration: &athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs{
					EncryptionOption: pulumi.String("SSE_KMS"),
					KmsKeyArn:        results.KMSKeyArn,
				},
			},
		},
		Tags: l.tags,
	}, l.parent)
	if err != nil {
		return w, err
	}

	machineName := l.physical("processed-layer")
	// Step Functions Developer Guide, "Logging Step Functions using
	// CloudWatch Logs": the /aws/vendedlogs/ prefix keeps the log group's
	// resource policy within CloudWatch Logs' size limit.
	logs, err := cloudwatch.NewLogGroup(l.ctx, name+"-workflow", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vendedlogs/states/" + machineName),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		KmsKeyId:        l.logsKey.Arn, // its policy admits CloudWatch Logs
		Tags:            l.tags,
	}, l.parent)
	if err != nil {
		return w, err
	}
	machineRole, err := l.role(name+"-workflow", "states.amazonaws.com")
	if err != nil {
		return w, err
	}
	machinePolicy := pulumi.All(l.region, l.account, w.workgroup.Name, a.DatabaseName, a.RawTableName,
		a.DataBucket.Arn, a.DataBucket.KMSKeyArn, results.Arn, results.KMSKeyArn).ApplyT(func(v []any) (string, error) {
		return stateMachinePolicy(workflowAccess{
			Region: v[0].(string), Account: v[1].(string), Workgroup: v[2].(string), Database: v[3].(string), RawTable: v[4].(string),
			DataBucketArn: v[5].(string), DataKeyArn: v[6].(string), ResultsBucketArn: v[7].(string), ResultsKeyArn: v[8].(string),
		})
	}).(pulumi.StringOutput)
	machineRolePolicy, err := iam.NewRolePolicy(l.ctx, name+"-workflow", &iam.RolePolicyArgs{Role: machineRole.Name, Policy: machinePolicy}, l.parent)
	if err != nil {
		return w, err
	}
	definition := pulumi.All(a.DatabaseName, w.workgroup.Name, a.DataBucket.Name).ApplyT(func(v []any) (string, error) {
		sql, err := workflowSQL(processedLocation(v[2].(string)))
		if err != nil {
			return "", err
		}
		return workflowDefinition(workflowConfig{Database: v[0].(string), Workgroup: v[1].(string), RetentionDays: a.RetentionDays, SQL: sql})
	}).(pulumi.StringOutput)
	w.machine, err = sfn.NewStateMachine(l.ctx, name+"-workflow", &sfn.StateMachineArgs{
		Name:       pulumi.String(machineName),
		Type:       pulumi.String("STANDARD"),
		RoleArn:    machineRole.Arn,
		Definition: definition,
		// ERROR: every failed state and execution, with its input and
		// error (dates and query ids; the events stay in S3).
		LoggingConfiguration: &sfn.StateMachineLoggingConfigurationArgs{
			Level:                pulumi.String("ERROR"),
			IncludeExecutionData: pulumi.Bool(true),
			LogDestination:       pulumi.Sprintf("%s:*", logs.Arn),
		},
		Tags: l.tags,
	}, l.parent, pulumi.DependsOn([]pulumi.Resource{machineRolePolicy}))
	if err != nil {
		return w, err
	}

	// The dead-letter queue of the schedules, encrypted with a key of the
	// layer's own (the default key policy: the account's IAM decides).
	key, err := newKey(l.ctx, name, keyArgs{
		alias:              fmt.Sprintf("%s/%s/processed-layer", l.ctx.Project(), stack),
		description:        "Encrypts the processed layer's dead-letter queue",
		deletionWindowDays: DefaultKMSKeyDeletionWindowDays,
		tags:               l.tags,
	}, l.parent)
	if err != nil {
		return w, err
	}
	w.dlq, err = sqs.NewQueue(l.ctx, name+"-dlq", &sqs.QueueArgs{
		Name:                    pulumi.String(l.physical("processed-layer-dlq")),
		KmsMasterKeyId:          key.Arn,
		MessageRetentionSeconds: pulumi.Int(14 * 24 * 3600), // SQS's longest
		Tags:                    l.tags,
	}, l.parent)
	if err != nil {
		return w, err
	}
	w.group, err = scheduler.NewScheduleGroup(l.ctx, name, &scheduler.ScheduleGroupArgs{
		Name: pulumi.String(l.physical("processed-layer")),
		Tags: l.tags,
	}, l.parent)
	if err != nil {
		return w, err
	}
	schedulerRole, err := l.role(name+"-scheduler", "scheduler.amazonaws.com")
	if err != nil {
		return w, err
	}
	schedulerRolePolicy, err := iam.NewRolePolicy(l.ctx, name+"-scheduler", &iam.RolePolicyArgs{
		Role: schedulerRole.Name,
		Policy: pulumi.All(w.machine.Arn, w.dlq.Arn, key.Arn).ApplyT(func(v []any) (string, error) {
			return schedulerPolicy(v[0].(string), v[1].(string), v[2].(string))
		}).(pulumi.StringOutput),
	}, l.parent)
	if err != nil {
		return w, err
	}
	for _, s := range []struct {
		suffix, expression, description string
		lookback                        int
	}{
		{"daily", a.DailySchedule, fmt.Sprintf("The processed layer's daily run: the %d days before the run's day", a.LookbackDays), a.LookbackDays},
		{"weekly-wide", a.WideSchedule, fmt.Sprintf("The processed layer's weekly run: the %d days before the run's day, for late events", a.WideLookbackDays), a.WideLookbackDays},
	} {
		if _, err := scheduler.NewSchedule(l.ctx, name+"-"+s.suffix, &scheduler.ScheduleArgs{
			Name:                       pulumi.String(s.suffix),
			GroupName:                  w.group.Name,
			Description:                pulumi.String(s.description),
			ScheduleExpression:         pulumi.String(s.expression),
			ScheduleExpressionTimezone: pulumi.String("UTC"),
			FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			Target: &scheduler.ScheduleTargetArgs{
				Arn:     w.machine.Arn,
				RoleArn: schedulerRole.Arn,
				Input:   pulumi.String(scheduleInput(s.lookback)),
				RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
					MaximumEventAgeInSeconds: pulumi.Int(scheduleRetry.maxAgeSeconds),
					MaximumRetryAttempts:     pulumi.Int(scheduleRetry.maxAttempts),
				},
				DeadLetterConfig: &scheduler.ScheduleTargetDeadLetterConfigArgs{Arn: w.dlq.Arn},
			},
		}, l.parent, pulumi.DependsOn([]pulumi.Resource{schedulerRolePolicy})); err != nil {
			return w, err
		}
	}
	return w, l.workflowAlarms(name, w)
}

// scheduleInput is the workflow's input from a schedule. Scheduler puts the
// schedule's own time in place of <aws.scheduler.scheduled-time> (EventBridge
// Scheduler User Guide, "Adding context attributes"), so every retry of a
// run carries the same time.
func scheduleInput(lookbackDays int) string {
	b, _ := json.Marshal(map[string]any{"scheduledTime": "<aws.scheduler.scheduled-time>", "lookbackDays": lookbackDays})
	return string(b)
}

// workflowAlarms tell the alarm topic when a run failed or timed out, when
// no run has succeeded for two days (a schedule that stopped, a role that
// broke), and when a schedule could not start the workflow at all (its
// event is in the dead-letter queue).
func (l *layer) workflowAlarms(name string, w workflow) error {
	if l.a.AlarmTopicArn == nil {
		return nil
	}
	actions := pulumi.Array{l.a.AlarmTopicArn}
	machine := pulumi.StringMap{"StateMachineArn": w.machine.Arn}
	for _, al := range []struct {
		suffix, description, namespace, metric string
		dimensions                             pulumi.StringMap
		comparison, missing                    string
		threshold                              float64
		period, periods                        int
	}{
		{"processed-layer-failed", "A run of the processed layer's workflow failed: see the execution's failed state",
			"AWS/States", "ExecutionsFailed", machine, "GreaterThanThreshold", "notBreaching", 0, 300, 1},
		{"processed-layer-timed-out", "A run of the processed layer's workflow timed out",
			"AWS/States", "ExecutionsTimedOut", machine, "GreaterThanThreshold", "notBreaching", 0, 300, 1},
		{"processed-layer-stale", "No run of the processed layer's workflow has succeeded for two UTC days",
			"AWS/States", "ExecutionsSucceeded", machine, "LessThanThreshold", "breaching", 1, 86400, 2},
		{"processed-layer-unstarted", "A schedule could not start the processed layer's workflow: its event is in the dead-letter queue",
			"AWS/SQS", "ApproximateNumberOfMessagesVisible", pulumi.StringMap{"QueueName": w.dlq.Name}, "GreaterThanThreshold", "notBreaching", 0, 300, 1},
	} {
		if _, err := cloudwatch.NewMetricAlarm(l.ctx, name+"-"+al.suffix, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(l.physical(al.suffix)),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dimensions,
			Statistic:          pulumi.String("Sum"),
			Period:             pulumi.Int(al.period),
			EvaluationPeriods:  pulumi.Int(al.periods),
			DatapointsToAlarm:  pulumi.Int(al.periods),
			Threshold:          pulumi.Float64(al.threshold),
			ComparisonOperator: pulumi.String(al.comparison),
			TreatMissingData:   pulumi.String(al.missing),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               l.tags,
		}, l.parent); err != nil {
			return err
		}
	}
	return nil
}

// The processed versions of the named queries:
// components/queries/processed/*.sql, each first line its description.
//
//go:embed queries/processed/*.sql
var processedQueries embed.FS

// namedQueries puts the processed versions of the named queries in the
// analysts' workgroup, beside the raw ones, named <query>-processed.
func (l *layer) namedQueries(name string) error {
	files, err := processedQueries.ReadDir("queries/processed")
	if err != nil {
		return err
	}
	for _, f := range files {
		sql, err := processedQueries.ReadFile(path.Join("queries", "processed", f.Name()))
		if err != nil {
			return err
		}
		queryName := strings.TrimSuffix(f.Name(), ".sql") + "-processed"
		description, _, _ := strings.Cut(strings.TrimPrefix(string(sql), "-- "), "\n")
		if _, err := athena.NewNamedQuery(l.ctx, name+"-"+queryName, &athena.NamedQueryArgs{
			Name:        pulumi.String(queryName),
			Description: pulumi.String(description),
			Database:    l.a.DatabaseName,
			Workgroup:   l.a.Workgroup,
			Query:       pulumi.String(string(sql)),
		}, l.parent); err != nil {
			return err
		}
	}
	return nil
}
