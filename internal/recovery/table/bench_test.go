package table_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/recovery/writer"
)

// bigExport writes one full export of n items (sessions of 8 turns plus
// META and SUMMARY, every attribute type in each turn) over 8 data files,
// and returns its chain and the items, in memory, for the plain loop.
func bigExport(tb testing.TB, emu *emulator.Emulator, n int, keepItems bool) (*exports.Chain, []items.Item) {
	tb.Helper()
	ctx := context.Background()
	s3c := emu.S3()
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(tb, err)
	w := &exporttest.Writer{S3: s3c, Bucket: bucket, Prefix: "exports", TableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions"}
	var all []items.Item
	for s := 0; len(all) < n; s++ {
		all = append(all, exporttest.Session(fmt.Sprintf("b%07d", s), 8)...)
	}
	all = all[:n]
	_, err = w.Full(ctx, "01800000000000-bench000", t0, all, 8)
	require.NoError(tb, err)
	listing, err := exports.List(ctx, s3c, exports.Location{Bucket: bucket, Prefix: "exports"})
	require.NoError(tb, err)
	chain, err := exports.SelectChain(listing.Exports, t0)
	require.NoError(tb, err)
	if !keepItems {
		all = nil
	}
	return chain, all
}

// heapPeak samples runtime/metrics every millisecond until stop and
// returns two high-water marks above the baseline taken after a GC at
// start: live, /gc/heap/live:bytes (what the last GC found reachable: the
// memory the restore really holds), and heap, /memory/classes/heap/objects:bytes
// (live objects plus garbage not yet collected, which the GC lets grow to
// about twice the live heap under the default GOGC=100).
func heapPeak() (stop func() (live, heap uint64)) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	baseLive, baseHeap := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	var peakLive, peakHeap uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peakLive = max(peakLive, sample[0].Value.Uint64())
			peakHeap = max(peakHeap, sample[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	above := func(peak, base uint64) uint64 {
		if peak < base {
			return 0
		}
		return peak - base
	}
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return above(peakLive, baseLive), above(peakHeap, baseHeap)
	}
}

func restoreInto(tb testing.TB, ddb *dynamodb.Client, s3c *s3.Client, chain *exports.Chain, target string, skipVerify bool) table.Report {
	tb.Helper()
	ctx := context.Background()
	require.NoError(tb, table.CreateSessionsTable(ctx, ddb, target))
	cp, _, err := checkpoint.Open(tb.TempDir(), []string{target})
	require.NoError(tb, err)
	rep, err := table.Restore(ctx, ddb, s3c, chain, target, table.Options{Checkpoint: cp, Progress: quiet(), Sample: -1, SkipVerify: skipVerify})
	require.NoError(tb, err)
	if !skipVerify {
		require.EqualValues(tb, chain.Full.ItemCount, rep.Count)
	}
	return rep
}

// plainLoop is the baseline: the same items, already in memory, written
// with one BatchWriteItem call after another, 25 at a time, retrying
// UnprocessedItems at once.
func plainLoop(tb testing.TB, ddb *dynamodb.Client, all []items.Item, target string) time.Duration {
	tb.Helper()
	ctx := context.Background()
	require.NoError(tb, table.CreateSessionsTable(ctx, ddb, target))
	start := time.Now()
	for i := 0; i < len(all); i += writer.MaxBatch {
		var reqs []types.WriteRequest
		for _, it := range all[i:min(i+writer.MaxBatch, len(all))] {
			reqs = append(reqs, writer.PutRequest(it))
		}
		for len(reqs) > 0 {
			out, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{target: reqs}})
			require.NoError(tb, err)
			reqs = out.UnprocessedItems[target]
		}
	}
	return time.Since(start)
}

// BenchmarkRestoreVsPlainLoop restores a 20,000-item full export and
// writes the same items with a plain loop, in the same run against the
// same moto, and reports the rates and their ratio (the issue asks for at
// least 0.8). The restore's rate is measured twice: over checking the MD5s,
// streaming and writing (what the plain loop does: put the items), and end
// to end, which adds the verification: a COUNT scan of the table and the
// sampled reads. moto answers a COUNT scan with every item and reads the
// whole table for every page, which DynamoDB does not, so the end-to-end
// rate against moto understates the real one.
func BenchmarkRestoreVsPlainLoop(b *testing.B) {
	emu := emulator.New(b)
	ddb, s3c := emu.DynamoDB(), emu.S3()
	const n = 20000
	chain, all := bigExport(b, emu, n, true)
	b.ResetTimer()
	var writeRate, e2eRate, plainRate float64
	for i := range b.N {
		start := time.Now()
		rep := restoreInto(b, ddb, s3c, chain, fmt.Sprintf("restored-%d", i), false)
		e2eRate += n / time.Since(start).Seconds()
		writeRate += n / (rep.VerifySeconds + rep.ApplySeconds)
		plainRate += n / plainLoop(b, ddb, all, fmt.Sprintf("plain-%d", i)).Seconds()
	}
	b.ReportMetric(writeRate/float64(b.N), "restore-items/s")
	b.ReportMetric(e2eRate/float64(b.N), "restore-e2e-items/s")
	b.ReportMetric(plainRate/float64(b.N), "plain-items/s")
	b.ReportMetric(writeRate/plainRate, "ratio")
	b.ReportMetric(e2eRate/plainRate, "ratio-e2e")
}

// BenchmarkRestorePeakHeap reports the heap high-water marks of restoring
// 20,000 and 200,000 items (see heapPeak): checking the MD5s, streaming and
// writing. The verification after the writes is left out: its COUNT scan
// takes moto hours at 200,000 items (its memory is bounded by the page cap
// and checked by TestRestoreMemoryIsFlat).
func BenchmarkRestorePeakHeap(b *testing.B) {
	for _, n := range []int{20000, 200000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			emu := emulator.New(b)
			chain, _ := bigExport(b, emu, n, false)
			b.ResetTimer()
			var live, heap uint64
			for i := range b.N {
				stop := heapPeak()
				restoreInto(b, emu.DynamoDB(), emu.S3(), chain, fmt.Sprintf("restored-%d", i), true)
				l, h := stop()
				live, heap = max(live, l), max(heap, h)
			}
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
		})
	}
}

// Memory stays flat: restoring ten times the items does not need ten times
// the heap. (A reader that held a file or a whole export in memory would
// need about 40 MB more for the larger one; the bound is 1.3×.)
func TestRestoreMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 11,000 items to moto")
	}
	peaks := map[int]uint64{}
	for _, n := range []int{1000, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			emu := emulator.New(t)
			chain, _ := bigExport(t, emu, n, false)
			stop := heapPeak()
			restoreInto(t, emu.DynamoDB(), emu.S3(), chain, "flat", false)
			live, heap := stop()
			peaks[n] = live
			t.Logf("%d items: live heap high-water mark %.1f MiB, heap incl. garbage %.1f MiB, above the baseline",
				n, float64(live)/(1<<20), float64(heap)/(1<<20))
		})
	}
	// A floor of 4 MiB keeps a quick small run from making the bound
	// meaningless (its GC may barely have run).
	require.LessOrEqual(t, float64(peaks[10000]), 1.3*float64(max(peaks[1000], 4<<20)),
		"peak live heap %d B for 10,000 items vs %d B for 1,000", peaks[10000], peaks[1000])
}
