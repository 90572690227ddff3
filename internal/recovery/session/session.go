// Package session restores one session's items as they were at a time and
// writes them back into the live table through package writeback, so that
// no item that changed after the tool read it is overwritten.
//
// The items at the time come either from a point-in-time restore into a
// scratch table (RestoreTableToPointInTime, 15 to 60 minutes for a real
// table; the scratch table's name is derived from the arguments, so a rerun
// finds it again instead of starting a second restore) or from the export
// chain in S3 (minutes: only the session's lines are kept).
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writeback"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// DynamoDB is the part of the client a session restore uses.
type DynamoDB interface {
	table.DynamoDB
	writeback.DynamoDB
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	RestoreTableToPointInTime(ctx context.Context, in *dynamodb.RestoreTableToPointInTimeInput, optFns ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// Options of a session restore.
type Options struct {
	Table     string
	SessionID string
	At        time.Time
	// From is the export chain to read; nil restores from PITR.
	From        *exports.Location
	Mode        writeback.Mode
	KeepScratch bool
	// DryRun decides and reports, writes nothing into Table, and keeps the
	// scratch table for the run that will write.
	DryRun       bool
	Checkpoint   *checkpoint.File
	Progress     progress.Options
	PollInterval time.Duration // DescribeTable while a restore runs; default 15 s
	Writeback    writeback.Options
}

// Report is what a session restore did.
type Report struct {
	Table        string           `json:"table"`
	Session      string           `json:"session"`
	At           time.Time        `json:"at"`
	Source       string           `json:"source"` // "pitr" or the export location
	AsOf         time.Time        `json:"as_of"`
	Scratch      string           `json:"scratch_table,omitempty"`
	ScratchKept  bool             `json:"scratch_kept,omitempty"`
	WaitSeconds  float64          `json:"restore_wait_seconds"`
	AtRestore    int              `json:"items_at_restore_point"`
	LiveBefore   int              `json:"items_live_before"`
	DryRun       bool             `json:"dry_run,omitempty"`
	Writeback    writeback.Result `json:"writeback"`
	ChainExports []string         `json:"chain,omitempty"`
}

// ScratchName is the scratch table of a PITR restore of table at at: the
// same arguments always give the same name.
func ScratchName(table string, at time.Time) string {
	return fmt.Sprintf("%s-recover-%s", table, checkpoint.Key([]string{table, at.UTC().Format(time.RFC3339Nano)}))
}

// Run restores the session.
func Run(ctx context.Context, ddb DynamoDB, s3 exports.S3, opts Options) (Report, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 15 * time.Second
	}
	rep := Report{Table: opts.Table, Session: opts.SessionID, At: opts.At, AsOf: opts.At, DryRun: opts.DryRun}
	live, err := table.Describe(ctx, ddb, opts.Table)
	if err != nil {
		return rep, err
	}
	if live == nil {
		return rep, fmt.Errorf("--table %s: no such table", opts.Table)
	}
	var want []items.Item
	if opts.From != nil {
		rep.Source = opts.From.String()
		want, err = fromExports(ctx, s3, *opts.From, opts, &rep)
	} else {
		rep.Source = "pitr"
		want, err = fromPITR(ctx, ddb, opts, &rep)
	}
	if err != nil {
		return rep, err
	}
	rep.AtRestore = len(want)
	current, err := Query(ctx, ddb, opts.Table, opts.SessionID)
	if err != nil {
		return rep, err
	}
	rep.LiveBefore = len(current)
	wb := opts.Writeback
	wb.DryRun = opts.DryRun
	rep.Writeback, err = writeback.Apply(ctx, ddb, opts.Table, want, current, opts.Mode, wb)
	if err != nil {
		return rep, err
	}
	if rep.Scratch != "" {
		if opts.KeepScratch || opts.DryRun {
			rep.ScratchKept = true
		} else if err := dropScratch(ctx, ddb, rep.Scratch); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// FromScratch writes back a session from a table that holds its items as
// they were (a scratch table): the core of Run, without the restore.
func FromScratch(ctx context.Context, ddb DynamoDB, liveTable, scratch, sessionID string, mode writeback.Mode, opts writeback.Options) (writeback.Result, error) {
	want, err := Query(ctx, ddb, scratch, sessionID)
	if err != nil {
		return writeback.Result{}, err
	}
	current, err := Query(ctx, ddb, liveTable, sessionID)
	if err != nil {
		return writeback.Result{}, err
	}
	return writeback.Apply(ctx, ddb, liveTable, want, current, mode, opts)
}

// Query reads every item of a session, with consistent reads.
func Query(ctx context.Context, ddb DynamoDB, tableName, sessionID string) ([]items.Item, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(tableName),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": sessions.PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: sessions.PK(sessionID)}},
		ConsistentRead:            aws.Bool(true),
	}
	var out []items.Item
	for p := dynamodb.NewQueryPaginator(ddb, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query session %s in %s: %w", sessionID, tableName, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// WindowError is a time outside the table's PITR window.
type WindowError struct {
	Table                string
	At, Earliest, Latest time.Time
}

func (e *WindowError) Error() string {
	return fmt.Sprintf("--at %s is outside the point-in-time recovery window of %s (%s to %s)",
		stamp(e.At), e.Table, stamp(e.Earliest), stamp(e.Latest))
}

// StaleError refuses --mode replace from exports that end before --at:
// replace would undo the changes made between the chain's end and --at.
type StaleError struct{ At, AsOf time.Time }

func (e *StaleError) Error() string {
	return fmt.Sprintf("the exports reach only %s, not --at %s: --mode replace would undo what changed in between; use --at %s, or restore from PITR (drop --from)",
		stamp(e.AsOf), stamp(e.At), stamp(e.AsOf))
}

// CheckWindow refuses a time outside a table's PITR window.
func CheckWindow(ctx context.Context, ddb DynamoDB, tableName string, at time.Time) error {
	out, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(tableName)})
	if err != nil {
		return fmt.Errorf("describe continuous backups of %s: %w", tableName, err)
	}
	pitr := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if pitr == nil || pitr.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		return fmt.Errorf("--table %s has point-in-time recovery off: restore from exports with --from", tableName)
	}
	earliest, latest := aws.ToTime(pitr.EarliestRestorableDateTime), aws.ToTime(pitr.LatestRestorableDateTime)
	// The API takes whole seconds at best; compare at that grain.
	if at.Before(earliest.Truncate(time.Second)) || at.After(latest) {
		return &WindowError{Table: tableName, At: at, Earliest: earliest, Latest: latest}
	}
	return nil
}

func fromPITR(ctx context.Context, ddb DynamoDB, opts Options, rep *Report) ([]items.Item, error) {
	scratch := ScratchName(opts.Table, opts.At)
	rep.Scratch = scratch
	existing, err := table.Describe(ctx, ddb, scratch)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if existing == nil {
		if err := CheckWindow(ctx, ddb, opts.Table, opts.At); err != nil {
			return nil, err
		}
		progress.Logf(opts.Progress, "restoring %s as of %s into scratch table %s (RestoreTableToPointInTime: 15 to 60 minutes for a large table)",
			opts.Table, stamp(opts.At), scratch)
		_, err := ddb.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
			SourceTableName: aws.String(opts.Table),
			TargetTableName: aws.String(scratch),
			RestoreDateTime: aws.Time(opts.At),
		})
		var inUse *types.TableAlreadyExistsException
		if err != nil && !errors.As(err, &inUse) {
			return nil, fmt.Errorf("restore %s to %s: %w", opts.Table, stamp(opts.At), err)
		}
		if opts.Checkpoint != nil {
			if err := opts.Checkpoint.SetValue("scratch", scratch); err != nil {
				return nil, err
			}
		}
	} else {
		progress.Logf(opts.Progress, "found scratch table %s from an earlier run (%s)", scratch, existing.TableStatus)
	}
	meter := progress.Start(opts.Progress, "waiting for "+scratch, "polls", 0)
	_, err = table.WaitActive(ctx, ddb, scratch, opts.PollInterval, func(string) { meter.Add(1) })
	meter.Done()
	if err != nil {
		return nil, err
	}
	rep.WaitSeconds = time.Since(start).Seconds()
	return Query(ctx, ddb, scratch, opts.SessionID)
}

