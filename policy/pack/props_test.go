package pack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "arn:aws:kms:us-east-1:1:key/k", true},
		{"arn:aws:kms:*:*:key/*", everyKeyProbe, true},
		{"arn:aws:kms:us-east-1:123456789012:key/*", everyKeyProbe, false},
		{"lake*/*", "lake/a/b", true},
		{"lake/*", "lake", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObjects", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	} {
		assert.Equal(t, c.want, globMatch(c.pattern, c.s), "%q ~ %q", c.pattern, c.s)
	}
	assert.True(t, globMatchFold(" KMS:De* ", "kms:Decrypt"), "actions match without regard to case")
	// Many stars against a long miss stay fast: no exponential backtracking.
	assert.False(t, globMatch(strings.Repeat("*a", 40)+"b", strings.Repeat("a", 4000)))
}
