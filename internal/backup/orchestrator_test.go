package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test clock: a Tuesday, an hour after the daily incremental schedule.
var t0 = time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)

// harness is an orchestrator wired to the fake DynamoDB and an in-memory state.
type harness struct {
	t     *testing.T
	clock time.Time
	ddb   *fakeDynamo
	store *memStore
	logs  bytes.Buffer
	emf   bytes.Buffer
	o     *Orchestrator
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, clock: t0, store: &memStore{}}
	h.ddb = newFake(&h.clock)
	o, err := New(Config{
		TableArn: testTable, Bucket: testBucket, Prefix: "exports/", KMSKeyArn: testKey,
		DynamoDB: h.ddb, State: h.store,
		Logger:  slog.New(slog.NewJSONHandler(&h.logs, nil)),
		Metrics: &h.emf,
		Now:     func() time.Time { return h.clock },
	})
	require.NoError(t, err)
	h.o = o
	return h
}

// end is where windows planned at the current clock end: the latest
// restorable time minus the 10-minute margin, on a whole minute.
func (h *harness) end() time.Time {
	return h.ddb.latest.Add(-DefaultSafetyMargin).Truncate(time.Minute)
}

func (h *harness) run(trigger string) (Result, error) {
	h.t.Helper()
	h.logs.Reset()
	h.emf.Reset()
	return h.o.Run(context.Background(), Event{Trigger: trigger})
}

// metric reads one value of the run's EMF line.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	var line map[string]any
	require.NoError(h.t, json.Unmarshal(h.emf.Bytes(), &line), "one EMF line: %s", h.emf.String())
	require.Equal(h.t, "sessions", line[TableDimension])
	v, ok := line[name].(float64)
	require.True(h.t, ok, "metric %s in %s", name, h.emf.String())
	return v
}

// chain sets a state whose chain is based at base and has reached watermark.
func (h *harness) chain(base, watermark time.Time, inFlight ...Export) {
	arn := h.ddb.seed(Export{Kind: Base, ExportTime: base, RequestedAt: base}, types.ExportStatusCompleted, base.Add(time.Hour))
	h.store.state = State{Version: StateVersion, TableArn: testTable, CreatedAt: base,
		Base: &Restored{Arn: arn, ExportTime: base}, LatestFull: &Restored{Arn: arn, ExportTime: base},
		Watermark: watermark, InFlight: inFlight}
}

// window is an incremental export already started, in status.
func (h *harness) window(from, to time.Time, status types.ExportStatus) Export {
	e := Export{Kind: Incremental, From: from, To: to, RequestedAt: to.Add(15 * time.Minute)}
	e.Arn = h.ddb.seed(e, status, to.Add(time.Hour))
	return e
}

func incrementals(exports []*fakeExport) []Window {
	var out []Window
	for _, e := range exports {
		if e.in.ExportType == types.ExportTypeIncrementalExport {
			spec := e.in.IncrementalExportSpecification
			out = append(out, Window{aws.ToTime(spec.ExportFromTime).UTC(), aws.ToTime(spec.ExportToTime).UTC()})
		}
	}
	return out
}

