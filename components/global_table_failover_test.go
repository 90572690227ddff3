package components_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

const (
	globalTableArn = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions"
	multiRegionKey = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
	topicArn       = "arn:aws:sns:us-east-1:123456789012:alarms"
)

func failoverArgs(replicas ...string) components.GlobalTableFailoverArgs {
	return components.GlobalTableFailoverArgs{
		TableName: pulumi.String("sessions"), TableArn: pulumi.String(globalTableArn), TableKMSKeyArn: pulumi.String(multiRegionKey),
		PrimaryRegion:  "us-east-1",
		ReplicaRegions: replicas,
		AlarmTopicArn:  pulumi.String(topicArn),
	}
}

func failover(t *testing.T, args components.GlobalTableFailoverArgs) preview.Result {
	t.Helper()
	return run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewGlobalTableFailover(ctx, "global", &args)
		return err
	})
}

// providerRegions maps each explicit provider's URN to its region.
func providerRegions(r preview.Result) map[string]string {
	out := map[string]string{}
	for _, p := range r.Find("pulumi:providers:aws") {
		out[p.URN] = p.Inputs["region"].(string)
	}
	return out
}

func TestFailoverReplicaPerRegionWithItsProviderAndKey(t *testing.T) {
	result := failover(t, failoverArgs("us-west-2", "eu-west-1"))
	regions := providerRegions(result)
	assert.ElementsMatch(t, []string{"us-west-2", "eu-west-1"}, mapValues(regions))

	replicas := result.Find("aws:dynamodb/tableReplica:TableReplica")
	require.Len(t, replicas, 2)
	for _, r := range replicas {
		region := strings.TrimPrefix(r.Name, "global-")
		assert.Equal(t, globalTableArn, r.Inputs["globalTableArn"])
		assert.Equal(t, true, r.Inputs["pointInTimeRecovery"], "PITR on every replica")
		assert.Equal(t, true, r.Inputs["deletionProtectionEnabled"], "deletion protection by default")
		assert.Equal(t, "arn:aws:kms:"+region+":123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", r.Inputs["kmsKeyArn"],
			"encrypted with the replica of the table's key in its own region")
		assert.Equal(t, region, regionOf(t, result, r), "%s is created in its region", r.Name)
	}
	keys := result.Find("aws:kms/replicaKey:ReplicaKey")
	require.Len(t, keys, 2)
	for _, k := range keys {
		assert.Equal(t, multiRegionKey, k.Inputs["primaryKeyArn"])
		assert.Equal(t, strings.TrimPrefix(k.Name, "global-key-"), regionOf(t, result, k))
	}

	alarms := result.Find("aws:cloudwatch/metricAlarm:MetricAlarm")
	require.Len(t, alarms, 2, "one latency alarm per receiving region, none for routing that is off")
	for _, a := range alarms {
		assert.Equal(t, "AWS/DynamoDB", a.Inputs["namespace"])
		assert.Equal(t, "ReplicationLatency", a.Inputs["metricName"])
		assert.Equal(t, map[string]any{"TableName": "sessions", "ReceivingRegion": strings.TrimPrefix(a.Name, "global-latency-")}, a.Inputs["dimensions"])
		assert.Equal(t, 60000.0, a.Inputs["threshold"])
		assert.Equal(t, []any{topicArn}, a.Inputs["alarmActions"])
		assert.Empty(t, a.Inputs["provider"], "emitted, and alarmed, in the source region")
	}
	assert.Empty(t, result.Find("aws:route53/healthCheck:HealthCheck"), "no zone: failover routing is off")
	assert.Empty(t, result.Find("aws:route53/record:Record"))
}

func TestFailoverRoutingWithAZone(t *testing.T) {
	args := failoverArgs("us-west-2")
	args.Failover = &components.FailoverRouting{
		HostedZoneID: "Z123", RecordName: "chat.example.com",
		Endpoints: map[string]string{"us-east-1": "api.use1.example.com", "us-west-2": "api.usw2.example.com"},
	}
	result := failover(t, args)
	checks := map[string]preview.Resource{}
	for _, hc := range result.Find("aws:route53/healthCheck:HealthCheck") {
		checks[strings.TrimPrefix(hc.Name, "global-health-")] = hc
		assert.Equal(t, "HTTPS", hc.Inputs["type"])
		assert.Equal(t, "/health", hc.Inputs["resourcePath"])
		assert.Equal(t, 443.0, hc.Inputs["port"])
		assert.Equal(t, 3.0, hc.Inputs["failureThreshold"])
	}
	require.Len(t, checks, 2)
	assert.Equal(t, "api.usw2.example.com", checks["us-west-2"].Inputs["fqdn"])

	records := map[string]preview.Resource{}
	for _, r := range result.Find("aws:route53/record:Record") {
		records[r.Name] = r
		assert.Equal(t, "chat.example.com", r.Inputs["name"])
		assert.Equal(t, "Z123", r.Inputs["zoneId"])
	}
	require.Len(t, records, 2)
	primary, secondary := records["global-0-primary"], records["global-0-secondary"]
	assert.Equal(t, []any{map[string]any{"type": "PRIMARY"}}, primary.Inputs["failoverRoutingPolicies"])
	assert.Equal(t, []any{"api.use1.example.com"}, primary.Inputs["records"])
	assert.Contains(t, primary.Dependencies, checks["us-east-1"].URN, "the primary answers while its check passes")
	assert.Equal(t, []any{map[string]any{"type": "SECONDARY"}}, secondary.Inputs["failoverRoutingPolicies"])
	assert.Equal(t, []any{"api.usw2.example.com"}, secondary.Inputs["records"])

	healthAlarms := 0
	for _, a := range result.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if a.Inputs["namespace"] == "AWS/Route53" {
			healthAlarms++
			assert.Equal(t, "HealthCheckStatus", a.Inputs["metricName"])
			assert.Equal(t, "us-east-1", regionOf(t, result, a), "Route 53 metrics live in us-east-1")
		}
	}
	assert.Equal(t, 2, healthAlarms)
}

