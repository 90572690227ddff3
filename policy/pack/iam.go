package pack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeIAMPolicy      = "aws:iam/policy:Policy"
	typeIAMRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	typeIAMUserPolicy  = "aws:iam/userPolicy:UserPolicy"
	typeIAMGroupPolicy = "aws:iam/groupPolicy:GroupPolicy"
	typeIAMRole        = "aws:iam/role:Role"
)

var iamNoWildcardActions = resourcePolicy{
	name:        "iam-no-wildcard-actions",
	description: "IAM and bucket policies allow no \"*\" or \"service:*\" actions and no NotAction.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		switch r.Type {
		case typeIAMPolicy, typeIAMRolePolicy, typeIAMUserPolicy, typeIAMGroupPolicy, typeS3BucketPolicy:
			checkNoWildcardActions(report, "policy", at(r.Properties, "policy"))
		case typeIAMRole: // assumeRolePolicy is a trust policy: its actions are sts:AssumeRole*
			for i, inline := range elements(at(r.Properties, "inlinePolicies")) {
				if inline.IsComputed() {
					continue
				}
				inlineProps, _ := mapOf(inline)
				checkNoWildcardActions(report, fmt.Sprintf("inlinePolicies[%d].policy", i), at(inlineProps, "policy"))
			}
		}
	},
}

func checkNoWildcardActions(report func(string), name string, document property.Value) {
	if document.IsNull() {
		return
	}
	var doc policyDocument
	known, err := jsonDocument(document, &doc)
	switch {
	case !known:
		return
	case err != nil:
		report(fmt.Sprintf("%s is not a valid policy document: %v", name, err))
		return
	}
	for i, st := range doc.Statement {
		if st.denies() {
			continue // a broad Deny only takes away
		}
		where := fmt.Sprintf("%s: statement %d", name, i)
		if st.Sid != "" {
			where += " (" + strconv.Quote(st.Sid) + ")"
		}
		if len(st.NotAction) > 0 {
			report(where + " allows NotAction, which grants every other action, present and future")
		}
		for _, action := range st.Action {
			if isWildcardAction(action) {
				report(fmt.Sprintf("%s allows %q: name the actions it needs", where, action))
			}
		}
	}
}

func isWildcardAction(action string) bool {
	action = strings.TrimSpace(action)
	return action == "*" || strings.HasSuffix(action, ":*")
}

// policyDocument is the part of an IAM policy document the policies read.
type policyDocument struct {
	Statement statements
}

type statement struct {
	Sid       string
	Effect    string
	Action    stringOrList
	NotAction stringOrList
	// Condition maps an operator (Bool) to condition keys and their values.
	Condition map[string]map[string]any
}

// denies is strict: anything but "Deny" is read as Allow.
func (s statement) denies() bool { return s.Effect == "Deny" }

// statements accepts a single statement object as well as a list.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	var one statement
	if err := json.Unmarshal(b, &one); err == nil {
		*s = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// stringOrList accepts "a" as well as ["a", "b"].
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringOrList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}
