package components

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	orchestrator "github.com/manga-assist/manga-assist-data/internal/backup"
	"github.com/manga-assist/manga-assist-data/internal/lambdabuild"
	"github.com/manga-assist/manga-assist-data/internal/schedule"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// BackupScheduleArgs configures a BackupSchedule. The table and the bucket
// are required; every other field has the default its comment gives.
type BackupScheduleArgs struct {
	// TableName, TableArn and TableKMSKeyArn are the table to back up and
	// the key it is encrypted with (an export reads the table with it).
	TableName, TableArn, TableKMSKeyArn pulumi.StringInput
	// Bucket receives the exports, SSE-KMS with its key.
	Bucket BucketRef
	// Prefix is where exports go in Bucket; objects land under
	// <Prefix><table name>/AWSDynamoDB/. Default "exports/", the prefix the
	// backup bucket's lifecycle tiers cover.
	Prefix string

	// Name prefixes physical names: <Name>-<part>-<stack>. Default "manga-assist".
	Name string

	// IncrementalSchedule runs the incremental export (EventBridge Scheduler
	// expression, UTC). Default "cron(0 2 * * ? *)".
	IncrementalSchedule string
	// FullSchedule runs the full export. Default "cron(0 3 ? * SUN *)".
	FullSchedule string
	// CatchUpSchedule runs the catch-up: reconcile, retry, close missed
	// days. Default "rate(1 hour)".
	CatchUpSchedule string

	// DailyRetentionDays keeps AWS Backup's daily recovery points, 1-36500. Default 35.
	DailyRetentionDays int
	// WeeklyRetentionDays keeps the weekly ones, at least DailyRetentionDays. Default 90.
	WeeklyRetentionDays int
	// DailyBackupSchedule and WeeklyBackupSchedule are the AWS Backup rules'
	// cron expressions. Defaults "cron(0 5 * * ? *)" and "cron(0 6 ? * SUN *)":
	// after the exports, and an hour apart so the two rules never start one
	// table's backup at the same time.
	DailyBackupSchedule, WeeklyBackupSchedule string
	// CopyToRegion copies every recovery point to a vault in that region
	// (with its own key) and keeps the copy as long as the original.
	// Default "": no copy.
	CopyToRegion string
	// VaultLock locks the vault. Default nil: no lock.
	VaultLock *VaultLock
	// ForceDestroy lets `pulumi destroy` delete the vault while it holds
	// recovery points. Default false.
	ForceDestroy bool

	// LogRetentionDays of the orchestrator's log group. Default 30.
	LogRetentionDays int
	// KMSKeyDeletionWindowDays of the keys the component creates, 7-30. Default 30.
	KMSKeyDeletionWindowDays int

	// Alarms of the component.
	Alarms BackupAlarms

	// Tags go on every resource, beside component=BackupSchedule.
	Tags map[string]string
}

// VaultLock is AWS Backup Vault Lock on the vault (AWS Backup Developer
// Guide, "AWS Backup Vault Lock"): recovery points cannot be deleted before
// MinRetentionDays, and backup jobs whose retention is outside
// [MinRetentionDays, MaxRetentionDays] fail.
type VaultLock struct {
	// MinRetentionDays. Default DailyRetentionDays.
	MinRetentionDays int
	// MaxRetentionDays. Default WeeklyRetentionDays.
	MaxRetentionDays int
	// ChangeableForDays, when set (at least 3), makes it a compliance-mode
	// lock that becomes immutable after that many days: not even the
	// account's root user can then remove it or shorten retention. Default 0:
	// governance mode, which users with permission can still remove.
	ChangeableForDays int
}

// BackupAlarms configures the component's alarms.
type BackupAlarms struct {
	// TopicArn receives every alarm. nil: no alarms are created (pass nil,
	// not an empty string, when a stack has alarms off).
	TopicArn pulumi.StringInput
	// WatermarkLagHours: alarm when the chain's end is this far behind.
	// Default 26: a daily export plus two hours.
	WatermarkLagHours int
}

// Defaults of BackupScheduleArgs.
const (
	DefaultExportPrefix         = "exports/"
	DefaultIncrementalSchedule  = "cron(0 2 * * ? *)"
	DefaultFullSchedule         = "cron(0 3 ? * SUN *)"
	DefaultCatchUpSchedule      = "rate(1 hour)"
	DefaultDailyRetentionDays   = 35
	DefaultWeeklyRetentionDays  = 90
	DefaultDailyBackupSchedule  = "cron(0 5 * * ? *)"
	DefaultWeeklyBackupSchedule = "cron(0 6 ? * SUN *)"
	DefaultWatermarkLagHours    = 26

	// orchestratorHandler is the directory under handlers/ the Lambda is built from.
	orchestratorHandler = "backuporchestrator"
	// Scheduler's retry policy (EventBridge Scheduler API Reference,
	// RetryPolicy: 0-185 attempts, 60-86400 s): a few retries within the
	// hour, as the hourly catch-up follows anyway. Its default (185 retries
	// over 24 hours) would pile up runs behind the reserved concurrency of 1.
	schedulerMaxRetries     = 3
	schedulerMaxEventAgeSec = 3600
	// dlqRetentionSeconds is SQS's longest message retention, 14 days.
	dlqRetentionSeconds = 1209600
)

