// Package backup is the export orchestrator of the sessions table: it keeps
// a chain of DynamoDB exports in S3 (a full export, then incremental exports
// that follow each other without a gap) and full exports as restore points.
// handlers/backuporchestrator runs it in Lambda on EventBridge Scheduler's
// schedules; the BackupSchedule component deploys both.
//
// Each run, whatever triggered it:
//
//  1. Reconcile the exports in flight (DescribeExport). The watermark, the
//     end of the gap-free chain, moves only when the export ending there
//     has COMPLETED; a FAILED export is started again for the same window.
//  2. Rebase when there is no chain yet, or when the watermark is older than
//     the earliest restorable time (PITR was off, or its window slid past
//     the watermark): a full export at a restorable time, loudly.
//  3. Plan incremental windows from the chain's end up to the latest
//     restorable time minus a safety margin, each 15 min to 24 h, and start
//     them, up to MaxInFlight.
//  4. Start full exports: scheduled ones, and one whenever the newest is
//     older than FullExportMaxAge (the backup bucket's lifecycle relies on it).
//
// Every request carries a deterministic ClientToken and is recorded in the
// state before it is sent; an intent found in the state on a later run is
// first looked up with ListExports, so a retried invocation never exports
// twice. Throttling and other transient errors leave the state consistent
// and end the run early; the next run (at most an hour later) goes on. A
// bad configuration is a *ConfigError.
package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/lifecycle"
)

// Export format and view, as the issue and the restore tools expect them.
const (
	ViewType     = string(types.ExportViewTypeNewAndOldImages)
	exportFormat = types.ExportFormatDynamodbJson
)

// Defaults of Config.
const (
	DefaultSafetyMargin = 10 * time.Minute
	DefaultMaxInFlight  = 4
	DefaultMaxAttempts  = 3
	DefaultListPages    = 40
	DefaultFullMaxAge   = lifecycle.FullExportMaxAgeDays * 24 * time.Hour
)

// Triggers, as the schedules send them in the event's "trigger" field.
const (
	TriggerIncremental = "incremental"
	TriggerFull        = "full"
	TriggerCatchUp     = "catch-up"
)

// Event is what EventBridge Scheduler passes to the function.
type Event struct {
	// Trigger is "incremental", "full" or "catch-up"; empty means catch-up
	// (an operator invoking the function by hand).
	Trigger string `json:"trigger"`
	// ScheduledTime is the schedule's <aws.scheduler.scheduled-time>: full
	// exports of one schedule run get the same export time on every retry.
	ScheduledTime string `json:"scheduledTime,omitempty"`
}

// Config configures an Orchestrator.
type Config struct {
	// TableArn is the table to export (required).
	TableArn string
	// Bucket, BucketOwner (account id, optional) and KMSKeyArn are the
	// destination; objects go under Prefix + table name + "/".
	Bucket, BucketOwner, Prefix, KMSKeyArn string
	// SafetyMargin keeps window ends behind the latest restorable time.
	// Default DefaultSafetyMargin.
	SafetyMargin time.Duration
	// MaxInFlight caps the exports in flight. Default DefaultMaxInFlight.
	MaxInFlight int
	// MaxAttempts bounds the starts of one window before the chain is
	// rebased on a full export instead. Default DefaultMaxAttempts.
	MaxAttempts int
	// FullExportMaxAge starts a full export when the newest is older.
	// Default DefaultFullMaxAge.
	FullExportMaxAge time.Duration
	// ListPages bounds the ListExports pages read when looking for an
	// intent's export. Default DefaultListPages.
	ListPages int

	DynamoDB DynamoDBAPI
	State    StateStore
	// Logger receives one line per decision. Default: JSON to stderr.
	Logger *slog.Logger
	// Metrics receives one EMF line per run. Default os.Stdout.
	Metrics io.Writer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

var (
	tableArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:(\d{12}):table/([a-zA-Z0-9_.-]{3,255})$`)
	kmsArnPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]+$`)
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	accountPattern  = regexp.MustCompile(`^\d{12}$`)
)

// Orchestrator runs the export chain of one table.
type Orchestrator struct {
	cfg       Config
	tableName string
	s3Prefix  string
}

