package components

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/lifecycle"
)

// The tier model, for callers outside this module.
type (
	Tier              = lifecycle.Tier
	Transition        = lifecycle.Transition
	StorageClass      = lifecycle.StorageClass
	MinimumObjectSize = lifecycle.MinimumObjectSize
)

// Storage classes and minimum-object-size rules, for building tiers.
const (
	StandardIA         = lifecycle.StandardIA
	IntelligentTiering = lifecycle.IntelligentTiering
	OneZoneIA          = lifecycle.OneZoneIA
	GlacierIR          = lifecycle.GlacierIR
	Glacier            = lifecycle.Glacier
	DeepArchive        = lifecycle.DeepArchive

	AllClasses128K = lifecycle.AllClasses128K
	VariesByClass  = lifecycle.VariesByClass
)

// The design's tiers; see internal/lifecycle.
var (
	AnalyticsTiers = lifecycle.AnalyticsTiers
	BackupTiers    = lifecycle.BackupTiers
	ExpireAfter    = lifecycle.ExpireAfter
)

// DataLifecycleArgs configures a DataLifecycle. Bucket and Tiers are required.
type DataLifecycleArgs struct {
	// Bucket is the name of the bucket the rules apply to.
	Bucket pulumi.StringInput
	// Tiers say how the objects under each prefix age; prefixes must not overlap.
	Tiers []Tier
	// Versioned adds the rules a versioned bucket needs: noncurrent versions
	// expire, expired delete markers are removed. Default (nil) true, as every
	// SecureBucket is versioned.
	Versioned *bool
	// NoncurrentVersionDays is how long an overwritten or deleted object's
	// old version is kept. Default 30.
	NoncurrentVersionDays int
	// AbortIncompleteMultipartDays is when unfinished multipart uploads, billed
	// but invisible, are aborted. Default 7.
	AbortIncompleteMultipartDays int
	// MinimumObjectSize decides which small objects S3 leaves out of
	// transitions. Default AllClasses128K: objects under 128 KB never move,
	// since moving one costs more than storing it where it is saves.
	MinimumObjectSize MinimumObjectSize
}

// Defaults of DataLifecycleArgs.
const (
	DefaultNoncurrentVersionDays        = 30
	DefaultAbortIncompleteMultipartDays = 7
)

func (a DataLifecycleArgs) policy() (lifecycle.Policy, error) {
	p := lifecycle.Policy{
		Tiers:                a.Tiers,
		Versioned:            a.Versioned == nil || *a.Versioned,
		NoncurrentExpireDays: a.NoncurrentVersionDays,
		AbortMultipartDays:   a.AbortIncompleteMultipartDays,
		MinimumObjectSize:    a.MinimumObjectSize,
	}
	if p.Versioned && p.NoncurrentExpireDays == 0 {
		p.NoncurrentExpireDays = DefaultNoncurrentVersionDays
	}
	if p.AbortMultipartDays == 0 {
		p.AbortMultipartDays = DefaultAbortIncompleteMultipartDays
	}
	if p.MinimumObjectSize == "" {
		p.MinimumObjectSize = lifecycle.DefaultMinimumObjectSize
	}
	var problems []string
	if a.Bucket == nil {
		problems = append(problems, "Bucket: required")
	}
	if len(a.Tiers) == 0 {
		problems = append(problems, "Tiers: at least one tier is required")
	}
	if err := p.Validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	return p, argsError("DataLifecycleArgs", problems)
}

// DataLifecycle is the lifecycle configuration of one bucket: a rule per
// prefix tier, then the bucket-wide rules for noncurrent versions, expired
// delete markers and incomplete multipart uploads.
type DataLifecycle struct {
	pulumi.ResourceState

	// RuleIDs are the ids of the rules, in order.
	RuleIDs pulumi.StringArrayOutput `pulumi:"ruleIds"`
}

// NewDataLifecycle validates the tiers and applies them to the bucket.
func NewDataLifecycle(ctx *pulumi.Context, name string, args *DataLifecycleArgs, opts ...pulumi.ResourceOption) (*DataLifecycle, error) {
	if args == nil {
		args = &DataLifecycleArgs{}
	}
	p, err := args.policy()
	if err != nil {
		return nil, err
	}
	c := &DataLifecycle{}
	if err := ctx.RegisterComponentResource(typeToken("DataLifecycle"), name, c, opts...); err != nil {
		return nil, err
	}

	var rules s3.BucketLifecycleConfigurationV2RuleArray
	var ids []string
	for _, r := range p.Rules() {
		rules = append(rules, lifecycleRule(r))
		ids = append(ids, r.ID)
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket:                             args.Bucket,
		Rules:                              rules,
		TransitionDefaultMinimumObjectSize: pulumi.String(string(p.MinimumObjectSize)),
	}, pulumi.Parent(c)); err != nil {
		return nil, err
	}

	c.RuleIDs = pulumi.ToStringArray(ids).ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"ruleIds": c.RuleIDs})
}

// lifecycleRule is r in the provider's shape. Every rule has a filter (an
// empty prefix is the whole bucket): a rule without one is deprecated.
func lifecycleRule(r lifecycle.Rule) *s3.BucketLifecycleConfigurationV2RuleArgs {
	rule := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String(r.ID),
		Status: pulumi.String("Enabled"),
		Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(r.Prefix)},
	}
	if len(r.Transitions) > 0 {
		var transitions s3.BucketLifecycleConfigurationV2RuleTransitionArray
		for _, t := range r.Transitions {
			transitions = append(transitions, &s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days: pulumi.Int(t.Days), StorageClass: pulumi.String(string(t.Class))})
		}
		rule.Transitions = transitions
	}
	switch {
	case r.ExpireDays > 0:
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(r.ExpireDays)}
	case r.ExpiredDeleteMarker:
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)}
	}
	if r.NoncurrentExpireDays > 0 {
		rule.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(r.NoncurrentExpireDays)}
	}
	if r.AbortMultipartDays > 0 {
		rule.AbortIncompleteMultipartUpload = &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(r.AbortMultipartDays)}
	}
	return rule
}