var (
	// EventBridge Scheduler API Reference, CreateSchedule / CreateScheduleGroup:
	// Name 1-64, [0-9a-zA-Z-_.]+.
	schedulerNameRule = nameRule{"EventBridge schedule", 64, regexp.MustCompile(`^[0-9a-zA-Z._-]+$`),
		"letters, digits, dots, hyphens and underscores", "EventBridge Scheduler API Reference, CreateSchedule"}
	// AWS Backup API Reference, CreateBackupVault: BackupVaultName
	// ^[a-zA-Z0-9\-\_]{2,50}$ (plans and selections allow the same length).
	awsBackupNameRule = nameRule{"AWS Backup vault or plan", 50, regexp.MustCompile(`^[a-zA-Z0-9_-]{2,}$`),
		"letters, digits, hyphens and underscores", "AWS Backup API Reference, CreateBackupVault"}
	// SQS CreateQueue: QueueName up to 80 characters, alphanumerics, hyphens, underscores.
	dlqNameRule = nameRule{"SQS queue", 80, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
		"letters, digits, hyphens and underscores", "SQS API Reference, CreateQueue"}
)

// backupNames are the physical names the component builds, each with its rule.
var backupNames = []struct {
	what  string
	rule  nameRule
	build func(prefix, stack string) string
}{
	{"orchestrator function", lambdaNameRule, func(n, s string) string { return physicalName(n, "backup-orchestrator", s) }},
	{"schedule group", schedulerNameRule, func(n, s string) string { return physicalName(n, "backups", s) }},
	{"incremental schedule", schedulerNameRule, func(n, s string) string { return physicalName(n, "incremental-export", s) }},
	{"catch-up schedule", schedulerNameRule, func(n, s string) string { return physicalName(n, "export-catch-up", s) }},
	{"dead-letter queue", dlqNameRule, func(n, s string) string { return physicalName(n, "backup-dlq", s) }},
	{"backup vault", awsBackupNameRule, func(n, s string) string { return physicalName(n, "backups", s) }},
	{"backup plan", awsBackupNameRule, func(n, s string) string { return physicalName(n, "backup-plan", s) }},
	{"backup selection", awsBackupNameRule, func(n, s string) string { return physicalName(n, "sessions-table", s) }},
}

func (a BackupScheduleArgs) withDefaults(stack string) (BackupScheduleArgs, error) {
	if a.Name == "" {
		a.Name = DefaultPipelineName
	}
	if a.Prefix == "" {
		a.Prefix = DefaultExportPrefix
	}
	for _, d := range []struct {
		v   *string
		def string
	}{
		{&a.IncrementalSchedule, DefaultIncrementalSchedule}, {&a.FullSchedule, DefaultFullSchedule},
		{&a.CatchUpSchedule, DefaultCatchUpSchedule}, {&a.DailyBackupSchedule, DefaultDailyBackupSchedule},
		{&a.WeeklyBackupSchedule, DefaultWeeklyBackupSchedule},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	defaultInt(&a.DailyRetentionDays, DefaultDailyRetentionDays)
	defaultInt(&a.WeeklyRetentionDays, DefaultWeeklyRetentionDays)
	defaultInt(&a.LogRetentionDays, DefaultLogRetentionDays)
	defaultInt(&a.KMSKeyDeletionWindowDays, DefaultKMSKeyDeletionWindowDays)
	defaultInt(&a.Alarms.WatermarkLagHours, DefaultWatermarkLagHours)
	if a.VaultLock != nil {
		lock := *a.VaultLock
		defaultInt(&lock.MinRetentionDays, a.DailyRetentionDays)
		defaultInt(&lock.MaxRetentionDays, a.WeeklyRetentionDays)
		a.VaultLock = &lock
	}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	inRange := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			bad("%s %d: must be %d to %d", field, v, lo, hi)
		}
	}
	if a.TableName == nil || a.TableArn == nil || a.TableKMSKeyArn == nil {
		bad("TableName, TableArn, TableKMSKeyArn: required")
	}
	if a.Bucket.missing() {
		bad("Bucket: Name, Arn and KMSKeyArn are required")
	}
	if strings.HasPrefix(a.Prefix, "/") || !strings.HasSuffix(a.Prefix, "/") {
		bad("Prefix %q: must end with \"/\" and not start with one, e.g. \"exports/\"", a.Prefix)
	}
	for _, s := range []struct{ field, expr string }{
		{"IncrementalSchedule", a.IncrementalSchedule}, {"FullSchedule", a.FullSchedule}, {"CatchUpSchedule", a.CatchUpSchedule},
		{"DailyBackupSchedule", a.DailyBackupSchedule}, {"WeeklyBackupSchedule", a.WeeklyBackupSchedule},
	} {
		if err := schedule.Validate(s.expr); err != nil {
			bad("%s %q: %v", s.field, s.expr, err)
		}
	}
	for _, s := range []struct{ field, expr string }{{"DailyBackupSchedule", a.DailyBackupSchedule}, {"WeeklyBackupSchedule", a.WeeklyBackupSchedule}} {
		if !strings.HasPrefix(s.expr, "cron(") {
			bad("%s %q: AWS Backup rules take cron expressions only", s.field, s.expr)
		}
	}
	inRange("DailyRetentionDays", a.DailyRetentionDays, 1, 36500)
	inRange("WeeklyRetentionDays", a.WeeklyRetentionDays, 1, 36500)
	if a.WeeklyRetentionDays < a.DailyRetentionDays {
		bad("WeeklyRetentionDays %d: must be at least DailyRetentionDays (%d); a weekly point kept for less than a daily one adds nothing",
			a.WeeklyRetentionDays, a.DailyRetentionDays)
	}
	if a.CopyToRegion != "" && !stackconfig.IsRegion(a.CopyToRegion) {
		bad("CopyToRegion %q: unknown AWS region", a.CopyToRegion)
	}
	if lock := a.VaultLock; lock != nil {
		inRange("VaultLock.MinRetentionDays", lock.MinRetentionDays, 1, 36500)
		inRange("VaultLock.MaxRetentionDays", lock.MaxRetentionDays, 1, 36500)
		if lock.MinRetentionDays > a.DailyRetentionDays || lock.MaxRetentionDays < a.WeeklyRetentionDays {
			bad("VaultLock %d-%d days: must include the rules' retentions (%d and %d days), or the vault refuses their backup jobs",
				lock.MinRetentionDays, lock.MaxRetentionDays, a.DailyRetentionDays, a.WeeklyRetentionDays)
		}
		if lock.ChangeableForDays != 0 && lock.ChangeableForDays < 3 {
			bad("VaultLock.ChangeableForDays %d: must be 0 (governance mode) or at least 3 (compliance mode)", lock.ChangeableForDays)
		}
	}
	inRange("Alarms.WatermarkLagHours", a.Alarms.WatermarkLagHours, 25, 24*35)
	if !slices.Contains(cloudWatchLogRetentionDays, a.LogRetentionDays) {
		bad("LogRetentionDays %d: not a retention CloudWatch Logs accepts", a.LogRetentionDays)
	}
	if p := keyDeletionWindowProblem(a.KMSKeyDeletionWindowDays); p != "" {
		problems = append(problems, p)
	}
	for _, n := range backupNames {
		if p := n.rule.problem("Name: "+n.what, n.build(a.Name, stack), stack); p != "" {
			problems = append(problems, p)
		}
	}
	return a, argsError("BackupScheduleArgs", problems)
}

