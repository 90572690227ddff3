package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// previewStackNamed runs the program for prod's settings under another stack name.
func previewStackNamed(t *testing.T, stack string) (preview.Result, error) {
	t.Helper()
	sc, err := preview.LoadStackConfig(projectDir, "prod")
	require.NoError(t, err)
	return preview.Run(program.Run, sc.Project, stack, "us-east-1", sc.Values)
}

func byURN(r preview.Result) map[string]preview.Resource {
	out := map[string]preview.Resource{}
	for _, res := range r.Resources {
		out[res.URN] = res
	}
	return out
}

// S3 tests the target when logging is configured, so every logging
// configuration must wait for its log bucket's policy, not only its name.
// Prod has two log buckets: the stack's and the standby's in us-west-2 (S3
// delivers access logs only within a region).
func TestBucketLoggingWaitsForTheLogBucketPolicy(t *testing.T) {
	result, err := previewStackNamed(t, "prod")
	require.NoError(t, err)
	resources := byURN(result)
	logPolicies := map[string]string{} // log bucket -> its policy's URN
	for _, p := range result.Find("aws:s3/bucketPolicy:BucketPolicy") {
		if strings.Contains(p.Inputs["policy"].(string), "AllowServerAccessLogDelivery") {
			logPolicies[p.Inputs["bucket"].(string)] = p.URN
		}
	}
	require.Len(t, logPolicies, 2, "the stack's log bucket and the standby's")
	loggings := result.Find("aws:s3/bucketLoggingV2:BucketLoggingV2")
	require.Len(t, loggings, 5, "data, failed records, backups, query results; the standby's data bucket")
	for _, l := range loggings {
		policy := logPolicies[l.Inputs["targetBucket"].(string)]
		require.NotEmptyf(t, policy, "%s logs to %s, which is no log bucket", l.Name, l.Inputs["targetBucket"])
		assert.Contains(t, l.PropertyDependencies["targetBucket"], policy,
			"%s: targetBucket comes through the log bucket's policy (deps %v)", l.Name, resources[l.URN].Dependencies)
	}
}

// Each log bucket accepts the logs of the stack's other buckets in its
// region and no others: the stack's four, the standby's one.
func TestLogBucketAcceptsOnlyThisStacksBuckets(t *testing.T) {
	result, err := previewStackNamed(t, "prod")
	require.NoError(t, err)
	others := map[string][]string{}   // log bucket -> the buckets of its region
	logBuckets := map[string]string{} // region -> its log bucket
	for _, b := range result.Find("aws:s3/bucketV2:BucketV2") {
		name := b.Inputs["bucket"].(string)
		if strings.HasPrefix(name, "manga-assist-access-logs-") || strings.HasPrefix(name, "manga-assist-logs-") {
			logBuckets[result.RegionOf(b)] = name
		}
	}
	require.Len(t, logBuckets, 2)
	for _, b := range result.Find("aws:s3/bucketV2:BucketV2") {
		name := b.Inputs["bucket"].(string)
		if log := logBuckets[result.RegionOf(b)]; name != log {
			others[log] = append(others[log], "arn:aws:s3:::"+name)
		}
	}
	assert.Len(t, others[logBuckets["us-east-1"]], 4)
	assert.Len(t, others[logBuckets["us-west-2"]], 1)
	checked := 0
	for _, p := range result.Find("aws:s3/bucketPolicy:BucketPolicy") {
		var doc struct {
			Statement []struct {
				Sid       string
				Principal any
				Condition map[string]map[string]any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].(string)), &doc))
		for _, s := range doc.Statement {
			if s.Sid != "AllowServerAccessLogDelivery" {
				continue
			}
			checked++
			assert.Equal(t, map[string]any{"Service": "logging.s3.amazonaws.com"}, s.Principal)
			assert.Equal(t, preview.Account, s.Condition["StringEquals"]["aws:SourceAccount"])
			var sources []string
			for _, v := range s.Condition["ArnLike"]["aws:SourceArn"].([]any) {
				sources = append(sources, v.(string))
			}
			assert.ElementsMatch(t, others[p.Inputs["bucket"].(string)], sources, p.Name)
		}
	}
	assert.Equal(t, 2, checked, "both log buckets' policies let S3 deliver logs")
}

// physicalNameLimits are AWS's limits on the names the program sets, by
// resource type and input.
var physicalNameLimits = []struct {
	typ, input string
	max        int
}{
	{"aws:s3/bucketV2:BucketV2", "bucket", 63},
	{"aws:lambda/function:Function", "name", 64},
	{"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name", 64},
	{"aws:iam/role:Role", "name", 64},
	{"aws:kinesis/stream:Stream", "name", 128},
	{"aws:athena/workgroup:Workgroup", "name", 128},
	{"aws:glue/catalogDatabase:CatalogDatabase", "name", 255},
	{"aws:sns/topic:Topic", "name", 256},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "name", 255},
	{"aws:cloudwatch/logGroup:LogGroup", "name", 512},
}

// The longest stack name the settings accept builds names AWS accepts; one
// character more is refused up front, naming the stack and the limit.
func TestLongestStackNameFitsEveryPhysicalName(t *testing.T) {
	stack := "dev-" + strings.Repeat("x", stackconfig.MaxStackNameLength-4)
	result, err := previewStackNamed(t, stack)
	require.NoError(t, err)
	checked := 0
	for _, limit := range physicalNameLimits {
		for _, r := range result.Find(limit.typ) {
			name, ok := r.Inputs[limit.input].(string)
			if !ok {
				continue // auto-named by Pulumi within the limit
			}
			checked++
			assert.LessOrEqual(t, len(name), limit.max, "%s %s: %q", limit.typ, r.Name, name)
		}
	}
	assert.Greater(t, checked, 20)
	for _, db := range result.Find("aws:glue/catalogDatabase:CatalogDatabase") {
		name := db.Inputs["name"].(string)
		assert.Equal(t, strings.ToLower(name), name, "Glue keeps database names in lower case")
	}

	_, err = previewStackNamed(t, stack+"x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), stack+"x")
	assert.Contains(t, err.Error(), "at most 22 fit")
	assert.Contains(t, err.Error(), "63")
}

func TestStackNamesThatCannotNameABucketAreRefused(t *testing.T) {
	for _, stack := range []string{"Prod", "dev_alice", "dev.1", "-dev"} {
		_, err := previewStackNamed(t, stack)
		require.Error(t, err, stack)
		assert.Contains(t, err.Error(), `"`+stack+`"`)
		assert.Contains(t, err.Error(), "lower-case letters, digits and hyphens")
	}
}

// Settings that nothing creates yet are named in the summary line, not
// silently ignored.
func TestSummaryNamesWhatIsPlannedButNotCreated(t *testing.T) {
	code, out, errOut := runPreview(t, "-stack", "prod")
	require.Equal(t, 0, code, errOut)
	summary, _, _ := strings.Cut(out, "\n")
	assert.Contains(t, summary, "not created: failover routing (failoverHostedZoneId is empty: replicas and alarms only)")
	assert.NotContains(t, summary, "table exports", "the BackupSchedule creates the exports")

	code, out, errOut = runPreview(t, "-stack", "dev", "-json")
	require.Equal(t, 0, code, errOut)
	var doc struct{ Planned []string }
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Empty(t, doc.Planned, "dev lists no replica regions, so no word on failover routing, and the exports are built")
}
