package pack

import (
	"fmt"
	"path"
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

var dynamoDBTableBackupCoverage = stackPolicy{
	name: "dynamodb-table-backup-coverage",
	description: "Every DynamoDB table is backed up: a BackupSchedule component refers to it, or an AWS Backup " +
		"selection names it.",
	level: mandatory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		scheduled := underBackupSchedule(resources)
		selections := ofType(resources, typeBackupSelection)
		for _, table := range ofType(resources, typeDynamoDBTable) {
			undetermined := false
			covered := slices.ContainsFunc(selections, func(sel policyx.AnalyzerResource) bool {
				switch selects(sel, table) {
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
				report(table.URN, "no "+typeBackupSelection+" selects this table (by reference, ARN or selectionTags) and no "+
					"resource of a "+typeBackupSchedule+" refers to it: past PITR's window a bad write or a lost table could not be recovered")
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

// matchesARN says whether an ARN (or ARN pattern, as AWS Backup selections
// accept "*") names the table.
func (t tableRef) matchesARN(s string) link {
	if s == "*" {
		return linked
	}
	if !strings.Contains(s, ":dynamodb:") || !strings.Contains(s, ":table/") {
		return unlinked
	}
	if t.name == "" {
		return maybeLinked
	}
	if strings.HasSuffix(s, ":table/"+t.name) {
		return linked
	}
	if strings.ContainsAny(s, "*?") {
		_, pattern, _ := strings.Cut(s, ":table/")
		if ok, _ := path.Match(pattern, t.name); ok {
			return linked
		}
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

// selects says whether an AWS Backup selection covers the table: its
// resources refer to it and its notResources do not, or its selectionTags
// match the table's tags.
func selects(sel policyx.AnalyzerResource, table policyx.AnalyzerResource) link {
	t := refOf(table)
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
	if excluded := elementLink("notResources"); excluded == linked {
		return unlinked
	}
	byResource := elementLink("resources")
	if byResource == linked {
		return linked
	}
	byTags := tagsSelect(sel, table)
	if byTags == linked {
		return linked
	}
	if byResource == maybeLinked || byTags == maybeLinked {
		return maybeLinked
	}
	return unlinked
}

// tagsSelect matches a selection's selectionTags (STRINGEQUALS) against the
// table's tags; every tag condition of the list selects on its own.
func tagsSelect(sel, table policyx.AnalyzerResource) link {
	conditions := at(sel.Properties, "selectionTags")
	if conditions.IsComputed() {
		return maybeLinked
	}
	tags := at(table.Properties, "tags")
	result := unlinked
	for _, c := range elements(conditions) {
		cm, ok := mapOf(c)
		if !ok {
			if c.IsComputed() {
				result = maybeLinked
			}
			continue
		}
		typ, key, value := at(cm, "type"), at(cm, "key"), at(cm, "value")
		tagsMap, _ := mapOf(tags)
		tagValue := at(tagsMap, stringOr(key))
		if typ.IsComputed() || key.IsComputed() || value.IsComputed() || tags.IsComputed() || tagValue.IsComputed() {
			result = maybeLinked
			continue
		}
		if s, _ := stringOf(typ); s != "STRINGEQUALS" {
			continue
		}
		if want, ok := stringOf(value); ok {
			if have, ok := stringOf(tagValue); ok && have == want {
				return linked
			}
		}
	}
	return result
}

func stringOr(v property.Value) string {
	s, _ := stringOf(v)
	return s
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
