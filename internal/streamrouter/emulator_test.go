package streamrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const eventsStream = "manga-assist-events"

func createTable(ctx context.Context, t testing.TB, ddb *dynamodb.Client) string {
	t.Helper()
	out, err := ddb.CreateTable(ctx, sessions.CreateTableInput(sessions.DefaultTableName))
	require.NoError(t, err)
	require.NotNil(t, out.TableDescription.LatestStreamArn)
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

func createStream(ctx context.Context, t testing.TB, kin *kinesis.Client, shards int32) {
	t.Helper()
	_, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(eventsStream), ShardCount: aws.Int32(shards)})
	require.NoError(t, err)
	waiter := kinesis.NewStreamExistsWaiter(kin, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	require.NoError(t, waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(eventsStream)}, 30*time.Second))
}

// readStreamRecords reads every record of the table's stream from the start.
func readStreamRecords(ctx context.Context, t testing.TB, streams *dynamodbstreams.Client, arn string) []streamtypes.Record {
	t.Helper()
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	require.NoError(t, err)
	var records []streamtypes.Record
	for _, shard := range desc.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		iter := it.ShardIterator
		for range 50 { // bounded: an open shard hands out next iterators forever
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			require.NoError(t, err)
			if len(out.Records) == 0 || out.NextShardIterator == nil {
				records = append(records, out.Records...)
				break
			}
			records = append(records, out.Records...)
			iter = out.NextShardIterator
		}
	}
	return records
}

// lambdaEvent converts DynamoDB Streams API records into the event Lambda
// hands the function, through JSON as Lambda does.
func lambdaEvent(t testing.TB, arn string, recs []streamtypes.Record) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	for _, r := range recs {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
			EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion), EventSourceArn: arn,
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: aws.ToTime(r.Dynamodb.ApproximateCreationDateTime)},
				Keys:                        lambdaAttrs(r.Dynamodb.Keys),
				NewImage:                    lambdaAttrs(r.Dynamodb.NewImage),
				OldImage:                    lambdaAttrs(r.Dynamodb.OldImage),
				SequenceNumber:              aws.ToString(r.Dynamodb.SequenceNumber),
				SizeBytes:                   aws.ToInt64(r.Dynamodb.SizeBytes),
				StreamViewType:              string(r.Dynamodb.StreamViewType),
			},
		})
	}
	wire, err := json.Marshal(ev)
	require.NoError(t, err)
	var delivered events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(wire, &delivered))
	return delivered
}

func lambdaAttrs(m map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = lambdaAttr(v)
	}
	return out
}

func lambdaAttr(v streamtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			list[i] = lambdaAttr(e)
		}
		return events.NewListAttribute(list)
	case *streamtypes.AttributeValueMemberM:
		return events.NewMapAttribute(lambdaAttrs(v.Value))
	default: // NULL, and anything newer than this converter
		return events.NewNullAttribute()
	}
}

// kinesisRecord is one record read back from the Kinesis stream.
type kinesisRecord struct {
	partitionKey string
	data         []byte
	events       []analytics.Event
}

