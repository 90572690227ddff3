package components

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/lambdabuild"
)

// BucketRef is a bucket another component writes to: its name, ARN and the
// KMS key its objects are encrypted with (empty for SSE-S3).
type BucketRef struct {
	Name, Arn, KMSKeyArn pulumi.StringInput
}

// Ref is the bucket as other components take it.
func (b *SecureBucket) Ref() BucketRef {
	return BucketRef{Name: b.BucketName, Arn: b.BucketArn, KMSKeyArn: b.KMSKeyArn}
}

func (b BucketRef) missing() bool { return b.Name == nil || b.Arn == nil || b.KMSKeyArn == nil }

// AnalyticsPipelineArgs configures an AnalyticsPipeline. The table stream,
// its key and the three buckets are required; every other field has the
// default its comment gives.
type AnalyticsPipelineArgs struct {
	// TableStreamArn is the sessions table's stream; TableKMSKeyArn the key
	// that encrypts it (the router decrypts what it reads).
	TableStreamArn, TableKMSKeyArn pulumi.StringInput
	// DataBucket receives Parquet under raw/ and conversion errors under errors/.
	DataBucket BucketRef
	// FailedRecordsBucket receives, in full, every batch the router gave up on.
	FailedRecordsBucket BucketRef
	// QueryResultsBucket receives Athena's results.
	QueryResultsBucket BucketRef

	// Name prefixes physical names: <Name>-<part>-<stack>. Default "manga-assist".
	Name string

	// Paused creates the router's event source mapping disabled: a standby
	// pipeline, in another region of a global table, that reads nothing
	// until it is switched on. Enabled later, the mapping starts at the
	// oldest record the stream still holds (TRIM_HORIZON, up to 24 hours
	// back); disabled and enabled again, it resumes where it stopped
	// (Lambda API Reference, UpdateEventSourceMapping). Default false.
	Paused bool

	// RouterBatchSize is how many stream records one invocation gets, 1-10000. Default 100.
	RouterBatchSize int
	// RouterParallelization is how many batches of one stream shard run at
	// once, 1-10. Above 1, Lambda keeps order per item only, so changes to
	// different items of one session may reach Kinesis interleaved. Default 1.
	RouterParallelization int
	// RouterMaxRetries bounds retries of a failing batch, 1-10000. Default 5.
	RouterMaxRetries int
	// RouterMaxRecordAgeSeconds drops records older than this to the failed
	// records bucket, 60-604800. Default 3600.
	RouterMaxRecordAgeSeconds int
	// RouterMemoryMB of the router function. Default 256.
	RouterMemoryMB int
	// RouterTimeoutSeconds of the router function, 10-900. Default 60.
	RouterTimeoutSeconds int
	// LogRetentionDays of the router's and Firehose's log groups. Default 30.
	LogRetentionDays int

	// StreamMode of the Kinesis stream: "ON_DEMAND" or "PROVISIONED". Default "ON_DEMAND".
	StreamMode string
	// StreamShardCount of a PROVISIONED stream. Default 1.
	StreamShardCount int
	// StreamRetentionHours of the Kinesis stream, 24-8760. Default 24.
	StreamRetentionHours int

	// ScanLimitBytes cancels an Athena query that scans more. Default 10 GiB.
	ScanLimitBytes int
	// ProjectionStartYear is the first year partition projection knows. Default 2026.
	ProjectionStartYear int
	// ForceDestroy lets `pulumi destroy` delete the Athena workgroup while it
	// still holds named queries and query history. Default false: the
	// destroy fails ("WorkGroup is not empty") once anyone has run a query.
	ForceDestroy bool

	// Alarms of the pipeline.
	Alarms PipelineAlarms

	// Tags go on every resource, beside component=AnalyticsPipeline.
	Tags map[string]string
}

// PipelineAlarms configures the pipeline's alarms.
type PipelineAlarms struct {
	// Disabled creates no topic and no alarms. Default false.
	Disabled bool
	// Email is subscribed to the alarm topic when set.
	Email pulumi.StringInput
	// IteratorAgeSeconds: alarm when the router or Firehose falls this far
	// behind its stream. Default 60.
	IteratorAgeSeconds int
	// FreshnessSeconds: alarm when the oldest record not yet in S3 is older. Default 900.
	FreshnessSeconds int
	// AnomalyBandWidth is the width, in standard deviations, of the band of
	// expected events per minute. Default 2.
	AnomalyBandWidth float64
}

