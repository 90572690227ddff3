package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/manga-assist/manga-assist-data/internal/recovery/backup"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/drill"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/failover"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/session"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writeback"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func cmdSession(ctx context.Context, args []string, e env) (any, error) {
	fs, c := newFlags("session", "--table T --session ID --at TIME [--from s3://BUCKET/PREFIX] [--mode missing|replace] [--yes] [--keep-scratch]", e)
	tableName := fs.String("table", "", "the live sessions table")
	id := fs.String("session", "", "the session id (its items have PK SESSION#<id>)")
	at := fs.String("at", "", "restore the session as it was at this time (RFC 3339)")
	from := fs.String("from", "", "read the session from the export chain at s3://BUCKET/PREFIX instead of a PITR restore")
	mode := fs.String("mode", string(writeback.Missing), "missing: put back only items that no longer exist; replace: make the session exactly as it was")
	keep := fs.Bool("keep-scratch", false, "keep the PITR scratch table at the end")
	poll := fs.Duration("poll", e.poll, "how often to check a running restore")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if err := required("table", *tableName, "session", *id, "at", *at); err != nil {
		return nil, err
	}
	if !sessions.ValidTableName(*tableName) {
		return nil, usagef("--table %q: %s", *tableName, sessions.TableNameRule)
	}
	if strings.ContainsAny(*id, "#") || strings.TrimSpace(*id) != *id {
		return nil, usagef("--session %q: give the bare id, not the key (PK is SESSION#<id>)", *id)
	}
	when, err := parseTime("at", *at, e.now())
	if err != nil {
		return nil, err
	}
	m, err := writeback.ParseMode(*mode)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	var loc *exports.Location
	if *from != "" {
		l, err := exports.ParseLocation(*from)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
		loc = &l
	}
	cl, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	live, err := table.Describe(ctx, cl.DynamoDB, *tableName)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return nil, refusef("--table %s: no such table in %s", *tableName, cl.Region)
	}
	isLive, why, err := table.IsLive(ctx, cl.DynamoDB, live)
	if err != nil {
		return nil, err
	}
	dry := isLive && !c.yes
	cp, err := c.checkpoint(e, "session", *tableName, *id, when.Format(time.RFC3339Nano), *from, string(m))
	if err != nil {
		return nil, err
	}
	rep, err := session.Run(ctx, cl.DynamoDB, cl.S3, session.Options{
		Table: *tableName, SessionID: *id, At: when, From: loc, Mode: m, KeepScratch: *keep, DryRun: dry,
		Checkpoint: cp, Progress: c.progress(e), PollInterval: *poll,
	})
	var we *session.WindowError
	var se *session.StaleError
	var gap *exports.GapError
	if errors.As(err, &we) || errors.As(err, &se) || errors.As(err, &gap) {
		return nil, &refusal{err.Error()}
	}
	out := jsonReport{c.json, rep}
	if err != nil {
		return out, err
	}
	if dry {
		return out, refusef("nothing written: %s, so writing needs --yes; the report above is what the run would do (the scratch table is kept for it)", why)
	}
	return out, nil
}

