package components

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

const (
	testQuickSightUser = "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst"
	testReader         = "arn:aws:iam::123456789012:role/search-reader"
)

func testBucket(name string) BucketRef {
	return BucketRef{
		Name:      pulumi.String(name),
		Arn:       pulumi.String("arn:aws:s3:::" + name),
		KMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/" + name),
	}
}

// processedArgs are the layer's arguments as a program passes them from an
// AnalyticsPipeline: both sinks off.
func processedArgs() ProcessedLayerArgs {
	return ProcessedLayerArgs{
		DatabaseName:       pulumi.String(testDatabase),
		RawTableName:       pulumi.String(EventsTableName),
		Workgroup:          pulumi.String("manga-assist-analytics-unit"),
		DataBucket:         testBucket("data"),
		QueryResultsBucket: testBucket("results"),
		AlarmTopicArn:      pulumi.String("arn:aws:sns:us-east-1:123456789012:manga-assist-pipeline-alarms-unit"),
		Tags:               map[string]string{"project": "manga-assist-data", "environment": "unit"},
	}
}

func withSinks(a ProcessedLayerArgs) ProcessedLayerArgs {
	a.QuickSight = &QuickSightSink{PrincipalArn: testQuickSightUser}
	a.OpenSearch = &OpenSearchSink{
		ReaderArn:            testReader,
		EventStreamArn:       pulumi.String("arn:aws:kinesis:us-east-1:123456789012:stream/manga-assist-events-unit"),
		EventStreamKMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/events"),
	}
	return a
}

// layerRun runs the component alone under the preview's mocks and policy pack.
func layerRun(t *testing.T, args ProcessedLayerArgs) preview.Result {
	t.Helper()
	result, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := NewProcessedLayer(ctx, "processed", &args)
		return err
	}, "manga-assist-data", "unit", "us-east-1", nil)
	require.NoError(t, err)
	return result
}

// layerResource is the one resource of typ named name.
func layerResource(t *testing.T, r preview.Result, typ, name string) map[string]any {
	t.Helper()
	for _, res := range r.Find(typ) {
		if res.Name == name {
			return res.Inputs
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return nil
}

func policyStatements(t *testing.T, doc any) map[string]map[string]any {
	t.Helper()
	var parsed struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(doc.(string)), &parsed))
	out := map[string]map[string]any{}
	for i, s := range parsed.Statement {
		sid, _ := s["Sid"].(string)
		if sid == "" {
			sid = fmt.Sprint(i)
		}
		out[sid] = s
	}
	return out
}