// cloudWatchLogRetentionDays are the retention periods CloudWatch Logs accepts
// (CloudWatch Logs API Reference, PutRetentionPolicy).
var cloudWatchLogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// BackupSchedule backs up one DynamoDB table twice over: a gap-free chain of
// exports to S3 (a full export, then incremental exports), run by an
// orchestrator Lambda on EventBridge Scheduler schedules; and AWS Backup
// recovery points in a vault of its own, daily and weekly, copied to another
// region when asked. Alarms watch both.
type BackupSchedule struct {
	pulumi.ResourceState

	// TableArn is the table backed up.
	TableArn pulumi.StringOutput `pulumi:"tableArn"`
	// OrchestratorFunctionName is the export orchestrator; invoke it with
	// {"trigger":"catch-up"} to run it by hand.
	OrchestratorFunctionName pulumi.StringOutput `pulumi:"orchestratorFunctionName"`
	// StateParameterName holds the chain's state (JSON).
	StateParameterName pulumi.StringOutput `pulumi:"stateParameterName"`
	// ExportLocation is s3://<bucket>/<prefix><table>/: every export's files.
	ExportLocation pulumi.StringOutput `pulumi:"exportLocation"`
	// DeadLetterQueueArn receives schedule deliveries and orchestrator runs that failed.
	DeadLetterQueueArn pulumi.StringOutput `pulumi:"deadLetterQueueArn"`
	// VaultName and VaultArn are the AWS Backup vault.
	VaultName pulumi.StringOutput `pulumi:"vaultName"`
	VaultArn  pulumi.StringOutput `pulumi:"vaultArn"`
	// CopyVaultArn is the vault in CopyToRegion; empty without a copy.
	CopyVaultArn pulumi.StringOutput `pulumi:"copyVaultArn"`
	// PlanArn is the AWS Backup plan.
	PlanArn pulumi.StringOutput `pulumi:"planArn"`
}

// backupSchedule holds what the steps of NewBackupSchedule hand each other.
type backupSchedule struct {
	ctx       *pulumi.Context
	name      string
	a         BackupScheduleArgs
	parent    pulumi.ResourceOrInvokeOption
	tags      pulumi.StringMap
	account   pulumi.StringOutput
	partition pulumi.StringOutput
	region    pulumi.StringOutput
	key       *kms.Key
}

