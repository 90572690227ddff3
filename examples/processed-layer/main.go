// Command processed-layer is an example of another team's stack building an
// analytics path on the platform's sessions table, and its processed layer,
// from the manga-assist-data components, with both optional sinks on: a QuickSight data set over the
// processed Iceberg table and an OpenSearch Serverless collection that an
// OpenSearch Ingestion pipeline fills from the events stream, one document per
// event. Its test runs it under the same mocks and policy pack as the offline
// preview.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/manga-assist/manga-assist-data/components"
)

func main() {
	pulumi.Run(program)
}

// The sinks' principals: the team's QuickSight author group and the role its
// search dashboards run as.
const (
	quickSightAuthors = "arn:aws:quicksight:us-east-1:123456789012:group/default/shop-analysts"
	searchReader      = "arn:aws:iam::123456789012:role/shop-search-reader"
)

func program(ctx *pulumi.Context) error {
	tags := map[string]string{"project": "shop", "environment": ctx.Stack()}
	// The sessions table is the platform's: its stream and key come from
	// that stack's outputs (streamArn, kmsKeyArn), set here with
	// `pulumi config set tableStreamArn "$(pulumi stack output streamArn -s <platform stack>)"`.
	cfg := config.New(ctx, "")
	tableStreamArn, tableKeyArn := cfg.Require("tableStreamArn"), cfg.Require("tableKmsKeyArn")

	logs, err := components.NewSecureBucket(ctx, "shop-logs", &components.SecureBucketArgs{ReceivesAccessLogs: true, Tags: tags})
	if err != nil {
		return err
	}
	if _, err := components.NewDataLifecycle(ctx, "shop-logs-lifecycle", &components.DataLifecycleArgs{
		Bucket: logs.BucketName, Tiers: components.ExpireAfter("", 90),
	}); err != nil {
		return err
	}
	bucket := func(name string, tiers []components.Tier) (*components.SecureBucket, error) {
		b, err := components.NewSecureBucket(ctx, name, &components.SecureBucketArgs{LogBucket: logs.AccessLogTarget, Tags: tags})
		if err != nil {
			return nil, err
		}
		_, err = components.NewDataLifecycle(ctx, name+"-lifecycle", &components.DataLifecycleArgs{Bucket: b.BucketName, Tiers: tiers})
		return b, err
	}
	const retentionDays = 400
	// AnalyticsTiers leaves processed/ alone: the Iceberg table expires by DELETE and VACUUM.
	data, err := bucket("shop-data", components.AnalyticsTiers(retentionDays, 14))
	if err != nil {
		return err
	}
	failed, err := bucket("shop-failed", components.ExpireAfter("", 14))
	if err != nil {
		return err
	}
	results, err := bucket("shop-results", components.ExpireAfter("", 7))
	if err != nil {
		return err
	}

	pipeline, err := components.NewAnalyticsPipeline(ctx, "shop-analytics", &components.AnalyticsPipelineArgs{
		Name:                "shop",
		TableStreamArn:      pulumi.String(tableStreamArn),
		TableKMSKeyArn:      pulumi.String(tableKeyArn),
		DataBucket:          data.Ref(),
		FailedRecordsBucket: failed.Ref(),
		QueryResultsBucket:  results.Ref(),
		Tags:                tags,
	})
	if err != nil {
		return err
	}
	processed, err := components.NewProcessedLayer(ctx, "shop-processed", &components.ProcessedLayerArgs{
		Name:               "shop",
		DatabaseName:       pipeline.GlueDatabaseName,
		RawTableName:       pipeline.GlueTableName,
		Workgroup:          pipeline.WorkgroupName,
		DataBucket:         data.Ref(),
		QueryResultsBucket: results.Ref(),
		AlarmTopicArn:      pipeline.AlarmTopicArn,
		RetentionDays:      retentionDays,
		QuickSight:         &components.QuickSightSink{PrincipalArn: quickSightAuthors},
		OpenSearch: &components.OpenSearchSink{
			ReaderArn:            searchReader,
			EventStreamArn:       pipeline.EventStreamArn,
			EventStreamKMSKeyArn: pipeline.EventStreamKMSKeyArn,
			RetentionDays:        14,
			// Two Ingestion OCUs spread the pipeline over two Availability
			// Zones (OpenSearch Service Developer Guide, "Scaling pipelines in
			// Amazon OpenSearch Ingestion"): 2 x $0.24 an hour, around the clock.
			PipelineMinUnits: 2,
		},
		Tags: tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("workgroup", pipeline.WorkgroupName)
	ctx.Export("processedTable", processed.ProcessedTableName)
	ctx.Export("stateMachineArn", processed.StateMachineArn)
	ctx.Export("collectionEndpoint", processed.CollectionEndpoint)
	ctx.Export("quicksightDataSetArn", processed.QuickSightDataSetArn)
	return nil
}
