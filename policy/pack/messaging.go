package pack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeSQSQueue = "aws:sqs/queue:Queue"
	typeSNSTopic = "aws:sns/topic:Topic"
)

var sqsQueueEncryption = resourcePolicy{
	name:        "sqs-queue-encryption",
	description: "SQS queues are encrypted at rest with a KMS key or SQS-managed keys.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeSQSQueue {
			return
		}
		key, managed := at(r.Properties, "kmsMasterKeyId"), at(r.Properties, "sqsManagedSseEnabled")
		if isSet(key) || managed.IsComputed() {
			return
		}
		if b, _ := boolOf(managed); b {
			return
		}
		report("kmsMasterKeyId is " + describe(key) + " and sqsManagedSseEnabled is " + describe(managed) +
			": set one so messages are encrypted at rest")
	},
}

var snsTopicEncryption = resourcePolicy{
	name:        "sns-topic-encryption",
	description: "SNS topics are encrypted at rest with a KMS key.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeSNSTopic {
			return
		}
		if key := at(r.Properties, "kmsMasterKeyId"); !isSet(key) {
			report("kmsMasterKeyId is " + describe(key) + ": set a KMS key (alias/aws/sns at least)")
		}
	},
}
