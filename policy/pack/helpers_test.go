package pack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unknown is a value computed at deploy time, as a preview sees it.
var unknown = property.New(property.Computed)

// val builds a property value from a Go literal: maps, lists, strings,
// numbers, bools, nil, or a property.Value as is.
func val(v any) property.Value {
	switch v := v.(type) {
	case property.Value:
		return v
	case map[string]any:
		m := map[string]property.Value{}
		for k, e := range v {
			m[k] = val(e)
		}
		return property.New(property.NewMap(m))
	case []any:
		var a []property.Value
		for _, e := range v {
			a = append(a, val(e))
		}
		return property.New(property.NewArray(a))
	case []string:
		var a []property.Value
		for _, e := range v {
			a = append(a, property.New(e))
		}
		return property.New(property.NewArray(a))
	case string:
		return property.New(v)
	case int:
		return property.New(float64(v))
	case float64:
		return property.New(v)
	case bool:
		return property.New(v)
	case nil:
		return property.Value{}
	}
	panic(fmt.Sprintf("val: unsupported %T", v))
}

func urnOf(typ, name string) string {
	return "urn:pulumi:dev::manga-assist-data::" + typ + "::" + name
}

// res is a resource with every required tag unless props sets tags.
func res(typ, name string, props map[string]any) Resource {
	withTags := map[string]any{"tags": map[string]any{"project": "p", "environment": "dev", "component": "c"}}
	for k, v := range props {
		withTags[k] = v
	}
	return Resource{URN: urnOf(typ, name), Type: typ, Name: name, Properties: val(withTags).AsMap()}
}

// dependsOn records that property prop of r takes its value from others.
func dependsOn(r Resource, prop string, others ...Resource) Resource {
	if r.PropertyDependencies == nil {
		r.PropertyDependencies = map[string][]string{}
	}
	for _, o := range others {
		r.PropertyDependencies[prop] = append(r.PropertyDependencies[prop], o.URN)
		r.Dependencies = append(r.Dependencies, o.URN)
	}
	return r
}

// violationsOf evaluates resources with the default config and keeps the
// violations of one policy.
func violationsOf(t *testing.T, policy string, resources ...Resource) []Violation {
	t.Helper()
	return violationsWith(t, DefaultConfig(), policy, resources...)
}

func violationsWith(t *testing.T, cfg Config, policy string, resources ...Resource) []Violation {
	t.Helper()
	all, err := Evaluate(resources, cfg)
	require.NoError(t, err)
	var out []Violation
	for _, v := range all {
		if v.Policy == policy {
			out = append(out, v)
		}
	}
	return out
}

// policyCase is one scenario for one policy: want lists, per expected
// violation, the URN it is against and a fragment of its message.
type policyCase struct {
	name      string
	resources []Resource
	want      []expected
}

type expected struct{ urn, fragment string }

func runCases(t *testing.T, policy, level string, cases []policyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := violationsOf(t, policy, c.resources...)
			require.Len(t, got, len(c.want), "violations: %+v", got)
			for _, w := range c.want {
				assert.True(t, containsViolation(got, w), "want a violation on %s mentioning %q, got %+v",
					w.urn, w.fragment, got)
			}
			for _, v := range got {
				assert.Equal(t, policy, v.Policy)
				assert.Equal(t, level, v.EnforcementLevel)
			}
		})
	}
}

func containsViolation(got []Violation, w expected) bool {
	for _, v := range got {
		if v.URN == w.urn && strings.Contains(v.Message, w.fragment) {
			return true
		}
	}
	return false
}
