package pack

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compliantStack is one of everything the pack checks, all compliant.
func compliantStack() []Resource {
	lake := newBucketSet("lake")
	function := res("aws:lambda/function:Function", "router", map[string]any{"name": "router-1a2b"})
	trigger := dependsOn(safeTrigger("router-trigger", nil), "functionName", function)
	alarm := dependsOn(res(typeMetricAlarm, "router-age", map[string]any{
		"metricName": "IteratorAge", "namespace": "AWS/Lambda", "statistic": "Maximum",
		"dimensions": map[string]any{"FunctionName": "router-1a2b"},
	}), "dimensions", function)
	const scoped = `{"Statement":[{"Effect":"Allow","Action":["kinesis:PutRecords"],"Resource":"*"}]}`
	return append(lake.all(),
		res(typeDynamoDBTable, "sessions", map[string]any{
			"pointInTimeRecovery":       map[string]any{"enabled": true},
			"serverSideEncryption":      map[string]any{"enabled": true},
			"deletionProtectionEnabled": true,
			"replicas":                  []any{map[string]any{"regionName": "us-west-2", "pointInTimeRecovery": true}},
		}),
		res(typeDynamoDBTableReplica, "west", map[string]any{"pointInTimeRecovery": true, "deletionProtectionEnabled": true}),
		res(typeKinesisStream, "events", map[string]any{"encryptionType": "KMS", "retentionPeriod": 48}),
		res(typeSQSQueue, "dlq", map[string]any{"kmsMasterKeyId": "alias/aws/sqs"}),
		res(typeSNSTopic, "alarms", map[string]any{"kmsMasterKeyId": "alias/aws/sns"}),
		function, trigger, alarm,
		lakeStream("lake", nil),
		res(typeIAMPolicy, "writer", map[string]any{"policy": scoped}),
		res(typeIAMRole, "router", map[string]any{
			"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`,
			"inlinePolicies":   []any{map[string]any{"name": "write", "policy": scoped}},
		}),
	)
}

// variants returns v with exactly one of its values (v itself, or anything
// nested in it) replaced by replacement, in every possible way.
func variants(v, replacement property.Value) []property.Value {
	out := []property.Value{replacement}
	switch {
	case v.IsMap():
		m := v.AsMap()
		for k, e := range m.AllStable {
			for _, ev := range variants(e, replacement) {
				out = append(out, property.New(m.Set(k, ev)))
			}
		}
	case v.IsArray():
		elems := v.AsArray().AsSlice()
		for i, e := range elems {
			for _, ev := range variants(e, replacement) {
				changed := slices.Clone(elems)
				changed[i] = ev
				out = append(out, property.New(property.NewArray(changed)))
			}
		}
	}
	return out
}

// eachVariant calls fn with stack changed by one value of one resource.
func eachVariant(stack []Resource, replacement property.Value, fn func(where string, changed []Resource)) {
	for i, r := range stack {
		for j, props := range variants(property.New(r.Properties), replacement)[1:] {
			changed := slices.Clone(stack)
			changed[i].Properties = props.AsMap()
			fn(fmt.Sprintf("%s variant %d", r.Name, j), changed)
		}
	}
}

// Whatever value a preview does not know yet, a compliant stack stays
// compliant: the policies never report what they cannot tell.
func TestUnknownValuesNeverViolate(t *testing.T) {
	stack := compliantStack()
	got, err := Evaluate(stack, DefaultConfig())
	require.NoError(t, err)
	require.Empty(t, got, "the baseline must be compliant")

	for _, replacement := range []property.Value{unknown, unknown.WithSecret(true)} {
		eachVariant(stack, replacement, func(where string, changed []Resource) {
			got, err := Evaluate(changed, DefaultConfig())
			assert.NoError(t, err, where)
			assert.Empty(t, got, where)
		})
	}
}

// Values of unexpected shapes make violations, never panics or errors.
func TestUnexpectedShapesDoNotPanic(t *testing.T) {
	stack := compliantStack()
	for _, replacement := range []any{
		nil, "x", "", -1, 1.5, true, []any{}, map[string]any{}, []any{unknown}, map[string]any{"x": unknown},
		property.New("x").WithSecret(true), property.New(property.Computed).WithSecret(true),
	} {
		eachVariant(stack, val(replacement), func(where string, changed []Resource) {
			assert.NotPanics(t, func() {
				_, err := Evaluate(changed, DefaultConfig())
				assert.NoError(t, err, where)
			}, "%s replaced by %v", where, replacement)
		})
	}
}
