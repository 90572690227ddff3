package pack

import (
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeLambdaPermission = "aws:lambda/permission:Permission"

// resourcePolicyNoPublicAccess: an Allow to "*" in a resource policy grants
// every AWS account, unless a condition ties it to a source; a service
// allowed to invoke a function without a source can be made to invoke it on
// behalf of another account (the confused deputy).
var resourcePolicyNoPublicAccess = resourcePolicy{
	name: "resource-policy-no-public-access",
	description: "Resource policies (S3, SQS, SNS, KMS, AWS Backup) allow \"*\" only under a source condition, and Lambda " +
		"permissions for \"*\" or a service carry a source ARN or account.",
	level: mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type == typeLambdaPermission {
			checkLambdaPermission(r, report)
			return
		}
		if !slices.Contains(resourcePolicyTypes, r.Type) {
			return
		}
		doc, ok := readDocument(nil, "policy", at(r.Properties, "policy")) // iam-no-wildcard-actions reports invalid documents
		if !ok {
			return
		}
		for i, st := range doc.Statement {
			if st.denies() {
				continue
			}
			public := ""
			switch {
			case st.Principal.any:
				public = `allows Principal "*"`
			case st.NotPrincipal.set:
				public = "allows NotPrincipal, that is everyone else"
			}
			if public != "" && !hasSourceCondition(st.Condition) {
				report(st.where("policy", i) + " " + public + " with no condition on the source (aws:SourceArn, " +
					"aws:SourceAccount, aws:PrincipalOrgID, ...): any AWS account may use it")
			}
		}
	},
}

// sourceKeys are the condition keys that tie a request to a source: a
// resource, an account, an organization or a network.
var sourceKeys = []string{
	"aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
	"aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp",
	"aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
	"kms:CallerAccount",
}

// hasSourceCondition tells whether a condition restricts who may use the
// statement: a positive operator (not Not*, not *IfExists, not ForAllValues,
// which a missing key satisfies) on a source key, with a value other than "*".
func hasSourceCondition(condition map[string]map[string]any) bool {
	for operator, conditions := range condition {
		op := strings.ToLower(operator)
		if strings.HasSuffix(op, "ifexists") || strings.Contains(op, "not") || strings.HasPrefix(op, "forallvalues:") ||
			op == "null" || op == "bool" {
			continue
		}
		for key, value := range conditions {
			if slices.ContainsFunc(sourceKeys, func(k string) bool { return strings.EqualFold(k, key) }) && !onlyWildcard(value) {
				return true
			}
		}
	}
	return false
}

func onlyWildcard(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Trim(v, "*") == ""
	case []any:
		return len(v) == 0 || slices.ContainsFunc(v, onlyWildcard)
	}
	return false
}

func checkLambdaPermission(r policyx.AnalyzerResource, report func(string)) {
	principal := at(r.Properties, "principal")
	p, ok := stringOf(principal)
	if !ok {
		return // unknown
	}
	scoped := false
	for _, prop := range []string{"sourceArn", "sourceAccount", "principalOrgId"} {
		if isSet(at(r.Properties, prop)) { // unknown counts: it will hold something
			scoped = true
		}
	}
	switch {
	case scoped:
	case p == "*":
		report(`principal is "*" and neither sourceArn, sourceAccount nor principalOrgId is set: any AWS account may invoke the function`)
	case strings.Contains(p, ".amazonaws.com"):
		report("principal is the service " + p + " and neither sourceArn nor sourceAccount is set: the service " +
			"may invoke the function on behalf of any account; name the source")
	}
}
