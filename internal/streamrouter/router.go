// Package streamrouter turns a batch of DynamoDB stream records of the
// sessions table into analytics events on a Kinesis stream.
//
// Each record becomes one event (see Transform), one JSON line. The events
// of one session in a batch travel together: a Kinesis record holds 1 to 500
// of them, in stream order, with the session id as partition key, and a
// session with more is split into consecutive records that go out in
// successive calls. A call never carries two records of one session, so a
// failed record can be retried without a later one of its session having
// overtaken it; Kinesis accepts or rejects a record whole. What is not
// delivered before the invocation's deadline is reported as a batch item
// failure naming the first undelivered stream record, and Lambda retries
// from there. See docs/streamrouter.md for the contract.
package streamrouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// PutRecordsAPI is the part of the Kinesis client the router uses.
type PutRecordsAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Backoff is the exponential backoff between attempts: before re-sending an
// entry that failed n times the router waits a uniformly random time below
// min(Max, Base·2^(n-1)) ("full jitter").
type Backoff struct {
	Base, Max time.Duration
}

// Defaults of Config.
var (
	DefaultBackoff = Backoff{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	// DefaultSafetyMargin is kept free before the invocation's deadline for
	// the response, the logs and the metrics line.
	DefaultSafetyMargin = time.Second
	// DefaultBudget bounds retries when the context has no deadline (only
	// outside Lambda, which always sets one).
	DefaultBudget = time.Minute
)

// Config configures a Router. StreamName and Client are required.
type Config struct {
	StreamName string
	Client     PutRecordsAPI

	Logger  *slog.Logger // default: JSON on stderr
	Metrics io.Writer    // EMF lines; default stdout
	// FunctionName is the value of the metrics' FunctionName dimension:
	// the Lambda function's name. Default DefaultFunctionName.
	FunctionName string
	Limits       Limits  // default KinesisLimits
	Backoff      Backoff // default DefaultBackoff

	// SafetyMargin is taken off the context's deadline; it is capped at a
	// quarter of the time left when the invocation starts, so that a short
	// timeout still leaves time to send.
	SafetyMargin time.Duration
	Budget       time.Duration // when the context has no deadline

	// Jitter returns a random duration in [0, d); tests may fix it.
	Jitter func(d time.Duration) time.Duration
	Now    func() time.Time
}

// Router is the stream router. Its Handle method is the Lambda handler.
type Router struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Router, error) {
	if cfg.StreamName == "" {
		return nil, errors.New("streamrouter: Config.StreamName is empty")
	}
	if cfg.Client == nil {
		return nil, errors.New("streamrouter: Config.Client is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = os.Stdout
	}
	if cfg.FunctionName == "" {
		cfg.FunctionName = DefaultFunctionName
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = KinesisLimits
	}
	if !cfg.Limits.valid() {
		return nil, fmt.Errorf("streamrouter: Config.Limits %+v: counts must be positive, an aggregate no larger than a record, and a call must hold the largest record", cfg.Limits)
	}
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.SafetyMargin == 0 {
		cfg.SafetyMargin = DefaultSafetyMargin
	}
	if cfg.Budget == 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Router{cfg: cfg, log: cfg.Logger.With("stream", cfg.StreamName)}, nil
}

// Invoke is the Lambda handler (it makes Router an aws-lambda-go
// lambda.Handler): it decodes the DynamoDB stream event itself (see
// decodeBatch), routes it and answers with the partial batch response. Its
// error is non-nil only when the payload cannot be decoded, which fails the
// invocation as aws-lambda-go's own decoding would.
func (r *Router) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := r.cfg.Now()
	recs, err := decodeBatch(payload)
	if err != nil {
		r.log.Error("stream event not decoded; the invocation fails and Lambda retries the batch", "error", err, "bytes", len(payload))
		return nil, err
	}
	return json.Marshal(r.route(ctx, recs, start))
}

// Handle routes one batch already decoded by aws-lambda-go. Its error is
// always nil: undelivered records are reported in the response, so that
// Lambda retries from the first of them instead of the whole batch.
func (r *Router) Handle(ctx context.Context, batch events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	start := r.cfg.Now()
	recs := make([]streamRecord, len(batch.Records))
	for i := range batch.Records {
		recs[i] = fromLambdaRecord(&batch.Records[i])
	}
	return r.route(ctx, recs, start), nil
}

