package failover_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/recovery/failover"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
)

const (
	tbl     = "manga-assist-sessions"
	primary = "us-east-1"
	west    = "us-west-2"
	europe  = "eu-west-1"
	zone    = "Z0123456789ABCDEFGHIJ"
	record  = "chat.example.com"
)

var now = time.Date(2026, 11, 28, 9, 15, 30, 0, time.UTC)

// point is one ReplicationLatency datapoint: minutes before now, Average
// and Maximum in milliseconds.
type point struct {
	ago      int
	avg, max float64
}

// fake plays DynamoDB in every region, CloudWatch in the primary region and
// Route 53, and records which region each call went to.
type fake struct {
	mu    sync.Mutex
	calls []string

	tableStatus types.TableStatus
	replicas    map[string]types.ReplicaStatus // region → status in DescribeTable
	noTable     bool
	pitr        map[string]types.PointInTimeRecoveryStatus // region → status; absent: TableNotFoundException
	pitrErr     map[string]error
	latency     map[string][]point // receiving region → datapoints
	pageSize    int                // >0: GetMetricData answers in pages of this many datapoints a query
	metricIn    []*cloudwatch.GetMetricDataInput
	health      map[string][]string // health check id → one status per checker
	answers     map[string]string   // name → CNAME answer
	rcode       string
}

func healthy() *fake {
	return &fake{
		tableStatus: types.TableStatusActive,
		replicas:    map[string]types.ReplicaStatus{west: types.ReplicaStatusActive},
		pitr:        map[string]types.PointInTimeRecoveryStatus{primary: types.PointInTimeRecoveryStatusEnabled, west: types.PointInTimeRecoveryStatusEnabled},
		latency:     map[string][]point{west: {{1, 800, 1200}, {2, 900, 1500}, {3, 700, 900}}},
		health: map[string][]string{
			"hc-east": successes(8, 0),
			"hc-west": successes(8, 0),
		},
		answers: map[string]string{record: "chat-use1.example.com."},
		rcode:   "NOERROR",
	}
}

// successes is ok checkers reporting Success and failed ones a Failure.
func successes(ok, failed int) []string {
	var out []string
	for range ok {
		out = append(out, "Success: HTTP Status Code 200, OK")
	}
	for range failed {
		out = append(out, "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.")
	}
	return out
}

func (f *fake) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fake) api() failover.API {
	return failover.API{DynamoDB: func(r string) failover.DynamoDB { return regional{f, r} }, CloudWatch: f, Route53: f}
}

type regional struct {
	f      *fake
	region string
}

func (r regional) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	r.f.record("DescribeTable %s %s", r.region, aws.ToString(in.TableName))
	if r.f.noTable {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	t := &types.TableDescription{TableName: in.TableName, TableStatus: r.f.tableStatus}
	for region, st := range r.f.replicas {
		t.Replicas = append(t.Replicas, types.ReplicaDescription{RegionName: aws.String(region), ReplicaStatus: st})
	}
	return &dynamodb.DescribeTableOutput{Table: t}, nil
}

func (r regional) DescribeContinuousBackups(_ context.Context, in *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	r.f.record("DescribeContinuousBackups %s %s", r.region, aws.ToString(in.TableName))
	if err := r.f.pitrErr[r.region]; err != nil {
		return nil, err
	}
	st, ok := r.f.pitr[r.region]
	if !ok {
		return nil, &types.TableNotFoundException{Message: aws.String("Table not found: " + aws.ToString(in.TableName))}
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		ContinuousBackupsStatus:        types.ContinuousBackupsStatusEnabled,
		PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: st},
	}}, nil
}

