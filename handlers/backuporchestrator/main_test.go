package main

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/backup"
	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const (
	tableName = "manga-assist-sessions"
	bucket    = "manga-assist-backups-test-123456789012"
	keyArn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	parameter = "/manga-assist/test/backup-orchestrator/state"
)

// lambdaEnv sets what Lambda and the component set, and isolates the test
// from the machine's own AWS configuration.
func lambdaEnv(t *testing.T, env map[string]string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"TABLE_ARN":                   "arn:aws:dynamodb:us-east-1:123456789012:table/" + tableName,
		"EXPORT_BUCKET":               bucket,
		"EXPORT_KMS_KEY_ARN":          keyArn,
		"STATE_PARAMETER":             parameter,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_REGION":          "",
		"SAFETY_MARGIN_MINUTES":       "",
		"EXPORT_PREFIX":               "exports/",
	} {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestConfigurationFromTheEnvironment(t *testing.T) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	lambdaEnv(t, nil)
	o, err := newOrchestrator(t.Context(), logger)
	require.NoError(t, err)
	assert.Equal(t, "exports/"+tableName, o.S3Prefix(), "exports land under <prefix><table>/")

	lambdaEnv(t, map[string]string{"TABLE_ARN": "", "STATE_PARAMETER": " "})
	_, err = newOrchestrator(t.Context(), logger)
	assert.EqualError(t, err, "environment variables not set: TABLE_ARN, STATE_PARAMETER")

	lambdaEnv(t, map[string]string{"SAFETY_MARGIN_MINUTES": "ten"})
	_, err = newOrchestrator(t.Context(), logger)
	assert.ErrorContains(t, err, `SAFETY_MARGIN_MINUTES "ten"`)

	lambdaEnv(t, map[string]string{"EXPORT_KMS_KEY_ARN": "alias/backups"})
	_, err = newOrchestrator(t.Context(), logger)
	assert.ErrorContains(t, err, `KMS key ARN "alias/backups"`)

	lambdaEnv(t, map[string]string{"AWS_REGION": ""})
	_, err = newOrchestrator(t.Context(), logger)
	assert.ErrorContains(t, err, "AWS_REGION is not set")
}

// runtimeAPI is the Lambda Runtime API (Lambda Developer Guide, "Using the
// Lambda runtime API for custom runtimes") for one invocation: it hands the
// event to the bootstrap and records the response or error it posts.
type runtimeAPI struct {
	srv    *httptest.Server
	event  []byte
	served sync.Once
	done   chan struct{}
	result struct {
		path string
		body []byte
	}
}

