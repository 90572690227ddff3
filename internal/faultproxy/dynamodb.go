package faultproxy

// The DynamoDB mode: BatchWriteItem with entries left unprocessed, whole
// calls throttled, and calls held until the test lets them go (to kill a
// client at a known point). moto never returns UnprocessedItems and never
// throttles, so this is how the recovery tools' writers meet both against
// real HTTP and the real SDK.
//
// An entry left unprocessed is really not written: it is removed from the
// request before the request goes on, and put back into the answer's
// UnprocessedItems under its table, as DynamoDB does. A throttled call never
// reaches the emulator. Only the awsJson1.0 protocol of aws-sdk-go-v2's
// DynamoDB client is understood (Content-Type application/x-amz-json-1.0,
// X-Amz-Target DynamoDB_20120810.<Operation>); every other request is
// passed through untouched.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
)

const (
	batchWriteTarget    = "DynamoDB_20120810.BatchWriteItem"
	dynamoDBContentType = "application/x-amz-json-1.0"
	// ErrDynamoDBThroughputExceeded is what DynamoDB answers a throttled call with.
	ErrDynamoDBThroughputExceeded = "ProvisionedThroughputExceededException"
)

// BatchEntry is one write request of a BatchWriteItem call, as a chooser sees it.
type BatchEntry struct {
	Call   int    // BatchWriteItem calls through this proxy so far, this one included
	Table  string // the table it writes to
	Index  int    // its position among the table's requests in the call
	Delete bool   // a DeleteRequest, else a PutRequest
	Raw    []byte // the request's JSON
}

// DynamoDBStats count what the proxy did to BatchWriteItem calls.
type DynamoDBStats struct {
	Calls            int // BatchWriteItem calls received
	ThrottledCalls   int // answered with ProvisionedThroughputExceededException
	Unprocessed      int // entries returned in UnprocessedItems, not forwarded
	ForwardedEntries int // entries passed on to the emulator
	Held             int // calls that waited for Release
}

// DynamoDBProxy is an http.Handler in front of a DynamoDB emulator; serve it
// with httptest.NewServer and point the client's BaseEndpoint at it.
type DynamoDBProxy struct {
	forward *httputil.ReverseProxy

	mu          sync.Mutex
	unprocessed func(BatchEntry) bool
	throttle    func(call int) bool
	holdAfter   int           // calls after this many wait on release; 0 = none
	release     chan struct{} // closed by Release
	stats       DynamoDBStats
}

// NewDynamoDB returns a proxy to target (e.g. emulator.URL()) that injects
// nothing until told to.
func NewDynamoDB(target string) (*DynamoDBProxy, error) {
	forward, err := reverseProxy(target, spliceUnprocessed)
	if err != nil {
		return nil, err
	}
	return &DynamoDBProxy{forward: forward, release: make(chan struct{})}, nil
}

// LeaveUnprocessed sets the chooser of entries DynamoDB "could not process";
// nil leaves none. It is called under a lock, in request order.
func (p *DynamoDBProxy) LeaveUnprocessed(choose func(BatchEntry) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unprocessed = choose
}

// Throttle sets the chooser of calls refused whole with
// ProvisionedThroughputExceededException; nil throttles none.
func (p *DynamoDBProxy) Throttle(choose func(call int) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttle = choose
}

// HoldAfter makes every BatchWriteItem call after the first n wait until
// Release (or until its client goes away): a test can then kill the client
// with exactly n calls' worth of writes done.
func (p *DynamoDBProxy) HoldAfter(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdAfter = n
}

