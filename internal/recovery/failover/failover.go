// Package failover reports the state of the sessions table as a global
// table, for an on-call deciding about a regional failover or checking one:
// the table and each replica (status, point-in-time recovery), replication
// latency toward each replica, the Route 53 health checks, and which region
// the failover record answers with now.
//
// What it relies on, from AWS's documentation:
//
//   - DescribeTable in a region gives the table's TableStatus and
//     Replicas[].RegionName/ReplicaStatus (DynamoDB API Reference,
//     ReplicaDescription); every status but ACTIVE (CREATING, UPDATING,
//     DELETING, CREATION_FAILED, REGION_DISABLED,
//     INACCESSIBLE_ENCRYPTION_CREDENTIALS, …) is a problem here.
//   - ReplicationLatency is published in the source region, per receiving
//     region (dimensions TableName and ReceivingRegion), in milliseconds
//     (DynamoDB Developer Guide, "Monitoring global tables" and "DynamoDB
//     Metrics and dimensions"). No datapoint means nothing was replicated in
//     the window: "no data", not a failure.
//   - GetHealthCheckStatus returns one observation per Route 53 health
//     checker, whose StatusReport.Status is text such as "Success: HTTP
//     Status Code 200, OK" or "Failure: …" (Route 53 API Reference,
//     StatusReport). This package calls a check healthy when a majority of
//     checkers report Success; Route 53 itself calls it healthy when more
//     than 18% do (Route 53 Developer Guide, "How Amazon Route 53 determines
//     whether a health check is healthy"), and that is what moves traffic, so
//     both verdicts are reported.
//   - TestDNSAnswer returns what a Route 53 name server answers for a name
//     and type (RecordData, ResponseCode; Route 53 API Reference,
//     TestDNSAnswer). The failover records of GlobalTableFailover chain for
//     three or more regions (the SECONDARY of NAME is a CNAME to
//     failover-1.NAME, and so on), so an answer failover-N.NAME is asked
//     again until it is an endpoint host.
package failover

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
)

// DynamoDB is the part of one region's DynamoDB client Status uses.
type DynamoDB interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
}

