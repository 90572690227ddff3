package pack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// replicaLatencyAlarm: a replica whose replication nobody watches can fall
// hours behind unnoticed, and a failover to it then loses those hours.
var replicaLatencyAlarm = stackPolicy{
	name:        "dynamodb-replica-latency-alarm",
	description: "Every global-table replica has a ReplicationLatency alarm for its region (AWS/DynamoDB, TableName, ReceivingRegion) that notifies someone.",
	level:       advisory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		alarms := ofType(resources, typeMetricAlarm)
		for _, replica := range ofType(resources, typeDynamoDBTableReplica) {
			table, region, known := replicaOf(replica)
			if !known {
				continue // cannot tell which table or region yet
			}
			undetermined := false
			found := slices.ContainsFunc(alarms, func(alarm policyx.AnalyzerResource) bool {
				switch watchesReplication(alarm, table, region) {
				case linked:
					return true
				case maybeLinked:
					undetermined = true
				}
				return false
			})
			if !found && !undetermined {
				report(replica.URN, fmt.Sprintf("no aws:cloudwatch/metricAlarm with alarm actions, enabled, on ReplicationLatency (namespace AWS/DynamoDB) "+
					"with dimensions TableName %q and ReceivingRegion %q: replication to this replica could lag unnoticed", table, region))
			}
		}
	},
}

// replicaOf reads a replica's table (from globalTableArn) and region (from
// the ARN of its key, which lives in the replica's region).
func replicaOf(replica policyx.AnalyzerResource) (table, region string, known bool) {
	arn, ok1 := stringOf(at(replica.Properties, "globalTableArn"))
	key, ok2 := stringOf(at(replica.Properties, "kmsKeyArn"))
	if !ok1 || !ok2 {
		return "", "", false
	}
	_, table, found := strings.Cut(arn, ":table/")
	parts := strings.Split(key, ":")
	if !found || len(parts) < 6 || parts[0] != "arn" || parts[3] == "" {
		return "", "", false
	}
	return table, parts[3], true
}

func watchesReplication(alarm policyx.AnalyzerResource, table, region string) link {
	return watches(alarm, "ReplicationLatency", "AWS/DynamoDB", func(m alarmMetric) link {
		for dim, want := range map[string]string{"TableName": table, "ReceivingRegion": region} {
			v := m.dimension(dim)
			if v.IsComputed() {
				return maybeLinked
			}
			if s, _ := stringOf(v); s != want {
				return unlinked
			}
		}
		return linked
	})
}
