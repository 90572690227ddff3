package faultproxy_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func ddbSetup(t *testing.T) (*faultproxy.DynamoDBProxy, *dynamodb.Client, *dynamodb.Client) {
	t.Helper()
	emu := emulator.New(t)
	proxy, err := faultproxy.NewDynamoDB(emu.URL())
	require.NoError(t, err)
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	through := emu.DynamoDB(func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
	_, err = through.CreateTable(t.Context(), sessions.CreateTableInput("t-proxy")) // passed through untouched
	require.NoError(t, err)
	return proxy, through, emu.DynamoDB()
}

func requests(n int) []types.WriteRequest {
	var out []types.WriteRequest
	for i := range n {
		out = append(out, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("SESSION#%d", i)}, "SK": &types.AttributeValueMemberS{Value: "META"}}}})
	}
	return out
}

func count(t *testing.T, c *dynamodb.Client) int32 {
	out, err := c.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("t-proxy"), Select: types.SelectCount})
	require.NoError(t, err)
	return out.Count
}

// Entries left unprocessed are really not written, and come back in
// UnprocessedItems exactly as they were sent.
func TestDynamoDBUnprocessedItems(t *testing.T) {
	proxy, through, direct := ddbSetup(t)
	proxy.LeaveUnprocessed(func(e faultproxy.BatchEntry) bool { return e.Index%3 == 0 })
	reqs := requests(25)
	out, err := through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": reqs}})
	require.NoError(t, err)
	left := out.UnprocessedItems["t-proxy"]
	require.Len(t, left, 9)
	assert.Equal(t, reqs[0].PutRequest.Item["PK"], left[0].PutRequest.Item["PK"])
	assert.EqualValues(t, 16, count(t, direct))
	assert.Equal(t, faultproxy.DynamoDBStats{Calls: 1, Unprocessed: 9, ForwardedEntries: 16}, proxy.Stats())

	// All of a call left: answered by the proxy, nothing forwarded.
	proxy.LeaveUnprocessed(func(faultproxy.BatchEntry) bool { return true })
	out, err = through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": left}})
	require.NoError(t, err)
	assert.Len(t, out.UnprocessedItems["t-proxy"], 9)
	assert.EqualValues(t, 16, count(t, direct))
}

func TestDynamoDBThrottle(t *testing.T) {
	proxy, through, direct := ddbSetup(t)
	proxy.Throttle(func(call int) bool { return call == 1 })
	_, err := through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": requests(3)}})
	var pte *types.ProvisionedThroughputExceededException
	require.ErrorAs(t, err, &pte, "the SDK sees DynamoDB's own error type")
	assert.EqualValues(t, 0, count(t, direct), "a throttled call never reaches the emulator")
	_, err = through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": requests(3)}})
	require.NoError(t, err)
	assert.EqualValues(t, 3, count(t, direct))
}

func TestDynamoDBHold(t *testing.T) {
	proxy, through, direct := ddbSetup(t)
	proxy.HoldAfter(1)
	_, err := through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": requests(2)}})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := through.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t-proxy": requests(5)}})
		done <- err
	}()
	require.Eventually(t, func() bool { return proxy.Stats().Held == 1 }, 10*time.Second, 10*time.Millisecond)
	select {
	case <-done:
		t.Fatal("a held call returned before Release")
	case <-time.After(100 * time.Millisecond):
	}
	proxy.Release()
	require.NoError(t, <-done)
	assert.EqualValues(t, 5, count(t, direct))
}
