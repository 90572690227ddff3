package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
)

// mutated is the real program with a change applied to what it creates,
// the way a careless edit would change it.
func mutated(transform pulumi.ResourceTransformation, extra func(*pulumi.Context) error) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if transform != nil {
			if err := ctx.RegisterStackTransformation(transform); err != nil {
				return err
			}
		}
		if err := program.Run(ctx); err != nil {
			return err
		}
		if extra != nil {
			return extra(ctx)
		}
		return nil
	}
}

// onType applies change to the props of every resource of type typ.
func onType(typ string, change func(props pulumi.Input)) pulumi.ResourceTransformation {
	return func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		if args.Type != typ {
			return nil
		}
		change(args.Props)
		return &pulumi.ResourceTransformationResult{Props: args.Props, Opts: args.Opts}
	}
}

type verdict struct{ Policy, URN, EnforcementLevel, Message string }

func previewMutated(t *testing.T, prog pulumi.RunFunc, stack string) (int, []verdict, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runProgram(prog, []string{"-dir", projectDir, "-stack", stack, "-json"}, &out, &errOut)
	var doc struct{ Violations []verdict }
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errOut.String())
	return code, doc.Violations, errOut.String()
}

func mandatoryPolicies(vs []verdict) map[string]bool {
	out := map[string]bool{}
	for _, v := range vs {
		if v.EnforcementLevel == "mandatory" {
			out[v.Policy] = true
		}
	}
	return out
}

func TestUnchangedProgramHasNoMandatoryViolation(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		code, violations, errOut := previewMutated(t, program.Run, stack)
		assert.Equal(t, 0, code, errOut)
		assert.Empty(t, mandatoryPolicies(violations), stack)
	}
	_, prod, _ := previewMutated(t, program.Run, "prod")
	assert.Empty(t, prod, "prod passes every policy, advisory ones too")
}

func TestMutationsAreCaughtByName(t *testing.T) {
	cases := map[string]struct {
		prog     pulumi.RunFunc
		policies []string
	}{
		"PITR switched off": {mutated(onType("aws:dynamodb/table:Table", func(p pulumi.Input) {
			p.(*dynamodb.TableArgs).PointInTimeRecovery = &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(false)}
		}), nil), []string{"dynamodb-point-in-time-recovery"}},
		"a replica with PITR off": {mutated(onType("aws:dynamodb/tableReplica:TableReplica", func(p pulumi.Input) {
			p.(*dynamodb.TableReplicaArgs).PointInTimeRecovery = pulumi.Bool(false)
		}), nil), []string{"dynamodb-point-in-time-recovery"}},
		"versioning suspended": {mutated(onType("aws:s3/bucketVersioningV2:BucketVersioningV2", func(p pulumi.Input) {
			p.(*s3.BucketVersioningV2Args).VersioningConfiguration = &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Suspended")}
		}), nil), []string{"s3-bucket-versioning"}},
		"a bare bucket: no lifecycle, no versioning, nothing": {mutated(nil, func(ctx *pulumi.Context) error {
			_, err := s3.NewBucketV2(ctx, "stray", &s3.BucketV2Args{})
			return err
		}), []string{"s3-bucket-lifecycle", "s3-bucket-versioning", "s3-bucket-encryption", "s3-bucket-public-access-block", "s3-bucket-tls-only"}},
		"a wildcard IAM action": {mutated(onType("aws:iam/rolePolicy:RolePolicy", func(p pulumi.Input) {
			p.(*iam.RolePolicyArgs).Policy = pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
		}), nil), []string{"iam-no-wildcard-actions"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, violations, errOut := previewMutated(t, c.prog, "prod")
			assert.Equal(t, 1, code, "a mandatory violation fails the preview")
			for _, policy := range c.policies {
				assert.True(t, mandatoryPolicies(violations)[policy], "want %s among %v", policy, mandatoryPolicies(violations))
				assert.Contains(t, errOut, policy, "stderr names the policy")
			}
		})
	}
}

func TestAlarmEmailStaysSecret(t *testing.T) {
	result, err := preview.Run(program.Run, "manga-assist-data", "prod", "us-east-1", map[string]string{
		"aws:region":                      "us-east-1",
		"manga-assist-data:alarmEmail":    "oncall@example.com",
		"manga-assist-data:tableName":     "sessions-secret-test",
		"manga-assist-data:alarmsEnabled": "true",
	}, "manga-assist-data:alarmEmail")
	require.NoError(t, err)
	subs := result.Find("aws:sns/topicSubscription:TopicSubscription")
	require.Len(t, subs, 1)
	assert.Equal(t, "[secret]", subs[0].Inputs["endpoint"])
	doc, err := json.Marshal(result)
	require.NoError(t, err)
	assert.NotContains(t, string(doc), "oncall@example.com", "the address appears nowhere in the preview")
}

// A secret setting given in plain text is refused, as the Pulumi CLI refuses
// one that Pulumi.yaml declares secret, and the value is not printed.
func TestPlainTextAlarmEmailIsRefused(t *testing.T) {
	_, err := preview.Run(program.Run, "manga-assist-data", "prod", "us-east-1", map[string]string{
		"aws:region":                   "us-east-1",
		"manga-assist-data:alarmEmail": "oncall@example.com",
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "manga-assist-data:alarmEmail")
	assert.Contains(t, err.Error(), "pulumi config set --secret alarmEmail")
	assert.NotContains(t, err.Error(), "oncall@example.com")
}
