package pack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeDynamoDBTable        = "aws:dynamodb/table:Table"
	typeDynamoDBTableReplica = "aws:dynamodb/tableReplica:TableReplica"
)

var dynamoDBPointInTimeRecovery = resourcePolicy{
	name:        "dynamodb-point-in-time-recovery",
	description: "DynamoDB tables and their replicas have point-in-time recovery enabled.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		const why = "without it a bad write or delete cannot be undone"
		switch r.Type {
		case typeDynamoDBTable:
			mustBeTrue(report, "pointInTimeRecovery.enabled", at(r.Properties, "pointInTimeRecovery", "enabled"), why)
			for i, replica := range elements(at(r.Properties, "replicas")) {
				name := fmt.Sprintf("replicas[%d].pointInTimeRecovery", i)
				if replica.IsComputed() {
					continue
				}
				replicaProps, _ := mapOf(replica)
				mustBeTrue(report, name, at(replicaProps, "pointInTimeRecovery"), why)
			}
		case typeDynamoDBTableReplica:
			mustBeTrue(report, "pointInTimeRecovery", at(r.Properties, "pointInTimeRecovery"), why)
		}
	},
}

// dynamoDBPITRRecoveryPeriod: PITR restores only as far back as its window;
// a short window leaves a bad write found later to the backups.
var dynamoDBPITRRecoveryPeriod = resourcePolicy{
	name:        "dynamodb-pitr-recovery-period",
	description: "DynamoDB point-in-time recovery keeps at least the configured number of days.",
	level:       advisory,
	settings: []setting{intSetting{
		name: "minRecoveryPeriodDays", description: "Shortest acceptable pointInTimeRecovery.recoveryPeriodInDays.",
		min: 1, max: 35, field: func(c *Config) *int { return &c.MinPITRRecoveryDays },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeDynamoDBTable {
			return
		}
		if on, ok := boolOf(at(r.Properties, "pointInTimeRecovery", "enabled")); !ok || !on {
			return // unknown, or off: dynamodb-point-in-time-recovery's verdict
		}
		v := at(r.Properties, "pointInTimeRecovery", "recoveryPeriodInDays")
		days, ok := numberOf(v)
		if !ok {
			days = 35 // unset means DynamoDB's default
		}
		if v.IsComputed() || days >= float64(cfg.MinPITRRecoveryDays) {
			return
		}
		report(fmt.Sprintf("pointInTimeRecovery.recoveryPeriodInDays is %v, below the minimum of %d: a bad write "+
			"found later than that can only be undone from a backup", days, cfg.MinPITRRecoveryDays))
	},
}

var dynamoDBEncryptionAtRest = resourcePolicy{
	name:        "dynamodb-encryption-at-rest",
	description: "DynamoDB tables are encrypted at rest with a KMS key, and their inline replicas with their own customer managed key when the table uses one.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeDynamoDBTable {
			return
		}
		mustBeTrue(report, "serverSideEncryption.enabled", at(r.Properties, "serverSideEncryption", "enabled"),
			"the table must use a KMS key (AWS managed or customer managed), not the AWS owned key")
		key, known := customerKey(r)
		if !known || key == "" {
			return
		}
		for i, replica := range elements(at(r.Properties, "replicas")) {
			if replica.IsComputed() {
				continue
			}
			replicaProps, _ := mapOf(replica)
			if v := at(replicaProps, "kmsKeyArn"); !isSet(v) {
				report(fmt.Sprintf("replicas[%d].kmsKeyArn is %s while the table uses the customer managed key %q: "+
					"the replica falls back to a key this account does not manage; give it a key in its region",
					i, describe(v), key))
			}
		}
	},
}

// customerKey returns the customer managed key a table is encrypted with, ""
// for the AWS owned or AWS managed key; known is false while that is unknown.
func customerKey(table policyx.AnalyzerResource) (key string, known bool) {
	enabled, arn := at(table.Properties, "serverSideEncryption", "enabled"), at(table.Properties, "serverSideEncryption", "kmsKeyArn")
	if enabled.IsComputed() || arn.IsComputed() {
		return "", false
	}
	if on, _ := boolOf(enabled); !on {
		return "", true
	}
	key, _ = stringOf(arn)
	if strings.HasSuffix(key, "alias/aws/dynamodb") {
		return "", true
	}
	return key, true
}

// dynamoDBReplicaEncryption is dynamodb-encryption-at-rest for replicas that
// are resources of their own; it needs their table, so it is a stack policy.
var dynamoDBReplicaEncryption = stackPolicy{
	name:        "dynamodb-replica-encryption",
	description: "Global-table replicas (TableReplica) of a table encrypted with a customer managed key set their own kmsKeyArn.",
	level:       mandatory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		tables := ofType(resources, typeDynamoDBTable)
		for _, replica := range ofType(resources, typeDynamoDBTableReplica) {
			v := at(replica.Properties, "kmsKeyArn")
			if isSet(v) {
				continue
			}
			table, found := replicaTable(replica, tables)
			if !found {
				continue // its table is not traceable here: cannot tell
			}
			key, known := customerKey(table)
			if !known || key == "" {
				continue
			}
			name, _ := stringOf(at(table.Properties, "name"))
			if name == "" {
				name = table.Name
			}
			report(replica.URN, fmt.Sprintf("kmsKeyArn is %s while its table %q uses the customer managed key %q: the "+
				"replica falls back to a key this account does not manage; give it a key in its region", describe(v), name, key))
		}
	},
}

// replicaTable finds the table a replica's globalTableArn refers to: through
// a property dependency, or by the table name in the ARN.
func replicaTable(replica policyx.AnalyzerResource, tables []policyx.AnalyzerResource) (policyx.AnalyzerResource, bool) {
	v := at(replica.Properties, "globalTableArn")
	arn, _ := stringOf(v)
	_, name, byName := strings.Cut(arn, ":table/")
	for _, t := range tables {
		if comesFrom(replica, "globalTableArn", v, t.URN) {
			return t, true
		}
		if tableName, ok := stringOf(at(t.Properties, "name")); byName && ok && tableName == name {
			return t, true
		}
	}
	return policyx.AnalyzerResource{}, false
}

var dynamoDBDeletionProtection = resourcePolicy{
	name:        "dynamodb-deletion-protection",
	description: "DynamoDB tables and replicas have deletion protection enabled; replicas are TableReplica resources, which can carry it.",
	level:       advisory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeDynamoDBTable && r.Type != typeDynamoDBTableReplica {
			return
		}
		mustBeTrue(report, "deletionProtectionEnabled", at(r.Properties, "deletionProtectionEnabled"),
			"a stray delete would drop the table with all its data")
		if r.Type != typeDynamoDBTable {
			return
		}
		// pulumi-aws v6's inline replica block has no deletion protection.
		for i, replica := range elements(at(r.Properties, "replicas")) {
			name := fmt.Sprintf("replicas[%d]", i)
			replicaProps, _ := mapOf(replica)
			if region, ok := stringOf(at(replicaProps, "regionName")); ok && region != "" {
				name += " (" + region + ")"
			}
			report(name + " cannot have deletion protection as an inline replica: manage it as an " +
				typeDynamoDBTableReplica + " with deletionProtectionEnabled")
		}
	},
}

// comesFrom tells whether property prop of r, whose value is v, comes from
// the resource urn, by the engine's property dependencies or the value's own.
func comesFrom(r policyx.AnalyzerResource, prop string, v property.Value, target string) bool {
	if slices.Contains(r.PropertyDependencies[prop], target) {
		return true
	}
	for _, d := range v.Dependencies() {
		if string(d) == target {
			return true
		}
	}
	return false
}
