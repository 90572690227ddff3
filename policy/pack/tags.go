package pack

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// taggableTypes are AWS types that take tags even when a resource sets none,
// so a missing `tags` property is a violation for them. Any other AWS
// resource is checked when it has a `tags` property.
var taggableTypes = []string{
	typeDynamoDBTable, typeDynamoDBTableReplica,
	typeS3BucketV2, typeS3Bucket,
	typeKinesisStream, typeFirehoseDeliveryStream, typeEventSourceMapping,
	typeSQSQueue, typeSNSTopic,
	typeMetricAlarm, "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/eventRule:EventRule",
	"aws:lambda/function:Function",
	typeIAMRole, typeIAMPolicy,
	"aws:kms/key:Key",
	"aws:glue/catalogDatabase:CatalogDatabase", "aws:glue/crawler:Crawler", "aws:athena/workgroup:Workgroup",
	"aws:backup/vault:Vault", "aws:backup/plan:Plan",
	"aws:scheduler/scheduleGroup:ScheduleGroup", "aws:sfn/stateMachine:StateMachine",
	"aws:ssm/parameter:Parameter", "aws:secretsmanager/secret:Secret",
}

var requiredTags = resourcePolicy{
	name:        "required-tags",
	description: "AWS resources carry the required tags, for cost allocation and ownership.",
	level:       advisory,
	settings: []setting{stringListSetting{
		name: "requiredTags", description: "Tag keys every taggable AWS resource must have, with a non-empty value.",
		field: func(c *Config) *[]string { return &c.RequiredTags },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		tags, hasTags := r.Properties.GetOk("tags")
		if !strings.HasPrefix(r.Type, "aws:") || !hasTags && !slices.Contains(taggableTypes, r.Type) {
			return
		}
		have := map[string]property.Value{}
		// Tags the AWS provider adds itself (its defaultTags, merged into tagsAll) count too.
		for _, source := range []property.Value{providerDefaultTags(r.Provider), at(r.Properties, "tagsAll"), tags} {
			if source.IsComputed() {
				return
			}
			m, _ := mapOf(source)
			for k, v := range m.All {
				have[k] = v
			}
		}
		var absent []string
		for _, key := range cfg.RequiredTags {
			if !isSet(have[key]) {
				absent = append(absent, key)
			}
		}
		if len(absent) > 0 {
			report("tags lacks " + strings.Join(absent, ", ") + " (required: " + strings.Join(cfg.RequiredTags, ", ") + ")")
		}
	},
}

// providerDefaultTags returns defaultTags.tags of an explicit AWS provider,
// which the engine may pass as an object or as a JSON string.
func providerDefaultTags(provider policyx.AnalyzerProviderResource) property.Value {
	v := at(provider.Properties, "defaultTags")
	if s, ok := stringOf(v); ok {
		var decoded struct{ Tags map[string]string }
		if json.Unmarshal([]byte(s), &decoded) != nil {
			return property.Value{}
		}
		tags := map[string]property.Value{}
		for k, t := range decoded.Tags {
			tags[k] = property.New(t)
		}
		return property.New(tags)
	}
	return at(provider.Properties, "defaultTags", "tags")
}
