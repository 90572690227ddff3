package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/athena"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sfn"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
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
	// prod passes every policy, advisory ones too: its log groups keep a
	// year and are encrypted (log-group-retention), and both its vaults are
	// locked (backup-vault-immutable).
	_, prod, _ := previewMutated(t, program.Run, "prod")
	got := map[string]bool{}
	for _, v := range prod {
		got[v.Policy+" "+v.URN[strings.LastIndex(v.URN, "::")+2:]+": "+v.Message[:strings.Index(v.Message, " ")]] = true
	}
	assert.Empty(t, got, "prod has no advisory verdict either (a year of logs, both vaults locked)")
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

		// Issue 14: the new mandatory policies, and the checks that were too lax.
		"a key that never rotates": {mutated(onType("aws:kms/key:Key", func(p pulumi.Input) {
			p.(*kms.KeyArgs).EnableKeyRotation = pulumi.Bool(false)
		}), nil), []string{"kms-key-hygiene"}},
		"decrypt with every key": {mutated(onType("aws:iam/rolePolicy:RolePolicy", func(p pulumi.Input) {
			p.(*iam.RolePolicyArgs).Policy = pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
		}), nil), []string{"iam-no-kms-decrypt-all", "iam-no-wildcard-actions"}},
		"an AWS managed admin policy attached": {mutated(onType("aws:iam/rolePolicyAttachment:RolePolicyAttachment", func(p pulumi.Input) {
			p.(*iam.RolePolicyAttachmentArgs).PolicyArn = pulumi.String("arn:aws:iam::aws:policy/AdministratorAccess")
		}), nil), []string{"iam-no-wildcard-actions"}},
		"a schedule without its dead-letter queue": {mutated(onType("aws:scheduler/schedule:Schedule", func(p pulumi.Input) {
			p.(*scheduler.ScheduleArgs).Target.(*scheduler.ScheduleTargetArgs).DeadLetterConfig = nil
		}), nil), []string{"scheduler-target-safety"}},
		"an alarm that tells nobody": {mutated(onType("aws:cloudwatch/metricAlarm:MetricAlarm", func(p pulumi.Input) {
			p.(*cloudwatch.MetricAlarmArgs).AlarmActions = nil
		}), nil), []string{"cloudwatch-alarm-actions"}},
		"a workgroup clients may override": {mutated(onType("aws:athena/workgroup:Workgroup", func(p pulumi.Input) {
			p.(*athena.WorkgroupArgs).Configuration.(*athena.WorkgroupConfigurationArgs).EnforceWorkgroupConfiguration = pulumi.Bool(false)
		}), nil), []string{"athena-workgroup-guardrails"}},
		"a replica without its own key": {mutated(onType("aws:dynamodb/tableReplica:TableReplica", func(p pulumi.Input) {
			p.(*dynamodb.TableReplicaArgs).KmsKeyArn = nil
		}), nil), []string{"dynamodb-replica-encryption"}},
		"Parquet with the default buffer size": {mutated(onType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", func(p pulumi.Input) {
			p.(*kinesis.FirehoseDeliveryStreamArgs).ExtendedS3Configuration.(*kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs).BufferingSize = nil
		}), nil), []string{"firehose-buffer-size-minimum"}},
		"a TLS deny narrowed to reads": {mutated(onType("aws:s3/bucketPolicy:BucketPolicy", func(p pulumi.Input) {
			p.(*s3.BucketPolicyArgs).Policy = pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",` +
				`"Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		}), nil), []string{"s3-bucket-tls-only"}},
		"a queue with no dead-letter queue": {mutated(nil, func(ctx *pulumi.Context) error {
			_, err := sqs.NewQueue(ctx, "stray", &sqs.QueueArgs{SqsManagedSseEnabled: pulumi.Bool(true)})
			return err
		}), []string{"sqs-queue-dlq"}},
		"a state machine that logs nothing": {mutated(nil, func(ctx *pulumi.Context) error {
			_, err := sfn.NewStateMachine(ctx, "stray", &sfn.StateMachineArgs{
				RoleArn:    pulumi.String("arn:aws:iam::123456789012:role/stray"),
				Definition: pulumi.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`),
			})
			return err
		}), []string{"sfn-logging"}},
		"daily backups kept a week": {mutated(onType("aws:backup/plan:Plan", func(p pulumi.Input) {
			for _, r := range p.(*backup.PlanArgs).Rules.(backup.PlanRuleArray) {
				r.(*backup.PlanRuleArgs).Lifecycle = &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(7)}
			}
		}), nil), []string{"backup-plan-retention"}},
		"backup rules that only run weekly": {mutated(onType("aws:backup/plan:Plan", func(p pulumi.Input) {
			for _, r := range p.(*backup.PlanArgs).Rules.(backup.PlanRuleArray) {
				r.(*backup.PlanRuleArgs).Schedule = pulumi.String("cron(0 6 ? * SUN *)")
			}
		}), nil), []string{"backup-plan-retention"}},
		"vaults with the AWS managed key": {mutated(onType("aws:backup/vault:Vault", func(p pulumi.Input) {
			p.(*backup.VaultArgs).KmsKeyArn = nil
		}), nil), []string{"backup-vault-customer-key", "backup-plan-vault-customer-key"}},
		"a table in a selection of another stack's plan": {mutated(nil, func(ctx *pulumi.Context) error {
			table, err := dynamodb.NewTable(ctx, "stray", &dynamodb.TableArgs{
				Name: pulumi.String("stray"), BillingMode: pulumi.String("PAY_PER_REQUEST"), HashKey: pulumi.String("pk"),
				Attributes: dynamodb.TableAttributeArray{&dynamodb.TableAttributeArgs{Name: pulumi.String("pk"), Type: pulumi.String("S")}},
			})
			if err != nil {
				return err
			}
			_, err = backup.NewSelection(ctx, "stray", &backup.SelectionArgs{
				PlanId: pulumi.String("0b1d3c4f-plan-of-another-stack"), IamRoleArn: pulumi.String("arn:aws:iam::123456789012:role/backup"),
				Resources: pulumi.StringArray{table.Arn},
			})
			return err
		}), []string{"dynamodb-table-backup-coverage"}},
		"ListExports on every table": {mutated(onType("aws:iam/rolePolicy:RolePolicy", func(p pulumi.Input) {
			p.(*iam.RolePolicyArgs).Policy = pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:ListExports","Resource":"*"}]}`)
		}), nil), []string{"iam-no-wildcard-actions"}},
		"a function anyone may invoke": {mutated(nil, func(ctx *pulumi.Context) error {
			_, err := lambda.NewPermission(ctx, "public", &lambda.PermissionArgs{
				Function: pulumi.String("manga-assist-stream-router-prod"), Action: pulumi.String("lambda:InvokeFunction"),
				Principal: pulumi.String("*"),
			})
			return err
		}), []string{"resource-policy-no-public-access"}},
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

