package pack

import "testing"

func TestBackupVaultCustomerKey(t *testing.T) {
	unset := res(typeBackupVault, "default-key", map[string]any{})
	managed := res(typeBackupVault, "managed", map[string]any{"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/aws/backup"})
	runCases(t, "backup-vault-customer-key", "mandatory", []policyCase{
		{name: "customer key", resources: []Resource{
			res(typeBackupVault, "vault", map[string]any{"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd"}),
		}},
		{name: "no key: aws/backup", resources: []Resource{unset}, want: []expected{{unset.URN, "kmsKeyArn is not set"}}},
		{name: "AWS managed alias", resources: []Resource{managed}, want: []expected{{managed.URN, "is an AWS managed key"}}},
		{name: "unknown value", resources: []Resource{res(typeBackupVault, "vault", map[string]any{"kmsKeyArn": unknown})}},
	})
}

func TestDynamoDBTableBackupCoverage(t *testing.T) {
	table := func(name string) Resource {
		return res(typeDynamoDBTable, name, map[string]any{"name": name, "tags": map[string]any{
			"project": "p", "environment": "dev", "component": "c", "backup": "daily"}})
	}
	sessions := table("sessions")
	selection := func(name string, props map[string]any) Resource {
		props["planId"], props["iamRoleArn"] = "plan", "role"
		return res(typeBackupSelection, name, props)
	}
	schedule := res(typeBackupSchedule, "backups", map[string]any{})
	child := func(r Resource, parent Resource) Resource { r.Parent = parent.URN; return r }
	orchestrator := func(deps ...Resource) Resource {
		return dependsOn(child(res("aws:lambda/function:Function", "orchestrator", map[string]any{
			"environment": map[string]any{"variables": map[string]any{"TABLE_ARN": unknown}},
		}), schedule), "environment", deps...)
	}
	const otherArn = "arn:aws:dynamodb:us-east-1:123456789012:table/other"
	runCases(t, "dynamodb-table-backup-coverage", "mandatory", []policyCase{
		{name: "a selection refers to the table", resources: []Resource{sessions,
			dependsOn(selection("s", map[string]any{"resources": []any{unknown}}), "resources", sessions)}},
		{name: "a selection names the table's ARN", resources: []Resource{sessions,
			selection("s", map[string]any{"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/sessions"}})}},
		{name: "a selection of every table", resources: []Resource{sessions,
			selection("s", map[string]any{"resources": []any{"arn:aws:dynamodb:*:*:table/*"}})}},
		{name: "a selection by tag", resources: []Resource{sessions,
			selection("s", map[string]any{"selectionTags": []any{map[string]any{"type": "STRINGEQUALS", "key": "backup", "value": "daily"}}})}},
		{name: "a BackupSchedule's orchestrator refers to the table", resources: []Resource{sessions, schedule, orchestrator(sessions)}},
		{name: "a BackupSchedule names the table by ARN", resources: []Resource{sessions, schedule,
			child(res("aws:backup/selection:Selection", "nested", map[string]any{"resources": []any{unknown}, "name": "x"}), schedule),
			child(res("aws:ssm/parameter:Parameter", "state", map[string]any{"description": "arn:aws:dynamodb:us-east-1:1:table/sessions"}), schedule)}},
		{name: "no backup at all", resources: []Resource{sessions}, want: []expected{{sessions.URN, "no aws:backup/selection:Selection selects this table"}}},
		{name: "a selection of another table", resources: []Resource{sessions,
			selection("s", map[string]any{"resources": []any{otherArn}})},
			want: []expected{{sessions.URN, "manga-assist:data:BackupSchedule"}}},
		{name: "a selection that excludes the table", resources: []Resource{sessions,
			selection("s", map[string]any{"resources": []any{"*"}, "notResources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/sessions"}})},
			want: []expected{{sessions.URN, "no aws:backup/selection:Selection"}}},
		{name: "a tag that does not match", resources: []Resource{sessions,
			selection("s", map[string]any{"selectionTags": []any{map[string]any{"type": "STRINGEQUALS", "key": "backup", "value": "never"}}})},
			want: []expected{{sessions.URN, "no aws:backup/selection:Selection"}}},
		{name: "a BackupSchedule of another table", resources: []Resource{sessions, table("other"), schedule, orchestrator(table("other"))},
			want: []expected{{sessions.URN, "no aws:backup/selection:Selection"}}},
		{name: "a resource outside any BackupSchedule does not count", resources: []Resource{sessions,
			dependsOn(res("aws:lambda/function:Function", "stray", map[string]any{"environment": unknown}), "environment", sessions)},
			want: []expected{{sessions.URN, "no aws:backup/selection:Selection"}}},
		{name: "unknown values", resources: []Resource{sessions,
			selection("a", map[string]any{"resources": unknown}),
			selection("b", map[string]any{"resources": []any{unknown}}),
			res(typeDynamoDBTable, "unnamed", map[string]any{"name": unknown}),
			selection("c", map[string]any{"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/x"}})}},
	})
}
