package pack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeBackupPlan      = "aws:backup/plan:Plan"
	typeBackupVaultLock = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
)

// backupPlanRetention: a plan that never runs daily leaves days without a
// recovery point, and one whose points expire early cannot bring back what
// went wrong before anyone noticed. Its counterpart is the AWS Config rule
// backup-plan-min-frequency-and-min-retention-check (defaults: 1 day, 35
// days), which asks for a rule that meets both; this policy asks that of the
// plan and, stricter, that no rule keeps its points for less than the
// minimum. A rule less frequent than daily (a weekly or monthly tier that
// keeps points longer) is fine beside a daily one. Whether the rule's vault
// has a customer key is backup-plan-vault-customer-key's question: a
// resource policy sees no other resource.
var backupPlanRetention = resourcePolicy{
	name: "backup-plan-retention",
	description: "AWS Backup plans back up at least daily, and every rule keeps its recovery points for at least the configured " +
		"number of days.",
	level: mandatory,
	settings: []setting{intSetting{
		name: "minRetentionDays", description: "Shortest acceptable lifecycle.deleteAfter of a backup rule, in days.",
		min: 1, max: 36500, field: func(c *Config) *int { return &c.MinBackupRetentionDays },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeBackupPlan {
			return
		}
		rules := at(r.Properties, "rules")
		if rules.IsComputed() {
			return
		}
		daily, undetermined := false, false
		var lessOften []string
		for i, rule := range elements(rules) {
			rm, ok := mapOf(rule)
			if !ok {
				undetermined = undetermined || rule.IsComputed()
				continue
			}
			where := fmt.Sprintf("rules[%d]", i)
			if name, ok := stringOf(at(rm, "ruleName")); ok {
				where += fmt.Sprintf(" (%q)", name)
			}

			switch l := ruleRunsDaily(report, where, at(rm, "schedule")); l {
			case linked:
				daily = true
			case maybeLinked:
				undetermined = true
			default:
				lessOften = append(lessOften, where)
			}

			deleteAfter := at(rm, "lifecycle", "deleteAfter")
			days, isNumber := numberOf(deleteAfter)
			switch {
			case deleteAfter.IsComputed(), deleteAfter.IsNull():
				// Unknown yet, or no expiry: kept for ever.
			case !isNumber:
				report(fmt.Sprintf("%s: lifecycle.deleteAfter is %s: set a number of days, at least %d",
					where, describe(deleteAfter), cfg.MinBackupRetentionDays))
			case days < float64(cfg.MinBackupRetentionDays):
				report(fmt.Sprintf("%s: lifecycle.deleteAfter is %v days, below the minimum of %d: "+
					"a problem noticed later than that can no longer be restored from this rule's recovery points",
					where, days, cfg.MinBackupRetentionDays))
			}
		}
		if !daily && !undetermined {
			which := "the plan has no rules"
			if len(lessOften) > 0 {
				which = strings.Join(lessOften, ", ") + " run less often than daily"
			}
			report("no rule backs up at least daily (" + which + "): add a rule whose schedule starts a backup every day, " +
				"such as cron(0 5 * * ? *)")
		}
	},
}

// ruleRunsDaily judges a rule's schedule: linked when it runs at least
// daily, unlinked when not (an expression AWS Backup would refuse is
// reported), maybeLinked while unknown.
func ruleRunsDaily(report func(string), where string, schedule property.Value) link {
	if schedule.IsComputed() {
		return maybeLinked
	}
	expr, isString := stringOf(schedule)
	switch {
	case schedule.IsNull() || isString && strings.TrimSpace(expr) == "":
		expr = defaultBackupSchedule // AWS Backup's own default: daily
	case !isString:
		report(fmt.Sprintf("%s: schedule is %s: set a cron expression", where, describe(schedule)))
		return unlinked
	}
	daily, err := runsDaily(expr)
	if err != nil {
		report(fmt.Sprintf("%s: schedule %q is not a schedule AWS Backup takes: %v", where, expr, err))
		return unlinked
	}
	if daily {
		return linked
	}
	return unlinked
}

// backupPlanVaultCustomerKey follows each rule's targetVaultName to a vault
// of the stack, where backup-vault-customer-key judges the vault alone.
var backupPlanVaultCustomerKey = stackPolicy{
	name: "backup-plan-vault-customer-key",
	description: "Every AWS Backup plan rule stores its recovery points in a vault of this stack that is encrypted with " +
		"a customer managed KMS key.",
	level: mandatory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		vaults := ofType(resources, typeBackupVault)
		for _, plan := range ofType(resources, typeBackupPlan) {
			rules := at(plan.Properties, "rules")
			for i, rule := range elements(rules) {
				rm, ok := mapOf(rule)
				if !ok {
					continue
				}
				where := fmt.Sprintf("rules[%d]", i)
				if name, ok := stringOf(at(rm, "ruleName")); ok {
					where += fmt.Sprintf(" (%q)", name)
				}
				if message := ruleVaultProblem(plan, at(rm, "targetVaultName"), vaults); message != "" {
					report(plan.URN, where+" "+message)
				}
			}
		}
	},
}