// readKinesis reads every shard of the events stream from the start and
// returns the records by partition key, in shard order, each checked
// against the consumer contract (recordEvents).
func readKinesis(ctx context.Context, t testing.TB, kin *kinesis.Client) map[string][]kinesisRecord {
	t.Helper()
	shards, err := kin.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(eventsStream)})
	require.NoError(t, err)
	out := map[string][]kinesisRecord{}
	for _, shard := range shards.Shards {
		it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(eventsStream), ShardId: shard.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		iter := it.ShardIterator
		for range 100 { // bounded; stops at the first empty page (caught up)
			page, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
			require.NoError(t, err)
			for _, r := range page.Records {
				rec := kinesisRecord{partitionKey: aws.ToString(r.PartitionKey), data: r.Data}
				rec.events = recordEvents(t, rec.partitionKey, r.Data)
				out[rec.partitionKey] = append(out[rec.partitionKey], rec)
			}
			if len(page.Records) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// eventsBySession flattens records into each session's events, in stream
// order.
func eventsBySession(records map[string][]kinesisRecord) map[string][]analytics.Event {
	out := map[string][]analytics.Event{}
	for pk, recs := range records {
		for _, r := range recs {
			out[pk] = append(out[pk], r.events...)
		}
	}
	return out
}

// sequences returns each session's sequence numbers in stream order.
func sequences(byKey map[string][]analytics.Event) map[string][]string {
	out := map[string][]string{}
	for pk, evs := range byKey {
		for _, ev := range evs {
			out[pk] = append(out[pk], ev.SequenceNumber)
		}
	}
	return out
}

type writer struct {
	ctx   context.Context
	t     testing.TB
	ddb   *dynamodb.Client
	table string
}

func (w writer) put(item map[string]any) {
	w.t.Helper()
	av, err := attributevalue.MarshalMap(item)
	require.NoError(w.t, err)
	_, err = w.ddb.PutItem(w.ctx, &dynamodb.PutItemInput{TableName: aws.String(w.table), Item: av})
	require.NoError(w.t, err)
}

func (w writer) set(pk, sk, attr string, value any) {
	w.t.Helper()
	av, err := attributevalue.Marshal(value)
	require.NoError(w.t, err)
	_, err = w.ddb.UpdateItem(w.ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(w.table),
		Key:                       itemKey(pk, sk),
		UpdateExpression:          aws.String("SET #a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": av},
	})
	require.NoError(w.t, err)
}

func (w writer) remove(pk, sk string) {
	w.t.Helper()
	_, err := w.ddb.DeleteItem(w.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.table), Key: itemKey(pk, sk)})
	require.NoError(w.t, err)
}

func itemKey(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		sessions.PartitionKey: &ddbtypes.AttributeValueMemberS{Value: pk},
		sessions.SortKey:      &ddbtypes.AttributeValueMemberS{Value: sk},
	}
}

