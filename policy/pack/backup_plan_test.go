package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// denyDeletion is the vault access policy backup-vault-immutable asks for.
const denyDeletion = `{"Version":"2012-10-17","Statement":[{"Sid":"KeepRecoveryPoints","Effect":"Deny","Principal":"*",` +
	`"Action":["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle","backup:PutBackupVaultAccessPolicy"],` +
	`"Resource":"*"}]}`

// backupRule is a plan rule; deleteAfter nil leaves lifecycle out.
func backupRule(name string, vault, schedule, deleteAfter any) map[string]any {
	rule := map[string]any{"ruleName": name, "targetVaultName": vault}
	if schedule != nil {
		rule["schedule"] = schedule
	}
	if deleteAfter != nil {
		rule["lifecycle"] = map[string]any{"deleteAfter": deleteAfter}
	}
	return rule
}

func backupPlan(name string, rules ...any) Resource {
	return res(typeBackupPlan, name, map[string]any{"name": name, "rules": rules})
}

func TestRunsDaily(t *testing.T) {
	for expr, want := range map[string]bool{
		"cron(0 5 * * ? *)":                           true,
		"cron(0 5 ? * * *)":                           true, // AWS Backup's default
		"cron(15 * ? * * *)":                          true, // hourly, the API reference's example
		"cron(0 */12 * * ? *)":                        true,
		"cron(0 0,12 1-31 * ? *)":                     true,
		"cron(0 5 ? * SUN-SAT *)":                     true,
		"cron(0 5 ? * 1-7 *)":                         true,
		"cron(0 5 1/1 JAN-DEC ? *)":                   true,
		"cron(0 5 ? * MON,TUE,WED,THU,FRI,SAT,SUN *)": true,
		"rate(1 day)":                                 true,
		"rate(12 hours)":                              true,
		"rate(30 minutes)":                            true,
		"cron(0 6 ? * SUN *)":                         false, // weekly
		"cron(0 5 ? * MON-FRI *)":                     false, // weekdays only
		"cron(0 5 1 * ? *)":                           false, // monthly
		"cron(0 5 L * ? *)":                           false,
		"cron(0 5 ? * 6#3 *)":                         false,
		"cron(0 5 */2 * ? *)":                         false, // every other day
		"cron(0 5 * 1-6 ? *)":                         false, // half the year
		"cron(0 5 * * ? 2027)":                        false, // one year
		"rate(2 days)":                                false,
		"rate(25 hours)":                              false,
	} {
		got, err := runsDaily(expr)
		if assert.NoError(t, err, expr) {
			assert.Equal(t, want, got, expr)
		}
	}
	for _, bad := range []string{
		"0 5 * * ? *", "cron(0 5 * * *)", "cron(0 5 * * * *)", "cron(0 5 ? * ? *)", "cron(60 5 * * ? *)",
		"cron(0 24 * * ? *)", "cron(0 5 * 13 ? *)", "cron(0 5 ? * FUN *)", "cron(0 5 10-1 * ? *)", "cron(0 5 */0 * ? *)",
		"rate(1 fortnight)", "rate(0 days)", "rate(day)", "at(2026-01-01T00:00:00)",
	} {
		_, err := runsDaily(bad)
		assert.Error(t, err, bad)
	}
}