// The transitions of the orchestrator, one case each, as the issue lists
// them (and a few it implies).
func TestTransitions(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(h *harness)
		trigger string
		check   func(t *testing.T, h *harness, res Result, err error)
	}{
		{
			name:    "first run: a base full export at the latest restorable time minus the margin",
			setup:   func(h *harness) {},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				started := h.ddb.started()
				require.Len(t, started, 1)
				in := started[0].in
				assert.Equal(t, types.ExportTypeFullExport, in.ExportType)
				assert.Equal(t, h.end(), aws.ToTime(in.ExportTime).UTC())
				assert.Equal(t, "exports/sessions", aws.ToString(in.S3Prefix), "objects land under exports/sessions/AWSDynamoDB/")
				assert.Equal(t, types.ExportFormatDynamodbJson, in.ExportFormat)
				assert.Equal(t, types.S3SseAlgorithmKms, in.S3SseAlgorithm)
				assert.Equal(t, testKey, aws.ToString(in.S3SseKmsKeyId))
				st := h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Equal(t, Base, st.InFlight[0].Kind)
				assert.Equal(t, started[0].arn, st.InFlight[0].Arn)
				assert.True(t, st.Watermark.IsZero(), "the watermark moves only on completion")
				assert.Equal(t, testTable, st.TableArn)
				assert.Equal(t, 0.0, h.metric(MetricChainRebased), "a first chain is no gap")
				assert.Equal(t, 1.0, h.metric(MetricExportsStarted))
			},
		},
		{
			name: "completion of the base: the chain starts at its export time and goes on",
			setup: func(h *harness) {
				base := Export{Kind: Base, ExportTime: t0.Add(-3 * time.Hour), RequestedAt: t0.Add(-3 * time.Hour)}
				base.Arn = h.ddb.seed(base, types.ExportStatusCompleted, t0.Add(-2*time.Hour))
				h.store.state = State{Version: StateVersion, TableArn: testTable, CreatedAt: base.ExportTime, InFlight: []Export{base}}
			},
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				st := h.store.get()
				require.NotNil(t, st.Base)
				assert.Equal(t, t0.Add(-3*time.Hour), st.Base.ExportTime)
				assert.Equal(t, t0.Add(-3*time.Hour), st.Watermark)
				assert.Equal(t, []Window{{t0.Add(-3 * time.Hour), h.end()}}, incrementals(h.ddb.started()),
					"the next window starts exactly at the base's export time")
				assert.Equal(t, 1.0, h.metric(MetricExportsCompleted))
			},
		},
		{
			name: "completion of a window: the watermark moves to its end",
			setup: func(h *harness) {
				w := h.end().Add(-24 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w, h.window(w, w.Add(20*time.Hour), types.ExportStatusCompleted))
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				st := h.store.get()
				assert.Equal(t, h.end().Add(-4*time.Hour), st.Watermark)
				assert.Empty(t, st.InFlight)
				assert.Equal(t, h.clock.Sub(st.Watermark).Seconds(), h.metric(MetricWatermarkLag), "lag is measured from the watermark")
			},
		},
		{
			name: "in progress: the watermark stays where it is",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w, h.window(w, h.end(), types.ExportStatusInProgress))
			},
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				st := h.store.get()
				assert.Equal(t, h.end().Add(-20*time.Hour), st.Watermark, "the watermark moves only on completion")
				assert.Len(t, st.InFlight, 1)
				assert.Len(t, h.ddb.started(), 2, "nothing new: the chain's end is the window in flight")
			},
		},
		{
			name: "out of order: a completed window waits for the one before it",
			setup: func(h *harness) {
				w := h.end().Add(-30 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w,
					h.window(w, w.Add(24*time.Hour), types.ExportStatusInProgress),
					h.window(w.Add(24*time.Hour), h.end(), types.ExportStatusCompleted))
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				st := h.store.get()
				assert.Equal(t, h.end().Add(-30*time.Hour), st.Watermark, "no gap may be skipped")
				require.Len(t, st.InFlight, 2)
				assert.True(t, st.InFlight[1].Completed)

				h.ddb.finish(st.InFlight[0].Arn, types.ExportStatusCompleted)
				_, err = h.run(TriggerCatchUp)
				require.NoError(t, err)
				st = h.store.get()
				assert.Equal(t, h.end(), st.Watermark, "both windows applied, in order")
				assert.Empty(t, st.InFlight)
			},
		},
		{
			name: "failure: the same window is started again, with a new token",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w, h.window(w, h.end(), types.ExportStatusFailed))
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				started := h.ddb.started()
				require.Len(t, started, 3)
				assert.Equal(t, []Window{{h.end().Add(-20 * time.Hour), h.end()}, {h.end().Add(-20 * time.Hour), h.end()}},
					incrementals(started), "the same window, not a new plan")
				assert.NotEqual(t, aws.ToString(started[1].in.ClientToken), aws.ToString(started[2].in.ClientToken),
					"a reused token would return the failed export")
				st := h.store.get()
				assert.Equal(t, h.end().Add(-20*time.Hour), st.Watermark)
				require.Len(t, st.InFlight, 1)
				assert.Equal(t, 1, st.InFlight[0].Attempt)
				assert.Equal(t, started[2].arn, st.InFlight[0].Arn)
				assert.Equal(t, 1.0, h.metric(MetricExportsFailed))
				assert.Contains(t, h.logs.String(), `"msg":"export failed"`)
			},
		},
		{
			name: "failure of every attempt: the chain is rebased on a full export",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				failing := h.window(w, h.end(), types.ExportStatusFailed)
				failing.Attempt = DefaultMaxAttempts - 1
				h.chain(w.Add(-24*time.Hour), w, failing)
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				started := h.ddb.started()
				require.Len(t, started, 3)
				assert.Equal(t, types.ExportTypeFullExport, started[2].in.ExportType)
				st := h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Equal(t, Base, st.InFlight[0].Kind)
				assert.Contains(t, st.Broken, "failed 3 times")
				assert.Equal(t, 1.0, h.metric(MetricChainRebased))
			},
		},
		{
			name:    "three missed days: the catch-up starts three 24-hour windows, never one longer",
			setup:   func(h *harness) { w := h.end().Add(-73 * time.Hour); h.chain(w.Add(-24*time.Hour), w) },
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				w := h.end().Add(-73 * time.Hour)
				assert.Equal(t, []Window{
					{w, w.Add(24 * time.Hour)}, {w.Add(24 * time.Hour), w.Add(48 * time.Hour)}, {w.Add(48 * time.Hour), w.Add(72 * time.Hour)},
				}, incrementals(h.ddb.started()), "the last hour waits for the scheduled run")

				_, err = h.run(TriggerIncremental)
				require.NoError(t, err)
				assert.Equal(t, Window{w.Add(72 * time.Hour), h.end()}, incrementals(h.ddb.started())[3],
					"the scheduled run takes the rest")
			},
		},
		{
			name:    "a window under 15 minutes waits for a later run",
			setup:   func(h *harness) { w := h.end().Add(-10 * time.Minute); h.chain(w.Add(-24*time.Hour), w) },
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				assert.Empty(t, incrementals(h.ddb.started()))
				assert.Zero(t, h.store.saves, "nothing changed, nothing saved")
				assert.Contains(t, h.logs.String(), "no window due")
			},
		},
		{
			name: "a retried invocation with the same token starts no second export",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w)
				// The first invocation records its intent and starts the
				// export, then fails to save the ARN: Lambda retries it.
				h.store.failSave = map[int]error{2: apiError("ThrottlingException")}
			},
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				assert.NotEmpty(t, res.Deferred)
				require.Len(t, incrementals(h.ddb.started()), 1)
				st := h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Empty(t, st.InFlight[0].Arn, "only the intent was saved")

				h.clock = h.clock.Add(2 * time.Minute) // the retry
				res, err = h.run(TriggerIncremental)
				require.NoError(t, err)
				assert.Len(t, incrementals(h.ddb.started()), 1, "the token returned the export already started")
				assert.Equal(t, 2, h.ddb.calls["ExportTableToPointInTime"], "the same request, sent again")
				st = h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Equal(t, h.ddb.started()[1].arn, st.InFlight[0].Arn)
			},
		},
		{
			name: "after the token expired, ListExports finds the export and no second one starts",
			setup: func(h *harness) {
				w := h.end().Add(-30 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w)
				intent := Export{Kind: Incremental, From: w, To: w.Add(24 * time.Hour), RequestedAt: t0.Add(-10 * time.Hour)}
				h.ddb.seed(intent, types.ExportStatusCompleted, t0.Add(-9*time.Hour)) // its token expired an hour ago
				h.store.state.InFlight = []Export{intent}
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				assert.Zero(t, h.ddb.calls["ExportTableToPointInTime"], "found, not started again")
				assert.Positive(t, h.ddb.calls["ListExports"])
				st := h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Equal(t, h.ddb.started()[1].arn, st.InFlight[0].Arn, "adopted")

				_, err = h.run(TriggerCatchUp)
				require.NoError(t, err)
				assert.Equal(t, h.end().Add(-6*time.Hour), h.store.get().Watermark, "and it completes the window as usual")
			},
		},
		{
			name: "PITR gap: the watermark is older than the earliest restorable time, the chain is rebased loudly",
			setup: func(h *harness) {
				w := h.ddb.earliest.Add(-time.Hour)
				h.chain(w.Add(-24*time.Hour), w, h.window(w, w.Add(24*time.Hour), types.ExportStatusInProgress))
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				started := h.ddb.started()
				require.Len(t, started, 3)
				assert.Equal(t, types.ExportTypeFullExport, started[2].in.ExportType)
				assert.Equal(t, h.end(), aws.ToTime(started[2].in.ExportTime).UTC())
				st := h.store.get()
				require.Len(t, st.InFlight, 1, "the old chain's window is abandoned")
				assert.Equal(t, Base, st.InFlight[0].Kind)
				assert.Equal(t, 1.0, h.metric(MetricChainRebased))
				assert.Equal(t, 1.0, h.metric(MetricExportsAbandoned))
				assert.Contains(t, h.logs.String(), `"level":"ERROR","msg":"PITR GAP`)

				h.ddb.finish(st.InFlight[0].Arn, types.ExportStatusCompleted)
				_, err = h.run(TriggerCatchUp)
				require.NoError(t, err)
				st = h.store.get()
				assert.Equal(t, h.end(), st.Watermark, "the new chain starts at the new base")
				assert.Equal(t, started[2].arn, st.Base.Arn)
			},
		},
		{
			name: "throttling: the run stops, the state stays consistent, the next run goes on",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w, h.window(w, h.end(), types.ExportStatusCompleted))
				h.ddb.fail["DescribeExport"] = []error{apiError("ThrottlingException")}
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err, "a transient error is no failed invocation")
				assert.Contains(t, res.Deferred, "ThrottlingException")
				assert.Zero(t, h.store.saves)
				assert.Equal(t, 1.0, h.metric(MetricTransientErrors))

				_, err = h.run(TriggerCatchUp)
				require.NoError(t, err)
				assert.Equal(t, h.end(), h.store.get().Watermark)
			},
		},
		{
			name: "limit exceeded while starting: the intent is kept and started by the next run",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w.Add(-24*time.Hour), w)
				h.ddb.fail["ExportTableToPointInTime"] = []error{apiError("LimitExceededException")}
			},
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				assert.Contains(t, res.Deferred, "LimitExceededException")
				st := h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.Empty(t, st.InFlight[0].Arn)

				h.clock = h.clock.Add(time.Hour)
				_, err = h.run(TriggerCatchUp)
				require.NoError(t, err)
				st = h.store.get()
				require.Len(t, st.InFlight, 1)
				assert.NotEmpty(t, st.InFlight[0].Arn)
				assert.Equal(t, []Window{{h.end().Add(-20 * time.Hour), h.end()}}, incrementals(h.ddb.started()),
					"the window planned before, started once")
				assert.Equal(t, 2, h.ddb.calls["ExportTableToPointInTime"])
			},
		},
		{
			name: "PITR off: a clear error naming the table, and the state untouched",
			setup: func(h *harness) {
				w := h.end().Add(-20 * time.Hour)
				h.chain(w, w)
				h.ddb.pitr = types.PointInTimeRecoveryStatusDisabled
			},
			trigger: TriggerIncremental,
			check: func(t *testing.T, h *harness, res Result, err error) {
				var ce *ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Contains(t, err.Error(), "point-in-time recovery of table "+testTable+" is DISABLED")
				assert.Zero(t, h.store.saves)
				assert.Zero(t, h.ddb.calls["ExportTableToPointInTime"])
			},
		},
		{
			name:    "table not found: a clear error",
			setup:   func(h *harness) { h.ddb.missing = true },
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				var ce *ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Contains(t, err.Error(), "table "+testTable+" does not exist")
			},
		},
		{
			name:  "full export on its schedule: a restore point, and the chain goes on from its watermark",
			setup: func(h *harness) { w := h.end().Add(-2 * time.Hour); h.chain(w.Add(-48*time.Hour), w) },
			check: func(t *testing.T, h *harness, res Result, err error) {
				// run by the case itself, with a scheduled time
			},
		},
		{
			name: "full export overdue: one starts whatever the schedule says",
			setup: func(h *harness) {
				w := h.end().Add(-time.Hour)
				h.chain(t0.Add(-DefaultFullMaxAge-time.Hour), w)
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.NoError(t, err)
				started := h.ddb.started()
				require.Len(t, started, 2)
				assert.Equal(t, types.ExportTypeFullExport, started[1].in.ExportType)
				assert.Equal(t, Full, h.store.get().InFlight[0].Kind, "a restore point, not a rebase")
				assert.Equal(t, 1.0, h.metric(MetricFullExportsOverdue))
			},
		},
		{
			name: "a state of another table is refused",
			setup: func(h *harness) {
				h.store.state = State{Version: StateVersion, TableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/other"}
			},
			trigger: TriggerCatchUp,
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.ErrorContains(t, err, "state parameter belongs to table arn:aws:dynamodb:us-east-1:123456789012:table/other")
			},
		},
		{
			name:    "an unknown trigger is a clear error",
			setup:   func(h *harness) {},
			trigger: "hourly",
			check: func(t *testing.T, h *harness, res Result, err error) {
				require.ErrorContains(t, err, `event trigger "hourly"`)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.setup(h)
			if c.trigger == "" { // the full-schedule case drives itself
				fullSchedule(t, h)
				return
			}
			res, err := h.run(c.trigger)
			c.check(t, h, res, err)
		})
	}
}

