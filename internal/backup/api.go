package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// DynamoDBAPI is the part of the DynamoDB client the orchestrator calls;
// *dynamodb.Client implements it, tests pass a fake.
type DynamoDBAPI interface {
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ExportTableToPointInTime(context.Context, *dynamodb.ExportTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error)
	DescribeExport(context.Context, *dynamodb.DescribeExportInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error)
	ListExports(context.Context, *dynamodb.ListExportsInput, ...func(*dynamodb.Options)) (*dynamodb.ListExportsOutput, error)
}

// StateStore loads and saves the orchestrator's state.
type StateStore interface {
	Load(ctx context.Context) (State, error)
	Save(ctx context.Context, s State) error
}

// SSMAPI is the part of the SSM client the state store calls.
type SSMAPI interface {
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// SSMStore keeps the state in one String parameter, which the BackupSchedule
// component creates with the value "{}".
type SSMStore struct {
	Client SSMAPI
	Name   string
}

// Load reads and parses the parameter. A missing parameter is a
// configuration error: the orchestrator never creates it, so a wrong name
// cannot silently start a second chain.
func (s SSMStore) Load(ctx context.Context) (State, error) {
	out, err := s.Client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Name)})
	if err != nil {
		var missing *ssmtypes.ParameterNotFound
		if errors.As(err, &missing) {
			return State{}, configErrorf("state parameter %q does not exist: the BackupSchedule component creates it (STATE_PARAMETER)", s.Name)
		}
		return State{}, fmt.Errorf("read state parameter %q: %w", s.Name, err)
	}
	st, err := DecodeState(aws.ToString(out.Parameter.Value))
	if err != nil {
		return State{}, configErrorf("state parameter %q: %v", s.Name, err)
	}
	return st, nil
}

// Save overwrites the parameter with the state.
func (s SSMStore) Save(ctx context.Context, st State) error {
	value, err := st.Encode()
	if err != nil {
		return configErrorf("state parameter %q: %v", s.Name, err)
	}
	_, err = s.Client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(s.Name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("write state parameter %q: %w", s.Name, err)
	}
	return nil
}

// ConfigError is a problem no retry fixes: a table that does not exist,
// point-in-time recovery off, missing permissions, bad settings. The run
// fails with it, so Lambda reports an error and the alarms fire.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{msg: fmt.Sprintf(format, args...)}
}

// transientError is a condition that a later run outlives, such as a
// restorable window not reported yet.
type transientError struct{ msg string }

func (e *transientError) Error() string { return e.msg }

func transientf(format string, args ...any) error {
	return &transientError{msg: fmt.Sprintf(format, args...)}
}

// errClass sorts an API error by what the orchestrator does about it.
type errClass int

const (
	// transient: throttling, limits, 5xx, network: stop, keep the state
	// consistent, try again on the next run.
	transient errClass = iota
	// badConfig: fail the run with a clear message.
	badConfig
	// invalidTime: the export time or window is outside what PITR allows now.
	invalidTime
	// notFound: the export named in the state does not exist.
	notFound
)

func classify(err error) errClass {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return badConfig
	}
	var te *transientError
	if errors.As(err, &te) {
		return transient
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "TableNotFoundException", "ResourceNotFoundException", "PointInTimeRecoveryUnavailableException",
			"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "ValidationException",
			"ExportConflictException", "ParameterNotFound", "InvalidKeyId", "KMSAccessDeniedException":
			return badConfig
		case "InvalidExportTimeException":
			return invalidTime
		case "ExportNotFoundException":
			return notFound
		case "LimitExceededException", "ThrottlingException", "ProvisionedThroughputExceededException",
			"RequestLimitExceeded", "InternalServerError", "ServiceUnavailable", "TooManyUpdates":
			return transient
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return transient
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return transient
	}
	// Unknown errors fail the run loudly rather than being retried quietly.
	return badConfig
}
