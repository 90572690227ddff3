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
	plan := backupPlan("plan", backupRule("daily", "vault", "cron(0 5 * * ? *)", 35))
	// A selection of plan: its planId is the plan's id, unknown in a preview, linked by a dependency.
	selection := func(name string, props map[string]any) Resource {
		props["planId"], props["iamRoleArn"] = unknown, "role"
		return dependsOn(res(typeBackupSelection, name, props), "planId", plan)
	}
	everything := func(conditions ...any) map[string]any {
		return map[string]any{"resources": []any{"*"}, "conditions": conditions}
	}
	condition := func(op string, key, value any) map[string]any {
		return map[string]any{op: []any{map[string]any{"key": key, "value": value}}}
	}
	schedule := res(typeBackupSchedule, "backups", map[string]any{})
	child := func(r Resource, parent Resource) Resource { r.Parent = parent.URN; return r }
	orchestrator := func(deps ...Resource) Resource {
		return dependsOn(child(res("aws:lambda/function:Function", "orchestrator", map[string]any{
			"environment": map[string]any{"variables": map[string]any{"TABLE_ARN": unknown}},
		}), schedule), "environment", deps...)
	}
	const sessionsArn = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions"
	const otherArn = "arn:aws:dynamodb:us-east-1:123456789012:table/other"
	const none = "no aws:backup/selection:Selection of a plan of this stack selects this table"
	withDefaultTags := func(r Resource, tags map[string]any) Resource {
		r.Provider = Provider{Type: "pulumi:providers:aws", Name: "default", Properties: val(map[string]any{
			"defaultTags": map[string]any{"tags": tags}}).AsMap()}
		return r
	}
	untagged := res(typeDynamoDBTable, "untagged", map[string]any{"name": "untagged", "tags": map[string]any{"project": "p"}})
	unnamed := res(typeDynamoDBTable, "unnamed", map[string]any{"name": unknown})
	runCases(t, "dynamodb-table-backup-coverage", "mandatory", []policyCase{
		{name: "a selection refers to the table", resources: []Resource{sessions, plan,
			dependsOn(selection("s", map[string]any{"resources": []any{unknown}}), "resources", sessions)}},
		{name: "a selection names the table's ARN", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{sessionsArn}})}},
		{name: "pattern: every table but another", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{"arn:aws:dynamodb:*:*:table/*"}, "notResources": []any{otherArn}})}},
		{name: "pattern: a name prefix in this account and region", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/sess*"}})}},
		{name: "pattern: every DynamoDB resource, beside another service's", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{"arn:aws:ec2:*:*:volume/*", "arn:aws:dynamodb:*"}})}},
		{name: "pattern: everything but other*", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{"*"}, "notResources": []any{"arn:aws:dynamodb:*:*:table/other*"}})}},
		{name: "pattern: any name matches a table whose name is unknown", resources: []Resource{unnamed, plan,
			selection("s", map[string]any{"resources": []any{"arn:aws:dynamodb:*:*:table/*"}})}},
		{name: "a selection by tag (selectionTags), ORed with resources", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{otherArn},
				"selectionTags": []any{map[string]any{"type": "STRINGEQUALS", "key": "backup", "value": "daily"}}})}},
		{name: "condition StringEquals", resources: []Resource{sessions, plan,
			selection("s", everything(condition("stringEquals", "aws:ResourceTag/backup", "daily")))}},
		{name: "condition StringLike", resources: []Resource{sessions, plan,
			selection("s", everything(condition("stringLikes", "aws:ResourceTag/backup", "dai*")))}},
		{name: "condition StringNotEquals", resources: []Resource{sessions, plan,
			selection("s", everything(condition("stringNotEquals", "aws:ResourceTag/backup", "never")))}},
		{name: "condition StringNotLike", resources: []Resource{sessions, plan,
			selection("s", everything(condition("stringNotLikes", "aws:ResourceTag/backup", "week*")))}},
		{name: "conditions alone filter every resource; the provider's default tags count", resources: []Resource{plan,
			withDefaultTags(table("orders"), map[string]any{"tier": "gold"}),
			selection("s", map[string]any{"conditions": []any{condition("stringEquals", "aws:ResourceTag/tier", "gold")}})}},
		{name: "neither resources nor selectionTags nor conditions: every resource", resources: []Resource{sessions, untagged, plan,
			selection("all", map[string]any{})}},
		{name: "a BackupSchedule's orchestrator refers to the table", resources: []Resource{sessions, schedule, orchestrator(sessions)}},
		{name: "a BackupSchedule names the table by ARN", resources: []Resource{sessions, schedule,
			child(res("aws:backup/selection:Selection", "nested", map[string]any{"resources": []any{unknown}, "name": "x"}), schedule),
			child(res("aws:ssm/parameter:Parameter", "state", map[string]any{"description": "arn:aws:dynamodb:us-east-1:1:table/sessions"}), schedule)}},
		{name: "no backup at all", resources: []Resource{sessions}, want: []expected{{sessions.URN, none}}},
		{name: "a selection of another table, or of another service", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{otherArn, "arn:aws:ec2:*:*:volume/*", "arn:aws:dynamodb:*:*:table/sess"}})},
			want: []expected{{sessions.URN, "manga-assist:data:BackupSchedule"}}},
		{name: "a table whose name is unknown is not another service's resource", resources: []Resource{unnamed, plan,
			selection("s", map[string]any{"resources": []any{"arn:aws:ec2:*:*:volume/*", "arn:aws:s3:::*"}})},
			want: []expected{{unnamed.URN, none}}},
		{name: "a default tag that does not match", resources: []Resource{plan, withDefaultTags(untagged, map[string]any{"tier": "silver"}),
			selection("s", map[string]any{"conditions": []any{condition("stringEquals", "aws:ResourceTag/tier", "gold")}})},
			want: []expected{{untagged.URN, none}}},
		{name: "a selection that excludes the table", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"resources": []any{"*"}, "notResources": []any{"arn:aws:dynamodb:*:*:table/sess*"}})},
			want: []expected{{sessions.URN, none}}},
		{name: "a tag that does not match, a type selectionTags do not take", resources: []Resource{sessions, plan,
			selection("s", map[string]any{"selectionTags": []any{map[string]any{"type": "STRINGEQUALS", "key": "backup", "value": "never"},
				map[string]any{"type": "STRINGLIKE", "key": "backup", "value": "daily"}}})},
			want: []expected{{sessions.URN, none}}},
		{name: "a pattern selects a table whose name is unknown, for a plan of another stack", resources: []Resource{unnamed, plan,
			res(typeBackupSelection, "literal", map[string]any{"planId": "0b1d3c4f-plan-of-another-stack", "iamRoleArn": "role",
				"resources": []any{"arn:aws:dynamodb:*:*:table/*"}})},
			want: []expected{{unnamed.URN, "literal select it, but their planId refers to no"}}},
		{name: "a selection of a plan of another stack", resources: []Resource{sessions, plan,
			res(typeBackupSelection, "literal", map[string]any{"planId": "0b1d3c4f-plan-of-another-stack", "iamRoleArn": "role",
				"resources": []any{sessionsArn}}),
			dependsOn(res(typeBackupSelection, "not-a-plan", map[string]any{"planId": unknown, "iamRoleArn": "role",
				"resources": []any{sessionsArn}}), "planId", res(typeBackupVault, "vault", map[string]any{}))},
			want: []expected{{sessions.URN, "literal, not-a-plan select it, but their planId refers to no aws:backup/plan:Plan of this stack"}}},
		{name: "conditions that do not hold: AND of all, negations, an absent tag", resources: []Resource{sessions, plan,
			selection("one-fails", everything(condition("stringEquals", "aws:ResourceTag/backup", "daily"),
				condition("stringEquals", "aws:ResourceTag/environment", "prod"))),
			selection("not-equals", everything(condition("stringNotEquals", "aws:ResourceTag/backup", "daily"))),
			selection("not-like", everything(condition("stringNotLikes", "aws:ResourceTag/backup", "d*"))),
			selection("absent", everything(condition("stringNotEquals", "aws:ResourceTag/owner", "nobody"))),
			selection("like", everything(condition("stringLikes", "aws:ResourceTag/backup", "weekly*"))),
			// selectionTags select, conditions filter them out.
			selection("tags-and-conditions", map[string]any{
				"selectionTags": []any{map[string]any{"type": "STRINGEQUALS", "key": "backup", "value": "daily"}},
				"conditions":    []any{condition("stringEquals", "aws:ResourceTag/environment", "prod")}}),
		}, want: []expected{{sessions.URN, none}}},
		{name: "a BackupSchedule of another table", resources: []Resource{sessions, table("other"), schedule, orchestrator(table("other"))},
			want: []expected{{sessions.URN, none}}},
		{name: "a resource outside any BackupSchedule does not count", resources: []Resource{sessions,
			dependsOn(res("aws:lambda/function:Function", "stray", map[string]any{"environment": unknown}), "environment", sessions)},
			want: []expected{{sessions.URN, none}}},
		{name: "unknown values: the resources", resources: []Resource{sessions, plan,
			selection("a", map[string]any{"resources": unknown}),
			selection("b", map[string]any{"resources": []any{unknown}}),
			selection("c", map[string]any{"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/x"}})}},
		{name: "unknown values: the table's name", resources: []Resource{plan, unnamed,
			selection("c", map[string]any{"resources": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/x"}})}},
		{name: "unknown values: the table's tags", resources: []Resource{plan,
			res(typeDynamoDBTable, "tags-unknown", map[string]any{"name": "tags-unknown", "tags": unknown}),
			selection("d", everything(condition("stringEquals", "aws:ResourceTag/backup", "daily")))}},
		{name: "unknown values: a planId without a dependency", resources: []Resource{plan, sessions,
			res(typeBackupSelection, "e", map[string]any{"planId": unknown, "resources": []any{"arn:aws:dynamodb:*:*:table/sessions"}})}},
		{name: "unknown values: notResources", resources: []Resource{plan, sessions,
			selection("f", map[string]any{"resources": []any{"*"}, "notResources": []any{unknown}})}},
		{name: "unknown values: a condition's value", resources: []Resource{plan, sessions,
			selection("g", map[string]any{"resources": []any{"arn:aws:dynamodb:*:*:table/sessions"},
				"conditions": []any{condition("stringEquals", "aws:ResourceTag/backup", unknown)}})}},
	})
}
