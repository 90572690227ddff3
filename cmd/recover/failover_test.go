package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/recovery/awsenv"
)

// awsFake answers, over the wire, the calls failover-status makes: moto has
// no global tables, no ReplicationLatency and no Route 53 health-check
// status. It plays DynamoDB (JSON), CloudWatch (RPC v2 CBOR) and Route 53
// (REST XML) behind one endpoint, and records each call with the region its
// SigV4 signature names, so the tests see which region each call went to.
type awsFake struct {
	t     *testing.T
	mu    sync.Mutex
	calls []string

	replicaStatus string            // of us-west-2
	pitr          map[string]string // region → status
	deniedPITR    string            // a region whose DescribeContinuousBackups is AccessDenied
	latencyMs     []float64         // us-west-2's datapoints, newest first, a minute apart
	health        map[string][]string
	answers       map[string]string
}

func newAWSFake(t *testing.T) *awsFake {
	return &awsFake{
		t:             t,
		replicaStatus: "ACTIVE",
		pitr:          map[string]string{"us-east-1": "ENABLED", "us-west-2": "ENABLED"},
		latencyMs:     []float64{850, 920, 1400},
		health: map[string][]string{
			"hc-east": {"Failure: Connection timed out.", "Failure: Connection timed out.", "Failure: Connection timed out.", "Success: HTTP Status Code 200, OK"},
			"hc-west": {"Success: HTTP Status Code 200, OK", "Success: HTTP Status Code 200, OK", "Success: HTTP Status Code 200, OK"},
		},
		answers: map[string]string{
			"chat.example.com":            "failover-1.chat.example.com.",
			"failover-1.chat.example.com": "chat-usw2.example.com.",
		},
	}
}

var signedRegion = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9]+)/aws4_request`)

func (f *awsFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := signedRegion.FindStringSubmatch(r.Header.Get("Authorization"))
	require.NotNil(f.t, m, "every call is signed")
	region := m[1]
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."):
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		f.calls = append(f.calls, op+" "+region)
		f.dynamodb(w, op, region, body)
	case r.URL.Path == "/service/GraniteServiceVersion20100801/operation/GetMetricData":
		f.calls = append(f.calls, "GetMetricData "+region)
		f.getMetricData(w, body)
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		f.route53(w, r, region)
	default:
		f.t.Errorf("unexpected call %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotImplemented)
	}
}

func (f *awsFake) dynamodb(w http.ResponseWriter, op, region string, body []byte) {
	var in struct{ TableName string }
	require.NoError(f.t, json.Unmarshal(body, &in))
	assert.Equal(f.t, "manga-assist-sessions", in.TableName)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	var out any
	switch op {
	case "DescribeTable":
		out = map[string]any{"Table": map[string]any{
			"TableName": in.TableName, "TableStatus": "ACTIVE",
			"Replicas": []any{map[string]any{"RegionName": "us-west-2", "ReplicaStatus": f.replicaStatus}},
		}}
	case "DescribeContinuousBackups":
		if region == f.deniedPITR {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"not authorized to perform: dynamodb:DescribeContinuousBackups"}`))
			return
		}
		out = map[string]any{"ContinuousBackupsDescription": map[string]any{
			"ContinuousBackupsStatus":        "ENABLED",
			"PointInTimeRecoveryDescription": map[string]any{"PointInTimeRecoveryStatus": f.pitr[region]},
		}}
	default:
		f.t.Errorf("unexpected DynamoDB %s", op)
	}
	require.NoError(f.t, json.NewEncoder(w).Encode(out))
}

func (f *awsFake) getMetricData(w http.ResponseWriter, body []byte) {
	v, err := cbor.Decode(body)
	require.NoError(f.t, err)
	in := v.(cbor.Map)
	end, err := cbor.AsTime(in["EndTime"])
	require.NoError(f.t, err)
	var results cbor.List
	for _, q := range in["MetricDataQueries"].(cbor.List) {
		q := q.(cbor.Map)
		stat := q["MetricStat"].(cbor.Map)
		metric := stat["Metric"].(cbor.Map)
		assert.Equal(f.t, cbor.String("ReplicationLatency"), metric["MetricName"])
		var receiving string
		for _, d := range metric["Dimensions"].(cbor.List) {
			if d := d.(cbor.Map); d["Name"] == cbor.String("ReceivingRegion") {
				receiving = string(d["Value"].(cbor.String))
			}
		}
		var ts, vals cbor.List
		if receiving == "us-west-2" {
			for i, ms := range f.latencyMs {
				at := end.Truncate(time.Minute).Add(-time.Duration(i+1) * time.Minute)
				ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(at.Unix()))})
				if stat["Stat"] == cbor.String("Maximum") {
					ms *= 1.5
				}
				vals = append(vals, cbor.Float64(ms))
			}
		}
		results = append(results, cbor.Map{"Id": q["Id"], "StatusCode": cbor.String("Complete"), "Timestamps": ts, "Values": vals})
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{"MetricDataResults": results}))
}

