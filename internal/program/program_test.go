package program_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
)

// previewStack runs the program with a stack's settings, changed by extra.
func previewStack(t *testing.T, stack string, extra map[string]string) preview.Result {
	t.Helper()
	sc, err := preview.LoadStackConfig("../..", stack)
	require.NoError(t, err)
	for k, v := range extra {
		sc.Values[k] = v
	}
	result, err := preview.Run(program.Run, sc.Project, stack, "us-east-1", sc.Values)
	require.NoError(t, err)
	return result
}

func copyDestinations(t *testing.T, r preview.Result) []string {
	t.Helper()
	plans := r.Find("aws:backup/plan:Plan")
	require.Len(t, plans, 1)
	var out []string
	for _, rule := range plans[0].Inputs["rules"].([]any) {
		copies, _ := rule.(map[string]any)["copyActions"].([]any)
		for _, c := range copies {
			out = append(out, c.(map[string]any)["destinationVaultArn"].(string))
		}
	}
	return out
}

// Prod copies every AWS Backup recovery point to its first replica region,
// alarms to the pipeline's topic, and keeps what its settings say.
func TestProdBacksUpToTheReplicaRegion(t *testing.T) {
	r := previewStack(t, "prod", nil)
	dests := copyDestinations(t, r)
	require.Len(t, dests, 2, "both rules copy")
	for _, d := range dests {
		assert.True(t, strings.HasPrefix(d, "arn:aws:backup:us-west-2:"), d)
	}
	rules := r.Find("aws:backup/plan:Plan")[0].Inputs["rules"].([]any)
	assert.Equal(t, 90.0, rules[0].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"], "backupRetentionDays")
	assert.Equal(t, 365.0, rules[1].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"], "weeklyBackupRetentionDays")

	var backupAlarms int
	for _, a := range r.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if strings.Contains(a.Parent, "BackupSchedule") {
			backupAlarms++
			assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:manga-assist-pipeline-alarms-prod"}, a.Inputs["alarmActions"], a.Name)
		}
	}
	assert.Equal(t, 7, backupAlarms)
	unlocked := previewStack(t, "prod", map[string]string{"manga-assist-data:backupVaultLock": "false"})
	assert.Empty(t, unlocked.Find("aws:backup/vaultLockConfiguration:VaultLockConfiguration"), "backupVaultLock: false locks nothing")

	locked := r // prod sets backupVaultLock
	lock := locked.Find("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
	require.Len(t, lock, 2, "the vault and its copy in us-west-2")
	regions := map[string]bool{}
	for _, l := range lock {
		regions[locked.RegionOf(l)] = true
		assert.Equal(t, map[string]any{"backupVaultName": "manga-assist-backups-prod", "minRetentionDays": 90.0, "maxRetentionDays": 365.0},
			l.Inputs, "governance mode, the plan's retentions")
	}
	assert.Equal(t, map[string]bool{"us-east-1": true, "us-west-2": true}, regions)
	for _, v := range locked.Violations {
		assert.NotEqual(t, "backup-vault-immutable", v.Policy, "both vaults are locked: %s", v.URN)
	}
}

// Dev has no replica: no copy; alarms are off: the BackupSchedule gets no
// topic (not an empty ARN) and creates no alarm.
func TestDevBacksUpWithoutCopyOrAlarms(t *testing.T) {
	r := previewStack(t, "dev", nil)
	assert.Empty(t, copyDestinations(t, r))
	assert.Empty(t, r.Find("pulumi:providers:aws"))
	for _, a := range r.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
		assert.NotContains(t, a.Parent, "BackupSchedule", a.Name)
	}
	rules := r.Find("aws:backup/plan:Plan")[0].Inputs["rules"].([]any)
	assert.Equal(t, 7.0, rules[0].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"])
	assert.Equal(t, 14.0, rules[1].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"])

	// A weekly retention below the daily one is raised to it.
	short := previewStack(t, "dev", map[string]string{"manga-assist-data:weeklyBackupRetentionDays": "3"})
	rules = short.Find("aws:backup/plan:Plan")[0].Inputs["rules"].([]any)
	assert.Equal(t, 7.0, rules[1].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"])
	vault := short.Find("aws:backup/vault:Vault")[0]
	assert.Equal(t, true, vault.Inputs["forceDestroy"], "dev's forceDestroyBuckets")
}

// mappings returns each router event source mapping's region and whether it
// reads its stream.
func mappings(t *testing.T, r preview.Result) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range r.Find("aws:lambda/eventSourceMapping:EventSourceMapping") {
		if !strings.HasSuffix(m.Name, "-router") {
			continue
		}
		region := r.RegionOf(m)
		_, dup := out[region]
		require.Falsef(t, dup, "two routers in %s", region)
		out[region] = m.Inputs["enabled"].(bool)
		assert.Containsf(t, m.Inputs["eventSourceArn"], "arn:aws:dynamodb:"+region+":",
			"the router of %s reads its own region's stream", region)
	}
	return out
}

// Prod keeps a paused pipeline in us-west-2 on the replica's stream; with
// analyticsRegion us-west-2 the roles swap. Its raw/ replicates home to the
// data bucket, re-encrypted with the data bucket's key. Dev has none.
func TestStandbyAnalyticsFollowsAnalyticsRegion(t *testing.T) {
	prod := previewStack(t, "prod", nil)
	assert.Equal(t, map[string]bool{"us-east-1": true, "us-west-2": false}, mappings(t, prod))

	switched := previewStack(t, "prod", map[string]string{"manga-assist-data:analyticsRegion": "us-west-2"})
	assert.Equal(t, map[string]bool{"us-east-1": false, "us-west-2": true}, mappings(t, switched))

	repl := prod.Find("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
	require.Len(t, repl, 1)
	assert.Equal(t, "us-west-2", prod.RegionOf(repl[0]), "configured on the standby's bucket, in its region")
	assert.Equal(t, "manga-assist-standby-usw2-prod-123456789012", repl[0].Inputs["bucket"])
	rule := repl[0].Inputs["rules"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"prefix": "raw/"}, rule["filter"])
	dest := rule["destination"].(map[string]any)
	assert.Equal(t, "arn:aws:s3:::manga-assist-data-prod-123456789012", dest["bucket"])
	var dataKey string
	for _, k := range prod.Find("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2") {
		if k.Inputs["bucket"] == "manga-assist-data-prod-123456789012" {
			dataKey = k.Inputs["rules"].([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)["kmsMasterKeyId"].(string)
		}
	}
	require.NotEmpty(t, dataKey)
	assert.Equal(t, map[string]any{"replicaKmsKeyId": dataKey}, dest["encryptionConfiguration"])

	for _, b := range prod.Find("aws:s3/bucketV2:BucketV2") {
		if strings.Contains(b.Inputs["bucket"].(string), "-usw2-") {
			assert.Equal(t, "us-west-2", prod.RegionOf(b), b.Inputs["bucket"])
		}
	}

	dev := previewStack(t, "dev", nil)
	assert.Equal(t, map[string]bool{"us-east-1": true}, mappings(t, dev))
	assert.Empty(t, dev.Find("aws:s3/bucketReplicationConfig:BucketReplicationConfig"))
}