// NewBackupSchedule builds the orchestrator's code and creates the backups.
func NewBackupSchedule(ctx *pulumi.Context, name string, args *BackupScheduleArgs, opts ...pulumi.ResourceOption) (*BackupSchedule, error) {
	if args == nil {
		args = &BackupScheduleArgs{}
	}
	a, err := args.withDefaults(ctx.Stack())
	if err != nil {
		return nil, err
	}
	code, err := lambdabuild.Build(context.Background(), orchestratorHandler, lambdabuild.Options{})
	if err != nil {
		return nil, fmt.Errorf("BackupSchedule %s: %w", name, err)
	}
	c := &BackupSchedule{}
	if err := ctx.RegisterComponentResource(typeToken("BackupSchedule"), name, c, opts...); err != nil {
		return nil, err
	}
	b := &backupSchedule{ctx: ctx, name: name, a: a, parent: pulumi.Parent(c), tags: tagsFor("BackupSchedule", a.Tags)}
	identity := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, b.parent)
	b.account = identity.AccountId()
	b.partition = identity.Arn().ApplyT(func(arn string) string { return strings.Split(arn, ":")[1] }).(pulumi.StringOutput)
	b.region = aws.GetRegionOutput(ctx, aws.GetRegionOutputArgs{}, b.parent).Name()

	// One key for the vault, the dead-letter queue and the orchestrator's
	// log group. The vault and the queue are used through IAM (AWS Backup's
	// service role, the roles that send dead letters), which the key
	// policy's first statement leaves to the account's IAM, as the default
	// key policy does (SQS Developer Guide, "Key management": producers of
	// an encrypted queue need kms:GenerateDataKey and kms:Decrypt). CloudWatch
	// Logs uses the key itself, so the policy names it (backupKeyPolicy).
	b.key, err = newKey(ctx, name, keyArgs{
		alias:              fmt.Sprintf("%s/%s/backups", ctx.Project(), ctx.Stack()),
		description:        "Encrypts the AWS Backup vault of the sessions table, the backup schedules' dead-letter queue and the orchestrator's logs",
		deletionWindowDays: a.KMSKeyDeletionWindowDays,
		policy: pulumi.All(b.partition, b.account, b.region).ApplyT(func(v []any) (string, error) {
			return backupKeyPolicy(v[0].(string), v[1].(string), v[2].(string), orchestratorLogGroup(b.physical("backup-orchestrator")))
		}).(pulumi.StringOutput),
		tags: b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}

	dlq, err := sqs.NewQueue(ctx, name+"-dlq", &sqs.QueueArgs{
		Name:                    pulumi.String(b.physical("backup-dlq")),
		KmsMasterKeyId:          b.key.Arn,
		MessageRetentionSeconds: pulumi.Int(dlqRetentionSeconds),
		Tags:                    b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}
	state, err := ssm.NewParameter(ctx, name+"-state", &ssm.ParameterArgs{
		Name:        pulumi.String(fmt.Sprintf("/%s/%s/backup-orchestrator/state", a.Name, ctx.Stack())),
		Description: pulumi.String("State of the export chain (watermark, base export, exports in flight); written by the backup orchestrator"),
		Type:        pulumi.String("String"),
		Tier:        pulumi.String("Standard"),
		// Not a secret: export ARNs and times. The orchestrator owns the
		// value after creation.
		InsecureValue: pulumi.String("{}"),
		Tags:          b.tags,
	}, b.parent, pulumi.IgnoreChanges([]string{"insecureValue", "value"}))
	if err != nil {
		return nil, err
	}

	fn, err := b.orchestrator(code, dlq, state)
	if err != nil {
		return nil, err
	}
	if err := b.schedules(fn, dlq); err != nil {
		return nil, err
	}
	vault, copyVaultArn, plan, err := b.awsBackup()
	if err != nil {
		return nil, err
	}
	if err := b.alarms(fn, dlq, vault); err != nil {
		return nil, err
	}

	c.TableArn = a.TableArn.ToStringOutput()
	c.OrchestratorFunctionName = fn.Name
	c.StateParameterName = state.Name
	c.ExportLocation = pulumi.Sprintf("s3://%s/%s%s/", a.Bucket.Name, a.Prefix, a.TableName)
	c.DeadLetterQueueArn = dlq.Arn
	c.VaultName = vault.Name
	c.VaultArn = vault.Arn
	c.CopyVaultArn = copyVaultArn
	c.PlanArn = plan.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"tableArn":                 c.TableArn,
		"orchestratorFunctionName": c.OrchestratorFunctionName,
		"stateParameterName":       c.StateParameterName,
		"exportLocation":           c.ExportLocation,
		"deadLetterQueueArn":       c.DeadLetterQueueArn,
		"vaultName":                c.VaultName,
		"vaultArn":                 c.VaultArn,
		"copyVaultArn":             c.CopyVaultArn,
		"planArn":                  c.PlanArn,
	})
}

func (b *backupSchedule) physical(part string) string {
	return physicalName(b.a.Name, part, b.ctx.Stack())
}

// orchestratorLogGroup is the log group of the orchestrator function, the
// one Lambda writes to by default.
func orchestratorLogGroup(functionName string) string { return "/aws/lambda/" + functionName }

// backupKeyPolicy lets the account's IAM govern the key, as the default key
// policy does, and lets CloudWatch Logs encrypt the orchestrator's log group
// with it, and no other (CloudWatch Logs User Guide, "Encrypt log data in
// CloudWatch Logs using AWS KMS": the regional service principal
// logs.<region>.amazonaws.com, limited by the encryption context's log-group
// ARN; as pipelineKeyPolicy in analytics_pipeline.go, narrowed to one group).
func backupKeyPolicy(partition, account, region, logGroup string) (string, error) {
	return policyDocument(accountKeyAdmin(partition, account), logsMayEncrypt(partition, account, region, logGroup))
}

