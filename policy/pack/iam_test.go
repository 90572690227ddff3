package pack

import "testing"

func TestIAMNoWildcardActions(t *testing.T) {
	const scoped = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"*"},
		{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	allowStar := res(typeIAMPolicy, "admin", map[string]any{
		"policy": `{"Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`,
	})
	rolePolicy := res(typeIAMRolePolicy, "router", map[string]any{
		"policy": `{"Statement":[{"Effect":"Allow","Action":["kinesis:PutRecords","s3:*"],"Resource":"*"}]}`,
	})
	notAction := res(typeIAMRole, "router", map[string]any{
		"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{"Service":"lambda.amazonaws.com"}}]}`,
		"inlinePolicies": []any{
			map[string]any{"name": "ok", "policy": scoped},
			map[string]any{"name": "not", "policy": `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`},
		},
	})
	bucketPolicy := res(typeS3BucketPolicy, "lake", map[string]any{
		"bucket": "lake",
		"policy": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:*", "Principal": "*"}}},
	})
	broken := res(typeIAMPolicy, "broken", map[string]any{"policy": `{"Statement": [`})
	runCases(t, "iam-no-wildcard-actions", "mandatory", []policyCase{
		{name: "compliant: scoped actions, wildcard Deny, trust policy exempt", resources: []Resource{
			res(typeIAMPolicy, "scoped", map[string]any{"policy": scoped}),
			res(typeIAMRole, "router", map[string]any{
				"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{"Service":"lambda.amazonaws.com"}}]}`,
				"inlinePolicies":   []any{map[string]any{"name": "ok", "policy": scoped}},
			}),
		}},
		{name: "wildcards", resources: []Resource{allowStar, rolePolicy, notAction, bucketPolicy}, want: []expected{
			{allowStar.URN, `policy: statement 0 ("All") allows "*"`},
			{rolePolicy.URN, `policy: statement 0 allows "s3:*"`},
			{notAction.URN, "inlinePolicies[1].policy: statement 0 allows NotAction"},
			{bucketPolicy.URN, `policy: statement 0 allows "s3:*"`},
		}},
		{name: "not JSON", resources: []Resource{broken}, want: []expected{{broken.URN, "policy is not a valid policy document"}}},
		{name: "unknown values", resources: []Resource{
			res(typeIAMPolicy, "a", map[string]any{"policy": unknown}),
			res(typeIAMRole, "b", map[string]any{"inlinePolicies": unknown}),
			res(typeIAMRole, "c", map[string]any{"inlinePolicies": []any{unknown, map[string]any{"policy": unknown}}}),
			res(typeS3BucketPolicy, "d", map[string]any{"policy": map[string]any{"Statement": unknown}}),
		}},
	})
}
