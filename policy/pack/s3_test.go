package pack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const tlsOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*",
	"Action":"s3:*","Resource":["arn:aws:s3:::lake","arn:aws:s3:::lake/*"],
	"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// bucketSet is a BucketV2 and the resources that configure it, compliant
// unless a test changes them. Their `bucket` properties are unknown, as in a
// preview; only property dependencies link them to the bucket.
type bucketSet struct {
	bucket, versioning, lifecycle, encryption, publicAccess, policy Resource
}

func newBucketSet(name string) bucketSet {
	bucket := res(typeS3BucketV2, name, map[string]any{"bucket": unknown})
	attach := func(typ, suffix string, props map[string]any) Resource {
		props["bucket"] = unknown
		return dependsOn(res(typ, name+"-"+suffix, props), "bucket", bucket)
	}
	return bucketSet{
		bucket: bucket,
		versioning: attach(typeS3BucketVersioning, "versioning", map[string]any{
			"versioningConfiguration": map[string]any{"status": "Enabled"},
		}),
		lifecycle: attach(typeS3BucketLifecycle, "lifecycle", map[string]any{"rules": []any{
			map[string]any{
				"id": "tiers", "status": "Enabled",
				"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 7},
				"noncurrentVersionExpiration":    map[string]any{"noncurrentDays": 30},
			},
		}}),
		encryption: attach(typeS3BucketEncryption, "encryption", map[string]any{"rules": []any{
			map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "aws:kms"}},
		}}),
		publicAccess: attach(typeS3BucketPublicAccessBlock, "public-access", map[string]any{
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true,
		}),
		policy: attach(typeS3BucketPolicy, "policy", map[string]any{"policy": tlsOnlyPolicy}),
	}
}

func (s bucketSet) all() []Resource {
	return []Resource{s.bucket, s.versioning, s.lifecycle, s.encryption, s.publicAccess, s.policy}
}

// without returns every resource of the set but those of the given types.
func (s bucketSet) without(types ...string) []Resource {
	var out []Resource
	for _, r := range s.all() {
		skip := false
		for _, typ := range types {
			skip = skip || r.Type == typ
		}
		if !skip {
			out = append(out, r)
		}
	}
	return out
}

func (s bucketSet) with(r Resource) []Resource {
	out := s.without(r.Type)
	return append(out, r)
}

// setProp returns r with one property replaced.
func setProp(r Resource, key string, v any) Resource {
	r.Properties = r.Properties.Set(key, val(v))
	return r
}