func TestBackupPlanRetention(t *testing.T) {
	const cmkVault = "vault"
	weeklyOnly := backupPlan("weekly-only", backupRule("weekly", cmkVault, "cron(0 6 ? * SUN *)", 90))
	short := backupPlan("short",
		backupRule("daily", cmkVault, "cron(0 5 * * ? *)", 7), backupRule("weekly", cmkVault, "cron(0 6 ? * SUN *)", 90))
	broken := backupPlan("broken", backupRule("daily", cmkVault, "cron(0 5 * * *)", 35))
	odd := backupPlan("odd", backupRule("daily", cmkVault, 5, "35"))
	noRules := backupPlan("no-rules")
	runCases(t, "backup-plan-retention", "mandatory", []policyCase{
		{name: "daily for 35 days, beside a weekly tier kept longer", resources: []Resource{
			backupPlan("gfs", backupRule("daily", cmkVault, "cron(0 5 * * ? *)", 35), backupRule("weekly", cmkVault, "cron(0 6 ? * SUN *)", 365)),
		}},
		{name: "hourly, kept for ever (no lifecycle)", resources: []Resource{
			backupPlan("hourly", backupRule("hourly", cmkVault, "cron(15 * ? * * *)", nil)),
		}},
		{name: "no schedule: AWS Backup's default, daily at 05:00 UTC", resources: []Resource{
			backupPlan("default", backupRule("default", cmkVault, nil, 35)),
		}},
		{name: "a plan with only a weekly rule", resources: []Resource{weeklyOnly}, want: []expected{
			{weeklyOnly.URN, `no rule backs up at least daily (rules[0] ("weekly") run less often than daily)`}}},
		{name: "daily points kept a week", resources: []Resource{short}, want: []expected{
			{short.URN, `rules[0] ("daily"): lifecycle.deleteAfter is 7 days, below the minimum of 35`}}},
		{name: "an expression AWS Backup refuses", resources: []Resource{broken}, want: []expected{
			{broken.URN, `rules[0] ("daily"): schedule "cron(0 5 * * *)" is not a schedule AWS Backup takes: ` +
				`cron needs 6 fields (minutes hours day-of-month month day-of-week year), got 5`},
			{broken.URN, "no rule backs up at least daily"}}},
		{name: "values of the wrong kind", resources: []Resource{odd}, want: []expected{
			{odd.URN, `rules[0] ("daily"): schedule is 5: set a cron expression`},
			{odd.URN, `rules[0] ("daily"): lifecycle.deleteAfter is "35": set a number of days`},
			{odd.URN, "no rule backs up at least daily"}}},
		{name: "no rules", resources: []Resource{noRules}, want: []expected{{noRules.URN, "(the plan has no rules)"}}},
		{name: "unknown values", resources: []Resource{
			backupPlan("a", backupRule("weekly", cmkVault, "cron(0 6 ? * SUN *)", 90), backupRule("b", cmkVault, unknown, unknown)),
			backupPlan("c", backupRule("weekly", cmkVault, "cron(0 6 ? * SUN *)", 90), unknown),
			backupPlan("d", backupRule("daily", cmkVault, "cron(0 5 * * ? *)", 35), map[string]any{"lifecycle": unknown, "schedule": "rate(1 day)"}),
			res(typeBackupPlan, "e", map[string]any{"rules": unknown}),
		}},
	})
	cfg := DefaultConfig()
	cfg.MinBackupRetentionDays = 7
	assert.Empty(t, violationsWith(t, cfg, "backup-plan-retention", short), "the configured minimum applies")
}

