package main

import (
	"bufio"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/manga-assist/manga-assist-data/policy/pack"
)

// The policy program, served by policyx.Main over the analyzer gRPC protocol
// and driven the way the engine drives it: Handshake, ConfigureStack,
// GetAnalyzerInfo, Configure, Analyze per resource, AnalyzeStack.
func TestServedOverGRPC(t *testing.T) {
	client := startAnalyzer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	_, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Project: "manga-assist-data", Stack: "dev", DryRun: true,
	})
	require.NoError(t, err)

	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, pack.Name, info.GetName())
	assert.True(t, info.GetSupportsConfig())
	levels := map[string]pulumirpc.EnforcementLevel{}
	for _, p := range info.GetPolicies() {
		levels[p.GetName()] = p.GetEnforcementLevel()
	}
	assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, levels["dynamodb-point-in-time-recovery"])
	assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, levels["s3-bucket-versioning"])
	assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, levels["required-tags"])

	// The engine sends every policy's level, with the user's settings: here a
	// tighter retry cap than the default 10.
	config := map[string]*pulumirpc.PolicyConfig{}
	for name, level := range levels {
		config[name] = &pulumirpc.PolicyConfig{EnforcementLevel: level}
	}
	retries, err := structpb.NewStruct(map[string]any{"maxRetryAttempts": 2})
	require.NoError(t, err)
	config["stream-trigger-safety"].Properties = retries
	window, err := structpb.NewStruct(map[string]any{"minDeletionWindowDays": 14})
	require.NoError(t, err)
	config["kms-key-hygiene"].Properties = window
	_, err = client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: config})
	require.NoError(t, err)
	cfg := pack.DefaultConfig()
	cfg.MaxRetryAttempts = 2
	cfg.MinKeyDeletionWindowDays = 14

	t.Run("Analyze", func(t *testing.T) {
		table := resourceOf("aws:dynamodb/table:Table", "sessions", map[string]property.Value{
			"name":                      property.New("sessions"),
			"pointInTimeRecovery":       object(map[string]property.Value{"enabled": property.New(false)}),
			"serverSideEncryption":      property.New(property.Computed), // unknown in a preview: no verdict
			"deletionProtectionEnabled": property.New(true),
		})
		trigger := resourceOf("aws:lambda/eventSourceMapping:EventSourceMapping", "router", map[string]property.Value{
			"eventSourceArn":             property.New("arn:aws:kinesis:us-east-1:123456789012:stream/chat"),
			"functionName":               property.New("router"),
			"functionResponseTypes":      property.New([]property.Value{property.New("ReportBatchItemFailures")}),
			"bisectBatchOnFunctionError": property.New(true),
			"maximumRetryAttempts":       property.New(3.0),
			"maximumRecordAgeInSeconds":  property.New(3600.0),
			"destinationConfig": object(map[string]property.Value{"onFailure": object(map[string]property.Value{
				"destinationArn": property.New("arn:aws:sqs:us-east-1:123456789012:dlq"),
			})}),
		})

		got := analyze(ctx, t, client, table)
		if assert.Len(t, got, 1) {
			assert.Equal(t, "dynamodb-point-in-time-recovery", got[0].GetPolicyName())
			assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, got[0].GetEnforcementLevel())
			assert.Equal(t, table.URN, got[0].GetUrn())
			assert.Contains(t, got[0].GetMessage(), "pointInTimeRecovery.enabled must be true, is false")
		}
		got = analyze(ctx, t, client, trigger)
		if assert.Len(t, got, 1, "the configured retry cap applies") {
			assert.Equal(t, "stream-trigger-safety", got[0].GetPolicyName())
			assert.Contains(t, got[0].GetMessage(), "maximumRetryAttempts is 3, must be 0 to 2")
		}
		// Offline, stack policies run too: the table's AWS Backup selection,
		// of a plan of the stack, keeps dynamodb-table-backup-coverage out of
		// the comparison.
		plan := resourceOf("aws:backup/plan:Plan", "plan", map[string]property.Value{
			"rules": property.New([]property.Value{object(map[string]property.Value{
				"ruleName": property.New("daily"), "schedule": property.New("cron(0 5 * * ? *)"),
				"targetVaultName": property.New(property.Computed),
				"lifecycle":       object(map[string]property.Value{"deleteAfter": property.New(35.0)}),
			})}),
		})
		selection := resourceOf("aws:backup/selection:Selection", "sessions-backup", map[string]property.Value{
			"planId":    property.New(property.Computed),
			"resources": property.New([]property.Value{property.New("arn:aws:dynamodb:us-east-1:123456789012:table/sessions")}),
		})
		selection.PropertyDependencies = map[string][]string{"planId": {plan.URN}}
		assertSameVerdicts(t, cfg, []pack.Resource{table, selection, plan}, analyze(ctx, t, client, table))
	})

	t.Run("AnalyzeStack", func(t *testing.T) {
		bare := resourceOf("aws:s3/bucketV2:BucketV2", "bare", map[string]property.Value{"bucket": property.New("bare-1")})
		// The compliant bucket's name is unknown, as in a preview: only property dependencies link its settings.
		lake := resourceOf("aws:s3/bucketV2:BucketV2", "lake", map[string]property.Value{"bucket": property.New(property.Computed)})
		resources := append([]pack.Resource{bare, lake}, settingsOf(lake)...)

		got, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: analyzerResources(t, resources)})
		require.NoError(t, err)
		diags := got.GetDiagnostics()
		policies := []string{}
		for _, d := range diags {
			assert.Equal(t, bare.URN, d.GetUrn(), "only the bare bucket violates: %s", d.GetMessage())
			assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, d.GetEnforcementLevel())
			policies = append(policies, d.GetPolicyName())
		}
		slices.Sort(policies)
		assert.Equal(t, []string{"s3-bucket-encryption", "s3-bucket-lifecycle", "s3-bucket-public-access-block",
			"s3-bucket-tls-only", "s3-bucket-versioning"}, policies)
		assertSameVerdicts(t, cfg, resources, diags)
	})

	// Issue 14's policies, each with a compliant, a non-compliant and an
	// unknown-valued resource: the engine (Analyze per resource, then
	// AnalyzeStack) reaches exactly the offline verdicts, and every policy
	// fires on its non-compliant resource alone.
	t.Run("PolicyPackV2", func(t *testing.T) {
		resources, wantBad := v2Resources()
		var diags []*pulumirpc.AnalyzeDiagnostic
		for _, r := range resources {
			diags = append(diags, analyze(ctx, t, client, r)...)
		}
		stack, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: analyzerResources(t, resources)})
		require.NoError(t, err)
		diags = append(diags, stack.GetDiagnostics()...)

		fired := map[string][]string{}
		for _, d := range diags {
			fired[d.GetPolicyName()] = append(fired[d.GetPolicyName()], d.GetUrn())
		}
		for policy, urn := range wantBad {
			assert.Equal(t, []string{urn}, fired[policy], "%s fires on its non-compliant resource only", policy)
		}
		assertSameVerdicts(t, cfg, resources, diags)
	})

	// Tags the provider adds count in both paths: the engine hands every
	// policy the resource's provider, and so does Evaluate.
	t.Run("ProviderDefaultTags", func(t *testing.T) {
		r := resourceOf("aws:ssm/parameter:Parameter", "untagged", map[string]property.Value{
			"type": property.New("String"), "value": property.New("x"),
		})
		r.Properties = r.Properties.Delete("tags")
		r.Provider = pack.Provider{
			URN: "urn:pulumi:dev::manga-assist-data::pulumi:providers:aws::default", Type: "pulumi:providers:aws", Name: "default",
			Properties: property.NewMap(map[string]property.Value{
				"region":      property.New("us-east-1"),
				"defaultTags": property.New(`{"tags":{"project":"p","environment":"dev","component":"c"}}`),
			}),
		}
		got := analyze(ctx, t, client, r)
		assert.Empty(t, got)
		assertSameVerdicts(t, cfg, []pack.Resource{r}, got)

		r.Provider.Properties = property.NewMap(map[string]property.Value{"region": property.New("us-east-1")})
		got = analyze(ctx, t, client, r)
		if assert.Len(t, got, 1) {
			assert.Equal(t, "required-tags", got[0].GetPolicyName())
		}
		assertSameVerdicts(t, cfg, []pack.Resource{r}, got)
	})
}