func TestS3BucketsCompliant(t *testing.T) {
	lake := newBucketSet("lake")
	// A legacy bucket with inline settings, linked by known names instead of dependencies.
	legacy := res(typeS3Bucket, "legacy", map[string]any{
		"bucket":     "legacy-bucket",
		"versioning": map[string]any{"enabled": true},
		"lifecycleRules": []any{map[string]any{
			"enabled": true, "abortIncompleteMultipartUploadDays": 7,
			"noncurrentVersionExpiration": map[string]any{"days": 30},
		}},
		"serverSideEncryptionConfiguration": map[string]any{"rule": map[string]any{
			"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "AES256"},
		}},
		"policy": strings.ReplaceAll(tlsOnlyPolicy, ":::lake", ":::legacy-bucket"),
	})
	legacyBlock := res(typeS3BucketPublicAccessBlock, "legacy-block", map[string]any{
		"bucket": "legacy-bucket", "blockPublicAcls": true, "blockPublicPolicy": true,
		"ignorePublicAcls": true, "restrictPublicBuckets": true,
	})
	got, err := Evaluate(append(lake.all(), legacy, legacyBlock), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got {
		t.Errorf("unexpected violation: %+v", v)
	}
}

func TestS3BucketVersioning(t *testing.T) {
	lake := newBucketSet("lake")
	suspended := setProp(lake.versioning, "versioningConfiguration", map[string]any{"status": "Suspended"})
	otherBucket := newBucketSet("other")
	legacyOff := res(typeS3Bucket, "legacy", map[string]any{
		"bucket": "legacy-bucket", "versioning": map[string]any{"enabled": false},
	})
	runCases(t, "s3-bucket-versioning", "mandatory", []policyCase{
		{name: "no versioning resource", resources: lake.without(typeS3BucketVersioning), want: []expected{
			{lake.bucket.URN,
				"no aws:s3/bucketVersioningV2:BucketVersioningV2 resource has a bucket property that refers to this bucket"},
		}},
		{name: "versioning of another bucket does not count", resources: append(
			lake.without(typeS3BucketVersioning), otherBucket.bucket, otherBucket.versioning,
		), want: []expected{{lake.bucket.URN, "no aws:s3/bucketVersioningV2"}}},
		{name: "suspended", resources: lake.with(suspended), want: []expected{
			{lake.bucket.URN, `"lake-versioning": versioningConfiguration.status is "Suspended", must be "Enabled"`},
		}},
		{name: "legacy bucket with inline versioning off and no resource", resources: []Resource{legacyOff}, want: []expected{
			{legacyOff.URN, "no aws:s3/bucketVersioningV2"},
		}},
		{name: "unknown values", resources: []Resource{
			// status unknown
			newBucketSet("a").bucket, setProp(newBucketSet("a").versioning, "versioningConfiguration", map[string]any{"status": unknown}),
			// a versioning resource whose bucket is unknown and untraceable may be this bucket's
			newBucketSet("b").bucket, setProp(res(typeS3BucketVersioning, "loose", nil), "bucket", unknown),
			// inline versioning unknown
			res(typeS3Bucket, "c", map[string]any{"versioning": unknown}),
		}},
	})
}

func TestS3BucketLifecycle(t *testing.T) {
	lake := newBucketSet("lake")
	rules := func(rules ...any) Resource { return setProp(lake.lifecycle, "rules", rules) }
	abort := map[string]any{"daysAfterInitiation": 7}
	disabled := rules(map[string]any{"status": "Disabled", "abortIncompleteMultipartUpload": abort})
	noAbort := rules(map[string]any{"status": "Enabled", "noncurrentVersionExpiration": map[string]any{"noncurrentDays": 30}})
	noNoncurrent := rules(map[string]any{"status": "Enabled", "abortIncompleteMultipartUpload": abort})
	transitions := rules(map[string]any{
		"status": "Enabled", "abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 7},
		"noncurrentVersionTransitions": []any{map[string]any{"noncurrentDays": 30, "storageClass": "GLACIER"}},
	})
	runCases(t, "s3-bucket-lifecycle", "mandatory", []policyCase{
		{name: "noncurrent transitions count", resources: lake.with(transitions)},
		{name: "unversioned bucket needs no noncurrent rule", resources: append(
			lake.without(typeS3BucketVersioning, typeS3BucketLifecycle), noNoncurrent)},
		{name: "no lifecycle configuration", resources: lake.without(typeS3BucketLifecycle), want: []expected{
			{lake.bucket.URN, "no aws:s3/bucketLifecycleConfigurationV2"},
		}},
		{name: "no enabled rule", resources: lake.with(disabled), want: []expected{
			{lake.bucket.URN, `rules: no lifecycle rule has status "Enabled"`},
		}},
		{name: "no abort rule", resources: lake.with(noAbort), want: []expected{
			{lake.bucket.URN, "abortIncompleteMultipartUpload.daysAfterInitiation"},
		}},
		{name: "versioned without noncurrent handling", resources: lake.with(noNoncurrent), want: []expected{
			{lake.bucket.URN, "noncurrentVersionExpiration or noncurrentVersionTransitions"},
		}},
		{name: "unknown values", resources: append(
			lake.with(rules(unknown)),
			newBucketSet("b").bucket, setProp(newBucketSet("b").versioning, "versioningConfiguration", unknown),
			setProp(newBucketSet("b").lifecycle, "rules", []any{map[string]any{
				"status": "Enabled", "abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 7},
			}}),
		)},
	})
}

func TestS3BucketEncryption(t *testing.T) {
	lake := newBucketSet("lake")
	noAlgorithm := setProp(lake.encryption, "rules", []any{map[string]any{"bucketKeyEnabled": true}})
	runCases(t, "s3-bucket-encryption", "mandatory", []policyCase{
		{name: "missing", resources: lake.without(typeS3BucketEncryption), want: []expected{
			{lake.bucket.URN, "no aws:s3/bucketServerSideEncryptionConfigurationV2"},
		}},
		{name: "no algorithm", resources: lake.with(noAlgorithm), want: []expected{
			{lake.bucket.URN, "no rule sets applyServerSideEncryptionByDefault.sseAlgorithm"},
		}},
		{name: "unknown values", resources: lake.with(setProp(lake.encryption, "rules", []any{unknown}))},
	})
}

func TestS3BucketPublicAccessBlock(t *testing.T) {
	lake := newBucketSet("lake")
	partial := setProp(setProp(lake.publicAccess, "blockPublicPolicy", false), "restrictPublicBuckets", nil)
	runCases(t, "s3-bucket-public-access-block", "mandatory", []policyCase{
		{name: "missing", resources: lake.without(typeS3BucketPublicAccessBlock), want: []expected{
			{lake.bucket.URN, "no aws:s3/bucketPublicAccessBlock"},
		}},
		{name: "partial", resources: lake.with(partial), want: []expected{
			{lake.bucket.URN, "blockPublicPolicy is false, restrictPublicBuckets is not set; all four must be true"},
		}},
		{name: "unknown values", resources: lake.with(setProp(lake.publicAccess, "blockPublicPolicy", unknown))},
	})
}

func TestS3BucketTLSOnly(t *testing.T) {
	lake := newBucketSet("lake")
	allowOnly := setProp(lake.policy, "policy", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Principal":"*"}]}`)
	runCases(t, "s3-bucket-tls-only", "mandatory", []policyCase{
		{name: "condition as a bool, and as a list", resources: append(
			lake.with(setProp(lake.policy, "policy", map[string]any{"Statement": []any{map[string]any{
				"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": false}},
			}}})),
			newBucketSet("b").bucket,
			setProp(newBucketSet("b").policy, "policy",
				`{"Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*",`+
					`"Condition":{"Bool":{"aws:securetransport":["false"]}}}}`),
		)},
		{name: "missing", resources: lake.without(typeS3BucketPolicy), want: []expected{
			{lake.bucket.URN, "no aws:s3/bucketPolicy:BucketPolicy resource"},
		}},
		{name: "no TLS deny", resources: lake.with(allowOnly), want: []expected{
			{lake.bucket.URN, `"lake-policy": policy has no Deny statement with condition`},
		}},
		{name: "unknown values", resources: lake.with(setProp(lake.policy, "policy", unknown))},
	})
}

