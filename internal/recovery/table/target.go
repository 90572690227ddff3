package table

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// DynamoDB is the part of the client the table tools use.
type DynamoDB interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// Describe returns a table's description, or nil when it does not exist.
func Describe(ctx context.Context, ddb DynamoDB, name string) (*types.TableDescription, error) {
	out, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", name, err)
	}
	return out.Table, nil
}

// WaitActive waits until a table exists and is ACTIVE, polling every
// interval, calling tick with its status each time. A table that is still
// missing after MaxNotFound polls is an error: the restore that should
// create it is not running.
func WaitActive(ctx context.Context, ddb DynamoDB, name string, interval time.Duration, tick func(status string)) (*types.TableDescription, error) {
	missing := 0
	for {
		t, err := Describe(ctx, ddb, name)
		if err != nil {
			return nil, err
		}
		status := "NOT_FOUND"
		if t != nil {
			status = string(t.TableStatus)
		} else if missing++; missing > MaxNotFound {
			return nil, fmt.Errorf("table %s still does not exist after %d checks: nothing is creating it", name, missing-1)
		}
		if tick != nil {
			tick(status)
		}
		if t != nil && t.TableStatus == types.TableStatusActive {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// MaxNotFound bounds the polls WaitActive makes of a table that does not
// exist (a restore creates its table as soon as it is accepted): 40, ten
// minutes at the tools' 15 s interval.
const MaxNotFound = 40

// CreateSessionsTable creates name with the sessions table's shape (keys,
// on-demand billing, stream) and waits for it.
func CreateSessionsTable(ctx context.Context, ddb DynamoDB, name string) error {
	if _, err := ddb.CreateTable(ctx, sessions.CreateTableInput(name)); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) { // already being created by an earlier run
			return fmt.Errorf("create table %s: %w", name, err)
		}
	}
	_, err := WaitActive(ctx, ddb, name, time.Second, nil)
	return err
}

// IsEmpty reports whether a table holds no item.
func IsEmpty(ctx context.Context, ddb DynamoDB, name string) (bool, error) {
	out, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), Limit: aws.Int32(1), Select: types.SelectCount})
	if err != nil {
		return false, fmt.Errorf("scan %s: %w", name, err)
	}
	return out.Count == 0 && out.LastEvaluatedKey == nil, nil
}

// Count counts a table's items with a parallel Scan of segments segments.
// Select COUNT transfers no item from DynamoDB; an emulator may send them
// anyway (moto does), so pages are also capped at countPage items: memory
// stays the same whatever the table's size.
func Count(ctx context.Context, ddb DynamoDB, name string, segments int) (int64, error) {
	if segments < 1 {
		segments = 1
	}
	counts := make([]int64, segments)
	g, ctx := errgroup.WithContext(ctx)
	for s := range segments {
		g.Go(func() error {
			in := &dynamodb.ScanInput{TableName: aws.String(name), Select: types.SelectCount,
				ConsistentRead: aws.Bool(true), Limit: aws.Int32(countPage)}
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(s)), aws.Int32(int32(segments))
			}
			for {
				out, err := ddb.Scan(ctx, in)
				if err != nil {
					return fmt.Errorf("count %s: %w", name, err)
				}
				counts[s] += int64(out.Count)
				if out.LastEvaluatedKey == nil {
					return nil
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		})
	}
	err := g.Wait()
	var total int64
	for _, c := range counts {
		total += c
	}
	return total, err
}

// countSegments is how many pages the restore's count reads at once: one.
// A sequential count holds one page at a time, and moto, which reads the
// table from its start for every page (and hashes every item for a
// segmented scan), costs least that way; DynamoDB counts a million items in
// about a thousand 1 MB pages.
const countSegments = 1

// countPage bounds the items of one count page (moto's COUNT pages carry them).
const countPage = 250

// Tags returns a table's tags.
func Tags(ctx context.Context, ddb DynamoDB, arn string) (map[string]string, error) {
	out := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		page, err := ddb.ListTagsOfResource(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", arn, err)
		}
		for _, t := range page.Tags {
			out[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if page.NextToken == nil {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// LiveTagKey and LiveTagValue mark a table the SessionsTable component
// created (components.tagsFor stamps component=<Name> on every child): a
// live sessions table, into which the tools write only when told --yes.
const (
	LiveTagKey   = "component"
	LiveTagValue = "SessionsTable"
)

// IsLive reports whether t is a live sessions table: tagged by the
// SessionsTable component, or named like the production table.
func IsLive(ctx context.Context, ddb DynamoDB, t *types.TableDescription) (bool, string, error) {
	name := aws.ToString(t.TableName)
	if name == sessions.DefaultTableName {
		return true, fmt.Sprintf("%s is the production table's name", name), nil
	}
	tags, err := Tags(ctx, ddb, aws.ToString(t.TableArn))
	if err != nil {
		return false, "", err
	}
	if tags[LiveTagKey] == LiveTagValue {
		return true, fmt.Sprintf("%s is tagged %s=%s (created by the SessionsTable component)", name, LiveTagKey, LiveTagValue), nil
	}
	return false, "", nil
}