func (f *awsFake) route53(w http.ResponseWriter, r *http.Request, region string) {
	w.Header().Set("Content-Type", "text/xml")
	const ns = "https://route53.amazonaws.com/doc/2013-04-01/"
	switch {
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/healthcheck/") && strings.HasSuffix(r.URL.Path, "/status"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2013-04-01/healthcheck/"), "/status")
		f.calls = append(f.calls, "GetHealthCheckStatus "+id+" "+region)
		var b strings.Builder
		fmt.Fprintf(&b, `<GetHealthCheckStatusResponse xmlns="%s"><HealthCheckObservations>`, ns)
		for i, st := range f.health[id] {
			fmt.Fprintf(&b, `<HealthCheckObservation><Region>us-east-1</Region><IPAddress>15.177.0.%d</IPAddress><StatusReport><Status>%s</Status><CheckedTime>2026-11-28T09:15:00.000Z</CheckedTime></StatusReport></HealthCheckObservation>`, i, xmlEscape(st))
		}
		b.WriteString(`</HealthCheckObservations></GetHealthCheckStatusResponse>`)
		_, _ = w.Write([]byte(b.String()))
	case r.URL.Path == "/2013-04-01/testdnsanswer":
		q := r.URL.Query()
		name := q.Get("recordname")
		f.calls = append(f.calls, fmt.Sprintf("TestDNSAnswer %s %s %s %s", q.Get("hostedzoneid"), name, q.Get("recordtype"), region))
		_, _ = fmt.Fprintf(w, `<TestDNSAnswerResponse xmlns="%s"><Nameserver>ns-1.awsdns-01.org</Nameserver><RecordName>%s</RecordName><RecordType>CNAME</RecordType><RecordData><RecordDataEntry>%s</RecordDataEntry></RecordData><ResponseCode>NOERROR</ResponseCode><Protocol>UDP</Protocol></TestDNSAnswerResponse>`,
			ns, name, f.answers[name])
	default:
		f.t.Errorf("unexpected Route 53 call %s", r.URL)
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var failoverNow = time.Date(2026, 11, 28, 9, 15, 30, 0, time.UTC)

