package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
)

// The stack builds the processed layer with both sinks, and meets every
// mandatory policy; the advisory verdicts are the ones its choices explain.
func TestExampleBuildsTheProcessedLayerWithBothSinks(t *testing.T) {
	result, err := preview.Run(program, "shop-processed", "staging", "eu-west-1", map[string]string{
		"shop-processed:tableStreamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/manga-assist-sessions/stream/2026-01-01T00:00:00.000",
		"shop-processed:tableKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	})
	require.NoError(t, err)

	require.Len(t, result.Find("manga-assist:data:ProcessedLayer"), 1)
	sm := result.Find("aws:sfn/stateMachine:StateMachine")
	require.Len(t, sm, 1)
	assert.Equal(t, "shop-processed-layer-staging", sm[0].Inputs["name"])
	assert.Len(t, result.Find("aws:scheduler/schedule:Schedule"), 2, "daily and weekly-wide")
	assert.Len(t, result.Find("aws:quicksight/dataSet:DataSet"), 1)
	assert.Len(t, result.Find("aws:opensearch/serverlessCollection:ServerlessCollection"), 1)
	assert.Len(t, result.Find("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"), 1, "Parquet to S3 only")
	pipelines := result.Find("aws:opensearchingest/pipeline:Pipeline")
	require.Len(t, pipelines, 1, "the OpenSearch sink's ingestion pipeline")
	assert.Equal(t, "shop-search-staging", pipelines[0].Inputs["pipelineName"])
	assert.Equal(t, []any{2.0, 4.0}, []any{pipelines[0].Inputs["minUnits"], pipelines[0].Inputs["maxUnits"]})
	assert.Len(t, result.Find("aws:athena/namedQuery:NamedQuery"), 10, "raw and processed versions")

	// processed/ has no lifecycle tier: only raw/ and errors/ do.
	for _, lc := range result.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
		if lc.Name != "shop-data-lifecycle" {
			continue
		}
		var ids []string
		for _, r := range lc.Inputs["rules"].([]any) {
			rule := r.(map[string]any)
			ids = append(ids, rule["id"].(string))
			prefix, _ := rule["filter"].(map[string]any)["prefix"].(string)
			if prefix == "" || prefix == "processed/" {
				assert.NotContains(t, rule, "transitions", "%s reaches processed/", rule["id"])
				if exp, ok := rule["expiration"].(map[string]any); ok {
					assert.NotContains(t, exp, "days", "%s expires objects under processed/", rule["id"])
				}
			}
		}
		assert.Equal(t, []string{"tier-raw", "tier-errors", "noncurrent-versions", "expired-delete-markers", "abort-incomplete-multipart"}, ids)
	}

	// The ingestion pipeline reads the stream and decrypts it with the stream's own key.
	streams := result.Find("aws:kinesis/stream:Stream")
	require.Len(t, streams, 1)
	var read, decrypt any
	for _, p := range result.Find("aws:iam/rolePolicy:RolePolicy") {
		if p.Name == "shop-processed-opensearch-ingestion" {
			var doc struct{ Statement []map[string]any }
			require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].(string)), &doc))
			for _, s := range doc.Statement {
				switch s["Sid"] {
				case "ReadEventStream":
					read = s["Resource"]
				case "DecryptEventStream":
					decrypt = s["Resource"]
				}
			}
		}
	}
	assert.Equal(t, "arn:aws:kinesis:eu-west-1:123456789012:stream/shop-events-staging", read, "AnalyticsPipeline.EventStreamArn")
	assert.Equal(t, streams[0].Inputs["kmsKeyId"], decrypt, "AnalyticsPipeline.EventStreamKMSKeyArn is the stream's key")

	// Every log group of the processed layer is encrypted.
	for _, lg := range result.Find("aws:cloudwatch/logGroup:LogGroup") {
		if strings.HasPrefix(lg.Name, "shop-processed-") {
			assert.NotEmpty(t, lg.Inputs["kmsKeyId"], lg.Name)
		}
	}

	assert.Empty(t, result.Mandatory(), "built from the components, the stack meets every mandatory policy")
	for _, v := range result.Violations {
		t.Logf("%s: %s %s: %s", v.EnforcementLevel, v.Policy, v.URN, v.Message)
	}
}
