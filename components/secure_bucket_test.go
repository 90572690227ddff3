package components_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

const bucketType = "manga-assist:data:SecureBucket"

// twoBuckets creates a log bucket and a data bucket logging to it.
func twoBuckets(t *testing.T, data components.SecureBucketArgs) preview.Result {
	t.Helper()
	return run(t, func(ctx *pulumi.Context) error {
		logs, err := components.NewSecureBucket(ctx, "logs", &components.SecureBucketArgs{ReceivesAccessLogs: true})
		if err != nil {
			return err
		}
		data.LogBucket = logs.BucketName
		_, err = components.NewSecureBucket(ctx, "data", &data)
		return err
	})
}

func policyDoc(t *testing.T, res preview.Resource) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Inputs["policy"].(string)), &doc))
	return doc
}

func TestSecureBucketDefaults(t *testing.T) {
	result := twoBuckets(t, components.SecureBucketArgs{Tags: map[string]string{"environment": "unit"}})
	kids := children(t, result, bucketType, "data")
	bucket := kids["aws:s3/bucketV2:BucketV2"]
	name := "data-" // auto-named with a suffix, as Pulumi does
	require.NotEmpty(t, bucket.URN)
	assert.Equal(t, false, bucket.Inputs["forceDestroy"], "never force-destroyed unless asked")
	assert.False(t, bucket.Protect)
	assert.Equal(t, map[string]any{"component": "SecureBucket", "environment": "unit"}, bucket.Inputs["tags"])

	for typ, want := range map[string]map[string]any{
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {"rule": map[string]any{"objectOwnership": "BucketOwnerEnforced"}},
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true},
		"aws:s3/bucketVersioningV2:BucketVersioningV2": {"versioningConfiguration": map[string]any{"status": "Enabled"}},
	} {
		res, ok := kids[typ]
		require.True(t, ok, "missing %s", typ)
		assert.Regexp(t, "^"+name, res.Inputs["bucket"], "%s targets the bucket", typ)
		assert.Contains(t, res.Dependencies, bucket.URN, "%s depends on the bucket", typ)
		for k, v := range want {
			assert.Equal(t, v, res.Inputs[k], "%s.%s", typ, k)
		}
	}

	key := kids["aws:kms/key:Key"]
	assert.Equal(t, true, key.Inputs["enableKeyRotation"])
	assert.Equal(t, "alias/test/unit/s3-data", kids["aws:kms/alias:Alias"].Inputs["name"])
	sse := kids["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"]
	rule := sse.Inputs["rules"].([]any)[0].(map[string]any)
	assert.Equal(t, true, rule["bucketKeyEnabled"])
	byDefault := rule["applyServerSideEncryptionByDefault"].(map[string]any)
	assert.Equal(t, "aws:kms", byDefault["sseAlgorithm"])
	assert.Regexp(t, `^arn:aws:kms:us-east-1:123456789012:key/`, byDefault["kmsMasterKeyId"])

	logging := kids["aws:s3/bucketLoggingV2:BucketLoggingV2"]
	assert.Regexp(t, "^logs-", logging.Inputs["targetBucket"])
	assert.Equal(t, "data/", logging.Inputs["targetPrefix"])
	assert.Equal(t, map[string]any{"partitionedPrefix": map[string]any{"partitionDateSource": "EventTime"}},
		logging.Inputs["targetObjectKeyFormat"])

	policy := kids["aws:s3/bucketPolicy:BucketPolicy"]
	doc := policyDoc(t, policy)
	bucketArn := "arn:aws:s3:::" + policy.Inputs["bucket"].(string)
	assert.Equal(t, map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []any{bucketArn, bucketArn + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	}, doc)
	publicAccess := kids["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]
	assert.Contains(t, policy.Dependencies, publicAccess.URN, "the policy waits for the public-access block")
}