// v2Resources is a stack with, for every policy issue 14 added or changed, a
// compliant resource, a resource whose values are unknown, and one
// non-compliant resource, which wantBad names by policy.
func v2Resources() (resources []pack.Resource, wantBad map[string]string) {
	s := func(v string) property.Value { return property.New(v) }
	n := func(v float64) property.Value { return property.New(v) }
	b := func(v bool) property.Value { return property.New(v) }
	unknown := property.New(property.Computed)
	list := func(values ...property.Value) property.Value { return property.New(values) }
	wantBad = map[string]string{}
	add := func(bad string, r pack.Resource) pack.Resource {
		if bad != "" {
			wantBad[bad] = r.URN
		}
		resources = append(resources, r)
		return r
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:alarms"
	const cmk = "arn:aws:kms:us-east-1:123456789012:key/k"

	// kms-key-hygiene, with the 14-day minimum configured above.
	add("", resourceOf("aws:kms/key:Key", "key-ok", map[string]property.Value{"enableKeyRotation": b(true), "deletionWindowInDays": n(20)}))
	add("", resourceOf("aws:kms/key:Key", "key-unknown", map[string]property.Value{"enableKeyRotation": unknown, "deletionWindowInDays": unknown}))
	add("kms-key-hygiene", resourceOf("aws:kms/key:Key", "key-bad", map[string]property.Value{"enableKeyRotation": b(true), "deletionWindowInDays": n(10)}))

	// sqs-queue-dlq and scheduler-target-safety: a schedule whose dead-letter queue is a queue of the stack.
	add("", resourceOf("aws:sqs/queue:Queue", "dlq", map[string]property.Value{"name": s("dlq"), "sqsManagedSseEnabled": b(true)}))
	add("", resourceOf("aws:sqs/queue:Queue", "queue-unknown", map[string]property.Value{"name": unknown, "sqsManagedSseEnabled": b(true)}))
	add("sqs-queue-dlq", resourceOf("aws:sqs/queue:Queue", "queue-bad", map[string]property.Value{"name": s("work"), "sqsManagedSseEnabled": b(true)}))
	target := func(dlq, retries property.Value) property.Value {
		return object(map[string]property.Value{
			"arn": s("arn:aws:lambda:us-east-1:123456789012:function:job"), "roleArn": s("arn:aws:iam::123456789012:role/r"),
			"deadLetterConfig": object(map[string]property.Value{"arn": dlq}),
			"retryPolicy":      object(map[string]property.Value{"maximumRetryAttempts": retries}),
		})
	}
	add("", resourceOf("aws:scheduler/schedule:Schedule", "schedule-ok", map[string]property.Value{
		"target": target(s("arn:aws:sqs:us-east-1:123456789012:dlq"), n(3))}))
	add("", resourceOf("aws:scheduler/schedule:Schedule", "schedule-unknown", map[string]property.Value{"target": target(unknown, unknown)}))
	add("scheduler-target-safety", resourceOf("aws:scheduler/schedule:Schedule", "schedule-bad", map[string]property.Value{
		"target": target(s("arn:aws:sqs:us-east-1:123456789012:dlq"), n(100))}))

	// sfn-logging
	logging := func(level, destination property.Value) map[string]property.Value {
		return map[string]property.Value{"loggingConfiguration": object(map[string]property.Value{"level": level, "logDestination": destination})}
	}
	add("", resourceOf("aws:sfn/stateMachine:StateMachine", "machine-ok", logging(s("ERROR"), s("arn:aws:logs:us-east-1:123456789012:log-group:m:*"))))
	add("", resourceOf("aws:sfn/stateMachine:StateMachine", "machine-unknown", logging(unknown, unknown)))
	add("sfn-logging", resourceOf("aws:sfn/stateMachine:StateMachine", "machine-bad", logging(s("FATAL"), s("arn:aws:logs:us-east-1:123456789012:log-group:m:*"))))

	// cloudwatch-alarm-actions
	add("", resourceOf("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-ok", map[string]property.Value{"alarmActions": list(s(topic))}))
	add("", resourceOf("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-unknown", map[string]property.Value{"alarmActions": unknown, "actionsEnabled": unknown}))
	add("cloudwatch-alarm-actions", resourceOf("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-bad", map[string]property.Value{
		"alarmActions": list(s(topic)), "actionsEnabled": b(false)}))

	// athena-workgroup-guardrails
	workgroup := func(option property.Value) map[string]property.Value {
		return map[string]property.Value{"configuration": object(map[string]property.Value{
			"resultConfiguration": object(map[string]property.Value{
				"encryptionConfiguration": object(map[string]property.Value{"encryptionOption": option})})})}
	}
	add("", resourceOf("aws:athena/workgroup:Workgroup", "workgroup-ok", workgroup(s("SSE_KMS"))))
	add("", resourceOf("aws:athena/workgroup:Workgroup", "workgroup-unknown", workgroup(unknown)))
	add("athena-workgroup-guardrails", resourceOf("aws:athena/workgroup:Workgroup", "workgroup-bad", workgroup(s("SSE_S3"))))

	// resource-policy-no-public-access
	permission := func(principal, sourceArn property.Value) map[string]property.Value {
		return map[string]property.Value{"function": s("f"), "action": s("lambda:InvokeFunction"), "principal": principal, "sourceArn": sourceArn}
	}
	add("", resourceOf("aws:lambda/permission:Permission", "permission-ok", permission(s("s3.amazonaws.com"), s("arn:aws:s3:::b"))))
	add("", resourceOf("aws:lambda/permission:Permission", "permission-unknown", permission(unknown, property.Value{})))
	add("resource-policy-no-public-access", resourceOf("aws:lambda/permission:Permission", "permission-bad",
		permission(s("s3.amazonaws.com"), property.Value{})))

	// iam-no-kms-decrypt-all, and iam-no-wildcard-actions on a resource policy.
	rolePolicy := func(document property.Value) map[string]property.Value {
		return map[string]property.Value{"role": s("r"), "policy": document}
	}
	add("", resourceOf("aws:iam/rolePolicy:RolePolicy", "decrypt-ok", rolePolicy(s(
		`{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+cmk+`"}]}`))))
	add("", resourceOf("aws:iam/rolePolicy:RolePolicy", "decrypt-unknown", rolePolicy(unknown)))
	add("iam-no-kms-decrypt-all", resourceOf("aws:iam/rolePolicy:RolePolicy", "decrypt-bad", rolePolicy(s(
		`{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:*:key/*"}]}`))))
	add("iam-no-wildcard-actions", resourceOf("aws:sqs/queuePolicy:QueuePolicy", "queue-policy-bad", map[string]property.Value{
		"queueUrl": s("https://sqs.us-east-1.amazonaws.com/123456789012/dlq"),
		"policy": s(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sqs:*",` +
			`"Resource":"arn:aws:sqs:us-east-1:123456789012:dlq"}]}`)}))

	// log-group-retention (advisory)
	logGroup := func(days, key property.Value) map[string]property.Value {
		return map[string]property.Value{"retentionInDays": days, "kmsKeyId": key}
	}
	add("", resourceOf("aws:cloudwatch/logGroup:LogGroup", "logs-ok", logGroup(n(365), s(cmk))))
	add("", resourceOf("aws:cloudwatch/logGroup:LogGroup", "logs-unknown", logGroup(unknown, unknown)))
	add("log-group-retention", resourceOf("aws:cloudwatch/logGroup:LogGroup", "logs-bad", logGroup(n(400), property.Value{})))

	// dynamodb-pitr-recovery-period (advisory), dynamodb-encryption-at-rest on inline replicas,
	// dynamodb-replica-encryption (stack), dynamodb-deletion-protection on inline replicas.
	table := func(name string, period property.Value, replicas ...property.Value) map[string]property.Value {
		props := map[string]property.Value{
			"name":                      s(name),
			"pointInTimeRecovery":       object(map[string]property.Value{"enabled": b(true), "recoveryPeriodInDays": period}),
			"serverSideEncryption":      object(map[string]property.Value{"enabled": b(true), "kmsKeyArn": s(cmk)}),
			"deletionProtectionEnabled": b(true),
		}
		if len(replicas) > 0 {
			props["replicas"] = list(replicas...)
		}
		return props
	}
	sessions := add("", resourceOf("aws:dynamodb/table:Table", "table-ok", table("sessions", n(35))))
	add("", resourceOf("aws:dynamodb/table:Table", "table-unknown", table("orders", unknown)))
	add("dynamodb-pitr-recovery-period", resourceOf("aws:dynamodb/table:Table", "table-short", table("carts", n(7))))
	inline := object(map[string]property.Value{"regionName": s("us-west-2"), "pointInTimeRecovery": b(true)})
	inlineTable := add("dynamodb-encryption-at-rest", resourceOf("aws:dynamodb/table:Table", "table-inline", table("wishlists", n(35), inline)))
	wantBad["dynamodb-deletion-protection"] = inlineTable.URN
	replica := func(name string, key property.Value) pack.Resource {
		r := resourceOf("aws:dynamodb/tableReplica:TableReplica", name, map[string]property.Value{
			"globalTableArn": unknown, "kmsKeyArn": key, "pointInTimeRecovery": b(true), "deletionProtectionEnabled": b(true),
		})
		r.PropertyDependencies = map[string][]string{"globalTableArn": {sessions.URN}}
		r.Dependencies = []string{sessions.URN}
		return r
	}
	add("", replica("replica-ok", s("arn:aws:kms:us-west-2:123456789012:key/w")))
	add("", replica("replica-unknown", unknown))
	add("dynamodb-replica-encryption", replica("replica-bad", property.Value{}))

	// backup-vault-immutable (advisory): a locked vault, one whose policy is unknown, a bare one.
	vault := func(name string, key property.Value) pack.Resource {
		return resourceOf("aws:backup/vault:Vault", name, map[string]property.Value{"name": s(name), "kmsKeyArn": key})
	}
	vaultOK := add("", vault("vault-ok", s(cmk)))
	lock := resourceOf("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "vault-ok", map[string]property.Value{
		"backupVaultName": s("vault-ok"), "minRetentionDays": n(35), "maxRetentionDays": n(365)})
	lock.PropertyDependencies = map[string][]string{"backupVaultName": {vaultOK.URN}}
	add("", lock)
	add("", vault("vault-unknown", unknown))
	add("", resourceOf("aws:backup/vaultPolicy:VaultPolicy", "vault-unknown", map[string]property.Value{
		"backupVaultName": s("vault-unknown"), "policy": unknown}))
	add("backup-vault-immutable", vault("vault-bad", property.Value{}))

	// backup-plan-retention and backup-plan-vault-customer-key.
	plan := func(schedule, deleteAfter, vault property.Value) map[string]property.Value {
		return map[string]property.Value{"rules": list(object(map[string]property.Value{
			"ruleName": s("daily"), "schedule": schedule, "targetVaultName": vault,
			"lifecycle": object(map[string]property.Value{"deleteAfter": deleteAfter}),
		}))}
	}
	daily := s("cron(0 5 * * ? *)")
	planOK := add("", resourceOf("aws:backup/plan:Plan", "plan-ok", plan(daily, n(35), s("vault-ok"))))
	add("", resourceOf("aws:backup/plan:Plan", "plan-unknown", plan(unknown, unknown, unknown)))
	add("backup-plan-retention", resourceOf("aws:backup/plan:Plan", "plan-short", plan(daily, n(7), s("vault-ok"))))
	add("backup-plan-vault-customer-key", resourceOf("aws:backup/plan:Plan", "plan-keyless", plan(daily, n(35), s("vault-bad"))))

	// dynamodb-table-backup-coverage: every table of the stack but carts (and orders, whose selection's condition
	// is unknown) by pattern and condition, in selections of plan-ok.
	selection := func(name string, props map[string]property.Value) pack.Resource {
		props["planId"], props["iamRoleArn"] = unknown, s("arn:aws:iam::123456789012:role/backup")
		r := resourceOf("aws:backup/selection:Selection", name, props)
		r.PropertyDependencies = map[string][]string{"planId": {planOK.URN}}
		return r
	}
	condition := func(key string, value property.Value) property.Value {
		return list(object(map[string]property.Value{"stringEquals": list(object(map[string]property.Value{
			"key": s("aws:ResourceTag/" + key), "value": value}))}))
	}
	add("", selection("selection-ok", map[string]property.Value{
		"resources":    list(s("arn:aws:dynamodb:*:*:table/*")),
		"notResources": list(s("arn:aws:dynamodb:*:*:table/carts"), s("arn:aws:dynamodb:*:*:table/orders")),
		"conditions":   condition("environment", s("dev")),
	}))
	add("", selection("selection-unknown", map[string]property.Value{
		"resources":  list(s("arn:aws:dynamodb:us-east-1:123456789012:table/orders")),
		"conditions": condition("component", unknown),
	}))
	// carts is selected, but for a plan of another stack: that does not count.
	elsewhere := resourceOf("aws:backup/selection:Selection", "selection-elsewhere", map[string]property.Value{
		"planId": s("0b1d3c4f-plan-of-another-stack"), "iamRoleArn": s("arn:aws:iam::123456789012:role/backup"),
		"resources": list(s("arn:aws:dynamodb:us-east-1:123456789012:table/carts"))})
	add("", elsewhere)
	wantBad["dynamodb-table-backup-coverage"] = urnOf(resources, "table-short")

	// iam-no-wildcard-actions: an action the Service Authorization Reference gives no resource, on "*".
	add("", resourceOf("aws:iam/rolePolicy:RolePolicy", "list-tables", rolePolicy(s(
		`{"Statement":[{"Effect":"Allow","Action":["dynamodb:ListTables","cloudwatch:PutMetricData"],"Resource":"*"}]}`))))

	// firehose-buffer-size-minimum: conversion on, size unset, and a stream with the size unknown.
	firehose := func(size property.Value) map[string]property.Value {
		s3 := map[string]property.Value{
			"bucketArn": s("arn:aws:s3:::lake"), "bufferingInterval": n(300), "compressionFormat": s("UNCOMPRESSED"),
			"errorOutputPrefix": s("errors/"),
			"dataFormatConversionConfiguration": object(map[string]property.Value{"outputFormatConfiguration": object(map[string]property.Value{
				"serializer": object(map[string]property.Value{"parquetSerDe": object(map[string]property.Value{})})})}),
		}
		if !size.IsNull() {
			s3["bufferingSize"] = size
		}
		return map[string]property.Value{"destination": s("extended_s3"), "extendedS3Configuration": object(s3)}
	}
	add("", resourceOf("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "firehose-ok", firehose(n(128))))
	add("", resourceOf("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "firehose-unknown", firehose(unknown)))
	add("firehose-buffer-size-minimum", resourceOf("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "firehose-bad",
		firehose(property.Value{})))
	return resources, wantBad
}

// startAnalyzer runs the policy program's server in this process and dials
// it. policyx.Main announces its port on stdout and serves until the process
// ends.
func startAnalyzer(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	served := make(chan error, 1)
	go func() { served <- policyx.Main(newPolicyPack) }()
	announced := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		announced <- strings.TrimSpace(line)
	}()
	var port string
	select {
	case port = <-announced:
	case err := <-served:
		os.Stdout = stdout
		t.Fatalf("policyx.Main returned before serving: %v", err)
	case <-time.After(30 * time.Second):
		os.Stdout = stdout
		t.Fatal("policyx.Main announced no port")
	}
	os.Stdout = stdout
	require.NoError(t, w.Close())

	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func analyze(
	ctx context.Context, t *testing.T, client pulumirpc.AnalyzerClient, r pack.Resource,
) []*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	got, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
		Type: r.Type, Urn: r.URN, Name: r.Name, Properties: marshal(t, r.Properties), Provider: providerOf(t, r),
	})
	require.NoError(t, err)
	return got.GetDiagnostics()
}

// assertSameVerdicts checks that the offline Evaluate reaches the verdicts
// the server sent, message for message.
func assertSameVerdicts(t *testing.T, cfg pack.Config, resources []pack.Resource, diags []*pulumirpc.AnalyzeDiagnostic) {
	t.Helper()
	offline, err := pack.Evaluate(resources, cfg)
	require.NoError(t, err)
	var want, got []string
	for _, v := range offline {
		want = append(want, v.Policy+" "+v.EnforcementLevel+" "+v.URN+" "+v.Message)
	}
	for _, d := range diags {
		level := strings.ToLower(d.GetEnforcementLevel().String())
		// policyx puts the policy's description in front of the message.
		message := strings.TrimPrefix(d.GetMessage(), d.GetDescription()+"\n")
		got = append(got, d.GetPolicyName()+" "+level+" "+d.GetUrn()+" "+message)
	}
	slices.Sort(want)
	slices.Sort(got)
	assert.Equal(t, want, got)
}

func resourceOf(typ, name string, props map[string]property.Value) pack.Resource {
	props["tags"] = object(map[string]property.Value{
		"project": property.New("manga-assist-data"), "environment": property.New("dev"), "component": property.New("test"),
	})
	return pack.Resource{
		URN: "urn:pulumi:dev::manga-assist-data::" + typ + "::" + name, Type: typ, Name: name,
		Properties: property.NewMap(props),
	}
}

// settingsOf returns the compliant versioning, lifecycle, encryption,
// public-access-block and policy resources of bucket, linked to it through
// property dependencies only.
func settingsOf(bucket pack.Resource) []pack.Resource {
	setting := func(typ, suffix string, props map[string]property.Value) pack.Resource {
		props["bucket"] = property.New(property.Computed)
		r := resourceOf(typ, bucket.Name+"-"+suffix, props)
		r.PropertyDependencies = map[string][]string{"bucket": {bucket.URN}}
		r.Dependencies = []string{bucket.URN}
		return r
	}
	list := func(values ...property.Value) property.Value { return property.New(values) }
	return []pack.Resource{
		setting("aws:s3/bucketVersioningV2:BucketVersioningV2", "versioning", map[string]property.Value{
			"versioningConfiguration": object(map[string]property.Value{"status": property.New("Enabled")}),
		}),
		setting("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "lifecycle", map[string]property.Value{
			"rules": list(object(map[string]property.Value{
				"id": property.New("tiers"), "status": property.New("Enabled"),
				"abortIncompleteMultipartUpload": object(map[string]property.Value{"daysAfterInitiation": property.New(7.0)}),
				"noncurrentVersionExpiration":    object(map[string]property.Value{"noncurrentDays": property.New(30.0)}),
			})),
		}),
		setting("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "sse",
			map[string]property.Value{"rules": list(object(map[string]property.Value{
				"applyServerSideEncryptionByDefault": object(map[string]property.Value{"sseAlgorithm": property.New("aws:kms")}),
			}))}),
		setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "block", map[string]property.Value{
			"blockPublicAcls": property.New(true), "blockPublicPolicy": property.New(true),
			"ignorePublicAcls": property.New(true), "restrictPublicBuckets": property.New(true),
		}),
		setting("aws:s3/bucketPolicy:BucketPolicy", "policy", map[string]property.Value{
			"policy": property.New(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",` +
				`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`),
		}),
	}
}

func analyzerResources(t *testing.T, resources []pack.Resource) []*pulumirpc.AnalyzerResource {
	var out []*pulumirpc.AnalyzerResource
	for _, r := range resources {
		deps := map[string]*pulumirpc.AnalyzerPropertyDependencies{}
		for prop, urns := range r.PropertyDependencies {
			deps[prop] = &pulumirpc.AnalyzerPropertyDependencies{Urns: urns}
		}
		out = append(out, &pulumirpc.AnalyzerResource{
			Type: r.Type, Urn: r.URN, Name: r.Name, Properties: marshal(t, r.Properties),
			Dependencies: r.Dependencies, PropertyDependencies: deps, Provider: providerOf(t, r),
		})
	}
	return out
}

// providerOf is the resource's provider as the engine sends it, or nil.
func providerOf(t *testing.T, r pack.Resource) *pulumirpc.AnalyzerProviderResource {
	if r.Provider.Type == "" {
		return nil
	}
	return &pulumirpc.AnalyzerProviderResource{
		Type: r.Provider.Type, Urn: r.Provider.URN, Name: r.Provider.Name, Properties: marshal(t, r.Provider.Properties),
	}
}

// marshal encodes properties the way the engine sends them, unknowns included.
func marshal(t *testing.T, props property.Map) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.ToResourcePropertyMap(props), plugin.MarshalOptions{
		KeepUnknowns: true, KeepSecrets: true,
	})
	require.NoError(t, err)
	return s
}

func object(m map[string]property.Value) property.Value { return property.New(m) }

// urnOf is the URN of the resource called name.
func urnOf(resources []pack.Resource, name string) string {
	for _, r := range resources {
		if r.Name == name {
			return r.URN
		}
	}
	return ""
}
