package components_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/backup"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

const (
	scheduleType = "manga-assist:data:BackupSchedule"
	sessionsArn  = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions"
	tableKeyArn  = "arn:aws:kms:us-east-1:123456789012:key/table"
)

func scheduleArgs() components.BackupScheduleArgs {
	return components.BackupScheduleArgs{
		TableName:      pulumi.String("sessions"),
		TableArn:       pulumi.String(sessionsArn),
		TableKMSKeyArn: pulumi.String(tableKeyArn),
		Bucket:         bucketRef("backups"),
		Alarms:         components.BackupAlarms{TopicArn: pulumi.String("arn:aws:sns:us-east-1:123456789012:alarms")},
		Tags:           map[string]string{"environment": "unit"},
	}
}

// backups runs the component and returns the whole result and its
// resources by "<type> <name>".
func backups(t *testing.T, args components.BackupScheduleArgs) (preview.Result, map[string]preview.Resource) {
	t.Helper()
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewBackupSchedule(ctx, "backups", &args)
		return err
	})
	require.Len(t, result.Find(scheduleType), 1)
	out := map[string]preview.Resource{}
	for _, r := range result.Resources {
		if r.Parent == result.Find(scheduleType)[0].URN {
			out[r.Type+" "+r.Name] = r
		}
	}
	return result, out
}

func backupsErr(args components.BackupScheduleArgs) error {
	_, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewBackupSchedule(ctx, "backups", &args)
		return err
	}, "test", "unit", "us-east-1", nil)
	return err
}

