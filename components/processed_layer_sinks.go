package components

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/opensearch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/opensearchingest"
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
// public: every request is still signed and checked against the data-access
// policy. The ingestion pipeline reaches the collection through a VPC
// endpoint OpenSearch Ingestion creates; the pipeline names this policy
// (serverless_options.network_policy_name), and OpenSearch Ingestion adds a
// rule for that endpoint to it, which changes nothing while the collection
// is public: a public rule overrides a private one (OpenSearch Service
// Developer Guide, "Granting Amazon OpenSearch Ingestion pipelines access to
// collections", Network access policy).
func openSearchNetworkPolicy(collection string) string {
	return mustJSON([]any{map[string]any{
		"Rules": []any{
			map[string]any{"ResourceType": "collection", "Resource": []string{"collection/" + collection}},
			map[string]any{"ResourceType": "dashboard", "Resource": []string{"collection/" + collection}},
		},
		"AllowFromPublic": true,
	}})
}

// openSearchWriterPermissions are what the pipeline role may do to the
// collection's indexes: the data access policy of OpenSearch Service
// Developer Guide, "Granting Amazon OpenSearch Ingestion pipelines access to
// collections", Step 2, exactly.
var openSearchWriterPermissions = []string{"aoss:CreateIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:WriteDocument"}

// openSearchAccessPolicy lets the ingestion pipeline's role create and write
// the collection's indexes and the configured reader read them.
func openSearchAccessPolicy(collection, writerArn, readerArn string) string {
	index := []string{"index/" + collection + "/*"}
	return mustJSON([]any{
		map[string]any{
			"Description": "The ingestion pipeline writes the events",
			"Rules": []any{
				map[string]any{"ResourceType": "index", "Resource": index, "Permission": openSearchWriterPermissions},
			},
			"Principal": []string{writerArn},
		},
		map[string]any{
			"Description": "The configured reader reads them",
			"Rules": []any{
				map[string]any{"ResourceType": "index", "Resource": index,
					"Permission": []string{"aoss:DescribeIndex", "aoss:ReadDocument"}},
				map[string]any{"ResourceType": "collection", "Resource": []string{"collection/" + collection},
					"Permission": []string{"aoss:DescribeCollectionItems"}},
			},
			"Principal": []string{readerArn},
		},
	})
}

// openSearchLifecyclePolicy deletes the collection's indexes after days.
// Only time-series collections take data lifecycle policies (OpenSearch
// Service Developer Guide, "Using data lifecycle policies with Amazon
// OpenSearch Serverless").
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

const (
	// openSearchIndex is where the pipeline writes the events: one index per
	// UTC day of ingestion, by the opensearch sink's date-time pattern
	// suffix (Data Prepper, "OpenSearch sink", index: "%{yyyy.MM.dd}").
	openSearchIndex = "manga-assist-events-%{yyyy.MM.dd}"
	// openSearchErrorPrefix is the pipeline's dead-letter queue: documents
	// the collection refused, under the data bucket's errors/ tier.
	openSearchErrorPrefix = "errors/opensearch/"
	// openSearchPipelinePart names the pipeline: <Name>-search-<stack>.
	openSearchPipelinePart = "search"
	// openSearchSubPipeline is the one sub-pipeline of the pipeline's
	// configuration; OpenSearch Service Developer Guide, "Key concepts in
	// Amazon OpenSearch Ingestion", recommends a name distinct from the
	// pipeline's.
	openSearchSubPipeline = "events-to-collection"
	// osisPrincipal assumes the pipeline role.
	osisPrincipal = "osis-pipelines.amazonaws.com"
)

