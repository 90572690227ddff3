// Package stackconfig reads a stack's configuration into one typed struct and
// validates all of it before anything is created. Every setting, with its type,
// default and description, is declared once in the table below; Pulumi.yaml
// declares the same settings for the CLI, and a test keeps the two equal.
package stackconfig

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Project is the Pulumi project name; settings live in its config namespace.
const Project = "manga-assist-data"

// RegionKey is the provider setting that picks the primary region.
const RegionKey = "aws:region"

// Settings is a stack's whole configuration.
type Settings struct {
	Stack  string // the stack name; also the "environment" tag
	Region string // aws:region, the primary region

	TableName                 string
	DeletionProtection        bool
	PITRRecoveryDays          int
	TTLAttribute              string
	KMSKeyARN                 string
	KMSKeyDeletionWindowDays  int
	ReplicaRegions            []string
	AnalyticsRetentionDays    int
	ErrorsRetentionDays       int
	BackupRetentionDays       int
	WeeklyBackupRetentionDays int
	BackupVaultLock           bool
	QueryResultsRetentionDays int
	AccessLogRetentionDays    int
	NoncurrentVersionDays     int
	ForceDestroyBuckets       bool

	KinesisStreamMode           string
	KinesisShardCount           int
	KinesisRetentionHours       int
	RouterBatchSize             int
	RouterParallelization       int
	RouterMaxRetries            int
	RouterMaxRecordAgeSeconds   int
	AthenaScanLimitGB           int
	AlarmsEnabled               bool
	IteratorAgeAlarmSeconds     int
	DeliveryFreshnessAlarmSecs  int
	LogRetentionDays            int
	IncrementalExportSchedule   string
	FullExportSchedule          string
	FailoverHostedZoneID        string
	FailoverRecordName          string
	FailoverEndpoints           []string // region=host
	FailoverHealthCheckPath     string
	ReplicationLatencyAlarmSecs int
	StandbyAnalytics            bool
	AnalyticsRegion             string // "" = Region
	QuickSightPrincipalARN      string // empty: the QuickSight sink is off
	OpenSearchReaderARN         string // empty: the OpenSearch sink is off
	AlarmEmail                  string // secret: never printed
}

// Setting declares one project setting: its key, its Pulumi.yaml type, its
// default, and where its value goes in Settings.
type Setting struct {
	Key     string
	Type    string // Pulumi.yaml type: string, boolean, integer or array (of strings)
	Default any    // string, bool, int or []string, matching Type
	// Secret settings are optional and stored encrypted. Pulumi.yaml does
	// not declare them: the CLI (3.202 and later) refuses a secret setting
	// with a plain default, and one without a default is required of every
	// stack. Parse refuses one that is not encrypted instead.
	Secret      bool
	Description string
	// Min and Max bound an integer setting, in Unit; every integer setting
	// with a Max is checked against them.
	Min, Max int
	Unit     string
	// Invalid are values the setting must refuse (beyond Min-1 and Max+1);
	// the tests parse every one of them.
	Invalid []string
	field   func(*Settings) any // pointer to the Settings field
}

