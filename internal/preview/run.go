package preview

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/policy/pack"
)

// Run runs program for stack under mocks, with config values keyed by full
// key as the Pulumi engine would pass them, and returns what it registered.
// region places the mocked ARNs; secretKeys are the keys whose values the
// stack holds encrypted.
func Run(program pulumi.RunFunc, project, stack, region string, config map[string]string, secretKeys ...string) (Result, error) {
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
	result.Violations, err = evaluate(result.Resources)
	return result, err
}

// evaluate runs the policy pack, with its default configuration, over the
// resources: the same policies `pulumi preview --policy-pack policy` runs.
func evaluate(resources []Resource) ([]Violation, error) {
	in := make([]pack.Resource, 0, len(resources))
	for _, r := range resources {
		in = append(in, pack.Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent,
			Properties: r.Properties, PropertyDependencies: r.PropertyDependencies, Dependencies: r.Dependencies,
		})
	}
	verdicts, err := pack.Evaluate(in, pack.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("policy pack: %w", err)
	}
	out := make([]Violation, len(verdicts))
	for i, v := range verdicts {
		out[i] = Violation(v)
	}
	return out, nil
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
