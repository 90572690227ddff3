package components

import (
	"context"
	"embed"
	"fmt"
	"path"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/athena"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/glue"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
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

func (a AnalyticsPipelineArgs) withDefaults() (AnalyticsPipelineArgs, error) {
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
	for field, b := range map[string]BucketRef{"DataBucket": a.DataBucket, "FailedRecordsBucket": a.FailedRecordsBucket, "QueryResultsBucket": a.QueryResultsBucket} {
		if b.missing() {
			bad("%s: Name, Arn and KMSKeyArn are required", field)
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
	return a, argsError("AnalyticsPipelineArgs", problems)
}

// AnalyticsPipeline moves every change of the sessions table to Athena:
// table stream -> router Lambda -> Kinesis -> Firehose (Parquet, event-time
// partitions) -> S3 -> Glue table (partition projection) -> Athena, watched
// by alarms.
type AnalyticsPipeline struct {
	pulumi.ResourceState

	RouterFunctionName pulumi.StringOutput `pulumi:"routerFunctionName"`
	EventStreamName    pulumi.StringOutput `pulumi:"eventStreamName"`
	EventStreamArn     pulumi.StringOutput `pulumi:"eventStreamArn"`
	DeliveryStreamName pulumi.StringOutput `pulumi:"deliveryStreamName"`
	GlueDatabaseName   pulumi.StringOutput `pulumi:"glueDatabaseName"`
	GlueTableName      pulumi.StringOutput `pulumi:"glueTableName"`
	WorkgroupName      pulumi.StringOutput `pulumi:"workgroupName"`
	// AlarmTopicArn is empty when alarms are disabled.
	AlarmTopicArn pulumi.StringOutput `pulumi:"alarmTopicArn"`
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
	a, err := args.withDefaults()
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
		policy:             p.account.ApplyT(pipelineKeyPolicy).(pulumi.StringOutput),
		tags:               p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}

	// The stream the router writes to: created first, as the router names it.
	events, err := p.eventStream(name)
	if err != nil {
		return nil, err
	}
	router, err := p.router(name, code, events)
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
	c.EventStreamName = events.Name
	c.EventStreamArn = events.Arn
	c.DeliveryStreamName = delivery.Name
	c.GlueDatabaseName = database.Name
	c.GlueTableName = table.Name
	c.WorkgroupName = workgroup.Name
	c.AlarmTopicArn = topicArn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"routerFunctionName": c.RouterFunctionName,
		"eventStreamName":    c.EventStreamName,
		"eventStreamArn":     c.EventStreamArn,
		"deliveryStreamName": c.DeliveryStreamName,
		"glueDatabaseName":   c.GlueDatabaseName,
		"glueTableName":      c.GlueTableName,
		"workgroupName":      c.WorkgroupName,
		"alarmTopicArn":      c.AlarmTopicArn,
	})
}

// physical is the AWS name of one part of the pipeline.
func (p *pipeline) physical(part string) string {
	return fmt.Sprintf("%s-%s-%s", p.a.Name, part, p.ctx.Stack())
}

// eventStream is the Kinesis stream of analytics events, KMS-encrypted.
func (p *pipeline) eventStream(name string) (*kinesis.Stream, error) {
	args := &kinesis.StreamArgs{
		Name:              pulumi.String(p.physical("events")),
		StreamModeDetails: &kinesis.StreamStreamModeDetailsArgs{StreamMode: pulumi.String(p.a.StreamMode)},
		RetentionPeriod:   pulumi.Int(p.a.StreamRetentionHours),
		EncryptionType:    pulumi.String("KMS"),
		KmsKeyId:          p.key.Arn,
		Tags:              p.tags,
	}
	if p.a.StreamMode == "PROVISIONED" {
		args.ShardCount = pulumi.Int(p.a.StreamShardCount)
	}
	return kinesis.NewStream(p.ctx, name+"-events", args, p.parent)
}

