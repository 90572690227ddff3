package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func TestExampleBuildsAPipelineThatPassesTheMandatoryPolicies(t *testing.T) {
	result, err := preview.Run(program, "shop-analytics", "staging", "eu-west-1", nil)
	require.NoError(t, err)

	assert.Len(t, result.Find("manga-assist:data:SecureBucket"), 4)
	assert.Len(t, result.Find("manga-assist:data:DataLifecycle"), 4)
	fn := result.Find("aws:lambda/function:Function")
	require.Len(t, fn, 1)
	assert.Equal(t, "shop-stream-router-staging", fn[0].Inputs["name"])
	assert.Empty(t, result.Find("aws:cloudwatch/metricAlarm:MetricAlarm"), "alarms are off in this stack")

	// 400 days of data: IA and Glacier IR fit, Deep Archive (held 180 days) does not.
	var raw map[string]any
	for _, lc := range result.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
		if lc.Name == "shop-data-lifecycle" {
			raw = lc.Inputs["rules"].([]any)[0].(map[string]any)
		}
	}
	require.NotNil(t, raw)
	assert.Equal(t, []any{
		map[string]any{"days": 30.0, "storageClass": "STANDARD_IA"},
		map[string]any{"days": 90.0, "storageClass": "GLACIER_IR"},
	}, raw["transitions"])

	assert.Empty(t, result.Mandatory(), "built from the components, the stack meets every mandatory policy")
	advisory := map[string]bool{}
	for _, v := range result.Violations {
		advisory[v.Policy] = true
	}
	assert.Equal(t, map[string]bool{
		"stream-consumer-iterator-age-alarm": true, // the alarms it switched off
		"kinesis-stream-retention":           true, // the stream keeps the 24-hour default
		"log-group-retention":                true, // the components' log groups: the stack's retention, no key
		"backup-vault-immutable":             true, // the team's vault has no lock
	}, advisory, "only the advisories this small stack accepts")
}

var update = flag.Bool("update", false, "rewrite the picture in the component doc")

// The AnalyticsPipeline doc shows this example's data-flow picture, as the
// offline preview draws it; rewrite it with `go test ./examples/analytics-pipeline -update`.
func TestComponentDocShowsThePreviewPicture(t *testing.T) {
	result, err := preview.Run(program, "shop-analytics", "staging", "eu-west-1", nil)
	require.NoError(t, err)
	var chart bytes.Buffer
	require.NoError(t, preview.WriteMermaid(&chart, result))

	path := filepath.Join("..", "..", "docs", "components", "analytics-pipeline.md")
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	start := bytes.Index(doc, []byte("```mermaid\n"))
	require.GreaterOrEqual(t, start, 0, "the doc has a mermaid block")
	start += len("```mermaid\n")
	end := start + bytes.Index(doc[start:], []byte("```"))
	if *update {
		doc = append(append(append([]byte{}, doc[:start]...), chart.Bytes()...), doc[end:]...)
		require.NoError(t, os.WriteFile(path, doc, 0o644))
		return
	}
	assert.Equal(t, chart.String(), string(doc[start:end]))
}
