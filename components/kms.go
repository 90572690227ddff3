package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// keyArgs describes a customer managed key a component creates for itself.
type keyArgs struct {
	alias              string // without "alias/"
	description        string
	deletionWindowDays int
	multiRegion        bool
	policy             pulumi.StringInput // nil: the default key policy (the account's IAM decides)
	tags               pulumi.StringMap
}

// newKey creates a KMS key with rotation on, and its alias, as children of
// the component behind parent.
func newKey(ctx *pulumi.Context, name string, a keyArgs, parent pulumi.ResourceOption) (*kms.Key, error) {
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String(a.description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(a.deletionWindowDays),
		MultiRegion:          pulumi.Bool(a.multiRegion),
		Policy:               a.policy,
		Tags:                 a.tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name+"-key-alias", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + a.alias),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	return key, nil
}

// keyDeletionWindowProblem is the rule KMS puts on a key's waiting period,
// as a problem for argsError, or "" if days keeps it.
func keyDeletionWindowProblem(days int) string {
	if days < 7 || days > 30 {
		return fmt.Sprintf("KMSKeyDeletionWindowDays %d: must be 7 to 30", days)
	}
	return ""
}

// accountKeyAdmin lets the account's IAM govern a key, as the default key
// policy does: without it, a key policy that names only services locks
// everyone out.
func accountKeyAdmin(partition, account string) policyStatement {
	return policyStatement{Sid: "AccountIAM", Effect: "Allow",
		Principal: map[string]string{"AWS": "arn:" + partition + ":iam::" + account + ":root"},
		Action:    "kms:*", Resource: "*"}
}

// logsMayEncrypt lets CloudWatch Logs of region use a key for the log
// groups of account that logGroups names (one name, or "*" for all)
// (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using
// AWS Key Management Service", step 2: the regional service principal,
// limited by an ArnLike condition on kms:EncryptionContext:aws:logs:arn).
// The writers of the log group need no permission on the key.
func logsMayEncrypt(partition, account, region, logGroups string) policyStatement {
	return policyStatement{Sid: "CloudWatchLogsEncrypt", Effect: "Allow",
		Principal: map[string]string{"Service": "logs." + region + ".amazonaws.com"},
		Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		Resource:  "*",
		Condition: map[string]any{"ArnLike": map[string]string{
			"kms:EncryptionContext:aws:logs:arn": "arn:" + partition + ":logs:" + region + ":" + account + ":log-group:" + logGroups}}}
}