// New checks cfg and fills its defaults; every bad field is named with its
// value in one *ConfigError.
func New(cfg Config) (*Orchestrator, error) {
	cfg.SafetyMargin = cmp.Or(cfg.SafetyMargin, DefaultSafetyMargin)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.FullExportMaxAge = cmp.Or(cfg.FullExportMaxAge, DefaultFullMaxAge)
	cfg.ListPages = cmp.Or(cfg.ListPages, DefaultListPages)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = os.Stdout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	m := tableArnPattern.FindStringSubmatch(cfg.TableArn)
	if m == nil {
		bad("table ARN %q: must be arn:aws:dynamodb:<region>:<account>:table/<name>", cfg.TableArn)
	}
	if !bucketPattern.MatchString(cfg.Bucket) {
		bad("bucket %q: must be an S3 bucket name", cfg.Bucket)
	}
	if cfg.BucketOwner != "" && !accountPattern.MatchString(cfg.BucketOwner) {
		bad("bucket owner %q: must be a 12-digit account id or empty", cfg.BucketOwner)
	}
	if strings.HasPrefix(cfg.Prefix, "/") || cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		bad("prefix %q: must be empty or end with \"/\", and not start with one (e.g. \"exports/\")", cfg.Prefix)
	}
	if !kmsArnPattern.MatchString(cfg.KMSKeyArn) {
		bad("KMS key ARN %q: must be arn:aws:kms:<region>:<account>:key/<id> (the backup bucket's key)", cfg.KMSKeyArn)
	}
	if cfg.SafetyMargin < time.Minute || cfg.SafetyMargin > 6*time.Hour {
		bad("safety margin %s: must be 1m to 6h", cfg.SafetyMargin)
	}
	if cfg.MaxInFlight < 1 || cfg.MaxInFlight > 20 {
		bad("max in flight %d: must be 1 to 20", cfg.MaxInFlight)
	}
	if cfg.MaxAttempts < 1 || cfg.MaxAttempts > 10 {
		bad("max attempts %d: must be 1 to 10", cfg.MaxAttempts)
	}
	if cfg.FullExportMaxAge < 24*time.Hour || cfg.FullExportMaxAge > DefaultFullMaxAge {
		bad("full export max age %s: must be 24h to %s (the backup bucket's lifecycle keeps exports for retention + %d days)",
			cfg.FullExportMaxAge, DefaultFullMaxAge, lifecycle.FullExportMaxAgeDays)
	}
	if cfg.DynamoDB == nil || cfg.State == nil {
		bad("DynamoDB client and state store are required")
	}
	if len(problems) > 0 {
		return nil, configErrorf("backup orchestrator configuration: %s", strings.Join(problems, "; "))
	}
	o := &Orchestrator{cfg: cfg, tableName: m[2]}
	// DynamoDB writes under <S3Prefix>/AWSDynamoDB/… (DynamoDB Developer
	// Guide, "DynamoDB table export output format"), adding the slash itself.
	o.s3Prefix = cfg.Prefix + o.tableName
	if cfg.BucketOwner == "" {
		o.cfg.BucketOwner = m[1] // the table's account: never export to someone else's bucket by mistake
	}
	return o, nil
}

// S3Prefix is the S3Prefix of every export request.
func (o *Orchestrator) S3Prefix() string { return o.s3Prefix }

// Result summarizes a run for the Lambda response.
type Result struct {
	Trigger   string    `json:"trigger"`
	Started   []string  `json:"started,omitempty"`
	Completed []string  `json:"completed,omitempty"`
	Failed    []string  `json:"failed,omitempty"`
	InFlight  int       `json:"inFlight"`
	Watermark time.Time `json:"watermark,omitzero"`
	// Deferred says why the run stopped early (a transient error); the next
	// run goes on from the saved state.
	Deferred string `json:"deferred,omitempty"`
}

// run is the working set of one Run.
type run struct {
	o        *Orchestrator
	ctx      context.Context
	log      *slog.Logger
	now      time.Time
	state    State
	saved    State
	res      Result
	metrics  Metrics
	earliest time.Time
	latest   time.Time
	listed   map[string]*types.ExportDescription // ListExports results of this run, by ARN
	listDone bool
}

// errDeferred ends a run early after a transient error; Run reports it in
// Result.Deferred and returns no error.
var errDeferred = errors.New("deferred")

