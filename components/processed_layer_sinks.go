package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/opensearch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/quicksight"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// QuickSight permissions of the configured principal: everything an owner of
// a data source and of a data set has (QuickSight API Reference,
// CreateDataSource and CreateDataSet, Permissions: the owner actions).
var (
	quickSightDataSourceActions = []string{
		"quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions", "quicksight:PassDataSource",
		"quicksight:UpdateDataSource", "quicksight:DeleteDataSource", "quicksight:UpdateDataSourcePermissions",
	}
	quickSightDataSetActions = []string{
		"quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
		"quicksight:DescribeIngestion", "quicksight:ListIngestions", "quicksight:UpdateDataSet",
		"quicksight:DeleteDataSet", "quicksight:CreateIngestion", "quicksight:CancelIngestion",
		"quicksight:UpdateDataSetPermissions",
	}
	// quickSightTypes map Glue types to QuickSight's input column types
	// (QuickSight API Reference, InputColumn: STRING, INTEGER, DECIMAL, DATETIME, ...).
	quickSightTypes = map[string]string{"string": "STRING", "bigint": "INTEGER", "double": "DECIMAL", "timestamp": "DATETIME"}
)

// processedColumns are the processed table's columns: the raw table's, and
// event_ts, the source of its day() partitions.
func processedColumns() []analytics.Column {
	return append(analytics.Columns(), analytics.Column{Name: "event_ts", JSONKey: "", Type: "timestamp",
		Comment: "event time (ts) as a UTC timestamp; the table is partitioned by its day"})
}