// failoverStatus runs the command against the fake, with clients built the
// way awsenv.Load builds them, in a region that is none of the table's, so
// that every call's region comes from the command.
func failoverStatus(t *testing.T, f *awsFake, args ...string) (int, string, string) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(srv.URL)}
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, now: func() time.Time { return failoverNow },
		clients: func(context.Context) (awsenv.Clients, error) { return awsenv.FromConfig(cfg), nil }}
	code := run(t.Context(), append([]string{"failover-status"}, args...), e)
	t.Logf("recover failover-status %s → %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

var failoverArgs = []string{
	"--table", "manga-assist-sessions", "--region", "us-east-1", "--replica-regions", "us-west-2",
	"--health-checks", "us-east-1=hc-east,us-west-2=hc-west",
	"--hosted-zone-id", "Z0123456789ABCDEFGHIJ", "--record-name", "chat.example.com",
	"--endpoints", "us-east-1=chat-use1.example.com,us-west-2=chat-usw2.example.com",
}

// The primary's endpoint is down: its health check fails, the record
// answers with us-west-2 through failover-1, and the command says so and
// exits 4, since an unhealthy health check is a problem. Every call went to
// the right region.
func TestFailoverStatusDuringAFailover(t *testing.T) {
	f := newAWSFake(t)
	code, out, errs := failoverStatus(t, f, append(failoverArgs, "--json")...)
	assert.Equal(t, exitMismatch, code)
	assert.Contains(t, errs, "recover failover-status: MISMATCH: 1 problem(s):\n  health check hc-east (us-east-1): unhealthy, 1 of 4 checkers report Success; Route 53 still counts it healthy")
	assert.Contains(t, errs, "replication latency us-east-1 → us-west-2: 850ms at 09:14Z (max 2.1s in the last 10m0s)", "progress narrates on stderr")

	var rep struct {
		TableStatus string `json:"table_status"`
		PITR        string `json:"pitr"`
		Replicas    []struct {
			Region, Status, PITR string
			Latency              struct {
				LatestMs float64 `json:"latest_ms"`
				MaxMs    float64 `json:"max_ms"`
			} `json:"replication_latency"`
		}
		HealthChecks []struct {
			ID       string
			Healthy  bool
			Success  int `json:"checkers_success"`
			Checkers int
		} `json:"health_checks"`
		DNS struct {
			Host, Region string
			Chain        []string
		}
		Problems []string
		Notes    []string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "--json prints one JSON object")
	assert.Equal(t, "ACTIVE", rep.TableStatus)
	assert.Equal(t, "ENABLED", rep.PITR)
	require.Len(t, rep.Replicas, 1)
	assert.Equal(t, "us-west-2", rep.Replicas[0].Region)
	assert.Equal(t, "ACTIVE", rep.Replicas[0].Status)
	assert.Equal(t, "ENABLED", rep.Replicas[0].PITR)
	assert.InDelta(t, 850, rep.Replicas[0].Latency.LatestMs, 0.001)
	assert.InDelta(t, 2100, rep.Replicas[0].Latency.MaxMs, 0.001)
	require.Len(t, rep.HealthChecks, 2)
	assert.False(t, rep.HealthChecks[0].Healthy)
	assert.Equal(t, 1, rep.HealthChecks[0].Success)
	assert.Equal(t, 4, rep.HealthChecks[0].Checkers)
	assert.True(t, rep.HealthChecks[1].Healthy)
	assert.Equal(t, "chat-usw2.example.com", rep.DNS.Host)
	assert.Equal(t, "us-west-2", rep.DNS.Region)
	assert.Equal(t, []string{"chat.example.com → failover-1.chat.example.com", "failover-1.chat.example.com → chat-usw2.example.com"}, rep.DNS.Chain)
	assert.Len(t, rep.Problems, 1)
	assert.Contains(t, strings.Join(rep.Notes, "\n"), "chat.example.com answers with chat-usw2.example.com: traffic goes to us-west-2, not to --region us-east-1")

	// The environment's region is eu-central-1: the command chose each region.
	// Route 53 is global and signs for us-east-1 whatever the client's region.
	assert.Equal(t, []string{
		"DescribeTable us-east-1",
		"DescribeContinuousBackups us-east-1",
		"DescribeContinuousBackups us-west-2",
		"GetMetricData us-east-1",
		"GetHealthCheckStatus hc-east us-east-1",
		"GetHealthCheckStatus hc-west us-east-1",
		"TestDNSAnswer Z0123456789ABCDEFGHIJ chat.example.com CNAME us-east-1",
		"TestDNSAnswer Z0123456789ABCDEFGHIJ failover-1.chat.example.com CNAME us-east-1",
	}, f.calls)
}

// Everything healthy: exit 0 and the text report.
func TestFailoverStatusHealthy(t *testing.T) {
	f := newAWSFake(t)
	f.health["hc-east"] = f.health["hc-west"]
	f.answers["chat.example.com"] = "chat-use1.example.com"
	code, out, errs := failoverStatus(t, f, failoverArgs...)
	require.Equal(t, exitOK, code)
	assert.Contains(t, errs, "failover-status: every check passed")
	assert.Contains(t, out, "report:\n")
	assert.Regexp(t, `(?m)^  problems:\s+\[\]$`, out)
	assert.Regexp(t, `(?m)^  dns:\s+\{"chain":\["chat.example.com → chat-use1.example.com"\],"host":"chat-use1.example.com","record_name":"chat.example.com","region":"us-east-1"\}$`, out)

	// Routing off: the runbook's flags come out empty, and Route 53 is not asked.
	f = newAWSFake(t)
	code, out, _ = failoverStatus(t, f, "--table", "manga-assist-sessions", "--region", "us-east-1", "--replica-regions", "us-west-2",
		"--health-checks", "", "--hosted-zone-id", "", "--record-name", "", "--endpoints", "")
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, "dns:")
	assert.NotContains(t, out, "health_checks:")
	assert.Equal(t, []string{"DescribeTable us-east-1", "DescribeContinuousBackups us-east-1", "DescribeContinuousBackups us-west-2", "GetMetricData us-east-1"}, f.calls)
}

// A replica not ACTIVE, PITR off in it and a latency over the threshold:
// exit 4 and each problem named.
func TestFailoverStatusProblems(t *testing.T) {
	f := newAWSFake(t)
	f.health["hc-east"] = f.health["hc-west"]
	f.replicaStatus = "UPDATING"
	f.pitr["us-west-2"] = "DISABLED"
	f.latencyMs = []float64{95_000, 1000}
	code, _, errs := failoverStatus(t, f, failoverArgs...)
	assert.Equal(t, exitMismatch, code)
	assert.Contains(t, errs, "MISMATCH: 3 problem(s):")
	assert.Contains(t, errs, "\n  replica us-west-2 is UPDATING, not ACTIVE")
	assert.Contains(t, errs, "\n  us-west-2: point-in-time recovery of manga-assist-sessions is DISABLED, not ENABLED")
	assert.Contains(t, errs, "\n  replica us-west-2: replication latency from us-east-1 is 1m35s (latest minute, 2026-11-28T09:14:00Z), over --latency-threshold 1m0s; max 2m22.5s in the last 10m0s")

	f = newAWSFake(t)
	f.health["hc-east"] = f.health["hc-west"]
	code, _, errs = failoverStatus(t, f, append(failoverArgs, "--latency-threshold", "500ms")...)
	assert.Equal(t, exitMismatch, code)
	assert.Contains(t, errs, "MISMATCH: 1 problem(s):\n  replica us-west-2: replication latency from us-east-1 is 850ms (latest minute, 2026-11-28T09:14:00Z), over --latency-threshold 500ms")
}