// CloudWatch is the part of the CloudWatch client Status uses.
type CloudWatch interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Route53 is the part of the Route 53 client Status uses.
type Route53 interface {
	GetHealthCheckStatus(ctx context.Context, in *route53.GetHealthCheckStatusInput, optFns ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
	TestDNSAnswer(ctx context.Context, in *route53.TestDNSAnswerInput, optFns ...func(*route53.Options)) (*route53.TestDNSAnswerOutput, error)
}

// API are the clients Status calls.
type API struct {
	// DynamoDB gives a region's client: DescribeTable goes to Input.Region,
	// DescribeContinuousBackups to each table's own region.
	DynamoDB func(region string) DynamoDB
	// CloudWatch is Input.Region's: the replication's source region, where
	// ReplicationLatency is published.
	CloudWatch CloudWatch
	// Route53 is global.
	Route53 Route53
}

// HealthCheckRef names a Route 53 health check and the region whose
// endpoint it watches.
type HealthCheckRef struct {
	Region string
	ID     string
}

// Input says what to look at.
type Input struct {
	Table string
	// Region is where the table is described and latency read: the primary
	// normally; a surviving replica region while the primary is down.
	Region string
	// ReplicaRegions are the replicas the table must have; empty takes
	// whatever DescribeTable lists.
	ReplicaRegions   []string
	LatencyThreshold time.Duration
	Window           time.Duration
	HealthChecks     []HealthCheckRef
	// HostedZoneID and RecordName name the failover record; empty: no DNS
	// check. Endpoints maps each region to its endpoint host.
	HostedZoneID string
	RecordName   string
	Endpoints    map[string]string
	Now          time.Time
	// CallTimeout bounds each call, so that a region that does not answer
	// costs seconds, not the SDK's minutes of retries (default 30 s).
	CallTimeout time.Duration
	Progress    progress.Options
}

// Report is what Status found. Problems make the status fail; Notes are
// worth knowing and fail nothing; Errors are calls that did not answer.
type Report struct {
	Table        string        `json:"table"`
	Region       string        `json:"region"`
	TableStatus  string        `json:"table_status"`
	PITR         string        `json:"pitr,omitempty"`
	Replicas     []Replica     `json:"replicas"`
	HealthChecks []HealthCheck `json:"health_checks,omitempty"`
	DNS          *DNS          `json:"dns,omitempty"`
	Problems     []string      `json:"problems"`
	Notes        []string      `json:"notes,omitempty"`
	Errors       []string      `json:"errors,omitempty"`
}

// OK reports whether every check passed and every call answered.
func (r Report) OK() bool { return len(r.Problems) == 0 && len(r.Errors) == 0 }

// Replica is one replica table, seen from Input.Region.
type Replica struct {
	Region string `json:"region"`
	// Status is its ReplicaStatus, or MISSING when --replica-regions lists it
	// and the table has no replica there.
	Status string `json:"status"`
	// PITR is its point-in-time recovery status, read in its own region;
	// empty when it could not be read.
	PITR    string   `json:"pitr,omitempty"`
	Latency *Latency `json:"replication_latency,omitempty"`
}

// Missing is the status of a replica that --replica-regions lists and the
// table does not have.
const Missing = "MISSING"

// Latency is ReplicationLatency from Input.Region to one replica over the
// window, in milliseconds (the metric's unit).
type Latency struct {
	LatestMs   *float64   `json:"latest_ms"` // average of the newest minute
	LatestAt   *time.Time `json:"latest_at,omitempty"`
	MaxMs      *float64   `json:"max_ms"` // highest Maximum in the window
	Datapoints int        `json:"datapoints"`
	NoData     bool       `json:"no_data,omitempty"`
}

// HealthCheck is one Route 53 health check's state.
type HealthCheck struct {
	Region string `json:"region"`
	ID     string `json:"id"`
	// Healthy: a majority of the checkers report Success.
	Healthy  bool `json:"healthy"`
	Success  int  `json:"checkers_success"`
	Checkers int  `json:"checkers"`
	// Route53Healthy is Route 53's own rule on the same observations: more
	// than 18% report Success. It is what decides the failover.
	Route53Healthy bool `json:"route53_healthy"`
	// Failures are up to three distinct failure reports, each with the
	// checker's region.
	Failures []string `json:"failures,omitempty"`
}

// DNS is where the failover record sends clients now.
type DNS struct {
	RecordName string `json:"record_name"`
	// Chain is each name asked and Route 53's answer, in order.
	Chain []string `json:"chain"`
	Host  string   `json:"host,omitempty"`
	// Region is the region whose endpoint Host is, or Unknown.
	Region string `json:"region,omitempty"`
}

// Unknown is the DNS region of an answer that is none of the endpoints.
const Unknown = "unknown"

const (
	period       = 60 // seconds: ReplicationLatency is published per minute
	maxPages     = 20
	maxChain     = 10
	maxFailures  = 3
	route53Share = 0.18 // Route 53: healthy when more than 18% of checkers say so
)

// Status looks at everything Input names and reports. Each part is looked at
// even when another's calls fail; the error joins every failed call, and the
// report then says what could be seen.
func Status(ctx context.Context, api API, in Input) (Report, error) {
	if in.CallTimeout <= 0 {
		in.CallTimeout = 30 * time.Second
	}
	s := &status{api: api, in: in, rep: Report{Table: in.Table, Region: in.Region, Replicas: []Replica{}, Problems: []string{}}}
	s.table(ctx)
	s.latency(ctx)
	s.healthChecks(ctx)
	s.dns(ctx)
	return s.rep, errors.Join(s.errs...)
}

type status struct {
	api  API
	in   Input
	rep  Report
	errs []error
}

func (s *status) problemf(format string, args ...any) {
	s.rep.Problems = append(s.rep.Problems, fmt.Sprintf(format, args...))
}

func (s *status) notef(format string, args ...any) {
	s.rep.Notes = append(s.rep.Notes, fmt.Sprintf(format, args...))
}

func (s *status) fail(err error) {
	s.errs = append(s.errs, err)
	s.rep.Errors = append(s.rep.Errors, err.Error())
}

func (s *status) logf(format string, args ...any) { progress.Logf(s.in.Progress, format, args...) }

// call runs one call with the per-call timeout.
func call[T any](ctx context.Context, s *status, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.in.CallTimeout)
	defer cancel()
	return f(ctx)
}