// The pipeline's configuration, as Go types: OpenSearch Ingestion reads YAML,
// and JSON is YAML (YAML 1.2 is a superset of JSON; the module has no YAML
// encoder of its own, only yaml.v3 as an indirect dependency), so
// openSearchPipelineConfig writes it with encoding/json. Every option is
// from the OpenSearch Service Developer Guide, "Use an OpenSearch Ingestion
// pipeline with Amazon Kinesis Data Streams" (the source, its blueprint
// AWS-KinesisDataStreamsPipeline and its sink), and the Data Prepper
// documentation it refers to ("kinesis" source, "parse_json" and
// "delete_entries" processors, "opensearch" sink, "Dead-letter queues").
type (
	osisSubPipeline struct {
		Source    osisSource       `json:"source"`
		Processor []map[string]any `json:"processor"`
		Sink      []osisSink       `json:"sink"`
	}
	osisSource struct {
		KinesisDataStreams osisKinesisSource `json:"kinesis_data_streams"`
	}
	osisKinesisSource struct {
		// Acknowledgments: a shard is checkpointed only once the sink has
		// taken its events (end-to-end acknowledgement), so a restarted
		// pipeline reads again what it had not indexed: at least once.
		Acknowledgments bool `json:"acknowledgments"`
		// Codec newline: one event per line of a record, the record's text
		// under "message" (Data Prepper's newline input codec). The router
		// writes 1-500 events per record, one JSON object per line
		// (docs/streamrouter.md).
		Codec   map[string]any `json:"codec"`
		Streams []osisStream   `json:"streams"`
		// ConsumerStrategy polling: GetRecords on the stream's shared read
		// throughput, like the Parquet Firehose, rather than an enhanced
		// fan-out consumer, which Kinesis bills per shard-hour and GB.
		ConsumerStrategy string      `json:"consumer_strategy"`
		Polling          osisPolling `json:"polling"`
		AWS              osisAWS     `json:"aws"`
	}
	osisStream struct {
		StreamARN string `json:"stream_arn"`
		// InitialPosition LATEST: a new pipeline starts at the stream's tip;
		// EARLIEST would index the stream's whole retention again whenever
		// the pipeline is replaced.
		InitialPosition string `json:"initial_position"`
	}
	osisPolling struct {
		// IdleTimeBetweenReads 1s: one GetRecords a second per shard, so
		// that with the Parquet Firehose's the shard's limit of five reads a
		// second is never reached (Data Prepper's default is 250ms).
		IdleTimeBetweenReads string `json:"idle_time_between_reads"`
	}
	osisAWS struct {
		STSRoleARN        string                 `json:"sts_role_arn"`
		Region            string                 `json:"region"`
		Serverless        bool                   `json:"serverless,omitempty"`
		ServerlessOptions *osisServerlessOptions `json:"serverless_options,omitempty"`
	}
	osisServerlessOptions struct {
		NetworkPolicyName string `json:"network_policy_name"`
	}
	osisSink struct {
		OpenSearch osisOpenSearchSink `json:"opensearch"`
	}
	// osisOpenSearchSink has no document_id, on purpose: a time-series
	// collection refuses documents with ids of ours ("For time series and
	// vector search collections, you can't index by custom document ID or
	// update by upsert requests": OpenSearch Service Developer Guide, "What
	// is Amazon OpenSearch Serverless?", Choosing a collection type), and
	// only a time-series collection takes the lifecycle policy that expires
	// the indexes. Copies are counted out in queries, by change_id.
	osisOpenSearchSink struct {
		Hosts []string `json:"hosts"`
		Index string   `json:"index"`
		// IndexType management_disabled: OpenSearch Ingestion manages only
		// legacy _template index templates, which OpenSearch Serverless does
		// not take, so for a collection sink index_type must be
		// management_disabled if set (OpenSearch Service Developer Guide,
		// "Granting Amazon OpenSearch Ingestion pipelines access to
		// collections", Limitations). Indexes are created by their first
		// write.
		IndexType string `json:"index_type"`
		// AWS signs with SigV4 for OpenSearch Serverless (serverless: true).
		AWS osisAWS `json:"aws"`
		DLQ osisDLQ `json:"dlq"`
	}
	osisDLQ struct {
		S3 osisS3DLQ `json:"s3"`
	}
	osisS3DLQ struct {
		Bucket        string `json:"bucket"`
		KeyPathPrefix string `json:"key_path_prefix"`
		Region        string `json:"region"`
		STSRoleARN    string `json:"sts_role_arn"`
	}
)

