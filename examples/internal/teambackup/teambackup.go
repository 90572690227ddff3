// Package teambackup is the AWS Backup plan the examples' team runs for its
// tables: every day, kept 35 days, in a vault encrypted with a key of its
// own. The policy pack counts a table as backed up only when a selection of
// a plan it can see in the stack selects it (dynamodb-table-backup-coverage),
// and wants such plans at least daily, kept at least 35 days, in a vault with
// a customer managed key (backup-plan-retention, backup-plan-vault-customer-key).
package teambackup

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cover backs tableArn up with a plan of the team's: a key, a vault, a daily
// plan and the selection, named after name. roleArn is the IAM role AWS
// Backup assumes (the team's, with the AWSBackupServiceRolePolicyForBackup
// managed policy).
func Cover(ctx *pulumi.Context, name string, tableArn pulumi.StringInput, roleArn string, stackTags map[string]string) error {
	tags := map[string]string{"component": "teambackup"}
	for k, v := range stackTags {
		tags[k] = v
	}
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String("Encrypts the recovery points of " + name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 pulumi.ToStringMap(tags),
	})
	if err != nil {
		return err
	}
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{KmsKeyArn: key.Arn, Tags: pulumi.ToStringMap(tags)})
	if err != nil {
		return err
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{
		Rules: backup.PlanRuleArray{&backup.PlanRuleArgs{
			RuleName:        pulumi.String("daily"),
			TargetVaultName: vault.Name,
			Schedule:        pulumi.String("cron(0 5 ? * * *)"), // 05:00 UTC every day
			Lifecycle:       &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(35)},
		}},
		Tags: pulumi.ToStringMap(tags),
	})
	if err != nil {
		return err
	}
	_, err = backup.NewSelection(ctx, name, &backup.SelectionArgs{
		PlanId:     plan.ID(),
		IamRoleArn: pulumi.String(roleArn),
		Resources:  pulumi.StringArray{tableArn},
	})
	return err
}