// Declared lists every project setting, with its default, in one place.
var Declared = []Setting{
	{Key: "tableName", Type: "string", Default: "manga-assist-sessions",
		Description: "Name of the DynamoDB sessions table.",
		Invalid:     []string{"ab", "sessions/prod"},
		field:       func(s *Settings) any { return &s.TableName }},
	{Key: "deletionProtection", Type: "boolean", Default: true,
		Description: "Turn on DynamoDB deletion protection for the sessions table (and its replicas).",
		Invalid:     []string{"yes please"},
		field:       func(s *Settings) any { return &s.DeletionProtection }},
	{Key: "pitrRecoveryDays", Type: "integer", Default: 35,
		Description: "Point-in-time recovery window of the sessions table, in days (1-35). PITR itself is always on.",
		Min:         1, Max: 35, Unit: "days",
		field: func(s *Settings) any { return &s.PITRRecoveryDays }},
	{Key: "ttlAttribute", Type: "string", Default: "",
		Description: "Item attribute holding the expiry time (epoch seconds) for DynamoDB TTL; empty turns TTL off.",
		Invalid:     []string{"SK", "PK"},
		field:       func(s *Settings) any { return &s.TTLAttribute }},
	{Key: "kmsKeyArn", Type: "string", Default: "",
		Description: "ARN of an existing KMS key for the table's server-side encryption; empty creates a key with rotation on.",
		Invalid:     []string{"alias/mine", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		field:       func(s *Settings) any { return &s.KMSKeyARN }},
	{Key: "kmsKeyDeletionWindowDays", Type: "integer", Default: 30,
		Description: "Waiting period (7-30 days) before a deleted KMS key created by this stack is destroyed.",
		Min:         7, Max: 30, Unit: "days",
		field: func(s *Settings) any { return &s.KMSKeyDeletionWindowDays }},
	{Key: "replicaRegions", Type: "array", Default: []string{},
		Description: "Regions that hold global-table replicas of the sessions table; must not include the primary region.",
		Invalid:     []string{`["us-west-3"]`, `["us-east-1"]`, `us-west-2`},
		field:       func(s *Settings) any { return &s.ReplicaRegions }},
	{Key: "analyticsRetentionDays", Type: "integer", Default: 2555,
		Description: "Days analytics data is kept in S3 before it is deleted (2555 days = 7 years).",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.AnalyticsRetentionDays }},
	{Key: "errorsRetentionDays", Type: "integer", Default: 30,
		Description: "Days failed records are kept: those Firehose could not convert (errors/ in the data bucket) and the batches the stream router gave up on.",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.ErrorsRetentionDays }},
	{Key: "backupRetentionDays", Type: "integer", Default: 35,
		Description: "Days table exports and on-demand backups are kept.",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.BackupRetentionDays }},
	{Key: "weeklyBackupRetentionDays", Type: "integer", Default: 365,
		Description: "Days AWS Backup keeps the weekly recovery points of the sessions table (never less than backupRetentionDays, which the daily ones are kept).",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.WeeklyBackupRetentionDays }},
	{Key: "backupVaultLock", Type: "boolean", Default: false,
		Description: "Lock the AWS Backup vault in governance mode, so recovery points cannot be deleted early; users with permission can still remove the lock.",
		Invalid:     []string{"locked"},
		field:       func(s *Settings) any { return &s.BackupVaultLock }},
	{Key: "queryResultsRetentionDays", Type: "integer", Default: 30,
		Description: "Days Athena query results are kept.",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.QueryResultsRetentionDays }},
	{Key: "accessLogRetentionDays", Type: "integer", Default: 365,
		Description: "Days S3 server access logs are kept.",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.AccessLogRetentionDays }},
	{Key: "noncurrentVersionDays", Type: "integer", Default: 30,
		Description: "Days an overwritten or deleted object's previous version is kept in every bucket.",
		Min:         1, Max: 36500, Unit: "days",
		field: func(s *Settings) any { return &s.NoncurrentVersionDays }},
	{Key: "forceDestroyBuckets", Type: "boolean", Default: false,
		Description: "Let `pulumi destroy` delete buckets that still hold objects, and the Athena workgroup with its query history. Only dev stacks may turn it on.",
		Invalid:     []string{"maybe"},
		field:       func(s *Settings) any { return &s.ForceDestroyBuckets }},
	{Key: "logRetentionDays", Type: "integer", Default: 30,
		Description: "Retention of the Lambda log groups, in days (a value CloudWatch Logs accepts).",
		Invalid:     []string{"10", "forever"},
		field:       func(s *Settings) any { return &s.LogRetentionDays }},
	{Key: "incrementalExportSchedule", Type: "string", Default: "cron(0 2 * * ? *)",
		Description: "EventBridge Scheduler expression (UTC) of the incremental table export.",
		Invalid:     []string{"cron(0 2 * * ?)", "every day"},
		field:       func(s *Settings) any { return &s.IncrementalExportSchedule }},
	{Key: "fullExportSchedule", Type: "string", Default: "cron(0 3 ? * SUN *)",
		Description: "EventBridge Scheduler expression (UTC) of the full table export.",
		Invalid:     []string{"cron(0 3 * * SUN *)", "rate(2 day)"},
		field:       func(s *Settings) any { return &s.FullExportSchedule }},
	{Key: "kinesisStreamMode", Type: "string", Default: "ON_DEMAND",
		Description: "Capacity mode of the analytics events stream: ON_DEMAND or PROVISIONED.",
		Invalid:     []string{"on-demand", "SERVERLESS"},
		field:       func(s *Settings) any { return &s.KinesisStreamMode }},
	{Key: "kinesisShardCount", Type: "integer", Default: 1,
		Description: "Shards of the events stream when kinesisStreamMode is PROVISIONED.",
		Min:         1, Max: 10000, Unit: "shards",
		field: func(s *Settings) any { return &s.KinesisShardCount }},
	{Key: "kinesisRetentionHours", Type: "integer", Default: 24,
		Description: "Hours the events stream keeps records (24-8760): how far back Firehose can re-read.",
		Min:         24, Max: 8760, Unit: "hours",
		field: func(s *Settings) any { return &s.KinesisRetentionHours }},
	{Key: "routerBatchSize", Type: "integer", Default: 100,
		Description: "Stream records per invocation of the stream router (1-10000).",
		Min:         1, Max: 10000, Unit: "records",
		field: func(s *Settings) any { return &s.RouterBatchSize }},
	{Key: "routerParallelization", Type: "integer", Default: 1,
		Description: "Concurrent batches per table-stream shard (1-10). Above 1, Lambda keeps order per item only, so changes to different items of one session may interleave.",
		Min:         1, Max: 10, Unit: "batches",
		field: func(s *Settings) any { return &s.RouterParallelization }},
	{Key: "routerMaxRetries", Type: "integer", Default: 5,
		Description: "Retries of a failing batch before it is kept in the failed-records bucket (1-10000).",
		Min:         1, Max: 10000, Unit: "retries",
		field: func(s *Settings) any { return &s.RouterMaxRetries }},
	{Key: "routerMaxRecordAgeSeconds", Type: "integer", Default: 3600,
		Description: "Age (60-604800 s) at which a record still not routed is kept in the failed-records bucket instead.",
		Min:         60, Max: 604800, Unit: "seconds",
		field: func(s *Settings) any { return &s.RouterMaxRecordAgeSeconds }},
	{Key: "athenaScanLimitGB", Type: "integer", Default: 10,
		Description: "Athena cancels a query of the analytics workgroup that scans more than this many GiB.",
		Min:         1, Max: 1 << 20, Unit: "GiB",
		field: func(s *Settings) any { return &s.AthenaScanLimitGB }},
	{Key: "alarmsEnabled", Type: "boolean", Default: true,
		Description: "Create the pipeline's alarms and their SNS topic.",
		Invalid:     []string{"sometimes"},
		field:       func(s *Settings) any { return &s.AlarmsEnabled }},
	{Key: "iteratorAgeAlarmSeconds", Type: "integer", Default: 60,
		Description: "Alarm when the router or Firehose is this many seconds behind its stream.",
		Min:         1, Max: 86400, Unit: "seconds",
		field: func(s *Settings) any { return &s.IteratorAgeAlarmSeconds }},
	{Key: "deliveryFreshnessAlarmSeconds", Type: "integer", Default: 900,
		Description: "Alarm when the oldest event not yet in S3 is older than this (60-86400 s).",
		Min:         60, Max: 86400, Unit: "seconds",
		field: func(s *Settings) any { return &s.DeliveryFreshnessAlarmSecs }},
	{Key: "failoverHostedZoneId", Type: "string", Default: "",
		Description: "Route 53 hosted zone of failoverRecordName; empty turns failover routing off (replicas and their alarms are still created).",
		Invalid:     []string{"example.com", "z123"},
		field:       func(s *Settings) any { return &s.FailoverHostedZoneID }},
	{Key: "failoverRecordName", Type: "string", Default: "",
		Description: "DNS name (not the zone apex) that answers with the chatbot's endpoint in the first healthy region.",
		Invalid:     []string{"not a name"},
		field:       func(s *Settings) any { return &s.FailoverRecordName }},
	{Key: "failoverEndpoints", Type: "array", Default: []string{},
		Description: "The chatbot's host name in each region, as region=host, for the primary and every replica region.",
		Invalid:     []string{`["us-east-1"]`, `["mars-1=chat.example.com"]`},
		field:       func(s *Settings) any { return &s.FailoverEndpoints }},
	{Key: "failoverHealthCheckPath", Type: "string", Default: "/health",
		Description: "Path Route 53 requests over HTTPS to check each regional endpoint.",
		Invalid:     []string{"health"},
		field:       func(s *Settings) any { return &s.FailoverHealthCheckPath }},
	{Key: "replicationLatencyAlarmSeconds", Type: "integer", Default: 60,
		Description: "Alarm when replication to a replica region lags this many seconds (1-3600).",
		Min:         1, Max: 3600, Unit: "seconds",
		field: func(s *Settings) any { return &s.ReplicationLatencyAlarmSecs }},
	{Key: "standbyAnalytics", Type: "boolean", Default: false,
		Description: StandbyAnalyticsDescription,
		Invalid:     []string{"maybe"},
		field:       func(s *Settings) any { return &s.StandbyAnalytics }},
	{Key: "analyticsRegion", Type: "string", Default: "",
		Description: "Region whose pipeline reads its table stream: aws:region (empty) or, with standbyAnalytics, a replica region after a failover; the other pipelines are paused.",
		Invalid:     []string{"us-west-3", "eu-west-1"},
		field:       func(s *Settings) any { return &s.AnalyticsRegion }},
	{Key: "quicksightPrincipalArn", Type: "string", Default: "",
		Description: QuickSightDescription,
		Invalid:     []string{"analyst", "arn:aws:iam::123456789012:user/analyst", "arn:aws:quicksight:us-east-1:123456789012:user/analyst"},
		field:       func(s *Settings) any { return &s.QuickSightPrincipalARN }},
	{Key: "openSearchReaderArn", Type: "string", Default: "",
		Description: OpenSearchDescription,
		Invalid:     []string{"search-reader", "arn:aws:iam::123456789012:group/readers", "arn:aws:iam::123456789012:root"},
		field:       func(s *Settings) any { return &s.OpenSearchReaderARN }},
	{Key: "alarmEmail", Type: "string", Default: "", Secret: true,
		Description: "E-mail address subscribed to the alarm topic; set it with `pulumi config set --secret`; empty subscribes nobody.",
		Invalid:     []string{"oncall at example"},
		field:       func(s *Settings) any { return &s.AlarmEmail }},
}

// FullKey is the namespaced config key of a project setting.
func FullKey(key string) string { return Project + ":" + key }

// Defaults returns the settings with every default filled in.
func Defaults() Settings {
	var s Settings
	for _, d := range Declared {
		switch p := d.field(&s).(type) {
		case *string:
			*p = d.Default.(string)
		case *bool:
			*p = d.Default.(bool)
		case *int:
			*p = d.Default.(int)
		case *[]string:
			*p = append([]string(nil), d.Default.([]string)...)
		}
	}
	return s
}

// set parses raw, as the Pulumi engine passes it to the program, into the
// field of d. Arrays arrive as JSON.
func (d Setting) set(s *Settings, raw string) error {
	switch p := d.field(s).(type) {
	case *string:
		*p = raw
	case *bool:
		v, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*p = v
	case *int:
		v, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be a whole number")
		}
		*p = v
	case *[]string:
		var v []string
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return fmt.Errorf(`must be a list of strings, e.g. ["us-west-2"]`)
		}
		*p = v
	}
	return nil
}
