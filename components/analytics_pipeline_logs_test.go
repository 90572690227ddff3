package components_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
)

// The router's and Firehose's log groups are encrypted with the pipeline's key, and the key
// lets CloudWatch Logs of its region use it for this account's log groups
// only (log-group-retention asks for a key on every log group).
func TestRouterLogGroupUsesThePipelineKey(t *testing.T) {
	bucket := func(name string) components.BucketRef {
		return components.BucketRef{Name: pulumi.String(name), Arn: pulumi.String("arn:aws:s3:::" + name),
			KMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/" + name)}
	}
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewAnalyticsPipeline(ctx, "analytics", &components.AnalyticsPipelineArgs{
			TableStreamArn:      pulumi.String("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1970-01-01T00:00:00.000"),
			TableKMSKeyArn:      pulumi.String("arn:aws:kms:us-east-1:123456789012:key/table"),
			DataBucket:          bucket("data"),
			FailedRecordsBucket: bucket("failed"),
			QueryResultsBucket:  bucket("results"),
		})
		return err
	})
	var key, logs, deliveryLogs map[string]any
	var logsURN string
	for _, r := range result.Resources {
		switch {
		case r.Type == "aws:kms/key:Key" && r.Name == "analytics-key":
			key = r.Inputs
		case r.Type == "aws:cloudwatch/logGroup:LogGroup" && r.Name == "analytics-router":
			logs, logsURN = r.Inputs, r.URN
		case r.Type == "aws:cloudwatch/logGroup:LogGroup" && r.Name == "analytics-delivery":
			deliveryLogs = r.Inputs
		}
	}
	require.NotNil(t, deliveryLogs)
	require.NotNil(t, key)
	require.NotNil(t, logs)
	assert.Regexp(t, `^arn:aws:kms:us-east-1:123456789012:key/`, logs["kmsKeyId"], "the router's log group has the pipeline's key")
	assert.Equal(t, logs["kmsKeyId"], deliveryLogs["kmsKeyId"], "Firehose's log group has the same key")

	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(key["policy"].(string)), &doc))
	found := false
	for _, st := range doc.Statement {
		if st.Sid == "CloudWatchLogsEncrypt" {
			found = true
			assert.Equal(t, map[string]string{"Service": "logs.us-east-1.amazonaws.com"}, st.Principal)
			assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:*",
				st.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"], "this account's log groups in the region only")
		}
	}
	assert.True(t, found, "the key policy lets CloudWatch Logs use the key")
	for _, v := range result.Violations {
		if v.URN == logsURN {
			assert.NotContains(t, v.Message, "kmsKeyId", "the router's log group is not flagged for its key")
		}
		assert.NotEqual(t, "mandatory", v.EnforcementLevel, "%s: %s", v.Policy, v.Message)
	}
}