// table describes the table in Input.Region, lists its replicas against
// Input.ReplicaRegions and reads PITR of each in its own region.
func (s *status) table(ctx context.Context) {
	name, region := s.in.Table, s.in.Region
	ddb := s.api.DynamoDB(region)
	out, err := call(ctx, s, func(ctx context.Context) (*dynamodb.DescribeTableOutput, error) {
		return ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		s.rep.TableStatus = Missing
		s.problemf("table %s does not exist in %s", name, region)
		for _, r := range s.in.ReplicaRegions {
			if r != region {
				s.rep.Replicas = append(s.rep.Replicas, Replica{Region: r, Status: Unknown})
			}
		}
		return
	case err != nil:
		s.fail(fmt.Errorf("describe table %s in %s: %w", name, region, err))
		return
	}
	t := out.Table
	s.rep.TableStatus = string(t.TableStatus)
	if t.TableStatus != types.TableStatusActive {
		s.problemf("table %s in %s is %s, not ACTIVE", name, region, t.TableStatus)
	}
	s.rep.PITR = s.pitr(ctx, region)

	found := map[string]types.ReplicaStatus{}
	for _, r := range t.Replicas {
		if rn := aws.ToString(r.RegionName); rn != region { // the table itself, if listed, is TableStatus
			found[rn] = r.ReplicaStatus
		}
	}
	regions := slices.Sorted(maps.Keys(found))
	if len(s.in.ReplicaRegions) > 0 {
		for _, r := range regions {
			if !slices.Contains(s.in.ReplicaRegions, r) {
				s.notef("the table also has a replica in %s, which --replica-regions does not list", r)
			}
		}
		for _, r := range s.in.ReplicaRegions {
			if _, ok := found[r]; !ok && r != region {
				regions = append(regions, r)
			}
		}
		slices.Sort(regions)
	}
	if len(regions) == 0 {
		s.problemf("table %s in %s has no replica: it is not a global table, nothing can take over", name, region)
	}
	s.logf("table %s in %s: %s, PITR %s", name, region, t.TableStatus, orUnknown(s.rep.PITR))
	for _, r := range regions {
		st, ok := found[r]
		rep := Replica{Region: r, Status: string(st)}
		switch {
		case !ok:
			rep.Status = Missing
			s.problemf("replica %s: missing (--replica-regions lists it; %s in %s has no replica there)", r, name, region)
		case st != types.ReplicaStatusActive:
			s.problemf("replica %s is %s, not ACTIVE", r, st)
		}
		if ok {
			rep.PITR = s.pitr(ctx, r)
		}
		s.logf("replica %s: %s, PITR %s", r, rep.Status, orUnknown(rep.PITR))
		s.rep.Replicas = append(s.rep.Replicas, rep)
	}
}

// pitr reads point-in-time recovery of the table in region; "" when the
// call failed.
func (s *status) pitr(ctx context.Context, region string) string {
	ddb := s.api.DynamoDB(region)
	out, err := call(ctx, s, func(ctx context.Context) (*dynamodb.DescribeContinuousBackupsOutput, error) {
		return ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(s.in.Table)})
	})
	var nf *types.TableNotFoundException
	switch {
	case errors.As(err, &nf):
		s.problemf("%s: no table %s in that region (DescribeContinuousBackups: %v)", region, s.in.Table, err)
		return Missing
	case err != nil:
		s.fail(fmt.Errorf("point-in-time recovery of %s in %s: %w", s.in.Table, region, err))
		return ""
	}
	st := types.PointInTimeRecoveryStatusDisabled
	if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		st = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
	}
	if st != types.PointInTimeRecoveryStatusEnabled {
		s.problemf("%s: point-in-time recovery of %s is %s, not ENABLED", region, s.in.Table, st)
	}
	return string(st)
}

