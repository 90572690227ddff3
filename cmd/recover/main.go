// Command recover is the on-call toolkit for the sessions table's four
// disasters: a session deleted by mistake, a table deleted, data corrupted
// by a bad deploy, and (failover-status) a region lost. See docs/runbooks/.
//
//	recover session --table T --session ID --at TIME [--from s3://B/P] [--mode missing|replace] [--yes]
//	recover table   --from s3://B/P --until TIME --to TABLE [--create] [--import] [--yes]
//	recover table   --export s3://B/P/AWSDynamoDB/ID --to TABLE [--create] [--import] [--yes]
//	recover backup  --backup-arn ARN --to TABLE [--settings-from TABLE]
//	recover drill   --from s3://B/P | --backup latest|ARN --table T | --pitr --table T
//	recover failover-status --table T --region PRIMARY [--replica-regions R,...] [--latency-threshold 60s] [--window 10m]
//	                        [--health-checks REGION=ID,...] [--hosted-zone-id Z --record-name NAME --endpoints REGION=HOST,...]
//
// Every command reads the standard AWS environment (AWS_REGION, credentials,
// AWS_PROFILE, AWS_ENDPOINT_URL), shows progress on stderr and prints a final
// report on stdout (one JSON object with --json). The commands that write
// keep a checkpoint, so that rerunning one with the same arguments continues
// where it stopped; failover-status only reads, in the regions it names
// (--region for the table and ReplicationLatency, each replica's own region
// for its PITR; Route 53 is global).
//
// Exit status: 0 done; 1 failed (for failover-status: a call failed, the
// report is incomplete); 2 bad arguments; 3 refused (a dangerous or
// ambiguous request, nothing written); 4 finished but the result does not
// verify (drill or table mismatch; failover-status: a problem — the table or
// a replica not ACTIVE, a listed replica missing, PITR off, the latest
// replication latency over --latency-threshold, an unhealthy health check,
// the record answering with a host that is none of --endpoints).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/manga-assist/manga-assist-data/internal/recovery/awsenv"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitRefused  = 3
	exitMismatch = 4
)

// env is what the commands get from outside; tests replace it.
type env struct {
	stdout, stderr io.Writer
	clients        func(context.Context) (awsenv.Clients, error)
	now            func() time.Time
	poll           time.Duration // default poll interval of restores
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, clients: awsenv.Load, now: time.Now, poll: 15 * time.Second}))
}

const usage = `usage: recover <command> [flags]

commands:
  session  restore one session's items as they were at a time, into the live table
  table    rebuild a table from the export chain in S3 (or load one full export with ImportTable)
  backup   restore a DynamoDB or AWS Backup backup into a new table, then re-apply its settings
  drill    restore into a scratch table, verify it, report the time it took, delete it
  failover-status
           a global table's replicas, replication latency, Route 53 health checks and
           where the failover record answers now (exit 4 on any problem)

run 'recover <command> -h' for a command's flags; docs/runbooks/ has the procedures.
`

// usageError is a bad argument; refusal a request the tool will not carry out.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

func usagef(format string, args ...any) error  { return &usageError{fmt.Sprintf(format, args...)} }
func refusef(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// mismatch is a finished run whose result did not verify.
type mismatch struct{ msg string }

func (e *mismatch) Error() string { return e.msg }

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	commands := map[string]func(context.Context, []string, env) (any, error){
		"session": cmdSession, "table": cmdTable, "backup": cmdBackup, "drill": cmdDrill,
		"failover-status": cmdFailoverStatus,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "recover: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	report, err := cmd(ctx, args[1:], e)
	var ue *usageError
	var re *refusal
	var me *mismatch
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "recover %s: %v\n", args[0], err)
		return exitUsage
	}
	if report != nil {
		printReport(e, report)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "recover %s: refused: %v\n", args[0], err)
		return exitRefused
	case errors.As(err, &me):
		fmt.Fprintf(e.stderr, "recover %s: MISMATCH: %v\n", args[0], err)
		return exitMismatch
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(e.stderr, "recover %s: interrupted; run the same command again to continue\n", args[0])
		return exitFailed
	default:
		fmt.Fprintf(e.stderr, "recover %s: %v\n", args[0], err)
		return exitFailed
	}
}

// common are the flags every command has.
type common struct {
	json     bool
	quiet    bool
	stateDir string
	yes      bool
	fs       *flag.FlagSet
}

func newFlags(name, synopsis string, e env) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("recover "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &common{fs: fs}
	fs.BoolVar(&c.json, "json", false, "print the final report as one JSON object")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress on stderr")
	fs.StringVar(&c.stateDir, "state-dir", "", "where checkpoints live (default $XDG_STATE_HOME/manga-assist-recover or ~/.local/state/manga-assist-recover)")
	fs.BoolVar(&c.yes, "yes", false, "allow writing into a live sessions table")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: recover %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, c
}

func (c *common) parse(args []string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if c.fs.NArg() > 0 {
		return usagef("unexpected argument %q: every input is a flag", c.fs.Arg(0))
	}
	return nil
}

func (c *common) progress(e env) progress.Options {
	return progress.Options{Out: e.stderr, Quiet: c.quiet}
}

// checkpoint opens the run's checkpoint; key are the arguments that decide
// what the run does (not --json, --quiet, --yes or tuning flags).
func (c *common) checkpoint(e env, key ...string) (*checkpoint.File, error) {
	dir := c.stateDir
	if dir == "" {
		var err error
		if dir, err = checkpoint.DefaultDir(); err != nil {
			return nil, err
		}
	}
	f, resumed, err := checkpoint.Open(dir, key)
	if err != nil {
		return nil, err
	}
	if resumed {
		progress.Logf(c.progress(e), "continuing the run recorded in %s", f.Path())
	} else {
		progress.Logf(c.progress(e), "checkpoint: %s (rerun the same command to continue after an interruption)", f.Path())
	}
	return f, nil
}

// parseTime reads a --at/--until value: RFC 3339, in the past.
func parseTime(flagName, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, usagef("--%s is required (RFC 3339, e.g. 2026-11-28T09:15:00Z)", flagName)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, usagef("--%s %q: not an RFC 3339 time (e.g. 2026-11-28T09:15:00Z)", flagName, v)
	}
	if t.After(now) {
		return time.Time{}, refusef("--%s %s is in the future (now is %s)", flagName, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return t.UTC(), nil
}

func required(pairs ...string) error {
	var missing []string
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	if len(missing) > 0 {
		return usagef("%s required", strings.Join(missing, ", ")+map[bool]string{true: " is", false: " are"}[len(missing) == 1])
	}
	return nil
}

// printReport prints the report: JSON, or an indented text rendering.
func printReport(e env, r any) {
	if jr, ok := r.(jsonReport); ok && jr.json {
		enc := json.NewEncoder(e.stdout)
		_ = enc.Encode(jr.v)
		return
	}
	if jr, ok := r.(jsonReport); ok {
		r = jr.v
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintln(e.stdout, "report:")
	for _, k := range keys {
		v, _ := json.Marshal(m[k])
		fmt.Fprintf(e.stdout, "  %-28s %s\n", k+":", v)
	}
}

// jsonReport carries a report and how to print it.
type jsonReport struct {
	json bool
	v    any
}

// clientsT is what the commands take from awsenv.
type clientsT = awsenv.Clients