// Run reconciles, plans and starts exports once.
func (o *Orchestrator) Run(ctx context.Context, ev Event) (Result, error) {
	trigger := cmp.Or(ev.Trigger, TriggerCatchUp)
	r := &run{o: o, ctx: ctx, now: o.cfg.Now().UTC(), res: Result{Trigger: trigger}}
	r.log = o.cfg.Logger.With("table", o.tableName, "trigger", trigger)
	if trigger != TriggerIncremental && trigger != TriggerFull && trigger != TriggerCatchUp {
		return r.res, configErrorf("event trigger %q: must be %q, %q or %q", ev.Trigger, TriggerIncremental, TriggerFull, TriggerCatchUp)
	}
	err := r.steps(trigger, ev)
	if errors.Is(err, errDeferred) {
		err = nil
	}
	r.finish()
	return r.res, err
}

func (r *run) steps(trigger string, ev Event) error {
	st, err := r.o.cfg.State.Load(r.ctx)
	if err != nil {
		return r.fail("load state", err)
	}
	if st.TableArn != "" && st.TableArn != r.o.cfg.TableArn {
		return configErrorf("state parameter belongs to table %s, not %s: give each table its own BackupSchedule", st.TableArn, r.o.cfg.TableArn)
	}
	if st.TableArn == "" {
		st.TableArn, st.CreatedAt = r.o.cfg.TableArn, r.now
	}
	r.state, r.saved = st, st.Clone()

	if err := r.restorableWindow(); err != nil {
		return err
	}
	if err := r.reconcile(); err != nil {
		return err
	}
	r.rebaseIfNeeded()
	r.requestFullExports(trigger, ev)
	r.planWindows(trigger)
	if err := r.save(); err != nil {
		return err
	}
	if err := r.startIntents(); err != nil {
		return err
	}
	return r.save() // requests DynamoDB refused are gone
}

// fail turns an error of step into the run's outcome: errDeferred (logged,
// counted) for a transient one, a *ConfigError otherwise.
func (r *run) fail(step string, err error) error {
	switch classify(err) {
	case transient:
		r.metrics.Transient++
		r.res.Deferred = fmt.Sprintf("%s: %v", step, err)
		r.log.Warn("transient error: the state is consistent, the next run goes on from it", "step", step, "error", err)
		return errDeferred
	default:
		var ce *ConfigError
		if errors.As(err, &ce) {
			return err
		}
		return configErrorf("%s of table %s: %v", step, r.o.cfg.TableArn, err)
	}
}

// restorableWindow reads the PITR window; PITR off is a configuration error.
func (r *run) restorableWindow() error {
	out, err := r.o.cfg.DynamoDB.DescribeContinuousBackups(r.ctx, &dynamodb.DescribeContinuousBackupsInput{
		TableName: aws.String(r.o.cfg.TableArn),
	})
	if err != nil {
		var notFound *types.TableNotFoundException
		if errors.As(err, &notFound) {
			return configErrorf("table %s does not exist (TABLE_ARN): %v", r.o.cfg.TableArn, err)
		}
		return r.fail("describe continuous backups", err)
	}
	var pitr *types.PointInTimeRecoveryDescription
	if out.ContinuousBackupsDescription != nil {
		pitr = out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	}
	if pitr == nil || pitr.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		status := "not reported"
		if pitr != nil {
			status = string(pitr.PointInTimeRecoveryStatus)
		}
		return configErrorf("point-in-time recovery of table %s is %s: exports need it ENABLED (the SessionsTable component turns it on; something turned it off)",
			r.o.cfg.TableArn, status)
	}
	if pitr.EarliestRestorableDateTime == nil || pitr.LatestRestorableDateTime == nil {
		return r.fail("describe continuous backups", transientf("the restorable window of table %s is not known yet", r.o.cfg.TableArn))
	}
	r.earliest, r.latest = pitr.EarliestRestorableDateTime.UTC(), pitr.LatestRestorableDateTime.UTC()
	return nil
}