func dropScratch(ctx context.Context, ddb DynamoDB, scratch string) error {
	if !strings.Contains(scratch, "-recover-") {
		return fmt.Errorf("refusing to delete %s: not a scratch table", scratch)
	}
	_, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(scratch)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete scratch table %s: %w", scratch, err)
	}
	return nil
}

// fromExports reads the session's lines from the chain: every file is read
// (and its MD5 checked) but only this session's items are kept.
func fromExports(ctx context.Context, s3 exports.S3, loc exports.Location, opts Options, rep *Report) ([]items.Item, error) {
	listing, err := exports.List(ctx, s3, loc)
	if err != nil {
		return nil, err
	}
	chain, err := exports.SelectChain(listing.Exports, opts.At)
	if err != nil {
		return nil, err
	}
	rep.AsOf = chain.AsOf
	if opts.Mode == writeback.Replace && chain.AsOf.Before(opts.At) {
		return nil, &StaleError{At: opts.At, AsOf: chain.AsOf}
	}
	pk := sessions.PK(opts.SessionID)
	pkBytes := []byte(pk)
	state := map[items.Key]items.Item{}
	var mu sync.Mutex
	for _, e := range chain.Exports() {
		rep.ChainExports = append(rep.ChainExports, e.String())
		files, err := e.Files(ctx, s3)
		if err != nil {
			return nil, err
		}
		meter := progress.Start(opts.Progress, "reading "+e.ID, "files", int64(len(files)))
		errs := make(chan error, len(files))
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for _, f := range files {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_, err := exports.ReadLines(ctx, s3, e.Bucket, f, func(_ int64, line []byte) error {
					if !bytes.Contains(line, pkBytes) { // cheap filter before decoding
						return nil
					}
					c, err := exports.ParseLine(line, e.Incremental)
					if err != nil || c.Key.PK != pk {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if c.Op == exports.Put {
						state[c.Key] = c.Item
					} else {
						delete(state, c.Key)
					}
					return nil
				})
				errs <- err
				meter.Add(1)
			}()
		}
		wg.Wait()
		meter.Done()
		close(errs)
		for err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	out := make([]items.Item, 0, len(state))
	for _, it := range state {
		out = append(out, it)
	}
	return out, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