// role is an IAM role that only service, acting for this account, may assume.
func (b *backupSchedule) role(name, service string) (*iam.Role, error) {
	return iam.NewRole(b.ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: b.account.ApplyT(func(account string) (string, error) {
			return assumeRolePolicy(service, account)
		}).(pulumi.StringOutput),
		Tags: b.tags,
	}, b.parent)
}

// orchestrator is the export orchestrator: its log group, least-privilege
// role, the function (reserved concurrency 1, so two runs never race on the
// state) and where its failed asynchronous runs go.
func (b *backupSchedule) orchestrator(code lambdabuild.Artifact, dlq *sqs.Queue, state *ssm.Parameter) (*lambda.Function, error) {
	ctx, a, name := b.ctx, b.a, b.name
	functionName := b.physical("backup-orchestrator")
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-orchestrator", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(orchestratorLogGroup(functionName)),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		// The component's key, whose policy lets CloudWatch Logs use it for
		// this group (backupKeyPolicy). The function writes through
		// CloudWatch Logs and needs no permission on the key.
		KmsKeyId: b.key.Arn,
		Tags:     b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}
	role, err := b.role(name+"-orchestrator", "lambda.amazonaws.com")
	if err != nil {
		return nil, err
	}
	policy := pulumi.All(a.TableArn, a.TableName, a.TableKMSKeyArn, a.Bucket.Arn, a.Bucket.KMSKeyArn, state.Arn, dlq.Arn,
		b.key.Arn, logs.Arn).ApplyT(func(v []any) (string, error) {
		s := make([]string, len(v))
		for i := range v {
			s[i] = v[i].(string)
		}
		return orchestratorPolicy(s[0], s[1], s[2], s[3], s[4], a.Prefix, s[5], s[6], s[7], s[8])
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-orchestrator", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, b.parent)
	if err != nil {
		return nil, err
	}
	fn, err := lambda.NewFunction(ctx, name+"-orchestrator", &lambda.FunctionArgs{
		Name:           pulumi.String(functionName),
		Description:    pulumi.String("Keeps the gap-free chain of DynamoDB exports of the sessions table in S3"),
		Runtime:        pulumi.String(string(lambda.RuntimeCustomAL2023)),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           code.Archive(),
		SourceCodeHash: pulumi.String(code.SourceCodeHash),
		Role:           role.Arn,
		MemorySize:     pulumi.Int(256),
		Timeout:        pulumi.Int(300),
		// One run at a time: the state parameter has a single writer.
		ReservedConcurrentExecutions: pulumi.Int(1),
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			"TABLE_ARN":           a.TableArn,
			"EXPORT_BUCKET":       a.Bucket.Name,
			"EXPORT_BUCKET_OWNER": b.account,
			"EXPORT_PREFIX":       pulumi.String(a.Prefix),
			"EXPORT_KMS_KEY_ARN":  a.Bucket.KMSKeyArn,
			"STATE_PARAMETER":     state.Name,
		}},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Tags:          b.tags,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, err
	}
	// Scheduler invokes the function asynchronously (Lambda Developer Guide,
	// "Invoke a Lambda function on a schedule"), so a run that fails never
	// reaches the schedule's dead-letter queue: Lambda's own on-failure
	// destination sends it there, after one retry.
	if _, err := lambda.NewFunctionEventInvokeConfig(ctx, name+"-orchestrator", &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             fn.Name,
		MaximumRetryAttempts:     pulumi.Int(1),
		MaximumEventAgeInSeconds: pulumi.Int(schedulerMaxEventAgeSec),
		DestinationConfig: &lambda.FunctionEventInvokeConfigDestinationConfigArgs{
			OnFailure: &lambda.FunctionEventInvokeConfigDestinationConfigOnFailureArgs{Destination: dlq.Arn},
		},
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy})); err != nil {
		return nil, err
	}
	return fn, nil
}