// fullSchedule: the weekly full export is a restore point at its scheduled
// time minus the margin; its completion leaves the watermark alone.
func fullSchedule(t *testing.T, h *harness) {
	scheduled := t0.Add(-time.Hour).Truncate(time.Hour)
	res, err := h.o.Run(context.Background(), Event{Trigger: TriggerFull, ScheduledTime: scheduled.Format(time.RFC3339)})
	require.NoError(t, err)
	require.Len(t, res.Started, 1)
	started := h.ddb.started()
	require.Len(t, started, 2)
	assert.Equal(t, scheduled.Add(-DefaultSafetyMargin), aws.ToTime(started[1].in.ExportTime).UTC())

	// A retry of the same scheduled run asks for nothing new.
	res, err = h.o.Run(context.Background(), Event{Trigger: TriggerFull, ScheduledTime: scheduled.Format(time.RFC3339)})
	require.NoError(t, err)
	assert.Empty(t, res.Started)

	watermark := h.store.get().Watermark
	h.ddb.finish(started[1].arn, types.ExportStatusCompleted)
	_, err = h.run(TriggerCatchUp)
	require.NoError(t, err)
	st := h.store.get()
	assert.Equal(t, watermark, st.Watermark, "a restore point does not move the chain")
	assert.Equal(t, started[1].arn, st.LatestFull.Arn)
	assert.NotEqual(t, started[1].arn, st.Base.Arn)
}

