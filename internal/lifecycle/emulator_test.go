package lifecycle

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

// toS3 is the request S3 gets for rules: the same shape the DataLifecycle
// component gives BucketLifecycleConfigurationV2.
func toS3(rules []Rule) []types.LifecycleRule {
	out := make([]types.LifecycleRule, len(rules))
	for i, r := range rules {
		lr := types.LifecycleRule{
			ID:     aws.String(r.ID),
			Status: types.ExpirationStatusEnabled,
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String(r.Prefix)},
		}
		for _, tr := range r.Transitions {
			lr.Transitions = append(lr.Transitions, types.Transition{
				Days: aws.Int32(int32(tr.Days)), StorageClass: types.TransitionStorageClass(tr.Class)})
		}
		switch {
		case r.ExpireDays > 0:
			lr.Expiration = &types.LifecycleExpiration{Days: aws.Int32(int32(r.ExpireDays))}
		case r.ExpiredDeleteMarker:
			lr.Expiration = &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}
		}
		if r.NoncurrentExpireDays > 0 {
			lr.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(r.NoncurrentExpireDays))}
		}
		if r.AbortMultipartDays > 0 {
			lr.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(r.AbortMultipartDays))}
		}
		out[i] = lr
	}
	return out
}

// fromS3 reads rules back into the package's model.
func fromS3(t *testing.T, rules []types.LifecycleRule) []Rule {
	out := make([]Rule, len(rules))
	for i, lr := range rules {
		require.Equal(t, types.ExpirationStatusEnabled, lr.Status)
		r := Rule{ID: aws.ToString(lr.ID)}
		if lr.Filter != nil {
			r.Prefix = aws.ToString(lr.Filter.Prefix)
		}
		for _, tr := range lr.Transitions {
			r.Transitions = append(r.Transitions, Transition{Days: int(aws.ToInt32(tr.Days)), Class: StorageClass(tr.StorageClass)})
		}
		if e := lr.Expiration; e != nil {
			r.ExpireDays = int(aws.ToInt32(e.Days))
			r.ExpiredDeleteMarker = aws.ToBool(e.ExpiredObjectDeleteMarker)
		}
		if n := lr.NoncurrentVersionExpiration; n != nil {
			r.NoncurrentExpireDays = int(aws.ToInt32(n.NoncurrentDays))
		}
		if a := lr.AbortIncompleteMultipartUpload; a != nil {
			r.AbortMultipartDays = int(aws.ToInt32(a.DaysAfterInitiation))
		}
		out[i] = r
	}
	return out
}

func TestGeneratedConfigurationRoundTripsThroughS3(t *testing.T) {
	emu := emulator.New(t)
	client := emu.S3()
	ctx := context.Background()

	for name, p := range map[string]Policy{
		"design":     designPolicy(),
		"dev":        {Tiers: AnalyticsTiers(30, 7), Versioned: true, NoncurrentExpireDays: 7, AbortMultipartDays: 7, MinimumObjectSize: DefaultMinimumObjectSize},
		"backups":    {Tiers: BackupTiers(90), Versioned: true, NoncurrentExpireDays: 30, AbortMultipartDays: 7, MinimumObjectSize: DefaultMinimumObjectSize},
		"query-logs": {Tiers: ExpireAfter("", 30), Versioned: true, NoncurrentExpireDays: 7, AbortMultipartDays: 7, MinimumObjectSize: DefaultMinimumObjectSize},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, p.Validate())
			bucket := aws.String("lifecycle-" + name)
			_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
			require.NoError(t, err)
			_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			require.NoError(t, err)

			want := p.Rules()
			_, err = client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
				Bucket:                             bucket,
				LifecycleConfiguration:             &types.BucketLifecycleConfiguration{Rules: toS3(want)},
				TransitionDefaultMinimumObjectSize: types.TransitionDefaultMinimumObjectSize(p.MinimumObjectSize),
			})
			require.NoError(t, err, "S3 accepts the generated configuration")

			got, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
			require.NoError(t, err)
			assert.Equal(t, want, fromS3(t, got.Rules), "the configuration reads back unchanged")
		})
	}
}
