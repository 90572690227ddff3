package pack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The levels the pack promises, as docs/policies.md lists them.
var wantLevels = map[string]policyx.EnforcementLevel{
	"dynamodb-point-in-time-recovery":       mandatory,
	"dynamodb-encryption-at-rest":           mandatory,
	"s3-bucket-versioning":                  mandatory,
	"s3-bucket-lifecycle":                   mandatory,
	"s3-bucket-encryption":                  mandatory,
	"s3-bucket-public-access-block":         mandatory,
	"s3-bucket-tls-only":                    mandatory,
	"kinesis-stream-encryption":             mandatory,
	"sqs-queue-encryption":                  mandatory,
	"sns-topic-encryption":                  mandatory,
	"stream-trigger-safety":                 mandatory,
	"iam-no-wildcard-actions":               mandatory,
	"firehose-buffering":                    advisory,
	"firehose-parquet-conversion":           advisory,
	"firehose-uncompressed-when-converting": advisory,
	"stream-consumer-iterator-age-alarm":    advisory,
	"dynamodb-deletion-protection":          advisory,
	"kinesis-stream-retention":              advisory,
	"required-tags":                         advisory,
	"dynamodb-replica-latency-alarm":        advisory,
	"backup-vault-customer-key":             mandatory,
	"dynamodb-table-backup-coverage":        mandatory,
	"dynamodb-pitr-recovery-period":         advisory,
	"dynamodb-replica-encryption":           mandatory,
	"firehose-buffer-size-minimum":          mandatory,
	"kms-key-hygiene":                       mandatory,
	"sqs-queue-dlq":                         mandatory,
	"scheduler-target-safety":               mandatory,
	"sfn-logging":                           mandatory,
	"cloudwatch-alarm-actions":              mandatory,
	"athena-workgroup-guardrails":           mandatory,
	"resource-policy-no-public-access":      mandatory,
	"iam-no-kms-decrypt-all":                mandatory,
	"log-group-retention":                   advisory,
	"backup-plan-retention":                 mandatory,
	"backup-plan-vault-customer-key":        mandatory,
	"backup-vault-immutable":                advisory,
}

func TestPolicies(t *testing.T) {
	pp, err := New(DefaultConfig())
	require.NoError(t, err)
	assert.Equal(t, Name, pp.Name())
	assert.Equal(t, Version, pp.Version().String())

	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	got := map[string]policyx.EnforcementLevel{}
	for _, p := range pp.Policies() {
		assert.Regexp(t, kebab, p.Name())
		assert.NotEmpty(t, p.Description(), p.Name())
		assert.NotContains(t, p.Description(), "\n", "one-line description: %s", p.Name())
		assert.NotContains(t, got, p.Name(), "duplicate policy")
		got[p.Name()] = p.EnforcementLevel()
	}
	assert.Equal(t, wantLevels, got)
}

func TestConfigSchemas(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRetryAttempts = 3
	pp, err := New(cfg)
	require.NoError(t, err)
	schemas := map[string]map[string]map[string]any{}
	for _, p := range pp.Policies() {
		if s := p.ConfigSchema(); s != nil {
			schemas[p.Name()] = s.Properties
		}
	}
	assert.Equal(t, map[string]map[string]map[string]any{
		"stream-trigger-safety": {
			"maxRetryAttempts":    {"type": "integer", "minimum": 0, "maximum": 10000, "default": 3},
			"maxRecordAgeSeconds": {"type": "integer", "minimum": 60, "maximum": 604800, "default": 86400},
		},
		"firehose-buffering": {
			"minBufferingSizeMb":          {"type": "integer", "minimum": 1, "maximum": 128, "default": 64},
			"minBufferingIntervalSeconds": {"type": "integer", "minimum": 0, "maximum": 900, "default": 300},
		},
		"kinesis-stream-retention": {
			"minRetentionHours": {"type": "integer", "minimum": 24, "maximum": 8760, "default": 168},
		},
		"dynamodb-pitr-recovery-period": {
			"minRecoveryPeriodDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 35},
		},
		"kms-key-hygiene": {
			"minDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30},
		},
		"scheduler-target-safety": {
			"maxRetryAttempts": {"type": "integer", "minimum": 0, "maximum": 185, "default": 10},
		},
		"log-group-retention": {
			"minRetentionDays": {"type": "integer", "minimum": 1, "maximum": 3653, "default": 365},
		},
		"backup-plan-retention": {
			"minRetentionDays": {"type": "integer", "minimum": 1, "maximum": 36500, "default": 35},
		},
		"required-tags": {
			"requiredTags": {"type": "array", "items": map[string]any{"type": "string", "minLength": 1},
				"default": []any{"project", "environment", "component"}},
		},
	}, withoutDescriptions(schemas), "the schema's defaults are the configured values")
}