func (f *fake) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.record("GetMetricData")
	f.mu.Lock()
	cp := *in
	f.metricIn = append(f.metricIn, &cp)
	f.mu.Unlock()
	out := &cloudwatch.GetMetricDataOutput{}
	more := false
	for _, q := range in.MetricDataQueries {
		var receiving string
		for _, d := range q.MetricStat.Metric.Dimensions {
			if aws.ToString(d.Name) == "ReceivingRegion" {
				receiving = aws.ToString(d.Value)
			}
		}
		var res cwtypes.MetricDataResult
		res.Id, res.StatusCode = q.Id, cwtypes.StatusCodeComplete
		pts := slices.Clone(f.latency[receiving])
		slices.SortFunc(pts, func(a, b point) int { return a.ago - b.ago }) // newest first
		if f.pageSize > 0 {
			from := 0
			if aws.ToString(in.NextToken) == "page2" {
				from = f.pageSize
			}
			pts = pts[min(from, len(pts)):min(from+f.pageSize, len(pts))]
			if from == 0 && len(f.latency[receiving]) > f.pageSize {
				more = true
			}
		}
		for _, p := range pts {
			at := now.Truncate(time.Minute).Add(-time.Duration(p.ago) * time.Minute)
			if at.Before(aws.ToTime(in.StartTime)) {
				continue
			}
			res.Timestamps = append(res.Timestamps, at)
			v := p.avg
			if aws.ToString(q.MetricStat.Stat) == "Maximum" {
				v = p.max
			}
			res.Values = append(res.Values, v)
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	if more {
		out.NextToken = aws.String("page2")
	}
	return out, nil
}

func (f *fake) GetHealthCheckStatus(_ context.Context, in *route53.GetHealthCheckStatusInput, _ ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error) {
	id := aws.ToString(in.HealthCheckId)
	f.record("GetHealthCheckStatus %s", id)
	statuses, ok := f.health[id]
	if !ok {
		return nil, &r53types.NoSuchHealthCheck{Message: aws.String("no health check " + id)}
	}
	regions := []r53types.HealthCheckRegion{r53types.HealthCheckRegionUsEast1, r53types.HealthCheckRegionUsWest1, r53types.HealthCheckRegionEuWest1, r53types.HealthCheckRegionApSoutheast1}
	out := &route53.GetHealthCheckStatusOutput{}
	for i, st := range statuses {
		out.HealthCheckObservations = append(out.HealthCheckObservations, r53types.HealthCheckObservation{
			Region: regions[i%len(regions)], IPAddress: aws.String(fmt.Sprintf("15.177.0.%d", i)),
			StatusReport: &r53types.StatusReport{Status: aws.String(st), CheckedTime: aws.Time(now.Add(-10 * time.Second))},
		})
	}
	return out, nil
}

func (f *fake) TestDNSAnswer(_ context.Context, in *route53.TestDNSAnswerInput, _ ...func(*route53.Options)) (*route53.TestDNSAnswerOutput, error) {
	name := aws.ToString(in.RecordName)
	f.record("TestDNSAnswer %s %s %s", aws.ToString(in.HostedZoneId), name, in.RecordType)
	out := &route53.TestDNSAnswerOutput{RecordName: in.RecordName, RecordType: in.RecordType, ResponseCode: aws.String(f.rcode), Nameserver: aws.String("ns-1.awsdns-01.org"), Protocol: aws.String("UDP")}
	if a, ok := f.answers[name]; ok {
		out.RecordData = []string{a}
	} else {
		out.ResponseCode = aws.String("NXDOMAIN")
	}
	return out, nil
}

func input() failover.Input {
	return failover.Input{
		Table: tbl, Region: primary, ReplicaRegions: []string{west},
		LatencyThreshold: time.Minute, Window: 10 * time.Minute,
		HealthChecks: []failover.HealthCheckRef{{Region: primary, ID: "hc-east"}, {Region: west, ID: "hc-west"}},
		HostedZoneID: zone, RecordName: record,
		Endpoints: map[string]string{primary: "chat-use1.example.com", west: "chat-usw2.example.com", europe: "chat-euw1.example.com"},
		Now:       now, Progress: progress.Options{Quiet: true},
	}
}

func replica(t *testing.T, rep failover.Report, region string) failover.Replica {
	t.Helper()
	for _, r := range rep.Replicas {
		if r.Region == region {
			return r
		}
	}
	require.Failf(t, "no replica", "%s not in %+v", region, rep.Replicas)
	return failover.Replica{}
}

func problemsWith(rep failover.Report, part string) []string {
	var out []string
	for _, p := range rep.Problems {
		if strings.Contains(p, part) {
			out = append(out, p)
		}
	}
	return out
}

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(*fake, *failover.Input)
		check func(*testing.T, failover.Report, *fake)
	}{
		{"all healthy", nil, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.True(t, rep.OK(), "problems: %v", rep.Problems)
			assert.Empty(t, rep.Problems)
			assert.Equal(t, "ACTIVE", rep.TableStatus)
			assert.Equal(t, "ENABLED", rep.PITR)
			w := replica(t, rep, west)
			assert.Equal(t, "ACTIVE", w.Status)
			assert.Equal(t, "ENABLED", w.PITR)
			require.NotNil(t, w.Latency)
			require.NotNil(t, w.Latency.LatestMs)
			assert.InDelta(t, 800, *w.Latency.LatestMs, 0.001, "the newest minute's Average")
			assert.InDelta(t, 1500, *w.Latency.MaxMs, 0.001, "the highest Maximum in the window")
			assert.Equal(t, 3, w.Latency.Datapoints)
			assert.Equal(t, now.Truncate(time.Minute).Add(-time.Minute), *w.Latency.LatestAt)
			require.NotNil(t, rep.DNS)
			assert.Equal(t, "chat-use1.example.com", rep.DNS.Host)
			assert.Equal(t, primary, rep.DNS.Region)
			assert.Empty(t, rep.Notes)
		}},
		{"replica UPDATING", func(f *fake, _ *failover.Input) { f.replicas[west] = types.ReplicaStatusUpdating }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.False(t, rep.OK())
			assert.Equal(t, "UPDATING", replica(t, rep, west).Status)
			assert.Equal(t, []string{"replica us-west-2 is UPDATING, not ACTIVE"}, rep.Problems)
		}},
		{"replica REGION_DISABLED", func(f *fake, _ *failover.Input) { f.replicas[west] = types.ReplicaStatusRegionDisabled }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, []string{"replica us-west-2 is REGION_DISABLED, not ACTIVE"}, rep.Problems)
		}},
		{"table UPDATING", func(f *fake, _ *failover.Input) { f.tableStatus = types.TableStatusUpdating }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, "UPDATING", rep.TableStatus)
			assert.Equal(t, []string{"table manga-assist-sessions in us-east-1 is UPDATING, not ACTIVE"}, rep.Problems)
		}},
		{"listed replica missing", func(f *fake, in *failover.Input) { in.ReplicaRegions = []string{west, europe} }, func(t *testing.T, rep failover.Report, f *fake) {
			eu := replica(t, rep, europe)
			assert.Equal(t, failover.Missing, eu.Status)
			assert.Nil(t, eu.Latency, "no latency is read toward a replica that does not exist")
			require.Len(t, rep.Problems, 1)
			assert.Contains(t, rep.Problems[0], "replica eu-west-1: missing")
			assert.NotContains(t, f.calls, "DescribeContinuousBackups eu-west-1 "+tbl)
		}},
		{"replica the list does not name is a note", func(f *fake, _ *failover.Input) {
			f.replicas[europe] = types.ReplicaStatusActive
			f.pitr[europe] = types.PointInTimeRecoveryStatusEnabled
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.True(t, rep.OK(), "problems: %v", rep.Problems)
			assert.Equal(t, "ACTIVE", replica(t, rep, europe).Status)
			assert.Contains(t, strings.Join(rep.Notes, "\n"), "replica in eu-west-1, which --replica-regions does not list")
			assert.Contains(t, strings.Join(rep.Notes, "\n"), "no ReplicationLatency data", "eu-west-1 has no datapoints in the fake")
		}},
		{"no --replica-regions takes the table's", func(f *fake, in *failover.Input) {
			in.ReplicaRegions = nil
			f.replicas[europe] = types.ReplicaStatusCreating
			f.pitr[europe] = types.PointInTimeRecoveryStatusEnabled
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, []string{europe, west}, []string{rep.Replicas[0].Region, rep.Replicas[1].Region})
			assert.Equal(t, []string{"replica eu-west-1 is CREATING, not ACTIVE"}, rep.Problems)
		}},
		{"the table's own region in Replicas is not a replica", func(f *fake, in *failover.Input) {
			f.replicas[primary] = types.ReplicaStatusActive
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Len(t, rep.Replicas, 1)
			assert.True(t, rep.OK(), "problems: %v", rep.Problems)
		}},
		{"not a global table", func(f *fake, in *failover.Input) {
			in.ReplicaRegions = nil
			f.replicas = nil
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, []string{"table manga-assist-sessions in us-east-1 has no replica: it is not a global table, nothing can take over"}, rep.Problems)
		}},
		{"no table", func(f *fake, _ *failover.Input) { f.noTable = true }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, failover.Missing, rep.TableStatus)
			assert.Contains(t, rep.Problems, "table manga-assist-sessions does not exist in us-east-1")
			assert.Equal(t, failover.Unknown, replica(t, rep, west).Status)
		}},
		{"PITR off in the replica", func(f *fake, _ *failover.Input) { f.pitr[west] = types.PointInTimeRecoveryStatusDisabled }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, "DISABLED", replica(t, rep, west).PITR)
			assert.Equal(t, []string{"us-west-2: point-in-time recovery of manga-assist-sessions is DISABLED, not ENABLED"}, rep.Problems)
		}},
		{"PITR off in the primary", func(f *fake, _ *failover.Input) { f.pitr[primary] = types.PointInTimeRecoveryStatusDisabled }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, "DISABLED", rep.PITR)
			assert.Len(t, problemsWith(rep, "us-east-1: point-in-time recovery"), 1)
		}},
		{"replica table absent in its region", func(f *fake, _ *failover.Input) { delete(f.pitr, west) }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, failover.Missing, replica(t, rep, west).PITR)
			assert.Len(t, problemsWith(rep, "us-west-2: no table manga-assist-sessions in that region"), 1)
		}},
		{"latency over the threshold", func(f *fake, _ *failover.Input) {
			f.latency[west] = []point{{1, 75_200, 90_000}, {2, 30_000, 31_000}}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			require.Len(t, rep.Problems, 1)
			p := rep.Problems[0]
			assert.Contains(t, p, "replica us-west-2: replication latency from us-east-1 is 1m15.2s (latest minute, 2026-11-28T09:14:00Z), over --latency-threshold 1m0s")
			assert.Contains(t, p, "max 1m30s in the last 10m0s", "the max is mentioned")
		}},
		{"latency at the threshold is not over it", func(f *fake, _ *failover.Input) {
			f.latency[west] = []point{{1, 60_000, 60_000}}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Empty(t, rep.Problems)
		}},
		{"an old spike over the threshold counts only as the max", func(f *fake, _ *failover.Input) {
			f.latency[west] = []point{{1, 900, 1000}, {5, 120_000, 180_000}}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Empty(t, rep.Problems, "the latest datapoint decides")
			w := replica(t, rep, west)
			assert.InDelta(t, 900, *w.Latency.LatestMs, 0.001)
			assert.InDelta(t, 180_000, *w.Latency.MaxMs, 0.001)
		}},
		{"datapoints older than the window are not read", func(f *fake, _ *failover.Input) {
			f.latency[west] = []point{{30, 120_000, 180_000}}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			w := replica(t, rep, west)
			assert.True(t, w.Latency.NoData)
			assert.Empty(t, rep.Problems)
		}},
		{"no latency data is not a failure", func(f *fake, _ *failover.Input) { f.latency = nil }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.True(t, rep.OK(), "problems: %v", rep.Problems)
			w := replica(t, rep, west)
			require.NotNil(t, w.Latency)
			assert.True(t, w.Latency.NoData)
			assert.Nil(t, w.Latency.LatestMs)
			assert.Equal(t, []string{"replica us-west-2: no ReplicationLatency data from us-east-1 in the last 10m0s (nothing replicated, or not published yet): no data, not a failure"}, rep.Notes)
		}},
		{"latency across pages", func(f *fake, _ *failover.Input) {
			f.pageSize = 1
			f.latency[west] = []point{{1, 500, 600}, {2, 2000, 95_000}}
		}, func(t *testing.T, rep failover.Report, f *fake) {
			require.Len(t, f.metricIn, 2)
			assert.Equal(t, "page2", aws.ToString(f.metricIn[1].NextToken))
			w := replica(t, rep, west)
			assert.InDelta(t, 500, *w.Latency.LatestMs, 0.001)
			assert.InDelta(t, 95_000, *w.Latency.MaxMs, 0.001, "the max came on the second page")
			assert.Equal(t, 2, w.Latency.Datapoints)
		}},
		{"health check unhealthy by majority", func(f *fake, _ *failover.Input) { f.health["hc-east"] = successes(3, 5) }, func(t *testing.T, rep failover.Report, _ *fake) {
			hc := rep.HealthChecks[0]
			assert.Equal(t, "hc-east", hc.ID)
			assert.False(t, hc.Healthy)
			assert.True(t, hc.Route53Healthy, "3 of 8 is more than 18%%")
			assert.Equal(t, 3, hc.Success)
			assert.Equal(t, 8, hc.Checkers)
			require.Len(t, rep.Problems, 1)
			assert.Contains(t, rep.Problems[0], "health check hc-east (us-east-1): unhealthy, 3 of 8 checkers report Success; Route 53 still counts it healthy")
			assert.Contains(t, rep.Problems[0], "Failure: Connection timed out")
			assert.True(t, rep.HealthChecks[1].Healthy)
		}},
		{"health check down for Route 53 too", func(f *fake, _ *failover.Input) { f.health["hc-east"] = successes(1, 7) }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.False(t, rep.HealthChecks[0].Route53Healthy)
			assert.Contains(t, rep.Problems[0], "Route 53 counts it unhealthy and routes around it")
		}},
		{"health check healthy by majority", func(f *fake, _ *failover.Input) { f.health["hc-west"] = successes(5, 3) }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.True(t, rep.HealthChecks[1].Healthy)
			require.Len(t, rep.HealthChecks[1].Failures, 1, "three identical failures are one")
			assert.Equal(t, "us-west-1: Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.", rep.HealthChecks[1].Failures[0])
			assert.Empty(t, rep.Problems)
		}},
		{"health check half healthy is not a majority", func(f *fake, _ *failover.Input) { f.health["hc-west"] = successes(4, 4) }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.False(t, rep.HealthChecks[1].Healthy)
			assert.Len(t, rep.Problems, 1)
		}},
		{"health check with no checker", func(f *fake, _ *failover.Input) { f.health["hc-west"] = nil }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, []string{"health check hc-west (us-west-2): no checker reports a status"}, rep.Problems)
		}},
		{"record answers through the chain", func(f *fake, _ *failover.Input) {
			f.answers = map[string]string{
				record:                 "failover-1.chat.example.com.",
				"failover-1." + record: "Failover-2.Chat.Example.com.",
				"failover-2." + record: "chat-euw1.example.com.",
			}
		}, func(t *testing.T, rep failover.Report, f *fake) {
			require.NotNil(t, rep.DNS)
			assert.Equal(t, "chat-euw1.example.com", rep.DNS.Host)
			assert.Equal(t, europe, rep.DNS.Region)
			assert.Equal(t, []string{
				"chat.example.com → failover-1.chat.example.com",
				"failover-1.chat.example.com → failover-2.chat.example.com",
				"failover-2.chat.example.com → chat-euw1.example.com",
			}, rep.DNS.Chain)
			assert.Contains(t, f.calls, "TestDNSAnswer "+zone+" failover-2.chat.example.com CNAME")
			assert.Empty(t, rep.Problems)
			assert.Equal(t, []string{"chat.example.com answers with chat-euw1.example.com: traffic goes to eu-west-1, not to --region us-east-1"}, rep.Notes)
		}},
		{"record answers an unknown host", func(f *fake, _ *failover.Input) {
			f.answers = map[string]string{record: "failover-1.chat.example.com", "failover-1." + record: "elb-123.us-west-2.elb.amazonaws.com"}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, failover.Unknown, rep.DNS.Region)
			assert.Equal(t, "elb-123.us-west-2.elb.amazonaws.com", rep.DNS.Host)
			assert.Equal(t, []string{"chat.example.com answers with elb-123.us-west-2.elb.amazonaws.com, which is none of --endpoints (eu-west-1=chat-euw1.example.com,us-east-1=chat-use1.example.com,us-west-2=chat-usw2.example.com): unknown region"}, rep.Problems)
		}},
		{"a failover name of another record is not followed", func(f *fake, _ *failover.Input) {
			f.answers = map[string]string{record: "failover-1.api.example.com"}
		}, func(t *testing.T, rep failover.Report, f *fake) {
			assert.Equal(t, failover.Unknown, rep.DNS.Region)
			assert.NotContains(t, strings.Join(f.calls, "\n"), "TestDNSAnswer "+zone+" failover-1.api.example.com")
		}},
		{"chain that loops", func(f *fake, _ *failover.Input) {
			f.answers = map[string]string{record: "failover-1.chat.example.com", "failover-1." + record: "failover-1.chat.example.com"}
		}, func(t *testing.T, rep failover.Report, _ *fake) {
			require.Len(t, rep.Problems, 1)
			assert.Contains(t, rep.Problems[0], "chat.example.com: the failover chain loops")
		}},
		{"no answer", func(f *fake, _ *failover.Input) { f.answers = map[string]string{} }, func(t *testing.T, rep failover.Report, _ *fake) {
			assert.Equal(t, []string{"chat.example.com: Route 53 answers the CNAME query with NXDOMAIN"}, rep.Problems)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := healthy()
			in := input()
			if c.setup != nil {
				c.setup(f, &in)
			}
			rep, err := failover.Status(t.Context(), f.api(), in)
			require.NoError(t, err)
			assert.Empty(t, rep.Errors)
			c.check(t, rep, f)
		})
	}
}