// reconcile asks DynamoDB about every export in flight, then moves the
// watermark over the completed windows that continue the chain.
func (r *run) reconcile() error {
	for i := range r.state.InFlight {
		e := &r.state.InFlight[i]
		if e.Arn == "" || e.Completed {
			continue
		}
		out, err := r.o.cfg.DynamoDB.DescribeExport(r.ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(e.Arn)})
		var status types.ExportStatus
		var failure string
		switch {
		case err == nil && out.ExportDescription != nil:
			status = out.ExportDescription.ExportStatus
			failure = strings.TrimSpace(aws.ToString(out.ExportDescription.FailureCode) + " " + aws.ToString(out.ExportDescription.FailureMessage))
		case classify(err) == notFound:
			status, failure = types.ExportStatusFailed, "export not found: "+err.Error()
		default:
			return r.fail("describe export "+e.Arn, err)
		}
		switch status {
		case types.ExportStatusCompleted:
			e.Completed = true
			r.metrics.Completed++
			r.res.Completed = append(r.res.Completed, e.Label())
			r.log.Info("export completed", "export", e.Label(), "arn", e.Arn)
		case types.ExportStatusFailed:
			r.metrics.Failed++
			r.res.Failed = append(r.res.Failed, e.Label())
			r.log.Error("export failed", "export", e.Label(), "arn", e.Arn, "attempt", e.Attempt, "failure", failure)
			e.Arn, e.Attempt, e.RequestedAt = "", e.Attempt+1, r.now // started again, with a new token
		default:
			r.log.Info("export in progress", "export", e.Label(), "arn", e.Arn)
		}
	}
	r.applyCompleted()
	r.giveUpOnExhausted()
	return nil
}

// applyCompleted moves completed exports out of flight: a base starts the
// chain, a full export becomes the newest restore point, and incrementals
// move the watermark when, and only when, they continue the chain.
func (r *run) applyCompleted() {
	st := &r.state
	var rest []Export
	for _, e := range st.InFlight {
		switch {
		case !e.Completed || e.Kind == Incremental:
			rest = append(rest, e)
		case e.Kind == Base:
			st.Base = &Restored{Arn: e.Arn, ExportTime: e.ExportTime}
			st.Watermark, st.Broken = e.ExportTime, ""
			r.newestFull(e)
			r.log.Info("chain based on full export; watermark set", "arn", e.Arn, "watermark", stamp(e.ExportTime))
		case e.Kind == Full:
			r.newestFull(e)
		}
	}
	st.InFlight = rest
	for moved := true; moved && st.Base != nil && st.Broken == ""; {
		moved = false
		for i, e := range st.InFlight {
			if e.Kind != Incremental || !e.Completed {
				continue
			}
			switch {
			case !e.To.After(st.Watermark):
				r.log.Info("completed window is already behind the watermark; dropped", "export", e.Label())
			case !e.From.After(st.Watermark):
				r.log.Info("watermark moved", "from", stamp(st.Watermark), "to", stamp(e.To), "export", e.Label())
				st.Watermark = e.To
			default:
				continue // waits for the window before it
			}
			st.InFlight = slices.Delete(st.InFlight, i, i+1)
			moved = true
			break
		}
	}
}

func (r *run) newestFull(e Export) {
	if r.state.LatestFull == nil || e.ExportTime.After(r.state.LatestFull.ExportTime) {
		r.state.LatestFull = &Restored{Arn: e.Arn, ExportTime: e.ExportTime}
	}
}

// giveUpOnExhausted handles exports that failed MaxAttempts times: a window
// breaks the chain (the next step rebases it), a full export is dropped.
func (r *run) giveUpOnExhausted() {
	st := &r.state
	st.InFlight = slices.DeleteFunc(st.InFlight, func(e Export) bool {
		if e.Attempt < r.o.cfg.MaxAttempts {
			return false
		}
		r.metrics.Abandoned++
		if e.Kind == Incremental {
			st.Broken = fmt.Sprintf("window %s..%s failed %d times", stamp(e.From), stamp(e.To), e.Attempt)
		}
		r.log.Error("export failed every attempt; giving up on it", "export", e.Label(), "attempts", e.Attempt)
		return true
	})
}

