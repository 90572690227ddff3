package program

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
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

// bucketName is the physical name of a stack's bucket: its logical name, the
// stack and the account, so that names are unique across accounts and known
// before the buckets exist (the log bucket's policy lists them).
func bucketName(logical, stack, account string) string {
	return logical + "-" + stack + "-" + account
}

func newStorage(ctx *pulumi.Context, cfg stackconfig.Settings, tags map[string]string) (storage, error) {
	var s storage
	identity := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{})
	physical := func(logical string) pulumi.StringOutput {
		return identity.AccountId().ApplyT(func(account string) string {
			return bucketName(logical, cfg.Stack, account)
		}).(pulumi.StringOutput)
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
	// The stack name was checked against the longest of these up front; a
	// bucket added with a longer name must fail here, not in S3.
	for _, p := range plans {
		if n := len(bucketName(p.name, cfg.Stack, "123456789012")); n > stackconfig.MaxBucketNameLength {
			return s, fmt.Errorf("bucket %s of stack %q: the name would be %d characters, S3 allows %d", p.name, cfg.Stack, n, stackconfig.MaxBucketNameLength)
		}
	}
	// Only this stack's buckets may deliver access logs to its log bucket.
	var sources pulumi.StringArray
	for _, p := range plans[1:] {
		name := physical(p.name)
		sources = append(sources, pulumi.All(identity.Arn(), name).ApplyT(func(v []any) string {
			partition := strings.Split(v[0].(string), ":")[1] // arn:<partition>:iam::…
			return "arn:" + partition + ":s3:::" + v[1].(string)
		}).(pulumi.StringOutput))
	}
	for _, p := range plans {
		args := components.SecureBucketArgs{
			BucketName:               physical(p.name),
			KMSKeyDeletionWindowDays: cfg.KMSKeyDeletionWindowDays,
			ForceDestroy:             cfg.ForceDestroyBuckets,
			Protect:                  cfg.DeletionProtection,
			Tags:                     tags,
		}
		if p.into == &s.accessLogs {
			args.ReceivesAccessLogs = true
			args.LogSourceBucketArns = sources
		} else {
			// Through the log bucket's policy: logging starts once S3 may write.
			args.LogBucket = s.accessLogs.AccessLogTarget
		}
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
