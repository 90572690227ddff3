package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	kinesisARN  = "arn:aws:kinesis:us-east-1:123456789012:stream/chat-events"
	dynamoDBARN = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2025-01-01T00:00:00.000"
	sqsARN      = "arn:aws:sqs:us-east-1:123456789012:work"
)

func TestKinesisStreamEncryption(t *testing.T) {
	bad := res(typeKinesisStream, "events", map[string]any{"encryptionType": "NONE"})
	runCases(t, "kinesis-stream-encryption", "mandatory", []policyCase{
		{name: "compliant", resources: []Resource{res(typeKinesisStream, "events", map[string]any{
			"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis",
		})}},
		{name: "not encrypted", resources: []Resource{bad}, want: []expected{{bad.URN, `encryptionType must be "KMS", is "NONE"`}}},
		{name: "unknown value", resources: []Resource{res(typeKinesisStream, "events", map[string]any{"encryptionType": unknown})}},
	})
}

func TestKinesisStreamRetention(t *testing.T) {
	bad := res(typeKinesisStream, "events", map[string]any{"retentionPeriod": 48})
	unset := res(typeKinesisStream, "default", map[string]any{})
	runCases(t, "kinesis-stream-retention", "advisory", []policyCase{
		{name: "compliant", resources: []Resource{
			res(typeKinesisStream, "week", map[string]any{"retentionPeriod": 168}),
			res(typeKinesisStream, "year", map[string]any{"retentionPeriod": 8760}),
		}},
		{name: "too short", resources: []Resource{bad, unset}, want: []expected{
			{bad.URN, "retentionPeriod is 48 hours, below the minimum of 168"},
			{unset.URN, "retentionPeriod is 24 hours, below the minimum of 168"},
		}},
		{name: "unknown value", resources: []Resource{res(typeKinesisStream, "events", map[string]any{"retentionPeriod": unknown})}},
	})
}

// safeTrigger is a stream trigger with every safety setting.
func safeTrigger(name string, props map[string]any) Resource {
	all := map[string]any{
		"eventSourceArn":             kinesisARN,
		"functionName":               "router",
		"startingPosition":           "LATEST",
		"functionResponseTypes":      []string{"ReportBatchItemFailures"},
		"bisectBatchOnFunctionError": true,
		"maximumRetryAttempts":       3,
		"maximumRecordAgeInSeconds":  3600,
		"destinationConfig": map[string]any{"onFailure": map[string]any{
			"destinationArn": "arn:aws:sqs:us-east-1:123456789012:dlq",
		}},
	}
	for k, v := range props {
		all[k] = v
	}
	return res(typeEventSourceMapping, name, all)
}

func TestStreamTriggerSafety(t *testing.T) {
	bare := res(typeEventSourceMapping, "bare", map[string]any{"eventSourceArn": dynamoDBARN, "functionName": "router"})
	infinite := safeTrigger("infinite", map[string]any{"maximumRetryAttempts": -1, "maximumRecordAgeInSeconds": -1})
	tooMany := safeTrigger("too-many", map[string]any{"maximumRetryAttempts": 50, "maximumRecordAgeInSeconds": 604800})
	unknownSource := safeTrigger("unknown-source", map[string]any{"eventSourceArn": unknown, "bisectBatchOnFunctionError": false})
	runCases(t, "stream-trigger-safety", "mandatory", []policyCase{
		{name: "compliant", resources: []Resource{
			safeTrigger("kinesis", nil),
			safeTrigger("dynamodb", map[string]any{"eventSourceArn": dynamoDBARN}),
		}},
		{name: "not a stream: SQS, Kafka, unknown source without stream settings", resources: []Resource{
			res(typeEventSourceMapping, "sqs", map[string]any{"eventSourceArn": sqsARN}),
			res(typeEventSourceMapping, "kafka", map[string]any{
				"eventSourceArn": unknown, "topics": []string{"t"}, "startingPosition": "LATEST",
			}),
			res(typeEventSourceMapping, "later", map[string]any{"eventSourceArn": unknown, "batchSize": 10}),
		}},
		{name: "nothing set", resources: []Resource{bare}, want: []expected{
			{bare.URN, `functionResponseTypes must contain "ReportBatchItemFailures"`},
			{bare.URN, "bisectBatchOnFunctionError must be true, is not set"},
			{bare.URN, "maximumRetryAttempts is not set"},
			{bare.URN, "maximumRecordAgeInSeconds is not set"},
			{bare.URN, "destinationConfig.onFailure.destinationArn is not set"},
		}},
		{name: "-1 means forever", resources: []Resource{infinite}, want: []expected{
			{infinite.URN, "maximumRetryAttempts is -1 (unlimited)"},
			{infinite.URN, "maximumRecordAgeInSeconds is -1 (unlimited)"},
		}},
		{name: "above the configured maximum", resources: []Resource{tooMany}, want: []expected{
			{tooMany.URN, "maximumRetryAttempts is 50, must be 0 to 10"},
			{tooMany.URN, "maximumRecordAgeInSeconds is 604800, must be 60 to 86400"},
		}},
		{name: "unknown source with stream-only settings is checked", resources: []Resource{unknownSource}, want: []expected{
			{unknownSource.URN, "bisectBatchOnFunctionError must be true, is false"},
		}},
		{name: "unknown values", resources: []Resource{safeTrigger("unknowns", map[string]any{
			"eventSourceArn":             unknown,
			"functionResponseTypes":      []any{unknown},
			"bisectBatchOnFunctionError": unknown,
			"maximumRetryAttempts":       unknown,
			"maximumRecordAgeInSeconds":  unknown,
			"destinationConfig":          map[string]any{"onFailure": unknown},
		})}},
	})
}

func TestStreamTriggerSafetyHonoursConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRetryAttempts = 2
	got := violationsWith(t, cfg, "stream-trigger-safety", safeTrigger("three-retries", nil))
	require.Len(t, got, 1)
	assert.Equal(t, "maximumRetryAttempts is 3, must be 0 to 2", got[0].Message)
}

// withDependency marks a value as coming from another resource's output, as
// an output value does over gRPC.
func withDependency(v any, r Resource) property.Value {
	return val(v).WithDependencies([]urn.URN{urn.URN(r.URN)})
}

func TestStreamConsumerIteratorAgeAlarm(t *testing.T) {
	function := res("aws:lambda/function:Function", "router", map[string]any{"name": "router-1a2b"})
	otherFunction := res("aws:lambda/function:Function", "other", map[string]any{"name": "other-9z"})
	// In a preview the function's name and ARN are unknown; property dependencies link the resources.
	trigger := dependsOn(safeTrigger("router-trigger", map[string]any{"functionName": unknown}), "functionName", function)
	alarm := func(name string, fn Resource, props map[string]any) Resource {
		all := map[string]any{
			"metricName": "IteratorAge", "namespace": "AWS/Lambda",
			"dimensions":   map[string]any{"FunctionName": unknown},
			"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"},
		}
		for k, v := range props {
			all[k] = v
		}
		return dependsOn(res(typeMetricAlarm, name, all), "dimensions", fn)
	}
	runCases(t, "stream-consumer-iterator-age-alarm", "advisory", []policyCase{
		{name: "alarm linked by property dependencies", resources: []Resource{function, trigger, alarm("age", function, nil)}},
		{name: "alarm linked by a dependency on the value", resources: []Resource{function, trigger,
			res(typeMetricAlarm, "age", map[string]any{
				"metricName": "IteratorAge", "namespace": "AWS/Lambda", "alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:a"},
				"dimensions": map[string]any{"FunctionName": withDependency(unknown, function)},
			}),
		}},
		{name: "alarm linked by known names, functionName an ARN", resources: []Resource{
			safeTrigger("by-arn", map[string]any{"functionName": "arn:aws:lambda:us-east-1:123456789012:function:router:live"}),
			res(typeMetricAlarm, "age", map[string]any{
				"metricName": "IteratorAge", "namespace": "AWS/Lambda", "alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:a"},
				"dimensions": map[string]any{"FunctionName": "router"},
			}),
		}},
		{name: "SQS consumers need no IteratorAge alarm", resources: []Resource{
			res(typeEventSourceMapping, "sqs", map[string]any{"eventSourceArn": sqsARN, "functionName": "router"}),
		}},
		{name: "no alarm", resources: []Resource{function, trigger}, want: []expected{
			{trigger.URN, `no aws:cloudwatch/metricAlarm with alarm actions, enabled, on metricName "IteratorAge"`},
		}},
		{name: "alarms on another metric or another function", resources: []Resource{function, otherFunction, trigger,
			alarm("errors", function, map[string]any{"metricName": "Errors"}),
			alarm("other-age", otherFunction, nil),
		}, want: []expected{{trigger.URN, "dimensions.FunctionName"}}},
		{name: "unknown values", resources: []Resource{
			function, trigger,
			// An alarm whose metric is not known yet may turn out to be the one.
			res(typeMetricAlarm, "later", map[string]any{"metricName": unknown, "namespace": "AWS/Lambda",
				"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:a"}}),
			// A trigger whose function is unknown and untraceable cannot be matched.
			safeTrigger("untraceable", map[string]any{"functionName": unknown}),
		}},
	})
}

