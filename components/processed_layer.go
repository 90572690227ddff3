package components

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/lifecycle"
	"github.com/manga-assist/manga-assist-data/internal/schedule"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// ProcessedLayerArgs configures a ProcessedLayer. The catalog objects, the
// analysts' workgroup and the two buckets come from an AnalyticsPipeline and
// the stack's buckets and are required; every other field has the default
// its comment gives.
type ProcessedLayerArgs struct {
	// DatabaseName and RawTableName are the pipeline's Glue database and raw
	// events table (AnalyticsPipeline.GlueDatabaseName, .GlueTableName).
	DatabaseName, RawTableName pulumi.StringInput
	// Workgroup is the analysts' workgroup (AnalyticsPipeline.WorkgroupName):
	// the processed named queries and the QuickSight data source use it. The
	// workflow runs in a workgroup of its own (see ScanLimitBytes).
	Workgroup pulumi.StringInput
	// DataBucket holds raw/ (read) and processed/ (the Iceberg table).
	DataBucket BucketRef
	// QueryResultsBucket receives the workflow's query results under
	// athena/processing/.
	QueryResultsBucket BucketRef
	// AlarmTopicArn receives the workflow's alarms (AnalyticsPipeline.
	// AlarmTopicArn); nil: no alarms.
	AlarmTopicArn pulumi.StringInput

	// Name prefixes physical names: <Name>-<part>-<stack>. Default "manga-assist".
	Name string
	// LookbackDays is the window of the daily run: the whole UTC days before
	// the run's own day that it copies from raw/. Default 7. Never more than
	// RetentionDays.
	LookbackDays int
	// WideLookbackDays is the window of the weekly run, which catches events
	// that arrive later than LookbackDays. Default 35. Never more than
	// RetentionDays.
	WideLookbackDays int
	// RetentionDays is how long events stay in the processed table, by
	// DELETE and VACUUM (not S3 lifecycle). Default 2555 (7 years); the
	// program passes analyticsRetentionDays.
	RetentionDays int
	// DailySchedule runs the daily window (EventBridge Scheduler
	// expression, UTC). Default cron(30 1 ? * MON-SAT *): every day but
	// Sunday, when WideSchedule runs instead, so that two runs never write
	// the table at once.
	DailySchedule string
	// WideSchedule runs the wide window. Default cron(30 1 ? * SUN *).
	WideSchedule string
	// ScanLimitBytes cancels a workflow query that scans more: the wide run
	// reads WideLookbackDays of raw/, more than an analyst's query is allowed
	// (athenaScanLimitGB), hence a workgroup of its own. Default 1 TiB.
	ScanLimitBytes int
	// LogRetentionDays of the workflow's and the OpenSearch pipeline's log
	// groups. Default 30. Both are encrypted with a key of the layer's own
	// (logsKeyPolicy).
	LogRetentionDays int
	// ForceDestroy lets `pulumi destroy` delete the workflow's workgroup
	// with its query history. Default false.
	ForceDestroy bool

	// QuickSight is the optional dashboard sink; nil: off.
	QuickSight *QuickSightSink
	// OpenSearch is the optional search sink; nil: off.
	OpenSearch *OpenSearchSink

	// Tags go on every resource, beside component=ProcessedLayer.
	Tags map[string]string
}

// QuickSightSink is an Athena data source on the analysts' workgroup and a
// direct-query data set over the processed table. pulumi-aws v6 cannot
// define a dashboard's contents; docs/components/processed-layer.md says how
// to build one on the data set.
type QuickSightSink struct {
	// PrincipalArn is the QuickSight user or group
	// (arn:aws:quicksight:<identity region>:<account>:user|group/<namespace>/<name>)
	// that owns the data source and the data set. Required.
	PrincipalArn string
}

