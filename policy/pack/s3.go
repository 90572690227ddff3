package pack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeS3BucketV2                = "aws:s3/bucketV2:BucketV2"
	typeS3Bucket                  = "aws:s3/bucket:Bucket" // legacy, with inline settings
	typeS3BucketVersioning        = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeS3BucketLifecycle         = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeS3BucketEncryption        = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeS3BucketPublicAccessBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeS3BucketPolicy            = "aws:s3/bucketPolicy:BucketPolicy"
)

// bucketPolicy checks each bucket against the resources whose `bucket`
// property refers to it; violations are reported against the bucket.
func bucketPolicy(
	name, description string,
	check func(b bucket, report func(message string)),
) stackPolicy {
	return stackPolicy{
		name:        name,
		description: description,
		level:       mandatory,
		validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
			for _, r := range ofType(resources, typeS3BucketV2, typeS3Bucket) {
				b := bucket{AnalyzerResource: r, stack: resources}
				check(b, func(message string) { report(r.URN, message) })
			}
		},
	}
}

type bucket struct {
	policyx.AnalyzerResource
	stack []policyx.AnalyzerResource
}

func (b bucket) legacy() bool { return b.Type == typeS3Bucket }

// attached returns the resources of type typ configuring this bucket, and
// whether another one may turn out to once unknown values are known.
func (b bucket) attached(typ string) ([]policyx.AnalyzerResource, bool) {
	self := target{
		urns: []string{b.URN},
		ids:  []property.Value{at(b.Properties, "bucket"), at(b.Properties, "id")},
	}
	return self.referrers(b.stack, typ, "bucket")
}

func missing(typ string) string {
	return fmt.Sprintf("no %s resource has a bucket property that refers to this bucket", typ)
}

// versioned tells whether versioning is enabled; known is false while that is
// unknown.
func (b bucket) versioned() (on, known bool) {
	// A legacy bucket's versioning block, or a BucketV2's deprecated
	// versionings list.
	inline := []property.Value{at(b.Properties, "versioning", "enabled")}
	if !b.legacy() {
		list := at(b.Properties, "versionings")
		if list.IsComputed() {
			return false, false
		}
		inline = nil
		for _, v := range elements(list) {
			vm, _ := mapOf(v)
			inline = append(inline, at(vm, "enabled"))
		}
	}
	for _, v := range inline {
		if v.IsComputed() {
			return false, false
		}
		if enabled, _ := boolOf(v); enabled {
			return true, true
		}
	}
	configs, undetermined := b.attached(typeS3BucketVersioning)
	for _, c := range configs {
		status := at(c.Properties, "versioningConfiguration", "status")
		if status.IsComputed() {
			return false, false
		}
		if s, _ := stringOf(status); s == "Enabled" {
			return true, true
		}
	}
	return false, !undetermined
}

var s3BucketVersioning = bucketPolicy("s3-bucket-versioning",
	"S3 buckets have versioning enabled.",
	func(b bucket, report func(string)) {
		if on, known := b.versioned(); on || !known {
			return
		}
		configs, _ := b.attached(typeS3BucketVersioning)
		if len(configs) == 0 {
			report(missing(typeS3BucketVersioning) + ": versioning is off, an overwrite or delete loses data")
			return
		}
		for _, c := range configs {
			report(fmt.Sprintf("%s %q: versioningConfiguration.status is %s, must be \"Enabled\"",
				typeS3BucketVersioning, c.Name, describe(at(c.Properties, "versioningConfiguration", "status"))))
		}
	})

// lifecycleRule is a lifecycle rule of either bucket kind.
type lifecycleRule struct {
	enabled, abortsMultipart, expiresNoncurrent bool
}

// lifecycleRules gathers the rules of the bucket's lifecycle configurations;
// known is false while any of them is unknown.
func (b bucket) lifecycleRules() (rules []lifecycleRule, configured, known bool) {
	{ // a legacy bucket's inline rules, or a BucketV2's deprecated ones: the same shape
		inline := at(b.Properties, "lifecycleRules")
		if inline.HasComputed() {
			return nil, false, false
		}
		for _, r := range elements(inline) {
			props, _ := mapOf(r)
			enabled, _ := boolOf(at(props, "enabled"))
			days, _ := numberOf(at(props, "abortIncompleteMultipartUploadDays"))
			rules = append(rules, lifecycleRule{
				enabled:           enabled,
				abortsMultipart:   days > 0,
				expiresNoncurrent: handlesNoncurrent(props),
			})
		}
		configured = len(rules) > 0
	}
	configs, undetermined := b.attached(typeS3BucketLifecycle)
	for _, c := range configs {
		configured = true
		list := at(c.Properties, "rules")
		if list.HasComputed() {
			return nil, true, false
		}
		for _, r := range elements(list) {
			props, _ := mapOf(r)
			status, _ := stringOf(at(props, "status"))
			rules = append(rules, lifecycleRule{
				enabled:           status == "Enabled",
				abortsMultipart:   isSet(at(props, "abortIncompleteMultipartUpload", "daysAfterInitiation")),
				expiresNoncurrent: handlesNoncurrent(props),
			})
		}
	}
	return rules, configured, !undetermined
}