// latency reads ReplicationLatency toward every replica in one
// GetMetricData call (paged), in Input.Region.
func (s *status) latency(ctx context.Context) {
	var targets []int // indexes into Replicas
	for i, r := range s.rep.Replicas {
		if r.Status != Missing && r.Status != Unknown {
			targets = append(targets, i)
		}
	}
	if len(targets) == 0 {
		return
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(s.in.Now.Add(-s.in.Window)),
		EndTime:   aws.Time(s.in.Now),
		ScanBy:    cwtypes.ScanByTimestampDescending,
	}
	for n, i := range targets {
		for _, stat := range []string{"Average", "Maximum"} {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(queryID(stat, n)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  aws.String("AWS/DynamoDB"),
						MetricName: aws.String("ReplicationLatency"),
						Dimensions: []cwtypes.Dimension{
							{Name: aws.String("TableName"), Value: aws.String(s.in.Table)},
							{Name: aws.String("ReceivingRegion"), Value: aws.String(s.rep.Replicas[i].Region)},
						},
					},
					Period: aws.Int32(period),
					Stat:   aws.String(stat),
				},
				ReturnData: aws.Bool(true),
			})
		}
	}
	type series struct {
		at  []time.Time
		val []float64
	}
	got := map[string]*series{}
	for page := 0; ; page++ {
		out, err := call(ctx, s, func(ctx context.Context) (*cloudwatch.GetMetricDataOutput, error) {
			return s.api.CloudWatch.GetMetricData(ctx, in)
		})
		if err != nil {
			s.fail(fmt.Errorf("ReplicationLatency of %s in %s (GetMetricData): %w", s.in.Table, s.in.Region, err))
			return
		}
		for _, r := range out.MetricDataResults {
			if r.StatusCode == cwtypes.StatusCodeForbidden || r.StatusCode == cwtypes.StatusCodeInternalError {
				s.fail(fmt.Errorf("ReplicationLatency of %s in %s (GetMetricData query %s): %s", s.in.Table, s.in.Region, aws.ToString(r.Id), r.StatusCode))
				return
			}
			id := aws.ToString(r.Id)
			if got[id] == nil {
				got[id] = &series{}
			}
			n := min(len(r.Timestamps), len(r.Values))
			got[id].at = append(got[id].at, r.Timestamps[:n]...)
			got[id].val = append(got[id].val, r.Values[:n]...)
		}
		if out.NextToken == nil || page+1 >= maxPages {
			break
		}
		in.NextToken = out.NextToken
	}
	for n, i := range targets {
		rep := &s.rep.Replicas[i]
		lat := &Latency{}
		rep.Latency = lat
		if avg := got[queryID("Average", n)]; avg != nil && len(avg.val) > 0 {
			newest := 0
			for k := range avg.at {
				if avg.at[k].After(avg.at[newest]) {
					newest = k
				}
			}
			lat.LatestMs = aws.Float64(avg.val[newest])
			lat.LatestAt = aws.Time(avg.at[newest].UTC())
			lat.Datapoints = len(avg.val)
		}
		if mx := got[queryID("Maximum", n)]; mx != nil && len(mx.val) > 0 {
			lat.MaxMs = aws.Float64(slices.Max(mx.val))
		}
		if lat.LatestMs == nil {
			lat.NoData = true
			s.notef("replica %s: no ReplicationLatency data from %s in the last %s (nothing replicated, or not published yet): no data, not a failure", rep.Region, s.in.Region, s.in.Window)
			s.logf("replication latency %s → %s: no data in the last %s", s.in.Region, rep.Region, s.in.Window)
			continue
		}
		latest := ms(*lat.LatestMs)
		maxText := "no Maximum datapoint"
		if lat.MaxMs != nil {
			maxText = "max " + ms(*lat.MaxMs).String()
		}
		s.logf("replication latency %s → %s: %s at %s (%s in the last %s)", s.in.Region, rep.Region, latest, lat.LatestAt.Format("15:04Z"), maxText, s.in.Window)
		if latest > s.in.LatencyThreshold {
			s.problemf("replica %s: replication latency from %s is %s (latest minute, %s), over --latency-threshold %s; %s in the last %s",
				rep.Region, s.in.Region, latest, lat.LatestAt.Format(time.RFC3339), s.in.LatencyThreshold, maxText, s.in.Window)
		}
	}
}

func queryID(stat string, n int) string { return fmt.Sprintf("%s%d", strings.ToLower(stat[:3]), n) }

// ms turns milliseconds into a duration rounded to the millisecond.
func ms(v float64) time.Duration {
	return time.Duration(math.Round(v)) * time.Millisecond
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// healthChecks reads each health check's observations.
func (s *status) healthChecks(ctx context.Context) {
	for _, ref := range s.in.HealthChecks {
		out, err := call(ctx, s, func(ctx context.Context) (*route53.GetHealthCheckStatusOutput, error) {
			return s.api.Route53.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(ref.ID)})
		})
		if err != nil {
			s.fail(fmt.Errorf("health check %s (%s): %w", ref.ID, ref.Region, err))
			continue
		}
		hc := Judge(ref, out.HealthCheckObservations)
		s.rep.HealthChecks = append(s.rep.HealthChecks, hc)
		verdict := "healthy"
		if !hc.Healthy {
			verdict = "UNHEALTHY"
		}
		s.logf("health check %s (%s): %s, %d/%d checkers report Success", ref.ID, ref.Region, verdict, hc.Success, hc.Checkers)
		switch {
		case hc.Checkers == 0:
			s.problemf("health check %s (%s): no checker reports a status", ref.ID, ref.Region)
		case !hc.Healthy:
			r53 := "Route 53 still counts it healthy (more than 18% Success), so it still routes there"
			if !hc.Route53Healthy {
				r53 = "Route 53 counts it unhealthy and routes around it"
			}
			s.problemf("health check %s (%s): unhealthy, %d of %d checkers report Success; %s; e.g. %s",
				ref.ID, ref.Region, hc.Success, hc.Checkers, r53, strings.Join(hc.Failures, "; "))
		}
	}
}

