package pack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
)

func TestRequiredTags(t *testing.T) {
	untagged := Resource{URN: urnOf(typeSQSQueue, "dlq"), Type: typeSQSQueue, Name: "dlq"}
	partly := res("aws:glue/catalogTable:CatalogTable", "t", map[string]any{
		"tags": map[string]any{"project": "p", "environment": ""},
	})
	runCases(t, "required-tags", "advisory", []policyCase{
		{name: "compliant, tagsAll counts, non-AWS and untaggable types skipped", resources: []Resource{
			res(typeSQSQueue, "dlq", nil),
			res(typeKinesisStream, "events", map[string]any{
				"tags":    map[string]any{"component": "ingest"},
				"tagsAll": map[string]any{"project": "p", "environment": "dev"},
			}),
			{URN: urnOf("manga:index:SessionsTable", "s"), Type: "manga:index:SessionsTable", Name: "s"},
			{URN: urnOf("aws:s3/bucketPolicy:BucketPolicy", "p"), Type: "aws:s3/bucketPolicy:BucketPolicy", Name: "p"},
		}},
		{name: "missing and empty tags", resources: []Resource{untagged, partly}, want: []expected{
			{untagged.URN, "tags lacks project, environment, component"},
			{partly.URN, "tags lacks environment, component"},
		}},
		{name: "unknown values", resources: []Resource{
			res(typeSQSQueue, "a", map[string]any{"tags": unknown}),
			res(typeSQSQueue, "b", map[string]any{"tags": map[string]any{
				"project": unknown, "environment": unknown, "component": unknown,
			}}),
		}},
	})
}

func TestRequiredTagsHonoursConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RequiredTags = []string{"owner"}
	got := violationsWith(t, cfg, "required-tags", res(typeSQSQueue, "dlq", nil))
	if assert.Len(t, got, 1) {
		assert.Equal(t, "tags lacks owner (required: owner)", got[0].Message)
	}
	cfg.RequiredTags = nil
	assert.Empty(t, violationsWith(t, cfg, "required-tags", Resource{URN: "u", Type: typeSQSQueue}))
}

// The engine hands resource policies the resource's provider; tags set by
// its defaultTags count.
func TestRequiredTagsFromProviderDefaultTags(t *testing.T) {
	pp, err := New(DefaultConfig())
	assert.NoError(t, err)
	r := policyx.AnalyzerResource{
		URN: urnOf(typeSQSQueue, "dlq"), Type: typeSQSQueue, Name: "dlq",
		Properties: val(map[string]any{"tags": map[string]any{"component": "dlq"}}).AsMap(),
	}
	for _, defaultTags := range []any{
		map[string]any{"tags": map[string]any{"project": "p", "environment": "dev"}},
		`{"tags":{"project":"p","environment":"dev"}}`, // provider inputs may carry objects as JSON
	} {
		r.Provider = policyx.AnalyzerProviderResource{
			Type: "pulumi:providers:aws", Properties: val(map[string]any{"defaultTags": defaultTags}).AsMap(),
		}
		assert.Empty(t, validate(t, pp, "required-tags", r), "defaultTags %v", defaultTags)
	}
}

// validate runs one resource policy of pp through its policyx interface.
func validate(t *testing.T, pp policyx.PolicyPack, name string, r policyx.AnalyzerResource) []Violation {
	t.Helper()
	var got []Violation
	for _, p := range pp.Policies() {
		if rp, ok := p.(policyx.ResourceValidationPolicy); ok && p.Name() == name {
			c := &collector{policy: name, defaultURN: r.URN, into: &got}
			assert.NoError(t, rp.Validate(t.Context(), policyx.ResourceValidationArgs{Manager: c, Resource: r}))
		}
	}
	return got
}
