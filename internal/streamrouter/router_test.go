package streamrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// minCalls is the fewest calls any order-keeping packing can make: a call
// holds at most MaxRecordsPerCall entries and MaxBytesPerCall bytes, and at
// most one entry of a session.
func minCalls(sizesBySession map[string][]int, l Limits) int {
	count, total, longest := 0, 0, 0
	for _, sizes := range sizesBySession {
		count += len(sizes)
		longest = max(longest, len(sizes))
		for _, size := range sizes {
			total += size
		}
	}
	ceil := func(a, b int) int { return (a + b - 1) / b }
	return max(longest, ceil(count, l.MaxRecordsPerCall), ceil(total, l.MaxBytesPerCall))
}

// sizesOf returns the Kinesis record sizes of the events of recs, by session.
func sizesOf(t testing.TB, recs []events.DynamoDBEventRecord) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for i := range recs {
		ev, _, err := Transform(&recs[i], received)
		require.NoError(t, err)
		out[ev.SessionID] = append(out[ev.SessionID], lineSize(t, ev)+len(ev.SessionID))
	}
	return out
}

// requireAllInOrder checks that every event of recs was written exactly once
// and, per session, in stream order.
func requireAllInOrder(t *testing.T, fake *fakeKinesis, recs []events.DynamoDBEventRecord) {
	t.Helper()
	want := map[string][]string{}
	for i := range recs {
		ev, _, err := Transform(&recs[i], received)
		if err != nil {
			continue
		}
		want[ev.SessionID] = append(want[ev.SessionID], ev.SequenceNumber)
	}
	require.Equal(t, want, fake.sequenceNumbers(t))
}

func handle(t *testing.T, r *Router, recs []events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	t.Helper()
	resp, err := r.Handle(t.Context(), events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	return resp
}

func TestBatchingUsesTheFewestCalls(t *testing.T) {
	cases := []struct {
		name      string
		recs      func(t *testing.T) []events.DynamoDBEventRecord
		wantCalls int
	}{
		{"1,200 small records of 1,200 sessions", func(*testing.T) []events.DynamoDBEventRecord { return turnRecords(1200, 1) }, 3},
		{"1,200 small records of 400 sessions", func(*testing.T) []events.DynamoDBEventRecord { return turnRecords(400, 3) }, 3},
		{"1,200 small records of 600 sessions, 500 per call across turns", func(*testing.T) []events.DynamoDBEventRecord { return turnRecords(600, 2) }, 3},
		{"10,000 small records of 1,000 sessions", func(*testing.T) []events.DynamoDBEventRecord { return turnRecords(1000, 10) }, 20},
		{"records near 1 MiB: 5 MiB per call binds", func(t *testing.T) []events.DynamoDBEventRecord {
			var recs []events.DynamoDBEventRecord
			for i := range 12 {
				recs = append(recs, handoffOfSize(t, fmt.Sprintf("big-%02d", i), fmt.Sprint(i+1), 900<<10))
			}
			return recs
		}, 3},
		{"records of exactly 1 MiB: five fill a call", func(t *testing.T) []events.DynamoDBEventRecord {
			var recs []events.DynamoDBEventRecord
			for i := range 10 {
				recs = append(recs, handoffOfSize(t, fmt.Sprintf("max-%02d", i), fmt.Sprint(i+1), 1<<20))
			}
			return recs
		}, 2},
		{"one long session: one call per event, the price of order", func(*testing.T) []events.DynamoDBEventRecord { return turnRecords(1, 7) }, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs := tc.recs(t)
			fake := &fakeKinesis{}
			r, _, _ := testRouter(t, fake)
			resp := handle(t, r, recs)
			assert.Empty(t, resp.BatchItemFailures)
			assert.Len(t, fake.calls, tc.wantCalls)
			assert.Equal(t, minCalls(sizesOf(t, recs), KinesisLimits), tc.wantCalls, "the expectation is the lower bound")
			for i, call := range fake.calls {
				bytes := 0
				for _, e := range call {
					bytes += len(e.Data) + len(aws.ToString(e.PartitionKey))
				}
				assert.LessOrEqualf(t, len(call), 500, "call %d", i)
				assert.LessOrEqualf(t, bytes, 5<<20, "call %d", i)
			}
			fake.requireOnePerSessionPerCall(t)
			requireAllInOrder(t, fake, recs)
		})
	}
}

// Highest-level-first packing meets the lower bound for any shape of
// same-sized records.
func TestScheduleMeetsTheLowerBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	limits := Limits{MaxRecordsPerCall: 7, MaxBytesPerCall: 1 << 20, MaxBytesPerRecord: 1 << 10}
	for trial := range 300 {
		var entries []*entry
		sizes := map[string][]int{}
		for sess := range 1 + rng.IntN(30) {
			for range 1 + rng.IntN(1+rng.IntN(12)) {
				e := &entry{index: len(entries), session: fmt.Sprint("s", sess), data: []byte("0123456789")}
				entries = append(entries, e)
				sizes[e.session] = append(sizes[e.session], e.size())
			}
		}
		rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		for i, e := range entries { // stream order is batch order
			e.index = i
		}
		sched := newSchedule(limits, entries)
		calls := 0
		for call := sched.next(); len(call) > 0; call = sched.next() {
			calls++
			for _, e := range call {
				sched.delivered(e)
			}
		}
		require.Emptyf(t, sched.undelivered(), "trial %d", trial)
		require.Equalf(t, minCalls(sizes, limits), calls, "trial %d", trial)
	}
}

