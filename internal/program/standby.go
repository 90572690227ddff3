package program

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// Standby buckets: <name>-<region code>-<stack>-<account>.
const (
	standbyDataBucket = "manga-assist-standby"
	standbyLogBucket  = "manga-assist-logs"
)

// newStandbyAnalytics creates, with standbyAnalytics, a copy of the
// analytics pipeline in each replica region of the table: it reads that
// replica's stream and writes to a data bucket of its region (S3 access
// logs go to a log bucket of the same region: S3 delivers them only
// there), and S3 Replication brings its raw/ home to the stack's data
// bucket, where the processed layer reads it. Only the pipeline of
// analyticsRegion reads its stream; the others are paused
// (docs/components/global-table-failover.md, "Analytics around a failover").
// Nil without standbyAnalytics.
func newStandbyAnalytics(ctx *pulumi.Context, cfg stackconfig.Settings, global *components.GlobalTableFailover,
	home *components.SecureBucket, base components.AnalyticsPipelineArgs) (map[string]*components.AnalyticsPipeline, error) {
	if !cfg.StandbyAnalytics || global == nil {
		return nil, nil
	}
	identity := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{})
	standbys := map[string]*components.AnalyticsPipeline{}
	for _, region := range slices.Sorted(maps.Keys(global.Replicas)) {
		replica := global.Replicas[region]
		code := stackconfig.RegionCode(region)
		inRegion := pulumi.Provider(replica.Provider)
		physical := func(logical string) (pulumi.StringOutput, error) {
			name := bucketName(logical+"-"+code, cfg.Stack, "123456789012")
			if len(name) > stackconfig.MaxBucketNameLength {
				return pulumi.StringOutput{}, fmt.Errorf("standby bucket %s of stack %q: the name would be %d characters, S3 allows %d",
					logical+"-"+code, cfg.Stack, len(name), stackconfig.MaxBucketNameLength)
			}
			return identity.AccountId().ApplyT(func(account string) string {
				return bucketName(logical+"-"+code, cfg.Stack, account)
			}).(pulumi.StringOutput), nil
		}
		dataName, err := physical(standbyDataBucket)
		if err != nil {
			return nil, err
		}
		logName, err := physical(standbyLogBucket)
		if err != nil {
			return nil, err
		}
		dataArn := pulumi.All(identity.Arn(), dataName).ApplyT(func(v []any) string {
			return "arn:" + strings.Split(v[0].(string), ":")[1] + ":s3:::" + v[1].(string)
		}).(pulumi.StringOutput)

		// A bucket of the region, aged by tiers, as the stack's buckets are.
		bucket := func(logical string, args components.SecureBucketArgs, tiers []components.Tier) (*components.SecureBucket, error) {
			args.ForceDestroy, args.Protect, args.Tags = cfg.ForceDestroyBuckets, cfg.DeletionProtection, standbyTags(base.Tags, region)
			b, err := components.NewSecureBucket(ctx, logical+"-"+code, &args, inRegion)
			if err != nil {
				return nil, err
			}
			_, err = components.NewDataLifecycle(ctx, logical+"-"+code+"-lifecycle", &components.DataLifecycleArgs{
				Bucket: b.BucketName, Tiers: tiers, NoncurrentVersionDays: cfg.NoncurrentVersionDays,
			}, inRegion)
			return b, err
		}
		logs, err := bucket(standbyLogBucket, components.SecureBucketArgs{
			BucketName: logName, ReceivesAccessLogs: true, LogSourceBucketArns: pulumi.StringArray{dataArn},
		}, components.ExpireAfter("", cfg.AccessLogRetentionDays))
		if err != nil {
			return nil, err
		}
		// One bucket for the standby's three: raw/ and errors/ as the data
		// bucket's, Athena's results under athena/, and the batches the
		// router gave up on under aws/lambda/, the prefix of Lambda's S3
		// on-failure records (not found stated in the Lambda guide; were it
		// another, those objects would be kept, not expired, never lost).
		tiers := components.AnalyticsTiers(cfg.AnalyticsRetentionDays, cfg.ErrorsRetentionDays)
		tiers = append(tiers, components.ExpireAfter("athena/", cfg.QueryResultsRetentionDays)...)
		tiers = append(tiers, components.ExpireAfter("aws/lambda/", cfg.ErrorsRetentionDays)...)
		data, err := bucket(standbyDataBucket, components.SecureBucketArgs{
			BucketName: dataName, LogBucket: logs.AccessLogTarget, KMSKeyDeletionWindowDays: cfg.KMSKeyDeletionWindowDays,
		}, tiers)
		if err != nil {
			return nil, err
		}

		args := base
		args.Tags = standbyTags(base.Tags, region)
		args.TableStreamArn, args.TableKMSKeyArn = replica.StreamArn, replica.KMSKeyArn
		args.DataBucket, args.FailedRecordsBucket, args.QueryResultsBucket = data.Ref(), data.Ref(), data.Ref()
		args.Paused = cfg.ActiveAnalyticsRegion() != region
		standby, err := components.NewAnalyticsPipeline(ctx, "analytics-"+code, &args, inRegion)
		if err != nil {
			return nil, err
		}
		if _, err := components.NewBucketReplication(ctx, "analytics-"+code+"-home", &components.BucketReplicationArgs{
			Source:            data.Ref(),
			SourceRegion:      region,
			Destination:       home.Ref(),
			DestinationRegion: cfg.Region,
			Prefix:            "raw/",
			Tags:              standbyTags(base.Tags, region),
		}, inRegion); err != nil {
			return nil, err
		}
		standbys[region] = standby
	}
	return standbys, nil
}

// standbyTags are the stack's tags and the standby's region.
func standbyTags(stack map[string]string, region string) map[string]string {
	out := maps.Clone(stack)
	if out == nil {
		out = map[string]string{}
	}
	out["standby-region"] = region
	return out
}