// Defaults of AnalyticsPipelineArgs.
const (
	DefaultPipelineName              = "manga-assist"
	DefaultRouterBatchSize           = 100
	DefaultRouterParallelization     = 1
	DefaultRouterMaxRetries          = 5
	DefaultRouterMaxRecordAgeSeconds = 3600
	DefaultRouterMemoryMB            = 256
	DefaultRouterTimeoutSeconds      = 60
	DefaultLogRetentionDays          = 30
	DefaultStreamMode                = "ON_DEMAND"
	DefaultStreamRetentionHours      = 24
	DefaultScanLimitBytes            = 10 << 30
	DefaultProjectionStartYear       = 2026
	DefaultIteratorAgeSeconds        = 60
	DefaultFreshnessSeconds          = 900
	DefaultAnomalyBandWidth          = 2.0

	// EventsTableName is the Glue table of analytics events; the named queries use it.
	EventsTableName = "manga_assist_events"
	// routerHandler is the directory under handlers/ the router is built from.
	routerHandler = "streamrouter"
)

// defaultInt sets *v to def when it is zero.
func defaultInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func (a AnalyticsPipelineArgs) withDefaults(stack string) (AnalyticsPipelineArgs, error) {
	if a.Name == "" {
		a.Name = DefaultPipelineName
	}
	if a.StreamMode == "" {
		a.StreamMode = DefaultStreamMode
	}
	defaultInt(&a.RouterBatchSize, DefaultRouterBatchSize)
	defaultInt(&a.RouterParallelization, DefaultRouterParallelization)
	defaultInt(&a.RouterMaxRetries, DefaultRouterMaxRetries)
	defaultInt(&a.RouterMaxRecordAgeSeconds, DefaultRouterMaxRecordAgeSeconds)
	defaultInt(&a.RouterMemoryMB, DefaultRouterMemoryMB)
	defaultInt(&a.RouterTimeoutSeconds, DefaultRouterTimeoutSeconds)
	defaultInt(&a.LogRetentionDays, DefaultLogRetentionDays)
	defaultInt(&a.StreamShardCount, 1)
	defaultInt(&a.StreamRetentionHours, DefaultStreamRetentionHours)
	defaultInt(&a.ScanLimitBytes, DefaultScanLimitBytes)
	defaultInt(&a.ProjectionStartYear, DefaultProjectionStartYear)
	defaultInt(&a.Alarms.IteratorAgeSeconds, DefaultIteratorAgeSeconds)
	defaultInt(&a.Alarms.FreshnessSeconds, DefaultFreshnessSeconds)
	if a.Alarms.AnomalyBandWidth == 0 {
		a.Alarms.AnomalyBandWidth = DefaultAnomalyBandWidth
	}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	inRange := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			bad("%s %d: must be %d to %d", field, v, lo, hi)
		}
	}
	if a.TableStreamArn == nil || a.TableKMSKeyArn == nil {
		bad("TableStreamArn, TableKMSKeyArn: required")
	}
	// A slice, not a map: problems are listed in the same order every run.
	for _, b := range []struct {
		field string
		ref   BucketRef
	}{{"DataBucket", a.DataBucket}, {"FailedRecordsBucket", a.FailedRecordsBucket}, {"QueryResultsBucket", a.QueryResultsBucket}} {
		if b.ref.missing() {
			bad("%s: Name, Arn and KMSKeyArn are required", b.field)
		}
	}
	inRange("RouterBatchSize", a.RouterBatchSize, 1, 10000)
	inRange("RouterParallelization", a.RouterParallelization, 1, 10)
	inRange("RouterMaxRetries", a.RouterMaxRetries, 1, 10000)
	inRange("RouterMaxRecordAgeSeconds", a.RouterMaxRecordAgeSeconds, 60, 604800)
	inRange("RouterMemoryMB", a.RouterMemoryMB, 128, 10240)
	inRange("RouterTimeoutSeconds", a.RouterTimeoutSeconds, 10, 900)
	inRange("StreamRetentionHours", a.StreamRetentionHours, 24, 8760)
	inRange("StreamShardCount", a.StreamShardCount, 1, 10000)
	inRange("ProjectionStartYear", a.ProjectionStartYear, 2000, 2098)
	inRange("Alarms.IteratorAgeSeconds", a.Alarms.IteratorAgeSeconds, 1, 86400)
	inRange("Alarms.FreshnessSeconds", a.Alarms.FreshnessSeconds, 60, 86400)
	if a.ScanLimitBytes < 10<<20 {
		bad("ScanLimitBytes %d: Athena's smallest cutoff is 10 MB (10485760)", a.ScanLimitBytes)
	}
	if a.StreamMode != "ON_DEMAND" && a.StreamMode != "PROVISIONED" {
		bad("StreamMode %q: must be ON_DEMAND or PROVISIONED", a.StreamMode)
	}
	if a.Alarms.AnomalyBandWidth <= 0 {
		bad("Alarms.AnomalyBandWidth %g: must be positive", a.Alarms.AnomalyBandWidth)
	}
	for _, n := range pipelineNames {
		if p := n.rule.problem("Name: "+n.what, n.build(a.Name, stack), stack); p != "" {
			problems = append(problems, p)
		}
	}
	return a, argsError("AnalyticsPipelineArgs", problems)
}