// Each call goes to its region: the table and the latency in --region,
// PITR in each table's own region; the latency query is the documented
// metric.
func TestStatusCallsAndQuery(t *testing.T) {
	f := healthy()
	f.replicas[europe] = types.ReplicaStatusActive
	f.pitr[europe] = types.PointInTimeRecoveryStatusEnabled
	in := input()
	in.ReplicaRegions = []string{west, europe}
	rep, err := failover.Status(t.Context(), f.api(), in)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"DescribeTable us-east-1 " + tbl,
		"DescribeContinuousBackups us-east-1 " + tbl,
		"DescribeContinuousBackups eu-west-1 " + tbl,
		"DescribeContinuousBackups us-west-2 " + tbl,
		"GetMetricData",
		"GetHealthCheckStatus hc-east",
		"GetHealthCheckStatus hc-west",
		"TestDNSAnswer " + zone + " chat.example.com CNAME",
	}, f.calls)
	assert.Equal(t, []string{europe, west}, []string{rep.Replicas[0].Region, rep.Replicas[1].Region})

	require.Len(t, f.metricIn, 1)
	q := f.metricIn[0]
	assert.Equal(t, now.Add(-10*time.Minute), aws.ToTime(q.StartTime))
	assert.Equal(t, now, aws.ToTime(q.EndTime))
	require.Len(t, q.MetricDataQueries, 4, "Average and Maximum for each of two replicas")
	seen := map[string]bool{}
	for _, m := range q.MetricDataQueries {
		id := aws.ToString(m.Id)
		assert.Regexp(t, `^[a-z][a-zA-Z0-9_]*$`, id, "CloudWatch ids start with a lower-case letter")
		assert.False(t, seen[id], "ids are unique")
		seen[id] = true
		assert.Equal(t, "AWS/DynamoDB", aws.ToString(m.MetricStat.Metric.Namespace))
		assert.Equal(t, "ReplicationLatency", aws.ToString(m.MetricStat.Metric.MetricName))
		assert.EqualValues(t, 60, aws.ToInt32(m.MetricStat.Period))
		assert.Contains(t, []string{"Average", "Maximum"}, aws.ToString(m.MetricStat.Stat))
		dims := map[string]string{}
		for _, d := range m.MetricStat.Metric.Dimensions {
			dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
		assert.Equal(t, tbl, dims["TableName"])
		assert.Contains(t, []string{west, europe}, dims["ReceivingRegion"])
		assert.Len(t, dims, 2)
	}
}

