// Package lifecycle turns a declarative list of prefix tiers into S3
// lifecycle rules, and refuses tiers that S3 would reject or bill badly:
// transitions out of order, storage classes left before their minimum
// storage duration, expiry before the last transition, overlapping prefixes.
//
// It knows nothing of Pulumi or the AWS SDK: the DataLifecycle component turns
// its Rules into a BucketLifecycleConfigurationV2, whose rules a components
// test sends through the S3 API of the emulator and reads back.
package lifecycle

import "strings"

// StorageClass is an S3 storage class a transition may target.
type StorageClass string

const (
	StandardIA         StorageClass = "STANDARD_IA"
	IntelligentTiering StorageClass = "INTELLIGENT_TIERING"
	OneZoneIA          StorageClass = "ONEZONE_IA"
	GlacierIR          StorageClass = "GLACIER_IR"
	Glacier            StorageClass = "GLACIER"
	DeepArchive        StorageClass = "DEEP_ARCHIVE"
)

// classes lists the storage classes in S3's transition waterfall order: a
// lifecycle rule may only move objects down this list. minDays is the
// minimum storage duration S3 bills for; minAge is the youngest an object may
// be when it moves there.
var classes = []struct {
	class           StorageClass
	minDays, minAge int
}{
	{StandardIA, 30, 30},
	{IntelligentTiering, 0, 0},
	{OneZoneIA, 30, 30},
	{GlacierIR, 90, 0},
	{Glacier, 90, 0},
	{DeepArchive, 180, 0},
}

func classInfo(c StorageClass) (rank, minDays, minAge int, ok bool) {
	for i, info := range classes {
		if info.class == c {
			return i, info.minDays, info.minAge, true
		}
	}
	return 0, 0, 0, false
}

// MinimumObjectSize is S3's rule for objects too small to transition.
type MinimumObjectSize string

const (
	// Objects under 128 KB never transition. Each transitioned object costs a
	// request and, in the Glacier classes, 32-40 KB of billed metadata, so
	// moving small objects costs more than it saves. S3's default since 2024.
	AllClasses128K MinimumObjectSize = "all_storage_classes_128K"
	// The pre-2024 behaviour: only the Glacier classes skip objects under 128 KB.
	VariesByClass MinimumObjectSize = "varies_by_storage_class"
)

// DefaultMinimumObjectSize keeps objects under 128 KB out of every
// transition. Firehose writes 64 MB Parquet files and exports write large gz
// files, so only stray small objects are affected, and those are cheaper left
// where they are.
const DefaultMinimumObjectSize = AllClasses128K

// Transition moves objects to Class once they are Days old.
type Transition struct {
	Days  int
	Class StorageClass
}

// Tier is how the objects under one prefix age: their transitions in day
// order, then their expiry (0: kept forever).
type Tier struct {
	Prefix      string
	Transitions []Transition
	ExpireDays  int
}

// Policy is everything the lifecycle configuration of one bucket says.
type Policy struct {
	Tiers []Tier
	// Versioned buckets also need their noncurrent versions expired and the
	// delete markers left behind removed, or deleted data is kept (and
	// billed) forever.
	Versioned            bool
	NoncurrentExpireDays int
	AbortMultipartDays   int
	MinimumObjectSize    MinimumObjectSize
}

// Rule is one S3 lifecycle rule, always enabled.
type Rule struct {
	ID                   string
	Prefix               string
	Transitions          []Transition
	ExpireDays           int
	ExpiredDeleteMarker  bool
	NoncurrentExpireDays int
	AbortMultipartDays   int
}

// Rules returns the lifecycle rules of a valid policy: one per tier, then the
// bucket-wide noncurrent-version, delete-marker and multipart rules.
func (p Policy) Rules() []Rule {
	var rules []Rule
	for _, t := range p.Tiers {
		rules = append(rules, Rule{
			ID:          "tier-" + ruleName(t.Prefix),
			Prefix:      t.Prefix,
			Transitions: append([]Transition(nil), t.Transitions...),
			ExpireDays:  t.ExpireDays,
		})
	}
	if p.Versioned {
		rules = append(rules,
			Rule{ID: "noncurrent-versions", NoncurrentExpireDays: p.NoncurrentExpireDays},
			// S3 refuses ExpiredObjectDeleteMarker beside Days in one rule,
			// so the markers get a rule of their own.
			Rule{ID: "expired-delete-markers", ExpiredDeleteMarker: true},
		)
	}
	if p.AbortMultipartDays > 0 {
		rules = append(rules, Rule{ID: "abort-incomplete-multipart", AbortMultipartDays: p.AbortMultipartDays})
	}
	return rules
}

// ruleName makes a rule id from a prefix: "raw/" -> "raw", "" -> "all".
func ruleName(prefix string) string {
	name := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, prefix), "-")
	if name == "" {
		return "all"
	}
	return name
}
