package pack

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeKinesisStream      = "aws:kinesis/stream:Stream"
	typeEventSourceMapping = "aws:lambda/eventSourceMapping:EventSourceMapping"
	typeMetricAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
)

var kinesisStreamEncryption = resourcePolicy{
	name:        "kinesis-stream-encryption",
	description: "Kinesis data streams are encrypted at rest with KMS.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeKinesisStream {
			return
		}
		v := at(r.Properties, "encryptionType")
		if s, _ := stringOf(v); v.IsComputed() || strings.EqualFold(s, "KMS") {
			return
		}
		report("encryptionType must be \"KMS\", is " + describe(v))
	},
}

var kinesisStreamRetention = resourcePolicy{
	name:        "kinesis-stream-retention",
	description: "Kinesis data streams keep records long enough for a consumer outage to be fixed.",
	level:       advisory,
	settings: []setting{intSetting{
		name: "minRetentionHours", description: "Shortest acceptable retentionPeriod, in hours.",
		min: 24, max: 8760, field: func(c *Config) *int { return &c.MinRetentionHours },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeKinesisStream {
			return
		}
		v := at(r.Properties, "retentionPeriod")
		hours, ok := numberOf(v)
		if !ok { // unset means the AWS default of 24 hours, the minimum AWS allows
			hours = 24
		}
		if v.IsComputed() || hours >= float64(cfg.MinRetentionHours) {
			return
		}
		report(fmt.Sprintf("retentionPeriod is %v hours, below the minimum of %d", hours, cfg.MinRetentionHours))
	},
}

var streamTriggerSafety = resourcePolicy{
	name: "stream-trigger-safety",
	description: "Lambda triggers on DynamoDB and Kinesis streams report partial batch failures, bisect failing " +
		"batches, cap retries and record age, and send what fails to a destination.",
	level: mandatory,
	settings: []setting{
		intSetting{
			name: "maxRetryAttempts", description: "Largest acceptable maximumRetryAttempts.",
			min: 0, max: 10000, field: func(c *Config) *int { return &c.MaxRetryAttempts },
		},
		intSetting{
			name: "maxRecordAgeSeconds", description: "Largest acceptable maximumRecordAgeInSeconds.",
			min: 60, max: 604800, field: func(c *Config) *int { return &c.MaxRecordAgeSeconds },
		},
	},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeEventSourceMapping || !readsStream(r.Properties) {
			return
		}
		props := r.Properties

		if types := at(props, "functionResponseTypes"); !types.HasComputed() &&
			!slices.ContainsFunc(elements(types), func(v property.Value) bool {
				s, _ := stringOf(v)
				return s == "ReportBatchItemFailures"
			}) {
			report("functionResponseTypes must contain \"ReportBatchItemFailures\": " +
				"otherwise one bad record makes the whole batch retry")
		}

		mustBeTrue(report, "bisectBatchOnFunctionError", at(props, "bisectBatchOnFunctionError"),
			"splitting a failing batch isolates the bad record")

		capped := func(name string, limit int, floor float64) {
			v := at(props, name)
			n, ok := numberOf(v)
			switch {
			case v.IsComputed():
			case !ok:
				report(fmt.Sprintf("%s is %s, so it is -1 (unlimited): a failing batch blocks the shard until "+
					"its records expire; set it to at most %d", name, describe(v), limit))
			case n == -1:
				report(fmt.Sprintf("%s is -1 (unlimited): a failing batch blocks the shard until its records "+
					"expire; set it to at most %d", name, limit))
			case n < floor || n > float64(limit):
				report(fmt.Sprintf("%s is %v, must be %v to %d", name, n, floor, limit))
			}
		}
		capped("maximumRetryAttempts", cfg.MaxRetryAttempts, 0)
		capped("maximumRecordAgeInSeconds", cfg.MaxRecordAgeSeconds, 60)

		if v := at(props, "destinationConfig", "onFailure", "destinationArn"); !isSet(v) {
			report("destinationConfig.onFailure.destinationArn is " + describe(v) +
				": records that exhaust their retries are dropped without a trace")
		}
	},
}

var streamARN = regexp.MustCompile(`^arn:[^:]+:(dynamodb:[^:]*:[^:]*:table/[^/]+/stream/|kinesis:[^:]*:[^:]*:stream/)`)

// readsStream reports whether an event source mapping reads a DynamoDB or
// Kinesis stream. While its eventSourceArn is unknown (the stream is created
// in the same deployment), settings that only stream sources accept tell.
func readsStream(esm property.Map) bool {
	source := at(esm, "eventSourceArn")
	if arn, ok := stringOf(source); ok {
		return streamARN.MatchString(arn)
	}
	if !source.IsComputed() {
		return false
	}
	for _, kafka := range []string{"topics", "selfManagedEventSource", "amazonManagedKafkaEventSourceConfig",
		"selfManagedKafkaEventSourceConfig"} {
		if isSet(at(esm, kafka)) {
			return false // Kafka sources take startingPosition too
		}
	}
	for _, streamOnly := range []string{"startingPosition", "bisectBatchOnFunctionError", "parallelizationFactor",
		"tumblingWindowInSeconds", "maximumRecordAgeInSeconds"} {
		if isSet(at(esm, streamOnly)) {
			return true
		}
	}
	return false
}

var streamConsumerIteratorAgeAlarm = stackPolicy{
	name:        "stream-consumer-iterator-age-alarm",
	description: "Every Lambda function reading a DynamoDB or Kinesis stream has an IteratorAge alarm that notifies someone.",
	level:       advisory,
	validate: func(resources []policyx.AnalyzerResource, report func(urn, message string)) {
		alarms := ofType(resources, typeMetricAlarm)
		for _, esm := range ofType(resources, typeEventSourceMapping) {
			if !readsStream(esm.Properties) {
				continue
			}
			function, known := consumerFunction(esm)
			if !known {
				continue
			}
			undetermined := false
			found := slices.ContainsFunc(alarms, func(alarm policyx.AnalyzerResource) bool {
				switch watchesIteratorAge(alarm, function) {
				case linked:
					return true
				case maybeLinked:
					undetermined = true
				}
				return false
			})
			if !found && !undetermined {
				report(esm.URN, "no aws:cloudwatch/metricAlarm with alarm actions, enabled, on metricName \"IteratorAge\" "+
					"(namespace AWS/Lambda, its own or in metricQueries) has a dimensions.FunctionName that refers to "+
					"functionName of this trigger: a stuck consumer would go unnoticed until records expire")
			}
		}
	},
}

// consumerFunction is what an event source mapping's functionName refers to;
// known is false when neither the function's resource nor its name is known.
func consumerFunction(esm policyx.AnalyzerResource) (t target, known bool) {
	v := at(esm.Properties, "functionName")
	t.urns = slices.Clone(esm.PropertyDependencies["functionName"])
	for _, d := range v.Dependencies() {
		t.urns = append(t.urns, string(d))
	}
	if name, ok := stringOf(v); ok && name != "" {
		t.ids = append(t.ids, property.New(name))
		// functionName may be an ARN (arn:aws:lambda:region:account:function:name[:qualifier]) while the
		// IteratorAge dimension is the plain name.
		if parts := strings.Split(name, ":"); len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function" {
			t.ids = append(t.ids, property.New(parts[6]))
		}
	}
	return t, len(t.urns) > 0 || len(t.ids) > 0
}

func watchesIteratorAge(alarm policyx.AnalyzerResource, function target) link {
	return watches(alarm, "IteratorAge", "AWS/Lambda", func(m alarmMetric) link {
		return function.linkOf(alarm, m.prop, m.dimension("FunctionName"))
	})
}