func TestWindowsAreBetween15MinutesAnd24Hours(t *testing.T) {
	for _, span := range []time.Duration{0, 14 * time.Minute, 15 * time.Minute, 23 * time.Hour, 24 * time.Hour,
		24*time.Hour + 14*time.Minute, 24*time.Hour + 15*time.Minute, 71*time.Hour + 59*time.Minute, 10 * 24 * time.Hour} {
		for _, fullOnly := range []bool{false, true} {
			ws := Windows(t0, t0.Add(span), fullOnly, 100)
			from := t0
			for _, w := range ws {
				assert.Equal(t, from, w.From, "contiguous")
				assert.GreaterOrEqual(t, w.To.Sub(w.From), MinWindow, "span %s", span)
				assert.LessOrEqual(t, w.To.Sub(w.From), MaxWindow, "span %s", span)
				if fullOnly {
					assert.Equal(t, MaxWindow, w.To.Sub(w.From))
				}
				from = w.To
			}
			assert.Less(t, t0.Add(span).Sub(from), map[bool]time.Duration{false: MinWindow, true: MaxWindow}[fullOnly],
				"what is left is shorter than a window that could start")
		}
	}
	assert.Len(t, Windows(t0, t0.Add(10*24*time.Hour), false, 4), 4, "capped")
}

