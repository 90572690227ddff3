package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// newFailover makes the table global when the stack lists replica regions:
// a replica in each, alarms on replication, and, with a hosted zone, the
// chatbot's name failing over between regions. Nil when there are none.
func newFailover(ctx *pulumi.Context, cfg stackconfig.Settings, table *components.SessionsTable,
	alarmTopicArn pulumi.StringInput, tags map[string]string) (*components.GlobalTableFailover, error) {
	if len(cfg.ReplicaRegions) == 0 {
		return nil, nil
	}
	args := &components.GlobalTableFailoverArgs{
		TableName:                 table.TableName,
		TableArn:                  table.TableArn,
		TableKMSKeyArn:            table.KMSKeyArn,
		PrimaryRegion:             cfg.Region,
		ReplicaRegions:            cfg.ReplicaRegions,
		DeletionProtection:        &cfg.DeletionProtection,
		KMSKeyDeletionWindowDays:  cfg.KMSKeyDeletionWindowDays,
		ReplicationLatencySeconds: cfg.ReplicationLatencyAlarmSecs,
		AlarmTopicArn:             alarmTopicArn,
		Tags:                      tags,
	}
	if cfg.FailoverHostedZoneID != "" {
		args.Failover = &components.FailoverRouting{
			HostedZoneID:    cfg.FailoverHostedZoneID,
			RecordName:      cfg.FailoverRecordName,
			Endpoints:       cfg.Endpoints(),
			HealthCheckPath: cfg.FailoverHealthCheckPath,
		}
	}
	return components.NewGlobalTableFailover(ctx, "sessions-global", args)
}
