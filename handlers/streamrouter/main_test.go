package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaEnv sets what Lambda sets, and isolates the test from the machine's
// own AWS configuration.
func lambdaEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"KINESIS_STREAM_NAME":         "manga-assist-events",
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "token",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_REGION":          "",
	} {
		t.Setenv(k, v)
	}
}

func TestNewRouter(t *testing.T) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))

	lambdaEnv(t)
	r, err := newRouter(t.Context(), logger)
	require.NoError(t, err)
	assert.NotNil(t, r)

	t.Setenv("KINESIS_STREAM_NAME", "")
	_, err = newRouter(t.Context(), logger)
	assert.ErrorContains(t, err, "KINESIS_STREAM_NAME is not set")

	lambdaEnv(t)
	t.Setenv("AWS_REGION", "")
	_, err = newRouter(t.Context(), logger)
	assert.ErrorContains(t, err, "AWS_REGION is not set")
}

// The router's metrics carry the function's name, which the component's
// undelivered-events alarm names as its dimension.
func TestMetricsNameTheFunction(t *testing.T) {
	lambdaEnv(t)
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "manga-assist-stream-router-prod")
	cfg, err := routerConfig(t.Context(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	require.NoError(t, err)
	assert.Equal(t, "manga-assist-stream-router-prod", cfg.FunctionName)
}

// fakeRuntime is the Lambda Runtime API, as far as one invocation goes: the
// first GET of the next invocation is the end of the function's init.
type fakeRuntime struct {
	payload  []byte
	nextAt   chan time.Time // when the first "next" arrived
	response chan []byte    // what the function answered
	failure  chan []byte    // an init or invocation error
	served   atomic.Bool
}

func (f *fakeRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
		if f.served.Swap(true) {
			<-r.Context().Done() // one invocation only; the test kills the process
			return
		}
		f.nextAt <- time.Now()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:stream-router")
		_, _ = w.Write(f.payload)
	case r.Method == http.MethodPost && r.URL.Path == "/2018-06-01/runtime/invocation/req-1/response":
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		f.response <- body
	default: // init or invocation errors
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		f.failure <- append([]byte(r.URL.Path+": "), body...)
	}
}

// fakeKinesis accepts every PutRecords entry and keeps the records.
type fakeKinesis struct {
	mu      sync.Mutex
	records map[string][][]byte // by partition key
}

func (k *fakeKinesis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Records []struct {
			Data         []byte
			PartitionKey string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		http.Error(w, "not a PutRecords call", http.StatusBadRequest)
		return
	}
	k.mu.Lock()
	results := make([]map[string]string, len(in.Records))
	for i, rec := range in.Records {
		k.records[rec.PartitionKey] = append(k.records[rec.PartitionKey], rec.Data)
		results[i] = map[string]string{"SequenceNumber": strconv.Itoa(i + 1), "ShardId": "shardId-000000000000"}
	}
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedRecordCount": 0, "Records": results})
}

// buildHandler builds this handler as internal/lambdabuild does, for this
// machine.
func buildHandler(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// startHandler runs the binary against the fake runtime and Kinesis and
// returns how long its init took: process start to its first "next".
func startHandler(t testing.TB, bin string, runtime *fakeRuntime, kinesisURL string) time.Duration {
	t.Helper()
	api := httptest.NewServer(runtime)
	t.Cleanup(api.Close)
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=stream-router-test",
		"KINESIS_STREAM_NAME=manga-assist-events",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL=" + kinesisURL,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"HOME=" + dir,
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("handler output:\n%s", logs.String())
		}
	})
	select {
	case at := <-runtime.nextAt:
		return at.Sub(start)
	case f := <-runtime.failure:
		t.Fatalf("handler reported %s", f)
	case <-time.After(20 * time.Second):
		t.Fatalf("handler never asked for an invocation")
	}
	return 0
}

// The built handler starts in well under 50 ms (issue 9), and routes a
// batch handed over by the Lambda Runtime API: decoded by the router itself
// (Router.Invoke, not aws-lambda-go's reflection), aggregated per session,
// answered with an empty failure list.
func TestHandlerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler")
	}
	bin := buildHandler(t)
	payload := []byte(`{"Records":[` +
		`{"eventID":"e1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1774447207,"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"TURN#0001"}},"NewImage":{"role":{"S":"user"},"token_count":{"N":"12"}},"SequenceNumber":"100","SizeBytes":80}},` +
		// "tags" has a type aws-lambda-go does not know: its decoding would
		// fail the whole invocation; the router's own skips the attribute.
		`{"eventID":"e2","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1774447208,"Keys":{"PK":{"S":"SESSION#s-2"},"SK":{"S":"META"}},"NewImage":{"status":{"S":"active"},"tags":{"VECTOR":[1,2]}},"SequenceNumber":"101","SizeBytes":60}},` +
		`{"eventID":"e3","eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":1774447209,"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"TURN#0001"}},"NewImage":{"role":{"S":"user"},"token_count":{"N":"13"}},"SequenceNumber":"102","SizeBytes":80}}]}`)
	kin := &fakeKinesis{records: map[string][][]byte{}}
	kinSrv := httptest.NewServer(kin)
	defer kinSrv.Close()

	var inits []time.Duration
	for i := range 3 {
		rt := &fakeRuntime{payload: payload, nextAt: make(chan time.Time, 1), response: make(chan []byte, 1), failure: make(chan []byte, 1)}
		inits = append(inits, startHandler(t, bin, rt, kinSrv.URL))
		if i > 0 {
			continue
		}
		select {
		case resp := <-rt.response:
			assert.JSONEq(t, `{"batchItemFailures":[]}`, string(resp))
		case f := <-rt.failure:
			t.Fatalf("invocation failed: %s", f)
		case <-time.After(20 * time.Second):
			t.Fatal("no response")
		}
		kin.mu.Lock()
		require.Len(t, kin.records["s-1"], 1, "both events of s-1 in one record")
		assert.Equal(t, 2, bytes.Count(kin.records["s-1"][0], []byte("\n")))
		assert.Contains(t, string(kin.records["s-1"][0]), `"sequence_number":"100"`)
		require.Len(t, kin.records["s-2"], 1)
		kin.mu.Unlock()
	}
	fastest := slices.Min(inits)
	t.Logf("init (process start to first next invocation): %v, fastest %v", inits, fastest)
	assert.Less(t, fastest, 50*time.Millisecond, "issue 9: handler init under 50 ms")
}
