package stackconfig

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/manga-assist/manga-assist-data/internal/schedule"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// problem is one failed rule; Parse turns it into a FieldError.
type problem struct {
	key, value, problem string
	secret              bool
}

var (
	kmsKeyARNPattern = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:kms:([a-z0-9-]+):(\d{12}):key/((?:mrk-)?[A-Za-z0-9-]+)$`)
	stackNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// The stack name is part of physical names. The longest is a bucket's,
// "manga-assist-failed-records-<stack>-<12-digit account id>" (or
// "manga-assist-query-results-…"), and S3 allows 63 characters in a bucket
// name and only lower-case letters, digits, dots and hyphens (S3 User Guide,
// "General purpose bucket naming rules"), which Lambda and Firehose names
// accept too.
const (
	MaxBucketNameLength = 63
	longestBucketPrefix = "manga-assist-failed-records-"
	MaxStackNameLength  = MaxBucketNameLength - len(longestBucketPrefix) - len("-123456789012")
)

// StackNameProblem says what is wrong with a stack name for this program, or "".
func StackNameProblem(stack string) string {
	switch {
	case len(stack) > MaxStackNameLength:
		return fmt.Sprintf("is %d characters; at most %d fit, because bucket names (%s<stack>-<account id>) may have at most %d",
			len(stack), MaxStackNameLength, longestBucketPrefix, MaxBucketNameLength)
	case !stackNamePattern.MatchString(stack):
		return "bucket, function and stream names carry the stack name, so it may hold only lower-case letters, digits and hyphens, and must begin and end with a letter or digit"
	}
	return ""
}

// logRetentionValues are the retention periods CloudWatch Logs accepts.
var logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// check applies every rule to s and returns what fails.
func (s Settings) check() []problem {
	var out []problem
	bad := func(key, value, format string, args ...any) {
		out = append(out, problem{key: key, value: value, problem: fmt.Sprintf(format, args...)})
	}
	inRange := func(key string, v, lo, hi int, unit string) {
		if v < lo || v > hi {
			bad(FullKey(key), strconv.Itoa(v), "must be %d to %d %s", lo, hi, unit)
		}
	}

	switch {
	case s.Region == "":
		bad(RegionKey, "", "must be set, e.g. `pulumi config set aws:region us-east-1`")
	case !IsRegion(s.Region):
		bad(RegionKey, s.Region, "unknown AWS region; known: %s", strings.Join(Regions, ", "))
	}

	if !sessions.ValidTableName(s.TableName) {
		bad(FullKey("tableName"), s.TableName, sessions.TableNameRule)
	}

	switch {
	case len(s.TTLAttribute) > 255:
		bad(FullKey("ttlAttribute"), s.TTLAttribute, "must be at most 255 characters")
	case s.TTLAttribute == sessions.PartitionKey || s.TTLAttribute == sessions.SortKey:
		bad(FullKey("ttlAttribute"), s.TTLAttribute, "must not be a key attribute (%s, %s)", sessions.PartitionKey, sessions.SortKey)
	}

	if s.KMSKeyARN != "" {
		m := kmsKeyARNPattern.FindStringSubmatch(s.KMSKeyARN)
		switch {
		case m == nil:
			bad(FullKey("kmsKeyArn"), s.KMSKeyARN, "must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>, or empty")
		case IsRegion(s.Region) && m[1] != s.Region:
			bad(FullKey("kmsKeyArn"), s.KMSKeyARN, "key is in %s but the table is in %s (aws:region)", m[1], s.Region)
		case len(s.ReplicaRegions) > 0 && !strings.HasPrefix(m[3], "mrk-"):
			bad(FullKey("kmsKeyArn"), s.KMSKeyARN, "replicaRegions is set, so the key must be a multi-Region key (mrk-…) or kmsKeyArn empty")
		}
	}

	seen := map[string]bool{}
	for _, r := range s.ReplicaRegions {
		switch {
		case !IsRegion(r):
			bad(FullKey("replicaRegions"), r, "unknown AWS region; known: %s", strings.Join(Regions, ", "))
		case r == s.Region:
			bad(FullKey("replicaRegions"), r, "is the primary region (aws:region); replicas go to other regions")
		case seen[r]:
			bad(FullKey("replicaRegions"), r, "is listed twice")
		}
		seen[r] = true
	}

	if s.KinesisStreamMode != "ON_DEMAND" && s.KinesisStreamMode != "PROVISIONED" {
		bad(FullKey("kinesisStreamMode"), s.KinesisStreamMode, "must be ON_DEMAND or PROVISIONED")
	}

	// Integer ranges, from the declarations.
	for _, d := range Declared {
		if p, ok := d.field(&s).(*int); ok && d.Max > 0 {
			inRange(d.Key, *p, d.Min, d.Max, d.Unit)
		}
	}

	if s.ForceDestroyBuckets {
		switch {
		case !IsDevStack(s.Stack):
			bad(FullKey("forceDestroyBuckets"), "true", "only a dev stack (dev or dev-*) may force-destroy buckets; %q holds data that must survive a destroy", s.Stack)
		case s.DeletionProtection:
			bad(FullKey("forceDestroyBuckets"), "true", "contradicts deletionProtection true; turn one off")
		}
	}
	if !slices.Contains(logRetentionValues, s.LogRetentionDays) {
		bad(FullKey("logRetentionDays"), strconv.Itoa(s.LogRetentionDays), "must be one of %s", joinInts(logRetentionValues))
	}

	for key, expr := range map[string]string{
		"incrementalExportSchedule": s.IncrementalExportSchedule,
		"fullExportSchedule":        s.FullExportSchedule,
	} {
		if err := schedule.Validate(expr); err != nil {
			bad(FullKey(key), expr, "%v", err)
		}
	}

	s.checkFailover(bad)
	s.checkAnalyticsRegion(bad)
	s.checkSinks(bad)

	if s.AlarmEmail != "" {
		if a, err := mail.ParseAddress(s.AlarmEmail); err != nil || a.Address != s.AlarmEmail || !strings.Contains(s.AlarmEmail, "@") {
			out = append(out, problem{key: FullKey("alarmEmail"), value: s.AlarmEmail,
				problem: "must be a plain e-mail address such as oncall@example.com, or empty", secret: true})
		}
	}
	return out
}

// IsDevStack reports whether stack is a development stack, whose data may be
// thrown away.
func IsDevStack(stack string) bool { return stack == "dev" || strings.HasPrefix(stack, "dev-") }

func joinInts(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

var (
	hostedZoneIDPattern = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	dnsNamePattern      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$`)
)