func TestBackupScheduleOrchestrator(t *testing.T) {
	_, kids := backups(t, scheduleArgs())

	fn := get(t, kids, "aws:lambda/function:Function", "backups-orchestrator")
	assert.Equal(t, "manga-assist-backup-orchestrator-unit", fn["name"])
	assert.Equal(t, []any{"arm64"}, fn["architectures"])
	assert.Equal(t, "provided.al2023", fn["runtime"])
	assert.Equal(t, 1.0, fn["reservedConcurrentExecutions"], "two runs never race on the state")
	assert.Regexp(t, `^archive [0-9a-f]{64}\.zip$`, fn["code"], "built from handlers/backuporchestrator")
	assert.Equal(t, map[string]any{
		"TABLE_ARN": sessionsArn, "EXPORT_BUCKET": "backups", "EXPORT_BUCKET_OWNER": "123456789012", "EXPORT_PREFIX": "exports/",
		"EXPORT_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/backups",
		"STATE_PARAMETER":    "/manga-assist/unit/backup-orchestrator/state",
	}, fn["environment"].(map[string]any)["variables"])
	assert.Equal(t, map[string]any{"logFormat": "JSON", "logGroup": "/aws/lambda/manga-assist-backup-orchestrator-unit"}, fn["loggingConfig"])
	logs := get(t, kids, "aws:cloudwatch/logGroup:LogGroup", "backups-orchestrator")
	assert.Equal(t, 30.0, logs["retentionInDays"])

	state := kids["aws:ssm/parameter:Parameter backups-state"]
	assert.Equal(t, "{}", state.Inputs["insecureValue"], "the orchestrator reads {} as the state before its first run")
	assert.Equal(t, "String", state.Inputs["type"])
	assert.ElementsMatch(t, []string{"insecureValue", "value"}, state.IgnoreChanges, "the orchestrator owns the value")

	// Least privilege: this table, its exports, this prefix, the two keys, the state, the DLQ, its logs.
	policy := statements(t, get(t, kids, "aws:iam/rolePolicy:RolePolicy", "backups-orchestrator")["policy"])
	assert.Equal(t, sessionsArn, policy["ExportTable"]["Resource"])
	assert.ElementsMatch(t, []any{"dynamodb:ExportTableToPointInTime", "dynamodb:DescribeContinuousBackups"}, policy["ExportTable"]["Action"])
	assert.Equal(t, sessionsArn+"/export/*", policy["DescribeExports"]["Resource"])
	assert.Equal(t, "arn:aws:s3:::backups/exports/sessions/*", policy["WriteExports"]["Resource"], "only under <prefix><table>/")
	assert.ElementsMatch(t, []any{"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}, policy["WriteExports"]["Action"])
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/backups", policy["EncryptExports"]["Resource"])
	assert.Equal(t, tableKeyArn, policy["ReadTableKey"]["Resource"])
	assert.Equal(t, "arn:aws:ssm:us-east-1:123456789012:/manga-assist/unit/backup-orchestrator/state", policy["State"]["Resource"])
	assert.Equal(t, "arn:aws:sqs:us-east-1:123456789012:manga-assist-backup-dlq-unit", policy["DeadLetters"]["Resource"])
	for sid, s := range policy {
		if sid != "ListExports" {
			assert.NotEqual(t, "*", s["Resource"], "%s must name its resources", sid)
		}
	}
	trust := statements(t, get(t, kids, "aws:iam/role:Role", "backups-orchestrator")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "lambda.amazonaws.com"}, trust["0"]["Principal"])

	// A failed run (Scheduler invokes asynchronously) ends in the DLQ too.
	invoke := get(t, kids, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "backups-orchestrator")
	assert.Equal(t, "arn:aws:sqs:us-east-1:123456789012:manga-assist-backup-dlq-unit",
		invoke["destinationConfig"].(map[string]any)["onFailure"].(map[string]any)["destination"])
	dlq := get(t, kids, "aws:sqs/queue:Queue", "backups-dlq")
	assert.Regexp(t, `^arn:aws:kms:us-east-1:123456789012:key/`, dlq["kmsMasterKeyId"])
}

func TestBackupScheduleSchedules(t *testing.T) {
	args := scheduleArgs()
	args.IncrementalSchedule = "cron(30 1 * * ? *)"
	_, kids := backups(t, args)

	want := map[string]struct{ expr, trigger string }{
		"backups-incremental-export": {"cron(30 1 * * ? *)", backup.TriggerIncremental},
		"backups-full-export":        {"cron(0 3 ? * SUN *)", backup.TriggerFull},
		"backups-export-catch-up":    {"rate(1 hour)", backup.TriggerCatchUp},
	}
	for name, w := range want {
		s := get(t, kids, "aws:scheduler/schedule:Schedule", name)
		assert.Equal(t, w.expr, s["scheduleExpression"], name)
		assert.Equal(t, "UTC", s["scheduleExpressionTimezone"])
		assert.Equal(t, "manga-assist-backups-unit", s["groupName"])
		assert.Equal(t, map[string]any{"mode": "OFF"}, s["flexibleTimeWindow"], "runs at the stated time")
		target := s["target"].(map[string]any)
		assert.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:manga-assist-backup-orchestrator-unit", target["arn"])
		assert.Equal(t, map[string]any{"maximumRetryAttempts": 3.0, "maximumEventAgeInSeconds": 3600.0}, target["retryPolicy"])
		assert.Equal(t, map[string]any{"arn": "arn:aws:sqs:us-east-1:123456789012:manga-assist-backup-dlq-unit"}, target["deadLetterConfig"])
		var input backup.Event
		require.NoError(t, json.Unmarshal([]byte(target["input"].(string)), &input))
		assert.Equal(t, w.trigger, input.Trigger)
		assert.Equal(t, "<aws.scheduler.scheduled-time>", input.ScheduledTime)
	}

	trust := statements(t, get(t, kids, "aws:iam/role:Role", "backups-scheduler")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "scheduler.amazonaws.com"}, trust["0"]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, trust["0"]["Condition"])
	policy := statements(t, get(t, kids, "aws:iam/rolePolicy:RolePolicy", "backups-scheduler")["policy"])
	assert.Equal(t, "lambda:InvokeFunction", policy["InvokeOrchestrator"]["Action"])
	assert.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:manga-assist-backup-orchestrator-unit", policy["InvokeOrchestrator"]["Resource"])
	assert.Equal(t, "sqs:SendMessage", policy["DeadLetters"]["Action"])
	assert.ElementsMatch(t, []any{"kms:GenerateDataKey", "kms:Decrypt"}, policy["EncryptDeadLetters"]["Action"], "the DLQ is SSE-KMS")
}

