package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// storage is the stack's buckets. Every one is a SecureBucket with a
// DataLifecycle; all but the log bucket send their access logs to it.
type storage struct {
	accessLogs, data, failedRecords, backups, queryResults *components.SecureBucket
}

// bucketPlan is one bucket and how its objects age.
type bucketPlan struct {
	name  string
	tiers []components.Tier
	into  **components.SecureBucket
}

func newStorage(ctx *pulumi.Context, cfg stackconfig.Settings, tags map[string]string) (storage, error) {
	var s storage
	secure := func(receivesLogs bool) components.SecureBucketArgs {
		args := components.SecureBucketArgs{
			ReceivesAccessLogs:       receivesLogs,
			KMSKeyDeletionWindowDays: cfg.KMSKeyDeletionWindowDays,
			ForceDestroy:             cfg.ForceDestroyBuckets,
			Protect:                  cfg.DeletionProtection,
			Tags:                     tags,
		}
		if !receivesLogs {
			args.LogBucket = s.accessLogs.BucketName
		}
		return args
	}
	plans := []bucketPlan{
		// The log bucket first: the others name it.
		{"manga-assist-access-logs", components.ExpireAfter("", cfg.AccessLogRetentionDays), &s.accessLogs},
		{"manga-assist-data", components.AnalyticsTiers(cfg.AnalyticsRetentionDays, cfg.ErrorsRetentionDays), &s.data},
		// Batches the stream router gave up on, in full, for replay.
		{"manga-assist-failed-records", components.ExpireAfter("", cfg.ErrorsRetentionDays), &s.failedRecords},
		{"manga-assist-backups", components.BackupTiers(cfg.BackupRetentionDays), &s.backups},
		{"manga-assist-query-results", components.ExpireAfter("", cfg.QueryResultsRetentionDays), &s.queryResults},
	}
	for _, p := range plans {
		args := secure(p.into == &s.accessLogs)
		bucket, err := components.NewSecureBucket(ctx, p.name, &args)
		if err != nil {
			return s, err
		}
		if _, err := components.NewDataLifecycle(ctx, p.name+"-lifecycle", &components.DataLifecycleArgs{
			Bucket:                bucket.BucketName,
			Tiers:                 p.tiers,
			NoncurrentVersionDays: cfg.NoncurrentVersionDays,
		}); err != nil {
			return s, err
		}
		*p.into = bucket
	}
	return s, nil
}
