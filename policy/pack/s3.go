package pack

import (
	"fmt"
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
	if b.legacy() {
		inline := at(b.Properties, "versioning", "enabled")
		if inline.IsComputed() {
			return false, false
		}
		if enabled, _ := boolOf(inline); enabled {
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
	if b.legacy() {
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

// handlesNoncurrent tells whether a lifecycle rule, of either bucket kind,
// expires or moves noncurrent versions.
func handlesNoncurrent(rule property.Map) bool {
	return isSet(at(rule, "noncurrentVersionExpiration")) || isSet(at(rule, "noncurrentVersionTransitions"))
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
	"S3 bucket policies deny requests that do not use TLS.",
	func(b bucket, report func(string)) {
		documents := []property.Value{}
		if b.legacy() {
			documents = append(documents, at(b.Properties, "policy"))
		}
		policies, undetermined := b.attached(typeS3BucketPolicy)
		for _, p := range policies {
			documents = append(documents, at(p.Properties, "policy"))
		}
		for _, d := range documents {
			if denies, known := deniesInsecureTransport(d); denies || !known {
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
			"{\"Bool\": {\"aws:SecureTransport\": \"false\"}}", typeS3BucketPolicy, policies[0].Name))
	})

// deniesInsecureTransport tells whether a policy document denies requests
// made without TLS; known is false while the document is unknown.
func deniesInsecureTransport(document property.Value) (denies, known bool) {
	var doc policyDocument
	known, err := jsonDocument(document, &doc)
	if !known || err != nil {
		return false, known
	}
	for _, st := range doc.Statement {
		if !st.denies() {
			continue
		}
		for operator, conditions := range st.Condition {
			if !strings.EqualFold(operator, "Bool") && !strings.EqualFold(operator, "BoolIfExists") {
				continue
			}
			for key, value := range conditions {
				if strings.EqualFold(key, "aws:SecureTransport") && isFalse(value) {
					return true, true
				}
			}
		}
	}
	return false, true
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
