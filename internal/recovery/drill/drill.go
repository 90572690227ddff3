// Package drill proves a backup can be restored: it restores into a scratch
// table, verifies it, measures the time it took (the recovery time actually
// achieved) and deletes the scratch table. Any mismatch fails the drill.
//
// Three sources: the export chain in S3 (verified exactly: the item count
// against the manifests, and sampled items against their final state in the
// exports), a backup (latest or named) and PITR (UseLatestRestorableTime),
// both verified against the live source table, which keeps changing after
// the restore point: there the counts may differ by Tolerance, and a sampled
// item that differs counts as drift up to Tolerance of the sample.
package drill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/backup"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
)

// DynamoDB is the part of the client a drill uses.
type DynamoDB interface {
	backup.DynamoDB
	RestoreTableToPointInTime(ctx context.Context, in *dynamodb.RestoreTableToPointInTimeInput, optFns ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// Source kinds.
const (
	FromExports = "exports"
	FromBackup  = "backup"
	FromPITR    = "pitr"
)

// Options of a drill.
type Options struct {
	Kind   string
	Table  string           // the source table (backup, pitr)
	From   exports.Location // exports
	Until  time.Time        // exports: default now
	Backup string           // backup: an ARN or "latest"
	Sample int              // items compared; default 100
	// Tolerance is the share of drift allowed against a live source
	// (backup, pitr): count difference and differing sampled items. Default 0.01.
	Tolerance   float64
	KeepScratch bool
	Checkpoint  *checkpoint.File
	Progress    progress.Options
	Poll        time.Duration
	Now         func() time.Time
}

// Report is a drill's outcome.
type Report struct {
	Kind        string   `json:"kind"`
	Source      string   `json:"source"`
	Scratch     string   `json:"scratch_table"`
	RTOSeconds  float64  `json:"rto_seconds"`
	Count       int64    `json:"count"`
	Expected    *int64   `json:"expected_count,omitempty"`
	Sampled     int      `json:"sampled"`
	Drifted     int      `json:"drifted,omitempty"`
	Mismatches  []string `json:"mismatches,omitempty"`
	Passed      bool     `json:"passed"`
	ScratchKept bool     `json:"scratch_kept,omitempty"`
	Notes       []string `json:"notes,omitempty"`
}

// ScratchName is a drill's scratch table: the source's name, "-drill-" and
// the start time, so drills never collide and are easy to find.
func ScratchName(source string, start time.Time) string {
	return fmt.Sprintf("%s-drill-%s", source, start.UTC().Format("20060102t150405"))
}

// Run runs one drill.
func Run(ctx context.Context, ddb DynamoDB, s3 exports.S3, opts Options) (Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sample == 0 {
		opts.Sample = 100
	}
	if opts.Tolerance == 0 {
		opts.Tolerance = 0.01
	}
	if opts.Poll <= 0 {
		opts.Poll = 15 * time.Second
	}
	rep := Report{Kind: opts.Kind}
	start := opts.Now()
	clock := time.Now() // the RTO is measured on the monotonic clock
	scratch := ""
	if opts.Checkpoint != nil {
		scratch = opts.Checkpoint.Value("scratch")
	}
	var err error
	switch opts.Kind {
	case FromExports:
		rep.Source = opts.From.String()
		err = fromExports(ctx, ddb, s3, opts, start, clock, &scratch, &rep)
	case FromBackup, FromPITR:
		rep.Source = opts.Table
		err = fromTable(ctx, ddb, opts, start, clock, &scratch, &rep)
	default:
		err = fmt.Errorf("drill: unknown source %q", opts.Kind)
	}
	rep.Scratch = scratch
	if err != nil {
		return rep, err
	}
	rep.Passed = len(rep.Mismatches) == 0
	if opts.KeepScratch {
		rep.ScratchKept = true
	} else if err := Drop(ctx, ddb, scratch); err != nil {
		return rep, err
	}
	return rep, nil
}

func remember(opts Options, scratch string) error {
	if opts.Checkpoint == nil {
		return nil
	}
	return opts.Checkpoint.SetValue("scratch", scratch)
}

func fromExports(ctx context.Context, ddb DynamoDB, s3 exports.S3, opts Options, start, clock time.Time, scratch *string, rep *Report) error {
	until := opts.Until
	if until.IsZero() {
		until = opts.Now()
	}
	listing, err := exports.List(ctx, s3, opts.From)
	if err != nil {
		return err
	}
	chain, err := exports.SelectChain(listing.Exports, until)
	if err != nil {
		return err
	}
	if *scratch == "" {
		name := chain.Full.TableArn[strings.LastIndex(chain.Full.TableArn, "/")+1:]
		*scratch = ScratchName(name, start)
		if err := remember(opts, *scratch); err != nil {
			return err
		}
	}
	if err := table.CreateSessionsTable(ctx, ddb, *scratch); err != nil {
		return err
	}
	tr, err := table.Restore(ctx, ddb, s3, chain, *scratch, table.Options{Sample: opts.Sample, Progress: opts.Progress, Checkpoint: opts.Checkpoint})
	rep.RTOSeconds = time.Since(clock).Seconds()
	if err != nil {
		return err
	}
	rep.Count, rep.Expected, rep.Sampled, rep.Mismatches, rep.Notes = tr.Count, tr.ExpectedCount, tr.Sampled, tr.Mismatches, tr.Notes
	return nil
}

func fromTable(ctx context.Context, ddb DynamoDB, opts Options, start, clock time.Time, scratch *string, rep *Report) error {
	if t, err := table.Describe(ctx, ddb, opts.Table); err != nil {
		return err
	} else if t == nil {
		return fmt.Errorf("--table %s: no such table", opts.Table)
	}
	fresh := *scratch == ""
	if !fresh { // from an interrupted run: reuse it if its restore was started
		t, err := table.Describe(ctx, ddb, *scratch)
		if err != nil {
			return err
		}
		fresh = t == nil
	}
	if fresh {
		*scratch = ScratchName(opts.Table, start)
	}
	if fresh {
		if err := remember(opts, *scratch); err != nil {
			return err
		}
		switch opts.Kind {
		case FromPITR:
			progress.Logf(opts.Progress, "restoring %s to its latest restorable time into %s", opts.Table, *scratch)
			if _, err := ddb.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
				SourceTableName: aws.String(opts.Table), TargetTableName: aws.String(*scratch), UseLatestRestorableTime: aws.Bool(true),
			}); err != nil {
				return fmt.Errorf("restore %s: %w", opts.Table, err)
			}
		case FromBackup:
			arn := opts.Backup
			if arn == "" || arn == "latest" {
				var err error
				if arn, err = backup.Latest(ctx, ddb, opts.Table); err != nil {
					return err
				}
			}
			rep.Source = opts.Table + " backup " + arn
			progress.Logf(opts.Progress, "restoring %s into %s", arn, *scratch)
			if _, err := ddb.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
				BackupArn: aws.String(arn), TargetTableName: aws.String(*scratch),
			}); err != nil {
				return fmt.Errorf("restore %s: %w", arn, err)
			}
		}
	}
	meter := progress.Start(opts.Progress, "waiting for "+*scratch, "polls", 0)
	_, err := table.WaitActive(ctx, ddb, *scratch, opts.Poll, func(string) { meter.Add(1) })
	meter.Done()
	if err != nil {
		return err
	}
	rep.RTOSeconds = time.Since(clock).Seconds()
	v, err := Verify(ctx, ddb, opts.Table, *scratch, opts.Sample, opts.Tolerance)
	rep.Count, rep.Sampled, rep.Drifted, rep.Mismatches, rep.Notes = v.Count, v.Sampled, v.Drifted, v.Mismatches, v.Notes
	return err
}