// rebaseIfNeeded starts the chain anew from a full export when there is no
// chain, when the watermark is no longer restorable, or when a window
// could not be exported.
func (r *run) rebaseIfNeeded() {
	st := &r.state
	if slices.ContainsFunc(st.InFlight, func(e Export) bool { return e.Kind == Base }) {
		return
	}
	var reason string
	switch {
	case st.Base == nil:
		r.log.Info("no chain yet: starting it with a full export")
	case st.Broken != "":
		reason = "the chain is broken: " + st.Broken
	case st.Watermark.Before(r.earliest):
		reason = fmt.Sprintf("the watermark %s is older than the earliest restorable time %s: point-in-time recovery was off, or its window slid past the watermark",
			stamp(st.Watermark), stamp(r.earliest))
	default:
		return
	}
	if reason != "" {
		r.metrics.Rebased++
		r.log.Error("PITR GAP: rebasing the export chain on a new full export; the chain before it cannot be extended", "reason", reason)
	}
	st.InFlight = slices.DeleteFunc(st.InFlight, func(e Export) bool {
		if e.Kind != Incremental {
			return false
		}
		r.metrics.Abandoned++
		r.log.Warn("window abandoned: it belongs to the old chain", "export", e.Label(), "arn", e.Arn)
		return true
	})
	st.InFlight = append(st.InFlight, Export{Kind: Base, ExportTime: r.restorableTime(), RequestedAt: r.now})
}

// restorableTime is the export time of a full export started now: the
// latest restorable time minus the margin, on a whole minute, but never
// before the earliest restorable time.
func (r *run) restorableTime() time.Time {
	t := r.latest.Add(-r.o.cfg.SafetyMargin).Truncate(time.Minute)
	if t.Before(r.earliest) {
		t = r.earliest
	}
	return t
}

// requestFullExports records the full export a "full" trigger asks for, and
// one whenever the newest full export is older than FullExportMaxAge.
func (r *run) requestFullExports(trigger string, ev Event) {
	st := &r.state
	if trigger == TriggerFull {
		t := r.restorableTime()
		if scheduled, err := time.Parse(time.RFC3339, ev.ScheduledTime); err == nil {
			t = scheduled.UTC().Add(-r.o.cfg.SafetyMargin).Truncate(time.Minute)
		} else if ev.ScheduledTime != "" {
			r.log.Warn("scheduledTime is not RFC 3339; using the latest restorable time", "scheduledTime", ev.ScheduledTime)
		}
		if !slices.ContainsFunc(st.InFlight, func(e Export) bool { return e.Kind != Incremental && e.ExportTime.Equal(t) }) &&
			!slices.ContainsFunc(st.FullRequests, t.Equal) &&
			(st.LatestFull == nil || st.LatestFull.ExportTime.Before(t)) {
			st.FullRequests = append(st.FullRequests, t)
			r.log.Info("full export requested", "exportTime", stamp(t))
		}
	}
	newest := time.Time{}
	if st.LatestFull != nil {
		newest = st.LatestFull.ExportTime
	}
	pending := len(st.FullRequests) > 0 || slices.ContainsFunc(st.InFlight, func(e Export) bool { return e.Kind != Incremental })
	if !newest.IsZero() && !pending && r.now.Sub(newest) > r.o.cfg.FullExportMaxAge {
		t := r.restorableTime()
		st.FullRequests = append(st.FullRequests, t)
		r.metrics.Overdue++
		r.log.Warn("full export overdue: starting one so the bucket's lifecycle never outlives a chain",
			"newest", stamp(newest), "maxAge", r.o.cfg.FullExportMaxAge.String(), "exportTime", stamp(t))
	}
	// Requests become intents once restorable; too old ones are dropped.
	var keep []time.Time
	for _, t := range st.FullRequests {
		switch {
		case t.Before(r.earliest):
			r.metrics.Abandoned++
			r.log.Error("full export request is older than the earliest restorable time; dropped", "exportTime", stamp(t), "earliest", stamp(r.earliest))
		case t.After(r.latest):
			keep = append(keep, t) // not restorable yet: a later run starts it
		case len(st.InFlight) < r.o.cfg.MaxInFlight:
			st.InFlight = append(st.InFlight, Export{Kind: Full, ExportTime: t, RequestedAt: r.now})
		default:
			keep = append(keep, t)
		}
	}
	st.FullRequests = keep
}

