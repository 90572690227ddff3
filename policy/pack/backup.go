package pack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeBackupVault     = "aws:backup/vault:Vault"
	typeBackupSelection = "aws:backup/selection:Selection"
	// typeBackupSchedule is the component that exports a table to S3 and
	// backs it up with AWS Backup (components/backup_schedule.go).
	typeBackupSchedule = "manga-assist:data:BackupSchedule"
)

var backupVaultCustomerKey = resourcePolicy{
	name:        "backup-vault-customer-key",
	description: "AWS Backup vaults are encrypted with a customer managed KMS key.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeBackupVault {
			return
		}
		v := at(r.Properties, "kmsKeyArn")
		if v.IsComputed() {
			return
		}
		key, _ := stringOf(v)
		switch {
		case key == "":
			report("kmsKeyArn is " + describe(v) + ": AWS Backup then uses its AWS managed key (aws/backup), whose policy " +
				"this account cannot restrict; set a customer managed key")
		case strings.Contains(key, "alias/aws/"):
			report(fmt.Sprintf("kmsKeyArn %q is an AWS managed key: set a customer managed key", key))
		}
	},
}

// dynamoDBTableBackupCoverage: a table is backed up when an AWS Backup
// selection of a plan of this stack selects it, or a BackupSchedule
// component exports it. A selection attached to a plan the stack does not
// hold proves nothing: that plan may have no rules, or be deleted.
var dynamoDBTableBackupCoverage = stackPolicy{
	name: "dynamodb-table-backup-coverage",
	description: "Every DynamoDB table is backed up: a BackupSchedule component refers to it, or an AWS Backup " +
		"selection of a plan of this stack selects it.",
	level: mandatory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		scheduled := underBackupSchedule(resources)
		selections := ofType(resources, typeBackupSelection)
		plans := target{}
		for _, p := range ofType(resources, typeBackupPlan) {
			plans.urns = append(plans.urns, p.URN)
		}
		for _, table := range ofType(resources, typeDynamoDBTable) {
			undetermined := false
			var elsewhere []string // selections that select the table for a plan outside the stack
			covered := slices.ContainsFunc(selections, func(sel policyx.AnalyzerResource) bool {
				selected := selects(sel, table)
				plan := plans.linkOf(sel, "planId", at(sel.Properties, "planId"))
				if selected == linked && plan == unlinked {
					elsewhere = append(elsewhere, sel.Name)
				}
				switch and3(selected, plan) {
				case linked:
					return true
				case maybeLinked:
					undetermined = true
				}
				return false
			}) || slices.ContainsFunc(scheduled, func(r policyx.AnalyzerResource) bool {
				switch refersTo(r, table) {
				case linked:
					return true
				case maybeLinked:
					undetermined = true
				}
				return false
			})
			if !covered && !undetermined {
				message := "no " + typeBackupSelection + " of a plan of this stack selects this table (by reference, ARN or " +
					"pattern in resources and not in notResources, selectionTags, conditions) and no resource of a " +
					typeBackupSchedule + " refers to it: past PITR's window a bad write or a lost table could not be recovered"
				if len(elsewhere) > 0 {
					message += fmt.Sprintf("; %s select it, but their planId refers to no %s of this stack",
						strings.Join(elsewhere, ", "), typeBackupPlan)
				}
				report(table.URN, message)
			}
		}
	},
}

// underBackupSchedule returns the BackupSchedule components and every
// resource below one.
func underBackupSchedule(resources []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	byURN := map[string]policyx.AnalyzerResource{}
	for _, r := range resources {
		byURN[r.URN] = r
	}
	var out []policyx.AnalyzerResource
	for _, r := range resources {
		for cur, depth := r, 0; depth < 100; depth++ {
			if cur.Type == typeBackupSchedule {
				out = append(out, r)
				break
			}
			parent, ok := byURN[cur.Parent]
			if !ok {
				break
			}
			cur = parent
		}
	}
	return out
}

// tableRef is how a table may be referred to: its URN, and its name once known.
type tableRef struct {
	urn  string
	name string // "" while unknown
}

func refOf(table policyx.AnalyzerResource) tableRef {
	name, _ := stringOf(at(table.Properties, "name"))
	return tableRef{urn: table.URN, name: name}
}

// tableProbe is an ARN of a table called name, in a partition, region and
// account no policy names, except where the pattern names them: a pattern
// that names this stack's account or region is assumed to mean the table's.
func tableProbe(pattern, name string) string {
	fields := []string{"arn", "aws", "dynamodb", "zz-probe-9", "000000000000"}
	parts := strings.SplitN(pattern, ":", 6)
	if len(parts) == 6 {
		for _, i := range []int{1, 3, 4} { // partition, region, account
			if !strings.ContainsAny(parts[i], "*?") {
				fields[i] = parts[i]
			}
		}
	}
	return strings.Join(fields, ":") + ":table/" + name
}

