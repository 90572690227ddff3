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

func TestSQSQueueDLQ(t *testing.T) {
	queue := func(name string, props map[string]any) Resource {
		all := map[string]any{"name": name, "kmsMasterKeyId": "alias/aws/sqs"}
		for k, v := range props {
			all[k] = v
		}
		return res(typeSQSQueue, name, all)
	}
	dlq := queue("work-dlq", nil)
	redrive := `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:work-dlq","maxReceiveCount":5}`
	work := queue("work", map[string]any{"redrivePolicy": redrive})
	lonely := queue("lonely", nil)
	stray := queue("stray-dlq", nil) // named like a DLQ, used by nobody
	scheduleDLQ := queue("schedule-dlq", nil)
	invokeDLQ := queue("invoke-dlq", map[string]any{"name": nil}) // auto-named: linked by dependency only
	separate := queue("separate", nil)
	allowed := queue("declared-dlq", map[string]any{"redriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:123456789012:x"]}`})
	denied := queue("denied", map[string]any{"redriveAllowPolicy": `{"redrivePermission":"denyAll"}`})
	runCases(t, "sqs-queue-dlq", "mandatory", []policyCase{
		{name: "a queue with a redrive policy and its dead-letter queue", resources: []Resource{work, dlq}},
		{name: "dead-letter queues of a schedule, of a Lambda invoke config; a RedrivePolicy resource; a declared DLQ", resources: []Resource{
			scheduleDLQ, schedule("job", map[string]any{"deadLetterConfig": map[string]any{"arn": "arn:aws:sqs:us-east-1:123456789012:schedule-dlq"}}),
			invokeDLQ, dependsOn(res("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "invoke", map[string]any{
				"functionName": "f", "destinationConfig": map[string]any{"onFailure": map[string]any{"destination": unknown}},
			}), "destinationConfig", invokeDLQ),
			separate, dlq, res(typeSQSRedrivePolicy, "separate-redrive", map[string]any{
				"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/separate", "redrivePolicy": redrive}),
			allowed,
		}},
		{name: "no redrive policy, not a dead-letter queue", resources: []Resource{lonely, stray, denied, work, dlq}, want: []expected{
			{lonely.URN, "redrivePolicy is not set"}, {stray.URN, "redrivePolicy is not set"}, {denied.URN, "redrivePolicy is not set"}}},
		{name: "unknown values", resources: []Resource{
			queue("a", map[string]any{"redrivePolicy": unknown}),
			queue("b", map[string]any{"name": unknown}),
			res(typeSQSRedrivePolicy, "untraceable", map[string]any{"queueUrl": unknown, "redrivePolicy": unknown}),
			queue("c", map[string]any{"redriveAllowPolicy": unknown}),
		}},
	})
}
