package pack

import "testing"

func workgroup(name string, configuration map[string]any) Resource {
	all := map[string]any{
		"enforceWorkgroupConfiguration":   true,
		"publishCloudwatchMetricsEnabled": true,
		"bytesScannedCutoffPerQuery":      10737418240,
		"resultConfiguration": map[string]any{
			"outputLocation":          "s3://results/athena/",
			"encryptionConfiguration": map[string]any{"encryptionOption": "SSE_KMS", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"},
		},
	}
	for k, v := range configuration {
		all[k] = v
	}
	return res(typeAthenaWorkgroup, name, map[string]any{"name": name, "configuration": all})
}

func TestAthenaWorkgroupGuardrails(t *testing.T) {
	loose := workgroup("loose", map[string]any{"enforceWorkgroupConfiguration": false, "publishCloudwatchMetricsEnabled": false})
	s3 := workgroup("s3", map[string]any{"resultConfiguration": map[string]any{
		"encryptionConfiguration": map[string]any{"encryptionOption": "SSE_S3"}}})
	plain := res(typeAthenaWorkgroup, "plain", map[string]any{"name": "plain"})
	runCases(t, "athena-workgroup-guardrails", "mandatory", []policyCase{
		{name: "enforced, KMS, metrics; defaults count as on", resources: []Resource{
			workgroup("kms", nil),
			workgroup("client-side", map[string]any{"enforceWorkgroupConfiguration": nil, "publishCloudwatchMetricsEnabled": nil,
				"resultConfiguration": map[string]any{"encryptionConfiguration": map[string]any{"encryptionOption": "CSE_KMS"}}}),
		}},
		{name: "not enforced, no metrics", resources: []Resource{loose}, want: []expected{
			{loose.URN, "configuration.enforceWorkgroupConfiguration is false"},
			{loose.URN, "configuration.publishCloudwatchMetricsEnabled is false"},
		}},
		{name: "SSE_S3 results", resources: []Resource{s3}, want: []expected{
			{s3.URN, `encryptionOption is "SSE_S3"`}}},
		{name: "no configuration", resources: []Resource{plain}, want: []expected{
			{plain.URN, "encryptionConfiguration.encryptionOption is not set"}}},
		{name: "unknown values", resources: []Resource{
			res(typeAthenaWorkgroup, "a", map[string]any{"configuration": unknown}),
			workgroup("b", map[string]any{"enforceWorkgroupConfiguration": unknown, "publishCloudwatchMetricsEnabled": unknown,
				"resultConfiguration": unknown}),
			workgroup("c", map[string]any{"resultConfiguration": map[string]any{"encryptionConfiguration": map[string]any{"encryptionOption": unknown}}}),
		}},
	})
}