// A region that does not answer fails the run, but the report still says
// everything else.
func TestStatusAPIErrorKeepsTheRest(t *testing.T) {
	f := healthy()
	f.pitrErr = map[string]error{west: errors.New("dial tcp: i/o timeout")}
	f.health["hc-east"] = successes(0, 8)
	rep, err := failover.Status(t.Context(), f.api(), input())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "point-in-time recovery of manga-assist-sessions in us-west-2: dial tcp: i/o timeout")
	assert.Equal(t, []string{err.Error()}, rep.Errors)
	assert.False(t, rep.OK())
	w := replica(t, rep, west)
	assert.Equal(t, "ACTIVE", w.Status)
	assert.Empty(t, w.PITR, "unknown, not DISABLED")
	require.NotNil(t, w.Latency.LatestMs, "latency is still read")
	assert.Len(t, rep.HealthChecks, 2)
	assert.Len(t, problemsWith(rep, "health check hc-east"), 1)
	assert.Equal(t, primary, rep.DNS.Region)

	f = healthy()
	in := input()
	in.HealthChecks = append(in.HealthChecks, failover.HealthCheckRef{Region: europe, ID: "hc-gone"})
	rep, err = failover.Status(t.Context(), f.api(), in)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "health check hc-gone (eu-west-1)")
	assert.Len(t, rep.HealthChecks, 2)
}

