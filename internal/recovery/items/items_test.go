package items_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
)

func TestRoundTripEveryType(t *testing.T) {
	it := exporttest.AllTypes("a", "TURN#1")
	b, err := items.Encode(it)
	require.NoError(t, err)
	back, err := items.Decode(b)
	require.NoError(t, err)
	assert.True(t, items.Equal(it, back), "%s", b)
	for _, typ := range []string{`"S":`, `"N":`, `"B":`, `"BOOL":`, `"NULL":`, `"SS":`, `"NS":`, `"BS":`, `"L":`, `"M":`} {
		assert.Contains(t, string(b), typ)
	}
}

func TestEqual(t *testing.T) {
	a := exporttest.AllTypes("a", "TURN#1")
	assert.True(t, items.Equal(a, exporttest.With(a, "tags", &types.AttributeValueMemberSS{Value: []string{"shipping", "manga"}})), "sets compare as sets")
	assert.False(t, items.Equal(a, exporttest.With(a, "products", &types.AttributeValueMemberL{})), "lists compare in order")
	assert.False(t, items.Equal(a, exporttest.With(a, "token_count", &types.AttributeValueMemberS{Value: "42"})), "types matter")
	assert.False(t, items.Equal(a, exporttest.With(a, "extra", &types.AttributeValueMemberBOOL{})))
}