// Judge counts a health check's observations: a checker whose
// StatusReport.Status starts with "Success" reports the endpoint healthy.
func Judge(ref HealthCheckRef, obs []r53types.HealthCheckObservation) HealthCheck {
	hc := HealthCheck{Region: ref.Region, ID: ref.ID, Checkers: len(obs)}
	for _, o := range obs {
		status := ""
		if o.StatusReport != nil {
			status = strings.TrimSpace(aws.ToString(o.StatusReport.Status))
		}
		if strings.HasPrefix(status, "Success") {
			hc.Success++
			continue
		}
		if status == "" {
			status = "no status"
		}
		f := fmt.Sprintf("%s: %s", o.Region, status)
		if len(hc.Failures) < maxFailures && !slices.ContainsFunc(hc.Failures, func(x string) bool { return strings.HasSuffix(x, ": "+status) }) {
			hc.Failures = append(hc.Failures, f)
		}
	}
	hc.Healthy = hc.Success*2 > hc.Checkers
	hc.Route53Healthy = hc.Checkers > 0 && float64(hc.Success) > route53Share*float64(hc.Checkers)
	return hc
}

// dns asks Route 53 what the failover record answers, following the
// failover-N.<record> chain, and maps the final host to its region.
func (s *status) dns(ctx context.Context) {
	if s.in.RecordName == "" {
		return
	}
	root := NormalizeHost(s.in.RecordName)
	d := &DNS{RecordName: root, Chain: []string{}}
	s.rep.DNS = d
	regionOf := map[string]string{}
	for r, h := range s.in.Endpoints {
		regionOf[NormalizeHost(h)] = r
	}
	name := root
	seen := map[string]bool{}
	for {
		if seen[name] || len(seen) >= maxChain {
			s.problemf("%s: the failover chain loops or is too long: %s", root, strings.Join(d.Chain, ", "))
			return
		}
		seen[name] = true
		out, err := call(ctx, s, func(ctx context.Context) (*route53.TestDNSAnswerOutput, error) {
			return s.api.Route53.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{
				HostedZoneId: aws.String(s.in.HostedZoneID), RecordName: aws.String(name), RecordType: r53types.RRTypeCname,
			})
		})
		if err != nil {
			s.fail(fmt.Errorf("what %s answers (TestDNSAnswer in zone %s): %w", name, s.in.HostedZoneID, err))
			return
		}
		if rc := aws.ToString(out.ResponseCode); rc != "NOERROR" {
			s.problemf("%s: Route 53 answers the CNAME query with %s", name, rc)
			return
		}
		if len(out.RecordData) == 0 {
			s.problemf("%s: Route 53 answers the CNAME query with no record", name)
			return
		}
		if len(out.RecordData) > 1 {
			s.notef("%s: Route 53 answers %d values (%s); the first is followed", name, len(out.RecordData), strings.Join(out.RecordData, ", "))
		}
		answer := NormalizeHost(out.RecordData[0])
		d.Chain = append(d.Chain, name+" → "+answer)
		if r, ok := regionOf[answer]; ok {
			d.Host, d.Region = answer, r
			break
		}
		if isChainName(answer, root) {
			name = answer
			continue
		}
		d.Host, d.Region = answer, Unknown
		s.problemf("%s answers with %s, which is none of --endpoints (%s): unknown region", root, answer, endpointsText(s.in.Endpoints))
		s.logf("%s: %s (unknown region)", root, strings.Join(d.Chain, ", "))
		return
	}
	s.logf("%s answers with %s: %s (%s)", root, d.Host, d.Region, strings.Join(d.Chain, ", "))
	if d.Region != s.in.Region {
		s.notef("%s answers with %s: traffic goes to %s, not to --region %s", root, d.Host, d.Region, s.in.Region)
	}
}

var chainPrefix = regexp.MustCompile(`^failover-[0-9]+$`)

// isChainName reports whether name is failover-N.<root>.
func isChainName(name, root string) bool {
	prefix, ok := strings.CutSuffix(name, "."+root)
	return ok && chainPrefix.MatchString(prefix)
}

func endpointsText(endpoints map[string]string) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(endpoints)) {
		parts = append(parts, r+"="+endpoints[r])
	}
	return strings.Join(parts, ",")
}

// NormalizeHost lower-cases a DNS name and drops its final dot.
func NormalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	hostPattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// ValidRegion reports whether name has the shape of an AWS region
// (us-east-1, us-gov-west-1).
func ValidRegion(name string) bool { return regionPattern.MatchString(name) }

// ValidHost reports whether h (normalized) is a DNS host name such as
// chat.example.com.
func ValidHost(h string) bool { return hostPattern.MatchString(NormalizeHost(h)) }