// OpenSearchSink is an OpenSearch Serverless time-series collection fed by
// an OpenSearch Ingestion pipeline that reads the events stream, splits each
// Kinesis record into its events (one per line) and indexes them. Minimum
// cost, around the clock: the collection's OCUs (1, or 2 with
// StandbyReplicas) plus the pipeline's PipelineMinUnits (1), at $0.24 per
// OCU-hour each (docs/components/processed-layer.md).
type OpenSearchSink struct {
	// ReaderArn is the IAM role or user the data-access policy lets read the
	// collection's indexes (dashboards, queries). Required.
	ReaderArn string
	// EventStreamArn and EventStreamKMSKeyArn are the pipeline's Kinesis
	// stream and its key (AnalyticsPipeline.EventStreamArn,
	// .EventStreamKMSKeyArn). Required.
	EventStreamArn, EventStreamKMSKeyArn pulumi.StringInput
	// StandbyReplicas keeps a standby copy in another Availability Zone,
	// which doubles the collection's minimum capacity: 2 OCUs instead of 1.
	// Default false.
	StandbyReplicas bool
	// RetentionDays: indexes are deleted after this many days (the
	// collection's lifecycle policy), 1-3650. Default 30.
	RetentionDays int
	// CollectionName of the collection and its policies, 3-32 lower-case
	// letters, digits and hyphens. Default <Name>-<stack>.
	CollectionName string
	// PipelineMinUnits and PipelineMaxUnits bound the ingestion pipeline's
	// capacity in Ingestion OCUs (1 to 96 for a pipeline without stateful
	// processors: OpenSearch Service Developer Guide, "Scaling pipelines in
	// Amazon OpenSearch Ingestion"). The minimum runs, and is billed, all the
	// time. Defaults 1 and 4.
	PipelineMinUnits, PipelineMaxUnits int
}

// Defaults of ProcessedLayerArgs.
const (
	DefaultLookbackDays           = 7
	DefaultWideLookbackDays       = 35
	DefaultProcessedRetentionDays = 2555
	DefaultDailySchedule          = "cron(30 1 ? * MON-SAT *)"
	DefaultWideSchedule           = "cron(30 1 ? * SUN *)"
	DefaultProcessingScanLimit    = 1 << 40
	DefaultOpenSearchRetention    = 30
	DefaultPipelineMinUnits       = 1
	DefaultPipelineMaxUnits       = 4
	// maxPipelineUnits is the most Ingestion OCUs a pipeline without stateful
	// processors may have (OpenSearch Service Developer Guide, "Scaling
	// pipelines in Amazon OpenSearch Ingestion").
	maxPipelineUnits = 96

	// ProcessedTableName is the Iceberg table the workflow creates and fills.
	ProcessedTableName = "manga_assist_events_processed"
	// ProcessedPrefix is where the table lives in the data bucket. No
	// lifecycle tier may touch it (internal/lifecycle.AnalyticsTiers).
	ProcessedPrefix = lifecycle.IcebergPrefix
)

