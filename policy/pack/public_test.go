package pack

import "testing"

func TestResourcePolicyNoPublicAccess(t *testing.T) {
	doc := func(statement string) string { return `{"Version":"2012-10-17","Statement":[` + statement + `]}` }
	const tlsDeny = `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	publicRead := res(typeS3BucketPolicy, "public-read", map[string]any{"bucket": "b", "policy": doc(tlsDeny + `,
		{"Sid":"Read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)})
	queue := res(typeSQSQueuePolicy, "open-queue", map[string]any{"queueUrl": "u", "policy": doc(
		`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:SendMessage","Resource":"*",
		  "Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}`)})
	topic := res(typeSNSTopic, "if-exists", map[string]any{"kmsMasterKeyId": "k", "policy": doc(
		`{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*",
		  "Condition":{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"}}}`)})
	key := res(typeKMSKey, "not-principal", map[string]any{"policy": doc(
		`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:Decrypt","Resource":"*"}`)})
	vault := res(typeBackupVaultPolicy, "wildcard-account", map[string]any{"backupVaultName": "v", "policy": doc(
		`{"Effect":"Allow","Principal":"*","Action":"backup:CopyIntoBackupVault","Resource":"*",
		  "Condition":{"StringEquals":{"aws:PrincipalAccount":"*"}}}`)})
	anyone := res(typeLambdaPermission, "anyone", map[string]any{"function": "f", "action": "lambda:InvokeFunction", "principal": "*"})
	service := res(typeLambdaPermission, "service", map[string]any{"function": "f", "action": "lambda:InvokeFunction",
		"principal": "s3.amazonaws.com"})
	runCases(t, "resource-policy-no-public-access", "mandatory", []policyCase{
		{name: "compliant: a source condition, named principals, Deny to everyone, scoped Lambda permissions", resources: []Resource{
			res(typeS3BucketPolicy, "logs", map[string]any{"bucket": "logs", "policy": doc(tlsDeny + `,
				{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/*",
				 "Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}`)}),
			res(typeSNSTopicPolicy, "alarms", map[string]any{"arn": "t", "policy": doc(
				`{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*",
				  "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"}}}`)}),
			res(typeSQSQueue, "org", map[string]any{"policy": doc(
				`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:SendMessage","Resource":"*",
				  "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`)}),
			res(typeKMSKey, "account", map[string]any{"policy": doc(
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`)}),
			res(typeLambdaPermission, "s3", map[string]any{"function": "f", "action": "lambda:InvokeFunction",
				"principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::b", "sourceAccount": "123456789012"}),
			res(typeLambdaPermission, "account", map[string]any{"function": "f", "action": "lambda:InvokeFunction",
				"principal": "123456789012"}),
		}},
		{name: "public statements and permissions", resources: []Resource{publicRead, queue, topic, key, vault, anyone, service},
			want: []expected{
				{publicRead.URN, `policy: statement 1 ("Read") allows Principal "*" with no condition on the source`},
				{queue.URN, `statement 0 allows Principal "*"`},
				{topic.URN, `statement 0 allows Principal "*"`},
				{key.URN, "statement 0 allows NotPrincipal"},
				{vault.URN, `statement 0 allows Principal "*"`},
				{anyone.URN, `principal is "*" and neither sourceArn, sourceAccount nor principalOrgId is set`},
				{service.URN, "principal is the service s3.amazonaws.com and neither sourceArn nor sourceAccount is set"},
			}},
		{name: "unknown values", resources: []Resource{
			res(typeS3BucketPolicy, "a", map[string]any{"policy": unknown}),
			res(typeSQSQueuePolicy, "b", map[string]any{"policy": map[string]any{"Statement": []any{unknown}}}),
			res(typeLambdaPermission, "c", map[string]any{"principal": unknown}),
			res(typeLambdaPermission, "d", map[string]any{"principal": "*", "sourceArn": unknown}),
		}},
	})
}