func withoutDescriptions(schemas map[string]map[string]map[string]any) map[string]map[string]map[string]any {
	for _, props := range schemas {
		for _, prop := range props {
			delete(prop, "description")
		}
	}
	return schemas
}

func TestConfigRejectsOutOfRange(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err, "a zero Config is not the defaults")
	for _, fragment := range []string{
		"maxRecordAgeSeconds must be 60 to 604800, got 0", "minRetentionHours", "minBufferingSizeMb",
	} {
		assert.ErrorContains(t, err, fragment)
	}

	cfg := DefaultConfig()
	cfg.RequiredTags = []string{"project", ""}
	_, err = Evaluate(nil, cfg)
	assert.ErrorContains(t, err, "requiredTags must not contain an empty string")
}

func TestConfigWithEngineOverrides(t *testing.T) {
	settings := streamTriggerSafety.settings
	got, err := DefaultConfig().with(settings, map[string]any{
		"maxRetryAttempts": float64(5), "enforcementLevel": "advisory", "maxRecordAgeSeconds": nil,
	})
	require.NoError(t, err)
	assert.Equal(t, 5, got.MaxRetryAttempts)
	assert.Equal(t, 86400, got.MaxRecordAgeSeconds)

	for raw, want := range map[any]string{
		"5":              "maxRetryAttempts must be a whole number",
		2.5:              "maxRetryAttempts must be a whole number",
		float64(-1):      "maxRetryAttempts must be 0 to 10000, got -1",
		float64(1000000): "maxRetryAttempts must be 0 to 10000",
	} {
		_, err := DefaultConfig().with(settings, map[string]any{"maxRetryAttempts": raw})
		assert.ErrorContains(t, err, want, "%v", raw)
	}

	tags, err := DefaultConfig().with(requiredTags.settings, map[string]any{"requiredTags": []any{"owner"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"owner"}, tags.RequiredTags)
	_, err = DefaultConfig().with(requiredTags.settings, map[string]any{"requiredTags": []any{"owner", 1.0}})
	assert.ErrorContains(t, err, "requiredTags must be a list of strings")
	_, err = DefaultConfig().with(requiredTags.settings, map[string]any{"requiredTags": "owner"})
	assert.ErrorContains(t, err, "requiredTags must be a list of strings")
}

// Overrides of one evaluation leave the pack's defaults alone.
func TestConfigWithDoesNotAlias(t *testing.T) {
	base := DefaultConfig()
	got, err := base.with(requiredTags.settings, map[string]any{})
	require.NoError(t, err)
	got.RequiredTags[0] = "changed"
	assert.Equal(t, "project", base.RequiredTags[0])
}

// docs/policies.md lists every policy with its level and every config key
// with its default.
func TestPoliciesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policies.md")
	require.NoError(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 3 {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
		}
	}
	defaults := DefaultConfig()
	for _, p := range resourcePolicies {
		for _, s := range p.settings {
			row := rows[p.name]
			def := s.schema(defaults)["default"]
			if list, ok := def.([]any); ok {
				assert.Contains(t, row, "`"+s.key()+"`", "config key of %s", p.name)
				for _, e := range list {
					assert.Contains(t, row, e.(string), "default of %s", s.key())
				}
			} else {
				assert.Regexp(t, "`"+s.key()+"`[^|`]*\\b"+fmt.Sprint(def)+"\\b", row, "config key of %s and its default", p.name)
			}
		}
	}
	for name, level := range wantLevels {
		wantLevel, _ := levelName(level)
		if assert.Contains(t, rows, name, "policy %s in the table", name) {
			assert.Contains(t, rows[name], "| "+wantLevel+" |", "level of %s", name)
		}
	}
}

