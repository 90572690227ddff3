package writer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writer"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

var fast = writer.Backoff{Base: time.Millisecond, Max: 20 * time.Millisecond, Attempts: 30}

func setup(t *testing.T) (*faultproxy.DynamoDBProxy, *dynamodb.Client, *dynamodb.Client) {
	emu := emulator.New(t)
	proxy, err := faultproxy.NewDynamoDB(emu.URL())
	require.NoError(t, err)
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	// SDK retries off: every throttle reaches the pool.
	through := emu.DynamoDB(func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
	require.NoError(t, table.CreateSessionsTable(t.Context(), emu.DynamoDB(), "w"))
	return proxy, through, emu.DynamoDB()
}

func batches(n int) [][]types.WriteRequest {
	var out [][]types.WriteRequest
	var b []types.WriteRequest
	for i := range n {
		b = append(b, writer.PutRequest(map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("SESSION#%d", i)}, "SK": &types.AttributeValueMemberS{Value: "META"}}))
		if len(b) == writer.MaxBatch {
			out, b = append(out, b), nil
		}
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

// With 40 % of entries left unprocessed and every third call throttled,
// every item still lands, in calls of at most 25.
func TestPoolRetriesUnprocessedAndThrottled(t *testing.T) {
	proxy, through, direct := setup(t)
	proxy.LeaveUnprocessed(faultproxy.RandomUnprocessed(3, 0.4))
	proxy.Throttle(func(call int) bool { return call%3 == 0 })
	pool := writer.New(through, "w", writer.Options{Workers: 4, Backoff: fast, Seed: 1})
	var mu sync.Mutex
	var errs []error
	for _, b := range batches(1000) {
		pool.Go(t.Context(), b, func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	pool.Wait()
	require.Empty(t, errs)
	n, err := table.Count(t.Context(), direct, "w", 2)
	require.NoError(t, err)
	assert.EqualValues(t, 1000, n)
	st, ps := pool.Stats(), proxy.Stats()
	assert.EqualValues(t, 1000, st.Written)
	assert.EqualValues(t, ps.Unprocessed, st.Unprocessed)
	assert.EqualValues(t, ps.ThrottledCalls, st.ThrottledCalls)
	assert.EqualValues(t, ps.Calls, st.Calls)
}

// A table that never takes the items: the pool gives up after Attempts
// calls and says how many requests are left.
func TestPoolGivesUp(t *testing.T) {
	proxy, through, _ := setup(t)
	proxy.LeaveUnprocessed(func(faultproxy.BatchEntry) bool { return true })
	pool := writer.New(through, "w", writer.Options{Backoff: writer.Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5}})
	err := pool.Write(t.Context(), batches(10)[0])
	var ue *writer.UnprocessedError
	require.True(t, errors.As(err, &ue), "%v", err)
	assert.Equal(t, 10, ue.Left)
	assert.Equal(t, 5, ue.Attempts)
	assert.EqualValues(t, 5, proxy.Stats().Calls)
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	b := writer.Backoff{Base: 10 * time.Millisecond, Max: 500 * time.Millisecond, Attempts: 10}
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := range 12 {
		ceiling := min(b.Max, b.Base<<n)
		top, bottom := time.Duration(0), ceiling
		for range 200 {
			d := b.Delay(n, rnd)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, ceiling)
			top, bottom = max(top, d), min(bottom, d)
		}
		assert.Greater(t, top, ceiling*3/4, "delays spread over [0, %v) for retry %d", ceiling, n)
		assert.Less(t, bottom, ceiling/4, "delays spread over [0, %v) for retry %d (full jitter)", ceiling, n)
	}
}

func TestBatchOverLimitIsRefused(t *testing.T) {
	pool := writer.New(nil, "w", writer.Options{})
	err := pool.Write(t.Context(), make([]types.WriteRequest, 26))
	assert.ErrorContains(t, err, "batch of 26 requests; BatchWriteItem takes at most 25")
}
