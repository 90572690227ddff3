// Package pack is the CrossGuard policy pack of manga-assist-data. New builds
// it for policyx (the gRPC analyzer that `pulumi preview --policy-pack policy`
// starts); Evaluate runs the very same policies offline, without gRPC, for the
// offline preview. Both call the same validation functions.
//
// Every policy treats an unknown value (computed, as in a preview) as "cannot
// tell yet": it never reports a violation for it.
package pack

import (
	"context"
	"fmt"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	// Name is the policy pack's name as the engine reports it.
	Name = "manga-assist-data"
	// Version is the policy pack's version.
	Version = "0.2.0"
)

const (
	mandatory = policyx.EnforcementLevelMandatory
	advisory  = policyx.EnforcementLevelAdvisory
)

// resourcePolicy checks one resource at a time.
type resourcePolicy struct {
	name, description string
	level             policyx.EnforcementLevel
	settings          []setting
	// validate calls report once per problem, with a message that names the
	// property at fault.
	validate func(r policyx.AnalyzerResource, cfg Config, report func(message string))
}

// stackPolicy checks relations between resources. It has no settings:
// policyx does not pass policy config to stack policies.
type stackPolicy struct {
	name, description string
	level             policyx.EnforcementLevel
	validate          func(resources []policyx.AnalyzerResource, report func(urn, message string))
}

// The pack's policies, in the order the engine lists them.
var (
	resourcePolicies = []resourcePolicy{
		dynamoDBPointInTimeRecovery,
		dynamoDBEncryptionAtRest,
		kinesisStreamEncryption,
		sqsQueueEncryption,
		snsTopicEncryption,
		streamTriggerSafety,
		iamNoWildcardActions,
		firehoseBuffering,
		firehoseParquetConversion,
		firehoseUncompressedWhenConverting,
		dynamoDBDeletionProtection,
		kinesisStreamRetention,
		requiredTags,
		backupVaultCustomerKey,
		dynamoDBPITRRecoveryPeriod,
		firehoseBufferSizeMinimum,
		kmsKeyHygiene,
		schedulerTargetSafety,
		sfnLogging,
		cloudwatchAlarmActions,
		athenaWorkgroupGuardrails,
		resourcePolicyNoPublicAccess,
		iamNoKMSDecryptAll,
		logGroupRetention,
		backupPlanRetention,
	}
	stackPolicies = []stackPolicy{
		s3BucketVersioning,
		s3BucketLifecycle,
		s3BucketEncryption,
		s3BucketPublicAccessBlock,
		s3BucketTLSOnly,
		streamConsumerIteratorAgeAlarm,
		replicaLatencyAlarm,
		dynamoDBTableBackupCoverage,
		dynamoDBReplicaEncryption,
		sqsQueueDLQ,
		backupPlanVaultCustomerKey,
		backupVaultImmutable,
	}
)

// New builds the policy pack with cfg as every policy's defaults; the engine's
// policy-pack config overrides them per policy.
func New(cfg Config) (policyx.PolicyPack, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("policy pack config: %w", err)
	}
	var policies []policyx.Policy
	for _, p := range resourcePolicies {
		policies = append(policies, p.policyx(cfg))
	}
	for _, p := range stackPolicies {
		policies = append(policies, p.policyx(cfg))
	}
	// policyx ignores the pack-level enforcement level; each policy sets its own.
	return policyx.NewPolicyPack(Name, semver.MustParse(Version), advisory, policies)
}

func (p resourcePolicy) policyx(defaults Config) policyx.ResourceValidationPolicy {
	var schema *policyx.ConfigSchema
	if props := configSchema(p.settings, defaults); props != nil {
		schema = &policyx.ConfigSchema{Properties: props}
	}
	return policyx.NewResourceValidationPolicy(p.name, policyx.ResourceValidationPolicyArgs{
		Description:      p.description,
		EnforcementLevel: defaults.levelOf(p.name, p.level),
		ConfigSchema:     schema,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			cfg, err := defaults.with(p.settings, args.Config)
			if err != nil {
				return fmt.Errorf("policy %s: %w", p.name, err)
			}
			p.validate(args.Resource, cfg, func(message string) {
				args.Manager.ReportViolation(message, "") // "" is the resource under analysis
			})
			return nil
		},
	})
}

func (p stackPolicy) policyx(cfg Config) policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(p.name, policyx.StackValidationPolicyArgs{
		Description:      p.description,
		EnforcementLevel: cfg.levelOf(p.name, p.level),
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			p.validate(args.Resources, func(urn, message string) {
				args.Manager.ReportViolation(message, urn)
			})
			return nil
		},
	})
}
