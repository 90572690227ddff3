package lifecycle

import "slices"

// The design's tiers. Days count from an object's creation.
var (
	// raw/: Standard -> IA at 30 d -> Glacier IR at 90 d -> Deep Archive at 365 d.
	rawTransitions = []Transition{{30, StandardIA}, {90, GlacierIR}, {365, DeepArchive}}
	// Backups: rarely read once a day old, but must be instantly restorable.
	backupTransitions = []Transition{{30, StandardIA}}
)

// AnalyticsTiers are the tiers of the analytics data bucket: raw/ ages as
// the design says and expires after retentionDays (2555 = 7 years); errors/
// (Firehose's failed records, and the documents OpenSearch refused) expire
// after errorsDays. A short retention keeps only the transitions that fit
// before expiry.
//
// processed/ has no tier, on purpose, and no tier may cover it (nor may one
// for the whole bucket, prefix ""): it holds an Apache Iceberg table
// (components.ProcessedLayer), whose files S3 lifecycle must not touch.
//   - Expiry by age breaks the table. A file's age says nothing about
//     whether the table still needs it: a manifest or data file written
//     years ago stays in the current snapshot while nothing rewrites it, and
//     a file OPTIMIZE wrote yesterday may hold events years old. An expired
//     file the metadata still names makes every query that reaches it fail.
//     Iceberg removes what it no longer needs itself: the workflow's DELETE
//     FROM ... WHERE drops events past the retention, and VACUUM deletes the
//     files no kept snapshot names.
//   - Transitions make the table unreadable or dear. Athena skips objects in
//     S3 Glacier Flexible Retrieval and Deep Archive, and reads restored
//     ones only for Hive tables (Athena User Guide, "Query restored Amazon S3
//     Glacier objects"); Glacier Instant Retrieval is readable but bills
//     every GB read and a 90-day minimum that OPTIMIZE and VACUUM, which
//     replace files daily, would keep paying.
//
// What still applies to processed/ are the bucket-wide rules that never
// touch a current object: noncurrent versions expire (Iceberg never
// overwrites a file, so a noncurrent version is one VACUUM deleted) and
// incomplete multipart uploads are aborted.
func AnalyticsTiers(retentionDays, errorsDays int) []Tier {
	return []Tier{
		Fit(Tier{Prefix: "raw/", Transitions: rawTransitions, ExpireDays: retentionDays}),
		{Prefix: "errors/", ExpireDays: errorsDays},
	}
}

// IcebergPrefix is the data bucket's prefix that AnalyticsTiers leaves
// alone: components.ProcessedPrefix, the processed layer's Iceberg table.
const IcebergPrefix = "processed/"

// BackupTiers are the tiers of the backup bucket: table exports under
// exports/ move to IA after 30 d and expire after ExportExpiryDays, which is
// longer than retentionDays so that no retained restore chain loses a file.
//
// Why the expiry can never break a retained restore chain:
//
//   - A restore chain is a full export plus every incremental export after
//     it. Restoring to any point of the last retentionDays needs the full
//     export taken before that point, which can be up to the span between
//     two full exports older than the point itself. Expiring at
//     retentionDays alone would delete that full export while incrementals
//     that depend on it are still kept.
//   - The orchestrator (internal/backup) bounds that span: whatever the
//     schedule says, it starts a full export as soon as the newest one is
//     older than FullExportMaxAgeDays. So the oldest file a chain of the
//     retention period needs is at most retentionDays + FullExportMaxAgeDays
//     old, plus exportChainSlackDays: S3 counts an object's age from its
//     creation rounded up to the next midnight UTC, and an export's files
//     are written after its point in time (an export runs, and is retried,
//     for up to a day).
//   - Incremental exports write their data files into one shared
//     AWSDynamoDB/data/ folder; only each export's manifest-files.json says
//     which files are its own. Those files are written by the export run
//     itself, so none is older than its own manifests. One rule by age over
//     the whole prefix therefore keeps every file as long as the manifests
//     that name it. There is deliberately no separate, shorter rule for
//     AWSDynamoDB/data/ and no rule by object size or tag: either could
//     expire a data file that a kept manifest still lists.
//   - Exports never overwrite an object (every key has a fresh export id or
//     a random name), so the bucket's noncurrent-version rule never touches
//     a file of a chain.
func BackupTiers(retentionDays int) []Tier {
	return []Tier{Fit(Tier{Prefix: "exports/", Transitions: backupTransitions, ExpireDays: ExportExpiryDays(retentionDays)})}
}

// FullExportMaxAgeDays is the age at which the orchestrator starts a full
// export regardless of its schedule: a week between the scheduled ones plus
// a day of grace. BackupTiers relies on it.
const FullExportMaxAgeDays = 8

// exportChainSlackDays covers S3's rounding of object ages to the next
// midnight UTC (1 day) and the time between an export's point in time and
// the writing of its files, retries included (1 day).
const exportChainSlackDays = 2

// ExportExpiryDays is when objects under exports/ expire for a retention
// of retentionDays: retentionDays + FullExportMaxAgeDays + 2.
func ExportExpiryDays(retentionDays int) int {
	return retentionDays + FullExportMaxAgeDays + exportChainSlackDays
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
