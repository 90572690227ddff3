package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func TestExampleFailsOverAcrossThreeRegions(t *testing.T) {
	result, err := preview.Run(program, "shop-global", "staging", "us-east-1", nil)
	require.NoError(t, err)

	replicas := map[string]bool{}
	for _, r := range result.Find("aws:dynamodb/tableReplica:TableReplica") {
		replicas[result.RegionOf(r)] = true
		assert.Equal(t, true, r.Inputs["pointInTimeRecovery"])
		assert.Equal(t, true, r.Inputs["deletionProtectionEnabled"])
	}
	assert.Equal(t, map[string]bool{"us-west-2": true, "eu-west-1": true}, replicas)
	assert.Len(t, result.Find("aws:kms/replicaKey:ReplicaKey"), 2)
	assert.Len(t, result.Find("aws:route53/healthCheck:HealthCheck"), 3)
	assert.Len(t, result.Find("aws:route53/record:Record"), 4, "two failover pairs chain three regions")

	latency, health := 0, 0
	for _, a := range result.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		switch a.Inputs["metricName"] {
		case "ReplicationLatency":
			latency++
		case "HealthCheckStatus":
			health++
		}
	}
	assert.Equal(t, 2, latency, "one per receiving region")
	assert.Equal(t, 3, health, "one per region's endpoint")
	assert.Empty(t, result.Mandatory(), "the stack meets every mandatory policy")
}