// router is the stream-router Lambda, its least-privilege role and its
// event source mapping on the table stream.
func (p *pipeline) router(name string, code lambdabuild.Artifact, events *kinesis.Stream) (*lambda.Function, error) {
	functionName := p.physical("stream-router")
	logs, err := cloudwatch.NewLogGroup(p.ctx, name+"-router", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + functionName),
		RetentionInDays: pulumi.Int(p.a.LogRetentionDays),
		Tags:            p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}
	role, err := p.role(name+"-router", "lambda.amazonaws.com")
	if err != nil {
		return nil, err
	}
	failed := p.a.FailedRecordsBucket
	policy := pulumi.All(p.a.TableStreamArn, p.a.TableKMSKeyArn, events.Arn, p.key.Arn, logs.Arn,
		failed.Arn, failed.KMSKeyArn).ApplyT(func(v []any) (string, error) {
		stream, tableKey, eventsArn, eventsKey, logGroup, failedArn, failedKey :=
			v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string), v[5].(string), v[6].(string)
		table, _, _ := strings.Cut(stream, "/stream/")
		return policyDocument(
			policyStatement{Sid: "ReadTableStream", Effect: "Allow",
				Action:   []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
				Resource: stream},
			policyStatement{Sid: "ListTableStreams", Effect: "Allow",
				Action: "dynamodb:ListStreams", Resource: table + "/stream/*"},
			policyStatement{Sid: "DecryptTableStream", Effect: "Allow", Action: "kms:Decrypt", Resource: tableKey},
			policyStatement{Sid: "WriteEvents", Effect: "Allow",
				Action: []string{"kinesis:PutRecords", "kinesis:DescribeStreamSummary"}, Resource: eventsArn},
			policyStatement{Sid: "EncryptEvents", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: eventsKey},
			policyStatement{Sid: "KeepFailedBatches", Effect: "Allow",
				Action: []string{"s3:PutObject", "s3:ListBucket"}, Resource: []string{failedArn, failedArn + "/*"}},
			policyStatement{Sid: "EncryptFailedBatches", Effect: "Allow",
				Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: failedKey},
			policyStatement{Sid: "WriteLogs", Effect: "Allow",
				Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: logGroup + ":*"},
		)
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(p.ctx, name+"-router", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, p.parent)
	if err != nil {
		return nil, err
	}

	fn, err := lambda.NewFunction(p.ctx, name+"-router", &lambda.FunctionArgs{
		Name:           pulumi.String(functionName),
		Description:    pulumi.String("Routes every change of the sessions table to the analytics event stream"),
		Runtime:        pulumi.String(string(lambda.RuntimeCustomAL2023)),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           code.Archive(),
		SourceCodeHash: pulumi.String(code.SourceCodeHash),
		Role:           role.Arn,
		MemorySize:     pulumi.Int(p.a.RouterMemoryMB),
		Timeout:        pulumi.Int(p.a.RouterTimeoutSeconds),
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			"KINESIS_STREAM_NAME": events.Name,
		}},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Tags:          p.tags,
	}, p.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, err
	}

	// Lambda checks the role's permissions when the mapping is created.
	if _, err := lambda.NewEventSourceMapping(p.ctx, name+"-router", &lambda.EventSourceMappingArgs{
		EventSourceArn:        p.a.TableStreamArn,
		FunctionName:          fn.Arn,
		StartingPosition:      pulumi.String("TRIM_HORIZON"),
		BatchSize:             pulumi.Int(p.a.RouterBatchSize),
		ParallelizationFactor: pulumi.Int(p.a.RouterParallelization),
		// The router names the first record it could not deliver; Lambda
		// retries from there, splits failing batches, gives up after
		// bounded retries or age, and keeps what it gave up on in S3.
		FunctionResponseTypes:      pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
		BisectBatchOnFunctionError: pulumi.Bool(true),
		MaximumRetryAttempts:       pulumi.Int(p.a.RouterMaxRetries),
		MaximumRecordAgeInSeconds:  pulumi.Int(p.a.RouterMaxRecordAgeSeconds),
		DestinationConfig: &lambda.EventSourceMappingDestinationConfigArgs{
			OnFailure: &lambda.EventSourceMappingDestinationConfigOnFailureArgs{DestinationArn: failed.Arn},
		},
		Tags: p.tags,
	}, p.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy})); err != nil {
		return nil, err
	}
	return fn, nil
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