func newRuntimeAPI(t *testing.T, event any) *runtimeAPI {
	b, err := json.Marshal(event)
	require.NoError(t, err)
	r := &runtimeAPI{event: b, done: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
			first := false
			r.served.Do(func() { first = true })
			if !first { // the next invocation never comes; the test ends the process
				<-req.Context().Done()
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "request-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(2*time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:backup-orchestrator")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			w.Write(r.event)
		case req.Method == http.MethodPost:
			body, _ := io.ReadAll(req.Body)
			r.result.path, r.result.body = req.URL.Path, body
			w.WriteHeader(http.StatusAccepted)
			close(r.done)
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// invoke runs the handler binary for one event, as Lambda would.
func invoke(t *testing.T, bin string, env []string, event backup.Event) backup.Result {
	t.Helper()
	api := newRuntimeAPI(t, event)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.srv.URL, "http://"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	select {
	case <-api.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("no response from the handler; stderr:\n%s", stderr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	require.Equal(t, "/2018-06-01/runtime/invocation/request-1/response", api.result.path,
		"the invocation failed: %s\nstderr:\n%s", api.result.body, stderr.String())
	var res backup.Result
	require.NoError(t, json.Unmarshal(api.result.body, &res), string(api.result.body))
	assert.Contains(t, stdout.String(), `"Namespace":"MangaAssist/BackupOrchestrator"`, "one EMF line per run")
	t.Logf("%s: %+v", event.Trigger, res)
	return res
}

// widenPITR sits in front of moto's DynamoDB: moto reports a restorable
// window of one instant (earliest = latest = now), in which no chain can
// grow; the proxy reports three days, as a table with PITR on has.
func widenPITR(t *testing.T, moto string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		out, err := http.NewRequestWithContext(req.Context(), req.Method, moto+req.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if req.Header.Get("X-Amz-Target") == "DynamoDB_20120810.DescribeContinuousBackups" && resp.StatusCode == http.StatusOK {
			var doc struct {
				ContinuousBackupsDescription map[string]any
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				http.Error(w, "moto's DescribeContinuousBackups: "+err.Error(), http.StatusBadGateway)
				return
			}
			pitr, ok := doc.ContinuousBackupsDescription["PointInTimeRecoveryDescription"].(map[string]any)
			if !ok {
				http.Error(w, "moto's DescribeContinuousBackups has no PointInTimeRecoveryDescription: "+string(data), http.StatusBadGateway)
				return
			}
			pitr["EarliestRestorableDateTime"] = float64(time.Now().Add(-72*time.Hour).UnixMilli()) / 1000
			data, _ = json.Marshal(doc)
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(data)), 10))
		w.WriteHeader(resp.StatusCode)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readState(t *testing.T, client *ssm.Client) backup.State {
	t.Helper()
	out, err := client.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String(parameter)})
	require.NoError(t, err)
	st, err := backup.DecodeState(aws.ToString(out.Parameter.Value))
	require.NoError(t, err)
	return st
}

// The handler binary, run the way Lambda runs it, against moto: the base
// export, its completion, three days of windows, their completion, and the
// state parameter read back after every step. Moto completes exports at
// once and ignores the incremental type, so the calls and the state are what
// this proves; the transitions themselves are tested against a fake in
// internal/backup.
func TestHandlerBinaryAgainstMoto(t *testing.T) {
	emu := emulator.New(t)
	ctx := t.Context()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the handler: %s", out)

	ddb, params, s3c := emu.DynamoDB(), emu.SSM(), emu.S3()
	created, err := ddb.CreateTable(ctx, sessions.CreateTableInput(tableName))
	require.NoError(t, err)
	tableArn := aws.ToString(created.TableDescription.TableArn)
	_, err = ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(tableName),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	})
	require.NoError(t, err)
	_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: "SESSION#1"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "META"},
	}})
	require.NoError(t, err)
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	// The component creates the parameter with "{}"; the orchestrator never creates it.
	_, err = params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(parameter), Value: aws.String("{}"), Type: ssmtypes.ParameterTypeString})
	require.NoError(t, err)

	proxy := widenPITR(t, emu.URL())
	env := append(os.Environ(),
		"TABLE_ARN="+tableArn, "EXPORT_BUCKET="+bucket, "EXPORT_KMS_KEY_ARN="+keyArn, "STATE_PARAMETER="+parameter,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ENDPOINT_URL_DYNAMODB="+proxy.URL, "AWS_ENDPOINT_URL_SSM="+emu.URL())

	// 1. First run: the base full export.
	res := invoke(t, bin, env, backup.Event{Trigger: backup.TriggerCatchUp})
	require.Len(t, res.Started, 1)
	assert.True(t, strings.HasPrefix(res.Started[0], "base at "), res.Started[0])
	st := readState(t, params)
	require.Len(t, st.InFlight, 1)
	assert.Equal(t, backup.Base, st.InFlight[0].Kind)
	assert.NotEmpty(t, st.InFlight[0].Arn)
	assert.True(t, st.Watermark.IsZero())
	assert.Equal(t, tableArn, st.TableArn)

	// 2. Moto has completed it: the chain starts at its export time.
	res = invoke(t, bin, env, backup.Event{Trigger: backup.TriggerCatchUp})
	assert.Len(t, res.Completed, 1)
	st = readState(t, params)
	require.NotNil(t, st.Base)
	assert.Equal(t, st.Base.ExportTime, st.Watermark)
	assert.Empty(t, st.InFlight)

	// 3. Fifty hours behind (as after two missed days): the scheduled run
	// starts two 24-hour windows and the rest.
	behind := st.Base.ExportTime.Add(-50 * time.Hour)
	st.Base.ExportTime, st.Watermark = behind, behind
	raw, err := st.Encode()
	require.NoError(t, err)
	_, err = params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(parameter), Value: aws.String(raw), Overwrite: aws.Bool(true)})
	require.NoError(t, err)
	res = invoke(t, bin, env, backup.Event{Trigger: backup.TriggerIncremental, ScheduledTime: time.Now().UTC().Format(time.RFC3339)})
	require.Len(t, res.Started, 3, "%+v", res)
	st = readState(t, params)
	require.Len(t, st.InFlight, 3)
	for i, e := range st.InFlight {
		assert.Equal(t, backup.Incremental, e.Kind)
		assert.NotEmpty(t, e.Arn)
		assert.LessOrEqual(t, e.To.Sub(e.From), backup.MaxWindow, "window %d", i)
		assert.GreaterOrEqual(t, e.To.Sub(e.From), backup.MinWindow, "window %d", i)
	}
	assert.Equal(t, behind, st.InFlight[0].From)

	// 4. All three completed: the watermark is at the end of the last one.
	last := st.InFlight[2].To
	res = invoke(t, bin, env, backup.Event{Trigger: backup.TriggerCatchUp})
	assert.Len(t, res.Completed, 3)
	st = readState(t, params)
	assert.Equal(t, last, st.Watermark)
	assert.Empty(t, st.InFlight)

	// The exports are where the restore tools look: under <prefix><table>/.
	objects, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	require.NotEmpty(t, objects.Contents)
	for _, o := range objects.Contents {
		assert.True(t, strings.HasPrefix(aws.ToString(o.Key), "exports/"+tableName+"/AWSDynamoDB/"), aws.ToString(o.Key))
	}
}