// AnalyticsPipeline moves every change of the sessions table to Athena:
// table stream -> router Lambda -> Kinesis -> Firehose (Parquet, event-time
// partitions) -> S3 -> Glue table (partition projection) -> Athena, watched
// by alarms.
type AnalyticsPipeline struct {
	pulumi.ResourceState

	RouterFunctionName pulumi.StringOutput `pulumi:"routerFunctionName"`
	// RouterMappingUUID is the router's event source mapping: `aws lambda
	// update-event-source-mapping --uuid` switches a standby on or off.
	RouterMappingUUID  pulumi.StringOutput `pulumi:"routerMappingUuid"`
	EventStreamName    pulumi.StringOutput `pulumi:"eventStreamName"`
	EventStreamArn     pulumi.StringOutput `pulumi:"eventStreamArn"`
	DeliveryStreamName pulumi.StringOutput `pulumi:"deliveryStreamName"`
	GlueDatabaseName   pulumi.StringOutput `pulumi:"glueDatabaseName"`
	GlueTableName      pulumi.StringOutput `pulumi:"glueTableName"`
	WorkgroupName      pulumi.StringOutput `pulumi:"workgroupName"`
	// AlarmTopicArn is empty when alarms are disabled.
	AlarmTopicArn pulumi.StringOutput `pulumi:"alarmTopicArn"`
	// EventStreamKMSKeyArn encrypts the events stream; another reader of
	// the stream (ProcessedLayer's OpenSearch sink) decrypts with it.
	EventStreamKMSKeyArn pulumi.StringOutput `pulumi:"eventStreamKmsKeyArn"`
}

// pipeline holds what the steps of NewAnalyticsPipeline hand each other.
type pipeline struct {
	ctx     *pulumi.Context
	a       AnalyticsPipelineArgs
	parent  pulumi.ResourceOrInvokeOption
	tags    pulumi.StringMap
	account pulumi.StringOutput
	region  pulumi.StringOutput
	key     *kms.Key
}