func TestBackupScheduleAWSBackup(t *testing.T) {
	args := scheduleArgs()
	args.DailyRetentionDays, args.WeeklyRetentionDays = 35, 60
	result, kids := backups(t, args)

	vault := get(t, kids, "aws:backup/vault:Vault", "backups")
	key := kids["aws:kms/key:Key backups-key"]
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/"+key.ID, vault["kmsKeyArn"], "the vault is encrypted with the component's key")
	assert.Equal(t, true, key.Inputs["enableKeyRotation"])

	plan := get(t, kids, "aws:backup/plan:Plan", "backups")
	rules := map[string]map[string]any{}
	for _, r := range plan["rules"].([]any) {
		rules[r.(map[string]any)["ruleName"].(string)] = r.(map[string]any)
	}
	assert.Equal(t, "cron(0 5 * * ? *)", rules["daily"]["schedule"])
	assert.Equal(t, map[string]any{"deleteAfter": 35.0}, rules["daily"]["lifecycle"])
	assert.Equal(t, "cron(0 6 ? * SUN *)", rules["weekly"]["schedule"])
	assert.Equal(t, map[string]any{"deleteAfter": 60.0}, rules["weekly"]["lifecycle"])
	assert.Equal(t, "manga-assist-backups-unit", rules["daily"]["targetVaultName"])
	assert.Nil(t, rules["daily"]["copyActions"], "no copy without CopyToRegion")
	assert.Empty(t, result.Find("aws:backup/vaultLockConfiguration:VaultLockConfiguration"), "no lock by default")
	assert.Empty(t, result.Find("pulumi:providers:aws"))

	selection := get(t, kids, "aws:backup/selection:Selection", "backups")
	assert.Equal(t, []any{sessionsArn}, selection["resources"])
	trust := statements(t, get(t, kids, "aws:iam/role:Role", "backups-backup")["assumeRolePolicy"])
	assert.Equal(t, map[string]any{"Service": "backup.amazonaws.com"}, trust["0"]["Principal"])
	attachment := get(t, kids, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "backups-backup")
	assert.Equal(t, "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup", attachment["policyArn"])
	assert.Empty(t, result.Mandatory(), "the component meets every mandatory policy alone: %v", result.Mandatory())
}

func TestBackupScheduleCopiesToAnotherRegion(t *testing.T) {
	args := scheduleArgs()
	args.CopyToRegion = "us-west-2"
	result, kids := backups(t, args)

	require.Len(t, result.Find("pulumi:providers:aws"), 1)
	assert.Equal(t, "us-west-2", result.Find("pulumi:providers:aws")[0].Inputs["region"])
	copyVault := kids["aws:backup/vault:Vault backups-us-west-2"]
	assert.Equal(t, "us-west-2", regionOf(t, result, copyVault), "the copy's vault is in the copy region")
	copyKey := kids["aws:kms/key:Key backups-us-west-2-key"]
	assert.Equal(t, "us-west-2", regionOf(t, result, copyKey))
	assert.Regexp(t, `^arn:aws:kms:us-west-2:`, copyVault.Inputs["kmsKeyArn"])

	plan := get(t, kids, "aws:backup/plan:Plan", "backups")
	assert.Contains(t, kids["aws:backup/plan:Plan backups"].PropertyDependencies["rules"], copyVault.URN)
	for _, r := range plan["rules"].([]any) {
		rule := r.(map[string]any)
		copies := rule["copyActions"].([]any)
		require.Len(t, copies, 1, rule["ruleName"])
		c := copies[0].(map[string]any)
		assert.Regexp(t, `^arn:aws:backup:us-west-2:123456789012:.*manga-assist-backups-unit$`, c["destinationVaultArn"], "the copy region's vault")
		assert.Equal(t, rule["lifecycle"], c["lifecycle"], "the copy is kept as long as the original, explicitly")
	}
}

