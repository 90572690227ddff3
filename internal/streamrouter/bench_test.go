package streamrouter

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/emulator"
)

// The benchmarks of docs/BENCHMARKS.md ("Stream router"):
//
//	go test -run '^$' -bench . -benchmem ./internal/streamrouter/
//
// BenchmarkBatch10k is the one issue 9 asks for: the router and a minimal
// forwarder on the same 10,000-record batch into moto's Kinesis, in the same
// run, with CPU per record measured for each and their ratio.

var sink []byte

// batch10k is the benchmark batch: 1,000 sessions of 10 turns, interleaved as
// a stream interleaves concurrent sessions, as Lambda hands it over (JSON).
func batch10k(b *testing.B) ([]events.DynamoDBEventRecord, []byte) {
	recs := turnRecords(1000, 10)
	payload, err := json.Marshal(events.DynamoDBEvent{Records: recs})
	if err != nil {
		b.Fatal(err)
	}
	return recs, payload
}

// BenchmarkTransformEncode is the per-record CPU cost of the router's own
// work: transform one TURN insert and encode it as its JSON line.
func BenchmarkTransformEncode(b *testing.B) {
	rec := turnRecords(1, 1)[0]
	r := fromLambdaRecord(&rec)
	var ev event
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform(&r, received, &ev); err != nil {
			b.Fatal(err)
		}
		sink = appendEvent(sink[:0], &ev)
	}
}

// BenchmarkTransformEncodeReflect is the same with analytics.Event and
// encoding/json, as the router did before issue 9.
func BenchmarkTransformEncodeReflect(b *testing.B) {
	rec := turnRecords(1, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		ev, _, err := Transform(&rec, received)
		if err != nil {
			b.Fatal(err)
		}
		if sink, err = analytics.MarshalLine(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode10k decodes the 10,000-record payload: with aws-lambda-go
// (encoding/json into events.DynamoDBEvent, what lambda.Start does for a
// typed handler) and with the router's decodeBatch.
func BenchmarkDecode10k(b *testing.B) {
	_, payload := batch10k(b)
	b.Run("aws-lambda-go", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var ev events.DynamoDBEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeBatch", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeBatch(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// acceptAll answers every PutRecords entry with success, in process.
type acceptAll struct{ calls atomic.Int64 }

func (a *acceptAll) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	a.calls.Add(1)
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records)), FailedRecordCount: aws.Int32(0)}
	for i := range out.Records {
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")}
	}
	return out, nil
}

// BenchmarkCPU10k is the router's whole invocation on the 10,000-record
// payload with a client that accepts everything in process: no HTTP, no
// SDK, only the router. Profile it with
//
//	go test -run '^$' -bench CPU10k -cpuprofile cpu.out ./internal/streamrouter/
func BenchmarkCPU10k(b *testing.B) {
	_, payload := batch10k(b)
	client := &acceptAll{}
	r, _, _ := testRouter(b, client, discardLogs, func(c *Config) { c.Metrics = io.Discard })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoke(b.Context(), payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(client.calls.Load())/float64(b.N), "calls/op")
}

// forward is the minimal forwarder of issue 9, the CPU baseline: decode the
// batch as aws-lambda-go does, marshal each record's image with
// encoding/json, PutRecords 500 at a time, no retries, no order.
func forward(ctx context.Context, client PutRecordsAPI, stream string, payload []byte) (calls int, err error) {
	var batch events.DynamoDBEvent
	if err := json.Unmarshal(payload, &batch); err != nil {
		return 0, err
	}
	entries := make([]types.PutRecordsRequestEntry, 0, 500)
	for i := range batch.Records {
		rec := &batch.Records[i]
		img := rec.Change.NewImage
		if rec.EventName == analytics.Remove {
			img = rec.Change.OldImage
		}
		data, err := json.Marshal(img)
		if err != nil {
			return calls, err
		}
		entries = append(entries, types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(rec.Change.Keys["PK"].String())})
		if len(entries) == 500 || i == len(batch.Records)-1 {
			calls++
			if _, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(eventsStream), Records: entries}); err != nil {
				return calls, err
			}
			entries = make([]types.PutRecordsRequestEntry, 0, 500)
		}
	}
	return calls, nil
}

// recordingClient counts PutRecords calls, entries and bytes: data and
// partition key, as Kinesis counts a record, and as on-demand ingest bills
// it, each record rounded up to the next KiB.
type recordingClient struct {
	PutRecordsAPI
	mu                            sync.Mutex
	calls, entries, bytes, billed int
}