func TestClientTokenIsDeterministic(t *testing.T) {
	e := Export{Kind: Incremental, From: t0, To: t0.Add(time.Hour)}
	a := ClientToken(testTable, e, testBucket, "exports/sessions")
	assert.Equal(t, a, ClientToken(testTable, e, testBucket, "exports/sessions"))
	assert.Regexp(t, `^[0-9a-f]{32}$`, a)
	for name, other := range map[string]string{
		"attempt": ClientToken(testTable, Export{Kind: Incremental, From: t0, To: t0.Add(time.Hour), Attempt: 1}, testBucket, "exports/sessions"),
		"window":  ClientToken(testTable, Export{Kind: Incremental, From: t0, To: t0.Add(2 * time.Hour)}, testBucket, "exports/sessions"),
		"type":    ClientToken(testTable, Export{Kind: Full, ExportTime: t0}, testBucket, "exports/sessions"),
		"table":   ClientToken(testTable+"2", e, testBucket, "exports/sessions"),
		"prefix":  ClientToken(testTable, e, testBucket, "exports/other"),
	} {
		assert.NotEqual(t, a, other, name)
	}
}

func TestBadConfigurationNamesFieldAndValue(t *testing.T) {
	_, err := New(Config{TableArn: "sessions", Bucket: "Bad_Bucket", Prefix: "/exports", KMSKeyArn: "alias/backups",
		BucketOwner: "me", SafetyMargin: time.Second, MaxInFlight: 50, FullExportMaxAge: 30 * 24 * time.Hour})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	for _, want := range []string{`table ARN "sessions"`, `bucket "Bad_Bucket"`, `prefix "/exports"`, `KMS key ARN "alias/backups"`,
		`bucket owner "me"`, "safety margin 1s", "max in flight 50", "full export max age 720h0m0s", "DynamoDB client and state store are required"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestStateRoundTripAndSizeLimit(t *testing.T) {
	st := State{Version: StateVersion, TableArn: testTable, Watermark: t0, Base: &Restored{Arn: "a", ExportTime: t0},
		InFlight: []Export{{Kind: Incremental, Arn: "x", From: t0, To: t0.Add(time.Hour), RequestedAt: t0}}}
	raw, err := st.Encode()
	require.NoError(t, err)
	back, err := DecodeState(raw)
	require.NoError(t, err)
	assert.Equal(t, st, back)

	fresh, err := DecodeState("{}")
	require.NoError(t, err)
	assert.Equal(t, StateVersion, fresh.Version, "the component's initial value")
	_, err = DecodeState(`{"version":9}`)
	assert.ErrorContains(t, err, "state version 9")

	for range 40 {
		st.InFlight = append(st.InFlight, st.InFlight[0])
	}
	_, err = st.Encode()
	assert.ErrorContains(t, err, "more than the 4096 a standard SSM parameter holds")
}

func TestErrorsAreSortedByWhatToDo(t *testing.T) {
	for code, want := range map[string]errClass{
		"ThrottlingException": transient, "LimitExceededException": transient, "InternalServerError": transient,
		"TableNotFoundException": badConfig, "PointInTimeRecoveryUnavailableException": badConfig, "AccessDeniedException": badConfig,
		"ExportConflictException": badConfig, "InvalidExportTimeException": invalidTime, "ExportNotFoundException": notFound,
	} {
		assert.Equal(t, want, classify(apiError(code)), code)
	}
	assert.Equal(t, transient, classify(context.DeadlineExceeded))
	assert.Equal(t, badConfig, classify(errors.New("something unexpected")), "unknown errors fail loudly")
	assert.True(t, strings.Contains(configErrorf("x %d", 1).Error(), "x 1"))
}
