package components_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/streamrouter"
)

const pipelineType = "manga-assist:data:AnalyticsPipeline"

func bucketRef(name string) components.BucketRef {
	return components.BucketRef{
		Name:      pulumi.String(name),
		Arn:       pulumi.String("arn:aws:s3:::" + name),
		KMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/" + name),
	}
}

func pipelineArgs() components.AnalyticsPipelineArgs {
	return components.AnalyticsPipelineArgs{
		TableStreamArn:      pulumi.String("arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2026-01-01T00:00:00.000"),
		TableKMSKeyArn:      pulumi.String("arn:aws:kms:us-east-1:123456789012:key/table"),
		DataBucket:          bucketRef("data"),
		FailedRecordsBucket: bucketRef("failed"),
		QueryResultsBucket:  bucketRef("results"),
		Tags:                map[string]string{"environment": "unit"},
	}
}

// pipeline runs the component and returns its children by logical name.
func pipeline(t *testing.T, args components.AnalyticsPipelineArgs) map[string]preview.Resource {
	t.Helper()
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewAnalyticsPipeline(ctx, "analytics", &args)
		return err
	})
	var parent string
	for _, r := range result.Find(pipelineType) {
		parent = r.URN
	}
	out := map[string]preview.Resource{}
	for _, r := range result.Resources {
		if r.Parent == parent {
			out[r.Type+" "+r.Name] = r
		}
	}
	return out
}

func get(t *testing.T, kids map[string]preview.Resource, typ, name string) map[string]any {
	t.Helper()
	r, ok := kids[typ+" "+name]
	require.True(t, ok, "no %s %s", typ, name)
	return r.Inputs
}