// TestEndToEnd writes sessions to the table in moto, hands the table's real
// stream records to the router, and reads every shard of the Kinesis stream.
func TestEndToEnd(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	streamArn := createTable(ctx, t, emu.DynamoDB())
	kin := emu.Kinesis()
	createStream(ctx, t, kin, 4)

	w := writer{ctx, t, emu.DynamoDB(), sessions.DefaultTableName}
	ids := []string{"s-a", "s-b", "s-c", "s-d", "s-e"}
	const handoffSK = "HANDOFF#2026-03-25T14:00:00Z"
	// Rounds across sessions, so that the stream interleaves them.
	steps := []func(id string){
		func(id string) {
			w.put(map[string]any{"PK": sessions.PK(id), "SK": "META", "status": "active", "customer_id": "c-" + id, "turn_count": 0})
		},
		func(id string) {
			w.put(map[string]any{"PK": sessions.PK(id), "SK": "TURN#0001", "role": "user", "token_count": 12, "text": "vol 3?"})
		},
		func(id string) {
			w.put(map[string]any{"PK": sessions.PK(id), "SK": "TURN#0002", "role": "assistant", "token_count": 140.5, "response_id": "r-" + id})
		},
		func(id string) { w.set(sessions.PK(id), "META", "turn_count", 2) },
		func(id string) {
			w.put(map[string]any{"PK": sessions.PK(id), "SK": "SUMMARY#1", "summary": "asked about volume 3"})
		},
		func(id string) {
			w.put(map[string]any{"PK": sessions.PK(id), "SK": handoffSK, "agent_id": "agent-7", "reason": "refund"})
		},
		func(id string) { w.set(sessions.PK(id), "META", "status", "handed_off") },
		func(id string) { w.remove(sessions.PK(id), "SUMMARY#1") },
	}
	for i, step := range steps {
		for _, id := range ids {
			step(id)
		}
		if i == 3 { // records the router must skip, counted, in the middle of the batch
			w.put(map[string]any{"PK": sessions.PK("s-a"), "SK": "FEEDBACK#1", "stars": 5})
			w.put(map[string]any{"PK": "USER#u-1", "SK": "META", "name": "n"})
		}
	}

	batch := lambdaEvent(t, streamArn, readStreamRecords(ctx, t, emu.Streams(), streamArn))
	require.Len(t, batch.Records, len(ids)*len(steps)+2)

	r, logs, metrics := testRouter(t, kin)
	handlerCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := r.Handle(handlerCtx, batch)
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)

	records := readKinesis(ctx, t, kin)
	require.ElementsMatch(t, ids, mapKeys(records), "partition keys are the session ids")
	got := eventsBySession(records)
	eventIDs := map[string]bool{}
	for _, id := range ids {
		require.Len(t, records[id], 1, "one record per session: its 8 events, one per line")
		assert.Equal(t, 8, strings.Count(string(records[id][0].data), "}\n"))
		recs := got[id]
		var shape []string
		for _, ev := range recs {
			assert.Equal(t, id, ev.SessionID)
			assert.False(t, eventIDs[ev.EventID], "event %s written twice", ev.EventID)
			eventIDs[ev.EventID] = true
			assert.Positive(t, ev.Timestamp)
			assert.Equal(t, ev.Timestamp, ev.EventTimeMS/1000)
			shape = append(shape, ev.EventType+" "+ev.SortKey)
		}
		require.Equal(t, []string{
			"INSERT META", "INSERT TURN#0001", "INSERT TURN#0002", "MODIFY META",
			"INSERT SUMMARY#1", "INSERT " + handoffSK, "MODIFY META", "REMOVE SUMMARY#1",
		}, shape, "session %s in stream order", id)
		requireIncreasingSequence(t, recs)

		metaInsert, user, assistant, turnCount, summary, handoff, statusChange, removal :=
			recs[0], recs[1], recs[2], recs[3], recs[4], recs[5], recs[6], recs[7]
		assert.Equal(t, "meta", metaInsert.ItemType)
		assert.Equal(t, ptr("active"), metaInsert.Status)
		assert.Nil(t, metaInsert.OldStatus, "INSERT has no old status")
		assert.Equal(t, ptr("c-"+id), metaInsert.CustomerID)
		assert.Equal(t, ptr(0.0), metaInsert.TurnCount, "a real zero")
		assert.Equal(t, ptr("user"), user.Role)
		assert.Equal(t, ptr(12.0), user.TokenCount)
		assert.Nil(t, user.ResponseID, "absent, not empty")
		assert.Equal(t, ptr(140.5), assistant.TokenCount)
		assert.Equal(t, ptr("r-"+id), assistant.ResponseID)
		assert.Equal(t, ptr(2.0), turnCount.TurnCount)
		assert.Equal(t, ptr("active"), turnCount.OldStatus)
		assert.Equal(t, "summary", summary.ItemType)
		assert.Equal(t, ptr("1"), summary.SummaryNumber)
		assert.Equal(t, ptr("agent-7"), handoff.AgentID)
		assert.Equal(t, ptr("refund"), handoff.Reason)
		assert.Equal(t, ptr("handed_off"), statusChange.Status)
		assert.Equal(t, ptr("active"), statusChange.OldStatus)
		assert.Equal(t, "REMOVE", removal.EventType)
		assert.Equal(t, ptr("1"), removal.SummaryNumber)
	}
	for _, rec := range batch.Records { // every delivered event is a stream record, by id and position
		if eventIDs[rec.EventID] {
			delete(eventIDs, rec.EventID)
		}
	}
	assert.Empty(t, eventIDs, "events that match no stream record")

	m := emfValues(t, metrics.String())
	assert.Equal(t, float64(len(batch.Records)), m["RecordsIn"])
	assert.Equal(t, float64(len(ids)*len(steps)), m["EventsOut"])
	assert.Equal(t, 1.0, m["SkippedUnknownSortKey"])
	assert.Equal(t, 1.0, m["SkippedMalformedKey"])
	assert.Equal(t, 1.0, m["PutRecordsCalls"], "five sessions of eight events: one call of five records")
	assert.Equal(t, float64(len(ids)), m["KinesisRecordsOut"])
	assert.Contains(t, logs.String(), `"msg":"record skipped"`)
}

