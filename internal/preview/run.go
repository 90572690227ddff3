package preview

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Run runs program for stack under mocks, with config values keyed by full
// key as the Pulumi engine would pass them, and returns what it registered.
// region places the mocked ARNs.
func Run(program pulumi.RunFunc, project, stack, region string, config map[string]string) (Result, error) {
	mocks := NewMocks(region)
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
		Project: project,
		Stack:   stack,
		Config:  config,
		DryRun:  true,
		Mocks:   mocks,
	})
	if err != nil {
		return Result{}, err
	}
	defer ctx.Close()
	if err := pulumi.RunWithContext(ctx, program); err != nil {
		return Result{}, unwrap(err)
	}
	return Result{
		Project:    project,
		Stack:      stack,
		Region:     region,
		Resources:  order(mocks.Resources()),
		Violations: []Violation{},
	}, nil
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
