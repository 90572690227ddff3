package emulator_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

// The items below mirror the sessions table's item kinds; their dynamodbav
// tags for the keys must match sessions.PartitionKey and sessions.SortKey.
type metaItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Status     string `dynamodbav:"status"`
	CustomerID string `dynamodbav:"customer_id"`
	TurnCount  int    `dynamodbav:"turn_count"`
}

type turnItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Role       string `dynamodbav:"role"`
	TokenCount int    `dynamodbav:"token_count"`
	ResponseID string `dynamodbav:"response_id"`
}

type summaryItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Summary string `dynamodbav:"summary"`
}

type handoffItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	AgentID string `dynamodbav:"agent_id"`
	Reason  string `dynamodbav:"reason"`
}

func createSessionsTable(ctx context.Context, t *testing.T, ddb *dynamodb.Client, name string) *ddbtypes.TableDescription {
	t.Helper()
	out, err := ddb.CreateTable(ctx, sessions.CreateTableInput(name))
	require.NoError(t, err)
	// The waiter's default 20 s minimum delay would only matter if moto ever
	// reported CREATING, but then it should not stall the test.
	waiter := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	require.NoError(t, waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second))
	return out.TableDescription
}

func put(ctx context.Context, t *testing.T, ddb *dynamodb.Client, table string, item any) {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	require.NoError(t, err)
	_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: av})
	require.NoError(t, err)
}

func TestSessionsStream(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	ddb := emu.DynamoDB()
	table := sessions.DefaultTableName
	desc := createSessionsTable(ctx, t, ddb, table)
	require.NotNil(t, desc.LatestStreamArn, "table has no stream")

	pk := sessions.PK("s-123")
	turnSK := sessions.TurnPrefix + "0001"
	summarySK := sessions.SummaryPrefix + "1"
	handoffSK := sessions.HandoffPrefix + "2026-11-28T04:55:00Z"
	meta := metaItem{PK: pk, SK: sessions.MetaSortKey, Status: "active", CustomerID: "c-42", TurnCount: 1}

	put(ctx, t, ddb, table, meta)
	put(ctx, t, ddb, table, turnItem{PK: pk, SK: turnSK, Role: "user", TokenCount: 17, ResponseID: "r-1"})
	put(ctx, t, ddb, table, summaryItem{PK: pk, SK: summarySK, Summary: "asked about volume 3"})
	put(ctx, t, ddb, table, handoffItem{PK: pk, SK: handoffSK, AgentID: "agent-7", Reason: "refund"})
	key := func(sk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{
			sessions.PartitionKey: &ddbtypes.AttributeValueMemberS{Value: pk},
			sessions.SortKey:      &ddbtypes.AttributeValueMemberS{Value: sk},
		}
	}
	_, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key(sessions.MetaSortKey),
		UpdateExpression:          aws.String("SET #status = :status"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":status": &ddbtypes.AttributeValueMemberS{Value: "handed_off"}},
	})
	require.NoError(t, err)
	_, err = ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(summarySK)})
	require.NoError(t, err)

	records := readStream(ctx, t, emu.Streams(), *desc.LatestStreamArn)

	type event struct {
		name streamtypes.OperationType
		sk   string
	}
	want := []event{
		{streamtypes.OperationTypeInsert, sessions.MetaSortKey},
		{streamtypes.OperationTypeInsert, turnSK},
		{streamtypes.OperationTypeInsert, summarySK},
		{streamtypes.OperationTypeInsert, handoffSK},
		{streamtypes.OperationTypeModify, sessions.MetaSortKey},
		{streamtypes.OperationTypeRemove, summarySK},
	}
	var got []event
	for _, r := range records {
		require.NotNil(t, r.Dynamodb)
		assert.Equal(t, pk, str(t, r.Dynamodb.Keys, sessions.PartitionKey))
		got = append(got, event{r.EventName, str(t, r.Dynamodb.Keys, sessions.SortKey)})
	}
	require.Equal(t, want, got)

	for _, r := range records {
		assert.Equal(t, streamtypes.StreamViewType(sessions.StreamViewType), r.Dynamodb.StreamViewType)
		assert.Equal(t, emulator.Region, aws.ToString(r.AwsRegion))
	}

	insert := records[0].Dynamodb
	assert.Empty(t, insert.OldImage, "INSERT has no old image")
	av, err := attributevalue.FromDynamoDBStreamsMap(insert.NewImage)
	require.NoError(t, err)
	var inserted metaItem
	require.NoError(t, attributevalue.UnmarshalMap(av, &inserted))
	assert.Equal(t, meta, inserted)

	modify := records[4].Dynamodb
	require.NotEmpty(t, modify.OldImage, "MODIFY must carry the old image")
	require.NotEmpty(t, modify.NewImage, "MODIFY must carry the new image")
	assert.Equal(t, "active", str(t, modify.OldImage, "status"))
	assert.Equal(t, "handed_off", str(t, modify.NewImage, "status"))

	remove := records[5].Dynamodb
	require.NotEmpty(t, remove.OldImage, "REMOVE must carry the old image")
	assert.Empty(t, remove.NewImage, "REMOVE has no new image")
	assert.Equal(t, "asked about volume 3", str(t, remove.OldImage, "summary"))
}