// planWindows adds the incremental windows due: from the end of the chain
// (the watermark, or the last window in flight) to the latest restorable
// time minus the margin. Runs other than the incremental schedule's (the
// hourly catch-up, the full export's) start only whole 24-hour windows, so
// that a missed day is caught up within the hour while the incremental
// schedule keeps its own rhythm.
func (r *run) planWindows(trigger string) {
	st := &r.state
	if st.Base == nil || st.Broken != "" || slices.ContainsFunc(st.InFlight, func(e Export) bool { return e.Kind == Base }) {
		return
	}
	frontier := st.Watermark
	for _, e := range st.InFlight {
		if e.Kind == Incremental && e.To.After(frontier) {
			frontier = e.To
		}
	}
	end := r.latest.Add(-r.o.cfg.SafetyMargin).Truncate(time.Minute)
	room := r.o.cfg.MaxInFlight - len(st.InFlight)
	if room <= 0 {
		r.log.Info("no windows started: exports in flight are at the cap", "inFlight", len(st.InFlight))
		return
	}
	windows := Windows(frontier, end, trigger != TriggerIncremental, room)
	if len(windows) == 0 {
		r.log.Info("no window due", "chainEnd", stamp(frontier), "planEnd", stamp(end))
	}
	for _, w := range windows {
		st.InFlight = append(st.InFlight, Export{Kind: Incremental, From: w.From, To: w.To, RequestedAt: r.now})
	}
}

// startIntents sends every intent: the request is already in the saved
// state, so a crash after the call is recovered by the token or by lookup.
func (r *run) startIntents() error {
	order := func(e Export) int {
		switch e.Kind {
		case Base:
			return 0
		case Incremental:
			return 1
		}
		return 2
	}
	idx := make([]int, 0, len(r.state.InFlight))
	for i, e := range r.state.InFlight {
		if e.Arn == "" {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := r.state.InFlight[a], r.state.InFlight[b]
		return cmp.Or(cmp.Compare(order(ea), order(eb)), ea.From.Compare(eb.From))
	})
	dropped := map[int]bool{}
	defer func() {
		// Refused requests leave the state only now, so that idx stays valid.
		if len(dropped) > 0 {
			var keep []Export
			for i, e := range r.state.InFlight {
				if !dropped[i] {
					keep = append(keep, e)
				}
			}
			r.state.InFlight = keep
		}
	}()
	for _, i := range idx {
		e := &r.state.InFlight[i]
		if e.RequestedAt.Before(r.now) { // recorded by an earlier run: it may have been sent
			arn, err := r.lookup(*e)
			if err != nil {
				return r.fail("list exports", err)
			}
			if arn != "" {
				e.Arn = arn
				r.log.Info("export of an earlier run found by ListExports; adopted", "export", e.Label(), "arn", arn)
				if err := r.save(); err != nil {
					return err
				}
				continue
			}
		}
		drop, err := r.start(e)
		if err != nil {
			return err
		}
		dropped[i] = drop
	}
	return nil
}

// start sends one export request and records its ARN; dropped reports a
// request DynamoDB refused as not restorable, which the caller removes.
func (r *run) start(e *Export) (dropped bool, err error) {
	o := r.o
	in := &dynamodb.ExportTableToPointInTimeInput{
		TableArn:       aws.String(o.cfg.TableArn),
		ClientToken:    aws.String(ClientToken(o.cfg.TableArn, *e, o.cfg.Bucket, o.s3Prefix)),
		S3Bucket:       aws.String(o.cfg.Bucket),
		S3BucketOwner:  aws.String(o.cfg.BucketOwner),
		S3Prefix:       aws.String(o.s3Prefix),
		S3SseAlgorithm: types.S3SseAlgorithmKms,
		S3SseKmsKeyId:  aws.String(o.cfg.KMSKeyArn),
		ExportFormat:   exportFormat,
	}
	if e.Kind == Incremental {
		in.ExportType = types.ExportTypeIncrementalExport
		in.IncrementalExportSpecification = &types.IncrementalExportSpecification{
			ExportFromTime: aws.Time(e.From), ExportToTime: aws.Time(e.To), ExportViewType: types.ExportViewType(ViewType),
		}
	} else {
		in.ExportType = types.ExportTypeFullExport
		in.ExportTime = aws.Time(e.ExportTime)
	}
	out, err := o.cfg.DynamoDB.ExportTableToPointInTime(r.ctx, in)
	if err != nil {
		if classify(err) == invalidTime {
			// Outside the restorable window now: forget the request; the next
			// run plans again (and rebases if the chain's end slid out).
			r.metrics.Abandoned++
			r.log.Warn("export time not restorable; request dropped, the next run plans again", "export", e.Label(), "error", err)
			return true, nil
		}
		return false, r.fail("start "+e.Label(), err)
	}
	if out.ExportDescription == nil || aws.ToString(out.ExportDescription.ExportArn) == "" {
		return false, r.fail("start "+e.Label(), transientf("ExportTableToPointInTime returned no export ARN"))
	}
	e.Arn = aws.ToString(out.ExportDescription.ExportArn)
	r.metrics.Started++
	r.res.Started = append(r.res.Started, e.Label())
	r.log.Info("export started", "export", e.Label(), "arn", e.Arn, "attempt", e.Attempt, "clientToken", aws.ToString(in.ClientToken))
	return false, r.save()
}