// Release lets held calls, and every later one, through.
func (p *DynamoDBProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

// Stats returns the counts so far.
func (p *DynamoDBProxy) Stats() DynamoDBStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// RandomUnprocessed returns a chooser that leaves each entry unprocessed
// with the given probability; the same seed picks the same entries of the
// same sequence of calls. It keeps state: give each proxy its own.
func RandomUnprocessed(seed uint64, probability float64) func(BatchEntry) bool {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(BatchEntry) bool { return rng.Float64() < probability }
}

func (p *DynamoDBProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != batchWriteTarget {
		p.forward.ServeHTTP(w, r)
		return
	}
	req, _, ok := readRequest(w, r, "BatchWriteItem", dynamoDBContentType)
	if !ok {
		return
	}
	var tables map[string][]json.RawMessage
	if err := json.Unmarshal(req["RequestItems"], &tables); err != nil {
		http.Error(w, "faultproxy: BatchWriteItem RequestItems: "+err.Error(), http.StatusBadRequest)
		return
	}

	call, hold, throttled, left, kept := p.decideBatch(tables)
	if hold {
		select {
		case <-p.release:
		case <-r.Context().Done():
			return // the client is gone: nothing of this call is written
		}
	}
	if throttled {
		w.Header().Set("X-Amzn-ErrorType", ErrDynamoDBThroughputExceeded)
		writeJSONAs(w, http.StatusBadRequest, dynamoDBContentType, map[string]string{
			"__type":  "com.amazonaws.dynamodb.v20120810#" + ErrDynamoDBThroughputExceeded,
			"message": fmt.Sprintf("The level of configured provisioned throughput for the table was exceeded (injected by faultproxy, call %d)", call),
		})
		return
	}
	if len(kept) == 0 {
		writeJSONAs(w, http.StatusOK, dynamoDBContentType, map[string]any{"UnprocessedItems": left})
		return
	}
	req["RequestItems"], _ = json.Marshal(kept)
	out, _ := json.Marshal(req)
	fwd := r.Clone(context.WithValue(r.Context(), unprocessedKey{}, left))
	fwd.Body = io.NopCloser(bytes.NewReader(out))
	fwd.ContentLength = int64(len(out))
	fwd.Header.Set("Content-Length", strconv.Itoa(len(out)))
	p.forward.ServeHTTP(w, fwd)
}

// decideBatch counts the call and asks the choosers about it.
func (p *DynamoDBProxy) decideBatch(tables map[string][]json.RawMessage) (call int, hold, throttled bool, left, kept map[string][]json.RawMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Calls++
	call = p.stats.Calls
	if p.holdAfter > 0 && call > p.holdAfter {
		select {
		case <-p.release:
		default:
			hold = true
			p.stats.Held++
		}
	}
	if p.throttle != nil && p.throttle(call) {
		p.stats.ThrottledCalls++
		return call, hold, true, nil, nil
	}
	left, kept = map[string][]json.RawMessage{}, map[string][]json.RawMessage{}
	for table, entries := range tables {
		for i, raw := range entries {
			var e struct{ DeleteRequest json.RawMessage }
			_ = json.Unmarshal(raw, &e)
			if p.unprocessed != nil && p.unprocessed(BatchEntry{Call: call, Table: table, Index: i, Delete: e.DeleteRequest != nil, Raw: raw}) {
				left[table] = append(left[table], raw)
				p.stats.Unprocessed++
			} else {
				kept[table] = append(kept[table], raw)
				p.stats.ForwardedEntries++
			}
		}
	}
	return call, hold, false, left, kept
}

type unprocessedKey struct{}

// spliceUnprocessed adds the entries the proxy held back to the emulator's
// UnprocessedItems.
func spliceUnprocessed(resp *http.Response) error {
	left, _ := resp.Request.Context().Value(unprocessedKey{}).(map[string][]json.RawMessage)
	if len(left) == 0 || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read BatchWriteItem answer: %w", err)
	}
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("BatchWriteItem answer is not JSON: %w", err)
	}
	var unprocessed map[string][]json.RawMessage
	if raw, ok := answer["UnprocessedItems"]; ok {
		_ = json.Unmarshal(raw, &unprocessed)
	}
	if unprocessed == nil {
		unprocessed = map[string][]json.RawMessage{}
	}
	for table, entries := range left {
		unprocessed[table] = append(unprocessed[table], entries...)
	}
	answer["UnprocessedItems"], _ = json.Marshal(unprocessed)
	out, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	resp.Header.Del("X-Amz-Crc32") // the body changed; the SDK would reject the old checksum
	return nil
}

func writeJSONAs(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