// ruleVaultProblem traces a rule's targetVaultName to the vaults it may
// name, and returns what is wrong, or "" when nothing is or it cannot tell
// yet. A value that depends on vaults names one of them; a known name is
// compared with the vaults' names (in the plan's region, when both are
// known); an unknown value without such a dependency names nothing that can
// be traced. With several candidates, it reports only when none has a
// customer key.
func ruleVaultProblem(plan policyx.AnalyzerResource, v property.Value, vaults []policyx.AnalyzerResource) string {
	var candidates []policyx.AnalyzerResource
	for _, d := range v.Dependencies() {
		if i := slices.IndexFunc(vaults, func(vault policyx.AnalyzerResource) bool { return vault.URN == string(d) }); i >= 0 {
			candidates = append(candidates, vaults[i])
		}
	}
	name, isString := stringOf(v)
	switch {
	case len(candidates) > 0:
	case v.IsComputed():
		// The property's dependencies cover every rule (and copy action)
		// of the plan: any vault among them may be this rule's.
		deps := plan.PropertyDependencies["rules"]
		for _, vault := range vaults {
			if slices.Contains(deps, vault.URN) {
				candidates = append(candidates, vault)
			}
		}
		if len(candidates) == 0 {
			return ""
		}
	case !isString || name == "":
		return "has targetVaultName " + describe(v) + ": name a vault of this stack, encrypted with a customer managed key"
	default:
		nameUnknown := false
		for _, vault := range vaults {
			vaultName := at(vault.Properties, "name")
			if vaultName.IsComputed() || vaultName.IsNull() {
				nameUnknown = true // a vault whose name is not known yet may be the one
			}
			if s, _ := stringOf(vaultName); s == name && !otherRegion(plan, vault) {
				candidates = append(candidates, vault)
			}
		}
		if len(candidates) == 0 && nameUnknown {
			return ""
		}
		if len(candidates) == 0 {
			return fmt.Sprintf("stores its recovery points in vault %q, which is not an %s of this stack: its encryption "+
				"cannot be checked (the Default vault uses the AWS managed key aws/backup); use a vault of this stack "+
				"with a customer managed key", name, typeBackupVault)
		}
	}
	var without []string
	for _, vault := range candidates {
		key := at(vault.Properties, "kmsKeyArn")
		if key.IsComputed() {
			return ""
		}
		if s, _ := stringOf(key); s != "" && !strings.Contains(s, "alias/aws/") {
			return ""
		}
		without = append(without, fmt.Sprintf("%s (kmsKeyArn %s)", vault.Name, describe(key)))
	}
	return "stores its recovery points in vault " + strings.Join(without, " or ") + ", which is not encrypted with a " +
		"customer managed KMS key: AWS Backup then uses a key whose policy this account cannot restrict"
}

// otherRegion tells whether two resources are known to be in different
// regions, by their providers' region.
func otherRegion(a, b policyx.AnalyzerResource) bool {
	ra, _ := stringOf(at(a.Provider.Properties, "region"))
	rb, _ := stringOf(at(b.Provider.Properties, "region"))
	return ra != "" && rb != "" && ra != rb
}

