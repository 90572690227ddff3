// Command streamrouter is the stream-router Lambda: DynamoDB stream batches of
// the sessions table in, analytics events to Kinesis out. The logic lives in
// internal/streamrouter; this only wires configuration from the environment.
//
//	KINESIS_STREAM_NAME       the events stream (required)
//	AWS_LAMBDA_FUNCTION_NAME  set by Lambda: the metrics' FunctionName dimension
//	AWS_REGION, credentials and AWS_ENDPOINT_URL are read by the SDK's
//	default chain, as Lambda sets them.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/manga-assist/manga-assist-data/internal/streamrouter"
)

// The router decodes the stream event itself; lambda.Start hands it the raw
// payload only if it is a lambda.Handler.
var _ lambda.Handler = (*streamrouter.Router)(nil)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	router, err := newRouter(context.Background(), logger)
	if err != nil {
		// Failing the init makes Lambda report the error on every invocation
		// instead of routing nowhere.
		logger.Error("stream router cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(router) // Router.Invoke, not aws-lambda-go's reflective decoding (docs/streamrouter.md)
}

func newRouter(ctx context.Context, logger *slog.Logger) (*streamrouter.Router, error) {
	cfg, err := routerConfig(ctx, logger)
	if err != nil {
		return nil, err
	}
	return streamrouter.New(cfg)
}

// routerConfig reads the router's configuration from what Lambda sets.
func routerConfig(ctx context.Context, logger *slog.Logger) (streamrouter.Config, error) {
	stream := os.Getenv("KINESIS_STREAM_NAME")
	if stream == "" {
		return streamrouter.Config{}, errors.New("KINESIS_STREAM_NAME is not set: it must name the Kinesis stream to write events to")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return streamrouter.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return streamrouter.Config{}, errors.New("AWS_REGION is not set: the SDK cannot tell which region the stream is in")
	}
	return streamrouter.Config{
		StreamName:   stream,
		Client:       kinesis.NewFromConfig(cfg),
		Logger:       logger,
		FunctionName: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), // set by Lambda; the alarms' dimension
	}, nil
}
