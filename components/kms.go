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