func TestBackupPlanVaultCustomerKey(t *testing.T) {
	cmk := res(typeBackupVault, "cmk", map[string]any{"name": "cmk", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"})
	managed := res(typeBackupVault, "managed", map[string]any{"name": "managed"})
	alias := res(typeBackupVault, "alias", map[string]any{"name": "alias", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/aws/backup"})
	byName := backupPlan("by-name", backupRule("daily", "cmk", "cron(0 5 * * ? *)", 35))
	toManaged := backupPlan("to-managed", backupRule("daily", "cmk", "cron(0 5 * * ? *)", 35), backupRule("weekly", "managed", "cron(0 6 ? * SUN *)", 90))
	toAlias := dependsOn(backupPlan("to-alias", backupRule("daily", unknown, nil, nil)), "rules", alias)
	toDefault := backupPlan("to-default", backupRule("daily", "Default", nil, nil))
	unnamed := backupPlan("unnamed", map[string]any{"ruleName": "daily"})
	// The copy region's vault has the same name, in another region: its key does not count for the rule.
	inRegion := func(r Resource, region string) Resource {
		r.Provider = Provider{Type: "pulumi:providers:aws", Name: region, Properties: val(map[string]any{"region": region}).AsMap()}
		return r
	}
	east := inRegion(res(typeBackupVault, "east", map[string]any{"name": "backups"}), "us-east-1")
	west := inRegion(res(typeBackupVault, "west", map[string]any{"name": "backups", "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/w"}), "us-west-2")
	regional := inRegion(backupPlan("regional", backupRule("daily", "backups", nil, nil)), "us-east-1")
	runCases(t, "backup-plan-vault-customer-key", "mandatory", []policyCase{
		{name: "by name, by dependency, in the plan's region", resources: []Resource{cmk, managed, byName,
			dependsOn(backupPlan("by-dependency", backupRule("daily", unknown, nil, nil)), "rules", cmk),
			inRegion(res(typeBackupVault, "east-cmk", map[string]any{"name": "backups", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/e"}), "us-east-1"),
			inRegion(res(typeBackupVault, "west-none", map[string]any{"name": "backups"}), "us-west-2"),
			inRegion(backupPlan("regional", backupRule("daily", "backups", nil, nil)), "us-east-1"),
		}},
		{name: "AWS managed keys", resources: []Resource{cmk, managed, alias, toManaged, toAlias}, want: []expected{
			{toManaged.URN, `rules[1] ("weekly") stores its recovery points in vault managed (kmsKeyArn not set), which is not encrypted with a customer managed KMS key`},
			{toAlias.URN, `rules[0] ("daily") stores its recovery points in vault alias (kmsKeyArn "arn:aws:kms:us-east-1:123456789012:alias/aws/backup")`},
		}},
		{name: "a vault outside the stack", resources: []Resource{cmk, toDefault}, want: []expected{
			{toDefault.URN, `rules[0] ("daily") stores its recovery points in vault "Default", which is not an aws:backup/vault:Vault of this stack`}}},
		{name: "no vault named", resources: []Resource{cmk, unnamed}, want: []expected{
			{unnamed.URN, `rules[0] ("daily") has targetVaultName not set`}}},
		{name: "the same name in another region", resources: []Resource{east, west, regional}, want: []expected{
			{regional.URN, "vault east (kmsKeyArn not set)"}}},
		{name: "unknown values", resources: []Resource{cmk, managed,
			backupPlan("a", backupRule("daily", unknown, nil, nil)), // no dependency: cannot be traced
			dependsOn(backupPlan("b", backupRule("daily", unknown, nil, nil), backupRule("weekly", "cmk", nil, nil)), "rules", cmk, managed),
			dependsOn(backupPlan("c", backupRule("daily", "x", nil, nil)), "rules", res(typeBackupVault, "nameless", map[string]any{"name": unknown})),
			res(typeBackupVault, "nameless", map[string]any{"name": unknown, "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/n"}),
			backupPlan("d", backupRule("daily", "cmk", nil, nil), unknown),
			res(typeBackupPlan, "e", map[string]any{"rules": unknown}),
			backupPlan("f", backupRule("daily", "keyless", nil, nil)),
			res(typeBackupVault, "keyless", map[string]any{"name": "keyless", "kmsKeyArn": unknown}),
		}},
	})
}

func TestBackupVaultImmutable(t *testing.T) {
	vault := func(name string) Resource { return res(typeBackupVault, name, map[string]any{"name": name}) }
	locked, denied, wildcard := vault("locked"), vault("denied"), vault("wildcard")
	bare, weakLock, narrow, loose := vault("bare"), vault("weak-lock"), vault("narrow"), vault("loose")
	lock := func(v Resource, props map[string]any) Resource {
		props["backupVaultName"] = v.Name
		return dependsOn(res(typeBackupVaultLock, v.Name, props), "backupVaultName", v)
	}
	vaultPolicy := func(v Resource, document string) Resource {
		return res(typeBackupVaultPolicy, v.Name, map[string]any{"backupVaultName": v.Name, "policy": document})
	}
	const onlyDelete = `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"backup:DeleteRecoveryPoint","Resource":"*"}]}`
	const oneRole = `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/ops"},` +
		`"Action":"backup:*","Resource":"*"}]}`
	runCases(t, "backup-vault-immutable", "advisory", []policyCase{
		{name: "a lock with a minimum, a deny-delete policy, backup:* denied with a break-glass condition", resources: []Resource{
			locked, lock(locked, map[string]any{"minRetentionDays": 35, "maxRetentionDays": 365}),
			denied, vaultPolicy(denied, denyDeletion),
			wildcard, vaultPolicy(wildcard, `{"Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"backup:*",`+
				`"Resource":"arn:aws:backup:us-east-1:123456789012:recovery-point:*",`+
				`"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/break-glass"}}}}`),
		}},
		{name: "nothing, a lock without minimum, a deny of one action, a deny for one role", resources: []Resource{
			bare, weakLock, lock(weakLock, map[string]any{"maxRetentionDays": 365}),
			narrow, vaultPolicy(narrow, onlyDelete), loose, vaultPolicy(loose, oneRole),
		}, want: []expected{
			{bare.URN, "no aws:backup/vaultLockConfiguration:VaultLockConfiguration with minRetentionDays"},
			{weakLock.URN, "no aws:backup/vaultLockConfiguration"},
			{narrow.URN, "backup:UpdateRecoveryPointLifecycle"},
			{loose.URN, `denies Principal "*"`},
		}},
		{name: "a lock on another vault (a dependency names it), not on the copy of the same name", resources: func() []Resource {
			main := vault("main")
			copyVault := res(typeBackupVault, "copy", map[string]any{"name": "main"})
			return []Resource{main, copyVault, lock(main, map[string]any{"minRetentionDays": 7})}
		}(), want: []expected{{urnOf(typeBackupVault, "copy"), "no aws:backup/vaultLockConfiguration"}}},
		{name: "unknown values", resources: []Resource{
			vault("a"), lock(vault("a"), map[string]any{"minRetentionDays": unknown}),
			vault("b"), vaultPolicy(vault("b"), `{"Statement":[]}`), res(typeBackupVaultPolicy, "b-policy", map[string]any{"backupVaultName": "b", "policy": unknown}),
			res(typeBackupVault, "c", map[string]any{"name": unknown}), res(typeBackupVaultLock, "c", map[string]any{"backupVaultName": "c", "minRetentionDays": 7}),
			res(typeBackupVault, "d", map[string]any{"name": unknown}), // an untraceable lock may be this vault's
			res(typeBackupVaultLock, "any", map[string]any{"backupVaultName": unknown, "minRetentionDays": 7}),
		}},
	})
}
