package table_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exports"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const bucket = "backups"

var t0 = time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)

// fixture is a chain written in the real layout, and the table it must give.
type fixture struct {
	emu  *emulator.Emulator
	ddb  *dynamodb.Client
	s3   *s3.Client
	w    *exporttest.Writer
	want map[items.Key]items.Item
	full exporttest.Written
	inc1 exporttest.Written
	inc2 exporttest.Written
}

// newFixture writes a full export (3 files, one empty), a NEW_AND_OLD_IMAGES
// incremental (inserts, updates, deletes) and a NEW_IMAGE incremental.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	emu := emulator.New(t)
	f := &fixture{emu: emu, ddb: emu.DynamoDB(), s3: emu.S3(), want: map[items.Key]items.Item{}}
	_, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	f.w = &exporttest.Writer{S3: f.s3, Bucket: bucket, Prefix: "exports", TableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions"}

	var all []items.Item
	for _, id := range []string{"a", "b", "c", "d"} {
		all = append(all, exporttest.Session(id, 5)...)
	}
	for _, it := range all {
		f.want[key(t, it)] = it
	}
	f.full, err = f.w.Full(ctx, "01000000000000-aaaaaaaa", t0, all[:len(all)-1], 4) // the last item comes later
	require.NoError(t, err)
	delete(f.want, key(t, all[len(all)-1]))

	// Window 1: insert the missing item, update a turn, delete a session's summary.
	upd := exporttest.With(all[1], "role", &types.AttributeValueMemberS{Value: "assistant"})
	l1 := []exporttest.Line{
		exporttest.Insert(all[len(all)-1]),
		exporttest.Update(all[1], upd),
		exporttest.Delete(all[6]),
	}
	f.want[key(t, all[len(all)-1])] = all[len(all)-1]
	f.want[key(t, upd)] = upd
	delete(f.want, key(t, all[6]))
	f.inc1, err = f.w.Incremental(ctx, "01000000000001-bbbbbbbb", t0, t0.Add(24*time.Hour), exports.ViewNewAndOldImages, l1, 2)
	require.NoError(t, err)

	// Window 2, NEW_IMAGE: update the same turn again, delete another, insert a new one.
	upd2 := exporttest.With(upd, "token_count", &types.AttributeValueMemberN{Value: "99"})
	ins := exporttest.AllTypes("e", "TURN#0001")
	l2 := []exporttest.Line{exporttest.Update(upd, upd2), exporttest.Delete(all[9]), exporttest.Insert(ins)}
	f.want[key(t, upd2)] = upd2
	delete(f.want, key(t, all[9]))
	f.want[key(t, ins)] = ins
	f.inc2, err = f.w.Incremental(ctx, "01000000000002-cccccccc", t0.Add(24*time.Hour), t0.Add(48*time.Hour), exports.ViewNewImage, l2, 1)
	require.NoError(t, err)
	return f
}

func key(t *testing.T, it items.Item) items.Key {
	k, err := items.KeyOf(it)
	require.NoError(t, err)
	return k
}

func scanAll(t *testing.T, ddb *dynamodb.Client, name string) map[items.Key]items.Item {
	t.Helper()
	out := map[items.Key]items.Item{}
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		for _, it := range page.Items {
			out[key(t, it)] = it
		}
	}
	return out
}

func requireSameItems(t *testing.T, want, got map[items.Key]items.Item) {
	t.Helper()
	require.Len(t, got, len(want))
	for k, w := range want {
		g, ok := got[k]
		require.True(t, ok, "missing %s", k)
		require.True(t, items.Equal(w, g), "%s: got %s, want %s", k, items.Describe(g, 300), items.Describe(w, 300))
	}
}

func quiet() progress.Options { return progress.Options{Quiet: true} }

func restore(ctx context.Context, t *testing.T, f *fixture, until time.Time, target string, dir string, opts table.Options) (table.Report, error) {
	t.Helper()
	loc := exports.Location{Bucket: bucket, Prefix: "exports"}
	listing, err := exports.List(ctx, f.s3, loc)
	require.NoError(t, err)
	chain, err := exports.SelectChain(listing.Exports, until)
	if err != nil {
		return table.Report{}, err
	}
	cp, _, err := checkpoint.Open(dir, []string{"table", target, until.String()})
	require.NoError(t, err)
	require.NoError(t, table.CreateSessionsTable(ctx, f.ddb, target))
	opts.Checkpoint = cp
	opts.Progress = quiet()
	return table.Restore(ctx, f.ddb, f.s3, chain, target, opts)
}

func TestRestoreChain(t *testing.T) {
	f := newFixture(t)
	rep, err := restore(t.Context(), t, f, t0.Add(48*time.Hour), "restored", t.TempDir(), table.Options{})
	require.NoError(t, err)
	requireSameItems(t, f.want, scanAll(t, f.ddb, "restored"))
	assert.Len(t, rep.Chain, 3)
	assert.Equal(t, 7, rep.Files)
	assert.Equal(t, t0.Add(48*time.Hour), rep.AsOf)
	assert.Equal(t, int64(len(f.want)), rep.Count)
	assert.Nil(t, rep.ExpectedCount, "a NEW_IMAGE incremental cannot be counted")
	assert.True(t, rep.OK(), "%v", rep.Mismatches)
	assert.Positive(t, rep.Sampled)
}

func TestRestoreCountsAgainstManifests(t *testing.T) {
	f := newFixture(t)
	// Up to the end of the NEW_AND_OLD_IMAGES window: countable.
	rep, err := restore(t.Context(), t, f, t0.Add(30*time.Hour), "restored", t.TempDir(), table.Options{})
	require.NoError(t, err)
	require.NotNil(t, rep.ExpectedCount)
	assert.Equal(t, *rep.ExpectedCount, rep.Count)
	assert.Equal(t, t0.Add(24*time.Hour), rep.AsOf)
	assert.NotEmpty(t, rep.Notes, "the report says the chain stops short of --until")
}

func TestCorruptedFileFailsNamingIt(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	key := f.inc1.DataKeys[1]
	obj, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	require.NoError(t, err)
	require.NoError(t, f.w.Corrupt(ctx, key, body))

	_, err = restore(ctx, t, f, t0.Add(48*time.Hour), "restored", t.TempDir(), table.Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, exports.ErrChecksum)
	assert.ErrorContains(t, err, "s3://"+bucket+"/"+key)
	assert.Empty(t, scanAll(t, f.ddb, "restored"), "nothing is written before every file is verified")
}

func TestGapIsRefusedWithItsTimes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	// A third window that starts an hour after the second ends.
	_, err := f.w.Incremental(ctx, "01000000000003-dddddddd", t0.Add(49*time.Hour), t0.Add(72*time.Hour), exports.ViewNewAndOldImages, nil, 1)
	require.NoError(t, err)
	_, err = restore(ctx, t, f, t0.Add(72*time.Hour), "restored", t.TempDir(), table.Options{})
	var gap *exports.GapError
	require.True(t, errors.As(err, &gap), "%v", err)
	assert.Equal(t, t0.Add(48*time.Hour), gap.From)
	assert.Equal(t, t0.Add(49*time.Hour), gap.To)
	assert.ErrorContains(t, err, "2026-11-03T03:00:00Z to 2026-11-03T04:00:00Z")
}
