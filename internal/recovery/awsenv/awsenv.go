// Package awsenv builds the AWS clients of the recovery tools from the
// standard AWS environment: AWS_REGION, credentials from the usual chain,
// AWS_PROFILE, and AWS_ENDPOINT_URL (or a service's AWS_ENDPOINT_URL_<SERVICE>),
// which aws-sdk-go-v2's config loader reads itself. Whenever an endpoint is
// set, S3 uses path-style addressing: an emulator or a private endpoint has
// no per-bucket DNS names.
//
// The clients are those of one region; Clients.InRegion gives another
// region's with the same credentials, endpoint and retries (a global table's
// replicas are read in their own regions). Route 53 is global: its client
// signs for us-east-1 whatever the region (the SDK's endpoint rules).
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Clients are the services the recovery tools call.
type Clients struct {
	Region   string
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	Backup   *backup.Client
	// CloudWatch reads metrics of this region (ReplicationLatency is
	// published in the replication's source region).
	CloudWatch *cloudwatch.Client
	// Route53 is global.
	Route53 *route53.Client
	// Endpoint is the custom endpoint in use, "" for AWS's own.
	Endpoint string

	cfg aws.Config
}

// InRegion returns the clients of another region: the same credentials,
// endpoint (AWS_ENDPOINT_URL) and retry settings, only the region differs.
func (c Clients) InRegion(region string) Clients {
	cfg := c.cfg.Copy()
	cfg.Region = region
	return FromConfig(cfg)
}

// Load reads the environment and builds the clients.
//
// The SDK's standard retryer throttles its own retries with a token bucket
// shared by every goroutine of a client; a restore that runs many writers
// into a throttling table drains it and then fails calls with "failed to get
// rate limit token, retry quota exceeded" instead of backing off
// (aws/aws-sdk-go-v2#1665). The writers back off themselves, so the bucket is
// replaced with ratelimit.None and retries are bounded by attempts only.
func Load(ctx context.Context) (Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.None
			o.MaxAttempts = 8
			o.MaxBackoff = 20 * time.Second
		})
	}))
	if err != nil {
		return Clients{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return Clients{}, errors.New("no AWS region: set AWS_REGION (or a profile's region)")
	}
	return FromConfig(cfg), nil
}

// FromConfig builds the clients from a configuration (tests pass the
// emulator's).
func FromConfig(cfg aws.Config) Clients {
	endpoint := aws.ToString(cfg.BaseEndpoint)
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	return Clients{
		Region:   cfg.Region,
		DynamoDB: dynamodb.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if endpoint != "" || o.BaseEndpoint != nil {
				o.UsePathStyle = true
			}
		}),
		Backup:     backup.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		Route53:    route53.NewFromConfig(cfg),
		Endpoint:   endpoint,
		cfg:        cfg,
	}
}
