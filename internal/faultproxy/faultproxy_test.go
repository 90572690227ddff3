package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const stream = "faultproxy-test"

// setup returns the proxy, a client through it (SDK retries off, so calls
// can be counted) and a client straight to the emulator, with a one-shard
// stream created.
func setup(t *testing.T) (*faultproxy.Proxy, *kinesis.Client, *kinesis.Client) {
	t.Helper()
	emu := emulator.New(t)
	proxy, err := faultproxy.New(emu.URL())
	require.NoError(t, err)
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	through := emu.Kinesis(func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
	direct := emu.Kinesis()
	// Created through the proxy: everything but PutRecords passes untouched.
	_, err = through.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	waiter := kinesis.NewStreamExistsWaiter(through, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	require.NoError(t, waiter.Wait(t.Context(), &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 30*time.Second))
	return proxy, through, direct
}

func putRecords(ctx context.Context, client *kinesis.Client, n int) (*kinesis.PutRecordsOutput, error) {
	in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i := range n {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{
			Data: fmt.Appendf(nil, "record-%d", i), PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)),
		})
	}
	return client.PutRecords(ctx, in)
}

// written reads the whole (one-shard) stream straight from the emulator.
func written(t *testing.T, client *kinesis.Client) []string {
	t.Helper()
	ctx := t.Context()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	require.Len(t, shards.Shards, 1)
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: shards.Shards[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	var data []string
	for _, r := range out.Records {
		data = append(data, string(r.Data))
	}
	return data
}

func TestPassesThroughWithoutFaults(t *testing.T) {
	proxy, through, direct := setup(t)
	out, err := putRecords(t.Context(), through, 3)
	require.NoError(t, err)
	assert.Equal(t, int32(0), aws.ToInt32(out.FailedRecordCount))
	assert.Equal(t, []string{"record-0", "record-1", "record-2"}, written(t, direct))
	// Counted as a PutRecords call: the SDK spoke awsJson1.1, not CBOR.
	assert.Equal(t, faultproxy.Stats{Calls: 1, ForwardedEntries: 3}, proxy.Stats())
}

func TestFailedEntriesAreSplicedAndNotWritten(t *testing.T) {
	proxy, through, direct := setup(t)
	failAt := map[int]string{1: faultproxy.ErrThroughputExceeded, 4: faultproxy.ErrInternalFailure, 5: faultproxy.ErrThroughputExceeded}
	var seen []faultproxy.Entry
	proxy.FailEntries(func(e faultproxy.Entry) string {
		seen = append(seen, e)
		return failAt[e.Index]
	})
	out, err := putRecords(t.Context(), through, 7)
	require.NoError(t, err)

	assert.Equal(t, int32(3), aws.ToInt32(out.FailedRecordCount))
	require.Len(t, out.Records, 7)
	for i, r := range out.Records {
		if code, ok := failAt[i]; ok {
			assert.Equal(t, code, aws.ToString(r.ErrorCode), "entry %d", i)
			assert.NotEmpty(t, aws.ToString(r.ErrorMessage))
			assert.Nil(t, r.SequenceNumber)
		} else {
			assert.Empty(t, aws.ToString(r.ErrorCode), "entry %d", i)
			assert.NotEmpty(t, aws.ToString(r.SequenceNumber), "entry %d", i)
			assert.NotEmpty(t, aws.ToString(r.ShardId), "entry %d", i)
		}
	}
	assert.Equal(t, []string{"record-0", "record-2", "record-3", "record-6"}, written(t, direct))
	require.Len(t, seen, 7)
	assert.Equal(t, faultproxy.Entry{Call: 1, Index: 2, PartitionKey: "pk-2", Data: []byte("record-2")}, seen[2])
	assert.Equal(t, faultproxy.Stats{Calls: 1, FailedEntries: 3, ForwardedEntries: 4}, proxy.Stats())
}

func TestAllEntriesFailedNeverReachTheEmulator(t *testing.T) {
	proxy, through, direct := setup(t)
	proxy.FailEntries(func(faultproxy.Entry) string { return faultproxy.ErrThroughputExceeded })
	out, err := putRecords(t.Context(), through, 4)
	require.NoError(t, err)
	assert.Equal(t, int32(4), aws.ToInt32(out.FailedRecordCount))
	require.Len(t, out.Records, 4)
	assert.Empty(t, written(t, direct))
}

func TestFailedCalls(t *testing.T) {
	for _, fault := range []faultproxy.CallFault{faultproxy.Throttled, faultproxy.ServerError} {
		t.Run(fault.Code, func(t *testing.T) {
			proxy, through, direct := setup(t)
			proxy.FailCalls(func(call int) *faultproxy.CallFault {
				if call == 1 {
					return &fault
				}
				return nil
			})
			_, err := putRecords(t.Context(), through, 2)
			var apiErr smithy.APIError
			require.True(t, errors.As(err, &apiErr), "want an API error, got %v", err)
			assert.Equal(t, fault.Code, apiErr.ErrorCode())
			assert.Empty(t, written(t, direct))

			_, err = putRecords(t.Context(), through, 2)
			require.NoError(t, err, "only the first call fails")
			assert.Len(t, written(t, direct), 2)
			assert.Equal(t, faultproxy.Stats{Calls: 2, FailedCalls: 1, ForwardedEntries: 2}, proxy.Stats())
		})
	}
}

// A lost answer: the emulator writes the call, the client gets an error.
// That is how a retry can write the same records twice.
func TestAfterWriteFaultsWriteAndFail(t *testing.T) {
	for _, fault := range []faultproxy.CallFault{faultproxy.LostAnswer, faultproxy.ResetAfterWrite} {
		t.Run(fmt.Sprintf("reset=%v", fault.Reset), func(t *testing.T) {
			proxy, through, direct := setup(t)
			proxy.FailCalls(func(call int) *faultproxy.CallFault {
				if call == 1 {
					return &fault
				}
				return nil
			})
			_, err := putRecords(t.Context(), through, 3)
			require.Error(t, err)
			var apiErr smithy.APIError
			if fault.Reset {
				assert.False(t, errors.As(err, &apiErr), "no answer at all, not an API error: %v", err)
			} else {
				require.True(t, errors.As(err, &apiErr), "want an API error, got %v", err)
				assert.Equal(t, faultproxy.ErrInternalFailure, apiErr.ErrorCode())
			}
			assert.Equal(t, []string{"record-0", "record-1", "record-2"}, written(t, direct), "written although the call failed")

			_, err = putRecords(t.Context(), through, 3) // the client's retry
			require.NoError(t, err)
			assert.Len(t, written(t, direct), 6, "the retry writes them again")
			assert.Equal(t, faultproxy.Stats{Calls: 2, FailedCalls: 1, LostAnswers: 1, ForwardedEntries: 6}, proxy.Stats())
		})
	}
}

// A reset before the write: nothing written, and the client sees a broken
// connection.
func TestResetBeforeTheWrite(t *testing.T) {
	proxy, through, direct := setup(t)
	proxy.FailCalls(func(call int) *faultproxy.CallFault {
		if call == 1 {
			return &faultproxy.Reset
		}
		return nil
	})
	_, err := putRecords(t.Context(), through, 2)
	require.Error(t, err)
	assert.Empty(t, written(t, direct))
	assert.Equal(t, faultproxy.Stats{Calls: 1, FailedCalls: 1}, proxy.Stats())
}

func TestAlwaysFailsEveryCall(t *testing.T) {
	proxy, through, _ := setup(t)
	proxy.FailCalls(faultproxy.Always(faultproxy.ServerError))
	for range 3 {
		_, err := putRecords(t.Context(), through, 1)
		require.Error(t, err)
	}
	assert.Equal(t, 3, proxy.Stats().FailedCalls)
}

func TestRefusesWhatItCannotFault(t *testing.T) {
	proxy, err := faultproxy.New("http://127.0.0.1:1")
	require.NoError(t, err)
	srv := httptest.NewServer(proxy)
	defer srv.Close()

	cbor, err := http.NewRequest(http.MethodPost, srv.URL+"/service/Kinesis_20131202/operation/PutRecords", bytes.NewReader([]byte{0xbf, 0xff}))
	require.NoError(t, err)
	cbor.Header.Set("Content-Type", "application/cbor")
	cbor.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	resp, err := http.DefaultClient.Do(cbor)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotImplemented, resp.StatusCode)

	xml, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("{}"))
	require.NoError(t, err)
	xml.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
	xml.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(xml)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestNewRejectsRelativeTargets(t *testing.T) {
	_, err := faultproxy.New("localhost:4566")
	assert.Error(t, err)
}

func TestRandomEntriesIsDeterministic(t *testing.T) {
	draw := func(seed uint64) []string {
		choose := faultproxy.RandomEntries(seed, 0.3)
		codes := make([]string, 10000)
		for i := range codes {
			codes[i] = choose(faultproxy.Entry{Index: i})
		}
		return codes
	}
	a, b, c := draw(7), draw(7), draw(8)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	failed := map[string]int{}
	for _, code := range a {
		failed[code]++
	}
	assert.InDelta(t, 3000, failed[faultproxy.ErrThroughputExceeded]+failed[faultproxy.ErrInternalFailure], 200)
	assert.Positive(t, failed[faultproxy.ErrThroughputExceeded])
	assert.Positive(t, failed[faultproxy.ErrInternalFailure])
}