// Issue 14, weakness 4: a BucketV2 may still carry the deprecated inline
// settings (versionings, lifecycleRules, serverSideEncryptionConfigurations,
// policy); they count like the separate resources.
func TestS3BucketV2InlineSettingsCount(t *testing.T) {
	inline := res(typeS3BucketV2, "inline", map[string]any{
		"bucket":      "inline-bucket",
		"versionings": []any{map[string]any{"enabled": true}},
		"lifecycleRules": []any{map[string]any{
			"enabled": true, "abortIncompleteMultipartUploadDays": 7,
			"noncurrentVersionExpirations": []any{map[string]any{"days": 30}},
		}},
		"serverSideEncryptionConfigurations": []any{map[string]any{"rules": []any{map[string]any{
			"applyServerSideEncryptionByDefaults": []any{map[string]any{"sseAlgorithm": "aws:kms"}},
		}}}},
		"policy": `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
			"Resource":["arn:aws:s3:::inline-bucket","arn:aws:s3:::inline-bucket/*"],
			"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
	})
	block := res(typeS3BucketPublicAccessBlock, "inline-block", map[string]any{
		"bucket": "inline-bucket", "blockPublicAcls": true, "blockPublicPolicy": true,
		"ignorePublicAcls": true, "restrictPublicBuckets": true,
	})
	got, err := Evaluate([]Resource{inline, block}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got {
		t.Errorf("unexpected violation: %+v", v)
	}

	// Inline settings that are off still fail.
	versioningOff := setProp(inline, "versionings", []any{map[string]any{"enabled": false}})
	if got := violationsOf(t, "s3-bucket-versioning", versioningOff, block); len(got) != 1 ||
		!strings.Contains(got[0].Message, "no aws:s3/bucketVersioningV2") {
		t.Errorf("versionings[].enabled false: want one versioning violation, got %+v", got)
	}
	noNoncurrent := setProp(inline, "lifecycleRules", []any{map[string]any{"enabled": true, "abortIncompleteMultipartUploadDays": 7}})
	if got := violationsOf(t, "s3-bucket-lifecycle", noNoncurrent, block); len(got) != 1 ||
		!strings.Contains(got[0].Message, "noncurrentVersionExpiration") {
		t.Errorf("no noncurrentVersionExpirations on a versioned bucket: want one lifecycle violation, got %+v", got)
	}
}

// Issue 14, weakness 5: only a Deny of every S3 action, for every
// principal, on the bucket and its objects makes a bucket TLS-only.
func TestS3BucketTLSOnlyNeedsAFullDeny(t *testing.T) {
	lake := newBucketSet("lake")
	lake.bucket = setProp(lake.bucket, "bucket", "lake")
	deny := func(name, statement string) Resource {
		return setProp(lake.policy, "policy", `{"Statement":[{"Effect":"Deny",`+statement+`}]}`)
	}
	const tls = `"Condition":{"Bool":{"aws:SecureTransport":"false"}}`
	const both = `"Resource":["arn:aws:s3:::lake","arn:aws:s3:::lake/*"]`
	cases := map[string]Resource{
		"one action":       deny("one-action", `"Principal":"*","Action":"s3:GetObject",`+both+`,`+tls),
		"one principal":    deny("one-principal", `"Principal":{"AWS":"arn:aws:iam::123456789012:role/r"},"Action":"s3:*",`+both+`,`+tls),
		"no principal":     deny("no-principal", `"Action":"s3:*",`+both+`,`+tls),
		"objects only":     deny("objects-only", `"Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::lake/*",`+tls),
		"bucket only":      deny("bucket-only", `"Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::lake",`+tls),
		"another bucket":   deny("other", `"Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::other","arn:aws:s3:::other/*"],`+tls),
		"narrowed further": deny("narrowed", `"Principal":"*","Action":"s3:*",`+both+`,"Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:PrincipalAccount":"123456789012"}}`),
		"NotPrincipal":     deny("not-principal", `"NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*",`+both+`,`+tls),
		"NotAction":        deny("not-action", `"Principal":"*","NotAction":"s3:GetObject",`+both+`,`+tls),
	}
	for name, policy := range cases {
		t.Run(name, func(t *testing.T) {
			got := violationsOf(t, "s3-bucket-tls-only", lake.with(policy)...)
			if assert.Len(t, got, 1) {
				assert.Contains(t, got[0].Message, "no Deny statement")
			}
		})
	}
	for name, statement := range map[string]string{
		"AWS * principal and every action": `"Principal":{"AWS":["*"]},"Action":"*",` + both + `,` + tls,
		"wildcard resources":               `"Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::lake*","arn:aws:s3:::lake*/*"],` + tls,
		"everything":                       `"Principal":"*","Action":"s3:*","Resource":"*",` + tls,
	} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, violationsOf(t, "s3-bucket-tls-only", lake.with(deny(name, statement))...))
		})
	}
}

// Issue 14, weakness 9: a settings resource whose bucket cannot be traced
// only mutes the buckets it may belong to: those whose name is not known
// either. A bucket with a known name would be found by it.
func TestS3UntraceableSettingsMuteOnlyUntraceableBuckets(t *testing.T) {
	named := res(typeS3BucketV2, "named", map[string]any{"bucket": "named-bucket"})
	unnamed := newBucketSet("unnamed").bucket // bucket unknown: it may be the loose one's
	loose := setProp(res(typeS3BucketVersioning, "loose", map[string]any{
		"versioningConfiguration": map[string]any{"status": "Enabled"},
	}), "bucket", unknown)
	got := violationsOf(t, "s3-bucket-versioning", named, unnamed, loose)
	if assert.Len(t, got, 1, "%+v", got) {
		assert.Equal(t, named.URN, got[0].URN)
	}
}
