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
	_, err = client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: config})
	require.NoError(t, err)
	cfg := pack.DefaultConfig()
	cfg.MaxRetryAttempts = 2

	t.Run("Analyze", func(t *testing.T) {
		table := resourceOf("aws:dynamodb/table:Table", "sessions", map[string]property.Value{
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
		assertSameVerdicts(t, cfg, []pack.Resource{table}, analyze(ctx, t, client, table))
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
		Type: r.Type, Urn: r.URN, Name: r.Name, Properties: marshal(t, r.Properties),
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
			"policy": property.New(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",` +
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
			Dependencies: r.Dependencies, PropertyDependencies: deps,
		})
	}
	return out
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
