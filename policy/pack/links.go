package pack

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Stack policies relate resources (a bucket and its versioning, a stream
// consumer and its alarm) by what one resource's property refers to. The
// property dependencies the engine records name the referenced resource even
// while its ID is unknown in a preview; a known name or ID is the fallback
// for references that bypass them.

type link int

const (
	unlinked link = iota
	linked
	maybeLinked // the reference is unknown and carries no dependencies: cannot tell yet
)

// target is what a reference may point at: a resource by URN, or its name or
// ID as plain values.
type target struct {
	urns []string
	ids  []property.Value
}

// identityUnknown tells whether the target's name is not known yet: one of
// its ids is unknown, or none is set (a name the provider will generate).
// Only such a target can be what an untraceable reference points at; one
// with a known name would be found by it.
func (t target) identityUnknown() bool {
	known := false
	for _, id := range t.ids {
		if id.IsComputed() {
			return true
		}
		if s, ok := stringOf(id); ok && s != "" {
			known = true
		}
	}
	return !known
}

// linkOf says whether v, the value of (or inside) top-level property prop of
// from, refers to t.
func (t target) linkOf(from policyx.AnalyzerResource, prop string, v property.Value) link {
	deps := slices.Clone(from.PropertyDependencies[prop])
	for _, d := range v.Dependencies() {
		deps = append(deps, string(d))
	}
	for _, d := range deps {
		if slices.Contains(t.urns, d) {
			return linked
		}
	}
	if v.IsComputed() {
		if len(deps) == 0 && t.identityUnknown() {
			return maybeLinked
		}
		return unlinked
	}
	s, ok := stringOf(v)
	if !ok || s == "" {
		return unlinked
	}
	someIDUnknown := false
	for _, id := range t.ids {
		if id.IsComputed() {
			someIDUnknown = true
		} else if idString, ok := stringOf(id); ok && idString == s {
			return linked
		}
	}
	if someIDUnknown && len(deps) == 0 {
		return maybeLinked
	}
	return unlinked
}

// referrers returns the resources of type typ whose property prop refers to
// t, and whether some other resource of that type may refer to it once its
// unknown values are known.
func (t target) referrers(
	resources []policyx.AnalyzerResource, typ, prop string,
) (found []policyx.AnalyzerResource, undetermined bool) {
	for _, r := range resources {
		if r.Type != typ {
			continue
		}
		switch t.linkOf(r, prop, at(r.Properties, prop)) {
		case linked:
			found = append(found, r)
		case maybeLinked:
			undetermined = true
		}
	}
	return found, undetermined
}

func ofType(resources []policyx.AnalyzerResource, types ...string) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, r := range resources {
		if slices.Contains(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}
