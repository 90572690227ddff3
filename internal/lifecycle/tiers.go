package lifecycle

import "slices"

// The design's tiers. Days count from an object's creation.
var (
	// raw/: Standard -> IA at 30 d -> Glacier IR at 90 d -> Deep Archive at 365 d.
	rawTransitions = []Transition{{30, StandardIA}, {90, GlacierIR}, {365, DeepArchive}}
	// processed/: straight to the archive tiers after 90 d.
	processedTransitions = []Transition{{90, GlacierIR}, {365, DeepArchive}}
	// Backups: rarely read once a day old, but must be instantly restorable.
	backupTransitions = []Transition{{30, StandardIA}}
)

// AnalyticsTiers are the tiers of the analytics data bucket: raw/ and
// processed/ age as the design says and expire after retentionDays (2555 = 7
// years); errors/ (Firehose's failed records) expire after errorsDays. A
// short retention keeps only the transitions that fit before expiry.
func AnalyticsTiers(retentionDays, errorsDays int) []Tier {
	return []Tier{
		Fit(Tier{Prefix: "raw/", Transitions: rawTransitions, ExpireDays: retentionDays}),
		Fit(Tier{Prefix: "processed/", Transitions: processedTransitions, ExpireDays: retentionDays}),
		{Prefix: "errors/", ExpireDays: errorsDays},
	}
}

// BackupTiers are the tiers of the backup bucket: table exports under
// exports/ move to IA after 30 d and expire after retentionDays.
func BackupTiers(retentionDays int) []Tier {
	return []Tier{Fit(Tier{Prefix: "exports/", Transitions: backupTransitions, ExpireDays: retentionDays})}
}

// ExpireAfter is a tier that only expires objects: query results, access logs.
func ExpireAfter(prefix string, days int) []Tier {
	return []Tier{{Prefix: prefix, ExpireDays: days}}
}

// Fit keeps, in order, each transition of t that still leaves a valid tier:
// every kept class is held for its minimum storage duration before the next
// transition or the expiry. A tier that expires after 30 days keeps no
// transitions; the design's 2555 days keeps every one.
func Fit(t Tier) Tier {
	if t.ExpireDays == 0 {
		return t
	}
	fitted := Tier{Prefix: t.Prefix, ExpireDays: t.ExpireDays}
	for _, tr := range t.Transitions {
		try := fitted
		try.Transitions = append(slices.Clone(fitted.Transitions), tr)
		if len(try.validate("")) == 0 {
			fitted = try
		}
	}
	return fitted
}