// handlesNoncurrent tells whether a lifecycle rule, of any bucket kind,
// expires or moves noncurrent versions: noncurrentVersionExpiration (a
// configuration resource's or a legacy bucket's), noncurrentVersionExpirations
// (a BucketV2's inline list) or noncurrentVersionTransitions.
func handlesNoncurrent(rule property.Map) bool {
	return isSet(at(rule, "noncurrentVersionExpiration")) || isSet(at(rule, "noncurrentVersionExpirations")) ||
		isSet(at(rule, "noncurrentVersionTransitions"))
}

var s3BucketLifecycle = bucketPolicy("s3-bucket-lifecycle",
	"S3 buckets have lifecycle rules that abort incomplete multipart uploads and expire noncurrent versions.",
	func(b bucket, report func(string)) {
		rules, configured, known := b.lifecycleRules()
		if !known {
			return
		}
		if !configured {
			report(missing(typeS3BucketLifecycle) + ": nothing ever leaves the bucket")
			return
		}
		var enabled, aborts, expiresNoncurrent bool
		for _, r := range rules {
			if r.enabled {
				enabled = true
				aborts = aborts || r.abortsMultipart
				expiresNoncurrent = expiresNoncurrent || r.expiresNoncurrent
			}
		}
		if !enabled {
			report("rules: no lifecycle rule has status \"Enabled\"")
			return
		}
		if !aborts {
			report("rules: no enabled rule sets abortIncompleteMultipartUpload.daysAfterInitiation: " +
				"parts of failed uploads are billed forever")
		}
		if versioned, known := b.versioned(); versioned && known && !expiresNoncurrent {
			report("rules: no enabled rule sets noncurrentVersionExpiration or noncurrentVersionTransitions " +
				"on this versioned bucket: old versions pile up")
		}
	})

var s3BucketEncryption = bucketPolicy("s3-bucket-encryption",
	"S3 buckets have a default server-side encryption configuration.",
	func(b bucket, report func(string)) {
		if b.legacy() && isSet(at(b.Properties,
			"serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault", "sseAlgorithm")) {
			return
		}
		if !b.legacy() && b.inlineEncryption() {
			return
		}
		configs, undetermined := b.attached(typeS3BucketEncryption)
		for _, c := range configs {
			rules := at(c.Properties, "rules")
			if rules.HasComputed() {
				return
			}
			for _, r := range elements(rules) {
				props, _ := mapOf(r)
				if isSet(at(props, "applyServerSideEncryptionByDefault", "sseAlgorithm")) {
					return
				}
			}
		}
		switch {
		case undetermined:
		case len(configs) == 0:
			report(missing(typeS3BucketEncryption))
		default:
			report(fmt.Sprintf("%s %q: no rule sets applyServerSideEncryptionByDefault.sseAlgorithm",
				typeS3BucketEncryption, configs[0].Name))
		}
	})

// inlineEncryption tells whether a BucketV2's deprecated
// serverSideEncryptionConfigurations set an algorithm (or may, being unknown).
func (b bucket) inlineEncryption() bool {
	configs := at(b.Properties, "serverSideEncryptionConfigurations")
	if configs.IsComputed() {
		return true
	}
	for _, c := range elements(configs) {
		cm, _ := mapOf(c)
		rules := at(cm, "rules")
		if c.IsComputed() || rules.IsComputed() {
			return true
		}
		for _, r := range elements(rules) {
			rm, _ := mapOf(r)
			defaults := at(rm, "applyServerSideEncryptionByDefaults")
			if r.IsComputed() || defaults.IsComputed() {
				return true
			}
			for _, d := range elements(defaults) {
				dm, _ := mapOf(d)
				if isSet(at(dm, "sseAlgorithm")) {
					return true
				}
			}
		}
	}
	return false
}

var s3BucketPublicAccessBlock = bucketPolicy("s3-bucket-public-access-block",
	"S3 buckets block every kind of public access.",
	func(b bucket, report func(string)) {
		blocks, undetermined := b.attached(typeS3BucketPublicAccessBlock)
		if len(blocks) == 0 {
			if !undetermined {
				report(missing(typeS3BucketPublicAccessBlock) + ": the bucket can be made public")
			}
			return
		}
		for _, block := range blocks {
			var off []string
			for _, flag := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				v := at(block.Properties, flag)
				if on, _ := boolOf(v); !on && !v.IsComputed() {
					off = append(off, flag+" is "+describe(v))
				}
			}
			if len(off) > 0 {
				report(fmt.Sprintf("%s %q: %s; all four must be true",
					typeS3BucketPublicAccessBlock, block.Name, strings.Join(off, ", ")))
			}
		}
	})