func TestAccessLogBucket(t *testing.T) {
	result := twoBuckets(t, components.SecureBucketArgs{})
	kids := children(t, result, bucketType, "logs")
	assert.NotContains(t, kids, "aws:kms/key:Key", "access-log buckets use SSE-S3: S3 cannot log into SSE-KMS")
	assert.NotContains(t, kids, "aws:s3/bucketLoggingV2:BucketLoggingV2", "the log bucket does not log into itself")
	assert.Contains(t, kids, "aws:s3/bucketVersioningV2:BucketVersioningV2")
	assert.Contains(t, kids, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")

	sse := kids["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"]
	rule := sse.Inputs["rules"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"sseAlgorithm": "AES256"}, rule["applyServerSideEncryptionByDefault"])

	policy := kids["aws:s3/bucketPolicy:BucketPolicy"]
	statements := policyDoc(t, policy)["Statement"].([]any)
	require.Len(t, statements, 2)
	assert.Equal(t, "DenyInsecureTransport", statements[0].(map[string]any)["Sid"])
	assert.Equal(t, map[string]any{
		"Sid": "AllowServerAccessLogDelivery", "Effect": "Allow",
		"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"},
		"Action":    "s3:PutObject",
		"Resource":  "arn:aws:s3:::" + policy.Inputs["bucket"].(string) + "/*",
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}},
	}, statements[1])
}

func TestSecureBucketDeletionSettings(t *testing.T) {
	forced := twoBuckets(t, components.SecureBucketArgs{ForceDestroy: true})
	assert.Equal(t, true, children(t, forced, bucketType, "data")["aws:s3/bucketV2:BucketV2"].Inputs["forceDestroy"])

	protected := twoBuckets(t, components.SecureBucketArgs{Protect: true})
	assert.True(t, children(t, protected, bucketType, "data")["aws:s3/bucketV2:BucketV2"].Protect)
}

func TestSecureBucketGivenKey(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	kids := children(t, twoBuckets(t, components.SecureBucketArgs{KMSKeyARN: pulumi.String(key)}), bucketType, "data")
	assert.NotContains(t, kids, "aws:kms/key:Key")
	sse := kids["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"]
	byDefault := sse.Inputs["rules"].([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)
	assert.Equal(t, key, byDefault["kmsMasterKeyId"])
}

func TestSecureBucketRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		args components.SecureBucketArgs
		want string
	}{
		"no log bucket":           {components.SecureBucketArgs{}, "SecureBucketArgs.LogBucket: required"},
		"force destroy protected": {components.SecureBucketArgs{ReceivesAccessLogs: true, ForceDestroy: true, Protect: true}, "SecureBucketArgs.ForceDestroy true with Protect true"},
		"key window":              {components.SecureBucketArgs{ReceivesAccessLogs: true, KMSKeyDeletionWindowDays: 60}, "SecureBucketArgs.KMSKeyDeletionWindowDays 60: must be 7 to 30"},
		"log sources on a data bucket": {components.SecureBucketArgs{LogBucket: pulumi.String("logs"), LogSourceBucketArns: pulumi.StringArray{pulumi.String("arn:aws:s3:::x")}},
			"SecureBucketArgs.LogSourceBucketArns: only a bucket with ReceivesAccessLogs receives logs"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewSecureBucket(ctx, "b", &c.args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// A named bucket keeps its name; a log bucket given its sources lets S3
// deliver only their logs, and its AccessLogTarget carries the dependency
// on its policy to whoever logs there.
func TestSecureBucketLogTargetAndSources(t *testing.T) {
	result := run(t, func(ctx *pulumi.Context) error {
		logs, err := components.NewSecureBucket(ctx, "logs", &components.SecureBucketArgs{
			ReceivesAccessLogs:  true,
			BucketName:          pulumi.String("shop-logs-unit"),
			LogSourceBucketArns: pulumi.StringArray{pulumi.String("arn:aws:s3:::shop-data-unit")},
		})
		if err != nil {
			return err
		}
		_, err = components.NewSecureBucket(ctx, "data", &components.SecureBucketArgs{
			LogBucket: logs.AccessLogTarget, BucketName: pulumi.String("shop-data-unit")})
		return err
	})
	logKids := children(t, result, bucketType, "logs")
	assert.Equal(t, "shop-logs-unit", logKids["aws:s3/bucketV2:BucketV2"].Inputs["bucket"])
	statements := policyDoc(t, logKids["aws:s3/bucketPolicy:BucketPolicy"])["Statement"].([]any)
	assert.Equal(t, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
		"ArnLike":      map[string]any{"aws:SourceArn": []any{"arn:aws:s3:::shop-data-unit"}},
	}, statements[1].(map[string]any)["Condition"])

	logging := children(t, result, bucketType, "data")["aws:s3/bucketLoggingV2:BucketLoggingV2"]
	assert.Equal(t, "shop-logs-unit", logging.Inputs["targetBucket"])
	assert.Contains(t, logging.PropertyDependencies["targetBucket"], logKids["aws:s3/bucketPolicy:BucketPolicy"].URN,
		"logging is configured after the policy that lets S3 write")
}
