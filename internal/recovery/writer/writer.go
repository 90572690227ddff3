// Package writer writes items to a DynamoDB table with BatchWriteItem from
// a bounded pool of workers. Each call carries at most 25 requests (the
// API's limit); what DynamoDB returns in UnprocessedItems is sent again after
// a backoff with full jitter, and so are throttled calls, a bounded number of
// times (DynamoDB API Reference, BatchWriteItem: "If any requested operations
// fail because the table's provisioned throughput is exceeded … we strongly
// recommend that you use an exponential backoff algorithm").
//
// BatchWriteItem cannot be conditional, so the pool only writes into tables
// the recovery tools own (a new table, a scratch table); writes into a live
// table go through package writeback, one conditional call per item.
package writer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// MaxBatch is BatchWriteItem's limit of requests per call.
const MaxBatch = 25

// DynamoDB is the part of the client the pool uses.
type DynamoDB interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Backoff is exponential backoff with full jitter: before retry n (from 0)
// the pool sleeps a random time in [0, min(Max, Base·2^n)).
type Backoff struct {
	Base, Max time.Duration
	// Attempts bounds the calls for one batch, the first included.
	Attempts int
}

// DefaultBackoff gives a batch about a minute and a half of retries before
// the pool gives up on it.
var DefaultBackoff = Backoff{Base: 50 * time.Millisecond, Max: 10 * time.Second, Attempts: 15}

// Delay is the sleep before retry n.
func (b Backoff) Delay(n int, rnd *rand.Rand) time.Duration {
	ceiling := b.Max
	if n < 30 && b.Base<<n < b.Max {
		ceiling = b.Base << n
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rnd.Int64N(int64(ceiling)))
}

// Options tune a Pool. Zero values take the defaults.
type Options struct {
	Workers int     // concurrent BatchWriteItem calls; default 8
	Backoff Backoff // default DefaultBackoff
	Seed    uint64  // jitter seed; 0 = random
}

// Stats count what the pool did.
type Stats struct {
	Calls          int64 // BatchWriteItem calls
	Written        int64 // requests DynamoDB accepted
	Unprocessed    int64 // requests returned in UnprocessedItems and sent again
	ThrottledCalls int64 // calls refused as a whole and sent again
}

// Pool runs batches against one table.
type Pool struct {
	ddb   DynamoDB
	table string
	opts  Options
	sem   chan struct{}
	wg    sync.WaitGroup

	rndMu sync.Mutex
	rnd   *rand.Rand

	calls, written, unprocessed, throttled atomic.Int64
}

// New returns a pool writing into table.
func New(ddb DynamoDB, table string, opts Options) *Pool {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Backoff.Attempts <= 0 {
		opts.Backoff = DefaultBackoff
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Pool{ddb: ddb, table: table, opts: opts, sem: make(chan struct{}, opts.Workers),
		rnd: rand.New(rand.NewPCG(seed, seed^0x5deece66d))}
}

// Stats returns the counts so far.
func (p *Pool) Stats() Stats {
	return Stats{Calls: p.calls.Load(), Written: p.written.Load(), Unprocessed: p.unprocessed.Load(), ThrottledCalls: p.throttled.Load()}
}

// Go writes batch (at most MaxBatch requests, no two for one key) on a
// worker, waiting while every worker is busy, and calls done with the
// outcome. The pool owns batch from here on.
func (p *Pool) Go(ctx context.Context, batch []types.WriteRequest, done func(error)) {
	if len(batch) == 0 {
		done(nil)
		return
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		done(ctx.Err())
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		err := p.Write(ctx, batch)
		<-p.sem
		done(err)
	}()
}

// Wait waits for every batch handed to Go.
func (p *Pool) Wait() { p.wg.Wait() }

// UnprocessedError is a batch the pool gave up on.
type UnprocessedError struct {
	Table    string
	Left     int
	Attempts int
	Last     error // the last call's error, if the call itself failed
}

func (e *UnprocessedError) Error() string {
	if e.Last != nil {
		return fmt.Sprintf("BatchWriteItem on %s: %d request(s) still failing after %d attempts: %v", e.Table, e.Left, e.Attempts, e.Last)
	}
	return fmt.Sprintf("BatchWriteItem on %s: %d request(s) still unprocessed after %d attempts (the table is throttling; rerun to continue)",
		e.Table, e.Left, e.Attempts)
}

func (e *UnprocessedError) Unwrap() error { return e.Last }

// Write sends one batch until DynamoDB has taken all of it, retrying
// UnprocessedItems and throttled calls with backoff, up to Backoff.Attempts
// calls.
func (p *Pool) Write(ctx context.Context, batch []types.WriteRequest) error {
	if len(batch) > MaxBatch {
		return fmt.Errorf("writer: batch of %d requests; BatchWriteItem takes at most %d", len(batch), MaxBatch)
	}
	pending := batch
	for attempt := 1; ; attempt++ {
		p.calls.Add(1)
		out, err := p.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{p.table: pending},
		})
		switch {
		case err != nil && !retryable(err):
			return fmt.Errorf("BatchWriteItem on %s: %w", p.table, err)
		case err != nil:
			p.throttled.Add(1)
			if attempt >= p.opts.Backoff.Attempts {
				return &UnprocessedError{Table: p.table, Left: len(pending), Attempts: attempt, Last: err}
			}
		default:
			left := out.UnprocessedItems[p.table]
			p.written.Add(int64(len(pending) - len(left)))
			if len(left) == 0 {
				return nil
			}
			p.unprocessed.Add(int64(len(left)))
			pending = left
			if attempt >= p.opts.Backoff.Attempts {
				return &UnprocessedError{Table: p.table, Left: len(pending), Attempts: attempt}
			}
		}
		if err := sleep(ctx, p.delay(attempt-1)); err != nil {
			return err
		}
	}
}

func (p *Pool) delay(n int) time.Duration {
	p.rndMu.Lock()
	defer p.rndMu.Unlock()
	return p.opts.Backoff.Delay(n, p.rnd)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable are the whole-call errors worth another try after a backoff:
// throttling, and DynamoDB's transient server errors.
func retryable(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
		"InternalServerError", "ServiceUnavailable":
		return true
	}
	return false
}

// PutRequest and DeleteRequest build write requests.
func PutRequest(item map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
}

// DeleteRequest deletes the item with key.
func DeleteRequest(key map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
}
