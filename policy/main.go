// Command policy serves the manga-assist-data CrossGuard policy pack to the
// Pulumi engine: `pulumi preview --policy-pack policy`.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/manga-assist/manga-assist-data/policy/pack"
)

func main() {
	if err := policyx.Main(newPolicyPack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// newPolicyPack builds the pack with the default thresholds; the engine's
// --policy-pack-config overrides them per policy.
func newPolicyPack(*pulumi.Context) (policyx.PolicyPack, error) {
	return pack.New(pack.DefaultConfig())
}
