package lifecycle

import (
	"errors"
	"fmt"
	"strings"
)

// Validate reports every problem of the policy at once; each names the field
// (Tiers[i], its prefix, the transition) and the value.
func (p Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	for i, t := range p.Tiers {
		field := fmt.Sprintf("Tiers[%d] (prefix %q)", i, t.Prefix)
		errs = append(errs, t.validate(field)...)
		for j, other := range p.Tiers[:i] {
			switch {
			case other.Prefix == t.Prefix:
				bad("%s: duplicates the prefix of Tiers[%d]", field, j)
			case strings.HasPrefix(t.Prefix, other.Prefix) || strings.HasPrefix(other.Prefix, t.Prefix):
				bad("%s: overlaps Tiers[%d] (prefix %q): objects under both would get two conflicting rules", field, j, other.Prefix)
			}
		}
	}
	if p.Versioned && p.NoncurrentExpireDays < 1 {
		bad("NoncurrentExpireDays %d: a versioned bucket must expire noncurrent versions after 1 day or more", p.NoncurrentExpireDays)
	}
	if !p.Versioned && p.NoncurrentExpireDays != 0 {
		bad("NoncurrentExpireDays %d: the bucket is not versioned", p.NoncurrentExpireDays)
	}
	if p.AbortMultipartDays < 1 {
		bad("AbortMultipartDays %d: incomplete multipart uploads must be aborted after 1 day or more", p.AbortMultipartDays)
	}
	if p.MinimumObjectSize != AllClasses128K && p.MinimumObjectSize != VariesByClass {
		bad("MinimumObjectSize %q: must be %q or %q", p.MinimumObjectSize, AllClasses128K, VariesByClass)
	}
	return errors.Join(errs...)
}

func (t Tier) validate(field string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.HasPrefix(t.Prefix, "/") {
		bad("%s: a key prefix does not start with '/'", field)
	}
	if len(t.Transitions) == 0 && t.ExpireDays == 0 {
		bad("%s: has neither transitions nor expiry, so it does nothing", field)
	}
	if t.ExpireDays < 0 {
		bad("%s: ExpireDays %d: must be 0 (never) or more", field, t.ExpireDays)
	}

	// Walk the objects' life: where they are, since when.
	current, since, prevRank := StorageClass("STANDARD"), 0, -1
	currentMin := 0
	for j, tr := range t.Transitions {
		tf := fmt.Sprintf("%s.Transitions[%d] %s at day %d", field, j, tr.Class, tr.Days)
		rank, minDays, minAge, ok := classInfo(tr.Class)
		switch {
		case !ok:
			bad("%s: unknown storage class; use one of %s", tf, classList())
			continue
		case tr.Days < 0:
			bad("%s: days must be 0 or more", tf)
		case j > 0 && tr.Days <= since:
			bad("%s: transitions must be in increasing day order (previous at day %d)", tf, since)
		case rank <= prevRank:
			bad("%s: S3 only moves objects down the tiers %s; this comes after %s", tf, classList(), current)
		case tr.Days < minAge:
			bad("%s: S3 moves objects to %s no earlier than day %d", tf, tr.Class, minAge)
		case j > 0 && tr.Days-since < currentMin:
			bad("%s: objects must stay in %s at least %d days (until day %d)", tf, current, currentMin, since+currentMin)
		}
		current, since, prevRank, currentMin = tr.Class, tr.Days, rank, minDays
	}
	if t.ExpireDays > 0 && len(t.Transitions) > 0 {
		switch {
		case t.ExpireDays <= since:
			bad("%s: ExpireDays %d: expiry must come after the last transition (day %d)", field, t.ExpireDays, since)
		case t.ExpireDays-since < currentMin:
			bad("%s: ExpireDays %d: objects must stay in %s at least %d days before expiry (until day %d)",
				field, t.ExpireDays, current, currentMin, since+currentMin)
		}
	}
	return errs
}

func classList() string {
	names := make([]string, len(classes))
	for i, c := range classes {
		names[i] = string(c.class)
	}
	return strings.Join(names, " > ")
}