// The state machine: Standard, the workflow's definition (valid ASL), its
// role trusted by Step Functions for this account only, and ERROR-level
// logging to its own log group.
func TestProcessedLayerStateMachine(t *testing.T) {
	r := layerRun(t, processedArgs())
	sm := layerResource(t, r, "aws:sfn/stateMachine:StateMachine", "processed-workflow")
	assert.Equal(t, "manga-assist-processed-layer-unit", sm["name"])
	assert.Equal(t, "STANDARD", sm["type"])
	assert.Empty(t, validateASL(sm["definition"].(string)), "the registered definition is valid ASL")
	assert.Equal(t, testWorkflowDefinition(t), sm["definition"], "the registered definition is the one the workflow tests read")
	assert.Equal(t, map[string]any{
		"level":                "ERROR",
		"includeExecutionData": true,
		"logDestination":       "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/manga-assist-processed-layer-unit:*",
	}, sm["loggingConfiguration"])
	logs := layerResource(t, r, "aws:cloudwatch/logGroup:LogGroup", "processed-workflow")
	assert.Equal(t, 30.0, logs["retentionInDays"])

	trust := policyStatements(t, layerResource(t, r, "aws:iam/role:Role", "processed-workflow")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "states.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, trust["0"]["Condition"])

	wg := layerResource(t, r, "aws:athena/workgroup:Workgroup", "processed-processing")
	assert.Equal(t, "manga-assist-processing-unit", wg["name"])
	cfg := wg["configuration"].(map[string]any)
	assert.Equal(t, true, cfg["enforceWorkgroupConfiguration"])
	assert.Equal(t, float64(1<<40), cfg["bytesScannedCutoffPerQuery"])
	assert.Equal(t, "Athena engine version 3", cfg["engineVersion"].(map[string]any)["selectedEngineVersion"])
	assert.Equal(t, map[string]any{"outputLocation": "s3://results/athena/processing/", "encryptionConfiguration": map[string]any{
		"encryptionOption": "SSE_KMS", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/results"}}, cfg["resultConfiguration"])
}

// The workflow's role reaches its workgroup, the catalog objects, raw/ to
// read and the table's folder to write, the results folder and the two
// buckets' keys; only the log-delivery actions, which take no resource, are
// on "*".
func TestProcessedLayerWorkflowPolicy(t *testing.T) {
	r := layerRun(t, processedArgs())
	policy := policyStatements(t, layerResource(t, r, "aws:iam/rolePolicy:RolePolicy", "processed-workflow")["policy"])
	glue := "arn:aws:glue:us-east-1:123456789012:"
	want := map[string]struct{ actions, resources any }{
		"RunQueries": {[]any{"athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetWorkGroup"},
			"arn:aws:athena:us-east-1:123456789012:workgroup/manga-assist-processing-unit"},
		"UseCatalog": {"athena:GetDataCatalog", "arn:aws:athena:us-east-1:123456789012:datacatalog/AwsDataCatalog"},
		"ReadRawTable": {[]any{"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:BatchGetPartition"},
			[]any{glue + "catalog", glue + "database/" + testDatabase, glue + "table/" + testDatabase + "/manga_assist_events"}},
		"OwnProcessedTable": {[]any{"glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"},
			[]any{glue + "catalog", glue + "database/" + testDatabase, glue + "table/" + testDatabase + "/manga_assist_events_processed"}},
		"ReadRaw": {"s3:GetObject", "arn:aws:s3:::data/raw/*"},
		"WriteProcessed": {[]any{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			"arn:aws:s3:::data/processed/manga_assist_events_processed/*"},
		"ListData": {[]any{"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}, "arn:aws:s3:::data"},
		"WriteResults": {[]any{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			"arn:aws:s3:::results/athena/processing/*"},
		"ListResults":   {[]any{"s3:ListBucket", "s3:GetBucketLocation"}, "arn:aws:s3:::results"},
		"UseBucketKeys": {[]any{"kms:Decrypt", "kms:GenerateDataKey"}, []any{"arn:aws:kms:us-east-1:123456789012:key/data", "arn:aws:kms:us-east-1:123456789012:key/results"}},
		"DeliverLogs": {[]any{"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}, "*"},
	}
	require.Len(t, policy, len(want), "no statement beyond these")
	for sid, w := range want {
		assert.Equal(t, "Allow", policy[sid]["Effect"], sid)
		assert.Equal(t, w.actions, policy[sid]["Action"], sid)
		assert.Equal(t, w.resources, policy[sid]["Resource"], sid)
	}
	assert.Equal(t, map[string]any{"StringLike": map[string]any{"s3:prefix": []any{"raw/*", "processed/manga_assist_events_processed/*"}}},
		policy["ListData"]["Condition"], "listing is limited to the two prefixes")
	assert.Equal(t, map[string]any{"StringLike": map[string]any{"s3:prefix": []any{"athena/processing/*"}}}, policy["ListResults"]["Condition"])
	for sid, s := range policy {
		for _, action := range toStrings(s["Action"]) {
			assert.NotContains(t, action, "*", "%s: no wildcard action", sid)
			if strings.HasPrefix(action, "s3:Delete") {
				assert.Equal(t, "WriteProcessed", sid, "only the table's folder is deleted from (VACUUM)")
			}
		}
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, s := range x {
			out = append(out, s.(string))
		}
		return out
	}
	return nil
}

// Two schedules in the layer's group start the workflow: daily but Sunday
// with the 7-day window, Sunday with the 35-day one; each hands over the
// schedule's own time, retries, and keeps what it could not start in the
// encrypted dead-letter queue. Their role may start this workflow and send
// to that queue, nothing else, for this account only.
func TestProcessedLayerSchedules(t *testing.T) {
	r := layerRun(t, processedArgs())
	group := layerResource(t, r, "aws:scheduler/scheduleGroup:ScheduleGroup", "processed")
	assert.Equal(t, "manga-assist-processed-layer-unit", group["name"])
	machineArn := "arn:aws:states:us-east-1:123456789012:stateMachine:manga-assist-processed-layer-unit" // the mocks' ARN of it
	dlqArn := "arn:aws:sqs:us-east-1:123456789012:manga-assist-processed-layer-dlq-unit"
	for name, want := range map[string]struct {
		expression string
		lookback   float64
	}{
		"processed-daily":       {"cron(30 1 ? * MON-SAT *)", 7},
		"processed-weekly-wide": {"cron(30 1 ? * SUN *)", 35},
	} {
		s := layerResource(t, r, "aws:scheduler/schedule:Schedule", name)
		assert.Equal(t, "manga-assist-processed-layer-unit", s["groupName"], name)
		assert.Equal(t, want.expression, s["scheduleExpression"], name)
		assert.Equal(t, "UTC", s["scheduleExpressionTimezone"], name)
		assert.Equal(t, map[string]any{"mode": "OFF"}, s["flexibleTimeWindow"], name)
		target := s["target"].(map[string]any)
		assert.Equal(t, machineArn, target["arn"], name)
		var input map[string]any
		require.NoError(t, json.Unmarshal([]byte(target["input"].(string)), &input))
		assert.Equal(t, map[string]any{"scheduledTime": "<aws.scheduler.scheduled-time>", "lookbackDays": want.lookback}, input,
			"%s: the run date comes from the schedule's time", name)
		assert.Equal(t, map[string]any{"maximumEventAgeInSeconds": 3600.0, "maximumRetryAttempts": 10.0}, target["retryPolicy"], name)
		assert.Equal(t, map[string]any{"arn": dlqArn}, target["deadLetterConfig"], name)
	}

	dlq := layerResource(t, r, "aws:sqs/queue:Queue", "processed-dlq")
	assert.Regexp(t, `^arn:aws:kms:us-east-1:123456789012:key/`, dlq["kmsMasterKeyId"], "encrypted with the layer's key")
	assert.Equal(t, 1209600.0, dlq["messageRetentionSeconds"])

	trust := policyStatements(t, layerResource(t, r, "aws:iam/role:Role", "processed-scheduler")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "scheduler.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, trust["0"]["Condition"])
	policy := policyStatements(t, layerResource(t, r, "aws:iam/rolePolicy:RolePolicy", "processed-scheduler")["policy"])
	require.Len(t, policy, 3)
	assert.Equal(t, "states:StartExecution", policy["StartWorkflow"]["Action"])
	assert.Equal(t, machineArn, policy["StartWorkflow"]["Resource"])
	assert.Equal(t, "sqs:SendMessage", policy["DeadLetter"]["Action"])
	assert.Equal(t, dlqArn, policy["DeadLetter"]["Resource"])
	assert.Equal(t, []any{"kms:GenerateDataKey", "kms:Decrypt"}, policy["EncryptDeadLetter"]["Action"])
	assert.Equal(t, dlq["kmsMasterKeyId"], policy["EncryptDeadLetter"]["Resource"], "the queue's own key")
}

// A failed or timed-out run, two days without a success, and a schedule
// that could not start the workflow each alarm to the pipeline's topic; with
// no topic there are no alarms.
func TestProcessedLayerAlarms(t *testing.T) {
	r := layerRun(t, processedArgs())
	alarms := map[string]map[string]any{}
	for _, a := range r.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		alarms[a.Name] = a.Inputs
		assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:manga-assist-pipeline-alarms-unit"}, a.Inputs["alarmActions"], a.Name)
	}
	machine := map[string]any{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:manga-assist-processed-layer-unit"}
	for name, want := range map[string]struct {
		namespace, metric, comparison string
		threshold                     float64
		dimensions                    map[string]any
	}{
		"processed-processed-layer-failed":    {"AWS/States", "ExecutionsFailed", "GreaterThanThreshold", 0, machine},
		"processed-processed-layer-timed-out": {"AWS/States", "ExecutionsTimedOut", "GreaterThanThreshold", 0, machine},
		"processed-processed-layer-stale":     {"AWS/States", "ExecutionsSucceeded", "LessThanThreshold", 1, machine},
		"processed-processed-layer-unstarted": {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0,
			map[string]any{"QueueName": "manga-assist-processed-layer-dlq-unit"}},
	} {
		a := alarms[name]
		require.NotNil(t, a, name)
		assert.Equal(t, want.namespace, a["namespace"], name)
		assert.Equal(t, want.metric, a["metricName"], name)
		assert.Equal(t, want.comparison, a["comparisonOperator"], name)
		assert.Equal(t, want.threshold, a["threshold"], name)
		assert.Equal(t, want.dimensions, a["dimensions"], name)
	}
	assert.Len(t, alarms, 4)
	assert.Equal(t, "breaching", alarms["processed-processed-layer-stale"]["treatMissingData"], "no data is no success")
	assert.Equal(t, 86400.0, alarms["processed-processed-layer-stale"]["period"])
	assert.Equal(t, 2.0, alarms["processed-processed-layer-stale"]["evaluationPeriods"], "two UTC days")

	args := processedArgs()
	args.AlarmTopicArn = nil
	assert.Empty(t, layerRun(t, args).Find("aws:cloudwatch/metricAlarm:MetricAlarm"))
}

// The processed named queries join the raw ones in the analysts' workgroup.
func TestProcessedLayerNamedQueries(t *testing.T) {
	r := layerRun(t, processedArgs())
	var names []string
	for _, q := range r.Find("aws:athena/namedQuery:NamedQuery") {
		names = append(names, q.Inputs["name"].(string))
		assert.Equal(t, "manga-assist-analytics-unit", q.Inputs["workgroup"])
		assert.Equal(t, testDatabase, q.Inputs["database"])
		assert.Contains(t, q.Inputs["query"], ProcessedTableName)
		assert.True(t, strings.HasPrefix(q.Inputs["query"].(string), "-- "+q.Inputs["description"].(string)+"\n"))
	}
	sort.Strings(names)
	assert.Equal(t, []string{"1-daily-active-sessions-processed", "2-conversation-length-processed", "3-handoff-rate-by-hour-processed",
		"4-token-usage-processed", "5-escalated-sessions-processed"}, names)
}

// optionalTypes are the resource types only the sinks create.
var optionalTypes = []string{
	"aws:quicksight/dataSource:DataSource", "aws:quicksight/dataSet:DataSet",
	"aws:opensearch/serverlessCollection:ServerlessCollection", "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy",
	"aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy", "aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy",
	"aws:opensearchingest/pipeline:Pipeline",
	// The layer creates no Firehose at all: the OpenSearch sink used to be one.
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
}

// Both sinks are off by default: none of their resources exist, nor the
// OpenSearch pipeline's role and log group.
func TestProcessedLayerSinksOffByDefault(t *testing.T) {
	r := layerRun(t, processedArgs())
	for _, typ := range optionalTypes {
		assert.Empty(t, r.Find(typ), typ)
	}
	for _, typ := range []string{"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:cloudwatch/logGroup:LogGroup"} {
		for _, res := range r.Find(typ) {
			assert.NotContains(t, res.Name, "opensearch", "%s %s with the sink off", typ, res.Name)
		}
	}
	assert.Empty(t, r.Mandatory(), "the layer passes every mandatory policy")
}

// With both sinks on: a QuickSight data source on the analysts' workgroup
// and a direct-query data set over the processed table, both owned by the
// configured principal; an OpenSearch Serverless time-series collection
// with its encryption, network, data-access and lifecycle policies, and an
// OpenSearch Ingestion pipeline from the events stream into it.
func TestProcessedLayerSinksOn(t *testing.T) {
	r := layerRun(t, withSinks(processedArgs()))
	assert.Empty(t, r.Mandatory(), "the layer with both sinks passes every mandatory policy")

	source := layerResource(t, r, "aws:quicksight/dataSource:DataSource", "processed-quicksight")
	assert.Equal(t, "ATHENA", source["type"])
	assert.Equal(t, map[string]any{"athena": map[string]any{"workGroup": "manga-assist-analytics-unit"}}, source["parameters"])
	assert.Equal(t, []any{map[string]any{"principal": testQuickSightUser, "actions": toAny(quickSightDataSourceActions)}}, source["permissions"])
	set := layerResource(t, r, "aws:quicksight/dataSet:DataSet", "processed-quicksight")
	assert.Equal(t, "DIRECT_QUERY", set["importMode"], "dashboards query Athena: no SPICE refresh to schedule")
	table := set["physicalTableMaps"].([]any)[0].(map[string]any)["relationalTable"].(map[string]any)
	assert.Equal(t, ProcessedTableName, table["name"])
	assert.Equal(t, testDatabase, table["schema"])
	assert.Equal(t, "AwsDataCatalog", table["catalog"])
	columns := table["inputColumns"].([]any)
	require.Len(t, columns, len(processedColumns()))
	assert.Equal(t, map[string]any{"name": "event_ts", "type": "DATETIME"}, columns[len(columns)-1])
	assert.Equal(t, map[string]any{"name": "ts", "type": "INTEGER"}, columns[15])
	assert.Equal(t, []any{map[string]any{"principal": testQuickSightUser, "actions": toAny(quickSightDataSetActions)}}, set["permissions"])

	coll := layerResource(t, r, "aws:opensearch/serverlessCollection:ServerlessCollection", "processed-opensearch")
	assert.Equal(t, "manga-assist-unit", coll["name"])
	assert.Equal(t, "TIMESERIES", coll["type"], "the only collection type that takes a lifecycle policy")
	assert.Equal(t, "DISABLED", coll["standbyReplicas"])
	policies := map[string]map[string]any{}
	for _, typ := range []string{"aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy", "aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy",
		"aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy"} {
		for _, p := range r.Find(typ) {
			assert.Equal(t, "manga-assist-unit", p.Inputs["name"], p.Name)
			var doc any
			require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].(string)), &doc), p.Name)
			policies[p.Inputs["type"].(string)] = map[string]any{"doc": doc}
		}
	}
	require.Len(t, policies, 4, "encryption, network, data and retention")
	assert.Equal(t, map[string]any{"Rules": []any{map[string]any{"ResourceType": "collection", "Resource": []any{"collection/manga-assist-unit"}}},
		"AWSOwnedKey": true}, policies["encryption"]["doc"])
	assert.Equal(t, []any{map[string]any{
		"Rules": []any{
			map[string]any{"ResourceType": "collection", "Resource": []any{"collection/manga-assist-unit"}},
			map[string]any{"ResourceType": "dashboard", "Resource": []any{"collection/manga-assist-unit"}},
		},
		"AllowFromPublic": true,
	}}, policies["network"]["doc"], "public and signed: the pipeline's VPC endpoint is admitted by the public rule")
	assert.Equal(t, map[string]any{"Rules": []any{map[string]any{"ResourceType": "index", "Resource": []any{"index/manga-assist-unit/*"},
		"MinIndexRetention": "30d"}}}, policies["retention"]["doc"])

	// The data-access policy: the pipeline role gets exactly the guide's
	// four index permissions; the reader reads and does not write.
	data := policies["data"]["doc"].([]any)
	require.Len(t, data, 2)
	writer := data[0].(map[string]any)
	reader := data[1].(map[string]any)
	assert.Equal(t, []any{"arn:aws:iam::123456789012:role/" + layerResourceID(t, r, "aws:iam/role:Role", "processed-opensearch-ingestion")},
		writer["Principal"], "the pipeline role writes")
	assert.Equal(t, []any{map[string]any{"ResourceType": "index", "Resource": []any{"index/manga-assist-unit/*"},
		"Permission": []any{"aoss:CreateIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:WriteDocument"}}}, writer["Rules"])
	assert.Equal(t, []any{testReader}, reader["Principal"], "the configured reader reads")
	assert.NotContains(t, fmt.Sprint(reader["Rules"]), "aoss:WriteDocument", "the reader does not write")
	assert.NotContains(t, fmt.Sprint(data), "\"*\"", "no wildcard resource")

	pipeline := layerResource(t, r, "aws:opensearchingest/pipeline:Pipeline", "processed-opensearch-ingestion")
	assert.Equal(t, "manga-assist-search-unit", pipeline["pipelineName"])
	assert.Equal(t, 1.0, pipeline["minUnits"], "one Ingestion OCU around the clock")
	assert.Equal(t, 4.0, pipeline["maxUnits"])
	assert.Equal(t, map[string]any{"isLoggingEnabled": true,
		"cloudwatchLogDestination": map[string]any{"logGroup": "/aws/vendedlogs/OpenSearchIngestion/manga-assist-search-unit"}},
		pipeline["logPublishingOptions"])
	assert.Regexp(t, `^/aws/vendedlogs/[.\-_/#A-Za-z0-9]+$`, "/aws/vendedlogs/OpenSearchIngestion/manga-assist-search-unit",
		"OpenSearch Ingestion API Reference, CloudWatchLogDestination: LogGroup pattern")
	logs := layerResource(t, r, "aws:cloudwatch/logGroup:LogGroup", "processed-opensearch-ingestion")
	assert.Equal(t, "/aws/vendedlogs/OpenSearchIngestion/manga-assist-search-unit", logs["name"])
	assert.Equal(t, 30.0, logs["retentionInDays"])
	assert.Equal(t, logsKeyArn(t, r), logs["kmsKeyId"], "encrypted with the layer's logs key")
	assert.Equal(t, map[string]any{"project": "manga-assist-data", "environment": "unit", "component": "ProcessedLayer"}, pipeline["tags"])

	args := withSinks(processedArgs())
	args.OpenSearch.StandbyReplicas = true
	args.OpenSearch.PipelineMinUnits, args.OpenSearch.PipelineMaxUnits = 2, 8
	r = layerRun(t, args)
	assert.Equal(t, "ENABLED", layerResource(t, r, "aws:opensearch/serverlessCollection:ServerlessCollection", "processed-opensearch")["standbyReplicas"])
	pipeline = layerResource(t, r, "aws:opensearchingest/pipeline:Pipeline", "processed-opensearch-ingestion")
	assert.Equal(t, []any{2.0, 8.0}, []any{pipeline["minUnits"], pipeline["maxUnits"]})
}

// layerResourceID is the physical id the mocks gave the one resource of typ
// named name.
func layerResourceID(t *testing.T, r preview.Result, typ, name string) string {
	t.Helper()
	for _, res := range r.Find(typ) {
		if res.Name == name {
			return res.ID
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return ""
}

// logsKeyArn is the ARN the mocks gave the layer's logs key.
func logsKeyArn(t *testing.T, r preview.Result) string {
	t.Helper()
	return "arn:aws:kms:us-east-1:123456789012:key/" + layerResourceID(t, r, "aws:kms/key:Key", "processed-logs-key")
}

// The pipeline role: OpenSearch Ingestion may assume it for this account's
// pipeline of this name only, and it may do exactly what the guides list for
// a Kinesis Data Streams source and an OpenSearch Serverless collection sink
// (with the sink's dead-letter queue), each on its own resource.
func TestProcessedLayerOpenSearchRole(t *testing.T) {
	r := layerRun(t, withSinks(processedArgs()))
	role := layerResource(t, r, "aws:iam/role:Role", "processed-opensearch-ingestion")
	trust := policyStatements(t, role["assumeRolePolicy"])
	require.Len(t, trust, 1)
	assert.Equal(t, map[string]any{"Service": "osis-pipelines.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, "sts:AssumeRole", trust["0"]["Action"])
	assert.Equal(t, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
		"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:osis:us-east-1:123456789012:pipeline/manga-assist-search-unit"},
	}, trust["0"]["Condition"], "the confused-deputy guard, for this pipeline only")

	policy := policyStatements(t, layerResource(t, r, "aws:iam/rolePolicy:RolePolicy", "processed-opensearch-ingestion")["policy"])
	collectionArn := "arn:aws:aoss:us-east-1:123456789012:collection/manga-assist-unit" // the mocks' ARN of it
	want := map[string]struct{ actions, resource any }{
		// "Use an OpenSearch Ingestion pipeline with Amazon Kinesis Data Streams", step 2.
		"ReadEventStream": {[]any{"kinesis:DescribeStream", "kinesis:DescribeStreamConsumer", "kinesis:DescribeStreamSummary",
			"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams",
			"kinesis:ListStreamConsumers", "kinesis:RegisterStreamConsumer", "kinesis:SubscribeToShard"},
			"arn:aws:kinesis:us-east-1:123456789012:stream/manga-assist-events-unit"},
		"DecryptEventStream": {[]any{"kms:Decrypt", "kms:GenerateDataKey"}, "arn:aws:kms:us-east-1:123456789012:key/events"},
		// "Granting Amazon OpenSearch Ingestion pipelines access to collections", step 1.
		"WriteCollection":       {"aoss:APIAccessAll", collectionArn},
		"FindCollection":        {"aoss:BatchGetCollection", "*"},
		"AdmitPipelineEndpoint": {[]any{"aoss:CreateSecurityPolicy", "aoss:GetSecurityPolicy", "aoss:UpdateSecurityPolicy"}, "*"},
		// The sink's dead-letter queue.
		"KeepFailedDocuments":    {"s3:PutObject", "arn:aws:s3:::data/errors/opensearch/*"},
		"EncryptFailedDocuments": {"kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/data"},
	}
	require.Len(t, policy, len(want), "no statement beyond these")
	for sid, w := range want {
		require.Contains(t, policy, sid)
		assert.Equal(t, "Allow", policy[sid]["Effect"], sid)
		assert.Equal(t, w.actions, policy[sid]["Action"], sid)
		assert.Equal(t, w.resource, policy[sid]["Resource"], sid)
	}
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aoss:collection": "manga-assist-unit"}},
		policy["AdmitPipelineEndpoint"]["Condition"], "the network policy actions reach this collection's policies only")
	for sid, s := range policy {
		if sid != "AdmitPipelineEndpoint" {
			assert.Nil(t, s["Condition"], sid)
		}
	}
}

// pipelineConfig runs the layer with args under the preview's mocks and returns the
// pipeline's configuration body, parsed as YAML.
func pipelineConfig(t *testing.T, args ProcessedLayerArgs) (body string, config map[string]any) {
	t.Helper()
	mocks := preview.NewMocks("us-east-1")
	require.NoError(t, pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewProcessedLayer(ctx, "processed", &args)
		return err
	}, pulumi.WithMocks("manga-assist-data", "unit", mocks), func(info *pulumi.RunInfo) { info.DryRun = true }))
	for _, res := range mocks.Resources() {
		if res.Type == "aws:opensearchingest/pipeline:Pipeline" {
			body, _ = res.Inputs["pipelineConfigurationBody"].(string)
		}
	}
	require.NotEmpty(t, body)
	require.NoError(t, yaml.Unmarshal([]byte(body), &config), "the configuration is YAML")
	return body, config
}

// dig walks a parsed YAML document by map keys and list indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, step := range path {
		switch k := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "%v: not a map at %q", path, k)
			require.Contains(t, m, k, "%v", path)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok, "%v: not a list at %d", path, k)
			require.Greater(t, len(l), k, "%v", path)
			v = l[k]
		}
	}
	return v
}

// The pipeline's configuration, parsed back as YAML: the events stream,
// each record split on newlines and each line parsed as the event's JSON,
// into a daily index of the collection, signed for OpenSearch Serverless
// with the pipeline role, refused documents to errors/opensearch/.
func TestProcessedLayerOpenSearchPipelineConfig(t *testing.T) {
	body, config := pipelineConfig(t, withSinks(processedArgs()))
	require.Len(t, config, 2, "version and one sub-pipeline")
	assert.Equal(t, "2", config["version"])
	sub := dig(t, config, openSearchSubPipeline)
	roleArn := "arn:aws:iam::123456789012:role/processed-opensearch-ingestion-"
	assert.Contains(t, body, roleArn, "the mocks' role ARN")

	source := dig(t, sub, "source", "kinesis_data_streams").(map[string]any)
	assert.Equal(t, []any{map[string]any{
		"stream_arn":       "arn:aws:kinesis:us-east-1:123456789012:stream/manga-assist-events-unit",
		"initial_position": "LATEST",
	}}, source["streams"])
	assert.Equal(t, map[string]any{"newline": nil}, source["codec"], "one event per line of a record")
	assert.Equal(t, "polling", source["consumer_strategy"])
	assert.Equal(t, map[string]any{"idle_time_between_reads": "1s"}, source["polling"])
	assert.Equal(t, true, source["acknowledgments"], "a shard is checkpointed once the sink took its events")
	sourceAWS := source["aws"].(map[string]any)
	assert.Equal(t, "us-east-1", sourceAWS["region"])
	assert.True(t, strings.HasPrefix(sourceAWS["sts_role_arn"].(string), roleArn))

	assert.Equal(t, []any{
		map[string]any{"parse_json": map[string]any{"source": "message"}},
		map[string]any{"delete_entries": map[string]any{"with_keys": []any{"message"}}},
	}, sub.(map[string]any)["processor"], "the line becomes the event's fields, and goes")

	sinks := dig(t, sub, "sink").([]any)
	require.Len(t, sinks, 1)
	sink := dig(t, sinks, 0, "opensearch").(map[string]any)
	assert.Equal(t, []any{"https://manga-assist-unit.us-east-1.aoss.amazonaws.com"}, sink["hosts"], "the collection's endpoint")
	assert.Equal(t, "manga-assist-events-%{yyyy.MM.dd}", sink["index"], "a daily index")
	assert.Regexp(t, `%\{[yMd.]+\}$`, sink["index"], "a date-time pattern suffix")
	assert.Equal(t, "management_disabled", sink["index_type"])
	assert.NotContains(t, sink, "document_id", "a time-series collection refuses document ids of ours")
	sinkAWS := sink["aws"].(map[string]any)
	assert.Equal(t, true, sinkAWS["serverless"], "SigV4 for OpenSearch Serverless (aoss)")
	assert.Equal(t, "us-east-1", sinkAWS["region"])
	assert.Equal(t, sourceAWS["sts_role_arn"], sinkAWS["sts_role_arn"], "one pipeline role for both ends")
	assert.Equal(t, map[string]any{"network_policy_name": "manga-assist-unit"}, sinkAWS["serverless_options"], "the collection's network policy")
	assert.Equal(t, map[string]any{"s3": map[string]any{
		"bucket": "data", "key_path_prefix": "errors/opensearch/", "region": "us-east-1", "sts_role_arn": sinkAWS["sts_role_arn"],
	}}, sink["dlq"])
}

// The configuration splits the router's records the way the router writes
// them: each line of a record (docs/streamrouter.md: 1-500 events, one JSON
// object per line, every line ending in "\n") is one event, and its JSON
// carries the fields the documents are counted by.
func TestOpenSearchPipelineSplitsRouterRecords(t *testing.T) {
	var record []byte
	for i := range 3 {
		line, err := analytics.MarshalLine(&analytics.Event{EventID: fmt.Sprint("e", i), EventType: analytics.Insert,
			SessionID: "s", SortKey: fmt.Sprint("TURN#", i), ItemType: analytics.ItemTurn, SequenceNumber: fmt.Sprint(i)})
		require.NoError(t, err)
		record = append(record, line...)
	}
	// Data Prepper's newline codec: BufferedReader.readLine, one event per
	// line, none for the final "\n".
	lines := strings.Split(strings.TrimSuffix(string(record), "\n"), "\n")
	require.Len(t, lines, 3)
	for i, l := range lines {
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &doc), "line %d is one JSON object", i)
		assert.Equal(t, fmt.Sprint("e", i), doc["event_id"])
		assert.Contains(t, doc, "change_id", "the key copies are counted out by")
		assert.Contains(t, doc, "timestamp")
	}
}