// Each call gets its own deadline: a region that hangs costs CallTimeout.
func TestStatusCallTimeout(t *testing.T) {
	f := healthy()
	in := input()
	in.CallTimeout = 50 * time.Millisecond
	api := f.api()
	api.DynamoDB = func(r string) failover.DynamoDB {
		if r == west {
			return hanging{regional{f, r}}
		}
		return regional{f, r}
	}
	start := time.Now()
	rep, err := failover.Status(t.Context(), api, in)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, rep.HealthChecks, 2)
}

type hanging struct{ regional }

func (h hanging) DescribeContinuousBackups(ctx context.Context, _ *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		statuses        []string
		healthy, route  bool
		success, failed int
	}{
		{successes(16, 0), true, true, 16, 0},
		{successes(9, 7), true, true, 9, 7},
		{successes(8, 8), false, true, 8, 8},
		{successes(3, 13), false, true, 3, 13},  // 18.75% > 18%
		{successes(2, 14), false, false, 2, 14}, // 12.5%
		{nil, false, false, 0, 0},
		{[]string{"Success: HTTP Status Code 200, OK", "", "Failure: HTTP Status Code 503, Service Unavailable"}, false, true, 1, 2},
	} {
		var obs []r53types.HealthCheckObservation
		for _, s := range c.statuses {
			obs = append(obs, r53types.HealthCheckObservation{Region: r53types.HealthCheckRegionSaEast1, StatusReport: &r53types.StatusReport{Status: aws.String(s)}})
		}
		hc := failover.Judge(failover.HealthCheckRef{Region: primary, ID: "x"}, obs)
		name := fmt.Sprintf("%d ok of %d", c.success, c.success+c.failed)
		assert.Equal(t, c.healthy, hc.Healthy, name)
		assert.Equal(t, c.route, hc.Route53Healthy, name)
		assert.Equal(t, c.success, hc.Success, name)
		assert.Equal(t, c.success+c.failed, hc.Checkers, name)
		assert.LessOrEqual(t, len(hc.Failures), 3, name)
	}
	// Failures: distinct reports only, at most three.
	obs := []r53types.HealthCheckObservation{}
	for i, s := range []string{"Failure: A", "Failure: A", "Failure: B", "Failure: C", "Failure: D"} {
		obs = append(obs, r53types.HealthCheckObservation{Region: r53types.HealthCheckRegion(fmt.Sprint("r", i)), StatusReport: &r53types.StatusReport{Status: aws.String(s)}})
	}
	assert.Equal(t, []string{"r0: Failure: A", "r2: Failure: B", "r3: Failure: C"}, failover.Judge(failover.HealthCheckRef{}, obs).Failures)
}

