package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SecureBucketArgs configures a SecureBucket. Every field is optional except
// LogBucket, which a bucket that does not itself receive access logs needs.
type SecureBucketArgs struct {
	// LogBucket is the name of the bucket that receives this bucket's server
	// access logs (a SecureBucket with ReceivesAccessLogs).
	LogBucket pulumi.StringInput
	// LogPrefix is where in LogBucket the logs go. Default "<name>/".
	LogPrefix string
	// BucketName is the bucket's name. Default nil: Pulumi names it after
	// the component, with a random suffix.
	BucketName pulumi.StringInput
	// ReceivesAccessLogs makes this the stack's access-log bucket: SSE-S3,
	// because S3 cannot deliver access logs to an SSE-KMS bucket; a policy
	// that lets the S3 logging service write; no logging of its own. Pass
	// its AccessLogTarget, not its name, as the LogBucket of the others.
	// Default false.
	ReceivesAccessLogs bool
	// LogSourceBucketArns, with ReceivesAccessLogs, are the only buckets
	// whose access logs S3 may deliver here (aws:SourceArn). Default nil:
	// any bucket of this account.
	LogSourceBucketArns pulumi.StringArrayInput
	// KMSKeyARN encrypts objects (SSE-KMS with a bucket key). Default nil: a
	// key with rotation on is created. Ignored with ReceivesAccessLogs.
	KMSKeyARN pulumi.StringInput
	// KMSKeyDeletionWindowDays of a created key, 7-30. Default 30.
	KMSKeyDeletionWindowDays int
	// ForceDestroy lets `pulumi destroy` delete the bucket with everything in
	// it. Default false: destroying a bucket that holds data fails.
	ForceDestroy bool
	// Protect makes Pulumi refuse to delete the bucket at all. Default false.
	Protect bool
	// Tags go on every resource, beside component=SecureBucket.
	Tags map[string]string
}

func (a SecureBucketArgs) withDefaults(name string) (SecureBucketArgs, error) {
	if a.LogPrefix == "" {
		a.LogPrefix = name + "/"
	}
	if a.KMSKeyDeletionWindowDays == 0 {
		a.KMSKeyDeletionWindowDays = DefaultKMSKeyDeletionWindowDays
	}
	var problems []string
	if a.LogBucket == nil && !a.ReceivesAccessLogs {
		problems = append(problems, "LogBucket: required: every bucket logs its access to the stack's log bucket (or set ReceivesAccessLogs for the log bucket itself)")
	}
	if a.LogSourceBucketArns != nil && !a.ReceivesAccessLogs {
		problems = append(problems, "LogSourceBucketArns: only a bucket with ReceivesAccessLogs receives logs")
	}
	if a.ForceDestroy && a.Protect {
		problems = append(problems, "ForceDestroy true with Protect true: a protected bucket cannot be force-destroyed; choose one")
	}
	if p := keyDeletionWindowProblem(a.KMSKeyDeletionWindowDays); p != "" {
		problems = append(problems, p)
	}
	return a, argsError("SecureBucketArgs", problems)
}

// SecureBucket is an S3 bucket that is safe by default: versioned,
// encrypted, never public, TLS only, owner-enforced, access-logged.
type SecureBucket struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketArn  pulumi.StringOutput `pulumi:"bucketArn"`
	// KMSKeyArn is the key of SSE-KMS; empty for an access-log bucket (SSE-S3).
	KMSKeyArn pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// AccessLogTarget, of an access-log bucket, is its name as known once
	// the policy that lets S3 deliver logs is in place: a logging
	// configuration that names the bucket through it is created after the
	// policy, so S3's test write on PutBucketLogging finds the permission.
	// Empty for other buckets.
	AccessLogTarget pulumi.StringOutput `pulumi:"accessLogTarget"`
}

