// Package program is the Pulumi program of manga-assist-data: it reads the
// stack's settings and wires the platform's components in the order data
// flows. main.go runs it against the Pulumi engine; cmd/preview runs the same
// function under mocks, offline.
package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// Run creates the whole platform for the current stack. It validates every
// setting before it creates anything.
func Run(ctx *pulumi.Context) error {
	cfg, err := stackconfig.Load(ctx)
	if err != nil {
		return err
	}
	tags := map[string]string{"project": stackconfig.Project, "environment": cfg.Stack}
	for _, p := range Planned(cfg) {
		if err := ctx.Log.Warn("planned, not created yet: "+p, nil); err != nil {
			return err
		}
	}

	// Sessions live in DynamoDB; every change leaves through its stream.
	var keyArn pulumi.StringInput
	if cfg.KMSKeyARN != "" {
		keyArn = pulumi.String(cfg.KMSKeyARN)
	}
	table, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{
		Name:                     cfg.TableName,
		DeletionProtection:       &cfg.DeletionProtection,
		PITRRecoveryDays:         cfg.PITRRecoveryDays,
		TTLAttribute:             cfg.TTLAttribute,
		KMSKeyARN:                keyArn,
		KMSKeyDeletionWindowDays: cfg.KMSKeyDeletionWindowDays,
		MultiRegionKey:           len(cfg.ReplicaRegions) > 0,
		Tags:                     tags,
	})
	if err != nil {
		return err
	}

	// Buckets: access logs, analytics data, failed router batches, table exports, query results.
	store, err := newStorage(ctx, cfg, tags)
	if err != nil {
		return err
	}

	// Every change of the table, through the router and Kinesis, to Parquet in S3 and Athena.
	var alarmEmail pulumi.StringInput // the component keeps it secret
	if cfg.AlarmEmail != "" {
		alarmEmail = pulumi.String(cfg.AlarmEmail)
	}
	analytics := analyticsArgs(cfg, alarmEmail, tags)
	analytics.TableStreamArn, analytics.TableKMSKeyArn = table.StreamArn, table.KMSKeyArn
	analytics.DataBucket, analytics.FailedRecordsBucket, analytics.QueryResultsBucket =
		store.data.Ref(), store.failedRecords.Ref(), store.queryResults.Ref()
	// Paused when a standby in a replica region reads instead (after a failover).
	analytics.Paused = cfg.ActiveAnalyticsRegion() != cfg.Region
	pipeline, err := components.NewAnalyticsPipeline(ctx, "analytics", &analytics)
	if err != nil {
		return err
	}

	// Replicas of the table in other regions, watched; the chatbot's name
	// fails over to them (after the pipeline: they alarm to its topic).
	var alarmTopic pulumi.StringInput
	if cfg.AlarmsEnabled {
		alarmTopic = pipeline.AlarmTopicArn
	}
	global, err := newFailover(ctx, cfg, table, alarmTopic, tags)
	if err != nil {
		return err
	}
	if global != nil {
		ctx.Export("replicaArns", global.ReplicaArns)
		ctx.Export("failoverRecordName", global.RecordName)
		ctx.Export("healthCheckIds", global.HealthCheckIDs)
	}

	// With standbyAnalytics, a paused copy of the pipeline in each replica
	// region, reading that replica's stream, to switch on after a failover;
	// what it writes under raw/ replicates home to the data bucket.
	standbys, err := newStandbyAnalytics(ctx, cfg, global, store.data, analytics)
	if err != nil {
		return err
	}
	mappings := pulumi.StringMap{cfg.Region: pipeline.RouterMappingUUID}
	for region, p := range standbys {
		mappings[region] = p.RouterMappingUUID
	}
	ctx.Export("analyticsRegion", pulumi.String(cfg.ActiveAnalyticsRegion()))
	ctx.Export("routerMappings", mappings)

	// The table's backups: a gap-free chain of exports into the backup
	// bucket, and AWS Backup recovery points, copied to the first replica
	// region when there is one. Alarms go to the pipeline's topic (none when
	// alarms are off: alarmTopic is nil then, never an empty ARN).
	var copyTo string
	if len(cfg.ReplicaRegions) > 0 {
		copyTo = cfg.ReplicaRegions[0]
	}
	var lock *components.VaultLock
	if cfg.BackupVaultLock {
		lock = &components.VaultLock{} // governance mode, the plan's retentions
	}
	backups, err := components.NewBackupSchedule(ctx, "backups", &components.BackupScheduleArgs{
		TableName:           table.TableName,
		TableArn:            table.TableArn,
		TableKMSKeyArn:      table.KMSKeyArn,
		Bucket:              store.backups.Ref(),
		IncrementalSchedule: cfg.IncrementalExportSchedule,
		FullSchedule:        cfg.FullExportSchedule,
		DailyRetentionDays:  cfg.BackupRetentionDays,
		// A weekly point is kept at least as long as a daily one.
		WeeklyRetentionDays:      max(cfg.WeeklyBackupRetentionDays, cfg.BackupRetentionDays),
		CopyToRegion:             copyTo,
		VaultLock:                lock,
		ForceDestroy:             cfg.ForceDestroyBuckets,
		LogRetentionDays:         cfg.LogRetentionDays,
		KMSKeyDeletionWindowDays: cfg.KMSKeyDeletionWindowDays,
		Alarms:                   components.BackupAlarms{TopicArn: alarmTopic},
		Tags:                     tags,
	})
	if err != nil {
		return err
	}

	// A monthly restore drill of the table: restore to the latest restorable
	// time into a scratch table, verify, delete; alarms on any failure.
	drill, err := components.NewRestoreDrill(ctx, "restore-drill", &components.RestoreDrillArgs{
		SourceTableName:      table.TableName,
		SourceTableArn:       table.TableArn,
		SourceTableKMSKeyArn: table.KMSKeyArn,
		AlarmTopicArn:        alarmTopic, // nil when alarms are off
		Tags:                 tags,
	})
	if err != nil {
		return err
	}

	// Each event once, in an Iceberg table under processed/ of the data
	// bucket, kept by a daily Step Functions workflow of Athena queries;
	// the optional QuickSight and OpenSearch Serverless sinks are on when
	// their setting names a principal. Alarms go to the pipeline's topic.
	var quickSight *components.QuickSightSink
	if cfg.QuickSightPrincipalARN != "" {
		quickSight = &components.QuickSightSink{PrincipalArn: cfg.QuickSightPrincipalARN}
	}
	var openSearch *components.OpenSearchSink
	if cfg.OpenSearchReaderARN != "" {
		openSearch = &components.OpenSearchSink{
			ReaderArn:            cfg.OpenSearchReaderARN,
			EventStreamArn:       pipeline.EventStreamArn,
			EventStreamKMSKeyArn: pipeline.EventStreamKMSKeyArn,
			// Standby replicas double the minimum: 2 OCUs instead of 1 (see openSearchReaderArn).
			StandbyReplicas: !stackconfig.IsDevStack(cfg.Stack),
		}
	}
	processed, err := components.NewProcessedLayer(ctx, "processed", &components.ProcessedLayerArgs{
		DatabaseName:       pipeline.GlueDatabaseName,
		RawTableName:       pipeline.GlueTableName,
		Workgroup:          pipeline.WorkgroupName,
		DataBucket:         store.data.Ref(),
		QueryResultsBucket: store.queryResults.Ref(),
		AlarmTopicArn:      alarmTopic,
		RetentionDays:      cfg.AnalyticsRetentionDays,
		LogRetentionDays:   cfg.LogRetentionDays,
		ForceDestroy:       cfg.ForceDestroyBuckets,
		QuickSight:         quickSight,
		OpenSearch:         openSearch,
		Tags:               tags,
	})
	if err != nil {
		return err
	}

	ctx.Export("region", pulumi.String(cfg.Region))
	ctx.Export("tableName", table.TableName)
	ctx.Export("tableArn", table.TableArn)
	ctx.Export("streamArn", table.StreamArn)
	ctx.Export("kmsKeyArn", table.KMSKeyArn)
	ctx.Export("dataBucketName", store.data.BucketName)
	ctx.Export("backupBucketName", store.backups.BucketName)
	ctx.Export("queryResultsBucketName", store.queryResults.BucketName)
	ctx.Export("accessLogBucketName", store.accessLogs.BucketName)
	ctx.Export("failedRecordsBucketName", store.failedRecords.BucketName)
	ctx.Export("eventStreamName", pipeline.EventStreamName)
	ctx.Export("routerFunctionName", pipeline.RouterFunctionName)
	ctx.Export("deliveryStreamName", pipeline.DeliveryStreamName)
	ctx.Export("glueDatabaseName", pipeline.GlueDatabaseName)
	ctx.Export("athenaWorkgroupName", pipeline.WorkgroupName)
	ctx.Export("alarmTopicArn", pipeline.AlarmTopicArn)
	ctx.Export("restoreDrillStateMachineArn", drill.StateMachineArn)
	ctx.Export("restoreDrillDeadLetterQueueArn", drill.DeadLetterQueueArn)
	ctx.Export("processedTableName", processed.ProcessedTableName)
	ctx.Export("processedStateMachineArn", processed.StateMachineArn)
	ctx.Export("backupFunctionName", backups.OrchestratorFunctionName)
	ctx.Export("backupStateParameter", backups.StateParameterName)
	ctx.Export("backupExportLocation", backups.ExportLocation)
	ctx.Export("backupDeadLetterQueueArn", backups.DeadLetterQueueArn)
	ctx.Export("backupVaultName", backups.VaultName)
	ctx.Export("backupCopyVaultArn", backups.CopyVaultArn)
	return nil
}