func TestProgressNarrates(t *testing.T) {
	f := healthy()
	f.answers = map[string]string{record: "failover-1.chat.example.com", "failover-1." + record: "chat-usw2.example.com"}
	var buf bytes.Buffer
	in := input()
	in.Progress = progress.Options{Out: &buf}
	_, err := failover.Status(t.Context(), f.api(), in)
	require.NoError(t, err)
	assert.Equal(t, `table manga-assist-sessions in us-east-1: ACTIVE, PITR ENABLED
replica us-west-2: ACTIVE, PITR ENABLED
replication latency us-east-1 → us-west-2: 800ms at 09:14Z (max 1.5s in the last 10m0s)
health check hc-east (us-east-1): healthy, 8/8 checkers report Success
health check hc-west (us-west-2): healthy, 8/8 checkers report Success
chat.example.com answers with chat-usw2.example.com: us-west-2 (chat.example.com → failover-1.chat.example.com, failover-1.chat.example.com → chat-usw2.example.com)
`, buf.String())
}

func TestValid(t *testing.T) {
	for _, r := range []string{"us-east-1", "us-gov-west-1", "ap-southeast-7", "eu-central-2"} {
		assert.True(t, failover.ValidRegion(r), r)
	}
	for _, r := range []string{"", "us-east", "US-EAST-1", "useast1", "us-east-1a", "us_east_1"} {
		assert.False(t, failover.ValidRegion(r), r)
	}
	for _, h := range []string{"chat.example.com", "Chat.Example.com.", "a-b.c.example.co"} {
		assert.True(t, failover.ValidHost(h), h)
	}
	for _, h := range []string{"", "localhost", "chat example.com", "-a.example.com", "http://chat.example.com"} {
		assert.False(t, failover.ValidHost(h), h)
	}
}