// A call that fails is exit 1, and the report of what could be seen is
// still printed.
func TestFailoverStatusAPIError(t *testing.T) {
	f := newAWSFake(t)
	f.deniedPITR = "us-west-2"
	code, out, errs := failoverStatus(t, f, append(failoverArgs, "--json")...)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errs, "recover failover-status: some calls failed, so the report is incomplete: point-in-time recovery of manga-assist-sessions in us-west-2:")
	assert.Contains(t, errs, "AccessDeniedException")
	var rep struct {
		Errors       []string
		HealthChecks []any `json:"health_checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Len(t, rep.Errors, 1)
	assert.Len(t, rep.HealthChecks, 2, "the rest was still looked at")
}

// Bad flags: exit 2, the flag and the value named, no call made.
func TestFailoverStatusUsage(t *testing.T) {
	base := []string{"--table", "manga-assist-sessions", "--region", "us-east-1"}
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no region", []string{"--table", "t1x"}, "--region is required"},
		{"bad region", []string{"--table", "t1x", "--region", "us-east"}, `--region "us-east": not an AWS region such as us-east-1`},
		{"bad table", []string{"--table", "a b", "--region", "us-east-1"}, `--table "a b"`},
		{"bad replica", append(base, "--replica-regions", "us-west-2,mars-1"), `--replica-regions "us-west-2,mars-1": "mars-1" is not an AWS region`},
		{"replica twice", append(base, "--replica-regions", "us-west-2,us-west-2"), `--replica-regions "us-west-2,us-west-2": us-west-2 is listed twice`},
		{"window", append(base, "--window", "30s"), "--window 30s: must be 1m to 24h"},
		{"threshold", append(base, "--latency-threshold", "0s"), "--latency-threshold 0s: must be more than 0"},
		{"health check not a pair", append(base, "--health-checks", "hc-east"), `--health-checks "hc-east": "hc-east" must be REGION=VALUE`},
		{"health check twice", append(base, "--health-checks", "us-east-1=a,us-east-1=b"), `--health-checks "us-east-1=a,us-east-1=b": us-east-1 is listed twice`},
		{"zone without record", append(base, "--hosted-zone-id", "Z0123456789ABCDEFGHIJ"), `--hosted-zone-id "Z0123456789ABCDEFGHIJ" and --record-name "": give both, or neither`},
		{"record without endpoints", append(base, "--hosted-zone-id", "Z0123456789ABCDEFGHIJ", "--record-name", "chat.example.com"), "--record-name chat.example.com needs --endpoints"},
		{"endpoints without record", append(base, "--endpoints", "us-east-1=a.example.com"), `--hosted-zone-id "" and --record-name "": give both, or neither`},
		{"bad zone", append(base, "--hosted-zone-id", "zone1", "--record-name", "chat.example.com", "--endpoints", "us-east-1=a.example.com"), `--hosted-zone-id "zone1": not a Route 53 hosted zone id`},
		{"bad endpoint", append(base, "--hosted-zone-id", "Z0123456789ABCDEFGHIJ", "--record-name", "chat.example.com", "--endpoints", "us-east-1=https://a.example.com"), `--endpoints "us-east-1=https://a.example.com": "us-east-1=https://a.example.com" must be REGION=VALUE, e.g. us-west-2=chat-usw2.example.com`},
		{"one host twice", append(base, "--hosted-zone-id", "Z0123456789ABCDEFGHIJ", "--record-name", "chat.example.com", "--endpoints", "us-east-1=a.example.com,us-west-2=A.example.com."), `--endpoints "us-east-1=a.example.com,us-west-2=A.example.com.": A.example.com. is the host of both us-east-1 and us-west-2`},
		{"argument", append(base, "extra"), `unexpected argument "extra"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			e := env{stdout: &out, stderr: &errb, now: func() time.Time { return failoverNow },
				clients: func(context.Context) (awsenv.Clients, error) {
					t.Error("bad flags reach no AWS client")
					return awsenv.Clients{}, fmt.Errorf("no")
				}}
			code := run(t.Context(), append([]string{"failover-status"}, c.args...), e)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, errb.String(), "recover failover-status: "+c.msg)
			assert.Empty(t, out.String())
		})
	}
}
