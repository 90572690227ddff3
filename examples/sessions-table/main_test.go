package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func TestExampleCreatesItsOwnTable(t *testing.T) {
	result, err := preview.Run(program, "shop-sessions", "staging", "eu-west-1", nil)
	require.NoError(t, err)
	tables := result.Find("aws:dynamodb/table:Table")
	require.Len(t, tables, 1)
	in := tables[0].Inputs
	assert.Equal(t, "shop-sessions-staging", in["name"])
	assert.Equal(t, map[string]any{"attributeName": "expires_at", "enabled": true}, in["ttl"])
	assert.Equal(t, map[string]any{"component": "SessionsTable", "environment": "staging", "project": "shop"}, in["tags"])
	assert.Regexp(t, `^arn:aws:kms:eu-west-1:`, in["serverSideEncryption"].(map[string]any)["kmsKeyArn"])
	assert.Len(t, result.Find("aws:kms/key:Key"), 1, "no key configured: the component makes one")
}

func TestExampleUsesAGivenKey(t *testing.T) {
	const arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	result, err := preview.Run(program, "shop-sessions", "staging", "eu-west-1",
		map[string]string{"shop-sessions:kmsKeyArn": arn})
	require.NoError(t, err)
	assert.Empty(t, result.Find("aws:kms/key:Key"))
	in := result.Find("aws:dynamodb/table:Table")[0].Inputs
	assert.Equal(t, arn, in["serverSideEncryption"].(map[string]any)["kmsKeyArn"])
}
