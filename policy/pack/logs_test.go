package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func logGroup(name string, props map[string]any) Resource {
	all := map[string]any{"name": "/aws/lambda/" + name, "retentionInDays": 365, "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}
	for k, v := range props {
		all[k] = v
	}
	return res(typeLogGroup, name, all)
}

func TestLogGroupRetention(t *testing.T) {
	forever := logGroup("forever", map[string]any{"retentionInDays": nil})
	never := logGroup("never", map[string]any{"retentionInDays": 0})
	month := logGroup("month", map[string]any{"retentionInDays": 30, "kmsKeyId": nil})
	runCases(t, "log-group-retention", "advisory", []policyCase{
		{name: "a year or more, with a key", resources: []Resource{logGroup("year", nil), logGroup("decade", map[string]any{"retentionInDays": 3653})}},
		{name: "never expires", resources: []Resource{forever, never}, want: []expected{
			{forever.URN, "retentionInDays is not set: the events never expire"},
			{never.URN, "retentionInDays is 0: the events never expire"},
		}},
		{name: "a month, no key", resources: []Resource{month}, want: []expected{
			{month.URN, "retentionInDays is 30, below the minimum of 365"}, {month.URN, "kmsKeyId is not set"}}},
		{name: "unknown values", resources: []Resource{logGroup("a", map[string]any{"retentionInDays": unknown, "kmsKeyId": unknown})}},
	})
	cfg := DefaultConfig()
	cfg.MinLogRetentionDays = 30
	got := violationsWith(t, cfg, "log-group-retention", month)
	if assert.Len(t, got, 1, "the configured minimum applies") {
		assert.Contains(t, got[0].Message, "kmsKeyId")
	}
}