// StandbyAnalyticsDescription is standbyAnalytics' description, here with
// the rule it states.
const StandbyAnalyticsDescription = "Create a paused copy of the analytics pipeline in each replica region, reading that region's replica stream and replicating raw/ to the data bucket, to switch on with analyticsRegion after a failover; needs replicaRegions and routerMaxRecordAgeSeconds >= 86400."

// StandbyMinRecordAgeSeconds is the least routerMaxRecordAgeSeconds with
// standby pipelines: a pipeline switched on, or resumed, after hours reads
// its stream's whole backlog (24 hours); a lower age would park the older
// records in the failed-records bucket instead of routing them.
const StandbyMinRecordAgeSeconds = 86400

// checkAnalyticsRegion applies the rules of standbyAnalytics and analyticsRegion.
func (s Settings) checkAnalyticsRegion(bad func(key, value, format string, args ...any)) {
	if s.StandbyAnalytics {
		if len(s.ReplicaRegions) == 0 {
			bad(FullKey("standbyAnalytics"), "true", "needs replicaRegions: a standby pipeline reads a replica's stream")
		} else if s.RouterMaxRecordAgeSeconds < StandbyMinRecordAgeSeconds {
			bad(FullKey("routerMaxRecordAgeSeconds"), strconv.Itoa(s.RouterMaxRecordAgeSeconds),
				"must be at least %d with standbyAnalytics: a pipeline switched on after a failover must route its stream's whole 24-hour backlog", StandbyMinRecordAgeSeconds)
		}
	}
	if s.AnalyticsRegion == "" || s.AnalyticsRegion == s.Region {
		return
	}
	switch {
	case !slices.Contains(s.ReplicaRegions, s.AnalyticsRegion):
		bad(FullKey("analyticsRegion"), s.AnalyticsRegion, "is neither aws:region (%s) nor in replicaRegions", s.Region)
	case !s.StandbyAnalytics:
		bad(FullKey("analyticsRegion"), s.AnalyticsRegion, "names a replica region, which has a pipeline only with standbyAnalytics: true")
	}
}

// ActiveAnalyticsRegion is the region whose pipeline reads its stream.
func (s Settings) ActiveAnalyticsRegion() string {
	if s.AnalyticsRegion == "" {
		return s.Region
	}
	return s.AnalyticsRegion
}

// checkFailover applies the failover routing rules: a zone needs a record
// name and an endpoint for the primary and every replica region.
func (s Settings) checkFailover(bad func(key, value, format string, args ...any)) {
	if !strings.HasPrefix(s.FailoverHealthCheckPath, "/") {
		bad(FullKey("failoverHealthCheckPath"), s.FailoverHealthCheckPath, "must be a path starting with /")
	}
	if s.FailoverHostedZoneID != "" && !hostedZoneIDPattern.MatchString(s.FailoverHostedZoneID) {
		bad(FullKey("failoverHostedZoneId"), s.FailoverHostedZoneID, "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, or empty")
	}
	if s.FailoverRecordName != "" && !dnsNamePattern.MatchString(s.FailoverRecordName) {
		bad(FullKey("failoverRecordName"), s.FailoverRecordName, "must be a lower-case DNS name such as chat.example.com")
	}
	regions := append([]string{s.Region}, s.ReplicaRegions...)
	seen := map[string]bool{}
	for _, e := range s.FailoverEndpoints {
		region, host, ok := strings.Cut(e, "=")
		switch {
		case !ok || !dnsNamePattern.MatchString(host):
			bad(FullKey("failoverEndpoints"), e, "must be region=host, e.g. us-west-2=chat-usw2.example.com")
		case !slices.Contains(regions, region):
			bad(FullKey("failoverEndpoints"), e, "%s is neither aws:region nor in replicaRegions", region)
		case seen[region]:
			bad(FullKey("failoverEndpoints"), e, "%s is listed twice", region)
		}
		seen[region] = true
	}
	if !hostedZoneIDPattern.MatchString(s.FailoverHostedZoneID) {
		return // no zone, or one already reported
	}
	if len(s.ReplicaRegions) == 0 {
		bad(FullKey("failoverHostedZoneId"), s.FailoverHostedZoneID, "failover needs replicaRegions")
	}
	if s.FailoverRecordName == "" {
		bad(FullKey("failoverRecordName"), "", "required with failoverHostedZoneId")
	}
	for _, r := range regions {
		if !seen[r] && IsRegion(r) {
			bad(FullKey("failoverEndpoints"), strings.Join(s.FailoverEndpoints, ","), "no endpoint for %s: failover needs one in every region", r)
		}
	}
}

// Endpoints returns failoverEndpoints as region -> host.
func (s Settings) Endpoints() map[string]string {
	out := map[string]string{}
	for _, e := range s.FailoverEndpoints {
		if region, host, ok := strings.Cut(e, "="); ok {
			out[region] = host
		}
	}
	return out
}