func cmdTable(ctx context.Context, args []string, e env) (any, error) {
	fs, c := newFlags("table", "(--from s3://BUCKET/PREFIX --until TIME | --export s3://BUCKET/PREFIX/AWSDynamoDB/ID) --to TABLE [--create] [--import] [--yes]", e)
	from := fs.String("from", "", "the export chain: s3://BUCKET/PREFIX (the folder holding AWSDynamoDB/)")
	until := fs.String("until", "", "with --from: rebuild the table as of this time (RFC 3339)")
	export := fs.String("export", "", "one export: s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT-ID")
	to := fs.String("to", "", "the table to write")
	create := fs.Bool("create", false, "create --to (sessions table shape) if it does not exist")
	imp := fs.Bool("import", false, "load a full export with ImportTable into a new table instead of writing items")
	workers := fs.Int("workers", 8, "concurrent BatchWriteItem calls")
	fileWorkers := fs.Int("file-workers", 4, "data files read at once")
	sample := fs.Int("sample", 100, "items read back and compared after the restore")
	poll := fs.Duration("poll", e.poll, "how often to check a running import")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	switch {
	case *from != "" && *export != "":
		return nil, usagef("--from %s and --export %s: give one source", *from, *export)
	case *from == "" && *export == "":
		return nil, usagef("--from (an export chain) or --export (one export) is required")
	case *from != "" && *until == "":
		return nil, usagef("--from needs --until: the time to rebuild the table as of")
	case *export != "" && *until != "":
		return nil, usagef("--until %s with --export: one export is as of its own time; use --from for a chain", *until)
	case *workers < 1 || *workers > 64:
		return nil, usagef("--workers %d: must be 1 to 64", *workers)
	case *fileWorkers < 1 || *fileWorkers > 32:
		return nil, usagef("--file-workers %d: must be 1 to 32", *fileWorkers)
	}
	if err := required("to", *to); err != nil {
		return nil, err
	}
	if !sessions.ValidTableName(*to) {
		return nil, usagef("--to %q: %s", *to, sessions.TableNameRule)
	}
	cl, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	// The chain, or the one export.
	var chain *exports.Chain
	if *from != "" {
		when, err := parseTime("until", *until, e.now())
		if err != nil {
			return nil, err
		}
		loc, err := exports.ParseLocation(*from)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
		listing, err := exports.List(ctx, cl.S3, loc)
		if err != nil {
			return nil, err
		}
		if len(listing.Exports) == 0 {
			return nil, refusef("--from %s: no finished export under it", loc)
		}
		if chain, err = exports.SelectChain(listing.Exports, when); err != nil {
			return nil, &refusal{err.Error()}
		}
	} else {
		loc, id, err := exports.ParseExportLocation(*export)
		if err != nil {
			return nil, usagef("--export: %v", err)
		}
		ex, err := exports.Open(ctx, cl.S3, loc, id)
		if err != nil {
			return nil, refusef("--export %s: %v", *export, err)
		}
		if ex.Incremental {
			return nil, refusef("--export %s is an incremental export: it only holds changes; rebuild with --from and --until", *export)
		}
		chain = &exports.Chain{Full: ex, AsOf: ex.Time}
	}
	progress.Logf(c.progress(e), "chain as of %s:\n%s", chain.AsOf.UTC().Format(time.RFC3339), strings.TrimRight(chain.Describe(), "\n"))
	source := *from
	if source == "" {
		source = *export
	}
	cp, err := c.checkpoint(e, "table", source, *until, *to, fmt.Sprint(*imp))
	if err != nil {
		return nil, err
	}
	if at, rep := cp.Finished(); !at.IsZero() {
		progress.Logf(c.progress(e), "this run already finished at %s; its report follows", at.Format(time.RFC3339))
		return jsonReport{c.json, json.RawMessage(rep)}, nil
	}

	if *imp {
		if len(chain.Incrementals) > 0 {
			return nil, refusef("--import loads one full export, but the chain has %d incremental export(s) after it: drop --import", len(chain.Incrementals))
		}
		rep, err := table.Import(ctx, cl.DynamoDB, cl.S3, chain.Full, *to, cp, c.progress(e), *poll)
		if err == nil {
			if applied, rerr := backup.Reapply(ctx, cl.DynamoDB, *to, backup.Defaults()); rerr != nil {
				err = rerr
			} else {
				progress.Logf(c.progress(e), "re-applied to %s: %s", *to, strings.Join(applied, ", "))
			}
		}
		if err == nil {
			err = cp.Finish(rep)
		}
		return jsonReport{c.json, rep}, err
	}

	// Where the items go: a table of ours, or a live one through a scratch table.
	target, live, err := prepareTarget(ctx, cl, cp, *to, *create, c.yes)
	if err != nil {
		return nil, err
	}
	opts := table.Options{Workers: *workers, FileWorkers: *fileWorkers, Sample: *sample, Progress: c.progress(e), Checkpoint: cp}
	rep, err := table.Restore(ctx, cl.DynamoDB, cl.S3, chain, target, opts)
	if err != nil {
		return jsonReport{c.json, rep}, err
	}
	result := any(rep)
	if live {
		meter := progress.Start(c.progress(e), "copy missing items into "+*to, "items", rep.Count)
		cr, err := table.CopyMissing(ctx, cl.DynamoDB, target, *to, 4, meter)
		meter.Done()
		result = struct {
			table.Report
			Scratch string           `json:"scratch_table"`
			Copy    table.CopyReport `json:"copy_into_live"`
		}{rep, target, cr}
		if err != nil {
			return jsonReport{c.json, result}, err
		}
	}
	if err := cp.Finish(result); err != nil {
		return jsonReport{c.json, result}, err
	}
	if !rep.OK() {
		return jsonReport{c.json, result}, &mismatch{strings.Join(append([]string{"the restored table does not match the exports:"}, rep.Mismatches...), "\n  ")}
	}
	return jsonReport{c.json, result}, nil
}