func statements(t *testing.T, doc any) map[string]map[string]any {
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

func TestPipelineRouter(t *testing.T) {
	kids := pipeline(t, pipelineArgs())

	fn := get(t, kids, "aws:lambda/function:Function", "analytics-router")
	assert.Equal(t, "manga-assist-stream-router-unit", fn["name"])
	assert.Equal(t, "provided.al2023", fn["runtime"])
	assert.Equal(t, []any{"arm64"}, fn["architectures"])
	assert.Equal(t, "bootstrap", fn["handler"])
	assert.Regexp(t, `^[A-Za-z0-9+/]{43}=$`, fn["sourceCodeHash"], "the hash of the built zip")
	assert.Regexp(t, `^archive [0-9a-f]{64}\.zip$`, fn["code"])
	assert.Equal(t, map[string]any{"variables": map[string]any{"KINESIS_STREAM_NAME": "manga-assist-events-unit"}}, fn["environment"])
	assert.Equal(t, map[string]any{"logFormat": "JSON", "logGroup": "/aws/lambda/manga-assist-stream-router-unit"}, fn["loggingConfig"])

	esm := get(t, kids, "aws:lambda/eventSourceMapping:EventSourceMapping", "analytics-router")
	assert.Equal(t, []any{"ReportBatchItemFailures"}, esm["functionResponseTypes"])
	assert.Equal(t, true, esm["bisectBatchOnFunctionError"])
	assert.Equal(t, 5.0, esm["maximumRetryAttempts"])
	assert.Equal(t, 3600.0, esm["maximumRecordAgeInSeconds"])
	assert.Equal(t, 100.0, esm["batchSize"])
	assert.Equal(t, 1.0, esm["parallelizationFactor"])
	assert.Equal(t, "TRIM_HORIZON", esm["startingPosition"])
	assert.Equal(t, map[string]any{"onFailure": map[string]any{"destinationArn": "arn:aws:s3:::failed"}}, esm["destinationConfig"])

	// Least privilege: the table's stream, the events stream, the failed-records bucket, its own logs.
	policy := statements(t, get(t, kids, "aws:iam/rolePolicy:RolePolicy", "analytics-router")["policy"])
	assert.Equal(t, "arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2026-01-01T00:00:00.000", policy["ReadTableStream"]["Resource"])
	assert.Equal(t, "arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/*", policy["ListTableStreams"]["Resource"])
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/table", policy["DecryptTableStream"]["Resource"])
	assert.Equal(t, "arn:aws:kinesis:us-east-1:123456789012:stream/manga-assist-events-unit", policy["WriteEvents"]["Resource"])
	assert.Equal(t, "arn:aws:s3:::failed/*", policy["KeepFailedBatches"]["Resource"])
	assert.Equal(t, "s3:PutObject", policy["KeepFailedBatches"]["Action"])
	assert.Equal(t, "arn:aws:s3:::failed", policy["ListFailedBatches"]["Resource"], "ListBucket applies to the bucket, not to objects")
	assert.Equal(t, "kinesis:PutRecords", policy["WriteEvents"]["Action"], "the router only calls PutRecords")
	assert.Equal(t, "kms:GenerateDataKey", policy["EncryptFailedBatches"]["Action"], "writing needs no Decrypt")
	assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/manga-assist-stream-router-unit:*", policy["WriteLogs"]["Resource"])
	for sid, s := range policy {
		assert.NotEqual(t, "*", s["Resource"], "%s must name its resources", sid)
	}

	trust := statements(t, get(t, kids, "aws:iam/role:Role", "analytics-router")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "lambda.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, trust["0"]["Condition"],
		"only on behalf of this account")
}

func TestPipelineStreamAndDelivery(t *testing.T) {
	args := pipelineArgs()
	args.StreamMode, args.StreamShardCount, args.StreamRetentionHours = "PROVISIONED", 2, 48
	kids := pipeline(t, args)

	stream := get(t, kids, "aws:kinesis/stream:Stream", "analytics-events")
	assert.Equal(t, "KMS", stream["encryptionType"])
	assert.Regexp(t, `^arn:aws:kms:`, stream["kmsKeyId"])
	assert.Equal(t, 48.0, stream["retentionPeriod"])
	assert.Equal(t, 2.0, stream["shardCount"])
	assert.Equal(t, map[string]any{"streamMode": "PROVISIONED"}, stream["streamModeDetails"])

	fh := get(t, kids, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "analytics-delivery")
	assert.Equal(t, "extended_s3", fh["destination"])
	assert.Equal(t, "arn:aws:kinesis:us-east-1:123456789012:stream/manga-assist-events-unit",
		fh["kinesisSourceConfiguration"].(map[string]any)["kinesisStreamArn"])
	s3 := fh["extendedS3Configuration"].(map[string]any)
	assert.Equal(t, "arn:aws:s3:::data", s3["bucketArn"])
	assert.Equal(t, 64.0, s3["bufferingSize"])
	assert.Equal(t, 300.0, s3["bufferingInterval"])
	assert.Equal(t, "UNCOMPRESSED", s3["compressionFormat"], "Parquet conversion needs S3-level compression off")
	assert.Equal(t, "raw/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/", s3["prefix"])
	assert.Regexp(t, `^errors/!\{firehose:error-output-type\}/`, s3["errorOutputPrefix"])
	assert.Equal(t, true, s3["dynamicPartitioningConfiguration"].(map[string]any)["enabled"])
	// A record is 1–500 events of one session, one per line: Firehose splits
	// it into events before it computes the partitions, so each event lands
	// in its own hour (docs/streamrouter.md).
	processing := s3["processingConfiguration"].(map[string]any)
	assert.Equal(t, true, processing["enabled"])
	processors := processing["processors"].([]any)
	require.Len(t, processors, 2)
	deaggregation, partitioning := processors[0].(map[string]any), processors[1].(map[string]any)
	assert.Equal(t, "RecordDeAggregation", deaggregation["type"], "de-aggregation comes first")
	assert.Equal(t, []any{map[string]any{"parameterName": "SubRecordType", "parameterValue": "JSON"}}, deaggregation["parameters"],
		"JSON sub-records: one object per line; no Delimiter, which is for DELIMITED")
	assert.Equal(t, "MetadataExtraction", partitioning["type"], "partition keys after de-aggregation")
	assert.Equal(t, []any{
		map[string]any{"parameterName": "MetadataExtractionQuery",
			"parameterValue": `{year: .timestamp | strftime("%Y"), month: .timestamp | strftime("%m"), day: .timestamp | strftime("%d"), hour: .timestamp | strftime("%H")}`},
		map[string]any{"parameterName": "JsonParsingEngine", "parameterValue": "JQ-1.6"},
	}, partitioning["parameters"], "partitions come from each event's own time")
	conversion := s3["dataFormatConversionConfiguration"].(map[string]any)
	assert.Equal(t, true, conversion["enabled"])
	assert.Equal(t, "SNAPPY", conversion["outputFormatConfiguration"].(map[string]any)["serializer"].(map[string]any)["parquetSerDe"].(map[string]any)["compression"])
	assert.Equal(t, "manga_assist_events", conversion["schemaConfiguration"].(map[string]any)["tableName"])
	assert.Equal(t, true, s3["cloudwatchLoggingOptions"].(map[string]any)["enabled"])

	// Firehose's guide guards its role with sts:ExternalId = the account.
	trust := statements(t, get(t, kids, "aws:iam/role:Role", "analytics-delivery")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "firehose.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "123456789012"}}, trust["0"]["Condition"])
}

// A prefix that makes a physical name too long, or one AWS does not accept,
// is refused before anything is registered, naming the stack and the limit.
func TestPipelinePhysicalNamesAreChecked(t *testing.T) {
	args := pipelineArgs()
	args.Name = "a-very-long-prefix-for-the-analytics-pipeline-names"
	_, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewAnalyticsPipeline(ctx, "analytics", &args)
		return err
	}, "test", "unit", "us-east-1", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `delivery stream "a-very-long-prefix-for-the-analytics-pipeline-names-analytics-delivery-unit" (stack "unit") is 75 characters; a Firehose stream name may have at most 64`)
	assert.Contains(t, err.Error(), "router function")

	args.Name = "Manga.Assist"
	_, err = preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewAnalyticsPipeline(ctx, "analytics", &args)
		return err
	}, "test", "unit", "us-east-1", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a Lambda function name may hold only letters, digits, hyphens and underscores")
	assert.NotContains(t, err.Error(), "Glue database", "the Glue name is built lower-case with underscores")
}