// catalog is the Glue database and the events table, with the columns of
// analytics.Event and partition projection on year/month/day/hour: new hours
// are queryable at once, with no crawler and no MSCK REPAIR TABLE.
func (p *pipeline) catalog(name string) (*glue.CatalogDatabase, *glue.CatalogTable, error) {
	database, err := glue.NewCatalogDatabase(p.ctx, name+"-analytics", &glue.CatalogDatabaseArgs{
		Name:        pulumi.String(strings.ReplaceAll(p.physical("analytics"), "-", "_")),
		Description: pulumi.String("Analytics events of the sessions table"),
		Tags:        p.tags,
	}, p.parent)
	if err != nil {
		return nil, nil, err
	}
	var columns glue.CatalogTableStorageDescriptorColumnArray
	for _, col := range analytics.Columns() {
		columns = append(columns, &glue.CatalogTableStorageDescriptorColumnArgs{
			Name: pulumi.String(col.Name), Type: pulumi.String(col.Type), Comment: pulumi.String(col.Comment)})
	}
	var partitions glue.CatalogTablePartitionKeyArray
	for _, key := range []string{"year", "month", "day", "hour"} {
		partitions = append(partitions, &glue.CatalogTablePartitionKeyArgs{Name: pulumi.String(key), Type: pulumi.String("string")})
	}
	raw := pulumi.Sprintf("s3://%s/raw/", p.a.DataBucket.Name)
	table, err := glue.NewCatalogTable(p.ctx, name+"-events", &glue.CatalogTableArgs{
		DatabaseName:  database.Name,
		Name:          pulumi.String(EventsTableName),
		Description:   pulumi.String("One row per change of an item of the sessions table"),
		TableType:     pulumi.String("EXTERNAL_TABLE"),
		PartitionKeys: partitions,
		Parameters: pulumi.StringMap{
			"EXTERNAL":                  pulumi.String("TRUE"),
			"classification":            pulumi.String("parquet"),
			"parquet.compression":       pulumi.String("SNAPPY"),
			"projection.enabled":        pulumi.String("true"),
			"projection.year.type":      pulumi.String("integer"),
			"projection.year.range":     pulumi.Sprintf("%d,2099", p.a.ProjectionStartYear),
			"projection.month.type":     pulumi.String("integer"),
			"projection.month.range":    pulumi.String("1,12"),
			"projection.month.digits":   pulumi.String("2"),
			"projection.day.type":       pulumi.String("integer"),
			"projection.day.range":      pulumi.String("1,31"),
			"projection.day.digits":     pulumi.String("2"),
			"projection.hour.type":      pulumi.String("integer"),
			"projection.hour.range":     pulumi.String("0,23"),
			"projection.hour.digits":    pulumi.String("2"),
			"storage.location.template": pulumi.Sprintf("%syear=${year}/month=${month}/day=${day}/hour=${hour}/", raw),
		},
		StorageDescriptor: &glue.CatalogTableStorageDescriptorArgs{
			Location:     raw,
			InputFormat:  pulumi.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
			OutputFormat: pulumi.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
			SerDeInfo: &glue.CatalogTableStorageDescriptorSerDeInfoArgs{
				SerializationLibrary: pulumi.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
			},
			Columns: columns,
		},
	}, p.parent)
	return database, table, err
}

// Firehose's S3 layout. Partitions come from each event's own time, not
// from when Firehose received it, so late events land in the right hour.
const (
	rawPrefix = "raw/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/" +
		"day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/"
	// Failed records have no parsed partition keys, so arrival time it is.
	errorPrefix = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/" +
		"day=!{timestamp:dd}/hour=!{timestamp:HH}/"
	partitionQuery = `{year: .timestamp | strftime("%Y"), month: .timestamp | strftime("%m"), ` +
		`day: .timestamp | strftime("%d"), hour: .timestamp | strftime("%H")}`
)

