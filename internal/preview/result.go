// Package preview runs the real Pulumi program for a stack under mocks, with
// that stack's configuration and no cloud account, and reports what it would
// create: a resource tree, a JSON document, or a Mermaid flowchart.
package preview

import (
	"path"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// Resource is one resource the program registered.
type Resource struct {
	URN    string         `json:"urn"`
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Parent string         `json:"parent"`
	Inputs map[string]any `json:"inputs"`

	Custom bool   `json:"-"` // false for component resources
	ID     string `json:"-"` // the physical id the mocks gave it
	// Provider is the explicit provider ("<urn>::<id>"), if any.
	Provider string `json:"-"`
	// IgnoreChanges are the inputs Pulumi leaves alone on updates.
	IgnoreChanges []string `json:"-"`
	Protect       bool     `json:"-"` // Pulumi refuses to delete it
	Dependencies  []string `json:"-"` // URNs of resources whose outputs it uses

	// For the policy pack: the inputs as the engine would send them, and the
	// resources each input's value comes from.
	Properties           property.Map        `json:"-"`
	PropertyDependencies map[string][]string `json:"-"`
}

// Violation is a verdict of the policy pack against a resource.
type Violation struct {
	Policy           string `json:"policy"`
	URN              string `json:"urn"`
	EnforcementLevel string `json:"enforcementLevel"` // "mandatory" or "advisory"
	Message          string `json:"message"`
}

// Mandatory returns the violations that must block a deployment.
func (r Result) Mandatory() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.EnforcementLevel == "mandatory" {
			out = append(out, v)
		}
	}
	return out
}

// Result is what a preview of one stack found.
type Result struct {
	Project    string      `json:"-"`
	Stack      string      `json:"stack"`
	Region     string      `json:"-"`
	Resources  []Resource  `json:"resources"`
	Violations []Violation `json:"violations"`
	// Planned is what the settings ask for, or could, that the program does
	// not create: components not built yet, parts a setting leaves off.
	Planned []string `json:"planned"`
}

// StackURN is the URN of the stack's root resource, the parent of every
// top-level resource.
func (r Result) StackURN() string {
	return string(resource.NewURN(tokens.QName(r.Stack), tokens.PackageName(r.Project), "",
		resource.RootStackType, r.Project+"-"+r.Stack))
}

// RegionOf is the region a resource is created in: its explicit provider's,
// else the stack's.
func (r Result) RegionOf(res Resource) string {
	if res.Provider != "" {
		for _, p := range r.Resources {
			if p.Type == "pulumi:providers:aws" && strings.HasPrefix(res.Provider, p.URN+"::") {
				if reg, ok := p.Inputs["region"].(string); ok {
					return reg
				}
			}
		}
	}
	return r.Region
}

// Find returns the resources of type typ.
func (r Result) Find(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// childURN builds the URN of a resource the way the Pulumi engine does: the
// stack and project come from its parent, and so does the type prefix unless
// the parent is the stack itself.
func childURN(parent, typ, name string) string {
	p := resource.URN(parent)
	parentType := tokens.Type("")
	if p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(p.Stack(), p.Project(), parentType, tokens.Type(typ), name))
}

// order sorts resources so that each comes after its parent and after
// everything it depends on (a component after everything its children
// depend on outside it), breaking ties by type and name: the same program
// always prints the same way, whatever order its goroutines registered in.
func order(resources []Resource) []Resource {
	parent := map[string]string{}
	for _, r := range resources {
		parent[r.URN] = r.Parent
	}
	within := func(urn, ancestor string) bool {
		for ; urn != ""; urn = parent[urn] {
			if urn == ancestor {
				return true
			}
		}
		return false
	}
	// needs[u]: what must be placed before u.
	needs := map[string][]string{}
	for _, r := range resources {
		needs[r.URN] = append(needs[r.URN], r.Parent)
		for _, d := range r.Dependencies {
			for a := r.URN; a != ""; a = parent[a] {
				if within(d, a) {
					break
				}
				needs[a] = append(needs[a], d)
			}
		}
	}

	placed := map[string]bool{}
	var out []Resource
	for len(out) < len(resources) {
		var ready []Resource
		for _, r := range resources {
			if placed[r.URN] {
				continue
			}
			blocked := slices.ContainsFunc(needs[r.URN], func(d string) bool {
				_, known := parent[d]
				return known && !placed[d]
			})
			if !blocked {
				ready = append(ready, r)
			}
		}
		if len(ready) == 0 { // a cycle cannot happen in Pulumi; keep whatever is left rather than loop
			for _, r := range resources {
				if !placed[r.URN] {
					ready = append(ready, r)
				}
			}
		}
		next := slices.MinFunc(ready, func(a, b Resource) int {
			return strings.Compare(a.Type+" "+a.Name, b.Type+" "+b.Name)
		})
		// Place one at a time so a resource freed by it can still come next.
		out = append(out, next)
		placed[next.URN] = true
	}
	return out
}

// plainMap turns resource properties into plain Go values for printing and
// JSON; secrets are masked and unknown values marked.
func plainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = plain(v)
	}
	return out
}

func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return "[secret]"
	case v.IsComputed() || v.IsOutput() && !v.OutputValue().Known:
		return "(known after deploy)"
	case v.IsOutput():
		return plain(v.OutputValue().Element)
	case v.IsObject():
		return plainMap(v.ObjectValue())
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plain(e)
		}
		return out
	case v.IsNull():
		return nil
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsArchive():
		// Not the path: it is this machine's build cache.
		a := v.ArchiveValue()
		if a.Hash != "" {
			return "archive sha256:" + a.Hash
		}
		return "archive " + path.Base(a.Path)
	case v.IsAsset():
		return "asset sha256:" + v.AssetValue().Hash
	default:
		return v.V
	}
}
