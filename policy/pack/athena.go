package pack

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeAthenaWorkgroup = "aws:athena/workgroup:Workgroup"

// athenaWorkgroupGuardrails: a workgroup whose settings clients may override
// does not enforce its encryption or scan limit, and one without metrics
// cannot be watched.
var athenaWorkgroupGuardrails = resourcePolicy{
	name: "athena-workgroup-guardrails",
	description: "Athena workgroups enforce their configuration, encrypt query results with KMS (SSE_KMS or CSE_KMS), " +
		"and publish CloudWatch metrics.",
	level: mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeAthenaWorkgroup || at(r.Properties, "configuration").IsComputed() {
			return
		}
		for prop, why := range map[string]string{
			"enforceWorkgroupConfiguration":   "clients could then override the results' encryption and location and the scan limit",
			"publishCloudwatchMetricsEnabled": "without metrics, nothing can alarm on the workgroup's queries",
		} {
			v := at(r.Properties, "configuration", prop)
			if on, ok := boolOf(v); ok && !on { // unset: true, the default
				report("configuration." + prop + " is false: " + why)
			}
		}
		option := at(r.Properties, "configuration", "resultConfiguration", "encryptionConfiguration", "encryptionOption")
		if s, _ := stringOf(option); !option.IsComputed() && !strings.EqualFold(s, "SSE_KMS") && !strings.EqualFold(s, "CSE_KMS") {
			report("configuration.resultConfiguration.encryptionConfiguration.encryptionOption is " + describe(option) +
				`: query results hold the data queried; encrypt them with KMS ("SSE_KMS" or "CSE_KMS")`)
		}
	},
}