// Verification is a scratch table compared with its live source.
type Verification struct {
	Count       int64    `json:"count"`
	SourceCount int64    `json:"source_count"`
	Sampled     int      `json:"sampled"`
	Drifted     int      `json:"drifted"`
	Mismatches  []string `json:"mismatches,omitempty"`
	Notes       []string `json:"notes,omitempty"`
}

// Verify compares scratch with source: both counted (parallel COUNT
// scans), and up to sample items of scratch read back from source. The
// source keeps changing after the restore point, so up to tolerance of
// either may differ; beyond that, or an empty scratch table, is a mismatch.
func Verify(ctx context.Context, ddb table.DynamoDB, source, scratch string, sample int, tolerance float64) (Verification, error) {
	var v Verification
	var err error
	if v.Count, err = table.Count(ctx, ddb, scratch, 4); err != nil {
		return v, err
	}
	if v.SourceCount, err = table.Count(ctx, ddb, source, 4); err != nil {
		return v, err
	}
	if v.Count == 0 && v.SourceCount > 0 {
		v.Mismatches = append(v.Mismatches, fmt.Sprintf("%s is empty; %s holds %d items", scratch, source, v.SourceCount))
		return v, nil
	}
	if diff := math.Abs(float64(v.Count - v.SourceCount)); diff > tolerance*float64(max(v.SourceCount, 1)) {
		v.Mismatches = append(v.Mismatches, fmt.Sprintf("%s holds %d items, %s %d: more than %.1f%% apart", scratch, v.Count, source, v.SourceCount, 100*tolerance))
	} else if diff > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%s holds %d items, %s %d (changes after the restore point)", scratch, v.Count, source, v.SourceCount))
	}
	picked, err := sampleItems(ctx, ddb, scratch, sample)
	if err != nil {
		return v, err
	}
	var drift []string
	for _, it := range picked {
		k, err := items.KeyOf(it)
		if err != nil {
			return v, err
		}
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(source), Key: k.Attrs(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return v, fmt.Errorf("read %s from %s: %w", k, source, err)
		}
		v.Sampled++
		if !items.Equal(it, out.Item) {
			v.Drifted++
			drift = append(drift, fmt.Sprintf("%s differs: %s has %s, %s has %s", k, scratch, items.Describe(it, 150), source, items.Describe(out.Item, 150)))
		}
	}
	if float64(v.Drifted) > tolerance*float64(max(v.Sampled, 1)) {
		v.Mismatches = append(v.Mismatches, drift...)
	} else if v.Drifted > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d of %d sampled items changed after the restore point", v.Drifted, v.Sampled))
	}
	return v, nil
}

// sampleItems reads up to n items from a random segment of the table (and
// the following ones, wrapping, until it has n).
func sampleItems(ctx context.Context, ddb table.DynamoDB, name string, n int) ([]items.Item, error) {
	const segments = 16
	first := rand.IntN(segments)
	var out []items.Item
	for i := 0; i < segments && len(out) < n; i++ {
		seg := int32((first + i) % segments)
		in := &dynamodb.ScanInput{TableName: aws.String(name), Segment: aws.Int32(seg), TotalSegments: aws.Int32(segments),
			Limit: aws.Int32(int32(n - len(out))), ConsistentRead: aws.Bool(true)}
		page, err := ddb.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", name, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// Drop deletes a drill's scratch table, and refuses any other.
func Drop(ctx context.Context, ddb DynamoDB, scratch string) error {
	if scratch == "" {
		return nil
	}
	if !strings.Contains(scratch, "-drill-") {
		return fmt.Errorf("refusing to delete %s: not a drill's scratch table", scratch)
	}
	_, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(scratch)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete scratch table %s: %w", scratch, err)
	}
	return nil
}