// matchesARN says whether an ARN or an ARN pattern (AWS Backup: "*" is zero
// or more characters, ":" and "/" included) names the table.
func (t tableRef) matchesARN(s string) link {
	if t.name != "" {
		if globMatch(s, tableProbe(s, t.name)) {
			return linked
		}
		return unlinked
	}
	// The name is not known yet: a pattern that matches any name matches
	// it; one that may match some table may match it.
	if globMatch(s, tableProbe(s, "zz-probe-table")) && globMatch(s, tableProbe(s, "Other.Name_1")) {
		return linked
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) >= 3 && !strings.ContainsAny(parts[2], "*?") && parts[2] != "dynamodb" {
		return unlinked // another service's resources
	}
	if strings.Contains(s, "table/") || strings.HasSuffix(s, "*") {
		return maybeLinked
	}
	return unlinked
}

func dependsOnURN(r policyx.AnalyzerResource, prop string, v property.Value, urn string) bool {
	if slices.Contains(r.PropertyDependencies[prop], urn) {
		return true
	}
	for _, d := range v.Dependencies() {
		if string(d) == urn {
			return true
		}
	}
	return false
}

// selects says whether an AWS Backup selection assigns the table to its
// plan, as AWS Backup combines a selection's parts (AWS Backup Developer
// Guide, "Assigning resources to a backup plan" and "Assign resources with
// AWS CLI"; API Reference, BackupSelection, Conditions): resources are ORed
// and "*" patterns match any characters; ListOfTags (selectionTags) are
// ORed, and ORed with resources ("all EBS volumes or all resources tagged
// backup:yes", AWS re:Post knowledge center, "backup-assign-resources");
// every condition of Conditions must hold (AND), and they filter what
// resources and tags select ("the specified resource types are filtered
// first, then tags further filter those resources"); notResources are
// taken out. A selection with neither resources nor selectionTags starts
// from every supported resource ("Otherwise, Backup attempts to select all
// supported and opted-in storage resources"). How ListOfTags combine with
// Conditions the guide does not say; they are ANDed here like the rest.
func selects(sel policyx.AnalyzerResource, table policyx.AnalyzerResource) link {
	t := refOf(table)
	tags, tagsKnown := effectiveTags(table)
	elementLink := func(prop string) link {
		v := at(sel.Properties, prop)
		if dependsOnURN(sel, prop, v, t.urn) {
			return linked
		}
		if v.IsComputed() {
			if len(sel.PropertyDependencies[prop]) == 0 {
				return maybeLinked
			}
			return unlinked
		}
		result := unlinked
		for _, e := range elements(v) {
			switch {
			case dependsOnURN(sel, prop, e, t.urn):
				return linked
			case e.IsComputed():
				result = maybeLinked
			default:
				if s, ok := stringOf(e); ok {
					if l := t.matchesARN(s); l == linked {
						return linked
					} else if l == maybeLinked {
						result = maybeLinked
					}
				}
			}
		}
		return result
	}
	empty := func(prop string) bool {
		v := at(sel.Properties, prop)
		return !v.IsComputed() && len(elements(v)) == 0
	}
	var base link
	if empty("resources") && empty("selectionTags") {
		base = linked // every supported resource
	} else {
		base = or3(elementLink("resources"), tagsSelect(sel, tags, tagsKnown))
	}
	return and3(base, conditionsHold(sel, tags, tagsKnown), not3(elementLink("notResources")))
}

// effectiveTags are the tags AWS Backup sees on a resource: its provider's
// defaultTags, its tagsAll and its tags. known is false when any is unknown.
func effectiveTags(r policyx.AnalyzerResource) (map[string]property.Value, bool) {
	tags := map[string]property.Value{}
	for _, source := range []property.Value{providerDefaultTags(r.Provider), at(r.Properties, "tagsAll"), at(r.Properties, "tags")} {
		if source.IsComputed() {
			return nil, false
		}
		m, _ := mapOf(source)
		for k, v := range m.All {
			tags[k] = v
		}
	}
	return tags, true
}

// tagKey is the tag a condition key names: "aws:ResourceTag/backup" or,
// in selectionTags, plain "backup".
func tagKey(key string) string {
	return strings.TrimPrefix(key, "aws:ResourceTag/")
}

