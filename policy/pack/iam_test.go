package pack

import "testing"

func TestIAMNoWildcardActions(t *testing.T) {
	const scoped = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/t"},
		{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	allowStar := res(typeIAMPolicy, "admin", map[string]any{
		"policy": `{"Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`,
	})
	rolePolicy := res(typeIAMRolePolicy, "router", map[string]any{
		"policy": `{"Statement":[{"Effect":"Allow","Action":["kinesis:PutRecords","s3:*"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}`,
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

// Issue 14, weakness 8: resource policies, managed-policy attachments,
// Resource "*" and NotResource are checked too.
func TestIAMNoWildcardActionsCoversResourcePoliciesAndAttachments(t *testing.T) {
	doc := func(statement string) string { return `{"Version":"2012-10-17","Statement":[` + statement + `]}` }
	queuePolicy := res("aws:sqs/queuePolicy:QueuePolicy", "q", map[string]any{"queueUrl": "u",
		"policy": doc(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:*","Resource":"*"}`)})
	topic := res(typeSNSTopic, "t", map[string]any{"kmsMasterKeyId": "k",
		"policy": doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*","Resource":"*"}`)})
	key := res("aws:kms/key:Key", "k", map[string]any{"policy": doc(
		`{"Sid":"AccountIAM","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
		 {"Sid":"Admins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/admin"},"Action":"kms:*","Resource":"*"}`)})
	vault := res("aws:backup/vaultPolicy:VaultPolicy", "v", map[string]any{"backupVaultName": "v",
		"policy": doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"NotAction":"backup:DeleteRecoveryPoint","Resource":"*"}`)})
	admin := res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", map[string]any{
		"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
	s3Full := res(typeIAMRole, "full", map[string]any{
		"managedPolicyArns": []any{"arn:aws:iam::aws:policy/AmazonS3FullAccess"}})
	anyObject := res(typeIAMRolePolicy, "any-object", map[string]any{"role": "r",
		"policy": doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)})
	notResource := res(typeIAMPolicy, "not-resource", map[string]any{
		"policy": doc(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`)})
	// The Service Authorization Reference gives ListExports and ListImports an optional table resource.
	listExports := res(typeIAMRolePolicy, "list-exports", map[string]any{"role": "r",
		"policy": doc(`{"Effect":"Allow","Action":["dynamodb:ListExports","dynamodb:ListImports"],"Resource":"*"}`)})
	runCases(t, "iam-no-wildcard-actions", "mandatory", []policyCase{
		{name: "compliant: a key's delegation to the account, a service-role policy, actions that take no resource", resources: []Resource{
			res("aws:kms/key:Key", "default", map[string]any{"policy": doc(
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`)}),
			res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "backup", map[string]any{"role": "r",
				"policyArn": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"}),
			// A customer managed policy's document is judged on its own aws:iam/policy resource, whatever its name.
			res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "own", map[string]any{"role": "r",
				"policyArn": "arn:aws:iam::123456789012:policy/TeamFullAccess"}),
			res(typeIAMRolePolicy, "list", map[string]any{"role": "r", "policy": doc(
				`{"Effect":"Allow","Action":["dynamodb:ListTables","dynamodb:DescribeLimits","cloudwatch:PutMetricData",` +
					`"logs:CreateLogDelivery","logs:DescribeLogGroups","logs:PutResourcePolicy","xray:PutTraceSegments"],"Resource":"*"}`)}),
		}},
		{name: "wildcards in resource policies, attachments, Resource * and NotResource",
			resources: []Resource{queuePolicy, topic, key, vault, admin, s3Full, anyObject, notResource, listExports},
			want: []expected{
				{queuePolicy.URN, `policy: statement 0 allows "sqs:*"`},
				{topic.URN, `policy: statement 0 allows "*"`},
				{key.URN, `policy: statement 1 ("Admins") allows "kms:*"`},
				{vault.URN, "policy: statement 0 allows NotAction"},
				{admin.URN, "policyArn attaches the AWS managed policy AdministratorAccess"},
				{s3Full.URN, "managedPolicyArns[0] attaches the AWS managed policy AmazonS3FullAccess"},
				{anyObject.URN, `policy: statement 0 allows "s3:GetObject" on Resource "*"`},
				{notResource.URN, "policy: statement 0 allows NotResource"},
				{listExports.URN, `policy: statement 0 allows "dynamodb:ListExports", "dynamodb:ListImports" on Resource "*"`},
			}},
		{name: "unknown values", resources: []Resource{
			res("aws:sqs/queuePolicy:QueuePolicy", "a", map[string]any{"policy": unknown}),
			res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "b", map[string]any{"policyArn": unknown}),
			res(typeIAMRole, "c", map[string]any{"managedPolicyArns": []any{unknown}}),
		}},
	})
}

func TestIAMNoKMSDecryptAll(t *testing.T) {
	doc := func(statement string) string { return `{"Version":"2012-10-17","Statement":[` + statement + `]}` }
	all := res(typeIAMRolePolicy, "all", map[string]any{"role": "r",
		"policy": doc(`{"Sid":"Read","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}`)})
	star := res(typeIAMPolicy, "star", map[string]any{"policy": doc(`{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:*:key/*"}`)})
	reencrypt := res(typeIAMRole, "reencrypt", map[string]any{"inlinePolicies": []any{map[string]any{"name": "x",
		"policy": doc(`{"Effect":"Allow","Action":"kms:ReEncrypt*","Resource":"*"}`)}}})
	notResource := res(typeIAMUserPolicy, "not-resource", map[string]any{"user": "u",
		"policy": doc(`{"Effect":"Allow","Action":"kms:Decrypt","NotResource":"arn:aws:kms:us-east-1:123456789012:key/secret"}`)})
	notAction := res(typeIAMGroupPolicy, "not-action", map[string]any{"group": "g",
		"policy": doc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`)})
	runCases(t, "iam-no-kms-decrypt-all", "mandatory", []policyCase{
		{name: "named keys, keys of one account and region, other actions, key policies, a Deny", resources: []Resource{
			res(typeIAMRolePolicy, "named", map[string]any{"policy": doc(
				`{"Effect":"Allow","Action":"kms:Decrypt","Resource":["arn:aws:kms:us-east-1:123456789012:key/k"]}`)}),
			res(typeIAMRolePolicy, "region", map[string]any{"policy": doc(
				`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/*"}`)}),
			res(typeIAMRolePolicy, "encrypt", map[string]any{"policy": doc(`{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"}`)}),
			res(typeKMSKey, "key", map[string]any{"policy": doc(
				`{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}`)}),
			res(typeIAMPolicy, "deny", map[string]any{"policy": doc(`{"Effect":"Deny","Action":"kms:*","Resource":"*"}`)}),
		}},
		{name: "every key", resources: []Resource{all, star, reencrypt, notResource, notAction}, want: []expected{
			{all.URN, `policy: statement 0 ("Read") allows kms:Decrypt on every KMS key`},
			{star.URN, "policy: statement 0 allows kms:Decrypt on every KMS key"},
			{reencrypt.URN, "inlinePolicies[0].policy: statement 0 allows kms:Decrypt on every KMS key"},
			{notResource.URN, "allows kms:Decrypt with NotResource"},
			{notAction.URN, "allows kms:Decrypt on every KMS key"},
		}},
		{name: "unknown values", resources: []Resource{
			res(typeIAMRolePolicy, "a", map[string]any{"policy": unknown}),
			res(typeIAMRole, "b", map[string]any{"inlinePolicies": []any{unknown}}),
		}},
	})
}
