package components_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

// The rules the DataLifecycle component gives the provider, sent as they are
// (the provider's field names are S3's) through the S3 API of the emulator,
// read back unchanged.
//
// What this proves: the shape the component builds is one S3's API model
// takes and returns, field for field, so no rule is lost or renamed on the
// way. What it does not prove: that S3 accepts the values. moto accepts an
// unknown storage class, a transition to STANDARD_IA at day 10 and an expiry
// before a transition, all of which S3 refuses; those rules are enforced by
// lifecycle.Policy.Validate before the component creates anything, and its
// tests in internal/lifecycle break each one.
func TestDataLifecycleRulesRoundTripThroughTheS3API(t *testing.T) {
	emu := emulator.New(t)
	if emu == nil {
		return
	}
	client := emu.S3()
	ctx := context.Background()
	for name, args := range map[string]components.DataLifecycleArgs{
		"design":        {Tiers: components.AnalyticsTiers(2555, 30)},
		"dev":           {Tiers: components.AnalyticsTiers(30, 7), NoncurrentVersionDays: 7},
		"backups":       {Tiers: components.BackupTiers(90)},
		"query-results": {Tiers: components.ExpireAfter("", 30), MinimumObjectSize: components.VariesByClass},
	} {
		t.Run(name, func(t *testing.T) {
			res := lifecycleOf(t, args)
			doc, err := json.Marshal(res.Inputs["rules"])
			require.NoError(t, err)
			var want []types.LifecycleRule
			strict := json.NewDecoder(bytes.NewReader(doc))
			strict.DisallowUnknownFields() // a field S3's model lacks would be lost
			require.NoError(t, strict.Decode(&want), "the provider's rule fields are S3's")
			require.NotEmpty(t, want)

			bucket := aws.String("lifecycle-" + name)
			_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
			require.NoError(t, err)
			_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			require.NoError(t, err)
			_, err = client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
				Bucket:                             bucket,
				LifecycleConfiguration:             &types.BucketLifecycleConfiguration{Rules: want},
				TransitionDefaultMinimumObjectSize: types.TransitionDefaultMinimumObjectSize(res.Inputs["transitionDefaultMinimumObjectSize"].(string)),
			})
			require.NoError(t, err)

			got, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
			require.NoError(t, err)
			assert.Equal(t, comparable(t, want), comparable(t, got.Rules), "the rules read back unchanged")
		})
	}
}

// comparable renders rules as JSON without their empty fields, so that a
// field S3 leaves out and one the component never set compare equal.
func comparable(t *testing.T, rules []types.LifecycleRule) []any {
	t.Helper()
	doc, err := json.Marshal(rules)
	require.NoError(t, err)
	var out []any
	require.NoError(t, json.Unmarshal(doc, &out))
	return pruned(out).([]any)
}

func pruned(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x = pruned(x); x != nil {
				out[k] = x
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(v) == 0 {
			return nil
		}
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = pruned(x)
		}
		return out
	}
	return v
}
