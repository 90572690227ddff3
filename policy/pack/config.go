package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Config holds the pack's thresholds and required tags. Start from
// DefaultConfig: a zero Config is rejected, because 0 is a real threshold and
// not "the default". Each field belongs to one policy, and a
// --policy-pack-config file overrides it for that policy under the key named
// in the field's comment.
type Config struct {
	// stream-trigger-safety: maxRetryAttempts, 0 to 10000.
	MaxRetryAttempts int
	// stream-trigger-safety: maxRecordAgeSeconds, 60 to 604800.
	MaxRecordAgeSeconds int
	// firehose-buffering: minBufferingSizeMb, 1 to 128.
	MinBufferingSizeMB int
	// firehose-buffering: minBufferingIntervalSeconds, 0 to 900.
	MinBufferingIntervalSeconds int
	// kinesis-stream-retention: minRetentionHours, 24 to 8760.
	MinRetentionHours int
	// required-tags: requiredTags, tag keys; an empty list turns the check off.
	RequiredTags []string
	// dynamodb-pitr-recovery-period: minRecoveryPeriodDays, 1 to 35.
	MinPITRRecoveryDays int
	// kms-key-hygiene: minDeletionWindowDays, 7 to 30.
	MinKeyDeletionWindowDays int
	// scheduler-target-safety: maxRetryAttempts, 0 to 185.
	MaxScheduleRetryAttempts int
	// log-group-retention: minRetentionDays, 1 to 3653.
	MinLogRetentionDays int
	// backup-plan-retention: minRetentionDays, 1 to 36500.
	MinBackupRetentionDays int

	// Levels overrides policies' enforcement levels, by policy name, as the
	// "enforcementLevel" of a policy-pack config file does; "all" sets every
	// policy's. The engine applies a config file's levels itself; offline,
	// ParseConfig puts them here.
	Levels map[string]policyx.EnforcementLevel
}

// DefaultConfig is the configuration the pack serves unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxRetryAttempts:            10,
		MaxRecordAgeSeconds:         86400, // a day: the shortest retention of Kinesis and DynamoDB streams
		MinBufferingSizeMB:          64,    // the minimum Firehose accepts once format conversion is on
		MinBufferingIntervalSeconds: 300,
		// Kinesis.3's default (AWS Config kinesis-stream-backup-retention-check): a week of records
		// outlives a consumer outage found on a Monday.
		MinRetentionHours: 168,
		RequiredTags:      []string{"project", "environment", "component"},
		// DynamoDB's own default and its longest window.
		MinPITRRecoveryDays: 35,
		// KMS's own default and its longest waiting period.
		MinKeyDeletionWindowDays: 30,
		// stream-trigger-safety's cap: a schedule that keeps failing reaches its dead-letter queue within minutes.
		MaxScheduleRetryAttempts: 10,
		// CloudWatch.16's default, and Checkov's CKV_AWS_338: a year.
		MinLogRetentionDays: 365,
		// The AWS Config rule backup-plan-min-frequency-and-min-retention-check's
		// default (requiredRetentionDays), and DynamoDB PITR's window.
		MinBackupRetentionDays: 35,
	}
}

// A setting is one config key of one policy, with its JSON schema and the
// Config field it sets.
type setting interface {
	key() string
	schema(defaults Config) map[string]any
	apply(cfg *Config, raw any) error
	check(cfg Config) error
}

type intSetting struct {
	name, description string
	min, max          int
	field             func(*Config) *int
}

func (s intSetting) key() string { return s.name }

func (s intSetting) schema(defaults Config) map[string]any {
	return map[string]any{
		"type":        "integer",
		"description": s.description,
		"minimum":     s.min,
		"maximum":     s.max,
		"default":     *s.field(&defaults),
	}
}

func (s intSetting) apply(cfg *Config, raw any) error {
	var n float64
	switch v := raw.(type) {
	case float64: // every JSON number arrives as float64
		n = v
	case int:
		n = float64(v)
	default:
		return fmt.Errorf("%s must be a whole number, got %v", s.name, raw)
	}
	if n != math.Trunc(n) {
		return fmt.Errorf("%s must be a whole number, got %v", s.name, n)
	}
	*s.field(cfg) = int(n)
	return s.check(*cfg)
}

func (s intSetting) check(cfg Config) error {
	if v := *s.field(&cfg); v < s.min || v > s.max {
		return fmt.Errorf("%s must be %d to %d, got %d", s.name, s.min, s.max, v)
	}
	return nil
}

type stringListSetting struct {
	name, description string
	field             func(*Config) *[]string
}

func (s stringListSetting) key() string { return s.name }

func (s stringListSetting) schema(defaults Config) map[string]any {
	// structpb, which carries the schema over gRPC, takes []any but not []string.
	def := []any{}
	for _, v := range *s.field(&defaults) {
		def = append(def, v)
	}
	return map[string]any{
		"type":        "array",
		"description": s.description,
		"items":       map[string]any{"type": "string", "minLength": 1},
		"default":     def,
	}
}