// readStream reads every record of every shard from the start.
func readStream(ctx context.Context, t *testing.T, streams *dynamodbstreams.Client, arn string) []streamtypes.Record {
	t.Helper()
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	require.NoError(t, err)
	require.NotEmpty(t, desc.StreamDescription.Shards)
	var records []streamtypes.Record
	for _, shard := range desc.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn:         aws.String(arn),
			ShardId:           shard.ShardId,
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		iter := it.ShardIterator
		// Bounded: an open shard hands out a next iterator forever.
		for range 20 {
			if iter == nil {
				break
			}
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			require.NoError(t, err)
			if len(out.Records) == 0 {
				break
			}
			records = append(records, out.Records...)
			iter = out.NextShardIterator
		}
	}
	return records
}

func str(t *testing.T, m map[string]streamtypes.AttributeValue, name string) string {
	t.Helper()
	v, ok := m[name].(*streamtypes.AttributeValueMemberS)
	require.Truef(t, ok, "attribute %q is %T, want a string", name, m[name])
	return v.Value
}

func TestResetClearsState(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	createSessionsTable(ctx, t, emu.DynamoDB(), "to-be-reset")
	_, err := emu.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("to-be-reset")})
	require.NoError(t, err)

	emu = emulator.New(t)
	tables, err := emu.DynamoDB().ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	assert.Empty(t, tables.TableNames)
	buckets, err := emu.S3().ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Empty(t, buckets.Buckets)
}

// recordingClient notes where requests go, to prove path-style addressing.
type recordingClient struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.urls = append(c.urls, r.URL)
	c.mu.Unlock()
	return http.DefaultClient.Do(r)
}

func TestS3PathStyle(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	rec := &recordingClient{}
	client := emu.S3(func(o *s3.Options) { o.HTTPClient = rec })
	const bucket, key = "manga-assist-exports", "sessions/2026/11/28/part-0001.json"
	body := []byte(`{"PK":"SESSION#s-123"}`)

	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(t, err)
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	assert.Equal(t, body, got)

	server, err := url.Parse(emu.URL())
	require.NoError(t, err)
	require.Len(t, rec.urls, 3)
	for _, u := range rec.urls {
		assert.Equal(t, server.Host, u.Host, "bucket must not be in the host name")
		assert.True(t, strings.HasPrefix(u.Path, "/"+bucket), "path %q must start with the bucket", u.Path)
	}
}

// TestClientsReachEmulator proves the remaining typed clients talk to moto.
func TestClientsReachEmulator(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()

	params := emu.SSM()
	_, err := params.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/manga-assist/test/table"), Value: aws.String(sessions.DefaultTableName), Type: "String",
	})
	require.NoError(t, err)
	p, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/manga-assist/test/table")})
	require.NoError(t, err)
	assert.Equal(t, sessions.DefaultTableName, aws.ToString(p.Parameter.Value))

	kin := emu.Kinesis()
	const stream = "manga-assist-events"
	_, err = kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	waiter := kinesis.NewStreamExistsWaiter(kin, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	require.NoError(t, waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 30*time.Second))
	put, err := kin.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(stream), PartitionKey: aws.String("s-123"), Data: []byte("hello"),
	})
	require.NoError(t, err)
	it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: put.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)
	recs, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Len(t, recs.Records, 1)
	assert.Equal(t, []byte("hello"), recs.Records[0].Data)
}
