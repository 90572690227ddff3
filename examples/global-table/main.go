// Command global-table is an example of another team's stack: a sessions
// table made global across three regions with GlobalTableFailover, replicas
// backed up and protected, replication watched, and the chatbot's name
// failing over from us-east-1 to us-west-2 to eu-west-1 by health checks.
// Its test runs it under the same mocks as the offline preview.
package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/examples/internal/teambackup"
)

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	tags := map[string]string{"project": "shop", "environment": ctx.Stack()}
	table, err := components.NewSessionsTable(ctx, "shop-sessions", &components.SessionsTableArgs{
		Name:           "shop-sessions-" + ctx.Stack(),
		MultiRegionKey: true, // replicas are encrypted with replicas of this key
		Tags:           tags,
	})
	if err != nil {
		return err
	}
	// The team backs the table up with an AWS Backup plan of its own (the
	// policy pack wants every table covered by a BackupSchedule or a plan of
	// the stack); the role AWS Backup assumes comes from the stack's config.
	cfg := config.New(ctx, "")
	role := orDefault(cfg.Get("backupRoleArn"), "arn:aws:iam::111122223333:role/shop-backup")
	if err := teambackup.Cover(ctx, "shop-sessions-backup", table.TableArn, role, tags); err != nil {
		return err
	}

	// The team's alarm topic, encrypted with its own key (whose policy lets CloudWatch publish).
	alarms, err := sns.NewTopic(ctx, "shop-alarms", &sns.TopicArgs{KmsMasterKeyId: pulumi.String("alias/shop-alarms")})
	if err != nil {
		return err
	}
	_, err = components.NewGlobalTableFailover(ctx, "shop-global", &components.GlobalTableFailoverArgs{
		TableName:      table.TableName,
		TableArn:       table.TableArn,
		TableKMSKeyArn: table.KMSKeyArn,
		PrimaryRegion:  "us-east-1",
		ReplicaRegions: []string{"us-west-2", "eu-west-1"},
		Failover: &components.FailoverRouting{
			HostedZoneID: "Z0123456789EXAMPLE",
			RecordName:   "chat.shop.example.com",
			Endpoints: map[string]string{
				"us-east-1": "chat-use1.shop.example.com",
				"us-west-2": "chat-usw2.shop.example.com",
				"eu-west-1": "chat-euw1.shop.example.com",
			},
		},
		AlarmTopicArn: alarms.Arn,
		Tags:          tags,
	})
	return err
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
