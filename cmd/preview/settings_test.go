package main

import (
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// The program refuses every bad setting before it registers a single
// resource: a `pulumi up` with a bad value creates nothing, rather than a
// table and then an error.
func TestBadSettingsAreRefusedBeforeAnyResource(t *testing.T) {
	for _, d := range stackconfig.Declared {
		bad := append([]string(nil), d.Invalid...)
		if d.Type == "integer" && d.Max > 0 {
			bad = append(bad, strconv.Itoa(d.Max+1))
		}
		for _, v := range bad {
			key := stackconfig.FullKey(d.Key)
			mocks := preview.NewMocks("us-east-1")
			err := pulumi.RunErr(program.Run, pulumi.WithMocks(stackconfig.Project, "dev", mocks), func(info *pulumi.RunInfo) {
				info.Config = map[string]string{stackconfig.RegionKey: "us-east-1", key: v}
				if d.Secret {
					info.ConfigSecretKeys = []string{key}
				}
			})
			require.Error(t, err, "%s = %q", key, v)
			assert.Contains(t, err.Error(), key)
			for _, r := range mocks.Resources() {
				assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "%s = %q: %s %s registered before the refusal", key, v, r.Type, r.Name)
			}
		}
	}
}
