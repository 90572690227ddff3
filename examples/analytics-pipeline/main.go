// Command analytics-pipeline is an example of another team's stack building
// the whole analytics path from the manga-assist-data components: its own
// sessions table, secure buckets with lifecycle tiers, and the pipeline with
// alarms off. Its test runs it under the same mocks and policy pack as the
// offline preview.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/examples/internal/teambackup"
)

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	tags := map[string]string{"project": "shop", "environment": ctx.Stack()}
	table, err := components.NewSessionsTable(ctx, "shop-sessions", &components.SessionsTableArgs{
		Name: "shop-sessions-" + ctx.Stack(),
		Tags: tags,
	})
	if err != nil {
		return err
	}

	// The team backs the table up with an AWS Backup plan of its own (the
	// policy pack wants every table covered by a BackupSchedule or a plan of
	// the stack); the role AWS Backup assumes comes from the stack's config.
	cfg := config.New(ctx, "")
	role := orDefault(cfg.Get("backupRoleArn"), "arn:aws:iam::111122223333:role/shop-backup")
	if err := teambackup.Cover(ctx, "shop-sessions-backup", table.TableArn, role, tags); err != nil {
		return err
	}

	logs, err := components.NewSecureBucket(ctx, "shop-logs", &components.SecureBucketArgs{ReceivesAccessLogs: true, Tags: tags})
	if err != nil {
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
	if _, err := components.NewDataLifecycle(ctx, "shop-logs-lifecycle", &components.DataLifecycleArgs{
		Bucket: logs.BucketName, Tiers: components.ExpireAfter("", 90),
	}); err != nil {
		return err
	}
	data, err := bucket("shop-data", components.AnalyticsTiers(400, 14))
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
		TableStreamArn:      table.StreamArn,
		TableKMSKeyArn:      table.KMSKeyArn,
		DataBucket:          data.Ref(),
		FailedRecordsBucket: failed.Ref(),
		QueryResultsBucket:  results.Ref(),
		Alarms:              components.PipelineAlarms{Disabled: true},
		Tags:                tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("workgroup", pipeline.WorkgroupName)
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