// prepareTarget decides where the items are written. A new or empty table,
// or the one an interrupted run of these arguments was filling, is written
// directly. A live sessions table needs --yes, and is then filled through a
// scratch table: the chain is rebuilt there, and only items missing from the
// live table are copied over, each with a condition, so nothing the
// application writes meanwhile is overwritten.
func prepareTarget(ctx context.Context, cl clientsT, cp *checkpoint.File, to string, create, yes bool) (target string, live bool, err error) {
	if owned := cp.Value("target"); owned != "" {
		return owned, cp.Value("live") == "true", nil
	}
	t, err := table.Describe(ctx, cl.DynamoDB, to)
	if err != nil {
		return "", false, err
	}
	switch {
	case t == nil && !create:
		return "", false, refusef("--to %s does not exist: pass --create to create it with the sessions table's shape", to)
	case t == nil:
		if err := table.CreateSessionsTable(ctx, cl.DynamoDB, to); err != nil {
			return "", false, err
		}
		return to, false, remember(cp, to, false)
	}
	isLive, why, err := table.IsLive(ctx, cl.DynamoDB, t)
	if err != nil {
		return "", false, err
	}
	if isLive {
		if !yes {
			return "", false, refusef("--to %s: %s; writing into it needs --yes (items are then only added where missing, never overwritten)", to, why)
		}
		scratch := fmt.Sprintf("%s-recover-%s", to, checkpoint.Key([]string{cp.Path()}))
		if err := table.CreateSessionsTable(ctx, cl.DynamoDB, scratch); err != nil {
			return "", false, err
		}
		return scratch, true, remember(cp, scratch, true)
	}
	empty, err := table.IsEmpty(ctx, cl.DynamoDB, to)
	if err != nil {
		return "", false, err
	}
	if !empty {
		return "", false, refusef("--to %s already holds items: a restore writes into a new or empty table; choose another name", to)
	}
	return to, false, remember(cp, to, false)
}

func remember(cp *checkpoint.File, target string, live bool) error {
	if err := cp.SetValue("live", fmt.Sprint(live)); err != nil {
		return err
	}
	return cp.SetValue("target", target)
}

