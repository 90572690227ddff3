package components

import (
	"fmt"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/glue"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

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

// delivery is Firehose from the event stream to the data bucket: records
// de-aggregated into events, Parquet (SNAPPY) through the Glue schema,
// 64 MB / 300 s buffers, event-time partitions, errors under errors/, logs
// in CloudWatch.
func (p *pipeline) delivery(name string, events *kinesis.Stream, database *glue.CatalogDatabase, table *glue.CatalogTable) (*kinesis.FirehoseDeliveryStream, error) {
	logs, err := cloudwatch.NewLogGroup(p.ctx, name+"-delivery", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/kinesisfirehose/" + p.physical("analytics-delivery")),
		RetentionInDays: pulumi.Int(p.a.LogRetentionDays),
		// CloudWatch Logs encrypts with the pipeline's key, whose policy
		// admits it; Firehose, the writer, needs no key permission.
		KmsKeyId: p.key.Arn,
		Tags:     p.tags,
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
			ProcessingConfiguration: processing(),
			DataFormatConversionConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs{
				Enabled: pulumi.Bool(true),
				InputFormatConfiguration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs{
					Deserializer: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs{
						OpenXJsonSerDe: openXJSONSerDe(),
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

// processing splits the router's records into events, then computes each
// event's partition keys.
//
// A Kinesis record from the router holds 1 to 500 events of one session, one
// JSON object per line (docs/streamrouter.md). The Firehose developer guide,
// "Apply dynamic partitioning to aggregated data"
// (firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html),
// says aggregated data must be de-aggregated before dynamic partitioning can
// apply, that JSON de-aggregation splits consecutive JSON objects, on one
// line or newline-delimited, at most 500 per record, and that Firehose
// processes incoming data as: de-aggregation, then Lambda transformation,
// then partitioning keys. The API reference (ProcessorParameter) names the
// parameter SubRecordType; Delimiter is only for the DELIMITED type. So
// RecordDeAggregation with SubRecordType JSON is declared first and the
// MetadataExtraction query second, the order the guide gives, so that the
// query reads each event's own "timestamp". Parameters are listed in the
// order AWS reports them back and only non-default ones are set:
// terraform-provider-aws #9827 (the provider pulumi-aws wraps) shows a
// perpetual diff otherwise, MetadataExtractionQuery before
// JsonParsingEngine being the order that stays clean.
func processing() *kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs {
	param := func(name, value string) *kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs {
		return &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs{
			ParameterName: pulumi.String(name), ParameterValue: pulumi.String(value)}
	}
	return &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs{
		Enabled: pulumi.Bool(true),
		Processors: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArray{
			&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs{
				Type: pulumi.String("RecordDeAggregation"),
				Parameters: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArray{
					param("SubRecordType", "JSON"),
				},
			},
			&kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs{
				Type: pulumi.String("MetadataExtraction"),
				Parameters: kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArray{
					param("MetadataExtractionQuery", partitionQuery),
					param("JsonParsingEngine", "JQ-1.6"),
				},
			},
		},
	}
}

// openXJSONSerDe reads the router's JSON into the Glue columns. A column
// whose name is not its JSON key (ts, filled from "timestamp", a Hive
// keyword) is mapped, as the Firehose API reference advises for such keys
// (OpenXJsonSerDe, ColumnToJsonKeyMappings); analytics.Event's tags say which.
func openXJSONSerDe() *kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs {
	serde := &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs{}
	if mappings := analytics.ColumnToJSONKeyMappings(); len(mappings) > 0 {
		serde.ColumnToJsonKeyMappings = pulumi.ToStringMap(mappings)
	}
	return serde
}
