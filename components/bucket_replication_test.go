package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func replicationArgs() components.BucketReplicationArgs {
	return components.BucketReplicationArgs{
		Source: components.BucketRef{Name: pulumi.String("standby"), Arn: pulumi.String("arn:aws:s3:::standby"),
			KMSKeyArn: pulumi.String("arn:aws:kms:us-west-2:123456789012:key/src")},
		SourceRegion: "us-west-2",
		Destination: components.BucketRef{Name: pulumi.String("home"), Arn: pulumi.String("arn:aws:s3:::home"),
			KMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/dst")},
		DestinationRegion: "us-east-1",
		Prefix:            "raw/",
	}
}

// The role S3 assumes reads only the source's prefix and writes only the
// destination's, decrypts with the source key through S3 of its region and
// encrypts with the destination's key through S3 of the other; objects
// encrypted with KMS are selected and re-encrypted; deletions stay behind.
func TestBucketReplicationIsScopedAndReencrypts(t *testing.T) {
	r := run(t, func(ctx *pulumi.Context) error {
		args := replicationArgs()
		_, err := components.NewBucketReplication(ctx, "home", &args)
		return err
	})
	kids := children(t, r, "manga-assist:data:BucketReplication", "home")

	trust := statements(t, kids["aws:iam/role:Role"].Inputs["assumeRolePolicy"])["0"]
	assert.Equal(t, map[string]any{"Service": "s3.amazonaws.com"}, trust["Principal"])
	assert.Nil(t, trust["Condition"], "S3's replication guide sets none")

	policy := statements(t, kids["aws:iam/rolePolicy:RolePolicy"].Inputs["policy"])
	assert.Equal(t, "arn:aws:s3:::standby/raw/*", policy["ReadSourceVersions"]["Resource"])
	assert.Equal(t, "arn:aws:s3:::home/raw/*", policy["WriteReplicas"]["Resource"])
	assert.NotContains(t, policy["WriteReplicas"]["Action"], "s3:ReplicateDelete", "deletions are not replicated")
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:key/src", policy["DecryptSource"]["Resource"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3.us-west-2.amazonaws.com"}}, policy["DecryptSource"]["Condition"])
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/dst", policy["EncryptReplicas"]["Resource"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3.us-east-1.amazonaws.com"}}, policy["EncryptReplicas"]["Condition"])

	cfg := kids["aws:s3/bucketReplicationConfig:BucketReplicationConfig"].Inputs
	assert.Equal(t, "standby", cfg["bucket"])
	rule := cfg["rules"].([]any)[0].(map[string]any)
	assert.Equal(t, "Enabled", rule["status"])
	assert.Equal(t, map[string]any{"prefix": "raw/"}, rule["filter"])
	assert.Equal(t, map[string]any{"status": "Disabled"}, rule["deleteMarkerReplication"])
	assert.Equal(t, map[string]any{"sseKmsEncryptedObjects": map[string]any{"status": "Enabled"}}, rule["sourceSelectionCriteria"])
	assert.Equal(t, map[string]any{"bucket": "arn:aws:s3:::home",
		"encryptionConfiguration": map[string]any{"replicaKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/dst"}}, rule["destination"])
}

func TestBucketReplicationRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*components.BucketReplicationArgs)
		want string
	}{
		"no source":      {func(a *components.BucketReplicationArgs) { a.Source = components.BucketRef{} }, "Source: Name, Arn and KMSKeyArn are required"},
		"no destination": {func(a *components.BucketReplicationArgs) { a.Destination.KMSKeyArn = nil }, "Destination: Name, Arn and KMSKeyArn are required"},
		"no region":      {func(a *components.BucketReplicationArgs) { a.DestinationRegion = "" }, `DestinationRegion ""`},
		"slash prefix":   {func(a *components.BucketReplicationArgs) { a.Prefix = "/raw/" }, `Prefix "/raw/"`},
	} {
		t.Run(name, func(t *testing.T) {
			args := replicationArgs()
			c.edit(&args)
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewBucketReplication(ctx, "home", &args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