func cmdBackup(ctx context.Context, args []string, e env) (any, error) {
	fs, c := newFlags("backup", "--backup-arn ARN --to TABLE [--settings-from TABLE] [--backup-vault V --iam-role-arn R]", e)
	arn := fs.String("backup-arn", "", "a DynamoDB backup (arn:aws:dynamodb:…:table/T/backup/…) or an AWS Backup recovery point (arn:aws:backup:…:recovery-point:…)")
	to := fs.String("to", "", "the new table to restore into")
	settings := fs.String("settings-from", "", "take stream, TTL, PITR, deletion protection and tags from this table (default: the backup's source table, or the sessions defaults if it is gone)")
	vault := fs.String("backup-vault", "", "the AWS Backup vault of a recovery point")
	role := fs.String("iam-role-arn", "", "the role AWS Backup assumes to restore a recovery point")
	poll := fs.Duration("poll", e.poll, "how often to check a running restore")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if err := required("backup-arn", *arn, "to", *to); err != nil {
		return nil, err
	}
	if _, err := backup.ParseARN(*arn); err != nil {
		return nil, &usageError{err.Error()}
	}
	if !sessions.ValidTableName(*to) {
		return nil, usagef("--to %q: %s", *to, sessions.TableNameRule)
	}
	cl, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := c.checkpoint(e, "backup", *arn, *to, *settings)
	if err != nil {
		return nil, err
	}
	rep, err := backup.Restore(ctx, cl.DynamoDB, cl.Backup, backup.Options{
		BackupArn: *arn, Target: *to, SettingsFrom: *settings, Vault: *vault, IAMRoleArn: *role,
		Checkpoint: cp, Progress: c.progress(e), PollInterval: *poll,
	})
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil, &refusal{err.Error()}
	}
	return jsonReport{c.json, rep}, err
}

func cmdDrill(ctx context.Context, args []string, e env) (any, error) {
	fs, c := newFlags("drill", "(--from s3://BUCKET/PREFIX [--until TIME] | --backup latest|ARN --table T | --pitr --table T) [--sample N] [--tolerance F]", e)
	from := fs.String("from", "", "drill the export chain at s3://BUCKET/PREFIX")
	until := fs.String("until", "", "with --from: as of this time (default now)")
	bk := fs.String("backup", "", "drill a backup of --table: latest, or an ARN")
	pitr := fs.Bool("pitr", false, "drill a point-in-time restore of --table to its latest restorable time")
	tableName := fs.String("table", "", "the source table (--backup, --pitr)")
	sample := fs.Int("sample", 100, "items compared item by item")
	tolerance := fs.Float64("tolerance", 0.01, "with --backup/--pitr: share of drift allowed against the live source")
	keep := fs.Bool("keep-scratch", false, "keep the scratch table")
	poll := fs.Duration("poll", e.poll, "how often to check a running restore")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{*from != "", *bk != "", *pitr} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, usagef("give exactly one source: --from s3://…, --backup latest|ARN or --pitr")
	}
	if *sample < 1 || *sample > 10000 {
		return nil, usagef("--sample %d: must be 1 to 10000", *sample)
	}
	if *tolerance < 0 || *tolerance >= 1 {
		return nil, usagef("--tolerance %g: must be at least 0 and below 1", *tolerance)
	}
	opts := drill.Options{Sample: *sample, Tolerance: *tolerance, KeepScratch: *keep, Progress: c.progress(e), Poll: *poll, Now: e.now, Table: *tableName, Backup: *bk}
	if opts.Tolerance == 0 {
		opts.Tolerance = 1e-9 // zero means "exact", not the default
	}
	switch {
	case *from != "":
		opts.Kind = drill.FromExports
		loc, err := exports.ParseLocation(*from)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
		opts.From = loc
		if *until != "" {
			if opts.Until, err = parseTime("until", *until, e.now()); err != nil {
				return nil, err
			}
		}
		if *tableName != "" {
			return nil, usagef("--table %s with --from: the exports name their table", *tableName)
		}
	default:
		opts.Kind = drill.FromPITR
		if *bk != "" {
			opts.Kind = drill.FromBackup
			if *bk != "latest" {
				if k, err := backup.ParseARN(*bk); err != nil {
					return nil, &usageError{strings.Replace(err.Error(), "--backup-arn", "--backup", 1)}
				} else if k != backup.DynamoDBBackup {
					return nil, usagef("--backup %s: drills restore DynamoDB-managed backups (arn:aws:dynamodb:…); restore a recovery point with 'recover backup'", *bk)
				}
			}
		}
		if err := required("table", *tableName); err != nil {
			return nil, err
		}
		if *until != "" {
			return nil, usagef("--until %s: only with --from", *until)
		}
	}
	cl, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := c.checkpoint(e, "drill", opts.Kind, *from, *until, *bk, *tableName)
	if err != nil {
		return nil, err
	}
	if at, _ := cp.Finished(); !at.IsZero() { // a drill is run again, not resumed, once it finished
		if err := cp.Reset(); err != nil {
			return nil, err
		}
	}
	opts.Checkpoint = cp
	rep, err := drill.Run(ctx, cl.DynamoDB, cl.S3, opts)
	out := jsonReport{c.json, rep}
	if err != nil {
		var gap *exports.GapError
		if errors.As(err, &gap) {
			return out, &refusal{err.Error()}
		}
		return out, err
	}
	if err := cp.Finish(rep); err != nil {
		return out, err
	}
	if !rep.Passed {
		return out, &mismatch{fmt.Sprintf("drill of %s failed verification (%d mismatch(es)); RTO %.0f s", rep.Source, len(rep.Mismatches), rep.RTOSeconds)}
	}
	progress.Logf(c.progress(e), "drill passed: %d items, %d sampled, RTO %.1f s", rep.Count, rep.Sampled, rep.RTOSeconds)
	return out, nil
}

