package streamrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// fakeKinesis is a PutRecords client that keeps, per partition key, the data
// it accepted in the order it accepted them: what a shard would hold.
type fakeKinesis struct {
	mu        sync.Mutex
	calls     [][]types.PutRecordsRequestEntry
	written   map[string][]string
	failEntry func(call, index int, partitionKey string) string // error code or ""
	failCall  func(call int) error
}

func (f *fakeKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in.Records)
	call := len(f.calls)
	if f.failCall != nil {
		if err := f.failCall(call); err != nil {
			return nil, err
		}
	}
	if f.written == nil {
		f.written = map[string][]string{}
	}
	out := &kinesis.PutRecordsOutput{}
	for i, e := range in.Records {
		pk := aws.ToString(e.PartitionKey)
		if f.failEntry != nil {
			if code := f.failEntry(call, i, pk); code != "" {
				out.Records = append(out.Records, types.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("fake")})
				out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
				continue
			}
		}
		f.written[pk] = append(f.written[pk], string(e.Data))
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			SequenceNumber: aws.String(fmt.Sprint(call*1000 + i)), ShardId: aws.String("shardId-000000000000"),
		})
	}
	return out, nil
}

// sequenceNumbers returns, per session, the sequence_number of each written
// event in write order, after checking that every record is 1–500 lines of
// its partition key's session.
func (f *fakeKinesis) sequenceNumbers(t *testing.T) map[string][]string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for pk, records := range f.written {
		for _, data := range records {
			for _, ev := range recordEvents(t, pk, []byte(data)) {
				out[pk] = append(out[pk], ev.SequenceNumber)
			}
		}
	}
	return out
}

// recordEvents checks the consumer contract of one Kinesis record (1 to 500
// events of the partition key's session, one JSON object per line, each
// line ending in "\n", no more than a record's bytes) and returns its events.
func recordEvents(t testing.TB, partitionKey string, data []byte) []analytics.Event {
	t.Helper()
	require.True(t, bytes.HasSuffix(data, []byte("\n")), "a record ends in a newline: %.200q", data)
	require.LessOrEqual(t, len(data)+len(partitionKey), KinesisLimits.MaxBytesPerRecord)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1] // after the last "\n"
	require.NotEmpty(t, lines)
	require.LessOrEqual(t, len(lines), KinesisLimits.MaxEventsPerRecord)
	if len(lines) > 1 {
		require.LessOrEqual(t, len(data)+len(partitionKey), KinesisLimits.MaxBytesPerAggregate)
	}
	events := make([]analytics.Event, len(lines))
	for i, line := range lines {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&events[i]), "line %q", line)
		require.False(t, dec.More(), "one object per line: %q", line)
		require.Equal(t, partitionKey, events[i].SessionID, "partition key is the session id")
	}
	return events
}

// requireOnePerSessionPerCall checks the ordering rule on every call made.
func (f *fakeKinesis) requireOnePerSessionPerCall(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, call := range f.calls {
		seen := map[string]bool{}
		for _, e := range call {
			pk := aws.ToString(e.PartitionKey)
			require.Falsef(t, seen[pk], "call %d carries two entries of session %s", i+1, pk)
			seen[pk] = true
		}
	}
}

// testRouter returns a router with fast backoff, whose logs and metrics go
// to the returned buffers.
func testRouter(t testing.TB, client PutRecordsAPI, tweak ...func(*Config)) (*Router, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	logs, metrics := &bytes.Buffer{}, &bytes.Buffer{}
	cfg := Config{
		StreamName: "manga-assist-events",
		Client:     client,
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		Metrics:    metrics,
		Backoff:    Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	r, err := New(cfg)
	require.NoError(t, err)
	return r, logs, metrics
}

func discardLogs(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// turnRecords returns sessions×perSession TURN inserts, interleaved the way a
// stream interleaves concurrent sessions; sequence numbers follow batch order.
func turnRecords(sessions, perSession int) []events.DynamoDBEventRecord {
	var recs []events.DynamoDBEventRecord
	for turn := range perSession {
		for sess := range sessions {
			pk, sk := fmt.Sprintf("SESSION#s-%04d", sess), fmt.Sprintf("TURN#%04d", turn)
			k := keys(pk, sk)
			img := with(attrs{"role": s("user"), "token_count": n("12"), "response_id": s("r")}, k)
			recs = append(recs, record("INSERT", fmt.Sprintf("%08d", len(recs)+1), k, img, nil))
		}
	}
	return recs
}

// handoffOfSize returns a HANDOFF insert whose Kinesis record (JSON line plus
// partition key) is exactly size bytes.
func handoffOfSize(t testing.TB, session, seq string, size int) events.DynamoDBEventRecord {
	t.Helper()
	k := keys("SESSION#"+session, "HANDOFF#1")
	build := func(reason string) events.DynamoDBEventRecord {
		return record("INSERT", seq, k, with(attrs{"agent_id": s("a-1"), "reason": s(reason)}, k), nil)
	}
	rec := build("")
	ev, _, err := Transform(&rec, received)
	require.NoError(t, err)
	bare := lineSize(t, ev) + len(session)
	require.LessOrEqual(t, bare, size)
	return build(strings.Repeat("r", size-bare)) // ASCII letters encode one byte each
}

func lineSize(t testing.TB, ev analytics.Event) int {
	t.Helper()
	b, err := analytics.MarshalLine(&ev)
	require.NoError(t, err)
	return len(b)
}
