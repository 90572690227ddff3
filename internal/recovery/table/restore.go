// Package table rebuilds a DynamoDB table from a chain of exports in S3: it
// checks every data file's MD5 against its manifest before writing
// anything, then applies the exports in order (a line with a new image is a
// put, a line with only keys or an old image is a delete), streaming each
// gzip file line by line into a bounded pool of BatchWriteItem workers, so
// memory stays flat whatever the export's size. A checkpoint records each
// finished file, so an interrupted run continues where it stopped; a file
// that was half applied is applied again, which gives the same items,
// because within one export every item appears once and the next export is
// not started before the previous one is finished. Afterwards it counts
// the table against the manifests and compares a sample of items.
package table

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writer"
)

// Options tune a restore.
type Options struct {
	Workers     int // concurrent BatchWriteItem calls; default 8
	FileWorkers int // data files read at once; default 4
	Backoff     writer.Backoff
	Sample      int // items compared after the restore; default 100, -1 none
	Progress    progress.Options
	Checkpoint  *checkpoint.File // required
	// SkipVerify leaves out the count and the sampled reads after the
	// writes (the 200,000-item benchmark: moto's COUNT scan is quadratic).
	SkipVerify bool
}

// Report is what a restore did.
type Report struct {
	Chain         []string  `json:"chain"`
	Until         time.Time `json:"until,omitzero"`
	AsOf          time.Time `json:"as_of"`
	Target        string    `json:"target"`
	Files         int       `json:"files"`
	FilesResumed  int       `json:"files_already_done"`
	Lines         int64     `json:"lines"`
	Puts          int64     `json:"puts"`
	Deletes       int64     `json:"deletes"`
	Calls         int64     `json:"batch_write_calls"`
	Unprocessed   int64     `json:"unprocessed_retried"`
	Throttled     int64     `json:"throttled_calls_retried"`
	VerifySeconds float64   `json:"verify_seconds"`
	ApplySeconds  float64   `json:"apply_seconds"`
	ItemsPerSec   float64   `json:"items_per_second"`
	// ExpectedCount is what the manifests say the table must hold; nil when
	// they cannot say (a NEW_IMAGE incremental does not tell an insert from
	// an update).
	ExpectedCount *int64   `json:"expected_count,omitempty"`
	Count         int64    `json:"count"`
	Sampled       int      `json:"sampled"`
	Mismatches    []string `json:"mismatches,omitempty"`
	Notes         []string `json:"notes,omitempty"`
}

// OK reports whether the restored table matched every check.
func (r Report) OK() bool {
	return len(r.Mismatches) == 0 && (r.ExpectedCount == nil || *r.ExpectedCount == r.Count)
}