// analyticsArgs are the pipeline's settings from the stack, shared by the
// pipeline and its standbys; the caller adds the stream and the buckets.
func analyticsArgs(cfg stackconfig.Settings, alarmEmail pulumi.StringInput, tags map[string]string) components.AnalyticsPipelineArgs {
	return components.AnalyticsPipelineArgs{
		RouterBatchSize:           cfg.RouterBatchSize,
		RouterParallelization:     cfg.RouterParallelization,
		RouterMaxRetries:          cfg.RouterMaxRetries,
		RouterMaxRecordAgeSeconds: cfg.RouterMaxRecordAgeSeconds,
		LogRetentionDays:          cfg.LogRetentionDays,
		StreamMode:                cfg.KinesisStreamMode,
		StreamShardCount:          cfg.KinesisShardCount,
		StreamRetentionHours:      cfg.KinesisRetentionHours,
		ScanLimitBytes:            cfg.AthenaScanLimitGB << 30,
		ForceDestroy:              cfg.ForceDestroyBuckets,
		Alarms: components.PipelineAlarms{
			Disabled:           !cfg.AlarmsEnabled,
			Email:              alarmEmail,
			IteratorAgeSeconds: cfg.IteratorAgeAlarmSeconds,
			FreshnessSeconds:   cfg.DeliveryFreshnessAlarmSecs,
		},
		Tags: tags,
	}
}
