package stackconfig

import (
	"errors"
	"strconv"
	"testing"

	"github.com/manga-assist/manga-assist-data/internal/schedule"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func valid() map[string]string {
	return map[string]string{RegionKey: "us-east-1"}
}

func TestParseAppliesDefaults(t *testing.T) {
	s, err := Parse("dev", valid())
	require.NoError(t, err)
	want := Defaults()
	want.Stack, want.Region = "dev", "us-east-1"
	assert.Equal(t, want, s)
	assert.Equal(t, "manga-assist-sessions", s.TableName)
	assert.True(t, s.DeletionProtection, "deletion protection is on unless a stack turns it off")
	assert.Equal(t, 35, s.PITRRecoveryDays)
	assert.Empty(t, s.ReplicaRegions)
}

func TestParseReadsEveryType(t *testing.T) {
	values := valid()
	values[FullKey("tableName")] = "sessions-x"
	values[FullKey("deletionProtection")] = "false"
	values[FullKey("pitrRecoveryDays")] = "7"
	values[FullKey("replicaRegions")] = `["us-west-2","eu-west-1"]`
	values[FullKey("alarmEmail")] = "oncall@example.com"
	values["aws:profile"] = "ignored: other namespaces are not ours"
	s, err := Parse("prod", values)
	require.NoError(t, err)
	assert.Equal(t, "sessions-x", s.TableName)
	assert.False(t, s.DeletionProtection)
	assert.Equal(t, 7, s.PITRRecoveryDays)
	assert.Equal(t, []string{"us-west-2", "eu-west-1"}, s.ReplicaRegions)
	assert.Equal(t, "oncall@example.com", s.AlarmEmail)
}

func TestEachRuleRefusesABadValue(t *testing.T) {
	cases := []struct {
		name, key, value string
		extra            map[string]string
		wantInProblem    string
	}{
		{"missing region", RegionKey, "", nil, "must be set"},
		{"unknown region", RegionKey, "us-central-9", nil, "unknown AWS region"},
		{"table name too short", FullKey("tableName"), "ab", nil, "3 to 255"},
		{"table name bad character", FullKey("tableName"), "sessions/prod", nil, "letters, digits"},
		{"pitr zero", FullKey("pitrRecoveryDays"), "0", nil, "1 to 35"},
		{"pitr too long", FullKey("pitrRecoveryDays"), "36", nil, "1 to 35"},
		{"pitr not a number", FullKey("pitrRecoveryDays"), "a week", nil, "whole number"},
		{"ttl on key attribute", FullKey("ttlAttribute"), "SK", nil, "key attribute"},
		{"deletion protection not bool", FullKey("deletionProtection"), "yes please", nil, "true or false"},
		{"kms arn malformed", FullKey("kmsKeyArn"), "alias/mine", nil, "KMS key ARN"},
		{"kms key in other region", FullKey("kmsKeyArn"), "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", nil, "is in eu-west-1"},
		{"single-region key with replicas", FullKey("kmsKeyArn"), "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			map[string]string{FullKey("replicaRegions"): `["us-west-2"]`}, "multi-Region key"},
		{"kms window too short", FullKey("kmsKeyDeletionWindowDays"), "3", nil, "7 to 30"},
		{"replica unknown region", FullKey("replicaRegions"), `["us-west-3"]`, nil, "unknown AWS region"},
		{"replica is primary", FullKey("replicaRegions"), `["us-east-1"]`, nil, "primary region"},
		{"replica twice", FullKey("replicaRegions"), `["us-west-2","us-west-2"]`, nil, "listed twice"},
		{"replicas not a list", FullKey("replicaRegions"), `us-west-2`, nil, "list of strings"},
		{"negative analytics retention", FullKey("analyticsRetentionDays"), "-1", nil, "1 to 36500"},
		{"zero backup retention", FullKey("backupRetentionDays"), "0", nil, "1 to 36500"},
		{"zero weekly backup retention", FullKey("weeklyBackupRetentionDays"), "0", nil, "1 to 36500"},
		{"vault lock not bool", FullKey("backupVaultLock"), "locked", nil, "true or false"},
		{"negative errors retention", FullKey("errorsRetentionDays"), "-7", nil, "1 to 36500"},
		{"zero query results retention", FullKey("queryResultsRetentionDays"), "0", nil, "1 to 36500"},
		{"zero access log retention", FullKey("accessLogRetentionDays"), "0", nil, "1 to 36500"},
		{"noncurrent versions kept forever", FullKey("noncurrentVersionDays"), "0", nil, "1 to 36500"},
		{"force destroy not bool", FullKey("forceDestroyBuckets"), "maybe", nil, "true or false"},
		{"log retention not allowed by CloudWatch", FullKey("logRetentionDays"), "10", nil, "must be one of 1, 3, 5, 7, 14"},
		{"cron with five fields", FullKey("incrementalExportSchedule"), "cron(0 2 * * ?)", nil, "6 fields"},
		{"cron hour out of range", FullKey("incrementalExportSchedule"), "cron(0 25 * * ? *)", nil, "hours field"},
		{"cron both day fields", FullKey("fullExportSchedule"), "cron(0 3 * * SUN *)", nil, "exactly one"},
		{"cron bad weekday", FullKey("fullExportSchedule"), "cron(0 3 ? * FUNDAY *)", nil, "SUN-SAT"},
		{"rate wrong plural", FullKey("fullExportSchedule"), "rate(2 day)", nil, "plural"},
		{"not a schedule", FullKey("fullExportSchedule"), "every day at 2", nil, "cron("},
		{"bad e-mail", FullKey("alarmEmail"), "oncall at example", nil, "e-mail"},
		{"quicksight principal not an ARN", FullKey("quicksightPrincipalArn"), "analyst", nil, "QuickSight user or group ARN"},
		{"quicksight principal an IAM user", FullKey("quicksightPrincipalArn"), "arn:aws:iam::123456789012:user/analyst", nil, "QuickSight user or group ARN"},
		{"quicksight principal without namespace", FullKey("quicksightPrincipalArn"), "arn:aws:quicksight:us-east-1:123456789012:user/analyst", nil, "user/<namespace>/<name>"},
		{"opensearch reader not an ARN", FullKey("openSearchReaderArn"), "search-reader", nil, "IAM role or user ARN"},
		{"opensearch reader a group", FullKey("openSearchReaderArn"), "arn:aws:iam::123456789012:group/readers", nil, "no groups"},
		{"opensearch reader the account", FullKey("openSearchReaderArn"), "arn:aws:iam::123456789012:root", nil, "IAM role or user ARN"},
		{"standby without replicas", FullKey("standbyAnalytics"), "true", nil, "needs replicaRegions"},
		{"standby that would park its backlog", FullKey("routerMaxRecordAgeSeconds"), "7200",
			map[string]string{FullKey("replicaRegions"): `["us-west-2"]`, FullKey("standbyAnalytics"): "true"}, "must be at least 86400"},
		{"analytics region not a replica", FullKey("analyticsRegion"), "eu-west-1",
			map[string]string{FullKey("replicaRegions"): `["us-west-2"]`}, "neither aws:region"},
		{"analytics region without a standby there", FullKey("analyticsRegion"), "us-west-2",
			map[string]string{FullKey("replicaRegions"): `["us-west-2"]`}, "only with standbyAnalytics"},
		{"unknown setting", FullKey("tabelName"), "x", nil, "unknown setting"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values := valid()
			for k, v := range c.extra {
				values[k] = v
			}
			if c.key == RegionKey && c.value == "" {
				delete(values, RegionKey)
			} else {
				values[c.key] = c.value
			}
			_, err := Parse("dev", values)
			var cfgErr *Error
			require.True(t, errors.As(err, &cfgErr), "want *Error, got %v", err)
			require.Len(t, cfgErr.Fields, 1, "exactly the bad field is reported: %v", err)
			f := cfgErr.Fields[0]
			assert.Equal(t, c.key, f.Key)
			assert.Contains(t, f.Problem, c.wantInProblem)
			assert.Contains(t, err.Error(), c.key, "the message names the field")
			if c.key != FullKey("alarmEmail") && c.value != "" {
				require.NotEmpty(t, f.Value, "the message shows the value")
				assert.Contains(t, c.value, f.Value, "the message shows the value (or the bad element of a list)")
			}
		})
	}
}

func TestGoodSchedules(t *testing.T) {
	for _, expr := range []string{
		"cron(0 2 * * ? *)", "cron(0 3 ? * SUN *)", "cron(15 10 ? * 6L 2026-2030)", "cron(0/15 * * * ? *)",
		"cron(0 8 1,15 * ? *)", "cron(0 0 L * ? *)", "cron(0 0 15W JAN-MAR ? *)", "cron(0 9 ? * 2#1 *)",
		"cron(0 9 ? * MON-FRI *)", "rate(1 day)", "rate(12 hours)", "rate(15 minutes)",
	} {
		assert.NoError(t, schedule.Validate(expr), expr)
	}
}

func TestAllBadFieldsAreListedInOneError(t *testing.T) {
	_, err := Parse("prod", map[string]string{
		RegionKey:                            "mars-north-1",
		FullKey("analyticsRetentionDays"):    "-5",
		FullKey("incrementalExportSchedule"): "cron(0 2 * *)",
		FullKey("logRetentionDays"):          "2",
	})
	var cfgErr *Error
	require.ErrorAs(t, err, &cfgErr)
	keys := []string{}
	for _, f := range cfgErr.Fields {
		keys = append(keys, f.Key)
	}
	assert.Equal(t, []string{"aws:region", FullKey("analyticsRetentionDays"), FullKey("incrementalExportSchedule"), FullKey("logRetentionDays")}, keys)
	assert.Contains(t, err.Error(), `stack "prod": 4 invalid setting(s)`)
	assert.Contains(t, err.Error(), `"mars-north-1"`)
	assert.Contains(t, err.Error(), `"-5"`)
}

func TestSecretValuesAreNotPrinted(t *testing.T) {
	values := valid()
	values[FullKey("alarmEmail")] = "not-an-address-but-private"
	_, err := Parse("prod", values)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not-an-address-but-private")
	assert.Contains(t, err.Error(), "[secret]")
}

func TestDeclaredDefaultsMatchTheirTypes(t *testing.T) {
	for _, d := range Declared {
		var ok bool
		switch d.Type {
		case "string":
			_, ok = d.Default.(string)
		case "boolean":
			_, ok = d.Default.(bool)
		case "integer":
			_, ok = d.Default.(int)
		case "array":
			_, ok = d.Default.([]string)
		}
		assert.True(t, ok, "%s: default %#v is not a %s", d.Key, d.Default, d.Type)
		assert.NotEmpty(t, d.Description, d.Key)
	}
	// The defaults themselves must pass validation.
	_, err := Parse("any", valid())
	assert.NoError(t, err)
}

func TestForceDestroyOnlyInDev(t *testing.T) {
	values := valid()
	values[FullKey("forceDestroyBuckets")] = "true"
	values[FullKey("deletionProtection")] = "false"
	_, err := Parse("dev-alice", values)
	require.NoError(t, err)

	_, err = Parse("prod", values)
	require.ErrorContains(t, err, `manga-assist-data:forceDestroyBuckets = "true": only a dev stack (dev or dev-*) may force-destroy buckets; "prod"`)

	values[FullKey("deletionProtection")] = "true"
	_, err = Parse("dev", values)
	require.ErrorContains(t, err, "contradicts deletionProtection true")
}

// Every declared setting refuses values out of its range: its Invalid
// examples and, for integers, Min-1 and Max+1 (Min and Max themselves pass).
// Deleting any rule makes this fail.
func TestEverySettingRefusesAnOutOfRangeValue(t *testing.T) {
	for _, d := range Declared {
		t.Run(d.Key, func(t *testing.T) {
			bad := append([]string(nil), d.Invalid...)
			if d.Type == "integer" && d.Max > 0 {
				bad = append(bad, strconv.Itoa(d.Min-1), strconv.Itoa(d.Max+1))
				for _, good := range []int{d.Min, d.Max} {
					values := valid()
					values[FullKey(d.Key)] = strconv.Itoa(good)
					_, err := Parse("dev", values)
					assert.NoError(t, err, "%s = %d is in range", d.Key, good)
				}
			}
			require.NotEmpty(t, bad, "%s declares no value it refuses: its rule could be deleted unnoticed", d.Key)
			for _, v := range bad {
				values := valid()
				values[FullKey(d.Key)] = v
				_, err := Parse("dev", values)
				var cfgErr *Error
				require.ErrorAs(t, err, &cfgErr, "%s = %q must be refused", d.Key, v)
				require.Len(t, cfgErr.Fields, 1, "%v", err)
				assert.Equal(t, FullKey(d.Key), cfgErr.Fields[0].Key)
			}
		})
	}
}

// The sinks are off while their settings are empty, and take a principal of
// the right kind when set.
func TestSinkSettings(t *testing.T) {
	s, err := Parse("dev", valid())
	require.NoError(t, err)
	assert.Empty(t, s.QuickSightPrincipalARN, "the QuickSight sink is off by default")
	assert.Empty(t, s.OpenSearchReaderARN, "the OpenSearch sink is off by default")

	values := valid()
	values[FullKey("quicksightPrincipalArn")] = "arn:aws:quicksight:us-east-1:123456789012:group/default/analysts"
	values[FullKey("openSearchReaderArn")] = "arn:aws:iam::123456789012:role/search/reader"
	s, err = Parse("prod", values)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:quicksight:us-east-1:123456789012:group/default/analysts", s.QuickSightPrincipalARN)
	assert.Equal(t, "arn:aws:iam::123456789012:role/search/reader", s.OpenSearchReaderARN)
	assert.Contains(t, OpenSearchDescription, "$350 a month", "the minimum cost is next to the setting")
	assert.Contains(t, OpenSearchDescription, "unique change_id")
}

func TestFailoverNeedsARecordAndAnEndpointPerRegion(t *testing.T) {
	values := valid()
	values[FullKey("replicaRegions")] = `["us-west-2"]`
	values[FullKey("failoverHostedZoneId")] = "Z0123456789ABC"
	_, err := Parse("prod", values)
	require.ErrorContains(t, err, `manga-assist-data:failoverRecordName = "": required with failoverHostedZoneId`)
	require.ErrorContains(t, err, "no endpoint for us-east-1")
	require.ErrorContains(t, err, "no endpoint for us-west-2")

	values[FullKey("failoverRecordName")] = "chat.example.com"
	values[FullKey("failoverEndpoints")] = `["us-east-1=a.example.com","us-west-2=b.example.com"]`
	s, err := Parse("prod", values)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"us-east-1": "a.example.com", "us-west-2": "b.example.com"}, s.Endpoints())

	delete(values, FullKey("replicaRegions"))
	_, err = Parse("prod", values)
	require.ErrorContains(t, err, "failover needs replicaRegions")
	require.ErrorContains(t, err, "us-west-2 is neither aws:region nor in replicaRegions")
}

func TestRegionCodesAreShortAndUnique(t *testing.T) {
	seen := map[string]string{}
	for _, r := range Regions {
		code := RegionCode(r)
		assert.LessOrEqualf(t, len(code), 6, "%s -> %s", r, code)
		if other, dup := seen[code]; dup {
			t.Errorf("%s and %s both have the code %s", r, other, code)
		}
		seen[code] = r
	}
	assert.Equal(t, "usw2", RegionCode("us-west-2"))
	assert.Equal(t, "apse2", RegionCode("ap-southeast-2"))
}
