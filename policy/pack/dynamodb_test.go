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

// Issue 14, weakness 1: a replica without its own key falls back to a key
// this account does not manage while the table uses a customer key.
func TestDynamoDBEncryptionCoversInlineReplicas(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:123456789012:key/k"
	table := func(name string, replica map[string]any) Resource {
		return res(typeDynamoDBTable, name, map[string]any{
			"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": key},
			"replicas":             []any{replica},
		})
	}
	keyless := table("keyless", map[string]any{"regionName": "us-west-2"})
	runCases(t, "dynamodb-encryption-at-rest", "mandatory", []policyCase{
		{name: "replica with its own key", resources: []Resource{
			table("keyed", map[string]any{"regionName": "us-west-2", "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/w"}),
		}},
		{name: "AWS managed table key: replicas need none", resources: []Resource{
			res(typeDynamoDBTable, "managed", map[string]any{
				"serverSideEncryption": map[string]any{"enabled": true},
				"replicas":             []any{map[string]any{"regionName": "us-west-2"}},
			}),
			res(typeDynamoDBTable, "managed-by-alias", map[string]any{
				"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/aws/dynamodb"},
				"replicas":             []any{map[string]any{"regionName": "us-west-2"}},
			}),
		}},
		{name: "replica without a key", resources: []Resource{keyless}, want: []expected{
			{keyless.URN, "replicas[0].kmsKeyArn is not set while the table uses the customer managed key"},
		}},
		{name: "unknown values", resources: []Resource{
			table("a", map[string]any{"regionName": "us-west-2", "kmsKeyArn": unknown}),
			res(typeDynamoDBTable, "b", map[string]any{
				"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": key}, "replicas": []any{unknown},
			}),
			res(typeDynamoDBTable, "c", map[string]any{
				"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": unknown},
				"replicas":             []any{map[string]any{"regionName": "us-west-2"}},
			}),
		}},
	})
}

// Issue 14, weakness 1: the same for global-table replicas managed as
// TableReplica resources, linked to their table through globalTableArn.
func TestDynamoDBReplicaEncryption(t *testing.T) {
	cmk := res(typeDynamoDBTable, "sessions", map[string]any{
		"name":                 "sessions",
		"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"},
	})
	managed := res(typeDynamoDBTable, "orders", map[string]any{
		"name": "orders", "serverSideEncryption": map[string]any{"enabled": true},
	})
	replica := func(name string, of Resource, props map[string]any) Resource {
		props["globalTableArn"] = unknown
		return dependsOn(res(typeDynamoDBTableReplica, name, props), "globalTableArn", of)
	}
	keyless := replica("west", cmk, map[string]any{})
	byArn := res(typeDynamoDBTableReplica, "by-arn", map[string]any{
		"globalTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/sessions", "kmsKeyArn": "",
	})
	runCases(t, "dynamodb-replica-encryption", "mandatory", []policyCase{
		{name: "replica with its own key; replica of an AWS managed key table", resources: []Resource{cmk, managed,
			replica("west", cmk, map[string]any{"kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/w"}),
			replica("orders-west", managed, map[string]any{}),
		}},
		{name: "replica without a key, linked by dependency", resources: []Resource{cmk, keyless}, want: []expected{
			{keyless.URN, `kmsKeyArn is not set while its table "sessions" uses the customer managed key`},
		}},
		{name: "replica with an empty key, linked by ARN", resources: []Resource{cmk, byArn}, want: []expected{
			{byArn.URN, `kmsKeyArn is ""`},
		}},
		{name: "unknown values and untraceable tables", resources: []Resource{cmk,
			replica("a", cmk, map[string]any{"kmsKeyArn": unknown}),
			res(typeDynamoDBTableReplica, "c", map[string]any{"globalTableArn": unknown}),
			res(typeDynamoDBTableReplica, "d", map[string]any{"globalTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/elsewhere"}),
		}},
		{name: "the table's key unknown", resources: []Resource{
			setProp(cmk, "serverSideEncryption", map[string]any{"enabled": true, "kmsKeyArn": unknown}),
			replica("b", cmk, map[string]any{}),
		}},
	})
}

// Issue 14, weakness 2: the PITR window is checked against a minimum.
func TestDynamoDBPITRRecoveryPeriod(t *testing.T) {
	pitr := func(name string, v map[string]any) Resource {
		return res(typeDynamoDBTable, name, map[string]any{"pointInTimeRecovery": v})
	}
	week := pitr("week", map[string]any{"enabled": true, "recoveryPeriodInDays": 7})
	runCases(t, "dynamodb-pitr-recovery-period", "advisory", []policyCase{
		{name: "the default window and the full window", resources: []Resource{
			pitr("default", map[string]any{"enabled": true}),
			pitr("full", map[string]any{"enabled": true, "recoveryPeriodInDays": 35}),
			pitr("off", map[string]any{"enabled": false, "recoveryPeriodInDays": 1}), // PITR off is another policy's verdict
		}},
		{name: "a week", resources: []Resource{week}, want: []expected{
			{week.URN, "pointInTimeRecovery.recoveryPeriodInDays is 7, below the minimum of 35"},
		}},
		{name: "unknown values", resources: []Resource{
			pitr("a", map[string]any{"enabled": true, "recoveryPeriodInDays": unknown}),
			pitr("b", map[string]any{"enabled": unknown, "recoveryPeriodInDays": 7}),
		}},
	})
}

// Issue 14, weakness 3: inline replicas cannot carry deletion protection in
// pulumi-aws v6, so they are flagged with a pointer to TableReplica.
func TestDynamoDBDeletionProtectionFlagsInlineReplicas(t *testing.T) {
	inline := res(typeDynamoDBTable, "sessions", map[string]any{
		"deletionProtectionEnabled": true,
		"replicas":                  []any{map[string]any{"regionName": "us-west-2"}, unknown},
	})
	runCases(t, "dynamodb-deletion-protection", "advisory", []policyCase{
		{name: "inline replicas", resources: []Resource{inline}, want: []expected{
			{inline.URN, "replicas[0] (us-west-2) cannot have deletion protection"},
			{inline.URN, "replicas[1] cannot have deletion protection"},
		}},
		{name: "replicas unknown", resources: []Resource{setProp(inline, "replicas", unknown)}},
	})
}