// More of AWS's name rules (see naming.go).
var (
	// Step Functions CreateStateMachine: 1-80 characters; with CloudWatch
	// Logs on, only 0-9, A-Z, a-z, - and _.
	stateMachineNameRule = nameRule{"Step Functions state machine", 80, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
		"letters, digits, hyphens and underscores", "Step Functions API Reference, CreateStateMachine"}
	// EventBridge Scheduler CreateScheduleGroup: Name 1-64, [0-9a-zA-Z-_.]+.
	scheduleGroupNameRule = nameRule{"EventBridge Scheduler schedule group", 64, regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`),
		"letters, digits, dots, hyphens and underscores", "EventBridge Scheduler API Reference, CreateScheduleGroup"}
	// SQS CreateQueue: up to 80 alphanumeric characters, hyphens and underscores.
	queueNameRule = nameRule{"SQS queue", 80, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
		"letters, digits, hyphens and underscores", "SQS API Reference, CreateQueue"}
	// OpenSearch Serverless CreateCollection (and its policies): 3-32
	// characters, a lower-case letter first, then lower-case letters,
	// digits and hyphens.
	collectionNameRule = nameRule{"time-series collection", 32, regexp.MustCompile(`^[a-z][a-z0-9-]{2,}$`),
		"lower-case letters, digits and hyphens, beginning with a letter, at least 3", "OpenSearch Serverless API Reference, CreateCollection"}
	// OpenSearch Ingestion CreatePipeline: PipelineName 3-28 characters,
	// [a-z][a-z0-9\-]+.
	pipelineNameRule = nameRule{"pipeline (OpenSearch Ingestion)", 28, regexp.MustCompile(`^[a-z][a-z0-9-]{2,}$`),
		"lower-case letters, digits and hyphens, beginning with a letter, at least 3", "OpenSearch Ingestion API Reference, CreatePipeline"}
)

// processedNames are the physical names of the layer, each with AWS's rule.
var processedNames = []struct {
	what  string
	rule  nameRule
	build func(prefix, stack string) string
}{
	{"state machine", stateMachineNameRule, func(n, s string) string { return physicalName(n, "processed-layer", s) }},
	{"schedule group", scheduleGroupNameRule, func(n, s string) string { return physicalName(n, "processed-layer", s) }},
	{"dead-letter queue", queueNameRule, func(n, s string) string { return physicalName(n, "processed-layer-dlq", s) }},
	{"workflow workgroup", workgroupNameRule, func(n, s string) string { return physicalName(n, "processing", s) }},
}

func (a ProcessedLayerArgs) withDefaults(stack string) (ProcessedLayerArgs, error) {
	if a.Name == "" {
		a.Name = DefaultPipelineName
	}
	if a.DailySchedule == "" {
		a.DailySchedule = DefaultDailySchedule
	}
	if a.WideSchedule == "" {
		a.WideSchedule = DefaultWideSchedule
	}
	defaultInt(&a.LookbackDays, DefaultLookbackDays)
	defaultInt(&a.WideLookbackDays, DefaultWideLookbackDays)
	defaultInt(&a.RetentionDays, DefaultProcessedRetentionDays)
	defaultInt(&a.ScanLimitBytes, DefaultProcessingScanLimit)
	defaultInt(&a.LogRetentionDays, DefaultLogRetentionDays)

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if a.DatabaseName == nil || a.RawTableName == nil || a.Workgroup == nil {
		bad("DatabaseName, RawTableName, Workgroup: required (AnalyticsPipeline's GlueDatabaseName, GlueTableName, WorkgroupName)")
	}
	for _, b := range []struct {
		field string
		ref   BucketRef
	}{{"DataBucket", a.DataBucket}, {"QueryResultsBucket", a.QueryResultsBucket}} {
		if b.ref.missing() {
			bad("%s: Name, Arn and KMSKeyArn are required", b.field)
		}
	}
	if a.RetentionDays < 1 || a.RetentionDays > 36500 {
		bad("RetentionDays %d: must be 1 to 36500", a.RetentionDays)
	}
	if a.LookbackDays < 1 {
		bad("LookbackDays %d: must be at least 1", a.LookbackDays)
	}
	if a.WideLookbackDays < a.LookbackDays {
		bad("WideLookbackDays %d: must be at least LookbackDays (%d)", a.WideLookbackDays, a.LookbackDays)
	}
	// Events older than the retention are deleted by the same run: reading
	// them from raw/ would only cost scans.
	a.LookbackDays = min(a.LookbackDays, max(a.RetentionDays, 1))
	a.WideLookbackDays = min(a.WideLookbackDays, max(a.RetentionDays, 1))
	for _, s := range []struct{ field, expr string }{{"DailySchedule", a.DailySchedule}, {"WideSchedule", a.WideSchedule}} {
		if err := schedule.Validate(s.expr); err != nil {
			bad("%s %q: %v", s.field, s.expr, err)
		}
	}
	if a.ScanLimitBytes < 10<<20 {
		bad("ScanLimitBytes %d: Athena's smallest cutoff is 10 MB (10485760)", a.ScanLimitBytes)
	}
	for _, n := range processedNames {
		if p := n.rule.problem("Name: "+n.what, n.build(a.Name, stack), stack); p != "" {
			problems = append(problems, p)
		}
	}
	if q := a.QuickSight; q != nil {
		if p := stackconfig.QuickSightPrincipalProblem(q.PrincipalArn); p != "" {
			bad("QuickSight.PrincipalArn %q: %s", q.PrincipalArn, p)
		}
	}
	if a.OpenSearch != nil {
		copied := *a.OpenSearch // defaults go on a copy, not the caller's struct
		o := &copied
		a.OpenSearch = o
		if o.CollectionName == "" {
			o.CollectionName = a.Name + "-" + stack
		}
		if o.RetentionDays == 0 {
			o.RetentionDays = DefaultOpenSearchRetention
		}
		defaultInt(&o.PipelineMinUnits, DefaultPipelineMinUnits)
		defaultInt(&o.PipelineMaxUnits, max(DefaultPipelineMaxUnits, o.PipelineMinUnits))
		if p := stackconfig.OpenSearchPrincipalProblem(o.ReaderArn); p != "" {
			bad("OpenSearch.ReaderArn %q: %s", o.ReaderArn, p)
		}
		if o.EventStreamArn == nil || o.EventStreamKMSKeyArn == nil {
			bad("OpenSearch.EventStreamArn, EventStreamKMSKeyArn: required (AnalyticsPipeline's EventStreamArn, EventStreamKMSKeyArn)")
		}
		if o.RetentionDays < 1 || o.RetentionDays > 3650 {
			bad("OpenSearch.RetentionDays %d: must be 1 to 3650", o.RetentionDays)
		}
		if p := collectionNameRule.problem("OpenSearch.CollectionName", o.CollectionName, stack); p != "" {
			problems = append(problems, p)
		}
		if o.PipelineMinUnits < 1 || o.PipelineMaxUnits < o.PipelineMinUnits || o.PipelineMaxUnits > maxPipelineUnits {
			bad("OpenSearch.PipelineMinUnits %d, PipelineMaxUnits %d: need 1 <= min <= max <= %d",
				o.PipelineMinUnits, o.PipelineMaxUnits, maxPipelineUnits)
		}
		if p := pipelineNameRule.problem("Name: OpenSearch Ingestion pipeline", physicalName(a.Name, openSearchPipelinePart, stack), stack); p != "" {
			problems = append(problems, p)
		}
	}
	return a, argsError("ProcessedLayerArgs", problems)
}

// ProcessedLayer is the processed layer of the analytics data: an Apache
// Iceberg table under processed/, filled daily from raw/ by a Step Functions
// workflow of Athena queries (MERGE, retention, OPTIMIZE, VACUUM) that
// EventBridge Scheduler starts; with optional QuickSight and OpenSearch
// Serverless sinks.
type ProcessedLayer struct {
	pulumi.ResourceState

	// ProcessedTableName is the Iceberg table (created by the workflow's first step).
	ProcessedTableName pulumi.StringOutput `pulumi:"processedTableName"`
	StateMachineArn    pulumi.StringOutput `pulumi:"stateMachineArn"`
	// WorkgroupName is the workflow's own workgroup.
	WorkgroupName      pulumi.StringOutput `pulumi:"workgroupName"`
	ScheduleGroupName  pulumi.StringOutput `pulumi:"scheduleGroupName"`
	DeadLetterQueueArn pulumi.StringOutput `pulumi:"deadLetterQueueArn"`
	// CollectionEndpoint is empty when the OpenSearch sink is off.
	CollectionEndpoint pulumi.StringOutput `pulumi:"collectionEndpoint"`
	// QuickSightDataSetArn is empty when the QuickSight sink is off.
	QuickSightDataSetArn pulumi.StringOutput `pulumi:"quicksightDataSetArn"`
}

// layer holds what the steps of NewProcessedLayer hand each other.
type layer struct {
	ctx     *pulumi.Context
	a       ProcessedLayerArgs
	parent  pulumi.ResourceOrInvokeOption
	tags    pulumi.StringMap
	account pulumi.StringOutput
	region  pulumi.StringOutput
	// logsKey encrypts every log group of the layer.
	logsKey *kms.Key
}

// physical is the AWS name of one part of the layer.
func (l *layer) physical(part string) string { return physicalName(l.a.Name, part, l.ctx.Stack()) }

// NewProcessedLayer creates the processed layer.
func NewProcessedLayer(ctx *pulumi.Context, name string, args *ProcessedLayerArgs, opts ...pulumi.ResourceOption) (*ProcessedLayer, error) {
	if args == nil {
		args = &ProcessedLayerArgs{}
	}
	a, err := args.withDefaults(ctx.Stack())
	if err != nil {
		return nil, err
	}
	c := &ProcessedLayer{}
	l := &layer{ctx: ctx, a: a, tags: tagsFor("ProcessedLayer", a.Tags)}
	if err := ctx.RegisterComponentResource(typeToken("ProcessedLayer"), name, c, opts...); err != nil {
		return nil, err
	}
	l.parent = pulumi.Parent(c)
	l.account = aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, l.parent).AccountId()
	l.region = aws.GetRegionOutput(ctx, aws.GetRegionOutputArgs{}, l.parent).Name()

	// The key of the layer's log groups, before anything creates one.
	if l.logsKey, err = newKey(ctx, name+"-logs", keyArgs{
		alias:              fmt.Sprintf("%s/%s/processed-layer-logs", ctx.Project(), ctx.Stack()),
		description:        "Encrypts the processed layer's CloudWatch log groups (workflow, OpenSearch ingestion)",
		deletionWindowDays: DefaultKMSKeyDeletionWindowDays,
		policy: pulumi.All(l.account, l.region).ApplyT(func(v []any) (string, error) {
			return logsKeyPolicy(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
		tags: l.tags,
	}, l.parent); err != nil {
		return nil, err
	}

	w, err := l.workflow(name)
	if err != nil {
		return nil, err
	}
	if err := l.namedQueries(name); err != nil {
		return nil, err
	}
	c.CollectionEndpoint = pulumi.String("").ToStringOutput()
	c.QuickSightDataSetArn = pulumi.String("").ToStringOutput()
	if a.QuickSight != nil {
		if c.QuickSightDataSetArn, err = l.quickSight(name); err != nil {
			return nil, err
		}
	}
	if a.OpenSearch != nil {
		if c.CollectionEndpoint, err = l.openSearch(name); err != nil {
			return nil, err
		}
	}

	c.ProcessedTableName = pulumi.String(ProcessedTableName).ToStringOutput()
	c.StateMachineArn = w.machine.Arn
	c.WorkgroupName = w.workgroup.Name
	c.ScheduleGroupName = w.group.Name
	c.DeadLetterQueueArn = w.dlq.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"processedTableName":   c.ProcessedTableName,
		"stateMachineArn":      c.StateMachineArn,
		"workgroupName":        c.WorkgroupName,
		"scheduleGroupName":    c.ScheduleGroupName,
		"deadLetterQueueArn":   c.DeadLetterQueueArn,
		"collectionEndpoint":   c.CollectionEndpoint,
		"quicksightDataSetArn": c.QuickSightDataSetArn,
	})
}

// logsKeyPolicy hands the logs key to the account's IAM, as the default key
// policy does, and lets CloudWatch Logs use it for this account's log groups
// in this region only (CloudWatch Logs User Guide, "Encrypt log data in
// CloudWatch Logs using AWS Key Management Service", step 2: the key policy
// names logs.<region>.amazonaws.com with an ArnLike condition on
// kms:EncryptionContext:aws:logs:arn). The same form as pipelineKeyPolicy,
// without its CloudWatch alarms statement.
func logsKeyPolicy(account, region string) (string, error) {
	return policyDocument(accountKeyAdmin("aws", account), logsMayEncrypt("aws", account, region, "*"))
}