// lookup finds an export an earlier run may have started for e: same type,
// window or time, destination and format, not FAILED. The client token
// protects only for 8 hours after the export completes; this does not.
func (r *run) lookup(e Export) (string, error) {
	if !r.listDone {
		r.listed = map[string]*types.ExportDescription{}
		var next *string
		for page := 0; page < r.o.cfg.ListPages; page++ {
			out, err := r.o.cfg.DynamoDB.ListExports(r.ctx, &dynamodb.ListExportsInput{
				TableArn: aws.String(r.o.cfg.TableArn), MaxResults: aws.Int32(25), NextToken: next,
			})
			if err != nil {
				return "", err
			}
			for _, s := range out.ExportSummaries {
				if s.ExportStatus == types.ExportStatusFailed || aws.ToString(s.ExportArn) == "" {
					continue
				}
				d, err := r.o.cfg.DynamoDB.DescribeExport(r.ctx, &dynamodb.DescribeExportInput{ExportArn: s.ExportArn})
				if err != nil {
					return "", err
				}
				r.listed[aws.ToString(s.ExportArn)] = d.ExportDescription
			}
			if next = out.NextToken; next == nil {
				break
			}
		}
		r.listDone = true
	}
	arns := make([]string, 0, len(r.listed))
	for arn := range r.listed {
		arns = append(arns, arn)
	}
	slices.Sort(arns)
	for _, arn := range arns {
		if r.matches(r.listed[arn], e) {
			return arn, nil
		}
	}
	return "", nil
}

func (r *run) matches(d *types.ExportDescription, e Export) bool {
	if d == nil || d.ExportStatus == types.ExportStatusFailed || aws.ToString(d.S3Bucket) != r.o.cfg.Bucket ||
		aws.ToString(d.S3Prefix) != r.o.s3Prefix || d.ExportFormat != exportFormat {
		return false
	}
	if e.Kind == Incremental {
		spec := d.IncrementalExportSpecification
		return d.ExportType == types.ExportTypeIncrementalExport && spec != nil &&
			spec.ExportFromTime != nil && spec.ExportFromTime.Equal(e.From) &&
			spec.ExportToTime != nil && spec.ExportToTime.Equal(e.To) && string(spec.ExportViewType) == ViewType
	}
	return d.ExportType != types.ExportTypeIncrementalExport && d.ExportTime != nil && d.ExportTime.Equal(e.ExportTime)
}

// save writes the state if it changed.
func (r *run) save() error {
	a, _ := r.state.Encode()
	b, _ := r.saved.Encode()
	if a == b {
		return nil
	}
	if err := r.o.cfg.State.Save(r.ctx, r.state); err != nil {
		return r.fail("save state", err)
	}
	r.saved = r.state.Clone()
	return nil
}

// finish writes the run's metrics and fills the result from the saved state.
func (r *run) finish() {
	st := r.saved
	r.metrics.InFlight = len(st.InFlight)
	switch {
	case !st.Watermark.IsZero():
		r.metrics.WatermarkLag, r.metrics.LagKnown = r.now.Sub(st.Watermark), true
	case !st.CreatedAt.IsZero():
		r.metrics.WatermarkLag, r.metrics.LagKnown = r.now.Sub(st.CreatedAt), true
	}
	if st.LatestFull != nil {
		r.metrics.FullExportAge = r.now.Sub(st.LatestFull.ExportTime)
	}
	r.res.InFlight, r.res.Watermark = len(st.InFlight), st.Watermark
	r.log.Info("run finished", "started", r.metrics.Started, "completed", r.metrics.Completed, "failed", r.metrics.Failed,
		"inFlight", r.metrics.InFlight, "watermark", stamp(st.Watermark), "watermarkLagSeconds", int64(r.metrics.WatermarkLag.Seconds()),
		"deferred", r.res.Deferred)
	if err := r.metrics.WriteEMF(r.o.cfg.Metrics, r.now, r.o.tableName); err != nil {
		r.log.Error("could not write metrics", "error", err)
	}
}