// A policy-pack config file, in the form `pulumi preview --policy-pack-config`
// takes, configures Evaluate the way it configures the engine: settings per
// policy, enforcement levels per policy or for "all".
func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{
		"kms-key-hygiene": {"minDeletionWindowDays": 7, "enforcementLevel": "advisory"},
		"required-tags": "disabled",
		"log-group-retention": {"minRetentionDays": 30}
	}`), DefaultConfig())
	require.NoError(t, err)
	assert.Equal(t, 7, cfg.MinKeyDeletionWindowDays)
	assert.Equal(t, 30, cfg.MinLogRetentionDays)
	assert.Equal(t, 10, cfg.MaxRetryAttempts, "what the file does not set keeps its default")

	short := res(typeKMSKey, "short", map[string]any{"enableKeyRotation": false, "deletionWindowInDays": 7})
	untagged := Resource{URN: urnOf(typeSQSQueue, "q"), Type: typeSQSQueue, Name: "q"}
	got, err := Evaluate([]Resource{short, untagged}, cfg)
	require.NoError(t, err)
	var verdicts []string
	for _, v := range got {
		verdicts = append(verdicts, v.Policy+" "+v.EnforcementLevel)
	}
	assert.Contains(t, verdicts, "kms-key-hygiene advisory", "the level the file gives")
	assert.NotContains(t, verdicts, "required-tags advisory", "a disabled policy reports nothing")
	for _, v := range got {
		assert.NotContains(t, v.Message, "deletionWindowInDays", "the minimum the file gives")
	}

	all, err := ParseConfig([]byte(`{"all": "advisory", "sqs-queue-encryption": "mandatory"}`), DefaultConfig())
	require.NoError(t, err)
	pp, err := New(all)
	require.NoError(t, err)
	for _, p := range pp.Policies() {
		want := advisory
		if p.Name() == "sqs-queue-encryption" {
			want = mandatory
		}
		assert.Equal(t, want, p.EnforcementLevel(), p.Name())
	}

	for raw, want := range map[string]string{
		`{"no-such-policy": {}}`:                              `"no-such-policy": no such policy`,
		`{"kms-key-hygiene": {"minDeletionWindow": 7}}`:       `"minDeletionWindow" is not one of its settings`,
		`{"kms-key-hygiene": {"minDeletionWindowDays": 3}}`:   "minDeletionWindowDays must be 7 to 30, got 3",
		`{"kms-key-hygiene": "remediate"}`:                    "enforcement level remediate",
		`{"all": "loud"}`:                                     "enforcement level loud",
		`[]`:                                                  "policy config",
		`{"dynamodb-replica-encryption": {"minWhatever": 1}}`: `"minWhatever" is not one of its settings`,
	} {
		_, err := ParseConfig([]byte(raw), DefaultConfig())
		assert.ErrorContains(t, err, want, raw)
	}
	bad := DefaultConfig()
	bad.Levels = map[string]policyx.EnforcementLevel{"nope": advisory}
	_, err = New(bad)
	assert.ErrorContains(t, err, `enforcement level for "nope": no such policy`)
}

// The repository's per-stack policy config files parse, and only relax
// what their comment-free JSON says: dev's keys may wait 7 days, and its
// backups may be kept 7 days.
func TestStackPolicyConfigFiles(t *testing.T) {
	files, err := filepath.Glob("../config/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = ParseConfig(raw, DefaultConfig())
		assert.NoError(t, err, f)
	}
	raw, err := os.ReadFile("../config/dev.json")
	require.NoError(t, err)
	dev, err := ParseConfig(raw, DefaultConfig())
	require.NoError(t, err)
	want := DefaultConfig()
	want.MinKeyDeletionWindowDays = 7
	want.MinBackupRetentionDays = 7
	assert.Equal(t, want, dev)
}