// Route 53 allows one PRIMARY and one SECONDARY per name: three regions chain.
func TestFailoverChainsThreeRegions(t *testing.T) {
	args := failoverArgs("us-west-2", "eu-west-1")
	args.PrimaryRegion = "us-east-2"
	args.AlarmTopicArn = nil
	args.TableArn = pulumi.String("arn:aws:dynamodb:us-east-2:123456789012:table/sessions")
	args.Failover = &components.FailoverRouting{
		HostedZoneID: "Z123", RecordName: "chat.example.com",
		Endpoints: map[string]string{"us-east-2": "a.example.com", "us-west-2": "b.example.com", "eu-west-1": "c.example.com"},
	}
	result := failover(t, args)
	byName := map[string][]string{}
	for _, r := range result.Find("aws:route53/record:Record") {
		policy := r.Inputs["failoverRoutingPolicies"].([]any)[0].(map[string]any)["type"].(string)
		byName[r.Inputs["name"].(string)] = append(byName[r.Inputs["name"].(string)], policy+"="+r.Inputs["records"].([]any)[0].(string))
	}
	assert.Equal(t, map[string][]string{
		"chat.example.com":            {"PRIMARY=a.example.com", "SECONDARY=failover-1.chat.example.com"},
		"failover-1.chat.example.com": {"PRIMARY=b.example.com", "SECONDARY=c.example.com"},
	}, sortedValues(byName))
	assert.Empty(t, result.Find("aws:cloudwatch/metricAlarm:MetricAlarm"), "no topic, no alarms")
}

func TestFailoverHealthAlarmsNeedAnEastTopic(t *testing.T) {
	args := failoverArgs("us-west-2")
	args.PrimaryRegion = "eu-west-1"
	args.Failover = &components.FailoverRouting{HostedZoneID: "Z1", RecordName: "chat.example.com",
		Endpoints: map[string]string{"eu-west-1": "a.example.com", "us-west-2": "b.example.com"}}
	_, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewGlobalTableFailover(ctx, "global", &args)
		return err
	}, "test", "unit", "eu-west-1", nil)
	require.ErrorContains(t, err, "Failover.AlarmTopicArn: required when the primary region is eu-west-1")

	args.Failover.AlarmTopicArn = pulumi.String(topicArn)
	result := failover(t, args)
	for _, a := range result.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if a.Inputs["namespace"] == "AWS/Route53" {
			assert.Equal(t, "us-east-1", regionOf(t, result, a), "through an explicit us-east-1 provider")
		}
	}
}

func TestFailoverRefusesBadArgs(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*components.GlobalTableFailoverArgs)
		want   string
	}{
		"no replicas":        {func(a *components.GlobalTableFailoverArgs) { a.ReplicaRegions = nil }, "ReplicaRegions: at least one"},
		"primary as replica": {func(a *components.GlobalTableFailoverArgs) { a.ReplicaRegions = []string{"us-east-1"} }, `ReplicaRegions[0] "us-east-1": is the primary region`},
		"no table":           {func(a *components.GlobalTableFailoverArgs) { a.TableArn = nil }, "TableName, TableArn, TableKMSKeyArn: required"},
		"missing endpoint": {func(a *components.GlobalTableFailoverArgs) {
			a.Failover = &components.FailoverRouting{HostedZoneID: "Z", RecordName: "chat.example.com", Endpoints: map[string]string{"us-east-1": "a.example.com"}}
		}, `Failover.Endpoints["us-west-2"] "": every region needs`},
		"bad interval": {func(a *components.GlobalTableFailoverArgs) {
			a.Failover = &components.FailoverRouting{HostedZoneID: "Z", RecordName: "chat.example.com", RequestIntervalSeconds: 20,
				Endpoints: map[string]string{"us-east-1": "a.example.com", "us-west-2": "b.example.com"}}
		}, "Failover.RequestIntervalSeconds 20: Route 53 checks every 10 or 30 seconds"},
		"latency": {func(a *components.GlobalTableFailoverArgs) { a.ReplicationLatencySeconds = -1 }, "ReplicationLatencySeconds -1"},
	} {
		t.Run(name, func(t *testing.T) {
			args := failoverArgs("us-west-2")
			c.change(&args)
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewGlobalTableFailover(ctx, "global", &args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.ErrorContains(t, err, "GlobalTableFailoverArgs."+c.want)
		})
	}
}

// The table leaves its replicas to GlobalTableFailover.
func TestSessionsTableIgnoresItsReplicas(t *testing.T) {
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{MultiRegionKey: true})
		return err
	})
	assert.Equal(t, []string{"replicas"}, one(t, result, "aws:dynamodb/table:Table").IgnoreChanges)
}

// regionOf is the region of the provider a resource was created with, or
// the stack's region.
func regionOf(t *testing.T, r preview.Result, res preview.Resource) string {
	t.Helper()
	for _, p := range r.Find("pulumi:providers:aws") {
		if res.Provider != "" && strings.HasPrefix(res.Provider, p.URN+"::") {
			return p.Inputs["region"].(string)
		}
	}
	return r.Region
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func sortedValues(m map[string][]string) map[string][]string {
	for k := range m {
		if len(m[k]) == 2 && strings.HasPrefix(m[k][0], "SECONDARY") {
			m[k][0], m[k][1] = m[k][1], m[k][0]
		}
	}
	return m
}