// Restore applies chain to target, which must exist (see Prepare).
func Restore(ctx context.Context, ddb DynamoDB, s3 exports.S3, chain *exports.Chain, target string, opts Options) (Report, error) {
	if opts.Checkpoint == nil {
		return Report{}, errors.New("table.Restore: a checkpoint is required")
	}
	if opts.FileWorkers <= 0 {
		opts.FileWorkers = 4
	}
	if opts.Sample == 0 {
		opts.Sample = 100
	}
	rep := Report{Until: chain.Until, AsOf: chain.AsOf, Target: target}
	for _, e := range chain.Exports() {
		rep.Chain = append(rep.Chain, e.String())
	}
	for _, e := range chain.Skipped {
		rep.Notes = append(rep.Notes, fmt.Sprintf("skipped %s: an earlier incremental export already covers its window", e))
	}
	if chain.AsOf.Before(chain.Until) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the exports reach %s, not %s: changes after %s are not in them",
			stamp(chain.AsOf), stamp(chain.Until), stamp(chain.AsOf)))
	}

	// Every manifest, then every file's MD5, before a single write.
	plan, err := loadPlan(ctx, s3, chain)
	if err != nil {
		return rep, err
	}
	for _, p := range plan {
		rep.Files += len(p.files)
	}
	start := time.Now()
	if err := verify(ctx, s3, plan, opts); err != nil {
		return rep, err
	}
	rep.VerifySeconds = time.Since(start).Seconds()

	start = time.Now()
	pool := writer.New(ddb, target, writer.Options{Workers: opts.Workers, Backoff: opts.Backoff})
	smp := newSampler(opts.Sample)
	var delta int64
	countable := true
	meter := progress.Start(opts.Progress, "restore "+target, "items", chain.Full.ItemCount)
	for i, p := range plan {
		if p.export.Incremental && p.export.OutputView != exports.ViewNewAndOldImages {
			countable = false
		}
		if i > 0 {
			meter.SetTotal(meter.Count() + p.export.ItemCount)
		}
		st, err := apply(ctx, s3, pool, p, opts, smp, meter)
		rep.Lines += st.lines
		rep.Puts += st.puts
		rep.Deletes += st.deletes
		rep.FilesResumed += st.resumed
		delta += st.delta
		if err != nil {
			meter.Done()
			ws := pool.Stats()
			rep.Calls, rep.Unprocessed, rep.Throttled = ws.Calls, ws.Unprocessed, ws.ThrottledCalls
			return rep, err
		}
	}
	meter.Done()
	ws := pool.Stats()
	rep.Calls, rep.Unprocessed, rep.Throttled = ws.Calls, ws.Unprocessed, ws.ThrottledCalls
	rep.ApplySeconds = time.Since(start).Seconds()
	if rep.ApplySeconds > 0 {
		rep.ItemsPerSec = float64(rep.Puts+rep.Deletes) / rep.ApplySeconds
	}
	if opts.SkipVerify {
		rep.Notes = append(rep.Notes, "not verified (SkipVerify)")
		return rep, nil
	}
	if countable {
		want := chain.Full.ItemCount + delta
		rep.ExpectedCount = &want
	} else {
		rep.Notes = append(rep.Notes, "item count not checked: a NEW_IMAGE incremental export does not tell an insert from an update")
	}
	if rep.Count, err = Count(ctx, ddb, target, countSegments); err != nil {
		return rep, err
	}
	if rep.ExpectedCount != nil && *rep.ExpectedCount != rep.Count {
		rep.Mismatches = append(rep.Mismatches, fmt.Sprintf("%s holds %d items; the manifests say %d", target, rep.Count, *rep.ExpectedCount))
	}
	rep.Sampled, err = smp.check(ctx, ddb, target, func(m string) { rep.Mismatches = append(rep.Mismatches, m) })
	return rep, err
}

// exportPlan is one export with its data files.
type exportPlan struct {
	export *exports.Export
	files  []exports.DataFile
}

func loadPlan(ctx context.Context, s3 exports.S3, chain *exports.Chain) ([]exportPlan, error) {
	var plan []exportPlan
	for _, e := range chain.Exports() {
		files, err := e.Files(ctx, s3)
		if err != nil {
			return nil, err
		}
		var sum int64
		for _, f := range files {
			sum += f.ItemCount
		}
		if sum != e.ItemCount {
			return nil, fmt.Errorf("%s: its data files hold %d items, manifest-summary.json says itemCount %d", e.URI(), sum, e.ItemCount)
		}
		plan = append(plan, exportPlan{export: e, files: files})
	}
	return plan, nil
}

