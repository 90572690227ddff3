package pack

import "testing"

func TestSQSQueueEncryption(t *testing.T) {
	bad := res(typeSQSQueue, "dlq", map[string]any{"sqsManagedSseEnabled": false})
	runCases(t, "sqs-queue-encryption", "mandatory", []policyCase{
		{name: "compliant", resources: []Resource{
			res(typeSQSQueue, "kms", map[string]any{"kmsMasterKeyId": "alias/aws/sqs"}),
			res(typeSQSQueue, "managed", map[string]any{"sqsManagedSseEnabled": true}),
		}},
		{name: "neither", resources: []Resource{bad}, want: []expected{
			{bad.URN, "kmsMasterKeyId is not set and sqsManagedSseEnabled is false"},
		}},
		{name: "unknown values", resources: []Resource{
			res(typeSQSQueue, "a", map[string]any{"kmsMasterKeyId": unknown}),
			res(typeSQSQueue, "b", map[string]any{"sqsManagedSseEnabled": unknown}),
		}},
	})
}

func TestSNSTopicEncryption(t *testing.T) {
	bad := res(typeSNSTopic, "alarms", map[string]any{"kmsMasterKeyId": ""})
	runCases(t, "sns-topic-encryption", "mandatory", []policyCase{
		{name: "compliant", resources: []Resource{res(typeSNSTopic, "alarms", map[string]any{"kmsMasterKeyId": "alias/aws/sns"})}},
		{name: "empty key", resources: []Resource{bad}, want: []expected{{bad.URN, `kmsMasterKeyId is ""`}}},
		{name: "unknown value", resources: []Resource{res(typeSNSTopic, "alarms", map[string]any{"kmsMasterKeyId": unknown})}},
	})
}