func TestBackupScheduleVaultLock(t *testing.T) {
	args := scheduleArgs()
	args.VaultLock = &components.VaultLock{}
	result, _ := backups(t, args)
	lock := one(t, result, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").Inputs
	assert.Equal(t, 35.0, lock["minRetentionDays"], "defaults to the daily retention")
	assert.Equal(t, 90.0, lock["maxRetentionDays"], "defaults to the weekly retention")
	assert.NotContains(t, lock, "changeableForDays", "governance mode unless asked")

	args.VaultLock = &components.VaultLock{ChangeableForDays: 3}
	result, _ = backups(t, args)
	assert.Equal(t, 3.0, one(t, result, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").Inputs["changeableForDays"])
}

func TestBackupScheduleAlarms(t *testing.T) {
	_, kids := backups(t, scheduleArgs())
	alarms := map[string]map[string]any{}
	for _, r := range kids {
		if r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" {
			alarms[strings.TrimPrefix(r.Name, "backups-")] = r.Inputs
			assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:alarms"}, r.Inputs["alarmActions"], r.Name)
		}
	}
	assert.Len(t, alarms, 7)
	lag := alarms["watermark-lag"]
	assert.Equal(t, backup.Namespace, lag["namespace"])
	assert.Equal(t, backup.MetricWatermarkLag, lag["metricName"])
	assert.Equal(t, 26.0*3600, lag["threshold"], "26 hours by default")
	assert.Equal(t, "breaching", lag["treatMissingData"], "an orchestrator that stopped sends nothing")
	assert.Equal(t, map[string]any{backup.TableDimension: "sessions"}, lag["dimensions"])
	assert.Equal(t, backup.MetricExportsFailed, alarms["export-failed"]["metricName"])
	assert.Equal(t, backup.MetricChainRebased, alarms["chain-rebased"]["metricName"])
	assert.Equal(t, backup.MetricFullExportAge, alarms["restore-point-age"]["metricName"])
	assert.Equal(t, "ApproximateNumberOfMessagesVisible", alarms["backup-dlq"]["metricName"])
	assert.Equal(t, map[string]any{"QueueName": "manga-assist-backup-dlq-unit"}, alarms["backup-dlq"]["dimensions"])
	assert.Equal(t, map[string]any{"FunctionName": "manga-assist-backup-orchestrator-unit"}, alarms["orchestrator-errors"]["dimensions"])
	var metrics []string
	for _, q := range alarms["backup-job-failed"]["metricQueries"].([]any) {
		if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
			metrics = append(metrics, m["metricName"].(string))
			assert.Equal(t, "manga-assist-backups-unit", m["dimensions"].(map[string]any)["BackupVaultName"])
		}
	}
	assert.ElementsMatch(t, []string{"NumberOfBackupJobsFailed", "NumberOfBackupJobsFailed", "NumberOfCopyJobsFailed", "NumberOfCopyJobsFailed"}, metrics)

	args := scheduleArgs()
	args.Alarms = components.BackupAlarms{}
	_, kids = backups(t, args)
	for key := range kids {
		assert.NotContains(t, key, "metricAlarm", "no topic, no alarms")
	}
}

func TestBackupScheduleRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*components.BackupScheduleArgs)
		want   string
	}{
		"no table":         {func(a *components.BackupScheduleArgs) { a.TableArn = nil }, "BackupScheduleArgs.TableName, TableArn, TableKMSKeyArn: required"},
		"no bucket":        {func(a *components.BackupScheduleArgs) { a.Bucket = components.BucketRef{} }, "BackupScheduleArgs.Bucket: Name, Arn and KMSKeyArn are required"},
		"prefix":           {func(a *components.BackupScheduleArgs) { a.Prefix = "exports" }, `BackupScheduleArgs.Prefix "exports": must end with "/"`},
		"schedule":         {func(a *components.BackupScheduleArgs) { a.FullSchedule = "cron(0 3 * * SUN *)" }, `BackupScheduleArgs.FullSchedule "cron(0 3 * * SUN *)"`},
		"backup rate":      {func(a *components.BackupScheduleArgs) { a.DailyBackupSchedule = "rate(1 day)" }, `BackupScheduleArgs.DailyBackupSchedule "rate(1 day)": AWS Backup rules take cron expressions only`},
		"retention":        {func(a *components.BackupScheduleArgs) { a.DailyRetentionDays = 40000 }, "BackupScheduleArgs.DailyRetentionDays 40000: must be 1 to 36500"},
		"weekly < daily":   {func(a *components.BackupScheduleArgs) { a.WeeklyRetentionDays = 10 }, "BackupScheduleArgs.WeeklyRetentionDays 10: must be at least DailyRetentionDays (35)"},
		"region":           {func(a *components.BackupScheduleArgs) { a.CopyToRegion = "us-west-9" }, `BackupScheduleArgs.CopyToRegion "us-west-9": unknown AWS region`},
		"lock range":       {func(a *components.BackupScheduleArgs) { a.VaultLock = &components.VaultLock{MinRetentionDays: 60} }, "BackupScheduleArgs.VaultLock 60-90 days: must include the rules' retentions (35 and 90 days)"},
		"lock compliance":  {func(a *components.BackupScheduleArgs) { a.VaultLock = &components.VaultLock{ChangeableForDays: 1} }, "BackupScheduleArgs.VaultLock.ChangeableForDays 1"},
		"lag":              {func(a *components.BackupScheduleArgs) { a.Alarms.WatermarkLagHours = 20 }, "BackupScheduleArgs.Alarms.WatermarkLagHours 20: must be 25 to 840"},
		"log retention":    {func(a *components.BackupScheduleArgs) { a.LogRetentionDays = 10 }, "BackupScheduleArgs.LogRetentionDays 10"},
		"key window":       {func(a *components.BackupScheduleArgs) { a.KMSKeyDeletionWindowDays = 3 }, "BackupScheduleArgs.KMSKeyDeletionWindowDays 3: must be 7 to 30"},
		"name too long":    {func(a *components.BackupScheduleArgs) { a.Name = "a-much-too-long-prefix-for-the-backup-schedule" }, `backup vault "a-much-too-long-prefix-for-the-backup-schedule-backups-unit" (stack "unit") is 59 characters`},
		"name odd charset": {func(a *components.BackupScheduleArgs) { a.Name = "manga.assist" }, "a Lambda function name may hold only"},
	} {
		t.Run(name, func(t *testing.T) {
			args := scheduleArgs()
			c.change(&args)
			require.ErrorContains(t, backupsErr(args), c.want)
		})
	}
}