// tagMatches evaluates one tag condition on the table's tags. The negated
// operators select "only those resources that you tagged that do not have
// the same value" (API Reference, Conditions): an absent tag does not match.
func tagMatches(op string, cond property.Map, tags map[string]property.Value, tagsKnown bool) link {
	key, value := at(cond, "key"), at(cond, "value")
	if key.IsComputed() || value.IsComputed() || !tagsKnown {
		return maybeLinked
	}
	k, kOK := stringOf(key)
	want, vOK := stringOf(value)
	if !kOK || !vOK {
		return unlinked
	}
	tag, present := tags[tagKey(k)]
	if tag.IsComputed() {
		return maybeLinked
	}
	have, isString := stringOf(tag)
	if !present || !isString {
		return unlinked
	}
	var holds bool
	switch op {
	case "stringEquals":
		holds = have == want
	case "stringNotEquals":
		holds = have != want
	case "stringLikes":
		holds = globMatch(want, have)
	case "stringNotLikes":
		holds = !globMatch(want, have)
	}
	if holds {
		return linked
	}
	return unlinked
}

// tagsSelect matches a selection's selectionTags (ListOfTags: STRINGEQUALS
// only) against the table's tags: any one of them selects (OR).
func tagsSelect(sel policyx.AnalyzerResource, tags map[string]property.Value, tagsKnown bool) link {
	conditions := at(sel.Properties, "selectionTags")
	if conditions.IsComputed() {
		return maybeLinked
	}
	result := unlinked
	for _, c := range elements(conditions) {
		cm, ok := mapOf(c)
		if !ok {
			if c.IsComputed() {
				result = maybeLinked
			}
			continue
		}
		typ := at(cm, "type")
		if typ.IsComputed() {
			result = or3(result, maybeLinked)
			continue
		}
		if s, _ := stringOf(typ); s != "STRINGEQUALS" {
			continue
		}
		result = or3(result, tagMatches("stringEquals", cm, tags, tagsKnown))
	}
	return result
}

// conditionsHold evaluates a selection's conditions blocks: every
// StringEquals, StringLike, StringNotEquals and StringNotLike condition on
// aws:ResourceTag/<key> must hold (AND). No conditions: nothing filters.
func conditionsHold(sel policyx.AnalyzerResource, tags map[string]property.Value, tagsKnown bool) link {
	blocks := at(sel.Properties, "conditions")
	if blocks.IsComputed() {
		return maybeLinked
	}
	result := linked
	for _, block := range elements(blocks) {
		bm, ok := mapOf(block)
		if !ok {
			if block.IsComputed() {
				result = and3(result, maybeLinked)
			}
			continue
		}
		for _, op := range []string{"stringEquals", "stringLikes", "stringNotEquals", "stringNotLikes"} {
			list := at(bm, op)
			if list.IsComputed() {
				result = and3(result, maybeLinked)
				continue
			}
			for _, c := range elements(list) {
				cm, ok := mapOf(c)
				if !ok {
					if c.IsComputed() {
						result = and3(result, maybeLinked)
					}
					continue
				}
				result = and3(result, tagMatches(op, cm, tags, tagsKnown))
			}
		}
	}
	return result
}

// Three-valued logic over links: linked is true, unlinked false, and
// maybeLinked not known yet.

func and3(ls ...link) link {
	result := linked
	for _, l := range ls {
		if l == unlinked {
			return unlinked
		}
		if l == maybeLinked {
			result = maybeLinked
		}
	}
	return result
}

func or3(ls ...link) link {
	result := unlinked
	for _, l := range ls {
		if l == linked {
			return linked
		}
		if l == maybeLinked {
			result = maybeLinked
		}
	}
	return result
}

func not3(l link) link {
	switch l {
	case linked:
		return unlinked
	case unlinked:
		return linked
	}
	return maybeLinked
}

// refersTo says whether any property of r refers to the table: through the
// engine's property dependencies, or by the table's name or ARN.
func refersTo(r policyx.AnalyzerResource, table policyx.AnalyzerResource) link {
	t := refOf(table)
	for _, deps := range r.PropertyDependencies {
		if slices.Contains(deps, t.urn) {
			return linked
		}
	}
	result := unlinked
	var walk func(v property.Value)
	walk = func(v property.Value) {
		if result == linked {
			return
		}
		for _, d := range v.Dependencies() {
			if string(d) == t.urn {
				result = linked
				return
			}
		}
		switch {
		case v.IsMap():
			for _, e := range v.AsMap().All {
				walk(e)
			}
		case v.IsArray():
			for _, e := range v.AsArray().All {
				walk(e)
			}
		case v.IsString():
			s := v.AsString()
			if t.name != "" && (s == t.name || strings.HasSuffix(s, ":table/"+t.name)) {
				result = linked
			}
		}
	}
	walk(property.New(r.Properties))
	return result
}
