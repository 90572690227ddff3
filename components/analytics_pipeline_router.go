package components

import (
	"strings"

	"github.com/manga-assist/manga-assist-data/internal/lambdabuild"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// router is the stream-router Lambda, its least-privilege role and its
// event source mapping on the table stream.
func (p *pipeline) router(name string, code lambdabuild.Artifact, events *kinesis.Stream) (*lambda.Function, *lambda.EventSourceMapping, error) {
	functionName := p.physical("stream-router")
	// Encrypted with the pipeline's key, whose policy lets CloudWatch Logs use it.
	logs, err := cloudwatch.NewLogGroup(p.ctx, name+"-router", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + functionName),
		RetentionInDays: pulumi.Int(p.a.LogRetentionDays),
		KmsKeyId:        p.key.Arn,
		Tags:            p.tags,
	}, p.parent)
	if err != nil {
		return nil, nil, err
	}
	role, err := p.role(name+"-router", "lambda.amazonaws.com")
	if err != nil {
		return nil, nil, err
	}
	failed := p.a.FailedRecordsBucket
	policy := pulumi.All(p.a.TableStreamArn, p.a.TableKMSKeyArn, events.Arn, p.key.Arn, logs.Arn,
		failed.Arn, failed.KMSKeyArn).ApplyT(func(v []any) (string, error) {
		stream, tableKey, eventsArn, eventsKey, logGroup, failedArn, failedKey :=
			v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string), v[5].(string), v[6].(string)
		table, _, _ := strings.Cut(stream, "/stream/")
		return policyDocument(
			policyStatement{Sid: "ReadTableStream", Effect: "Allow",
				Action:   []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
				Resource: stream},
			policyStatement{Sid: "ListTableStreams", Effect: "Allow",
				Action: "dynamodb:ListStreams", Resource: table + "/stream/*"},
			// The stream is encrypted with the table's key when it is a
			// customer managed one; stream readers are granted kms:Decrypt
			// on it, as the CDK's grantStreamRead does (aws-cdk#22796).
			policyStatement{Sid: "DecryptTableStream", Effect: "Allow", Action: "kms:Decrypt", Resource: tableKey},
			// The router calls PutRecords and nothing else (Kinesis
			// Developer Guide, "Permissions to use user-generated KMS keys":
			// producers need kms:GenerateDataKey).
			policyStatement{Sid: "WriteEvents", Effect: "Allow", Action: "kinesis:PutRecords", Resource: eventsArn},
			policyStatement{Sid: "EncryptEvents", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: eventsKey},
			// Lambda writes discarded batches with this role: s3:PutObject
			// and s3:ListBucket, and kms:GenerateDataKey for a KMS-encrypted
			// bucket (Lambda Developer Guide, on-failure destinations).
			policyStatement{Sid: "KeepFailedBatches", Effect: "Allow", Action: "s3:PutObject", Resource: failedArn + "/*"},
			policyStatement{Sid: "ListFailedBatches", Effect: "Allow", Action: "s3:ListBucket", Resource: failedArn},
			policyStatement{Sid: "EncryptFailedBatches", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: failedKey},
			policyStatement{Sid: "WriteLogs", Effect: "Allow",
				Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: logGroup + ":*"},
		)
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(p.ctx, name+"-router", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, p.parent)
	if err != nil {
		return nil, nil, err
	}

	fn, err := lambda.NewFunction(p.ctx, name+"-router", &lambda.FunctionArgs{
		Name:           pulumi.String(functionName),
		Description:    pulumi.String("Routes every change of the sessions table to the analytics event stream"),
		Runtime:        pulumi.String(string(lambda.RuntimeCustomAL2023)),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           code.Archive(),
		SourceCodeHash: pulumi.String(code.SourceCodeHash),
		Role:           role.Arn,
		MemorySize:     pulumi.Int(p.a.RouterMemoryMB),
		Timeout:        pulumi.Int(p.a.RouterTimeoutSeconds),
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			"KINESIS_STREAM_NAME": events.Name,
		}},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Tags:          p.tags,
	}, p.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, nil, err
	}

	// Lambda checks the role's permissions when the mapping is created.
	mapping, err := lambda.NewEventSourceMapping(p.ctx, name+"-router", &lambda.EventSourceMappingArgs{
		EventSourceArn:        p.a.TableStreamArn,
		Enabled:               pulumi.Bool(!p.a.Paused),
		FunctionName:          fn.Arn,
		StartingPosition:      pulumi.String("TRIM_HORIZON"),
		BatchSize:             pulumi.Int(p.a.RouterBatchSize),
		ParallelizationFactor: pulumi.Int(p.a.RouterParallelization),
		// The router names the first record it could not deliver; Lambda
		// retries from there, splits failing batches, gives up after
		// bounded retries or age, and keeps what it gave up on in S3.
		FunctionResponseTypes:      pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
		BisectBatchOnFunctionError: pulumi.Bool(true),
		MaximumRetryAttempts:       pulumi.Int(p.a.RouterMaxRetries),
		MaximumRecordAgeInSeconds:  pulumi.Int(p.a.RouterMaxRecordAgeSeconds),
		DestinationConfig: &lambda.EventSourceMappingDestinationConfigArgs{
			OnFailure: &lambda.EventSourceMappingDestinationConfigOnFailureArgs{DestinationArn: failed.Arn},
		},
		Tags: p.tags,
	}, p.parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, nil, err
	}
	return fn, mapping, nil
}