// verify checks every data file's MD5, each file once across runs.
func verify(ctx context.Context, s3 exports.S3, plan []exportPlan, opts Options) error {
	var all []exports.DataFile
	var bucket string
	for _, p := range plan {
		bucket = p.export.Bucket
		all = append(all, p.files...)
	}
	meter := progress.Start(opts.Progress, "verify MD5", "files", int64(len(all)))
	defer meter.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, opts.FileWorkers)
	var wg sync.WaitGroup
	for _, f := range all {
		step := "verified:" + f.DataFileS3Key
		if opts.Checkpoint.Done(step) {
			meter.Add(1)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := exports.VerifyMD5(ctx, s3, bucket, f); err != nil {
				cancel(err)
				return
			}
			if err := opts.Checkpoint.MarkDone(step); err != nil {
				cancel(err)
				return
			}
			meter.Add(1)
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

type applyStats struct {
	lines, puts, deletes, delta int64
	resumed                     int
}

// apply writes one export's files, FileWorkers at a time, and returns when
// all are written: the next export starts only after this one is complete.
func apply(ctx context.Context, s3 exports.S3, pool *writer.Pool, p exportPlan, opts Options, smp *sampler, meter *progress.Meter) (applyStats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var st applyStats
	var lines, puts, deletes, delta atomic.Int64
	sem := make(chan struct{}, opts.FileWorkers)
	var wg sync.WaitGroup
	for _, f := range p.files {
		step := "applied:" + f.DataFileS3Key
		if opts.Checkpoint.Done(step) {
			st.resumed++
			d, _ := strconv.ParseInt(opts.Checkpoint.Value("delta:"+f.DataFileS3Key), 10, 64)
			delta.Add(d)
			meter.Add(f.ItemCount)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fs, err := applyFile(ctx, s3, pool, p.export, f, smp, meter)
			lines.Add(fs.lines)
			puts.Add(fs.puts)
			deletes.Add(fs.deletes)
			if err == nil {
				delta.Add(fs.delta)
				err = opts.Checkpoint.SetValue("delta:"+f.DataFileS3Key, strconv.FormatInt(fs.delta, 10))
			}
			if err == nil {
				err = opts.Checkpoint.MarkDone(step)
			}
			if err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	st.lines, st.puts, st.deletes, st.delta = lines.Load(), puts.Load(), deletes.Load(), delta.Load()
	return st, context.Cause(ctx)
}

// applyFile streams one data file into the pool and waits for its batches.
func applyFile(ctx context.Context, s3 exports.S3, pool *writer.Pool, e *exports.Export, f exports.DataFile, smp *sampler, meter *progress.Meter) (applyStats, error) {
	var st applyStats
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	failed := func() error {
		errMu.Lock()
		defer errMu.Unlock()
		return firstErr
	}
	batch := make([]types.WriteRequest, 0, writer.MaxBatch)
	inBatch := make(map[items.Key]bool, writer.MaxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		b, n := batch, int64(len(batch))
		batch, inBatch = make([]types.WriteRequest, 0, writer.MaxBatch), make(map[items.Key]bool, writer.MaxBatch)
		wg.Add(1)
		pool.Go(ctx, b, func(err error) {
			defer wg.Done()
			if err != nil {
				fail(err)
				return
			}
			meter.Add(n)
		})
	}
	uri := "s3://" + e.Bucket + "/" + f.DataFileS3Key
	_, err := exports.ReadLines(ctx, s3, e.Bucket, f, func(_ int64, line []byte) error {
		if err := failed(); err != nil {
			return err
		}
		c, err := exports.ParseLine(line, e.Incremental)
		if err != nil {
			return err
		}
		st.lines++
		if inBatch[c.Key] { // BatchWriteItem refuses two requests for one key
			flush()
		}
		inBatch[c.Key] = true
		switch c.Op {
		case exports.Put:
			st.puts++
			if c.Inserted {
				st.delta++
			}
			batch = append(batch, writer.PutRequest(c.Item))
		case exports.Delete:
			st.deletes++
			if c.HadOld {
				st.delta--
			}
			batch = append(batch, writer.DeleteRequest(c.Item))
		}
		smp.see(c)
		if len(batch) == writer.MaxBatch {
			flush()
		}
		return nil
	})
	if err == nil {
		flush()
	}
	wg.Wait()
	if err == nil {
		err = failed()
	}
	if err != nil {
		var fe *exports.FileError
		if !errors.As(err, &fe) {
			err = &exports.FileError{URI: uri, Err: err}
		}
	}
	return st, err
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