// orchestratorPolicy is the orchestrator's least privilege.
func orchestratorPolicy(tableArn, tableName, tableKey, bucketArn, bucketKey, prefix, stateArn, dlqArn, dlqKey, logGroup string) (string, error) {
	return policyDocument(
		// DynamoDB Developer Guide, "Requesting a table export":
		// dynamodb:ExportTableToPointInTime on the table.
		policyStatement{Sid: "ExportTable", Effect: "Allow",
			Action: []string{"dynamodb:ExportTableToPointInTime", "dynamodb:DescribeContinuousBackups"}, Resource: tableArn},
		policyStatement{Sid: "DescribeExports", Effect: "Allow", Action: "dynamodb:DescribeExport", Resource: tableArn + "/export/*"},
		// Service Authorization Reference, Amazon DynamoDB: ListExports
		// takes an optional table resource; the orchestrator always names
		// the table (ListExportsInput.TableArn), so it is granted on the
		// table alone.
		policyStatement{Sid: "ListExports", Effect: "Allow", Action: "dynamodb:ListExports", Resource: tableArn},
		// The export writes with the requester's permissions: the same guide
		// lists s3:AbortMultipartUpload, s3:PutObject and s3:PutObjectAcl,
		// here only under this table's prefix.
		policyStatement{Sid: "WriteExports", Effect: "Allow",
			Action:   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"},
			Resource: bucketArn + "/" + prefix + tableName + "/*"},
		// SSE-KMS multipart uploads need kms:GenerateDataKey and kms:Decrypt
		// on the bucket's key (S3 User Guide, "Uploading and copying objects
		// using multipart upload": permissions).
		policyStatement{Sid: "EncryptExports", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: bucketKey},
		// "If the table is encrypted with a customer managed key, the key's
		// permission is given through the role that requests the export"
		// (DynamoDB Developer Guide, "Requesting a table export").
		policyStatement{Sid: "ReadTableKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:DescribeKey"}, Resource: tableKey},
		policyStatement{Sid: "State", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:PutParameter"}, Resource: stateArn},
		// Lambda's on-failure destination sends with the execution role.
		policyStatement{Sid: "DeadLetters", Effect: "Allow", Action: "sqs:SendMessage", Resource: dlqArn},
		policyStatement{Sid: "EncryptDeadLetters", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: dlqKey},
		policyStatement{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: logGroup + ":*"},
	)
}

// orchestratorEvent is the event a schedule sends: the trigger and its
// scheduled time, a context attribute Scheduler fills in (EventBridge
// Scheduler User Guide, "Adding context attributes").
func orchestratorEvent(trigger string) string {
	b, _ := json.Marshal(map[string]string{"trigger": trigger, "scheduledTime": "<aws.scheduler.scheduled-time>"})
	return string(b)
}

