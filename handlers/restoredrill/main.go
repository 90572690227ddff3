// Command restoredrill is the verification step of the scheduled restore
// drill (components.RestoreDrill): the Step Functions machine has restored
// the sessions table into a scratch table; this compares the two and
// reports the drill's metrics. The logic lives in internal/recovery/drill.
//
//	AWS_REGION and credentials are read by the SDK's default chain, as
//	Lambda sets them.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/manga-assist/manga-assist-data/internal/recovery/drill"
)

func main() {
	v, err := newVerifier(context.Background())
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("restore drill verifier cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(v.Handle)
}

func newVerifier(ctx context.Context) (drill.Verifier, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return drill.Verifier{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return drill.Verifier{}, errors.New("AWS_REGION is not set")
	}
	return drill.Verifier{DynamoDB: dynamodb.NewFromConfig(cfg), Metrics: os.Stdout}, nil
}