// route sends the events of recs and reports the first undelivered record.
func (r *Router) route(ctx context.Context, recs []streamRecord, start time.Time) events.DynamoDBEventResponse {
	m := Metrics{RecordsIn: len(recs), Skipped: make(map[SkipReason]int)}
	sched := r.prepare(recs, start, &m)
	r.send(ctx, r.workDeadline(ctx, start), sched, &m)

	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	first, left := sched.undelivered()
	m.Undelivered = left
	if first != nil {
		rec := &recs[first.first]
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.sequenceNumber})
		r.log.Error("events left undelivered; Lambda retries from the first",
			"undelivered", left, "first_sequence_number", rec.sequenceNumber,
			"first_event_id", rec.eventID, "first_session_id", first.session, "first_state", first.state())
	}
	m.BatchLatency = r.cfg.Now().Sub(start)
	if err := m.WriteEMF(r.cfg.Metrics, r.cfg.Now(), r.cfg.FunctionName); err != nil {
		r.log.Error("metrics line not written", "error", err)
	}
	r.log.Info("batch routed", "records_in", m.RecordsIn, "events_out", m.EventsOut, "kinesis_records_out", m.KinesisRecordsOut,
		"skipped", m.skippedTotal(), "undelivered", m.Undelivered, "calls", m.Calls, "retries", m.Retries,
		"latency_ms", m.BatchLatency.Milliseconds())
	return resp
}

// workDeadline is when sending must stop.
func (r *Router) workDeadline(ctx context.Context, start time.Time) time.Time {
	deadline, ok := ctx.Deadline()
	if !ok {
		return start.Add(r.cfg.Budget)
	}
	return deadline.Add(-min(r.cfg.SafetyMargin, deadline.Sub(start)/4))
}

// noSDKRetries: the router retries calls and entries itself, bounded by the
// deadline; SDK retries underneath would multiply the waits and hide attempts
// from the metrics.
func noSDKRetries(o *kinesis.Options) { o.RetryMaxAttempts = 1 }

// send makes calls until everything is delivered, nothing can be sent, an
// error cannot be retried, or time is up.
func (r *Router) send(ctx context.Context, deadline time.Time, s *schedule, m *Metrics) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	stream := aws.String(r.cfg.StreamName)
	for {
		call := s.next()
		if len(call) == 0 {
			return
		}
		if !r.wait(ctx, deadline, call) {
			r.log.Warn("out of time for another attempt", "pending_in_next_call", len(call))
			return
		}
		in := &kinesis.PutRecordsInput{StreamName: stream, Records: make([]types.PutRecordsRequestEntry, len(call))}
		for i, e := range call {
			in.Records[i] = types.PutRecordsRequestEntry{Data: e.data, PartitionKey: &e.session}
			if e.failures > 0 {
				m.Retries++
			}
		}
		m.Calls++
		out, err := r.cfg.Client.PutRecords(ctx, in, noSDKRetries)
		if err == nil && len(out.Records) != len(call) {
			err = fmt.Errorf("PutRecords answered %d results for %d entries", len(out.Records), len(call))
		}
		if err != nil {
			m.CallFailures++
			for _, e := range call {
				e.failures++
			}
			if !retryable(err) {
				r.log.Error("PutRecords failed; not retrying", "error", err, "entries", len(call))
				return
			}
			r.log.Warn("PutRecords failed; retrying", "error", err, "entries", len(call))
			continue
		}
		var codes map[string]int
		for i, res := range out.Records {
			if code := aws.ToString(res.ErrorCode); code != "" {
				call[i].failures++
				if codes == nil {
					codes = map[string]int{}
				}
				codes[code]++
				m.EntryFailures++
				continue
			}
			s.delivered(call[i])
			m.EventsOut += call[i].events
			m.KinesisRecordsOut++
		}
		if len(codes) > 0 {
			r.log.Warn("PutRecords entries failed; retrying them", "failed", codes, "entries", len(call))
		}
	}
}

// wait sleeps the backoff the call's entries have earned, and reports false
// if the deadline would pass first.
func (r *Router) wait(ctx context.Context, deadline time.Time, call []*entry) bool {
	failures := 0
	for _, e := range call {
		failures = max(failures, e.failures)
	}
	if failures == 0 {
		return ctx.Err() == nil
	}
	ceiling := r.cfg.Backoff.Max
	if shift := failures - 1; shift < 30 && r.cfg.Backoff.Base<<shift < ceiling {
		ceiling = r.cfg.Backoff.Base << shift
	}
	d := r.cfg.Jitter(ceiling)
	if r.cfg.Now().Add(d).After(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// state says why an entry is undelivered, for the logs.
func (e *entry) state() string {
	switch {
	case e.poison:
		return "poison"
	case e.failures > 0:
		return "failed"
	default:
		return "not sent" // behind an undelivered event of its session, or out of time
	}
}