// schedules are the incremental, full and catch-up schedules, in a group of
// their own, with the execution role that invokes the orchestrator and sends
// what it could not deliver to the dead-letter queue.
func (b *backupSchedule) schedules(fn *lambda.Function, dlq *sqs.Queue) error {
	ctx, a, name := b.ctx, b.a, b.name
	role, err := b.role(name+"-scheduler", "scheduler.amazonaws.com")
	if err != nil {
		return err
	}
	policy := pulumi.All(fn.Arn, dlq.Arn, b.key.Arn).ApplyT(func(v []any) (string, error) {
		return policyDocument(
			// EventBridge Scheduler User Guide, "Using templated targets":
			// Lambda Invoke needs lambda:InvokeFunction on the function.
			policyStatement{Sid: "InvokeOrchestrator", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: v[0].(string)},
			// EventBridge Scheduler User Guide, "Configuring a dead-letter
			// queue": the execution role sends the dead-letter events, so it
			// needs sqs:SendMessage, and for an SSE-KMS queue the producer
			// permissions on its key (SQS Developer Guide, "Key management").
			policyStatement{Sid: "DeadLetters", Effect: "Allow", Action: "sqs:SendMessage", Resource: v[1].(string)},
			policyStatement{Sid: "EncryptDeadLetters", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: v[2].(string)},
		)
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-scheduler", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, b.parent)
	if err != nil {
		return err
	}
	group, err := scheduler.NewScheduleGroup(ctx, name, &scheduler.ScheduleGroupArgs{
		Name: pulumi.String(b.physical("backups")),
		Tags: b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	for _, s := range []struct{ part, trigger, expr, what string }{
		{"incremental-export", orchestrator.TriggerIncremental, a.IncrementalSchedule, "Incremental export of the sessions table"},
		{"full-export", orchestrator.TriggerFull, a.FullSchedule, "Full export of the sessions table (a restore point)"},
		{"export-catch-up", orchestrator.TriggerCatchUp, a.CatchUpSchedule, "Reconciles exports in flight, retries failed windows, catches up missed days"},
	} {
		if _, err := scheduler.NewSchedule(ctx, name+"-"+s.part, &scheduler.ScheduleArgs{
			Name:                       pulumi.String(b.physical(s.part)),
			GroupName:                  group.Name,
			Description:                pulumi.String(s.what),
			ScheduleExpression:         pulumi.String(s.expr),
			ScheduleExpressionTimezone: pulumi.String("UTC"),
			// Runs at the stated time: window ends and the daily lag alarm assume it.
			FlexibleTimeWindow: &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			State:              pulumi.String("ENABLED"),
			Target: &scheduler.ScheduleTargetArgs{
				Arn:     fn.Arn,
				RoleArn: role.Arn,
				Input:   pulumi.String(orchestratorEvent(s.trigger)),
				RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
					MaximumRetryAttempts:     pulumi.Int(schedulerMaxRetries),
					MaximumEventAgeInSeconds: pulumi.Int(schedulerMaxEventAgeSec),
				},
				DeadLetterConfig: &scheduler.ScheduleTargetDeadLetterConfigArgs{Arn: dlq.Arn},
			},
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy})); err != nil {
			return err
		}
	}
	return nil
}

// awsBackup is the vault (our key), its optional lock, the plan with a
// daily and a weekly rule (and a copy to CopyToRegion), and the selection of
// the table, with AWS Backup's service role.
func (b *backupSchedule) awsBackup() (*backup.Vault, pulumi.StringOutput, *backup.Plan, error) {
	ctx, a, name := b.ctx, b.a, b.name
	none := pulumi.String("").ToStringOutput()
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		Name:         pulumi.String(b.physical("backups")),
		KmsKeyArn:    b.key.Arn,
		ForceDestroy: pulumi.Bool(a.ForceDestroy),
		Tags:         b.tags,
	}, b.parent)
	if err != nil {
		return nil, none, nil, err
	}
	// The lock, when asked for, goes on both vaults: a copy that can be
	// deleted early protects nothing the original's lock does.
	lockVault := func(lockName string, v *backup.Vault, opts ...pulumi.ResourceOption) error {
		lock := a.VaultLock
		if lock == nil {
			return nil
		}
		var changeable pulumi.IntPtrInput // omitted: governance mode
		if lock.ChangeableForDays > 0 {
			changeable = pulumi.Int(lock.ChangeableForDays)
		}
		_, err := backup.NewVaultLockConfiguration(ctx, lockName, &backup.VaultLockConfigurationArgs{
			BackupVaultName:   v.Name,
			MinRetentionDays:  pulumi.Int(lock.MinRetentionDays),
			MaxRetentionDays:  pulumi.Int(lock.MaxRetentionDays),
			ChangeableForDays: changeable,
		}, append([]pulumi.ResourceOption{b.parent}, opts...)...)
		return err
	}
	if err := lockVault(name, vault); err != nil {
		return nil, none, nil, err
	}

	copyVaultArn := none
	var copyTo func(days int) backup.PlanRuleCopyActionArray
	if a.CopyToRegion != "" {
		// A copy needs a vault in the destination region, encrypted with a
		// key there (AWS Backup Developer Guide, "Creating backup copies
		// across AWS Regions": the copy is re-encrypted with the destination
		// vault's key), so both are created through a provider for that
		// region, a child of this component.
		provider, err := aws.NewProvider(ctx, name+"-"+a.CopyToRegion, &aws.ProviderArgs{Region: pulumi.String(a.CopyToRegion)}, b.parent)
		if err != nil {
			return nil, none, nil, err
		}
		inRegion := pulumi.Provider(provider)
		key, err := newKey(ctx, name+"-"+a.CopyToRegion, keyArgs{
			alias:              fmt.Sprintf("%s/%s/backups", ctx.Project(), ctx.Stack()),
			description:        "Encrypts the copies of the sessions table's AWS Backup recovery points",
			deletionWindowDays: a.KMSKeyDeletionWindowDays,
			tags:               b.tags,
		}, pulumi.Composite(b.parent, inRegion))
		if err != nil {
			return nil, none, nil, err
		}
		copyVault, err := backup.NewVault(ctx, name+"-"+a.CopyToRegion, &backup.VaultArgs{
			Name:         pulumi.String(b.physical("backups")),
			KmsKeyArn:    key.Arn,
			ForceDestroy: pulumi.Bool(a.ForceDestroy),
			Tags:         b.tags,
		}, b.parent, inRegion)
		if err != nil {
			return nil, none, nil, err
		}
		if err := lockVault(name+"-"+a.CopyToRegion, copyVault, inRegion); err != nil {
			return nil, none, nil, err
		}
		copyVaultArn = copyVault.Arn
		copyTo = func(days int) backup.PlanRuleCopyActionArray {
			return backup.PlanRuleCopyActionArray{&backup.PlanRuleCopyActionArgs{
				DestinationVaultArn: copyVaultArn,
				// Always explicit: a copy action without a lifecycle is kept
				// for ever (terraform-provider-aws#37862).
				Lifecycle: &backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(days)},
			}}
		}
	}
	rule := func(ruleName, schedule string, days int) *backup.PlanRuleArgs {
		r := &backup.PlanRuleArgs{
			RuleName:        pulumi.String(ruleName),
			TargetVaultName: vault.Name,
			Schedule:        pulumi.String(schedule),
			// AWS Backup's smallest start window is 60 minutes; DynamoDB
			// backups take minutes, eight hours is plenty to finish.
			StartWindow:      pulumi.Int(60),
			CompletionWindow: pulumi.Int(480),
			Lifecycle:        &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(days)},
		}
		if copyTo != nil {
			r.CopyActions = copyTo(days)
		}
		return r
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{
		Name: pulumi.String(b.physical("backup-plan")),
		Rules: backup.PlanRuleArray{
			rule("daily", a.DailyBackupSchedule, a.DailyRetentionDays),
			rule("weekly", a.WeeklyBackupSchedule, a.WeeklyRetentionDays),
		},
		Tags: b.tags,
	}, b.parent)
	if err != nil {
		return nil, none, nil, err
	}

	// AWS Backup Developer Guide, "Advanced DynamoDB backup": with a custom
	// role, attach AWSBackupServiceRolePolicyForBackup (which also covers
	// copies); backups created by a plan opt the account in to the advanced
	// features that cross-region copy needs.
	role, err := b.role(name+"-backup", "backup.amazonaws.com")
	if err != nil {
		return nil, none, nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-backup", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup", b.partition),
	}, b.parent)
	if err != nil {
		return nil, none, nil, err
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(b.physical("sessions-table")),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  pulumi.StringArray{a.TableArn},
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{attachment})); err != nil {
		return nil, none, nil, err
	}
	return vault, copyVaultArn, plan, nil
}