// delivery is Firehose from the event stream to the data bucket: Parquet
// (SNAPPY) through the Glue schema, 64 MB / 300 s buffers, event-time
// partitions, errors under errors/, logs in CloudWatch.
func (p *pipeline) delivery(name string, events *kinesis.Stream, database *glue.CatalogDatabase, table *glue.CatalogTable) (*kinesis.FirehoseDeliveryStream, error) {
	logs, err := cloudwatch.NewLogGroup(p.ctx, name+"-delivery", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/kinesisfirehose/" + p.physical("analytics-delivery")),
		RetentionInDays: pulumi.Int(p.a.LogRetentionDays),
		Tags:            p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}
	logStream, err := cloudwatch.NewLogStream(p.ctx, name+"-delivery", &cloudwatch.LogStreamArgs{
		LogGroupName: logs.Name,
		Name:         pulumi.String("DestinationDelivery"),
	}, p.parent)
	if err != nil {
		return nil, err
	}
	role, err := p.role(name+"-delivery", "firehose.amazonaws.com")
	if err != nil {
		return nil, err
	}
	data := p.a.DataBucket
	policy := pulumi.All(events.Arn, p.key.Arn, data.Arn, data.KMSKeyArn, p.region, p.account, database.Name, table.Name, logs.Arn).
		ApplyT(func(v []any) (string, error) {
			eventsArn, eventsKey, bucket, bucketKey, region, account, db, tbl, logGroup :=
				v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string), v[5].(string), v[6].(string), v[7].(string), v[8].(string)
			glueArn := fmt.Sprintf("arn:aws:glue:%s:%s:", region, account)
			return policyDocument(
				policyStatement{Sid: "ReadEvents", Effect: "Allow",
					Action:   []string{"kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"},
					Resource: eventsArn},
				policyStatement{Sid: "DecryptEvents", Effect: "Allow", Action: "kms:Decrypt", Resource: eventsKey},
				policyStatement{Sid: "ReadSchema", Effect: "Allow",
					Action:   []string{"glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"},
					Resource: []string{glueArn + "catalog", glueArn + "database/" + db, glueArn + "table/" + db + "/" + tbl}},
				policyStatement{Sid: "WriteData", Effect: "Allow",
					Action: []string{"s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject",
						"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"},
					Resource: []string{bucket, bucket + "/*"}},
				policyStatement{Sid: "EncryptData", Effect: "Allow",
					Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: bucketKey},
				policyStatement{Sid: "WriteLogs", Effect: "Allow", Action: "logs:PutLogEvents", Resource: logGroup + ":*"},
			)
		}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(p.ctx, name+"-delivery", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, p.parent)
	if err != nil {
		return nil, err
	}

	return kinesis.NewFirehoseDeliveryStream(p.ctx, name+"-delivery", &kinesis.FirehoseDeliveryStreamArgs{
		Name:        pulumi.String(p.physical("analytics-delivery")),
		Destination: pulumi.String("extended_s3"),
		KinesisSourceConfiguration: &kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs{
			KinesisStreamArn: events.Arn,
			RoleArn:          role.Arn,
		},
		ExtendedS3Configuration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs{
			BucketArn:         data.Arn,
			RoleArn:           role.Arn,
			KmsKeyArn:         data.KMSKeyArn,
			BufferingSize:     pulumi.Int(64),
			BufferingInterval: pulumi.Int(300),
			// Parquet compresses itself (SNAPPY); S3-level compression
			// must be off when Firehose converts the format.
			CompressionFormat: pulumi.String("UNCOMPRESSED"),
			Prefix:            pulumi.String(rawPrefix),
			ErrorOutputPrefix: pulumi.String(errorPrefix),
			DynamicPartitioningConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDynamicPartitioningConfigurationArgs{
				Enabled:       pulumi.Bool(true),
				RetryDuration: pulumi.Int(300),
			},
			ProcessingConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs{
				Enabled: pulumi.Bool(true),
				Processors: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArray{
					&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs{
						Type: pulumi.String("MetadataExtraction"),
						Parameters: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArray{
							&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs{
								ParameterName: pulumi.String("MetadataExtractionQuery"), ParameterValue: pulumi.String(partitionQuery)},
							&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs{
								ParameterName: pulumi.String("JsonParsingEngine"), ParameterValue: pulumi.String("JQ-1.6")},
						},
					},
				},
			},
			DataFormatConversionConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs{
				Enabled: pulumi.Bool(true),
				InputFormatConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs{
					Deserializer: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs{
						OpenXJsonSerDe: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs{},
					},
				},
				OutputFormatConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationArgs{
					Serializer: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerArgs{
						ParquetSerDe: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerParquetSerDeArgs{
							Compression: pulumi.String("SNAPPY"),
						},
					},
				},
				SchemaConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationSchemaConfigurationArgs{
					DatabaseName: database.Name,
					TableName:    table.Name,
					RoleArn:      role.Arn,
					Region:       p.region,
				},
			},
			CloudwatchLoggingOptions: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs{
				Enabled:       pulumi.Bool(true),
				LogGroupName:  logs.Name,
				LogStreamName: logStream.Name,
			},
		},
		Tags: p.tags,
	}, p.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
}

//go:embed queries/*.sql
var queries embed.FS

// athena is the workgroup (its settings enforced, results encrypted in the
// results bucket, a cap on bytes scanned) and the design's named queries.
func (p *pipeline) athena(name string, database *glue.CatalogDatabase) (*athena.Workgroup, error) {
	results := p.a.QueryResultsBucket
	workgroup, err := athena.NewWorkgroup(p.ctx, name+"-analytics", &athena.WorkgroupArgs{
		Name:        pulumi.String(p.physical("analytics")),
		Description: pulumi.String("Queries over the analytics events"),
		Configuration: &athena.WorkgroupConfigurationArgs{
			EnforceWorkgroupConfiguration:   pulumi.Bool(true),
			PublishCloudwatchMetricsEnabled: pulumi.Bool(true),
			BytesScannedCutoffPerQuery:      pulumi.Int(p.a.ScanLimitBytes),
			EngineVersion: &athena.WorkgroupConfigurationEngineVersionArgs{
				SelectedEngineVersion: pulumi.String("Athena engine version 3"),
			},
			ResultConfiguration: &athena.WorkgroupConfigurationResultConfigurationArgs{
				OutputLocation: pulumi.Sprintf("s3://%s/athena/", results.Name),
				EncryptionConfiguration: &athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs{
					EncryptionOption: pulumi.String("SSE_KMS"),
					KmsKeyArn:        results.KMSKeyArn,
				},
			},
		},
		Tags: p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}
	files, err := queries.ReadDir("queries")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		sql, err := queries.ReadFile(path.Join("queries", f.Name()))
		if err != nil {
			return nil, err
		}
		queryName := strings.TrimSuffix(f.Name(), ".sql")
		description, _, _ := strings.Cut(strings.TrimPrefix(string(sql), "-- "), "\n")
		if _, err := athena.NewNamedQuery(p.ctx, name+"-"+queryName, &athena.NamedQueryArgs{
			Name:        pulumi.String(queryName),
			Description: pulumi.String(description),
			Database:    database.Name,
			Workgroup:   workgroup.Name,
			Query:       pulumi.String(string(sql)),
		}, p.parent); err != nil {
			return nil, err
		}
	}
	return workgroup, nil
}

// alarm describes one single-metric alarm of the pipeline.
type alarm struct {
	suffix, description   string
	namespace, metric     string
	dimensions            pulumi.StringMap
	statistic             string
	threshold             float64
	comparison            string
	periods, toAlarm, sec int
}

// alarms is the alarm topic and every alarm: iterator age of the router and
// of Firehose, router errors and throttles, Firehose freshness, batches the
// router gave up on, Kinesis write throttling, and an anomaly band on events
// per minute (CloudWatch anomaly detection: Kinesis Data Analytics for SQL,
// the seed's detector, is discontinued).
func (p *pipeline) alarms(name string, router *lambda.Function, events *kinesis.Stream, delivery *kinesis.FirehoseDeliveryStream) (pulumi.StringOutput, error) {
	if p.a.Alarms.Disabled {
		return pulumi.String("").ToStringOutput(), nil
	}
	topic, err := sns.NewTopic(p.ctx, name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.String(p.physical("pipeline-alarms")),
		KmsMasterKeyId: p.key.Arn,
		Tags:           p.tags,
	}, p.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if p.a.Alarms.Email != nil {
		if _, err := sns.NewTopicSubscription(p.ctx, name+"-alarms-email", &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.ToSecret(p.a.Alarms.Email).(pulumi.StringOutput),
		}, p.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}

	// S3 request metrics on the failed-records bucket count what the
	// router's event source mapping gave up on.
	failedMetric, err := s3.NewBucketMetric(p.ctx, name+"-failed-records", &s3.BucketMetricArgs{
		Bucket: p.a.FailedRecordsBucket.Name,
		Name:   pulumi.String("failed-stream-batches"),
	}, p.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	iteratorAgeMs := float64(p.a.Alarms.IteratorAgeSeconds * 1000)
	fn := pulumi.StringMap{"FunctionName": router.Name}
	stream := pulumi.StringMap{"StreamName": events.Name}
	single := []alarm{
		{"router-iterator-age", "The router is falling behind the sessions table stream",
			"AWS/Lambda", "IteratorAge", fn, "Maximum", iteratorAgeMs, "GreaterThanThreshold", 5, 3, 60},
		{"router-errors", "The router failed invocations (Lambda will retry, then keep the batch in S3)",
			"AWS/Lambda", "Errors", fn, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		{"router-throttles", "The router was throttled",
			"AWS/Lambda", "Throttles", fn, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		{"events-iterator-age", "Firehose is falling behind the events stream",
			"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", stream, "Maximum", iteratorAgeMs, "GreaterThanThreshold", 5, 3, 60},
		{"events-write-throttled", "Writes to the events stream were throttled",
			"AWS/Kinesis", "WriteProvisionedThroughputExceeded", stream, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		{"delivery-freshness", "Events are waiting too long to reach S3",
			"AWS/Firehose", "DeliveryToS3.DataFreshness", pulumi.StringMap{"DeliveryStreamName": delivery.Name},
			"Maximum", float64(p.a.Alarms.FreshnessSeconds), "GreaterThanThreshold", 3, 2, 300},
		{"failed-batches", "The router gave up on a batch: it is kept in full in the failed-records bucket",
			"AWS/S3", "PutRequests", pulumi.StringMap{"BucketName": p.a.FailedRecordsBucket.Name, "FilterId": failedMetric.Name},
			"Sum", 0, "GreaterThanThreshold", 1, 1, 60},
	}
	actions := pulumi.Array{topic.Arn}
	for _, al := range single {
		if _, err := cloudwatch.NewMetricAlarm(p.ctx, name+"-"+al.suffix, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(p.physical(al.suffix)),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dimensions,
			Statistic:          pulumi.String(al.statistic),
			Period:             pulumi.Int(al.sec),
			EvaluationPeriods:  pulumi.Int(al.periods),
			DatapointsToAlarm:  pulumi.Int(al.toAlarm),
			Threshold:          pulumi.Float64(al.threshold),
			ComparisonOperator: pulumi.String(al.comparison),
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               p.tags,
		}, p.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}

	if _, err := cloudwatch.NewMetricAlarm(p.ctx, name+"-events-anomaly", &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(p.physical("events-anomaly")),
		AlarmDescription:   pulumi.String("Events per minute left the band CloudWatch expects from their history"),
		ComparisonOperator: pulumi.String("LessThanLowerOrGreaterThanUpperThreshold"),
		EvaluationPeriods:  pulumi.Int(5),
		DatapointsToAlarm:  pulumi.Int(3),
		ThresholdMetricId:  pulumi.String("band"),
		TreatMissingData:   pulumi.String("ignore"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			&cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String("events"),
				ReturnData: pulumi.Bool(true),
				Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String("AWS/Kinesis"), MetricName: pulumi.String("IncomingRecords"),
					Dimensions: stream, Period: pulumi.Int(60), Stat: pulumi.String("Sum"),
				},
			},
			&cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String("band"),
				Expression: pulumi.Sprintf("ANOMALY_DETECTION_BAND(events, %g)", p.a.Alarms.AnomalyBandWidth),
				Label:      pulumi.String("expected events per minute"),
				ReturnData: pulumi.Bool(true),
			},
		},
		AlarmActions: actions,
		OkActions:    actions,
		Tags:         p.tags,
	}, p.parent); err != nil {
		return pulumi.StringOutput{}, err
	}
	return topic.Arn, nil
}

// pipelineKeyPolicy lets the account's IAM govern the key, as the default
// policy does, and lets CloudWatch alarms of this account publish to the
// encrypted topic.
func pipelineKeyPolicy(account string) (string, error) {
	return policyDocument(
		policyStatement{Sid: "AccountIAM", Effect: "Allow",
			Principal: map[string]string{"AWS": "arn:aws:iam::" + account + ":root"},
			Action:    "kms:*", Resource: "*"},
		policyStatement{Sid: "CloudWatchAlarmsPublish", Effect: "Allow",
			Principal: map[string]string{"Service": "cloudwatch.amazonaws.com"},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: "*",
			Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}},
	)
}