func TestOversizeEventIsReportedNotDropped(t *testing.T) {
	recs := []events.DynamoDBEventRecord{
		handoffOfSize(t, "s-1", "1", 300),
		handoffOfSize(t, "s-2", "2", 1<<20+1), // poison
		handoffOfSize(t, "s-2", "3", 300),     // held behind it: order
		handoffOfSize(t, "s-3", "4", 300),
	}
	fake := &fakeKinesis{}
	r, logs, metrics := testRouter(t, fake)
	resp := handle(t, r, recs)

	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "2"}}, resp.BatchItemFailures)
	assert.Equal(t, map[string][]string{"s-1": {"1"}, "s-3": {"4"}}, fake.sequenceNumbers(t))
	assert.Contains(t, logs.String(), "event over the Kinesis record limit")
	m := emfValues(t, metrics.String())
	assert.Equal(t, 1.0, m["Oversize"])
	assert.Equal(t, 2.0, m["Undelivered"])
	assert.Equal(t, 2.0, m["EventsOut"])
}

// A failed entry is retried before anything later of its session is sent,
// so each session's events reach the stream in stream order, exactly once.
func TestEntryFailuresKeepSessionOrder(t *testing.T) {
	recs := turnRecords(300, 8)
	rng := rand.New(rand.NewPCG(42, 42))
	fake := &fakeKinesis{failEntry: func(_, _ int, _ string) string {
		if rng.Float64() < 0.3 {
			return []string{"ProvisionedThroughputExceededException", "InternalFailure"}[rng.IntN(2)]
		}
		return ""
	}}
	r, _, metrics := testRouter(t, fake)
	resp := handle(t, r, recs)

	assert.Empty(t, resp.BatchItemFailures)
	fake.requireOnePerSessionPerCall(t)
	requireAllInOrder(t, fake, recs)
	m := emfValues(t, metrics.String())
	assert.Positive(t, m["EntryFailures"])
	assert.Equal(t, m["EntryFailures"], m["Retries"], "every failed entry was sent again")
	assert.Equal(t, float64(len(recs)), m["EventsOut"])
}

func TestRetryableCallFailuresAreRetried(t *testing.T) {
	recs := turnRecords(50, 2)
	fake := &fakeKinesis{failCall: func(call int) error {
		switch call {
		case 1:
			return &smithy.GenericAPIError{Code: "InternalFailure", Message: "boom"}
		case 2:
			return &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}
		}
		return nil
	}}
	r, _, metrics := testRouter(t, fake)
	resp := handle(t, r, recs)
	assert.Empty(t, resp.BatchItemFailures)
	requireAllInOrder(t, fake, recs)
	m := emfValues(t, metrics.String())
	assert.Equal(t, 2.0, m["CallFailures"])
	assert.Equal(t, 4.0, m["PutRecordsCalls"])
}

func TestNonRetryableCallFailureStopsAtOnce(t *testing.T) {
	recs := turnRecords(5, 2)
	fake := &fakeKinesis{failCall: func(int) error {
		return &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no such stream"}
	}}
	r, logs, _ := testRouter(t, fake)
	resp := handle(t, r, recs)
	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: recs[0].Change.SequenceNumber}}, resp.BatchItemFailures)
	assert.Len(t, fake.calls, 1)
	assert.Contains(t, logs.String(), "not retrying")
}

func TestDeadlineBoundsRetries(t *testing.T) {
	recs := turnRecords(20, 3)
	fake := &fakeKinesis{failEntry: func(int, int, string) string { return "ProvisionedThroughputExceededException" }}
	r, _, metrics := testRouter(t, fake, func(c *Config) {
		c.Backoff = Backoff{Base: 5 * time.Millisecond, Max: 40 * time.Millisecond}
		c.SafetyMargin = 50 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	resp, err := r.Handle(ctx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	assert.True(t, time.Now().Before(deadline), "returned after the deadline")
	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: recs[0].Change.SequenceNumber}}, resp.BatchItemFailures)
	assert.Empty(t, fake.written)
	m := emfValues(t, metrics.String())
	assert.Greater(t, m["PutRecordsCalls"], 2.0, "it kept trying until the deadline")
	assert.Equal(t, float64(len(recs)), m["Undelivered"])
}

