package pack

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compliantStack is one of everything the pack checks, all compliant.
func compliantStack() []Resource {
	lake := newBucketSet("lake")
	function := res("aws:lambda/function:Function", "router", map[string]any{"name": "router-1a2b"})
	trigger := dependsOn(safeTrigger("router-trigger", nil), "functionName", function)
	alarm := dependsOn(res(typeMetricAlarm, "router-age", map[string]any{
		"metricName": "IteratorAge", "namespace": "AWS/Lambda", "statistic": "Maximum",
		"dimensions":   map[string]any{"FunctionName": "router-1a2b"},
		"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"},
	}), "dimensions", function)
	const scoped = `{"Statement":[{"Effect":"Allow","Action":["kinesis:PutRecords"],` +
		`"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/events"}]}`
	table := res(typeDynamoDBTable, "sessions", map[string]any{
		"name":                      "sessions",
		"pointInTimeRecovery":       map[string]any{"enabled": true, "recoveryPeriodInDays": 35},
		"serverSideEncryption":      map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-1"},
		"deletionProtectionEnabled": true,
	})
	const topic = "arn:aws:sns:us-east-1:123456789012:alarms"
	const rootKeyPolicy = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},` +
		`"Action":"kms:*","Resource":"*"}]}`
	vault := res(typeBackupVault, "vault", map[string]any{"name": "vault", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"})
	plan := dependsOn(backupPlan("plan", backupRule("daily", "vault", "cron(0 5 * * ? *)", 35)), "rules", vault)
	selection := dependsOn(dependsOn(res(typeBackupSelection, "sessions-backup", map[string]any{
		"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/sessions"}, "planId": "plan-id", "iamRoleArn": "role",
	}), "resources", table), "planId", plan)
	return append(lake.all(),
		table, selection, vault, plan,
		res(typeDynamoDBTableReplica, "west", map[string]any{"pointInTimeRecovery": true, "deletionProtectionEnabled": true,
			"globalTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/sessions",
			"kmsKeyArn":      "arn:aws:kms:us-west-2:123456789012:key/mrk-1"}),
		res(typeMetricAlarm, "west-latency", map[string]any{"metricName": "ReplicationLatency", "namespace": "AWS/DynamoDB",
			"dimensions": map[string]any{"TableName": "sessions", "ReceivingRegion": "us-west-2"}, "alarmActions": []any{topic}}),
		res(typeCompositeAlarm, "pipeline", map[string]any{"alarmRule": "ALARM(router-age)", "alarmActions": []any{topic}}),
		res(typeKinesisStream, "events", map[string]any{"encryptionType": "KMS", "retentionPeriod": 168}),
		res(typeSQSQueue, "dlq", map[string]any{"name": "dlq", "kmsMasterKeyId": "alias/aws/sqs"}),
		res(typeSQSQueue, "work", map[string]any{"name": "work", "kmsMasterKeyId": "alias/aws/sqs",
			"redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":5}`}),
		res(typeSQSQueuePolicy, "work", map[string]any{"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
			"policy": `{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",` +
				`"Resource":"arn:aws:sqs:us-east-1:123456789012:work",` +
				`"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:events"}}}]}`}),
		res(typeKMSKey, "key", map[string]any{"enableKeyRotation": true, "deletionWindowInDays": 30, "isEnabled": true,
			"policy": rootKeyPolicy}),
		res(typeKMSReplicaKey, "key-west", map[string]any{"primaryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-1",
			"deletionWindowInDays": 30, "enabled": true, "policy": rootKeyPolicy}),
		dependsOn(res(typeBackupVaultPolicy, "vault", map[string]any{"backupVaultName": "vault", "policy": denyDeletion}),
			"backupVaultName", vault),
		schedule("job", nil),
		stateMachine("workflow", map[string]any{"level": "ERROR",
			"logDestination": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/workflow:*"}),
		workgroup("analytics", nil),
		logGroup("router", nil),
		res(typeLambdaPermission, "invoke", map[string]any{"function": "router", "action": "lambda:InvokeFunction",
			"principal": "events.amazonaws.com", "sourceArn": "arn:aws:events:us-east-1:123456789012:rule/r"}),
		res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "backup", map[string]any{"role": "backup",
			"policyArn": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"}),
		res(typeSNSTopic, "alarms", map[string]any{"kmsMasterKeyId": "alias/aws/sns"}),
		function, trigger, alarm,
		lakeStream("lake", nil),
		res(typeIAMPolicy, "writer", map[string]any{"policy": scoped}),
		res(typeIAMRole, "router", map[string]any{
			"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`,
			"inlinePolicies":   []any{map[string]any{"name": "write", "policy": scoped}},
		}),
	)
}

// variants returns v with exactly one of its values (v itself, or anything
// nested in it) replaced by replacement, in every possible way.
func variants(v, replacement property.Value) []property.Value {
	out := []property.Value{replacement}
	switch {
	case v.IsMap():
		m := v.AsMap()
		for k, e := range m.AllStable {
			for _, ev := range variants(e, replacement) {
				out = append(out, property.New(m.Set(k, ev)))
			}
		}
	case v.IsArray():
		elems := v.AsArray().AsSlice()
		for i, e := range elems {
			for _, ev := range variants(e, replacement) {
				changed := slices.Clone(elems)
				changed[i] = ev
				out = append(out, property.New(property.NewArray(changed)))
			}
		}
	}
	return out
}

// eachVariant calls fn with stack changed by one value of one resource.
func eachVariant(stack []Resource, replacement property.Value, fn func(where string, changed []Resource)) {
	for i, r := range stack {
		for j, props := range variants(property.New(r.Properties), replacement)[1:] {
			changed := slices.Clone(stack)
			changed[i].Properties = props.AsMap()
			fn(fmt.Sprintf("%s variant %d", r.Name, j), changed)
		}
	}
}

// Whatever value a preview does not know yet, a compliant stack stays
// compliant: the policies never report what they cannot tell.
func TestUnknownValuesNeverViolate(t *testing.T) {
	stack := compliantStack()
	got, err := Evaluate(stack, DefaultConfig())
	require.NoError(t, err)
	require.Empty(t, got, "the baseline must be compliant")

	for _, replacement := range []property.Value{unknown, unknown.WithSecret(true)} {
		eachVariant(stack, replacement, func(where string, changed []Resource) {
			got, err := Evaluate(changed, DefaultConfig())
			assert.NoError(t, err, where)
			assert.Empty(t, got, where)
		})
	}
}

// Values of unexpected shapes make violations, never panics or errors.
func TestUnexpectedShapesDoNotPanic(t *testing.T) {
	stack := compliantStack()
	for _, replacement := range []any{
		nil, "x", "", -1, 1.5, true, []any{}, map[string]any{}, []any{unknown}, map[string]any{"x": unknown},
		property.New("x").WithSecret(true), property.New(property.Computed).WithSecret(true),
	} {
		eachVariant(stack, val(replacement), func(where string, changed []Resource) {
			assert.NotPanics(t, func() {
				_, err := Evaluate(changed, DefaultConfig())
				assert.NoError(t, err, where)
			}, "%s replaced by %v", where, replacement)
		})
	}
}
