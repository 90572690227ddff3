package pack

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvaluateIsSortedAndOrderIndependent(t *testing.T) {
	lake := newBucketSet("lake")
	stack := append(lake.without(typeS3BucketVersioning, typeS3BucketPolicy),
		res(typeDynamoDBTable, "sessions", nil),
		res(typeEventSourceMapping, "router", map[string]any{"eventSourceArn": kinesisARN, "functionName": "router"}),
		Resource{URN: urnOf(typeSQSQueue, "dlq"), Type: typeSQSQueue, Name: "dlq"},
	)
	want, err := Evaluate(stack, DefaultConfig())
	require.NoError(t, err)
	require.NotEmpty(t, want)
	assert.True(t, slices.IsSortedFunc(want, func(a, b Violation) int {
		if a.URN != b.URN {
			return strings.Compare(a.URN, b.URN)
		}
		if a.Policy != b.Policy {
			return strings.Compare(a.Policy, b.Policy)
		}
		return strings.Compare(a.Message, b.Message)
	}))
	levels := map[string]bool{}
	for _, v := range want {
		levels[v.EnforcementLevel] = true
	}
	assert.Equal(t, map[string]bool{"mandatory": true, "advisory": true}, levels)

	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(stack)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Evaluate(shuffled, DefaultConfig())
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func TestEvaluateNothing(t *testing.T) {
	got, err := Evaluate(nil, DefaultConfig())
	require.NoError(t, err)
	assert.NotNil(t, got, "an empty list, not null, in the preview's JSON")
	assert.Empty(t, got)
}
