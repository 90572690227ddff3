package pack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeLogGroup = "aws:cloudwatch/logGroup:LogGroup"

// logGroupRetention: a log group that never expires grows forever; one that
// expires too soon loses what an investigation needs; one without a key of
// this account is readable by whoever can read CloudWatch Logs.
var logGroupRetention = resourcePolicy{
	name:        "log-group-retention",
	description: "CloudWatch log groups expire their events after at least the configured number of days and are encrypted with a KMS key.",
	level:       advisory,
	settings: []setting{intSetting{
		name: "minRetentionDays", description: "Shortest acceptable retentionInDays.",
		min: 1, max: 3653, field: func(c *Config) *int { return &c.MinLogRetentionDays },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		if r.Type != typeLogGroup {
			return
		}
		v := at(r.Properties, "retentionInDays")
		days, ok := numberOf(v)
		switch {
		case v.IsComputed():
		case !ok || days == 0:
			report(fmt.Sprintf("retentionInDays is %s: the events never expire; set at least %d days", describe(v), cfg.MinLogRetentionDays))
		case days < float64(cfg.MinLogRetentionDays):
			report(fmt.Sprintf("retentionInDays is %v, below the minimum of %d", days, cfg.MinLogRetentionDays))
		}
		if key := at(r.Properties, "kmsKeyId"); !isSet(key) {
			report("kmsKeyId is " + describe(key) + ": encrypt the log group with a KMS key whose policy lets " +
				"logs.<region>.amazonaws.com use it")
		}
	},
}