// Every log group of the layer, the workflow's and the OpenSearch
// pipeline's, is encrypted with the layer's logs key, whose policy lets
// CloudWatch Logs in this region use it for this account's log groups.
func TestProcessedLayerLogGroupsEncrypted(t *testing.T) {
	for name, args := range map[string]ProcessedLayerArgs{"sinks off": processedArgs(), "sinks on": withSinks(processedArgs())} {
		r := layerRun(t, args)
		groups := r.Find("aws:cloudwatch/logGroup:LogGroup")
		require.NotEmpty(t, groups, name)
		for _, g := range groups {
			assert.Equal(t, logsKeyArn(t, r), g.Inputs["kmsKeyId"], "%s: %s", name, g.Name)
		}
		for _, v := range r.Violations {
			assert.NotContains(t, v.Message, "kmsKeyId", "%s: %s", name, v.URN)
		}
	}
	r := layerRun(t, processedArgs())
	assert.Equal(t, logsKeyArn(t, r), layerResource(t, r, "aws:cloudwatch/logGroup:LogGroup", "processed-workflow")["kmsKeyId"],
		"the workflow's log group, created in processed_layer_workflow.go")
	key := layerResource(t, r, "aws:kms/key:Key", "processed-logs-key")
	assert.Equal(t, true, key["enableKeyRotation"])
	policy := policyStatements(t, key["policy"])
	require.Len(t, policy, 2)
	assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, policy["AccountIAM"]["Principal"])
	assert.Equal(t, map[string]any{"Service": "logs.us-east-1.amazonaws.com"}, policy["CloudWatchLogsEncrypt"]["Principal"])
	assert.Equal(t, map[string]any{"ArnLike": map[string]any{
		"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}}, policy["CloudWatchLogsEncrypt"]["Condition"])
	alias := layerResource(t, r, "aws:kms/alias:Alias", "processed-logs-key-alias")
	assert.Equal(t, "alias/manga-assist-data/unit/processed-layer-logs", alias["name"])
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Every bad argument is refused, naming the field, before anything is created.
func TestProcessedLayerRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*ProcessedLayerArgs)
		want   string
	}{
		"no catalog":       {func(a *ProcessedLayerArgs) { a.DatabaseName = nil }, "ProcessedLayerArgs.DatabaseName, RawTableName, Workgroup: required"},
		"no data bucket":   {func(a *ProcessedLayerArgs) { a.DataBucket = BucketRef{} }, "ProcessedLayerArgs.DataBucket: Name, Arn and KMSKeyArn are required"},
		"no results":       {func(a *ProcessedLayerArgs) { a.QueryResultsBucket = BucketRef{} }, "ProcessedLayerArgs.QueryResultsBucket"},
		"retention":        {func(a *ProcessedLayerArgs) { a.RetentionDays = 40000 }, "ProcessedLayerArgs.RetentionDays 40000: must be 1 to 36500"},
		"lookback":         {func(a *ProcessedLayerArgs) { a.LookbackDays = -1 }, "ProcessedLayerArgs.LookbackDays -1: must be at least 1"},
		"wide below daily": {func(a *ProcessedLayerArgs) { a.LookbackDays, a.WideLookbackDays = 10, 5 }, "ProcessedLayerArgs.WideLookbackDays 5: must be at least LookbackDays (10)"},
		"daily schedule":   {func(a *ProcessedLayerArgs) { a.DailySchedule = "every day" }, `ProcessedLayerArgs.DailySchedule "every day"`},
		"wide schedule":    {func(a *ProcessedLayerArgs) { a.WideSchedule = "cron(0 3 * * SUN *)" }, `ProcessedLayerArgs.WideSchedule "cron(0 3 * * SUN *)"`},
		"scan limit":       {func(a *ProcessedLayerArgs) { a.ScanLimitBytes = 1 }, "ProcessedLayerArgs.ScanLimitBytes 1"},
		"long name": {func(a *ProcessedLayerArgs) { a.Name = strings.Repeat("x", 70) },
			"a Step Functions state machine name may have at most 80"},
		"quicksight principal": {func(a *ProcessedLayerArgs) {
			a.QuickSight = &QuickSightSink{PrincipalArn: "arn:aws:iam::123456789012:user/analyst"}
		},
			`ProcessedLayerArgs.QuickSight.PrincipalArn "arn:aws:iam::123456789012:user/analyst": must be a QuickSight user or group ARN`},
		"opensearch reader": {func(a *ProcessedLayerArgs) {
			*a = withSinks(*a)
			a.OpenSearch.ReaderArn = "arn:aws:iam::123456789012:group/readers"
		},
			`ProcessedLayerArgs.OpenSearch.ReaderArn "arn:aws:iam::123456789012:group/readers": must be an IAM role or user ARN`},
		"opensearch stream": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.OpenSearch.EventStreamArn = nil },
			"ProcessedLayerArgs.OpenSearch.EventStreamArn, EventStreamKMSKeyArn: required"},
		"opensearch retention": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.OpenSearch.RetentionDays = 4000 },
			"ProcessedLayerArgs.OpenSearch.RetentionDays 4000: must be 1 to 3650"},
		"collection name": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.OpenSearch.CollectionName = "Events" },
			`ProcessedLayerArgs.OpenSearch.CollectionName "Events" (stack "unit"): a time-series collection name may hold only lower-case letters`},
		"collection too long": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.Name = "manga-assist-analytics-teams" },
			`ProcessedLayerArgs.OpenSearch.CollectionName "manga-assist-analytics-teams-unit" (stack "unit") is 33 characters; a time-series collection name may have at most 32`},
		"pipeline name too long": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.Name = "manga-assist-analytics" },
			`ProcessedLayerArgs.Name: OpenSearch Ingestion pipeline "manga-assist-analytics-search-unit" (stack "unit") is 34 characters; a pipeline (OpenSearch Ingestion) name may have at most 28`},
		"pipeline units": {func(a *ProcessedLayerArgs) {
			*a = withSinks(*a)
			a.OpenSearch.PipelineMinUnits, a.OpenSearch.PipelineMaxUnits = 4, 2
		}, "ProcessedLayerArgs.OpenSearch.PipelineMinUnits 4, PipelineMaxUnits 2: need 1 <= min <= max <= 96"},
		"pipeline too big": {func(a *ProcessedLayerArgs) { *a = withSinks(*a); a.OpenSearch.PipelineMaxUnits = 97 },
			"ProcessedLayerArgs.OpenSearch.PipelineMinUnits 1, PipelineMaxUnits 97: need 1 <= min <= max <= 96"},
	} {
		t.Run(name, func(t *testing.T) {
			args := processedArgs()
			c.change(&args)
			mocks := preview.NewMocks("us-east-1")
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewProcessedLayer(ctx, "processed", &args)
				return err
			}, pulumi.WithMocks("manga-assist-data", "unit", mocks))
			require.ErrorContains(t, err, c.want)
			for _, r := range mocks.Resources() {
				assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "%s %s registered before the refusal", r.Type, r.Name)
			}
		})
	}
}

// A window longer than the retention is cut to it: older events would be
// deleted by the same run.
func TestProcessedLayerWindowsFitTheRetention(t *testing.T) {
	args := processedArgs()
	args.RetentionDays = 30
	r := layerRun(t, args)
	input := layerResource(t, r, "aws:scheduler/schedule:Schedule", "processed-weekly-wide")["target"].(map[string]any)["input"]
	assert.JSONEq(t, `{"scheduledTime": "<aws.scheduler.scheduled-time>", "lookbackDays": 30}`, input.(string))
	def := layerResource(t, r, "aws:sfn/stateMachine:StateMachine", "processed-workflow")["definition"].(string)
	assert.Contains(t, def, "$d <= 30 ", "the workflow refuses a longer window")
	assert.Contains(t, def, "- 30 * 86400000", "and deletes what is older than 30 days")
}
