package pack

import "testing"

func TestDynamoDBPointInTimeRecovery(t *testing.T) {
	good := res(typeDynamoDBTable, "sessions", map[string]any{
		"pointInTimeRecovery": map[string]any{"enabled": true, "recoveryPeriodInDays": 35},
		"replicas":            []any{map[string]any{"regionName": "us-west-2", "pointInTimeRecovery": true}},
	})
	bad := res(typeDynamoDBTable, "sessions", map[string]any{
		"replicas": []any{map[string]any{"regionName": "us-west-2", "pointInTimeRecovery": false}},
	})
	goodReplica := res(typeDynamoDBTableReplica, "west", map[string]any{"pointInTimeRecovery": true})
	badReplica := res(typeDynamoDBTableReplica, "west", map[string]any{"pointInTimeRecovery": false})
	runCases(t, "dynamodb-point-in-time-recovery", "mandatory", []policyCase{
		{name: "compliant table and replica", resources: []Resource{good, goodReplica}},
		{name: "table without PITR, replica without PITR", resources: []Resource{bad}, want: []expected{
			{bad.URN, "pointInTimeRecovery.enabled must be true, is not set"},
			{bad.URN, "replicas[0].pointInTimeRecovery must be true, is false"},
		}},
		{name: "global-table replica without PITR", resources: []Resource{badReplica}, want: []expected{
			{badReplica.URN, "pointInTimeRecovery must be true, is false"},
		}},
		{name: "unknown values", resources: []Resource{
			res(typeDynamoDBTable, "a", map[string]any{"pointInTimeRecovery": unknown, "replicas": unknown}),
			res(typeDynamoDBTable, "b", map[string]any{
				"pointInTimeRecovery": map[string]any{"enabled": unknown},
				"replicas":            []any{unknown, map[string]any{"pointInTimeRecovery": unknown}},
			}),
			res(typeDynamoDBTableReplica, "c", map[string]any{"pointInTimeRecovery": unknown}),
		}},
	})
}

func TestDynamoDBEncryptionAtRest(t *testing.T) {
	bad := res(typeDynamoDBTable, "sessions", map[string]any{"serverSideEncryption": map[string]any{"enabled": false}})
	runCases(t, "dynamodb-encryption-at-rest", "mandatory", []policyCase{
		{name: "compliant", resources: []Resource{res(typeDynamoDBTable, "sessions", map[string]any{
			"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k"},
		})}},
		{name: "disabled", resources: []Resource{bad}, want: []expected{
			{bad.URN, "serverSideEncryption.enabled must be true, is false"},
		}},
		{name: "unknown values", resources: []Resource{
			res(typeDynamoDBTable, "a", map[string]any{"serverSideEncryption": unknown}),
			res(typeDynamoDBTable, "b", map[string]any{"serverSideEncryption": map[string]any{"enabled": unknown}}),
		}},
	})
}

func TestDynamoDBDeletionProtection(t *testing.T) {
	bad := res(typeDynamoDBTable, "sessions", map[string]any{})
	badReplica := res(typeDynamoDBTableReplica, "west", map[string]any{"deletionProtectionEnabled": false})
	runCases(t, "dynamodb-deletion-protection", "advisory", []policyCase{
		{name: "compliant", resources: []Resource{
			res(typeDynamoDBTable, "sessions", map[string]any{"deletionProtectionEnabled": true}),
			res(typeDynamoDBTableReplica, "west", map[string]any{"deletionProtectionEnabled": true}),
		}},
		{name: "off", resources: []Resource{bad, badReplica}, want: []expected{
			{bad.URN, "deletionProtectionEnabled must be true, is not set"},
			{badReplica.URN, "deletionProtectionEnabled must be true, is false"},
		}},
		{name: "unknown value", resources: []Resource{
			res(typeDynamoDBTable, "sessions", map[string]any{"deletionProtectionEnabled": unknown}),
		}},
	})
}
