// Command backuporchestrator is the export-orchestrator Lambda of the
// BackupSchedule component: EventBridge Scheduler invokes it for the
// incremental export, the full export and an hourly catch-up. The logic
// lives in internal/backup; this only wires configuration from the
// environment.
//
//	TABLE_ARN             the table to export (required)
//	EXPORT_BUCKET         the backup bucket (required)
//	EXPORT_BUCKET_OWNER   its account id (default: the table's account)
//	EXPORT_PREFIX         where exports go in the bucket (default "exports/");
//	                      objects land under <prefix><table name>/
//	EXPORT_KMS_KEY_ARN    the bucket's key: exports are SSE-KMS with it (required)
//	STATE_PARAMETER       the SSM parameter holding the state (required)
//	SAFETY_MARGIN_MINUTES how far windows stay behind the latest restorable
//	                      time (default 10)
//	AWS_REGION, credentials and AWS_ENDPOINT_URL(_<SERVICE>) are read by the
//	SDK's default chain, as Lambda sets them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/manga-assist/manga-assist-data/internal/backup"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	o, err := newOrchestrator(context.Background(), logger)
	if err != nil {
		// Failing the init makes Lambda report the error on every invocation
		// (and the alarms fire) instead of exporting nothing quietly.
		logger.Error("backup orchestrator cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(o.Run)
}

// SDK retries: bounded, exponential backoff with full jitter (the standard
// retryer), on throttling, limits and 5xx; what is still failing after them
// is left to the next run by the orchestrator.
const (
	retryMaxAttempts = 5
	retryMaxBackoff  = 20 * time.Second
)

func newOrchestrator(ctx context.Context, logger *slog.Logger) (*backup.Orchestrator, error) {
	var missing []string
	get := func(name string) string {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	table, bucket, key, parameter := get("TABLE_ARN"), get("EXPORT_BUCKET"), get("EXPORT_KMS_KEY_ARN"), get("STATE_PARAMETER")
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables not set: %s", strings.Join(missing, ", "))
	}
	prefix, ok := os.LookupEnv("EXPORT_PREFIX")
	if !ok {
		prefix = "exports/"
	}
	var margin time.Duration
	if raw := os.Getenv("SAFETY_MARGIN_MINUTES"); raw != "" {
		minutes, err := strconv.Atoi(raw)
		if err != nil {
			return nil, fmt.Errorf("SAFETY_MARGIN_MINUTES %q: must be a whole number of minutes", raw)
		}
		margin = time.Duration(minutes) * time.Minute
	}

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff = retryMaxAttempts, retryMaxBackoff
		})
	}))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("AWS_REGION is not set: the SDK cannot tell which region the table is in")
	}
	return backup.New(backup.Config{
		TableArn:     table,
		Bucket:       bucket,
		BucketOwner:  os.Getenv("EXPORT_BUCKET_OWNER"),
		Prefix:       prefix,
		KMSKeyArn:    key,
		SafetyMargin: margin,
		DynamoDB:     dynamodb.NewFromConfig(cfg),
		State:        backup.SSMStore{Client: ssm.NewFromConfig(cfg), Name: parameter},
		Logger:       logger,
		Metrics:      os.Stdout, // EMF: one JSON line per run
	})
}
