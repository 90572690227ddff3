package components

import "encoding/json"

// policyStatement is one statement of an IAM policy document. Action and
// Resource take a string or a list of strings.
type policyStatement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// policyDocument renders statements as an IAM policy document.
func policyDocument(statements ...policyStatement) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}

// assumeRolePolicy lets an AWS service assume a role, only on behalf of
// this account (the confused-deputy guard).
func assumeRolePolicy(service, account string) (string, error) {
	return policyDocument(policyStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": service},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}},
	})
}
