package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func lifecycleOf(t *testing.T, args components.DataLifecycleArgs) preview.Resource {
	t.Helper()
	result := run(t, func(ctx *pulumi.Context) error {
		args.Bucket = pulumi.String("manga-assist-data-0123456")
		_, err := components.NewDataLifecycle(ctx, "data-lifecycle", &args)
		return err
	})
	kids := children(t, result, "manga-assist:data:DataLifecycle", "data-lifecycle")
	require.Len(t, kids, 1)
	res := kids["aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"]
	assert.Equal(t, "manga-assist-data-0123456", res.Inputs["bucket"])
	return res
}

func rule(id, prefix string, fields map[string]any) map[string]any {
	r := map[string]any{"id": id, "status": "Enabled", "filter": map[string]any{"prefix": prefix}}
	for k, v := range fields {
		r[k] = v
	}
	return r
}

func transitions(pairs ...any) []any {
	var out []any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"days": float64(pairs[i].(int)), "storageClass": pairs[i+1]})
	}
	return out
}

func TestDataLifecycleDesignRules(t *testing.T) {
	res := lifecycleOf(t, components.DataLifecycleArgs{Tiers: components.AnalyticsTiers(2555, 30)})
	assert.Equal(t, "all_storage_classes_128K", res.Inputs["transitionDefaultMinimumObjectSize"])
	assert.Equal(t, []any{
		rule("tier-raw", "raw/", map[string]any{
			"transitions": transitions(30, "STANDARD_IA", 90, "GLACIER_IR", 365, "DEEP_ARCHIVE"),
			"expiration":  map[string]any{"days": 2555.0}}),
		rule("tier-errors", "errors/", map[string]any{"expiration": map[string]any{"days": 30.0}}),
		rule("noncurrent-versions", "", map[string]any{"noncurrentVersionExpiration": map[string]any{"noncurrentDays": 30.0}}),
		rule("expired-delete-markers", "", map[string]any{"expiration": map[string]any{"expiredObjectDeleteMarker": true}}),
		rule("abort-incomplete-multipart", "", map[string]any{"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 7.0}}),
	}, res.Inputs["rules"])
}

func TestDataLifecycleSettings(t *testing.T) {
	res := lifecycleOf(t, components.DataLifecycleArgs{
		Tiers:                        components.ExpireAfter("", 14),
		Versioned:                    pulumi.BoolRef(false),
		AbortIncompleteMultipartDays: 2,
		MinimumObjectSize:            components.VariesByClass,
	})
	assert.Equal(t, "varies_by_storage_class", res.Inputs["transitionDefaultMinimumObjectSize"])
	assert.Equal(t, []any{
		rule("tier-all", "", map[string]any{"expiration": map[string]any{"days": 14.0}}),
		rule("abort-incomplete-multipart", "", map[string]any{"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 2.0}}),
	}, res.Inputs["rules"], "an unversioned bucket gets no noncurrent-version or delete-marker rules")
}

func TestDataLifecycleRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		args components.DataLifecycleArgs
		want string
	}{
		"no bucket": {components.DataLifecycleArgs{Tiers: components.ExpireAfter("", 1)}, "DataLifecycleArgs.Bucket: required"},
		"no tiers":  {components.DataLifecycleArgs{Bucket: pulumi.String("b")}, "DataLifecycleArgs.Tiers: at least one tier"},
		"bad tier": {components.DataLifecycleArgs{Bucket: pulumi.String("b"), Tiers: []components.Tier{
			{Prefix: "raw/", ExpireDays: 100, Transitions: []components.Transition{{Days: 10, Class: components.StandardIA}}}}},
			`DataLifecycleArgs.Tiers[0] (prefix "raw/").Transitions[0] STANDARD_IA at day 10: S3 moves objects to STANDARD_IA no earlier than day 30`},
		"overlap": {components.DataLifecycleArgs{Bucket: pulumi.String("b"), Tiers: append(components.ExpireAfter("raw/", 5), components.ExpireAfter("raw/x/", 9)...)},
			`DataLifecycleArgs.Tiers[1] (prefix "raw/x/"): overlaps Tiers[0]`},
		"min size": {components.DataLifecycleArgs{Bucket: pulumi.String("b"), Tiers: components.ExpireAfter("", 1), MinimumObjectSize: "tiny"},
			`DataLifecycleArgs.MinimumObjectSize "tiny"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewDataLifecycle(ctx, "l", &c.args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.ErrorContains(t, err, c.want)
		})
	}
}
