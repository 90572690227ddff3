package pack

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Resource is a resource as the offline preview registered it.
type Resource struct {
	URN, Type, Name, Parent string
	// Properties are the resource's inputs; unknown ones are computed values.
	Properties property.Map
	// PropertyDependencies maps a property name to the URNs of the resources
	// its value comes from. Stack policies link resources through it.
	PropertyDependencies map[string][]string
	Dependencies         []string
	// Provider is the provider the resource is created with, as the engine
	// hands it to every policy: an explicit provider resource, or the
	// default provider of the resource's package, whose inputs are the
	// stack's settings of that package (aws:region, aws:defaultTags, ...).
	// Policies read it: required-tags counts its defaultTags.
	Provider Provider
}

// Provider is a provider resource as the engine describes it to policies.
type Provider struct {
	URN, Type, Name string
	Properties      property.Map
}

// Violation is one policy verdict against one resource.
type Violation struct {
	Policy string
	URN    string
	// EnforcementLevel is "mandatory" or "advisory".
	EnforcementLevel string
	// Message names the property at fault. Over gRPC, policyx prefixes it
	// with the policy's description and a newline.
	Message string
}

// Evaluate runs every resource policy on each resource and every stack policy
// on all of them, exactly as the gRPC analyzer would with cfg as the
// policy-pack config. Violations are sorted by URN, policy and message.
func Evaluate(resources []Resource, cfg Config) ([]Violation, error) {
	pp, err := New(cfg)
	if err != nil {
		return nil, err
	}
	analyzed := make([]policyx.AnalyzerResource, len(resources))
	for i, r := range resources {
		analyzed[i] = policyx.AnalyzerResource{
			Type:                 r.Type,
			Properties:           r.Properties,
			URN:                  r.URN,
			Name:                 r.Name,
			Parent:               r.Parent,
			Dependencies:         r.Dependencies,
			PropertyDependencies: r.PropertyDependencies,
			Provider: policyx.AnalyzerProviderResource{
				Type: r.Provider.Type, Properties: r.Provider.Properties, URN: r.Provider.URN, Name: r.Provider.Name,
			},
		}
	}

	ctx := context.Background()
	violations := []Violation{}
	for _, p := range pp.Policies() {
		level, enabled := levelName(p.EnforcementLevel())
		if !enabled {
			continue
		}
		collect := func(defaultURN string) *collector {
			return &collector{policy: p.Name(), level: level, defaultURN: defaultURN, into: &violations}
		}
		switch p := p.(type) {
		case policyx.ResourceValidationPolicy:
			for _, r := range analyzed {
				args := policyx.ResourceValidationArgs{Manager: collect(r.URN), Resource: r}
				if err := p.Validate(ctx, args); err != nil {
					return nil, err
				}
			}
		case policyx.StackValidationPolicy:
			if err := p.Validate(ctx, policyx.StackValidationArgs{Manager: collect(""), Resources: analyzed}); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.URN, b.URN), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Message, b.Message))
	})
	return violations, nil
}

// collector is the policyx.PolicyManager of an offline evaluation.
type collector struct {
	policy, level, defaultURN string
	into                      *[]Violation
}

func (c *collector) ReportViolation(message, urn string) {
	if urn == "" {
		urn = c.defaultURN // as policyx's Analyze does
	}
	*c.into = append(*c.into, Violation{Policy: c.policy, URN: urn, EnforcementLevel: c.level, Message: message})
}

func levelName(l policyx.EnforcementLevel) (name string, enabled bool) {
	switch l {
	case policyx.EnforcementLevelMandatory:
		return "mandatory", true
	case policyx.EnforcementLevelAdvisory:
		return "advisory", true
	case policyx.EnforcementLevelDisabled:
		return "disabled", false
	default:
		return fmt.Sprintf("level %d", l), false
	}
}
