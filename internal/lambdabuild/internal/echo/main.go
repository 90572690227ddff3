// Command echo is the test fixture of lambdabuild: a minimal Lambda handler
// that returns its input unchanged.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func echo(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	return in, nil
}

func main() {
	lambda.Start(echo)
}