var s3BucketTLSOnly = bucketPolicy("s3-bucket-tls-only",
	"S3 bucket policies deny every S3 action, for every principal, on the bucket and its objects, to requests that do not use TLS.",
	func(b bucket, report func(string)) {
		// A legacy bucket's inline policy, or a BucketV2's deprecated one.
		documents := []property.Value{at(b.Properties, "policy")}
		policies, undetermined := b.attached(typeS3BucketPolicy)
		for _, p := range policies {
			documents = append(documents, at(p.Properties, "policy"))
		}
		for _, d := range documents {
			if denies, known := deniesInsecureTransport(d, b.name()); denies || !known {
				return
			}
		}
		if undetermined {
			return
		}
		if len(policies) == 0 {
			report(missing(typeS3BucketPolicy) + ": nothing denies plain-HTTP requests")
			return
		}
		report(fmt.Sprintf("%s %q: policy has no Deny statement with condition "+
			"{\"Bool\": {\"aws:SecureTransport\": \"false\"}} (and no other) for Principal \"*\", Action \"s3:*\" "+
			"and Resource both the bucket and its objects (bucket/*): a narrower Deny lets plain HTTP through elsewhere",
			typeS3BucketPolicy, policies[0].Name))
	})

// name is the bucket's name, "" while it is unknown.
func (b bucket) name() string {
	name, _ := stringOf(at(b.Properties, "bucket"))
	return name
}

// deniesInsecureTransport tells whether a policy document denies every S3
// action to every principal on the bucket and its objects when the request
// does not use TLS; known is false while the document is unknown. An empty
// or absent document is known and denies nothing.
func deniesInsecureTransport(document property.Value, bucketName string) (denies, known bool) {
	if document.IsComputed() || document.HasComputed() {
		return false, false
	}
	doc, ok := readDocument(nil, "policy", document)
	if !ok {
		return false, true
	}
	for _, st := range doc.Statement {
		if !st.denies() || st.NotPrincipal.set || len(st.NotAction) > 0 || len(st.NotResource) > 0 || !st.Principal.any {
			continue
		}
		if !slices.ContainsFunc(st.Action, func(a string) bool { return globMatchFold(a, "s3:*") }) {
			continue
		}
		if onlyInsecureTransport(st.Condition) && coversBucketAndObjects(st.Resource, bucketName) {
			return true, true
		}
	}
	return false, true
}

// onlyInsecureTransport tells whether a condition is aws:SecureTransport
// false and nothing else, which would narrow the Deny.
func onlyInsecureTransport(condition map[string]map[string]any) bool {
	if len(condition) != 1 {
		return false
	}
	for operator, conditions := range condition {
		if !strings.EqualFold(operator, "Bool") && !strings.EqualFold(operator, "BoolIfExists") || len(conditions) != 1 {
			return false
		}
		for key, value := range conditions {
			return strings.EqualFold(key, "aws:SecureTransport") && isFalse(value)
		}
	}
	return false
}

// coversBucketAndObjects tells whether Resource patterns cover the bucket
// and every object in it. While the bucket's name is unknown, a pattern and
// the same pattern with "/*" count.
func coversBucketAndObjects(resources []string, bucketName string) bool {
	if slices.Contains(resources, "*") {
		return true
	}
	path := func(r string) (string, bool) { // the part after arn:<partition>:s3:::
		if !strings.HasPrefix(r, "arn:") {
			return "", false
		}
		_, rest, ok := strings.Cut(r, ":s3:::")
		return rest, ok
	}
	if bucketName == "" {
		for _, r := range resources {
			if p, ok := path(r); ok && !strings.HasSuffix(p, "/*") && slices.Contains(resources, r+"/*") {
				return true
			}
		}
		return false
	}
	covers := func(s string) bool {
		return slices.ContainsFunc(resources, func(r string) bool {
			p, ok := path(r)
			return ok && globMatch(p, s)
		})
	}
	// An object key may be anything; one no policy would name stands for all.
	return covers(bucketName) && covers(bucketName+"/\x00any-key")
}

// isFalse accepts the forms IAM accepts for false: "false", false, ["false"].
func isFalse(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.EqualFold(v, "false")
	case bool:
		return !v
	case []any:
		return len(v) == 1 && isFalse(v[0])
	}
	return false
}