// NewAnalyticsPipeline builds the router's code and creates the pipeline.
func NewAnalyticsPipeline(ctx *pulumi.Context, name string, args *AnalyticsPipelineArgs, opts ...pulumi.ResourceOption) (*AnalyticsPipeline, error) {
	if args == nil {
		args = &AnalyticsPipelineArgs{}
	}
	a, err := args.withDefaults(ctx.Stack())
	if err != nil {
		return nil, err
	}
	code, err := lambdabuild.Build(context.Background(), routerHandler, lambdabuild.Options{})
	if err != nil {
		return nil, fmt.Errorf("AnalyticsPipeline %s: %w", name, err)
	}
	c := &AnalyticsPipeline{}
	if err := ctx.RegisterComponentResource(typeToken("AnalyticsPipeline"), name, c, opts...); err != nil {
		return nil, err
	}
	p := &pipeline{ctx: ctx, a: a, parent: pulumi.Parent(c), tags: tagsFor("AnalyticsPipeline", a.Tags)}
	p.account = aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, p.parent).AccountId()
	p.region = aws.GetRegionOutput(ctx, aws.GetRegionOutputArgs{}, p.parent).Name()

	// One key for the events in flight and the alarm topic; CloudWatch must
	// be allowed to use it, or alarms cannot publish.
	p.key, err = newKey(ctx, name, keyArgs{
		alias:              fmt.Sprintf("%s/%s/analytics-pipeline", ctx.Project(), ctx.Stack()),
		description:        "Encrypts the analytics events stream and the alarm topic",
		deletionWindowDays: DefaultKMSKeyDeletionWindowDays,
		policy: pulumi.All(p.account, p.region).ApplyT(func(v []any) (string, error) {
			return pipelineKeyPolicy(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
		tags: p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}

	// The stream the router writes to: created first, as the router names it.
	events, err := p.eventStream(name)
	if err != nil {
		return nil, err
	}
	router, mapping, err := p.router(name, code, events)
	if err != nil {
		return nil, err
	}
	database, table, err := p.catalog(name)
	if err != nil {
		return nil, err
	}
	delivery, err := p.delivery(name, events, database, table)
	if err != nil {
		return nil, err
	}
	workgroup, err := p.athena(name, database)
	if err != nil {
		return nil, err
	}
	topicArn, err := p.alarms(name, router, events, delivery)
	if err != nil {
		return nil, err
	}

	c.RouterFunctionName = router.Name
	c.RouterMappingUUID = mapping.Uuid
	c.EventStreamName = events.Name
	c.EventStreamArn = events.Arn
	c.DeliveryStreamName = delivery.Name
	c.GlueDatabaseName = database.Name
	c.GlueTableName = table.Name
	c.WorkgroupName = workgroup.Name
	c.AlarmTopicArn = topicArn
	c.EventStreamKMSKeyArn = p.key.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"routerFunctionName": c.RouterFunctionName,
		"routerMappingUuid":  c.RouterMappingUUID,
		"eventStreamName":    c.EventStreamName,
		"eventStreamArn":     c.EventStreamArn,
		"deliveryStreamName": c.DeliveryStreamName,
		"glueDatabaseName":   c.GlueDatabaseName,
		"glueTableName":      c.GlueTableName,
		"workgroupName":      c.WorkgroupName,
		"alarmTopicArn":      c.AlarmTopicArn,

		"eventStreamKmsKeyArn": c.EventStreamKMSKeyArn,
	})
}

// physical is the AWS name of one part of the pipeline.
func (p *pipeline) physical(part string) string { return physicalName(p.a.Name, part, p.ctx.Stack()) }

func physicalName(prefix, part, stack string) string { return prefix + "-" + part + "-" + stack }

// glueName is the name of the Glue database: Glue keeps names in lower case
// with underscores, so the name is built that way instead of being changed
// behind Pulumi's back (which would show a diff on every refresh).
func glueName(prefix, stack string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, physicalName(prefix, "analytics", stack))
}

// pipelineNames are the physical names the pipeline builds from its Name
// and the stack, each with the rule AWS puts on it. (Topic and alarm names
// allow far more than these, so the Lambda rule covers them.)
var pipelineNames = []struct {
	what  string
	rule  nameRule
	build func(prefix, stack string) string
}{
	{"router function", lambdaNameRule, func(n, s string) string { return physicalName(n, "stream-router", s) }},
	{"events stream", kinesisNameRule, func(n, s string) string { return physicalName(n, "events", s) }},
	{"delivery stream", firehoseNameRule, func(n, s string) string { return physicalName(n, "analytics-delivery", s) }},
	{"Glue database", glueDatabaseNameRule, glueName},
	{"workgroup", workgroupNameRule, func(n, s string) string { return physicalName(n, "analytics", s) }},
}

// role is an IAM role that only service, acting for this account, may assume.
func (p *pipeline) role(name, service string) (*iam.Role, error) {
	return iam.NewRole(p.ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: p.account.ApplyT(func(account string) (string, error) {
			return assumeRolePolicy(service, account)
		}).(pulumi.StringOutput),
		Tags: p.tags,
	}, p.parent)
}

// pipelineKeyPolicy lets the account's IAM govern the key, as the default
// policy does, lets CloudWatch alarms of this account publish to the
// encrypted topic, and lets CloudWatch Logs encrypt this account's log
// groups in the region with it (CloudWatch Logs User Guide, "Encrypt log
// data in CloudWatch Logs using AWS KMS": the regional service principal,
// limited by the encryption context's log-group ARN).
func pipelineKeyPolicy(account, region string) (string, error) {
	return policyDocument(
		accountKeyAdmin("aws", account),
		policyStatement{Sid: "CloudWatchAlarmsPublish", Effect: "Allow",
			Principal: map[string]string{"Service": "cloudwatch.amazonaws.com"},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: "*",
			Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}},
		logsMayEncrypt("aws", account, region, "*"),
	)
}