func TestReplicaLatencyAlarm(t *testing.T) {
	replica := res(typeDynamoDBTableReplica, "west", map[string]any{
		"globalTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/sessions",
		"kmsKeyArn":      "arn:aws:kms:us-west-2:123456789012:key/mrk-1",
	})
	alarm := func(name string, dims map[string]any) Resource {
		return res(typeMetricAlarm, name, map[string]any{"metricName": "ReplicationLatency", "namespace": "AWS/DynamoDB", "dimensions": dims,
			"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"}})
	}
	runCases(t, "dynamodb-replica-latency-alarm", "advisory", []policyCase{
		{name: "alarm for the replica's region", resources: []Resource{replica,
			alarm("latency", map[string]any{"TableName": "sessions", "ReceivingRegion": "us-west-2"})}},
		{name: "no alarm", resources: []Resource{replica}, want: []expected{
			{replica.URN, `TableName "sessions" and ReceivingRegion "us-west-2"`}}},
		{name: "alarm for another region or table", resources: []Resource{replica,
			alarm("other-region", map[string]any{"TableName": "sessions", "ReceivingRegion": "eu-west-1"}),
			alarm("other-table", map[string]any{"TableName": "orders", "ReceivingRegion": "us-west-2"}),
		}, want: []expected{{replica.URN, "ReplicationLatency"}}},
		{name: "unknown values", resources: []Resource{replica,
			res(typeDynamoDBTableReplica, "later", map[string]any{"globalTableArn": unknown, "kmsKeyArn": unknown}),
			alarm("pending", map[string]any{"TableName": unknown, "ReceivingRegion": "us-west-2"}),
		}},
	})
}

// Issue 14, weakness 11: with its default, kinesis-stream-retention must be
// able to fire; 24 hours (the AWS minimum, and the default) is below it.
func TestKinesisStreamRetentionDefaultFires(t *testing.T) {
	day := res(typeKinesisStream, "day", map[string]any{"retentionPeriod": 24})
	unset := res(typeKinesisStream, "unset", map[string]any{})
	got := violationsOf(t, "kinesis-stream-retention", day, unset)
	if assert.Len(t, got, 2) {
		assert.Contains(t, got[0].Message, "retentionPeriod is 24 hours, below the minimum of 168")
	}
}

// Issue 14, weakness 7: an alarm that notifies nobody does not watch a
// consumer, and an alarm built from metric queries does.
func TestIteratorAgeAlarmNeedsActionsAndReadsMetricQueries(t *testing.T) {
	function := res("aws:lambda/function:Function", "router", map[string]any{"name": "router-1a2b"})
	trigger := dependsOn(safeTrigger("router-trigger", map[string]any{"functionName": unknown}), "functionName", function)
	single := func(name string, props map[string]any) Resource {
		all := map[string]any{
			"metricName": "IteratorAge", "namespace": "AWS/Lambda", "dimensions": map[string]any{"FunctionName": unknown},
			"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"},
		}
		for k, v := range props {
			all[k] = v
		}
		return dependsOn(res(typeMetricAlarm, name, all), "dimensions", function)
	}
	query := dependsOn(res(typeMetricAlarm, "by-query", map[string]any{
		"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"},
		"metricQueries": []any{map[string]any{
			"id": "age", "returnData": true,
			"metric": map[string]any{"metricName": "IteratorAge", "namespace": "AWS/Lambda", "stat": "Maximum", "period": 60,
				"dimensions": map[string]any{"FunctionName": unknown}},
		}},
	}), "metricQueries", function)
	runCases(t, "stream-consumer-iterator-age-alarm", "advisory", []policyCase{
		{name: "an alarm built from metric queries", resources: []Resource{function, trigger, query}},
		{name: "actions disabled", resources: []Resource{function, trigger, single("off", map[string]any{"actionsEnabled": false})},
			want: []expected{{trigger.URN, "IteratorAge"}}},
		{name: "no actions", resources: []Resource{function, trigger, single("mute", map[string]any{"alarmActions": []any{}})},
			want: []expected{{trigger.URN, "IteratorAge"}}},
		{name: "unknown actions", resources: []Resource{function, trigger,
			single("later", map[string]any{"alarmActions": unknown, "actionsEnabled": unknown})}},
	})
}