func (s stringListSetting) apply(cfg *Config, raw any) error {
	var list []string
	switch v := raw.(type) {
	case []any:
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("%s must be a list of strings, has %v", s.name, e)
			}
			list = append(list, str)
		}
	case []string:
		list = slices.Clone(v)
	default:
		return fmt.Errorf("%s must be a list of strings, got %v", s.name, raw)
	}
	*s.field(cfg) = list
	return s.check(*cfg)
}

func (s stringListSetting) check(cfg Config) error {
	if slices.Contains(*s.field(&cfg), "") {
		return fmt.Errorf("%s must not contain an empty string", s.name)
	}
	return nil
}

// configSchema is the schema policyx announces for a policy's settings, with
// the pack's configured values as defaults.
func configSchema(settings []setting, defaults Config) map[string]map[string]any {
	if len(settings) == 0 {
		return nil
	}
	props := map[string]map[string]any{}
	for _, s := range settings {
		props[s.key()] = s.schema(defaults)
	}
	return props
}

// with returns c overridden by a policy's config from the engine; keys that
// are not the policy's settings (enforcementLevel) are left to policyx.
func (c Config) with(settings []setting, raw map[string]any) (Config, error) {
	out := c
	out.RequiredTags = slices.Clone(c.RequiredTags)
	out.Levels = maps.Clone(c.Levels)
	for _, s := range settings {
		if v, ok := raw[s.key()]; ok && v != nil {
			if err := s.apply(&out, v); err != nil {
				return Config{}, err
			}
		}
	}
	return out, nil
}

// validate checks every field against the range its policy accepts, and
// every level override names a policy.
func (c Config) validate() error {
	var errs []error
	for _, p := range resourcePolicies {
		for _, s := range p.settings {
			if err := s.check(c); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Levels)) {
		if name != "all" && !slices.Contains(policyNames(), name) {
			errs = append(errs, fmt.Errorf("enforcement level for %q: no such policy", name))
		}
	}
	return errors.Join(errs...)
}

// levelOf is a policy's enforcement level under c's overrides.
func (c Config) levelOf(name string, level policyx.EnforcementLevel) policyx.EnforcementLevel {
	if l, ok := c.Levels["all"]; ok {
		level = l
	}
	if l, ok := c.Levels[name]; ok {
		level = l
	}
	return level
}

func policyNames() []string {
	var names []string
	for _, p := range resourcePolicies {
		names = append(names, p.name)
	}
	for _, p := range stackPolicies {
		names = append(names, p.name)
	}
	return names
}

// ParseConfig reads a policy-pack config file, in the JSON form
// `pulumi preview --policy-pack-config` takes, over base:
//
//	{"all": "advisory", "kms-key-hygiene": {"enforcementLevel": "mandatory", "minDeletionWindowDays": 7}}
//
// A policy's value is its level, or an object of its settings and
// "enforcementLevel". An unknown policy, setting or level is an error, as is
// a value out of range.
func ParseConfig(raw []byte, base Config) (Config, error) {
	var file map[string]any
	if err := json.Unmarshal(raw, &file); err != nil {
		return Config{}, fmt.Errorf("policy config: %w", err)
	}
	cfg := base
	cfg.RequiredTags = slices.Clone(base.RequiredTags)
	cfg.Levels = maps.Clone(base.Levels)
	setLevel := func(name string, v any) error {
		s, _ := v.(string)
		level, ok := map[string]policyx.EnforcementLevel{
			"advisory": advisory, "mandatory": mandatory, "disabled": policyx.EnforcementLevelDisabled,
		}[s]
		if !ok {
			return fmt.Errorf("policy config: %s: enforcement level %v: must be advisory, mandatory or disabled", name, v)
		}
		if cfg.Levels == nil {
			cfg.Levels = map[string]policyx.EnforcementLevel{}
		}
		cfg.Levels[name] = level
		return nil
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(file)) {
		value := file[name]
		if name == "all" {
			errs = append(errs, setLevel(name, value))
			continue
		}
		if !slices.Contains(policyNames(), name) {
			errs = append(errs, fmt.Errorf("policy config: %q: no such policy", name))
			continue
		}
		object, isObject := value.(map[string]any)
		if !isObject {
			errs = append(errs, setLevel(name, value))
			continue
		}
		var settings []setting
		for _, p := range resourcePolicies {
			if p.name == name {
				settings = p.settings
			}
		}
		for _, key := range slices.Sorted(maps.Keys(object)) {
			if key == "enforcementLevel" {
				errs = append(errs, setLevel(name, object[key]))
			} else if !slices.ContainsFunc(settings, func(s setting) bool { return s.key() == key }) {
				errs = append(errs, fmt.Errorf("policy config: %s: %q is not one of its settings", name, key))
			}
		}
		if next, err := cfg.with(settings, object); err != nil {
			errs = append(errs, fmt.Errorf("policy config: %s: %w", name, err))
		} else {
			cfg = next
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.validate()
}