// NewSecureBucket creates the bucket and everything that secures it, in the
// order a request meets them: key, bucket, ownership, public-access block,
// versioning, encryption, policy, logging.
func NewSecureBucket(ctx *pulumi.Context, name string, args *SecureBucketArgs, opts ...pulumi.ResourceOption) (*SecureBucket, error) {
	if args == nil {
		args = &SecureBucketArgs{}
	}
	a, err := args.withDefaults(name)
	if err != nil {
		return nil, err
	}
	c := &SecureBucket{}
	if err := ctx.RegisterComponentResource(typeToken("SecureBucket"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagsFor("SecureBucket", a.Tags)

	keyArn := pulumi.StringInput(pulumi.String(""))
	if !a.ReceivesAccessLogs {
		keyArn = a.KMSKeyARN
		if keyArn == nil {
			key, err := newKey(ctx, name, keyArgs{
				// Bucket names are only known after creation; the stack makes the alias unique.
				alias:              fmt.Sprintf("%s/%s/s3-%s", ctx.Project(), ctx.Stack(), name),
				description:        "Encrypts the objects of the S3 bucket " + name,
				deletionWindowDays: a.KMSKeyDeletionWindowDays,
				tags:               tags,
			}, parent)
			if err != nil {
				return nil, err
			}
			keyArn = key.Arn
		}
	}

	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket:       a.BucketName,
		ForceDestroy: pulumi.Bool(a.ForceDestroy),
		Tags:         tags,
	}, parent, pulumi.Protect(a.Protect))
	if err != nil {
		return nil, err
	}
	// Ownership, then the public-access block, before anything can be written.
	ownership, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent)
	if err != nil {
		return nil, err
	}
	publicAccess, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent); err != nil {
		return nil, err
	}

	byDefault := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
		SseAlgorithm:   pulumi.String("aws:kms"),
		KmsMasterKeyId: keyArn,
	}
	if a.ReceivesAccessLogs {
		byDefault = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("AES256"),
		}
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: byDefault,
			// One data key per bucket rather than per object: far fewer KMS calls.
			BucketKeyEnabled: pulumi.Bool(!a.ReceivesAccessLogs),
		}},
	}, parent); err != nil {
		return nil, err
	}

	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()
	var sources pulumi.StringArrayInput = pulumi.StringArray{}
	if a.LogSourceBucketArns != nil {
		sources = a.LogSourceBucketArns
	}
	policyDoc := pulumi.All(bucket.Arn, account, sources).ApplyT(func(v []any) (string, error) {
		return bucketPolicy(v[0].(string), v[1].(string), a.ReceivesAccessLogs, v[2].([]string))
	}).(pulumi.StringOutput)
	// A policy is refused while the public-access block is being set up.
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policyDoc,
	}, parent, pulumi.DependsOn([]pulumi.Resource{publicAccess, ownership}))
	if err != nil {
		return nil, err
	}

	if !a.ReceivesAccessLogs {
		if _, err := s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket:       bucket.ID(),
			TargetBucket: a.LogBucket,
			TargetPrefix: pulumi.String(a.LogPrefix),
			TargetObjectKeyFormat: &s3.BucketLoggingV2TargetObjectKeyFormatArgs{
				// Date-partitioned keys by event time, so logs can be queried and expired by day.
				PartitionedPrefix: &s3.BucketLoggingV2TargetObjectKeyFormatPartitionedPrefixArgs{
					PartitionDateSource: pulumi.String("EventTime"),
				},
			},
		}, parent); err != nil {
			return nil, err
		}
	}

	c.BucketName = bucket.Bucket
	c.BucketArn = bucket.Arn
	c.KMSKeyArn = keyArn.ToStringOutput()
	c.AccessLogTarget = pulumi.String("").ToStringOutput()
	if a.ReceivesAccessLogs {
		// The policy's own output: whoever reads it depends on the policy.
		c.AccessLogTarget = policy.Bucket
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"bucketName":      c.BucketName,
		"bucketArn":       c.BucketArn,
		"kmsKeyArn":       c.KMSKeyArn,
		"accessLogTarget": c.AccessLogTarget,
	})
}

// bucketPolicy denies every request that does not use TLS and, for the log
// bucket, lets the S3 logging service deliver logs of this account's buckets
// (of sources only, when given), as the S3 User Guide's "Enabling Amazon S3
// server access logging" grants it: s3:PutObject for logging.s3.amazonaws.com
// with aws:SourceAccount and aws:SourceArn conditions.
func bucketPolicy(bucketArn, account string, receivesAccessLogs bool, sources []string) (string, error) {
	statements := []policyStatement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: "*",
		Action:    "s3:*",
		Resource:  []string{bucketArn, bucketArn + "/*"},
		Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
	}}
	if receivesAccessLogs {
		condition := map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}
		if len(sources) > 0 {
			condition["ArnLike"] = map[string][]string{"aws:SourceArn": sources}
		}
		statements = append(statements, policyStatement{
			Sid:       "AllowServerAccessLogDelivery",
			Effect:    "Allow",
			Principal: map[string]string{"Service": "logging.s3.amazonaws.com"},
			Action:    "s3:PutObject",
			Resource:  bucketArn + "/*",
			Condition: condition,
		})
	}
	return policyDocument(statements...)
}
