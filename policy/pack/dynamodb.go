package pack

import (
	"fmt"

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

var dynamoDBEncryptionAtRest = resourcePolicy{
	name:        "dynamodb-encryption-at-rest",
	description: "DynamoDB tables are encrypted at rest with a KMS key.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeDynamoDBTable {
			return
		}
		mustBeTrue(report, "serverSideEncryption.enabled", at(r.Properties, "serverSideEncryption", "enabled"),
			"the table must use a KMS key (AWS managed or customer managed), not the AWS owned key")
	},
}

var dynamoDBDeletionProtection = resourcePolicy{
	name:        "dynamodb-deletion-protection",
	description: "DynamoDB tables and replicas have deletion protection enabled.",
	level:       advisory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeDynamoDBTable && r.Type != typeDynamoDBTableReplica {
			return
		}
		mustBeTrue(report, "deletionProtectionEnabled", at(r.Properties, "deletionProtectionEnabled"),
			"a stray delete would drop the table with all its data")
	},
}
