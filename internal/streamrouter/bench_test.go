package streamrouter

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/emulator"
)

var sink []byte

// BenchmarkTransformEncode is the per-record CPU cost: transform one TURN
// insert and encode it as its Kinesis JSON line.
func BenchmarkTransformEncode(b *testing.B) {
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

// countingClient counts PutRecords calls.
type countingClient struct {
	PutRecordsAPI
	calls atomic.Int64
}

func (c *countingClient) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	c.calls.Add(1)
	return c.PutRecordsAPI.PutRecords(ctx, in, optFns...)
}

// BenchmarkBatch10k routes a 10,000-record batch (1,000 sessions of 10
// turns) into moto's Kinesis, end to end, and checks that it takes the
// fewest calls the limits allow: 20 of 500.
func BenchmarkBatch10k(b *testing.B) {
	emu := emulator.New(b)
	createStream(b.Context(), b, emu.Kinesis(), 4)
	client := &countingClient{PutRecordsAPI: emu.Kinesis()}
	r, _, _ := testRouter(b, client, discardLogs)
	batch := events.DynamoDBEvent{Records: turnRecords(1000, 10)}
	wantCalls := int64(minCalls(sizesOf(b, batch.Records), KinesisLimits))
	if wantCalls != 20 { // 10,000 records of 500 per call; sessions and bytes do not bind
		b.Fatalf("lower bound %d, want 20", wantCalls)
	}

	b.ReportAllocs()
	for b.Loop() {
		before := client.calls.Load()
		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
		resp, err := r.Handle(ctx, batch)
		cancel()
		if err != nil || len(resp.BatchItemFailures) > 0 {
			b.Fatalf("batch not delivered: %v %+v", err, resp)
		}
		if calls := client.calls.Load() - before; calls != wantCalls {
			b.Fatalf("%d PutRecords calls, want %d", calls, wantCalls)
		}
	}
	b.ReportMetric(float64(client.calls.Load())/float64(b.N), "calls/op")
	b.ReportMetric(float64(len(batch.Records))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