func cmdFailoverStatus(ctx context.Context, args []string, e env) (any, error) {
	fs, c := newFlags("failover-status", "--table T --region REGION [--replica-regions R,...] [--latency-threshold 60s] [--window 10m] [--health-checks REGION=ID,...] [--hosted-zone-id Z --record-name NAME --endpoints REGION=HOST,...]", e)
	tableName := fs.String("table", "", "the global sessions table")
	region := fs.String("region", "", "where the table is described and ReplicationLatency is read: the primary region (while it is down, a surviving replica region)")
	replicas := fs.String("replica-regions", "", "REGION,...: regions that must have a replica (default: whatever the table lists)")
	threshold := fs.Duration("latency-threshold", 60*time.Second, "a replica whose latest ReplicationLatency minute is above this is a problem")
	window := fs.Duration("window", 10*time.Minute, "how far back ReplicationLatency is read (1m to 24h)")
	checks := fs.String("health-checks", "", "REGION=HEALTH-CHECK-ID,...: Route 53 health checks to read (pulumi stack output healthCheckIds); an unhealthy one is a problem")
	zone := fs.String("hosted-zone-id", "", "the hosted zone of --record-name")
	record := fs.String("record-name", "", "the failover record, e.g. chat.example.com: which region it answers with now")
	endpoints := fs.String("endpoints", "", "with --record-name: REGION=HOST,... the endpoint host of each region (stack config failoverEndpoints)")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if err := required("table", *tableName, "region", *region); err != nil {
		return nil, err
	}
	if !sessions.ValidTableName(*tableName) {
		return nil, usagef("--table %q: %s", *tableName, sessions.TableNameRule)
	}
	if !failover.ValidRegion(*region) {
		return nil, usagef("--region %q: not an AWS region such as us-east-1", *region)
	}
	in := failover.Input{Table: *tableName, Region: *region, LatencyThreshold: *threshold, Window: *window, Now: e.now(), Progress: c.progress(e)}
	var err error
	if in.ReplicaRegions, err = regionList("replica-regions", *replicas); err != nil {
		return nil, err
	}
	switch {
	case *threshold <= 0:
		return nil, usagef("--latency-threshold %s: must be more than 0 (e.g. 60s)", *threshold)
	case *window < time.Minute || *window > 24*time.Hour:
		return nil, usagef("--window %s: must be 1m to 24h (ReplicationLatency has one datapoint a minute)", *window)
	}
	pairs, err := regionPairs("health-checks", *checks, "us-east-1=0a1b2c3d-…", func(id string) bool { return healthCheckIDPattern.MatchString(id) })
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		in.HealthChecks = append(in.HealthChecks, failover.HealthCheckRef{Region: p[0], ID: p[1]})
	}
	switch {
	case *zone == "" && *record == "" && *endpoints == "":
	case *zone == "" || *record == "":
		return nil, usagef("--hosted-zone-id %q and --record-name %q: give both, or neither", *zone, *record)
	case !hostedZoneIDPattern.MatchString(strings.TrimPrefix(*zone, "/hostedzone/")):
		return nil, usagef("--hosted-zone-id %q: not a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ", *zone)
	case !failover.ValidHost(*record):
		return nil, usagef("--record-name %q: not a DNS name such as chat.example.com", *record)
	case *endpoints == "":
		return nil, usagef("--record-name %s needs --endpoints REGION=HOST,... (the endpoint host of each region), to tell which region it answers with", *record)
	default:
		in.HostedZoneID, in.RecordName = strings.TrimPrefix(*zone, "/hostedzone/"), *record
		pairs, err := regionPairs("endpoints", *endpoints, "us-west-2=chat-usw2.example.com", failover.ValidHost)
		if err != nil {
			return nil, err
		}
		in.Endpoints = map[string]string{}
		for _, p := range pairs {
			if r, ok := findRegion(in.Endpoints, p[1]); ok {
				return nil, usagef("--endpoints %q: %s is the host of both %s and %s", *endpoints, p[1], r, p[0])
			}
			in.Endpoints[p[0]] = failover.NormalizeHost(p[1])
		}
	}
	cl, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := failover.Status(ctx, failoverAPI(cl, *region), in)
	out := jsonReport{c.json, rep}
	if err != nil {
		return out, fmt.Errorf("some calls failed, so the report is incomplete: %w", err)
	}
	if !rep.OK() {
		return out, &mismatch{strings.Join(append([]string{fmt.Sprintf("%d problem(s):", len(rep.Problems))}, rep.Problems...), "\n  ")}
	}
	progress.Logf(c.progress(e), "failover-status: every check passed")
	return out, nil
}