// openSearchPipeline is what the pipeline's configuration names.
type openSearchPipeline struct {
	Region, StreamArn, RoleArn, CollectionEndpoint, NetworkPolicy, ErrorBucket string
}

// openSearchPipelineConfig is the pipeline's configuration body: the events
// stream, split into events and parsed, into a daily index of the
// collection, refused documents into the data bucket's errors/opensearch/.
// The role signs for both ends (sts_role_arn; pulumi-aws v6.83.4's Pipeline
// has no pipelineRoleArn).
func openSearchPipelineConfig(p openSearchPipeline) (string, error) {
	signer := osisAWS{STSRoleARN: p.RoleArn, Region: p.Region}
	collection := signer
	collection.Serverless = true // SigV4 for the "aoss" service
	collection.ServerlessOptions = &osisServerlessOptions{NetworkPolicyName: p.NetworkPolicy}
	config := map[string]any{
		"version": "2",
		openSearchSubPipeline: osisSubPipeline{
			Source: osisSource{KinesisDataStreams: osisKinesisSource{
				Acknowledgments:  true,
				Codec:            map[string]any{"newline": nil},
				Streams:          []osisStream{{StreamARN: p.StreamArn, InitialPosition: "LATEST"}},
				ConsumerStrategy: "polling",
				Polling:          osisPolling{IdleTimeBetweenReads: "1s"},
				AWS:              signer,
			}},
			Processor: []map[string]any{
				// The line becomes the event's fields (analytics.Event's JSON).
				{"parse_json": map[string]any{"source": "message"}},
				// Without the line itself, which would double every document.
				{"delete_entries": map[string]any{"with_keys": []string{"message"}}},
			},
			Sink: []osisSink{{OpenSearch: osisOpenSearchSink{
				Hosts:     []string{p.CollectionEndpoint},
				Index:     openSearchIndex,
				IndexType: "management_disabled",
				AWS:       collection,
				DLQ: osisDLQ{S3: osisS3DLQ{
					Bucket: p.ErrorBucket, KeyPathPrefix: openSearchErrorPrefix, Region: p.Region, STSRoleARN: p.RoleArn,
				}},
			}}},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(config); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// osisKinesisActions are the pipeline role's Kinesis permissions for a
// Kinesis Data Streams source, as OpenSearch Service Developer Guide, "Use an
// OpenSearch Ingestion pipeline with Amazon Kinesis Data Streams", step 2,
// lists them (allowReadFromStream); the fan-out ones are part of the list
// even though this pipeline polls.
var osisKinesisActions = []string{
	"kinesis:DescribeStream", "kinesis:DescribeStreamConsumer", "kinesis:DescribeStreamSummary",
	"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams",
	"kinesis:ListStreamConsumers", "kinesis:RegisterStreamConsumer", "kinesis:SubscribeToShard",
}

// openSearchPipelineAccess is what the pipeline role may reach.
type openSearchPipelineAccess struct {
	StreamArn, StreamKeyArn, CollectionArn, Collection, BucketArn, BucketKeyArn string
}

// openSearchPipelinePolicy is the pipeline role's policy:
//   - the Kinesis source: the stream (osisKinesisActions) and its key,
//     kms:Decrypt and kms:GenerateDataKey (same guide and step,
//     allowDecryptionOfCustomManagedKey);
//   - the collection sink: OpenSearch Service Developer Guide, "Granting
//     Amazon OpenSearch Ingestion pipelines access to collections", Step 1,
//     the least-privilege policy: aoss:APIAccessAll (scoped to the
//     collection: its only resource type in the Service Authorization
//     Reference), aoss:BatchGetCollection (no resource type there, so "*"),
//     and the three security-policy actions with which the pipeline adds its
//     VPC endpoint to the network policy (no resource type either; limited
//     to this collection by the aoss:collection condition key the reference
//     lists for them);
//   - the sink's dead-letter queue: s3:PutObject under errors/opensearch/
//     (Data Prepper, "Dead-letter queues"; OpenSearch Service Developer
//     Guide, "Setting up roles and users in Amazon OpenSearch Ingestion":
//     permissions to write to an S3 dead-letter queue) and the bucket key's
//     kms:GenerateDataKey, which uploading an SSE-KMS object needs (S3 User
//     Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)").
func openSearchPipelinePolicy(p openSearchPipelineAccess) (string, error) {
	return policyDocument(
		policyStatement{Sid: "ReadEventStream", Effect: "Allow", Action: osisKinesisActions, Resource: p.StreamArn},
		policyStatement{Sid: "DecryptEventStream", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: p.StreamKeyArn},
		policyStatement{Sid: "WriteCollection", Effect: "Allow", Action: "aoss:APIAccessAll", Resource: p.CollectionArn},
		policyStatement{Sid: "FindCollection", Effect: "Allow", Action: "aoss:BatchGetCollection", Resource: "*"},
		policyStatement{Sid: "AdmitPipelineEndpoint", Effect: "Allow",
			Action:    []string{"aoss:CreateSecurityPolicy", "aoss:GetSecurityPolicy", "aoss:UpdateSecurityPolicy"},
			Resource:  "*",
			Condition: map[string]any{"StringEquals": map[string]string{"aoss:collection": p.Collection}}},
		policyStatement{Sid: "KeepFailedDocuments", Effect: "Allow", Action: "s3:PutObject",
			Resource: p.BucketArn + "/" + openSearchErrorPrefix + "*"},
		policyStatement{Sid: "EncryptFailedDocuments", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: p.BucketKeyArn},
	)
}

// openSearchTrustPolicy lets OpenSearch Ingestion assume the pipeline role,
// for this account's pipeline of this name only: OpenSearch Service
// Developer Guide, "Granting Amazon OpenSearch Ingestion pipelines access to
// collections" (the trust relationship, osis-pipelines.amazonaws.com) and
// "Setting up roles and users in Amazon OpenSearch Ingestion" (the
// confused-deputy guard: aws:SourceAccount, and aws:SourceArn ArnLike
// arn:aws:osis:<region>:<account>:pipeline/*, narrowed here to the pipeline).
func openSearchTrustPolicy(account, region, pipeline string) (string, error) {
	return policyDocument(policyStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": osisPrincipal},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{
			"StringEquals": map[string]string{"aws:SourceAccount": account},
			"ArnLike":      map[string]string{"aws:SourceArn": fmt.Sprintf("arn:aws:osis:%s:%s:pipeline/%s", region, account, pipeline)},
		},
	})
}

// openSearch is a time-series collection with its encryption, network,
// data-access and lifecycle policies, and an OpenSearch Ingestion pipeline
// that reads the same Kinesis stream as the Parquet Firehose (its own shard
// iterators; both share the stream's read throughput), splits each record
// into its events and indexes each as one document.
//
// Not a second Firehose, as the issue first planned: the router packs 1-500
// events into a record, and Firehose splits records
// (RecordDeAggregation) only for S3 destinations with dynamic partitioning
// (Amazon Data Firehose Developer Guide, "Apply dynamic partitioning to
// aggregated data"), so a Firehose into OpenSearch would hand the collection
// whole records of several events. OpenSearch Ingestion's newline codec
// splits them, with no code of ours.
//
// The stream delivers at least once and a time-series collection takes no
// document ids of ours, so copies are counted out in queries (a unique count
// of change_id), not prevented.
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
		Description: pulumi.String("Public, signed endpoints for the ingestion pipeline and the reader"),
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
		Description:     pulumi.String("Every analytics event, as it arrives; count events by unique change_id"),
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

	pipelineName := l.physical(openSearchPipelinePart)
	// OpenSearch Ingestion API Reference, CloudWatchLogDestination: the log
	// group's name must match /aws/vendedlogs/...; encrypted with the
	// layer's logs key.
	logs, err := cloudwatch.NewLogGroup(l.ctx, name+"-opensearch-ingestion", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vendedlogs/OpenSearchIngestion/" + pipelineName),
		RetentionInDays: pulumi.Int(l.a.LogRetentionDays),
		KmsKeyId:        l.logsKey.Arn,
		Tags:            l.tags,
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	role, err := iam.NewRole(l.ctx, name+"-opensearch-ingestion", &iam.RoleArgs{
		Description: pulumi.String("OpenSearch Ingestion pipeline " + pipelineName + ": reads the events stream, writes the collection"),
		AssumeRolePolicy: pulumi.All(l.account, l.region).ApplyT(func(v []any) (string, error) {
			return openSearchTrustPolicy(v[0].(string), v[1].(string), pipelineName)
		}).(pulumi.StringOutput),
		Tags: l.tags,
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	data := l.a.DataBucket
	policy := pulumi.All(o.EventStreamArn, o.EventStreamKMSKeyArn, coll.Arn, data.Arn, data.KMSKeyArn).ApplyT(func(v []any) (string, error) {
		return openSearchPipelinePolicy(openSearchPipelineAccess{
			StreamArn: v[0].(string), StreamKeyArn: v[1].(string), CollectionArn: v[2].(string), Collection: collection,
			BucketArn: v[3].(string), BucketKeyArn: v[4].(string),
		})
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(l.ctx, name+"-opensearch-ingestion", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	access, err := opensearch.NewServerlessAccessPolicy(l.ctx, name+"-opensearch-access", &opensearch.ServerlessAccessPolicyArgs{
		Name: pulumi.String(collection), Type: pulumi.String("data"),
		Description: pulumi.String("The ingestion pipeline writes, the configured reader reads"),
		Policy: role.Arn.ApplyT(func(writer string) string {
			return openSearchAccessPolicy(collection, writer, o.ReaderArn)
		}).(pulumi.StringOutput),
	}, l.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	body := pulumi.All(l.region, o.EventStreamArn, role.Arn, coll.CollectionEndpoint, data.Name).ApplyT(func(v []any) (string, error) {
		return openSearchPipelineConfig(openSearchPipeline{
			Region: v[0].(string), StreamArn: v[1].(string), RoleArn: v[2].(string), CollectionEndpoint: v[3].(string),
			NetworkPolicy: collection, ErrorBucket: v[4].(string),
		})
	}).(pulumi.StringOutput)
	if _, err := opensearchingest.NewPipeline(l.ctx, name+"-opensearch-ingestion", &opensearchingest.PipelineArgs{
		PipelineName:              pulumi.String(pipelineName),
		PipelineConfigurationBody: body,
		MinUnits:                  pulumi.Int(o.PipelineMinUnits),
		MaxUnits:                  pulumi.Int(o.PipelineMaxUnits),
		LogPublishingOptions: &opensearchingest.PipelineLogPublishingOptionsArgs{
			IsLoggingEnabled: pulumi.Bool(true),
			CloudwatchLogDestination: &opensearchingest.PipelineLogPublishingOptionsCloudwatchLogDestinationArgs{
				LogGroup: logs.Name,
			},
		},
		Tags: l.tags,
		// The role must hold its permissions, and the collection its
		// policies, before the pipeline first reads and writes.
	}, l.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy, access, network, coll})); err != nil {
		return pulumi.StringOutput{}, err
	}
	return coll.CollectionEndpoint, nil
}