// requireIncreasingSequence checks that a session's records are in the order
// of their DynamoDB stream sequence numbers (moto's are decimal integers).
func requireIncreasingSequence(t testing.TB, recs []analytics.Event) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		prev, cur := recs[i-1].SequenceNumber, recs[i].SequenceNumber
		require.Truef(t, len(prev) < len(cur) || len(prev) == len(cur) && prev < cur,
			"sequence %s written after %s", cur, prev)
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// proxied starts a fault proxy in front of the emulator and returns it with
// a Kinesis client that goes through it.
func proxied(t testing.TB, emu *emulator.Emulator) (*faultproxy.Proxy, *kinesis.Client) {
	t.Helper()
	proxy, err := faultproxy.New(emu.URL())
	require.NoError(t, err)
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return proxy, emu.Kinesis(func(o *kinesis.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// With 30 % of records failing at the wire, and some whole calls, nothing is
// lost, nothing is duplicated and every session stays in order. Records of
// at most 3 events make each session a chain of 4 records, so that order
// across calls is at stake, as it is for a session of more than 500 events.
func TestWireFaultsLoseNothing(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	createStream(ctx, t, emu.Kinesis(), 4)
	proxy, client := proxied(t, emu)
	proxy.FailEntries(faultproxy.RandomEntries(2026, 0.3))
	proxy.FailCalls(func(call int) *faultproxy.CallFault {
		switch call % 7 {
		case 3:
			return &faultproxy.ServerError
		case 5:
			return &faultproxy.Throttled
		case 6:
			return &faultproxy.Reset
		}
		return nil
	})

	recs := turnRecords(40, 10)
	limits := KinesisLimits
	limits.MaxEventsPerRecord = 3
	r, _, metrics := testRouter(t, client, withLimits(limits))
	handlerCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	resp, err := r.Handle(handlerCtx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)

	stats := proxy.Stats()
	assert.Positive(t, stats.FailedEntries)
	assert.Positive(t, stats.FailedCalls)
	assert.Equal(t, 160, stats.ForwardedEntries, "each record (40 sessions × 4) forwarded once")

	got := readKinesis(ctx, t, emu.Kinesis()) // straight from moto
	require.Equal(t, wantSequence(t, recs), sequences(eventsBySession(got)), "exactly once, in stream order per session")

	m := emfValues(t, metrics.String())
	assert.Equal(t, float64(stats.FailedEntries), m["EntryFailures"])
	assert.Equal(t, float64(stats.FailedCalls), m["CallFailures"])
	assert.Equal(t, float64(stats.Calls), m["PutRecordsCalls"], "one HTTP call per attempt: SDK retries are off")
	assert.Equal(t, 160.0, m["KinesisRecordsOut"])
}

// Issue 15.1: when Kinesis writes a call but its answer is lost (a 500 or a
// reset after the write), the router cannot know and sends the call again,
// so records are written twice within one invocation. Nothing is lost, the
// response reports nothing, and per session the first occurrences of the
// events are in stream order: consumers that keep the first occurrence of
// each event_id read every session in order.
func TestLostAnswersDuplicateButLoseNothing(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	createStream(ctx, t, emu.Kinesis(), 2)
	proxy, client := proxied(t, emu)
	proxy.FailCalls(func(call int) *faultproxy.CallFault {
		switch call % 4 {
		case 1:
			return &faultproxy.LostAnswer
		case 3:
			return &faultproxy.ResetAfterWrite
		}
		return nil
	})

	recs := turnRecords(30, 10)
	limits := KinesisLimits
	limits.MaxEventsPerRecord = 4 // chains of 3 records per session
	r, _, metrics := testRouter(t, client, withLimits(limits))
	handlerCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	resp, err := r.Handle(handlerCtx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures, "the router cannot tell a lost answer from a failed write")

	stats := proxy.Stats()
	require.Positive(t, stats.LostAnswers)
	got := eventsBySession(readKinesis(ctx, t, emu.Kinesis()))
	firsts := map[string][]string{}
	duplicates := 0
	for session, evs := range got {
		seen := map[string]bool{}
		for _, ev := range evs {
			if seen[ev.EventID] {
				duplicates++
				continue
			}
			seen[ev.EventID] = true
			firsts[session] = append(firsts[session], ev.SequenceNumber)
		}
	}
	require.Equal(t, wantSequence(t, recs), firsts, "every event, first occurrences in stream order per session")
	assert.Positive(t, duplicates, "lost answers do write twice")
	m := emfValues(t, metrics.String())
	assert.Equal(t, float64(len(recs)), m["EventsOut"])
	assert.Equal(t, float64(stats.LostAnswers), m["CallFailures"])
	t.Logf("%d calls, %d answers lost, %d duplicate events", stats.Calls, stats.LostAnswers, duplicates)
}

// A session that can never be written (every record of it rejected, here by
// the fault proxy; an oversize event is the other case, in
// TestOversizeEventIsReportedNotDropped) is reported in batchItemFailures
// from its first event, while every other session is delivered in full.
func TestUnwritableSessionIsReportedOthersDelivered(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	createStream(ctx, t, emu.Kinesis(), 2)
	proxy, client := proxied(t, emu)
	proxy.FailEntries(func(e faultproxy.Entry) string {
		if e.PartitionKey == "s-0003" {
			return faultproxy.ErrInternalFailure
		}
		return ""
	})

	recs := busySession(1200, 20) // s-0000: 1,200 events and more, three records
	base := len(recs)
	recs = append(recs, turnRecords(5, 2)...)
	for i := base; i < len(recs); i++ {
		recs[i].Change.SequenceNumber = fmt.Sprintf("%08d", i+1)
		recs[i].EventID = "ev-" + recs[i].Change.SequenceNumber
	}
	r, logs, metrics := testRouter(t, client, func(c *Config) {
		c.Backoff = Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}
	})
	handlerCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := r.Handle(handlerCtx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)

	want := wantSequence(t, recs)
	bad := want["s-0003"]
	delete(want, "s-0003")
	require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: bad[0]}}, resp.BatchItemFailures)
	got := sequences(eventsBySession(readKinesis(ctx, t, emu.Kinesis())))
	require.Equal(t, want, got, "every other session in full and in order, the busy one included")
	m := emfValues(t, metrics.String())
	assert.Equal(t, float64(len(bad)), m["Undelivered"])
	assert.Contains(t, logs.String(), `"first_session_id":"s-0003"`)
}