// billedSize is a record's size as Kinesis on-demand bills ingest: rounded
// up to the nearest 1 KB (1,024 bytes), per the Kinesis pricing page.
func billedSize(size int) int { return (size + 1023) / 1024 * 1024 }

func (c *recordingClient) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	c.mu.Lock()
	c.calls++
	c.entries += len(in.Records)
	for _, e := range in.Records {
		size := len(e.Data) + len(aws.ToString(e.PartitionKey))
		c.bytes += size
		c.billed += billedSize(size)
	}
	c.mu.Unlock()
	return c.PutRecordsAPI.PutRecords(ctx, in, optFns...)
}

func (c *recordingClient) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.entries, c.bytes, c.billed = 0, 0, 0, 0
}

// cpuPerRecord runs the benchmark loop and reports the process CPU per
// stream record, in µs.
func cpuPerRecord(b *testing.B, records int, run func()) float64 {
	b.ReportAllocs()
	before, ok := processCPU()
	for b.Loop() {
		run()
	}
	after, _ := processCPU()
	if !ok {
		return 0
	}
	perRecord := float64((after - before).Nanoseconds()) / 1e3 / float64(b.N*records)
	b.ReportMetric(perRecord, "cpu-µs/record")
	return perRecord
}

// BenchmarkBatch10k routes the 10,000-record batch (1,000 sessions × 10
// turns) into moto's Kinesis with 4 shards, end to end, first with the
// minimal forwarder, then with the router. The router must make the fewest
// calls the limits allow (2: 1,000 session records, 500 per call) and spend
// no more CPU per record than the forwarder: cpu-ratio is router ÷
// forwarder, measured in this run.
func BenchmarkBatch10k(b *testing.B) {
	emu := emulator.New(b)
	createStream(b.Context(), b, emu.Kinesis(), 4)
	client := &recordingClient{PutRecordsAPI: emu.Kinesis()}
	recs, payload := batch10k(b)
	lines := lineSizes(b, recs)
	wantCalls := minCalls(lines, KinesisLimits)
	if wantCalls != 2 {
		b.Fatalf("lower bound %d, want 2", wantCalls)
	}
	unaggregated, unaggregatedBilled := 0, 0 // what the router wrote before issue 9: one record per event
	for session, sizes := range lines {
		for _, size := range sizes {
			unaggregated += size + len(session)
			unaggregatedBilled += billedSize(size + len(session))
		}
	}

	var forwarderCPU float64
	b.Run("forwarder", func(b *testing.B) {
		client.reset()
		forwarderCPU = cpuPerRecord(b, len(recs), func() {
			if _, err := forward(b.Context(), client, eventsStream, payload); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(client.calls)/float64(b.N), "calls/op")
		b.ReportMetric(float64(client.entries)/float64(b.N), "entries/op")
		b.ReportMetric(float64(client.bytes)/float64(b.N*len(recs)), "B/event")
		b.ReportMetric(float64(client.billed)/float64(b.N*len(recs)), "billed-B/event")
	})
	b.Run("router", func(b *testing.B) {
		client.reset()
		r, _, _ := testRouter(b, client, discardLogs, func(c *Config) { c.Metrics = io.Discard })
		routerCPU := cpuPerRecord(b, len(recs), func() {
			before := client.calls
			ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
			out, err := r.Invoke(ctx, payload)
			cancel()
			if err != nil || string(out) != `{"batchItemFailures":[]}` {
				b.Fatalf("batch not delivered: %v %s", err, out)
			}
			if calls := client.calls - before; calls != wantCalls {
				b.Fatalf("%d PutRecords calls, want %d", calls, wantCalls)
			}
		})
		b.ReportMetric(float64(client.calls)/float64(b.N), "calls/op")
		b.ReportMetric(float64(client.entries)/float64(b.N), "entries/op")
		b.ReportMetric(float64(client.bytes)/float64(b.N*len(recs)), "B/event")
		b.ReportMetric(float64(client.billed)/float64(b.N*len(recs)), "billed-B/event")
		b.ReportMetric(float64(unaggregated)/float64(len(recs)), "B/event-unaggregated")
		b.ReportMetric(float64(unaggregatedBilled)/float64(len(recs)), "billed-B/event-unaggregated")
		if forwarderCPU > 0 && routerCPU > 0 {
			ratio := routerCPU / forwarderCPU
			b.ReportMetric(ratio, "cpu-ratio")
			if ratio > 1.0 {
				b.Errorf("router CPU per record is %.2f× the forwarder's (%.2f µs vs %.2f µs); issue 9 allows 1.0×", ratio, routerCPU, forwarderCPU)
			}
		}
	})
}
