package lifecycle

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// designPolicy is the analytics bucket's policy with the design's numbers.
func designPolicy() Policy {
	return Policy{
		Tiers:                AnalyticsTiers(2555, 30),
		Versioned:            true,
		NoncurrentExpireDays: 30,
		AbortMultipartDays:   7,
		MinimumObjectSize:    DefaultMinimumObjectSize,
	}
}

func TestDesignRules(t *testing.T) {
	p := designPolicy()
	require.NoError(t, p.Validate())
	assert.Equal(t, []Rule{
		{ID: "tier-raw", Prefix: "raw/", ExpireDays: 2555, Transitions: []Transition{
			{30, StandardIA}, {90, GlacierIR}, {365, DeepArchive}}},
		{ID: "tier-errors", Prefix: "errors/", ExpireDays: 30},
		{ID: "noncurrent-versions", NoncurrentExpireDays: 30},
		{ID: "expired-delete-markers", ExpiredDeleteMarker: true},
		{ID: "abort-incomplete-multipart", AbortMultipartDays: 7},
	}, p.Rules())
}

// No rule that expires or moves current objects reaches the Iceberg table
// under processed/, whatever the retentions: lifecycle would corrupt it
// (see AnalyticsTiers). Only the rules for noncurrent versions, delete
// markers and incomplete uploads may, which never touch a current object.
func TestAnalyticsTiersLeaveTheIcebergTableAlone(t *testing.T) {
	for _, days := range []int{1, 7, 30, 90, 365, 400, 545, 2555, 36500} {
		p := designPolicy()
		p.Tiers = AnalyticsTiers(days, min(days, 30))
		require.NoError(t, p.Validate(), "%d days", days)
		for _, r := range p.Rules() {
			if !strings.HasPrefix(IcebergPrefix, r.Prefix) && !strings.HasPrefix(r.Prefix, IcebergPrefix) {
				continue // the rule's prefix and processed/ are apart
			}
			assert.Zerof(t, r.ExpireDays, "%d days: rule %s expires objects under %s", days, r.ID, IcebergPrefix)
			assert.Emptyf(t, r.Transitions, "%d days: rule %s moves objects under %s", days, r.ID, IcebergPrefix)
		}
	}
}

func TestUnversionedBucketHasNoVersionRules(t *testing.T) {
	p := Policy{Tiers: ExpireAfter("", 30), AbortMultipartDays: 7, MinimumObjectSize: VariesByClass}
	require.NoError(t, p.Validate())
	assert.Equal(t, []Rule{
		{ID: "tier-all", ExpireDays: 30},
		{ID: "abort-incomplete-multipart", AbortMultipartDays: 7},
	}, p.Rules())
}

func TestFitKeepsWhatRetentionLeavesRoomFor(t *testing.T) {
	raw := func(days int) []Transition { return AnalyticsTiers(days, 7)[0].Transitions }
	assert.Empty(t, raw(30), "30 days: expiry comes before IA pays off")
	assert.Equal(t, []Transition{{30, StandardIA}}, raw(60))
	assert.Equal(t, []Transition{{30, StandardIA}, {90, GlacierIR}}, raw(400), "Deep Archive needs 180 days before expiry")
	assert.Equal(t, rawTransitions, raw(545))
	assert.Equal(t, rawTransitions, raw(2555))
	assert.Empty(t, BackupTiers(7)[0].Transitions)
	assert.Equal(t, backupTransitions, BackupTiers(90)[0].Transitions)
	for _, days := range []int{1, 7, 30, 31, 59, 60, 89, 90, 119, 120, 179, 180, 364, 365, 544, 545, 2555} {
		p := designPolicy()
		p.Tiers = append(AnalyticsTiers(days, days), BackupTiers(days)...)
		assert.NoError(t, p.Validate(), "fitted tiers for %d days must be valid", days)
	}
}