// immutableVaultActions are what the Deny of a vault access policy must
// cover so that recovery points cannot be deleted or expired early, nor the
// policy replaced: the statement the AWS Config rule
// backup-recovery-point-manual-deletion-disabled looks for.
var immutableVaultActions = []string{
	"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy",
}

// backupVaultImmutable: a customer key protects recovery points from being
// read, not from being deleted by whoever holds backup:DeleteRecoveryPoint.
var backupVaultImmutable = stackPolicy{
	name: "backup-vault-immutable",
	description: "Every AWS Backup vault has AWS Backup Vault Lock (with a minimum retention) or an access policy that " +
		"denies everyone deleting recovery points, shortening their lifecycle and replacing the policy.",
	level: advisory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		vaults := ofType(resources, typeBackupVault)
		for _, vault := range vaults {
			protected, undetermined := false, false
			for _, r := range ofType(resources, typeBackupVaultLock, typeBackupVaultPolicy) {
				switch vaultRefLink(r, "backupVaultName", vault, vaults) {
				case maybeLinked:
					undetermined = true
					continue
				case unlinked:
					continue
				}
				var l link
				if r.Type == typeBackupVaultLock {
					l = lockRetains(r)
				} else {
					l = deniesDeletion(r)
				}
				protected = protected || l == linked
				undetermined = undetermined || l == maybeLinked
			}
			if !protected && !undetermined {
				report(vault.URN, "no "+typeBackupVaultLock+" with minRetentionDays and no "+typeBackupVaultPolicy+
					" that denies Principal \"*\" "+strings.Join(immutableVaultActions, ", ")+
					" on Resource \"*\": anyone allowed those actions can delete the recovery points or expire them early")
			}
		}
	},
}

// lockRetains: a lock without minRetentionDays enforces no minimum, so it
// does not keep anyone from deleting a recovery point (AWS Backup API
// Reference, PutBackupVaultLockConfiguration: MinRetentionDays).
func lockRetains(lock policyx.AnalyzerResource) link {
	v := at(lock.Properties, "minRetentionDays")
	if v.IsComputed() {
		return maybeLinked
	}
	if days, ok := numberOf(v); ok && days >= 1 {
		return linked
	}
	return unlinked
}

// deniesDeletion looks for a Deny statement to everyone, on every resource
// of the vault, that covers immutableVaultActions. Conditions are not
// judged: they commonly exempt a break-glass role.
func deniesDeletion(vaultPolicy policyx.AnalyzerResource) link {
	v := at(vaultPolicy.Properties, "policy")
	if v.HasComputed() {
		return maybeLinked
	}
	doc, ok := readDocument(nil, "policy", v)
	if !ok {
		return unlinked
	}
	for _, st := range doc.Statement {
		if !st.denies() || !st.Principal.any || !slices.ContainsFunc(st.Resource, func(r string) bool { return strings.Contains(r, "*") }) {
			continue
		}
		if !slices.ContainsFunc(immutableVaultActions, func(a string) bool { return !st.grantsAction(a) }) {
			return linked
		}
	}
	return unlinked
}

// vaultRefLink says whether property prop of r names vault: by a
// dependency on it (a dependency on another vault names that one), else by
// the vault's name (in the same region, when both are known), while
// unknown values that carry no dependency may name any vault whose name is
// not known yet.
func vaultRefLink(r policyx.AnalyzerResource, prop string, vault policyx.AnalyzerResource, vaults []policyx.AnalyzerResource) link {
	v := at(r.Properties, prop)
	deps := slices.Clone(r.PropertyDependencies[prop])
	for _, d := range v.Dependencies() {
		deps = append(deps, string(d))
	}
	if slices.Contains(deps, vault.URN) {
		return linked
	}
	if slices.ContainsFunc(vaults, func(other policyx.AnalyzerResource) bool { return slices.Contains(deps, other.URN) }) {
		return unlinked
	}
	if otherRegion(r, vault) {
		return unlinked
	}
	t := target{urns: []string{vault.URN}, ids: []property.Value{at(vault.Properties, "name")}}
	return t.linkOf(r, prop, v)
}