// failoverAPI gives failover.Status its clients: DynamoDB in each table's
// region, CloudWatch in the region looked from (where ReplicationLatency is
// published), Route 53 (global).
func failoverAPI(cl clientsT, region string) failover.API {
	home := cl.InRegion(region)
	return failover.API{
		DynamoDB: func(r string) failover.DynamoDB {
			if r == region {
				return home.DynamoDB
			}
			return cl.InRegion(r).DynamoDB
		},
		CloudWatch: home.CloudWatch,
		Route53:    home.Route53,
	}
}

var (
	healthCheckIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	hostedZoneIDPattern  = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
)

// regionList reads REGION,... (every name a region, none twice).
func regionList(flagName, v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, r := range strings.Split(v, ",") {
		r = strings.TrimSpace(r)
		switch {
		case !failover.ValidRegion(r):
			return nil, usagef("--%s %q: %q is not an AWS region such as us-west-2", flagName, v, r)
		case slices.Contains(out, r):
			return nil, usagef("--%s %q: %s is listed twice", flagName, v, r)
		}
		out = append(out, r)
	}
	return out, nil
}

// regionPairs reads REGION=VALUE,... (every region once, every value valid).
func regionPairs(flagName, v, example string, valid func(string) bool) ([][2]string, error) {
	if v == "" {
		return nil, nil
	}
	var out [][2]string
	for _, part := range strings.Split(v, ",") {
		r, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok || !valid(val):
			return nil, usagef("--%s %q: %q must be REGION=VALUE, e.g. %s", flagName, v, part, example)
		case !failover.ValidRegion(r):
			return nil, usagef("--%s %q: %q is not an AWS region such as us-west-2", flagName, v, r)
		case slices.ContainsFunc(out, func(p [2]string) bool { return p[0] == r }):
			return nil, usagef("--%s %q: %s is listed twice", flagName, v, r)
		}
		out = append(out, [2]string{r, val})
	}
	return out, nil
}

func findRegion(endpoints map[string]string, host string) (string, bool) {
	for r, h := range endpoints {
		if h == failover.NormalizeHost(host) {
			return r, true
		}
	}
	return "", false
}
