package pack

import (
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
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

const (
	typeSQSRedrivePolicy      = "aws:sqs/redrivePolicy:RedrivePolicy"
	typeSQSRedriveAllowPolicy = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
)

// deadLetterReferences are where other resources name a queue as their
// dead-letter queue: resource type, top-level property, the path inside it
// (a JSON document's key when the property holds a JSON string).
var deadLetterReferences = []struct {
	typ, prop string
	path      []string
	jsonKey   string
}{
	{typ: typeSQSQueue, prop: "redrivePolicy", jsonKey: "deadLetterTargetArn"},
	{typ: typeSQSRedrivePolicy, prop: "redrivePolicy", jsonKey: "deadLetterTargetArn"},
	{typ: "aws:sns/topicSubscription:TopicSubscription", prop: "redrivePolicy", jsonKey: "deadLetterTargetArn"},
	{typ: typeSchedule, prop: "target", path: []string{"deadLetterConfig", "arn"}},
	{typ: "aws:cloudwatch/eventTarget:EventTarget", prop: "deadLetterConfig", path: []string{"arn"}},
	{typ: "aws:lambda/function:Function", prop: "deadLetterConfig", path: []string{"targetArn"}},
	{typ: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", prop: "destinationConfig",
		path: []string{"onFailure", "destination"}},
	{typ: typeEventSourceMapping, prop: "destinationConfig", path: []string{"onFailure", "destinationArn"}},
}

// sqsQueueDLQ: a message that keeps failing is received again and again
// until the queue's retention drops it, unless a redrive policy moves it to
// a dead-letter queue.
var sqsQueueDLQ = stackPolicy{
	name:        "sqs-queue-dlq",
	description: "SQS queues have a redrive policy to a dead-letter queue, unless they are a dead-letter queue themselves.",
	level:       mandatory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		for _, queue := range ofType(resources, typeSQSQueue) {
			if isSet(at(queue.Properties, "redrivePolicy")) {
				continue
			}
			if l := queueRole(queue, resources); l != unlinked {
				continue // it has a RedrivePolicy, or is a dead-letter queue, or may be: cannot tell yet
			}
			report(queue.URN, "redrivePolicy is not set, no "+typeSQSRedrivePolicy+" refers to this queue, and nothing "+
				"uses it as a dead-letter queue: a message that keeps failing is received over and over until it "+
				"expires; give the queue a redrive policy to a dead-letter queue")
		}
	},
}

// queueRole tells whether something makes the queue safe: a RedrivePolicy
// resource of its own, or a reference to it as a dead-letter queue, or its
// redrive-allow policy declaring it one.
func queueRole(queue policyx.AnalyzerResource, resources []policyx.AnalyzerResource) link {
	result := unlinked
	merge := func(l link) {
		if l == linked || l == maybeLinked && result == unlinked {
			result = l
		}
	}
	if allowsRedrive(at(queue.Properties, "redriveAllowPolicy")) {
		return linked
	}
	for _, r := range resources {
		switch r.Type {
		case typeSQSRedrivePolicy:
			merge(refersToQueue(r, "queueUrl", at(r.Properties, "queueUrl"), queue))
		case typeSQSRedriveAllowPolicy:
			if allowsRedrive(at(r.Properties, "redriveAllowPolicy")) {
				merge(refersToQueue(r, "queueUrl", at(r.Properties, "queueUrl"), queue))
			}
		}
		for _, ref := range deadLetterReferences {
			if r.Type != ref.typ || r.URN == queue.URN {
				continue
			}
			v := at(r.Properties, append([]string{ref.prop}, ref.path...)...)
			if ref.jsonKey != "" && !v.HasComputed() {
				var doc map[string]any
				if known, err := jsonDocument(v, &doc); !known || err != nil || doc == nil {
					continue
				}
				s, _ := doc[ref.jsonKey].(string)
				v = stringValue(s)
			}
			merge(refersToQueue(r, ref.prop, v, queue))
		}
		if result == linked {
			return linked
		}
	}
	return result
}

// allowsRedrive tells whether a redrive-allow policy lets source queues use
// the queue as their dead-letter queue (or may, being unknown).
func allowsRedrive(v property.Value) bool {
	if v.IsComputed() {
		return true
	}
	var doc map[string]any
	if known, err := jsonDocument(v, &doc); !known || err != nil || doc == nil {
		return false
	}
	permission, _ := doc["redrivePermission"].(string)
	return permission == "allowAll" || permission == "byQueue"
}

// refersToQueue says whether v, found in property prop of r, names the
// queue: through dependencies, or by its ARN (…:name) or URL (…/name).
func refersToQueue(r policyx.AnalyzerResource, prop string, v property.Value, queue policyx.AnalyzerResource) link {
	name, nameKnown := stringOf(at(queue.Properties, "name"))
	nameKnown = nameKnown && name != ""
	valueDeps := v.Dependencies()
	for _, d := range valueDeps {
		if string(d) == queue.URN {
			return linked
		}
	}
	if v.IsComputed() {
		// Only the property as a whole records dependencies: a coarser link.
		if slices.Contains(r.PropertyDependencies[prop], queue.URN) {
			return linked
		}
		if len(valueDeps) == 0 && len(r.PropertyDependencies[prop]) == 0 && !nameKnown {
			return maybeLinked
		}
		return unlinked
	}
	s, ok := stringOf(v)
	if !ok || s == "" {
		return unlinked
	}
	if nameKnown {
		if strings.HasSuffix(s, ":"+name) || strings.HasSuffix(s, "/"+name) {
			return linked
		}
		return unlinked
	}
	if len(valueDeps) == 0 && len(r.PropertyDependencies[prop]) == 0 && strings.Contains(s, "sqs") {
		return maybeLinked // an auto-named queue: its name is not known yet
	}
	return unlinked
}

func stringValue(s string) property.Value {
	if s == "" {
		return property.Value{}
	}
	return property.New(s)
}