// Issue 14, weakness 10: tags the AWS provider adds (its defaultTags) count
// offline as they do in the engine, which hands every resource policy its
// provider: the default provider, configured by the stack's aws:defaultTags,
// and an explicit one.
func TestProviderDefaultTagsCountOffline(t *testing.T) {
	const tags = `{"tags":{"project":"manga-assist-data","environment":"dev","component":"test"}}`
	parameter := func(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
		_, err := ssm.NewParameter(ctx, "untagged", &ssm.ParameterArgs{Type: pulumi.String("String"), Value: pulumi.String("x")}, opts...)
		return err
	}
	requiredTags := func(result preview.Result) []preview.Violation {
		var out []preview.Violation
		for _, v := range result.Violations {
			if v.Policy == "required-tags" {
				out = append(out, v)
			}
		}
		return out
	}

	bare, err := preview.Run(func(ctx *pulumi.Context) error { return parameter(ctx) },
		"manga-assist-data", "dev", "us-east-1", map[string]string{"aws:region": "us-east-1"})
	require.NoError(t, err)
	require.Len(t, requiredTags(bare), 1, "without default tags the parameter lacks them")

	byConfig, err := preview.Run(func(ctx *pulumi.Context) error { return parameter(ctx) },
		"manga-assist-data", "dev", "us-east-1", map[string]string{"aws:region": "us-east-1", "aws:defaultTags": tags})
	require.NoError(t, err)
	assert.Empty(t, requiredTags(byConfig), "the default provider's defaultTags (stack config) count")

	explicit, err := preview.Run(func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "tagging", &aws.ProviderArgs{
			Region: pulumi.String("us-east-1"),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{
				"project": pulumi.String("manga-assist-data"), "environment": pulumi.String("dev"), "component": pulumi.String("test"),
			}},
		})
		if err != nil {
			return err
		}
		return parameter(ctx, pulumi.Provider(p))
	}, "manga-assist-data", "dev", "us-east-1", map[string]string{"aws:region": "us-east-1"})
	require.NoError(t, err)
	assert.Empty(t, requiredTags(explicit), "an explicit provider's defaultTags count")
}