// alarms watch the chain (lag, failed exports, rebases, the age of the
// newest full export), the deliveries (dead letters, orchestrator errors)
// and AWS Backup's jobs. No topic, no alarms.
func (b *backupSchedule) alarms(fn *lambda.Function, dlq *sqs.Queue, vault *backup.Vault) error {
	ctx, a, name := b.ctx, b.a, b.name
	if a.Alarms.TopicArn == nil {
		return nil
	}
	actions := pulumi.Array{a.Alarms.TopicArn}
	table := pulumi.StringMap{orchestrator.TableDimension: a.TableName}
	overdue := orchestrator.DefaultFullMaxAge.Seconds() + 24*3600
	single := []struct {
		suffix, description, namespace, metric, statistic, missing string
		dimensions                                                 pulumi.StringMapInput
		threshold                                                  float64
		period, periods                                            int
	}{
		// Missing data breaches: an orchestrator that stopped running sends
		// no lag at all.
		{"watermark-lag", fmt.Sprintf("The export chain is more than %d hours behind: exports are failing or not running", a.Alarms.WatermarkLagHours),
			orchestrator.Namespace, orchestrator.MetricWatermarkLag, "Maximum", "breaching", table, float64(a.Alarms.WatermarkLagHours * 3600), 3600, 2},
		{"export-failed", "A table export FAILED; the orchestrator starts the same window again (see its log for the failure code)",
			orchestrator.Namespace, orchestrator.MetricExportsFailed, "Sum", "notBreaching", table, 0, 3600, 1},
		{"chain-rebased", "PITR gap: the export chain could not go on and was rebased on a new full export",
			orchestrator.Namespace, orchestrator.MetricChainRebased, "Sum", "notBreaching", table, 0, 3600, 1},
		{"restore-point-age", "The newest full export is older than the backup bucket's lifecycle allows for",
			orchestrator.Namespace, orchestrator.MetricFullExportAge, "Maximum", "notBreaching", table, overdue, 3600, 2},
		{"backup-dlq", "A schedule could not invoke the orchestrator, or a run failed: messages wait in the dead-letter queue",
			"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "notBreaching", pulumi.StringMap{"QueueName": dlq.Name}, 0, 300, 1},
		{"orchestrator-errors", "The backup orchestrator failed (a configuration error: see its log)",
			"AWS/Lambda", "Errors", "Sum", "notBreaching", pulumi.StringMap{"FunctionName": fn.Name}, 0, 3600, 1},
	}
	for _, al := range single {
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.suffix, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(b.physical(al.suffix)),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dimensions,
			Statistic:          pulumi.String(al.statistic),
			Period:             pulumi.Int(al.period),
			EvaluationPeriods:  pulumi.Int(al.periods),
			DatapointsToAlarm:  pulumi.Int(al.periods),
			Threshold:          pulumi.Float64(al.threshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			TreatMissingData:   pulumi.String(al.missing),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               b.tags,
		}, b.parent); err != nil {
			return err
		}
	}

	// AWS Backup's job metrics carry the dimensions "Resource type" and
	// "Backup vault" (AWS Backup Developer Guide, "Monitoring AWS Backup
	// metrics with CloudWatch"); the guide does not say which combinations
	// it publishes, so the alarm reads the vault's series with and without
	// the resource type, for backup and copy jobs, and fires on any.
	metric := func(id, metricName string, dims pulumi.StringMap) *cloudwatch.MetricAlarmMetricQueryArgs {
		return &cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(id), ReturnData: pulumi.Bool(false),
			Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{Namespace: pulumi.String("AWS/Backup"),
				MetricName: pulumi.String(metricName), Dimensions: dims, Period: pulumi.Int(3600), Stat: pulumi.String("Sum")}}
	}
	byVault := pulumi.StringMap{"BackupVaultName": vault.Name}
	byVaultAndType := pulumi.StringMap{"BackupVaultName": vault.Name, "ResourceType": pulumi.String("DynamoDB")}
	_, err := cloudwatch.NewMetricAlarm(ctx, name+"-backup-job-failed", &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(b.physical("backup-job-failed")),
		AlarmDescription:   pulumi.String("An AWS Backup backup or copy job of the sessions table failed (see the AWS Backup console, Jobs)"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(1),
		DatapointsToAlarm:  pulumi.Int(1),
		TreatMissingData:   pulumi.String("notBreaching"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			metric("backups", "NumberOfBackupJobsFailed", byVault),
			metric("dynamodbbackups", "NumberOfBackupJobsFailed", byVaultAndType),
			metric("copies", "NumberOfCopyJobsFailed", byVault),
			metric("dynamodbcopies", "NumberOfCopyJobsFailed", byVaultAndType),
			&cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("failed"), ReturnData: pulumi.Bool(true),
				Label:      pulumi.String("failed AWS Backup jobs"),
				Expression: pulumi.String("FILL(backups,0)+FILL(dynamodbbackups,0)+FILL(copies,0)+FILL(dynamodbcopies,0)")},
		},
		AlarmActions: actions,
		OkActions:    actions,
		Tags:         b.tags,
	}, b.parent)
	return err
}