// quickSight is an Athena data source on the analysts' workgroup and a
// DIRECT_QUERY data set over the processed table: every visual queries
// Athena, so a dashboard shows what the last daily run wrote, with no SPICE
// refresh to schedule. QuickSight reaches Athena, S3 and KMS with its own
// service role (pulumi-aws v6's Athena data source has no role of its own):
// docs/components/processed-layer.md lists what that role needs.
func (l *layer) quickSight(name string) (pulumi.StringOutput, error) {
	principal := pulumi.String(l.a.QuickSight.PrincipalArn)
	source, err := quicksight.NewDataSource(l.ctx, name+"-quicksight", &quicksight.DataSourceArgs{
		DataSourceId: pulumi.String(l.physical("processed")),
		Name:         pulumi.String(l.physical("processed")),
		Type:         pulumi.String("ATHENA"),
		Parameters: &quicksight.DataSourceParametersArgs{
			Athena: &quicksight.DataSourceParametersAthenaArgs{WorkGroup: l.a.Workgroup},
		},
		Permissions: quicksight.DataSourcePermissionArray{&quicksight.DataSourcePermissionArgs{
			Principal: principal, Actions: pulumi.ToStringArray(quickSightDataSourceActions),
		}},
		Tags: l.tags,
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	var columns quicksight.DataSetPhysicalTableMapRelationalTableInputColumnArray
	for _, c := range processedColumns() {
		columns = append(columns, &quicksight.DataSetPhysicalTableMapRelationalTableInputColumnArgs{
			Name: pulumi.String(c.Name), Type: pulumi.String(quickSightTypes[c.Type]),
		})
	}
	set, err := quicksight.NewDataSet(l.ctx, name+"-quicksight", &quicksight.DataSetArgs{
		DataSetId:  pulumi.String(l.physical("processed")),
		Name:       pulumi.String(ProcessedTableName),
		ImportMode: pulumi.String("DIRECT_QUERY"),
		PhysicalTableMaps: quicksight.DataSetPhysicalTableMapArray{&quicksight.DataSetPhysicalTableMapArgs{
			PhysicalTableMapId: pulumi.String("events"),
			RelationalTable: &quicksight.DataSetPhysicalTableMapRelationalTableArgs{
				DataSourceArn: source.Arn,
				Catalog:       pulumi.String("AwsDataCatalog"),
				Schema:        l.a.DatabaseName,
				Name:          pulumi.String(ProcessedTableName),
				InputColumns:  columns,
			},
		}},
		Permissions: quicksight.DataSetPermissionArray{&quicksight.DataSetPermissionArgs{
			Principal: principal, Actions: pulumi.ToStringArray(quickSightDataSetActions),
		}},
		Tags: l.tags,
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return set.Arn, nil
}

// OpenSearch Serverless policy documents (OpenSearch Service Developer
// Guide: "Encryption in Amazon OpenSearch Serverless", "Network access for
// Amazon OpenSearch Serverless", "Data access control for Amazon OpenSearch
// Serverless", "Using data lifecycle policies with Amazon OpenSearch
// Serverless"). Each names the collection, never a wildcard.

// openSearchEncryptionPolicy encrypts the collection with an AWS owned key:
// a collection with a key of its own gets OCUs of its own (OpenSearch
// Service Developer Guide, "Managing capacity limits for Amazon OpenSearch
// Serverless"), which would double the sink's minimum cost.
func openSearchEncryptionPolicy(collection string) string {
	return mustJSON(map[string]any{
		"Rules":       []any{map[string]any{"ResourceType": "collection", "Resource": []string{"collection/" + collection}}},
		"AWSOwnedKey": true,
	})
}

// openSearchNetworkPolicy makes the collection's endpoint and dashboards
// public: Firehose delivers to a public collection endpoint unless it is
// put in a VPC, and every request is still signed and checked against the
// data-access policy.
func openSearchNetworkPolicy(collection string) string {
	return mustJSON([]any{map[string]any{
		"Rules": []any{
			map[string]any{"ResourceType": "collection", "Resource": []string{"collection/" + collection}},
			map[string]any{"ResourceType": "dashboard", "Resource": []string{"collection/" + collection}},
		},
		"AllowFromPublic": true,
	}})
}

// openSearchAccessPolicy lets the Firehose role create and write the
// collection's indexes (Firehose Developer Guide, "Grant Firehose access to
// a public OpenSearch Serverless destination") and the reader read them.
func openSearchAccessPolicy(collection, writerArn, readerArn string) string {
	index := []string{"index/" + collection + "/*"}
	coll := []string{"collection/" + collection}
	return mustJSON([]any{
		map[string]any{
			"Description": "Firehose writes the events",
			"Rules": []any{
				map[string]any{"ResourceType": "index", "Resource": index,
					"Permission": []string{"aoss:CreateIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:WriteDocument"}},
				map[string]any{"ResourceType": "collection", "Resource": coll,
					"Permission": []string{"aoss:CreateCollectionItems", "aoss:DescribeCollectionItems", "aoss:UpdateCollectionItems"}},
			},
			"Principal": []string{writerArn},
		},
		map[string]any{
			"Description": "The configured reader reads them",
			"Rules": []any{
				map[string]any{"ResourceType": "index", "Resource": index,
					"Permission": []string{"aoss:DescribeIndex", "aoss:ReadDocument"}},
				map[string]any{"ResourceType": "collection", "Resource": coll,
					"Permission": []string{"aoss:DescribeCollectionItems"}},
			},
			"Principal": []string{readerArn},
		},
	})
}

// openSearchLifecyclePolicy deletes the collection's indexes after days.
func openSearchLifecyclePolicy(collection string, days int) string {
	return mustJSON(map[string]any{"Rules": []any{map[string]any{
		"ResourceType": "index", "Resource": []string{"index/" + collection + "/*"},
		"MinIndexRetention": fmt.Sprintf("%dd", days),
	}}})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// openSearchIndex is the index Firehose writes the events to.
const openSearchIndex = "manga-assist-events"

// openSearchErrorPrefix is where Firehose keeps the documents the collection
// refused, under the data bucket's errors/ tier.
const openSearchErrorPrefix = "errors/opensearch/"

// openSearch is a time-series collection with its encryption, network,
// data-access and lifecycle policies, and a second Firehose that reads the
// same Kinesis stream as the pipeline's and writes every event to it (its
// own iterator: Kinesis serves both readers, within the stream's read
// throughput). The stream delivers at least once and a time-series
// collection takes no document ids of ours, so duplicates are counted out
// in queries by event_id (a unique count), not prevented.
func (l *layer) openSearch(name string) (pulumi.StringOutput, error) {
	o := l.a.OpenSearch
	collection := o.CollectionName
	encryption, err := opensearch.NewServerlessSecurityPolicy(l.ctx, name+"-opensearch-encryption", &opensearch.ServerlessSecurityPolicyArgs{
		Name: pulumi.String(collection), Type: pulumi.String("encryption"),
		Description: pulumi.String("The analytics events collection, with an AWS owned key"),
		Policy:      pulumi.String(openSearchEncryptionPolicy(collection)),
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	network, err := opensearch.NewServerlessSecurityPolicy(l.ctx, name+"-opensearch-network", &opensearch.ServerlessSecurityPolicyArgs{
		Name: pulumi.String(collection), Type: pulumi.String("network"),
		Description: pulumi.String("Public, signed endpoints for Firehose and the reader"),
		Policy:      pulumi.String(openSearchNetworkPolicy(collection)),
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	standby := "DISABLED"
	if o.StandbyReplicas {
		standby = "ENABLED"
	}
	// A collection needs its encryption policy first, and its network policy to be reachable.
	coll, err := opensearch.NewServerlessCollection(l.ctx, name+"-opensearch", &opensearch.ServerlessCollectionArgs{
		Name:            pulumi.String(collection),
		Type:            pulumi.String("TIMESERIES"),
		Description:     pulumi.String("Every analytics event, as it arrives; count events by unique event_id"),
		StandbyReplicas: pulumi.String(standby),
		Tags:            l.tags,
	}, l.parent, pulumi.DependsOn([]pulumi.Resource{encryption, network}))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := opensearch.NewServerlessLifecyclePolicy(l.ctx, name+"-opensearch-retention", &opensearch.ServerlessLifecyclePolicyArgs{
		Name: pulumi.String(collection), Type: pulumi.String("retention"),
		Description: pulumi.Sprintf("Indexes are deleted after %d days", o.RetentionDays),
		Policy:      pulumi.String(openSearchLifecyclePolicy(collection, o.RetentionDays)),
	}, l.parent, pulumi.DependsOn([]pulumi.Resource{coll})); err != nil {
		return pulumi.StringOutput{}, err
	}

	deliveryName := l.physical("opensearch-delivery")
	logs, err := cloudwatch.NewLogGroup(l.ctx, name+"-opensearch-delivery", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/kinesisfirehose/" + deliveryName),
		RetentionInDays: pulumi.Int(l.a.LogRetentionDays),
		Tags:            l.tags,
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	logStream, err := cloudwatch.NewLogStream(l.ctx, name+"-opensearch-delivery", &cloudwatch.LogStreamArgs{
		LogGroupName: logs.Name, Name: pulumi.String("DestinationDelivery"),
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	role, err := l.role(name+"-opensearch-delivery", "firehose.amazonaws.com")
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	data := l.a.DataBucket
	policy := pulumi.All(o.EventStreamArn, o.EventStreamKMSKeyArn, coll.Arn, data.Arn, data.KMSKeyArn, logs.Arn).ApplyT(func(v []any) (string, error) {
		return openSearchDeliveryPolicy(v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string), v[5].(string))
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(l.ctx, name+"-opensearch-delivery", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	access, err := opensearch.NewServerlessAccessPolicy(l.ctx, name+"-opensearch-access", &opensearch.ServerlessAccessPolicyArgs{
		Name: pulumi.String(collection), Type: pulumi.String("data"),
		Description: pulumi.String("Firehose writes, the configured reader reads"),
		Policy: role.Arn.ApplyT(func(writer string) string {
			return openSearchAccessPolicy(collection, writer, o.ReaderArn)
		}).(pulumi.StringOutput),
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	if _, err := kinesis.NewFirehoseDeliveryStream(l.ctx, name+"-opensearch-delivery", &kinesis.FirehoseDeliveryStreamArgs{
		Name:        pulumi.String(deliveryName),
		Destination: pulumi.String("opensearchserverless"),
		KinesisSourceConfiguration: &kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs{
			KinesisStreamArn: o.EventStreamArn,
			RoleArn:          role.Arn,
		},
		OpensearchserverlessConfiguration: &kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationArgs{
			CollectionEndpoint: coll.CollectionEndpoint,
			IndexName:          pulumi.String(openSearchIndex),
			RoleArn:            role.Arn,
			// Search wants events soon: a minute or 5 MB, whichever
			// comes first, not one request per record.
			BufferingInterval: pulumi.Int(60),
			BufferingSize:     pulumi.Int(5),
			RetryDuration:     pulumi.Int(300),
			S3BackupMode:      pulumi.String("FailedDocumentsOnly"),
			S3Configuration: &kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationS3ConfigurationArgs{
				BucketArn:         data.Arn,
				RoleArn:           role.Arn,
				KmsKeyArn:         data.KMSKeyArn,
				Prefix:            pulumi.String(openSearchErrorPrefix),
				ErrorOutputPrefix: pulumi.String(openSearchErrorPrefix + "!{firehose:error-output-type}/"),
				CompressionFormat: pulumi.String("GZIP"),
			},
			CloudwatchLoggingOptions: &kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationCloudwatchLoggingOptionsArgs{
				Enabled: pulumi.Bool(true), LogGroupName: logs.Name, LogStreamName: logStream.Name,
			},
		},
		Tags: l.tags,
	}, l.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy, access, coll})); err != nil {
		return pulumi.StringOutput{}, err
	}
	return coll.CollectionEndpoint, nil
}

// openSearchDeliveryPolicy lets the OpenSearch Firehose read the events
// stream (and decrypt it), call the collection's API (aoss:APIAccessAll on
// the collection: Firehose Developer Guide, "Grant Firehose access to a
// public OpenSearch Serverless destination"), keep refused documents under
// errors/opensearch/ of the data bucket, and write its logs.
func openSearchDeliveryPolicy(streamArn, streamKey, collectionArn, bucketArn, bucketKey, logGroupArn string) (string, error) {
	return policyDocument(
		policyStatement{Sid: "ReadEvents", Effect: "Allow",
			Action:   []string{"kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"},
			Resource: streamArn},
		policyStatement{Sid: "DecryptEvents", Effect: "Allow", Action: "kms:Decrypt", Resource: streamKey},
		policyStatement{Sid: "WriteCollection", Effect: "Allow", Action: "aoss:APIAccessAll", Resource: collectionArn},
		policyStatement{Sid: "KeepFailedDocuments", Effect: "Allow",
			Action:   []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"},
			Resource: bucketArn + "/" + openSearchErrorPrefix + "*"},
		policyStatement{Sid: "ListBucket", Effect: "Allow",
			Action: []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, Resource: bucketArn},
		policyStatement{Sid: "EncryptFailedDocuments", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: bucketKey},
		policyStatement{Sid: "WriteLogs", Effect: "Allow", Action: "logs:PutLogEvents", Resource: logGroupArn + ":*"},
	)
}