func TestEachRuleRefusesABadValue(t *testing.T) {
	tier := func(prefix string, expire int, trs ...Transition) Tier {
		return Tier{Prefix: prefix, ExpireDays: expire, Transitions: trs}
	}
	cases := []struct {
		name   string
		change func(*Policy)
		want   string
	}{
		{"days out of order", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{90, GlacierIR}, Transition{60, DeepArchive})}
		}, `Tiers[0] (prefix "raw/").Transitions[1] DEEP_ARCHIVE at day 60: transitions must be in increasing day order (previous at day 90)`},
		{"IA before day 30", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{10, StandardIA})}
		}, `Transitions[0] STANDARD_IA at day 10: S3 moves objects to STANDARD_IA no earlier than day 30`},
		{"IA left before 30 days", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{30, StandardIA}, Transition{45, GlacierIR})}
		}, `Transitions[1] GLACIER_IR at day 45: objects must stay in STANDARD_IA at least 30 days (until day 60)`},
		{"Deep Archive expired before 180 days", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 400, Transition{365, DeepArchive})}
		}, `ExpireDays 400: objects must stay in DEEP_ARCHIVE at least 180 days before expiry (until day 545)`},
		{"expiry before last transition", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 60, Transition{90, GlacierIR})}
		}, `ExpireDays 60: expiry must come after the last transition (day 90)`},
		{"against the waterfall", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{0, GlacierIR}, Transition{120, StandardIA})}
		}, `Transitions[1] STANDARD_IA at day 120: S3 only moves objects down the tiers`},
		{"unknown class", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{30, "COLD"})}
		}, `Transitions[0] COLD at day 30: unknown storage class`},
		{"negative transition day", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 2555, Transition{-1, GlacierIR})}
		}, `GLACIER_IR at day -1: days must be 0 or more`},
		{"duplicate prefix", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 30), tier("raw/", 60)}
		}, `Tiers[1] (prefix "raw/"): duplicates the prefix of Tiers[0]`},
		{"overlapping prefixes", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 30), tier("raw/year=2026/", 60)}
		}, `Tiers[1] (prefix "raw/year=2026/"): overlaps Tiers[0] (prefix "raw/")`},
		{"whole bucket overlaps every prefix", func(p *Policy) {
			p.Tiers = []Tier{tier("errors/", 30), tier("", 60)}
		}, `Tiers[1] (prefix ""): overlaps Tiers[0] (prefix "errors/")`},
		{"tier that does nothing", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", 0)}
		}, `Tiers[0] (prefix "raw/"): has neither transitions nor expiry`},
		{"negative expiry", func(p *Policy) {
			p.Tiers = []Tier{tier("raw/", -5, Transition{30, StandardIA})}
		}, `ExpireDays -5: must be 0 (never) or more`},
		{"leading slash", func(p *Policy) {
			p.Tiers = []Tier{tier("/raw/", 30)}
		}, `Tiers[0] (prefix "/raw/"): a key prefix does not start with '/'`},
		{"versioned without noncurrent expiry", func(p *Policy) { p.NoncurrentExpireDays = 0 },
			`NoncurrentExpireDays 0: a versioned bucket must expire noncurrent versions`},
		{"noncurrent expiry on unversioned bucket", func(p *Policy) { p.Versioned = false },
			`NoncurrentExpireDays 30: the bucket is not versioned`},
		{"multipart uploads never aborted", func(p *Policy) { p.AbortMultipartDays = 0 },
			`AbortMultipartDays 0: incomplete multipart uploads must be aborted`},
		{"unknown minimum object size", func(p *Policy) { p.MinimumObjectSize = "128K" },
			`MinimumObjectSize "128K": must be "all_storage_classes_128K" or "varies_by_storage_class"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := designPolicy()
			c.change(&p)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Len(t, strings.Split(err.Error(), "\n"), 1, "only the bad field is reported: %v", err)
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	p := designPolicy()
	p.Tiers = append(p.Tiers, Tier{Prefix: "raw/", ExpireDays: 10})
	p.AbortMultipartDays = 0
	err := p.Validate()
	require.Error(t, err)
	assert.Len(t, strings.Split(err.Error(), "\n"), 2, "%v", err)
}

// A retained restore chain is the full export before a point of the
// retention period plus every incremental after it: the oldest file it needs
// is up to FullExportMaxAgeDays older than the retention period, and S3
// counts ages up to the next midnight. One rule covers the whole exports/
// prefix, so the shared AWSDynamoDB/data/ files age with their manifests.
func TestBackupTiersOutliveEveryRetainedRestoreChain(t *testing.T) {
	for _, days := range []int{1, 7, 35, 90, 365, 2555} {
		tiers := BackupTiers(days)
		require.Len(t, tiers, 1, "one rule for exports/, none for AWSDynamoDB/data/ alone")
		assert.Equal(t, "exports/", tiers[0].Prefix)
		assert.GreaterOrEqual(t, tiers[0].ExpireDays, days+FullExportMaxAgeDays+2,
			"retention %d: the full export a kept incremental needs must outlive it", days)
		p := designPolicy()
		p.Tiers = tiers
		for _, r := range p.Rules() {
			assert.NotContains(t, r.Prefix, "AWSDynamoDB", "no rule may single out export files")
		}
	}
}
