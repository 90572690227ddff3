package preview

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/policy/pack"
)

// Run runs program for stack under mocks, with config values keyed by full
// key as the Pulumi engine would pass them, and returns what it registered.
// region places the mocked ARNs; secretKeys are the keys whose values the
// stack holds encrypted. The policy pack runs with its default config.
func Run(program pulumi.RunFunc, project, stack, region string, config map[string]string, secretKeys ...string) (Result, error) {
	return RunWithPolicy(pack.DefaultConfig(), program, project, stack, region, config, secretKeys...)
}

// RunWithPolicy is Run with the policy pack configured by policy, as
// `pulumi preview --policy-pack-config` configures it.
func RunWithPolicy(
	policy pack.Config, program pulumi.RunFunc, project, stack, region string, config map[string]string, secretKeys ...string,
) (Result, error) {
	mocks := NewMocks(region)
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
		Project:          project,
		Stack:            stack,
		Config:           config,
		ConfigSecretKeys: secretKeys,
		DryRun:           true,
		Mocks:            mocks,
	})
	if err != nil {
		return Result{}, err
	}
	defer ctx.Close()
	if err := pulumi.RunWithContext(ctx, program); err != nil {
		return Result{}, unwrap(err)
	}
	result := Result{Project: project, Stack: stack, Region: region, Resources: order(mocks.Resources())}
	defaults := defaultProviders(project, stack, config, secretKeys)
	result.Violations, err = evaluate(result.Resources, defaults, policy)
	return result, err
}

// evaluate runs the policy pack, configured by cfg, over the resources: the
// same policies `pulumi preview --policy-pack policy` runs. Each resource
// gets its provider as the engine hands it to policies: its explicit
// provider resource, or its package's default provider.
func evaluate(resources []Resource, defaults map[string]pack.Provider, cfg pack.Config) ([]Violation, error) {
	explicit := map[string]pack.Provider{}
	for _, r := range resources {
		if strings.HasPrefix(r.Type, "pulumi:providers:") {
			explicit[r.URN] = pack.Provider{URN: r.URN, Type: r.Type, Name: r.Name, Properties: r.Properties}
		}
	}
	in := make([]pack.Resource, 0, len(resources))
	for _, r := range resources {
		var provider pack.Provider
		switch {
		case r.Provider != "": // "<urn>::<id>"
			provider = explicit[r.Provider[:max(strings.LastIndex(r.Provider, "::"), 0)]]
		case r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:"):
			pkg, _, _ := strings.Cut(r.Type, ":")
			provider = defaults[pkg]
			if provider.Type == "" { // a package the stack does not configure
				provider = pack.Provider{Type: "pulumi:providers:" + pkg, Name: "default", Properties: property.NewMap(nil)}
			}
		}
		in = append(in, pack.Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent,
			Properties: r.Properties, PropertyDependencies: r.PropertyDependencies, Dependencies: r.Dependencies,
			Provider: provider,
		})
	}
	verdicts, err := pack.Evaluate(in, cfg)
	if err != nil {
		return nil, fmt.Errorf("policy pack: %w", err)
	}
	out := make([]Violation, len(verdicts))
	for i, v := range verdicts {
		out[i] = Violation(v)
	}
	return out, nil
}

// defaultProviders are the default provider of each package the stack's
// config configures, as the engine creates them: named "default", with the
// package's settings ("aws:region" -> region) as inputs, strings as the
// config holds them (objects as JSON).
func defaultProviders(project, stack string, config map[string]string, secretKeys []string) map[string]pack.Provider {
	inputs := map[string]map[string]property.Value{}
	for key, value := range config {
		pkg, name, ok := strings.Cut(key, ":")
		if !ok || pkg == project {
			continue
		}
		if inputs[pkg] == nil {
			inputs[pkg] = map[string]property.Value{}
		}
		v := property.New(value)
		if slices.Contains(secretKeys, key) {
			v = v.WithSecret(true)
		}
		inputs[pkg][name] = v
	}
	out := map[string]pack.Provider{}
	for pkg, props := range inputs {
		typ := "pulumi:providers:" + pkg
		out[pkg] = pack.Provider{
			URN:  string(resource.NewURN(tokens.QName(stack), tokens.PackageName(project), "", tokens.Type(typ), "default")),
			Type: typ, Name: "default", Properties: property.NewMap(props),
		}
	}
	return out
}

// unwrap returns the program's own errors without the SDK's multierror
// decoration ("1 error occurred: * ..."), so the user reads just the message.
func unwrap(err error) error {
	var wrapped interface{ WrappedErrors() []error }
	if errors.As(err, &wrapped) {
		return errors.Join(wrapped.WrappedErrors()...)
	}
	return err
}