// dev's keys wait 7 days before deletion (kmsKeyDeletionWindowDays: 7) where
// kms-key-hygiene asks for 30, and dev keeps its AWS Backup recovery points
// 7 days (backupRetentionDays: 7) where backup-plan-retention asks for 35.
// policy/config/dev.json relaxes both for dev alone, and the offline preview
// reads it as `pulumi preview --policy-pack-config policy/config/dev.json` does.
func TestDevPolicyConfig(t *testing.T) {
	code, violations, errOut := previewMutated(t, program.Run, "dev")
	assert.Equal(t, 0, code, errOut)
	assert.Empty(t, mandatoryPolicies(violations))

	sc, err := preview.LoadStackConfig(projectDir, "dev")
	require.NoError(t, err)
	defaults, err := preview.Run(program.Run, sc.Project, "dev", "us-east-1", sc.Values)
	require.NoError(t, err)
	byPolicy := map[string][]string{}
	for _, v := range defaults.Mandatory() {
		switch v.Policy {
		case "kms-key-hygiene":
			assert.Contains(t, v.Message, "deletionWindowInDays is 7, below the minimum of 30")
		case "backup-plan-retention":
			assert.Regexp(t, `\("(daily|weekly)"\): lifecycle.deleteAfter is (7|14) days, below the minimum of 35`, v.Message)
		default:
			t.Errorf("%s: %s", v.Policy, v.Message)
		}
		byPolicy[v.Policy] = append(byPolicy[v.Policy], v.URN)
	}
	assert.NotEmpty(t, byPolicy["kms-key-hygiene"], "without dev.json, dev's 7-day keys fail kms-key-hygiene")
	assert.NotEmpty(t, byPolicy["backup-plan-retention"], "without dev.json, dev's 7-day backups fail backup-plan-retention")

	code, _, errOut = previewMutated(t, mutated(onType("aws:kms/key:Key", func(p pulumi.Input) {
		p.(*kms.KeyArgs).DeletionWindowInDays = pulumi.Int(6)
	}), nil), "dev")
	assert.Equal(t, 1, code, "dev.json lowers the minimum to 7, not further")
	assert.Contains(t, errOut, "kms-key-hygiene")

	code, _, errOut = previewMutated(t, mutated(onType("aws:backup/plan:Plan", func(p pulumi.Input) {
		for _, r := range p.(*backup.PlanArgs).Rules.(backup.PlanRuleArray) {
			r.(*backup.PlanRuleArgs).Lifecycle = &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(6)}
		}
	}), nil), "dev")
	assert.Equal(t, 1, code, "dev.json lowers the backup retention minimum to 7, not further")
	assert.Contains(t, errOut, "backup-plan-retention")
}
