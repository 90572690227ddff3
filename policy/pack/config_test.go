package pack

import (
	"fmt"
	"os"
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
			"minRetentionHours": {"type": "integer", "minimum": 24, "maximum": 8760, "default": 24},
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
