package components

import (
	"encoding/json"
	"fmt"
)

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

// trustConditions is, per service principal, the confused-deputy guard its
// own guide documents for a role that it assumes on behalf of this account.
// A service that is not listed has not been looked up: assumeRolePolicy
// refuses it rather than guess a condition the service might not send.
var trustConditions = map[string]func(account string) map[string]any{
	// Firehose Developer Guide, "Allow Firehose to assume an IAM role":
	// sts:ExternalId set to the account id.
	"firehose.amazonaws.com": func(account string) map[string]any {
		return map[string]any{"StringEquals": map[string]string{"sts:ExternalId": account}}
	},
	// Lambda Developer Guide, "Defining Lambda function permissions with an
	// execution role": aws:SourceAccount (and aws:SourceArn) in the trust policy.
	"lambda.amazonaws.com": func(account string) map[string]any {
		return map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}
	},
	// Step Functions Developer Guide, "Cross-service confused deputy
	// prevention": the execution role's trust policy names
	// states.amazonaws.com with aws:SourceAccount (and, optionally,
	// aws:SourceArn arn:aws:states:<region>:<account>:stateMachine:*).
	"states.amazonaws.com": func(account string) map[string]any {
		return map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}
	},
	// EventBridge Scheduler User Guide, "Set up the execution role": the
	// trust policy of a schedule's execution role guards against the
	// confused deputy with aws:SourceAccount (aws:SourceArn, if used, must be
	// a schedule group's ARN).
	"scheduler.amazonaws.com": func(account string) map[string]any {
		return map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}}
	},
	// AWS Backup Developer Guide, "IAM service roles" and "Cross-service
	// confused deputy prevention": the service role's trust policy names
	// backup.amazonaws.com with no condition; AWS Backup documents
	// aws:SourceArn/aws:SourceAccount for resource policies only (KMS keys,
	// SNS topics), not for the role it assumes, so none is set here rather
	// than one the service might not send.
	"backup.amazonaws.com": func(string) map[string]any { return nil },
	// S3 User Guide, "Setting up permissions for live replication", step 2:
	// the replication role's trust policy names s3.amazonaws.com with no
	// condition; none is added rather than one S3 might not send when it
	// assumes the role to replicate.
	"s3.amazonaws.com": func(string) map[string]any { return nil },
}

// assumeRolePolicy lets an AWS service assume a role, only on behalf of
// this account, in the form the service's guide documents.
func assumeRolePolicy(service, account string) (string, error) {
	condition, ok := trustConditions[service]
	if !ok {
		return "", fmt.Errorf("assumeRolePolicy: no documented trust condition for %s: add one to trustConditions", service)
	}
	return policyDocument(policyStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": service},
		Action:    "sts:AssumeRole",
		Condition: condition(account),
	})
}