// When every call fails, the handler gives up before the deadline and names
// the first record that was not delivered.
func TestPermanentWireFailure(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	createStream(ctx, t, emu.Kinesis(), 2)
	proxy, client := proxied(t, emu)
	proxy.FailCalls(faultproxy.Always(faultproxy.ServerError))

	recs := append([]events.DynamoDBEventRecord{record("INSERT", "00000000", keys("SESSION#s-0000", "FEEDBACK#1"), nil, nil)},
		turnRecords(5, 2)...)
	r, logs, metrics := testRouter(t, client, func(c *Config) {
		c.Backoff = Backoff{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond}
		c.SafetyMargin = 200 * time.Millisecond
	})
	handlerCtx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	deadline, _ := handlerCtx.Deadline()
	resp, err := r.Handle(handlerCtx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	assert.True(t, time.Now().Before(deadline), "returned %v after the deadline", time.Since(deadline))

	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: recs[1].Change.SequenceNumber}}, resp.BatchItemFailures,
		"the first undelivered record, not the skipped one before it")
	assert.Empty(t, readKinesis(ctx, t, emu.Kinesis()))
	assert.Greater(t, proxy.Stats().Calls, 2, "retried until time ran out")
	m := emfValues(t, metrics.String())
	assert.Equal(t, 10.0, m["Undelivered"])
	assert.Contains(t, logs.String(), "events left undelivered")
	t.Logf("%d calls before giving up", proxy.Stats().Calls)
}

// A session id longer than a partition key may be (256 characters) can never
// be written, and Kinesis refuses the whole call that carries it: it is
// poison, reported, and every other session is delivered.
func TestOverlongSessionIDIsPoison(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	kin := emu.Kinesis()
	createStream(ctx, t, kin, 1)
	long := strings.Repeat("é", MaxPartitionKeyChars+1) // 257 characters, 514 bytes

	_, err := kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(eventsStream), Records: []kinesistypes.PutRecordsRequestEntry{
		{Data: []byte("{}\n"), PartitionKey: aws.String(long)},
	}})
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr, "the call is refused, not one entry")
	t.Logf("a %d-character partition key: %s", MaxPartitionKeyChars+1, apiErr.ErrorCode())

	recs := []events.DynamoDBEventRecord{
		handoffOfSize(t, "s-1", "1", 500),
		handoffOfSize(t, long, "2", 2000),
		handoffOfSize(t, "s-2", "3", 500),
		handoffOfSize(t, strings.Repeat("é", MaxPartitionKeyChars), "4", 2000), // 256: fine
	}
	r, logs, metrics := testRouter(t, kin)
	resp, err := r.Handle(ctx, events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	assert.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "2"}}, resp.BatchItemFailures)
	got := sequences(eventsBySession(readKinesis(ctx, t, kin)))
	assert.Equal(t, map[string][]string{"s-1": {"1"}, "s-2": {"3"}, strings.Repeat("é", MaxPartitionKeyChars): {"4"}}, got)
	assert.Contains(t, logs.String(), "session id longer than a Kinesis partition key")
	assert.Equal(t, 1.0, emfValues(t, metrics.String())["Oversize"])
}