// The response names the first undelivered record in stream order; skipped
// records before it do not count, delivered records of other sessions after
// it are not held back.
func TestReportsTheFirstUndeliveredRecord(t *testing.T) {
	recs := []events.DynamoDBEventRecord{
		record("INSERT", "1", keys("SESSION#ok", "FEEDBACK#1"), nil, nil), // skipped
		handoffOfSize(t, "ok", "2", 300),
		handoffOfSize(t, "bad", "3", 300),
		handoffOfSize(t, "ok", "4", 300),
		handoffOfSize(t, "bad", "5", 300),
		handoffOfSize(t, "other", "6", 300),
	}
	fake := &fakeKinesis{failEntry: func(_, _ int, pk string) string {
		if pk == "bad" {
			return "InternalFailure"
		}
		return ""
	}}
	r, logs, metrics := testRouter(t, fake, func(c *Config) { c.Budget = 300 * time.Millisecond })
	resp := handle(t, r, recs)
	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "3"}}, resp.BatchItemFailures)
	assert.Equal(t, map[string][]string{"ok": {"2", "4"}, "other": {"6"}}, fake.sequenceNumbers(t))
	for _, call := range fake.calls {
		for _, e := range call {
			assert.NotContains(t, string(e.Data), `"sequence_number":"5"`, "a later event of a failing session is never sent")
		}
	}
	m := emfValues(t, metrics.String())
	assert.Equal(t, 1.0, m["SkippedUnknownSortKey"])
	assert.Equal(t, 1.0, m["Skipped"])
	assert.Equal(t, 2.0, m["Undelivered"])
	assert.Contains(t, logs.String(), `"reason":"unknown_sort_key"`)
	assert.Contains(t, logs.String(), `"first_state":"failed"`)
}

func TestEmptyBatch(t *testing.T) {
	fake := &fakeKinesis{}
	r, _, _ := testRouter(t, fake)
	resp := handle(t, r, nil)
	assert.Empty(t, fake.calls)
	b, err := json.Marshal(resp)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[]}`, string(b))
}

func TestMetricsLineIsEMF(t *testing.T) {
	fake := &fakeKinesis{}
	r, _, metrics := testRouter(t, fake)
	recs := append(turnRecords(3, 1), record("INSERT", "9", keys("USER#1", "META"), nil, nil))
	handle(t, r, recs)

	line := metrics.String()
	require.True(t, strings.HasSuffix(line, "\n"))
	require.Equal(t, 1, strings.Count(line, "\n"), "one line per invocation")
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		FunctionName string
	}
	require.NoError(t, json.Unmarshal([]byte(line), &doc))
	require.Len(t, doc.AWS.CloudWatchMetrics, 1)
	directive := doc.AWS.CloudWatchMetrics[0]
	assert.Equal(t, Namespace, directive.Namespace)
	assert.Equal(t, [][]string{{"FunctionName"}}, directive.Dimensions)
	assert.Equal(t, "stream-router", doc.FunctionName, "the default outside Lambda")
	assert.Positive(t, doc.AWS.Timestamp)
	values := emfValues(t, line)
	var names []string
	for _, m := range directive.Metrics {
		names = append(names, m.Name)
		assert.Containsf(t, values, m.Name, "declared metric %s has no value", m.Name)
	}
	for _, want := range []string{"RecordsIn", "EventsOut", "Skipped", "SkippedMalformedKey", "Retries", "EntryFailures", "CallFailures", "Undelivered", "BatchLatency", "PutRecordsCalls"} {
		assert.Contains(t, names, want)
	}
	assert.Equal(t, 4.0, values["RecordsIn"])
	assert.Equal(t, 3.0, values["EventsOut"])
	assert.Equal(t, 1.0, values["SkippedMalformedKey"])
}

func TestNewChecksConfig(t *testing.T) {
	_, err := New(Config{Client: &fakeKinesis{}})
	assert.ErrorContains(t, err, "StreamName")
	_, err = New(Config{StreamName: "s"})
	assert.ErrorContains(t, err, "Client")
	_, err = New(Config{StreamName: "s", Client: &fakeKinesis{}, Limits: Limits{MaxRecordsPerCall: 1, MaxBytesPerCall: 10, MaxBytesPerRecord: 20}})
	assert.ErrorContains(t, err, "Limits")
}

func TestWorkDeadline(t *testing.T) {
	r, _, _ := testRouter(t, &fakeKinesis{}, func(c *Config) { c.SafetyMargin = time.Second })
	start := time.Now()
	long, cancel := context.WithDeadline(context.Background(), start.Add(time.Minute))
	defer cancel()
	short, cancel2 := context.WithDeadline(context.Background(), start.Add(2*time.Second))
	defer cancel2()
	assert.Equal(t, start.Add(59*time.Second), r.workDeadline(long, start))
	assert.Equal(t, start.Add(1500*time.Millisecond), r.workDeadline(short, start), "a quarter of a short time")
	assert.Equal(t, start.Add(DefaultBudget), r.workDeadline(context.Background(), start))
}

// emfValues returns the numeric members of an EMF line.
func emfValues(t testing.TB, line string) map[string]float64 {
	t.Helper()
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &raw))
	out := map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}
