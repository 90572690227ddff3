package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BucketReplicationArgs configures a BucketReplication. Every field is
// required but Prefix.
type BucketReplicationArgs struct {
	// Source is the bucket whose new objects are copied: versioned and
	// SSE-KMS encrypted (a SecureBucket), in SourceRegion.
	Source       BucketRef
	SourceRegion string
	// Destination receives the copies, encrypted with its own key: a
	// versioned SecureBucket, in DestinationRegion.
	Destination       BucketRef
	DestinationRegion string
	// Prefix limits replication to keys under it. Default "": every key.
	Prefix string
	// Tags go on the role, beside component=BucketReplication.
	Tags map[string]string
}

// BucketReplication copies every new object of a bucket (under a prefix)
// into a bucket in another region, with S3 Replication: the role S3 assumes
// and the replication configuration. A standby analytics pipeline uses it
// to bring the Parquet it wrote during a failover home to the data bucket.
//
// S3 retries an object whose destination cannot be reached; its status
// stays PENDING until it is copied. FAILED is kept for causes the owner
// must fix (a missing permission or key), which S3 does not retry: S3 Batch
// Replication copies those once fixed (S3 User Guide, "Getting replication
// status information"). Deletions are not replicated: the copies age with
// the destination's own lifecycle.
type BucketReplication struct {
	pulumi.ResourceState

	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
}

// NewBucketReplication creates the role and the replication configuration
// on the source bucket.
func NewBucketReplication(ctx *pulumi.Context, name string, args *BucketReplicationArgs, opts ...pulumi.ResourceOption) (*BucketReplication, error) {
	if args == nil {
		args = &BucketReplicationArgs{}
	}
	var problems []string
	if args.Source.missing() {
		problems = append(problems, "Source: Name, Arn and KMSKeyArn are required")
	}
	if args.Destination.missing() {
		problems = append(problems, "Destination: Name, Arn and KMSKeyArn are required")
	}
	if args.SourceRegion == "" || args.DestinationRegion == "" {
		problems = append(problems, fmt.Sprintf("SourceRegion %q, DestinationRegion %q: both are required", args.SourceRegion, args.DestinationRegion))
	}
	if strings.HasPrefix(args.Prefix, "/") {
		problems = append(problems, fmt.Sprintf("Prefix %q: S3 keys do not start with /", args.Prefix))
	}
	if err := argsError("BucketReplicationArgs", problems); err != nil {
		return nil, err
	}
	a := *args
	c := &BucketReplication{}
	if err := ctx.RegisterComponentResource(typeToken("BucketReplication"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagsFor("BucketReplication", a.Tags)
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()

	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description: pulumi.Sprintf("S3 replication of %s into %s", a.Source.Name, a.Destination.Name),
		AssumeRolePolicy: account.ApplyT(func(account string) (string, error) {
			return assumeRolePolicy("s3.amazonaws.com", account)
		}).(pulumi.StringOutput),
		Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	policy := pulumi.All(a.Source.Arn, a.Source.KMSKeyArn, a.Destination.Arn, a.Destination.KMSKeyArn).ApplyT(func(v []any) (string, error) {
		return replicationPolicy(v[0].(string), v[1].(string), a.SourceRegion, v[2].(string), v[3].(string), a.DestinationRegion, a.Prefix)
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	if err != nil {
		return nil, err
	}

	// S3 checks the role when the configuration is put, so the policy goes
	// first; versioning must be on, which SecureBucket does before its
	// outputs resolve.
	if _, err := s3.NewBucketReplicationConfig(ctx, name, &s3.BucketReplicationConfigArgs{
		Bucket: a.Source.Name,
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{&s3.BucketReplicationConfigRuleArgs{
			Id:     pulumi.String("home-" + strings.TrimSuffix(a.Prefix, "/")),
			Status: pulumi.String("Enabled"),
			// A Filter (V2 schema) needs DeleteMarkerReplication set.
			Filter:                  &s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String(a.Prefix)},
			DeleteMarkerReplication: &s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Disabled")},
			// SSE-KMS objects are replicated only when asked, and then
			// re-encrypted with the destination's key (S3 User Guide,
			// "Replicating encrypted objects").
			SourceSelectionCriteria: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
				SseKmsEncryptedObjects: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{
					Status: pulumi.String("Enabled"),
				},
			},
			Destination: &s3.BucketReplicationConfigRuleDestinationArgs{
				Bucket: a.Destination.Arn,
				EncryptionConfiguration: &s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{
					ReplicaKmsKeyId: a.Destination.KMSKeyArn,
				},
			},
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy})); err != nil {
		return nil, err
	}
	c.RoleArn = role.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"roleArn": c.RoleArn})
}

// replicationPolicy is the role's policy, as the S3 User Guide lists it
// ("Setting up permissions for live replication", and "Replicating
// encrypted objects" for the keys): read the source's configuration and
// object versions, replicate into the destination, decrypt with the
// source's key and encrypt with the destination's, each only through S3 in
// its region.
func replicationPolicy(srcArn, srcKey, srcRegion, dstArn, dstKey, dstRegion, prefix string) (string, error) {
	return policyDocument(
		policyStatement{Sid: "ReadReplicationConfiguration", Effect: "Allow",
			Action: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resource: srcArn},
		policyStatement{Sid: "ReadSourceVersions", Effect: "Allow",
			Action:   []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"},
			Resource: srcArn + "/" + prefix + "*"},
		policyStatement{Sid: "WriteReplicas", Effect: "Allow",
			Action:   []string{"s3:ReplicateObject", "s3:ReplicateTags"},
			Resource: dstArn + "/" + prefix + "*"},
		policyStatement{Sid: "DecryptSource", Effect: "Allow", Action: "kms:Decrypt", Resource: srcKey,
			Condition: map[string]any{"StringEquals": map[string]string{"kms:ViaService": "s3." + srcRegion + ".amazonaws.com"}}},
		policyStatement{Sid: "EncryptReplicas", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:GenerateDataKey"}, Resource: dstKey,
			Condition: map[string]any{"StringEquals": map[string]string{"kms:ViaService": "s3." + dstRegion + ".amazonaws.com"}}},
	)
}
