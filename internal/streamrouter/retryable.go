package streamrouter

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// kinesisRetryableCodes are whole-call errors of Kinesis that pass with time
// but that the SDK's default list does not name.
var kinesisRetryableCodes = map[string]bool{
	"InternalFailure":        true,
	"KMSThrottlingException": true,
}

// retryable reports whether a failed call may succeed if sent again: the
// SDK's own classification (throttling, 5xx, broken connections; never a
// cancelled or expired context) plus kinesisRetryableCodes. Anything else,
// e.g. a missing stream or a denied permission, will fail the same way.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && kinesisRetryableCodes[apiErr.ErrorCode()]
}