func TestPipelineCatalogMatchesTheRouterEvent(t *testing.T) {
	kids := pipeline(t, pipelineArgs())
	db := get(t, kids, "aws:glue/catalogDatabase:CatalogDatabase", "analytics-analytics")
	assert.Equal(t, "manga_assist_analytics_unit", db["name"])

	table := get(t, kids, "aws:glue/catalogTable:CatalogTable", "analytics-events")
	assert.Equal(t, "manga_assist_events", table["name"])
	var want []any
	for _, c := range analytics.Columns() {
		want = append(want, map[string]any{"name": c.Name, "type": c.Type, "comment": c.Comment})
	}
	sd := table["storageDescriptor"].(map[string]any)
	assert.Equal(t, want, sd["columns"], "the Glue columns are analytics.Event's")
	assert.Equal(t, "s3://data/raw/", sd["location"])
	assert.Equal(t, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", sd["serDeInfo"].(map[string]any)["serializationLibrary"])
	assert.Equal(t, []any{
		map[string]any{"name": "year", "type": "string"}, map[string]any{"name": "month", "type": "string"},
		map[string]any{"name": "day", "type": "string"}, map[string]any{"name": "hour", "type": "string"},
	}, table["partitionKeys"])
	params := table["parameters"].(map[string]any)
	assert.Equal(t, "true", params["projection.enabled"], "partition projection: no crawler, no MSCK REPAIR")
	assert.Equal(t, "2026,2099", params["projection.year.range"])
	assert.Equal(t, "2", params["projection.hour.digits"])
	assert.Equal(t, "s3://data/raw/year=${year}/month=${month}/day=${day}/hour=${hour}/", params["storage.location.template"])
	for key := range kids {
		assert.NotContains(t, key, "aws:glue/crawler", "no crawler")
	}
}

func TestPipelineAthena(t *testing.T) {
	args := pipelineArgs()
	args.ScanLimitBytes = 1 << 30
	kids := pipeline(t, args)
	wg := get(t, kids, "aws:athena/workgroup:Workgroup", "analytics-analytics")
	cfg := wg["configuration"].(map[string]any)
	assert.Equal(t, true, cfg["enforceWorkgroupConfiguration"])
	assert.Equal(t, float64(1<<30), cfg["bytesScannedCutoffPerQuery"])
	assert.Equal(t, "Athena engine version 3", cfg["engineVersion"].(map[string]any)["selectedEngineVersion"])
	result := cfg["resultConfiguration"].(map[string]any)
	assert.Equal(t, "s3://results/athena/", result["outputLocation"])
	assert.Equal(t, map[string]any{"encryptionOption": "SSE_KMS", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/results"},
		result["encryptionConfiguration"])

	names := map[string]string{}
	for _, r := range kids {
		if r.Type == "aws:athena/namedQuery:NamedQuery" {
			names[r.Inputs["name"].(string)] = r.Inputs["query"].(string)
			assert.Equal(t, "manga_assist_analytics_unit", r.Inputs["database"])
			assert.Equal(t, "manga-assist-analytics-unit", r.Inputs["workgroup"])
		}
	}
	assert.Len(t, names, 5, "the design's five queries")
	assert.Contains(t, names["1-daily-active-sessions"], `AS "date"`, "date is reserved in engine v3")
	for name, sql := range names {
		assert.NotContains(t, sql, "MSCK", name)
		assert.Contains(t, sql, "manga_assist_events", name)
	}
}

func TestPipelineAlarms(t *testing.T) {
	args := pipelineArgs()
	args.Alarms = components.PipelineAlarms{Email: pulumi.String("oncall@example.com"), IteratorAgeSeconds: 30, FreshnessSeconds: 600}
	kids := pipeline(t, args)

	topic := get(t, kids, "aws:sns/topic:Topic", "analytics-alarms")
	assert.Regexp(t, `^arn:aws:kms:`, topic["kmsMasterKeyId"])
	sub := get(t, kids, "aws:sns/topicSubscription:TopicSubscription", "analytics-alarms-email")
	assert.Equal(t, "email", sub["protocol"])
	assert.Equal(t, "[secret]", sub["endpoint"], "the address stays secret")

	alarms := map[string]map[string]any{}
	for _, r := range kids {
		if r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" {
			alarms[r.Name] = r.Inputs
			assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:manga-assist-pipeline-alarms-unit"}, r.Inputs["alarmActions"], r.Name)
		}
	}
	assert.Len(t, alarms, 9)
	check := func(name, namespace, metric string, threshold float64) {
		a := alarms[name]
		require.NotNil(t, a, name)
		assert.Equal(t, namespace, a["namespace"], name)
		assert.Equal(t, metric, a["metricName"], name)
		assert.Equal(t, threshold, a["threshold"], name)
	}
	check("analytics-router-iterator-age", "AWS/Lambda", "IteratorAge", 30000)
	check("analytics-router-errors", "AWS/Lambda", "Errors", 0)
	check("analytics-router-throttles", "AWS/Lambda", "Throttles", 0)
	check("analytics-events-iterator-age", "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", 30000)
	check("analytics-events-write-throttled", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", 0)
	check("analytics-delivery-freshness", "AWS/Firehose", "DeliveryToS3.DataFreshness", 600)
	check("analytics-failed-batches", "AWS/S3", "PutRequests", 0)
	// A partial batch failure raises no Errors: the router's own metric pages.
	check("analytics-router-undelivered", streamrouter.Namespace, "Undelivered", 0)
	assert.Equal(t, map[string]any{"FunctionName": "manga-assist-stream-router-unit"}, alarms["analytics-router-undelivered"]["dimensions"])
	assert.Equal(t, "Sum", alarms["analytics-router-undelivered"]["statistic"])
	anomaly := alarms["analytics-events-anomaly"]
	assert.Equal(t, "LessThanLowerOrGreaterThanUpperThreshold", anomaly["comparisonOperator"])
	assert.Equal(t, "ANOMALY_DETECTION_BAND(events, 2)", anomaly["metricQueries"].([]any)[1].(map[string]any)["expression"])
	events := anomaly["metricQueries"].([]any)[0].(map[string]any)["metric"].(map[string]any)
	assert.Equal(t, "EventsOut", events["metricName"], "events, not Kinesis records (each holds a session's events)")
	assert.Equal(t, streamrouter.Namespace, events["namespace"])

	// The key lets CloudWatch publish to the encrypted topic.
	key := get(t, kids, "aws:kms/key:Key", "analytics-key")
	assert.Contains(t, statements(t, key["policy"]), "CloudWatchAlarmsPublish")
}

// Several problems are listed in one error, in the same order every time.
func TestPipelineArgsProblemsInStableOrder(t *testing.T) {
	args := pipelineArgs()
	args.DataBucket, args.FailedRecordsBucket, args.QueryResultsBucket = components.BucketRef{}, components.BucketRef{}, components.BucketRef{}
	var first string
	for range 20 {
		_, err := preview.Run(func(ctx *pulumi.Context) error {
			_, err := components.NewAnalyticsPipeline(ctx, "analytics", &args)
			return err
		}, "test", "unit", "us-east-1", nil)
		require.Error(t, err)
		if first == "" {
			first = err.Error()
		}
		require.Equal(t, first, err.Error())
	}
	assert.Regexp(t, `(?s)DataBucket.*FailedRecordsBucket.*QueryResultsBucket`, first)
}

func TestPipelineAlarmsOff(t *testing.T) {
	args := pipelineArgs()
	args.Alarms.Disabled = true
	kids := pipeline(t, args)
	require.NotNil(t, get(t, kids, "aws:lambda/function:Function", "analytics-router"), "the pipeline itself is still there")
	for key := range kids {
		assert.NotContains(t, key, "metricAlarm")
		assert.NotContains(t, key, "sns/topic")
	}
}

func TestPipelineRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*components.AnalyticsPipelineArgs)
		want   string
	}{
		"no stream":   {func(a *components.AnalyticsPipelineArgs) { a.TableStreamArn = nil }, "AnalyticsPipelineArgs.TableStreamArn, TableKMSKeyArn: required"},
		"no bucket":   {func(a *components.AnalyticsPipelineArgs) { a.DataBucket = components.BucketRef{} }, "AnalyticsPipelineArgs.DataBucket: Name, Arn and KMSKeyArn are required"},
		"batch":       {func(a *components.AnalyticsPipelineArgs) { a.RouterBatchSize = 20000 }, "AnalyticsPipelineArgs.RouterBatchSize 20000: must be 1 to 10000"},
		"parallel":    {func(a *components.AnalyticsPipelineArgs) { a.RouterParallelization = 11 }, "AnalyticsPipelineArgs.RouterParallelization 11"},
		"age":         {func(a *components.AnalyticsPipelineArgs) { a.RouterMaxRecordAgeSeconds = 10 }, "AnalyticsPipelineArgs.RouterMaxRecordAgeSeconds 10"},
		"mode":        {func(a *components.AnalyticsPipelineArgs) { a.StreamMode = "SERVERLESS" }, `AnalyticsPipelineArgs.StreamMode "SERVERLESS"`},
		"retention":   {func(a *components.AnalyticsPipelineArgs) { a.StreamRetentionHours = 12 }, "AnalyticsPipelineArgs.StreamRetentionHours 12: must be 24 to 8760"},
		"scan cutoff": {func(a *components.AnalyticsPipelineArgs) { a.ScanLimitBytes = 1000 }, "AnalyticsPipelineArgs.ScanLimitBytes 1000"},
	} {
		t.Run(name, func(t *testing.T) {
			args := pipelineArgs()
			c.change(&args)
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewAnalyticsPipeline(ctx, "analytics", &args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.ErrorContains(t, err, c.want)
		})
	}
}
