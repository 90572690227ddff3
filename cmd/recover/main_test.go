package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/faultproxy"
	"github.com/manga-assist/manga-assist-data/internal/recovery/awsenv"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/items"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const bucket = "backups"

var start = time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)

// h is one test's emulator, exports and CLI environment.
type h struct {
	t        *testing.T
	emu      *emulator.Emulator
	ddb      *dynamodb.Client
	s3       *s3.Client
	w        *exporttest.Writer
	sc       exporttest.Scenario
	stateDir string
	endpoint string // where the CLI's clients go; the emulator unless a proxy is set
}

func newH(t *testing.T, sessionCount int) *h {
	t.Helper()
	emu := emulator.New(t)
	x := &h{t: t, emu: emu, ddb: emu.DynamoDB(), s3: emu.S3(), stateDir: t.TempDir(), endpoint: emu.URL()}
	_, err := x.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	x.w = &exporttest.Writer{S3: x.s3, Bucket: bucket, Prefix: "exports", TableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions"}
	if sessionCount > 0 {
		x.sc, err = exporttest.WriteScenario(t.Context(), x.w, start, sessionCount, 4, 3)
		require.NoError(t, err)
	}
	return x
}

// recover runs the CLI in-process and returns its exit status and output.
func (x *h) recover(args ...string) (int, string, string) {
	x.t.Helper()
	var out, errb bytes.Buffer
	cfg := x.emu.Config()
	cfg.BaseEndpoint = aws.String(x.endpoint)
	e := env{stdout: &out, stderr: &errb, now: func() time.Time { return start.Add(30 * 24 * time.Hour) }, poll: 10 * time.Millisecond,
		clients: func(context.Context) (awsenv.Clients, error) { return awsenv.FromConfig(cfg), nil }}
	code := run(x.t.Context(), append(args, "--state-dir", x.stateDir), e)
	x.t.Logf("recover %s → %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func (x *h) scan(name string) map[items.Key]items.Item {
	x.t.Helper()
	out := map[items.Key]items.Item{}
	p := dynamodb.NewScanPaginator(x.ddb, &dynamodb.ScanInput{TableName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(x.t.Context())
		require.NoError(x.t, err)
		for _, it := range page.Items {
			k, err := items.KeyOf(it)
			require.NoError(x.t, err)
			out[k] = it
		}
	}
	return out
}

func (x *h) requireTable(name string, want map[items.Key]items.Item) {
	x.t.Helper()
	got := x.scan(name)
	require.Len(x.t, got, len(want), "items in %s", name)
	for k, w := range want {
		require.True(x.t, items.Equal(w, got[k]), "%s in %s: got %s, want %s", k, name, items.Describe(got[k], 200), items.Describe(w, 200))
	}
}

func (x *h) createTable(name string, its ...items.Item) {
	x.t.Helper()
	require.NoError(x.t, table.CreateSessionsTable(x.t.Context(), x.ddb, name))
	for _, it := range its {
		_, err := x.ddb.PutItem(x.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(name), Item: it})
		require.NoError(x.t, err)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestTableFromChain(t *testing.T) {
	x := newH(t, 20)
	code, out, _ := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "restored", "--create", "--json")
	require.Equal(t, exitOK, code)
	x.requireTable("restored", x.sc.Want)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "--json prints one JSON object")
	assert.EqualValues(t, len(x.sc.Want), rep["count"])
	assert.Len(t, rep["chain"], 3)

	// Run again: the checkpoint says it is done, nothing is written twice.
	code, out2, errs := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "restored", "--create", "--json")
	require.Equal(t, exitOK, code)
	assert.Contains(t, errs, "already finished")
	assert.JSONEq(t, out, out2)
}

func TestTableOneExportAndImport(t *testing.T) {
	x := newH(t, 5)
	full := x.sc.Full.URI
	code, _, _ := x.recover("table", "--export", full, "--to", "from-full", "--create")
	require.Equal(t, exitOK, code)
	assert.Len(t, x.scan("from-full"), int(x.sc.Full.ItemCount))

	code, _, _ = x.recover("table", "--export", full, "--to", "imported", "--import")
	require.Equal(t, exitOK, code)
	assert.Len(t, x.scan("imported"), int(x.sc.Full.ItemCount))
	d, err := x.ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("imported")})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(d.Table.StreamSpecification.StreamEnabled), "ImportTable makes no stream; the tool adds it")

	code, _, errs := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "imported2", "--import")
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, errs, "--import loads one full export, but the chain has 2 incremental export(s)")
}

// Every refusal names the flag and the value, and writes nothing.
func TestTableRefusals(t *testing.T) {
	x := newH(t, 2)
	x.createTable("busy", exporttest.Session("zz", 1)...)
	x.createTable(sessions.DefaultTableName, exporttest.Session("live", 1)...)
	chain := []string{"--from", "s3://backups/exports", "--until", stamp(x.sc.End)}
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"two sources", []string{"table", "--from", "s3://b/p", "--export", "s3://b/p/AWSDynamoDB/x", "--to", "tgt1"}, exitUsage, "--from s3://b/p and --export s3://b/p/AWSDynamoDB/x: give one source"},
		{"no until", []string{"table", "--from", "s3://backups/exports", "--to", "tgt1"}, exitUsage, "--from needs --until"},
		{"bad time", []string{"table", "--from", "s3://backups/exports", "--until", "yesterday", "--to", "tgt1"}, exitUsage, `--until "yesterday": not an RFC 3339 time`},
		{"future", []string{"table", "--from", "s3://backups/exports", "--until", "2099-01-01T00:00:00Z", "--to", "tgt1"}, exitRefused, "--until 2099-01-01T00:00:00Z is in the future"},
		{"bad table name", append([]string{"table", "--to", "a b"}, chain...), exitUsage, `--to "a b"`},
		{"missing target", append([]string{"table", "--to", "nope"}, chain...), exitRefused, "--to nope does not exist: pass --create"},
		{"non-empty target", append([]string{"table", "--to", "busy"}, chain...), exitRefused, "--to busy already holds items"},
		{"production without --yes", append([]string{"table", "--to", sessions.DefaultTableName}, chain...), exitRefused, "needs --yes"},
		{"bad location", []string{"table", "--export", "s3://backups/exports/x", "--to", "tgt1"}, exitUsage, "is not the folder of one export"},
		{"workers", append([]string{"table", "--to", "tgt1", "--create", "--workers", "0"}, chain...), exitUsage, "--workers 0: must be 1 to 64"},
		{"incremental alone", []string{"table", "--export", x.sc.Inc1.URI, "--to", "tgt1", "--create"}, exitRefused, "is an incremental export"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := x.recover(c.args...)
			assert.Equal(t, c.code, code)
			assert.Contains(t, errs, c.msg)
		})
	}
	assert.Len(t, x.scan("busy"), 3, "refusals write nothing")
	assert.Len(t, x.scan(sessions.DefaultTableName), 3)
}

func TestTableGapIsRefused(t *testing.T) {
	x := newH(t, 2)
	_, err := x.w.Incremental(t.Context(), "01700000000009-gap00000", x.sc.End.Add(time.Hour), x.sc.End.Add(5*time.Hour), "NEW_AND_OLD_IMAGES", nil, 1)
	require.NoError(t, err)
	code, _, errs := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End.Add(6*time.Hour)), "--to", "tgt1", "--create")
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, errs, "gap in the export chain: nothing covers 2026-11-03T03:00:00Z to 2026-11-03T04:00:00Z")
	tbl, err := table.Describe(t.Context(), x.ddb, "tgt1")
	require.NoError(t, err)
	assert.Nil(t, tbl, "a refused chain creates nothing")
}

func TestTableCorruptedFileNamesIt(t *testing.T) {
	x := newH(t, 3)
	key := x.sc.Inc2.DataKeys[0]
	obj, err := x.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = buf.ReadFrom(obj.Body)
	require.NoError(t, err)
	require.NoError(t, x.w.Corrupt(t.Context(), key, buf.Bytes()))
	code, _, errs := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "tgt1", "--create")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errs, "s3://backups/"+key+": MD5 does not match manifest-files.json")
	assert.Empty(t, x.scan("tgt1"))
}

// Into a live table with --yes: only missing items are added; an item the
// application has meanwhile is never overwritten.
func TestTableIntoLiveTableAddsOnlyMissing(t *testing.T) {
	x := newH(t, 3)
	var newer items.Item
	for k, it := range x.sc.Want {
		if k.SK == "TURN#0001" {
			newer = exporttest.With(it, "role", &types.AttributeValueMemberS{Value: "edited after the incident"})
			break
		}
	}
	x.createTable(sessions.DefaultTableName, newer)
	code, out, _ := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", sessions.DefaultTableName, "--yes", "--json")
	require.Equal(t, exitOK, code)
	want := map[items.Key]items.Item{}
	for k, it := range x.sc.Want {
		want[k] = it
	}
	k, _ := items.KeyOf(newer)
	want[k] = newer
	x.requireTable(sessions.DefaultTableName, want)
	var rep struct {
		Copy table.CopyReport `json:"copy_into_live"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.EqualValues(t, 1, rep.Copy.Conflicts)
	assert.EqualValues(t, len(x.sc.Want)-1, rep.Copy.Restored)
}

// moto never throttles and never leaves items unprocessed: the fault proxy
// does both, at the wire, and the restore still gives the exact table.
func TestTableUnderThrottlingAndUnprocessedItems(t *testing.T) {
	x := newH(t, 12)
	proxy, err := faultproxy.NewDynamoDB(x.emu.URL())
	require.NoError(t, err)
	proxy.LeaveUnprocessed(faultproxy.RandomUnprocessed(7, 0.3))
	proxy.Throttle(func(call int) bool { return call%4 == 0 })
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	x.endpoint = srv.URL

	code, out, _ := x.recover("table", "--from", "s3://backups/exports", "--until", stamp(x.sc.End), "--to", "restored", "--create", "--json")
	require.Equal(t, exitOK, code)
	x.requireTable("restored", x.sc.Want)
	var rep table.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	st := proxy.Stats()
	assert.Positive(t, st.Unprocessed)
	assert.Positive(t, st.ThrottledCalls)
	assert.EqualValues(t, st.Unprocessed, rep.Unprocessed, "every unprocessed item was sent again")
	assert.LessOrEqual(t, rep.Throttled, int64(st.ThrottledCalls))
}

func TestSessionFromExports(t *testing.T) {
	x := newH(t, 4)
	id := "s000002"
	// The live table: the session lost two items, another was edited.
	var live []items.Item
	var edited items.Key
	for k, it := range x.sc.Want {
		if k.PK != sessions.PK(id) {
			live = append(live, it)
			continue
		}
		switch k.SK {
		case "TURN#0002", "TURN#9001": // deleted by mistake
		case "TURN#0003":
			live = append(live, exporttest.With(it, "role", &types.AttributeValueMemberS{Value: "changed"}))
			edited = k
		default:
			live = append(live, it)
		}
	}
	x.createTable("sessions-live", live...)
	code, out, _ := x.recover("session", "--table", "sessions-live", "--session", id, "--at", stamp(x.sc.End), "--from", "s3://backups/exports", "--json")
	require.Equal(t, exitOK, code)
	var rep struct {
		Writeback struct {
			Restored  []string
			Conflicts []struct{ Key, Reason string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.ElementsMatch(t, []string{sessions.PK(id) + " / TURN#0002", sessions.PK(id) + " / TURN#9001"}, rep.Writeback.Restored)
	require.Len(t, rep.Writeback.Conflicts, 1)
	assert.Equal(t, edited.String(), rep.Writeback.Conflicts[0].Key)
	got := x.scan("sessions-live")
	assert.Equal(t, "changed", got[edited]["role"].(*types.AttributeValueMemberS).Value, "mode missing never touches an existing item")

	// replace: now the session is exactly as in the exports.
	code, _, _ = x.recover("session", "--table", "sessions-live", "--session", id, "--at", stamp(x.sc.End), "--from", "s3://backups/exports", "--mode", "replace")
	require.Equal(t, exitOK, code)
	x.requireTable("sessions-live", x.sc.Want)
}

func TestSessionRefusals(t *testing.T) {
	x := newH(t, 1)
	x.createTable(sessions.DefaultTableName, exporttest.Session("gone", 1)[:1]...)
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing flags", []string{"session", "--table", "t"}, exitUsage, "--session, --at are required"},
		{"bad mode", []string{"session", "--table", "tt1", "--session", "a", "--at", stamp(start), "--mode", "merge"}, exitUsage, `--mode "merge": must be missing or replace`},
		{"key not id", []string{"session", "--table", "tt1", "--session", "SESSION#a", "--at", stamp(start)}, exitUsage, `--session "SESSION#a": give the bare id`},
		{"no table", []string{"session", "--table", "nope", "--session", "a", "--at", stamp(start)}, exitRefused, "--table nope: no such table"},
		{"production without --yes", []string{"session", "--table", sessions.DefaultTableName, "--session", "s000000", "--at", stamp(x.sc.End), "--from", "s3://backups/exports"}, exitRefused, "nothing written"},
		{"replace from stale exports", []string{"session", "--table", sessions.DefaultTableName, "--session", "s000000", "--at", stamp(x.sc.End.Add(time.Hour)), "--from", "s3://backups/exports", "--mode", "replace"},
			exitRefused, "the exports reach only 2026-11-03T03:00:00Z, not --at 2026-11-03T04:00:00Z: --mode replace would undo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := x.recover(c.args...)
			assert.Equal(t, c.code, code)
			assert.Contains(t, errs, c.msg)
		})
	}
	assert.Len(t, x.scan(sessions.DefaultTableName), 1, "the dry run wrote nothing")
}

// The PITR path against moto: the scratch table is created, used, deleted;
// a time outside the window is refused with the window's bounds. (moto's
// restore copies the current items, so the write-back logic itself is
// tested on prepared tables in internal/recovery/session.)
func TestSessionFromPITR(t *testing.T) {
	x := newH(t, 0)
	x.createTable("pitr-live", exporttest.Session("p1", 2)...)
	ctx := t.Context()
	out, err := x.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("pitr-live"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	require.NoError(t, err)
	latest := aws.ToTime(out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime)

	code, _, errs := x.recover("session", "--table", "pitr-live", "--session", "p1", "--at", stamp(latest.Add(-48*time.Hour)))
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, errs, "is outside the point-in-time recovery window of pitr-live")

	code, rep, _ := x.recover("session", "--table", "pitr-live", "--session", "p1", "--at", latest.UTC().Format(time.RFC3339Nano), "--json")
	require.Equal(t, exitOK, code)
	var r struct {
		Scratch string `json:"scratch_table"`
		At      int    `json:"items_at_restore_point"`
	}
	require.NoError(t, json.Unmarshal([]byte(rep), &r))
	assert.Equal(t, 4, r.At)
	gone, err := table.Describe(ctx, x.ddb, r.Scratch)
	require.NoError(t, err)
	assert.Nil(t, gone, "the scratch table %s is deleted at the end", r.Scratch)
}

func TestBackupRestoresAndReappliesSettings(t *testing.T) {
	x := newH(t, 0)
	ctx := t.Context()
	x.createTable("src", exporttest.Session("b1", 3)...)
	_, err := x.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("src"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)}})
	require.NoError(t, err)
	_, err = x.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("src"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: aws.Int32(7)}})
	require.NoError(t, err)
	d, err := x.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("src")})
	require.NoError(t, err)
	_, err = x.ddb.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: d.Table.TableArn, Tags: []types.Tag{{Key: aws.String("environment"), Value: aws.String("dev")}}})
	require.NoError(t, err)
	_, err = x.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("src"), DeletionProtectionEnabled: aws.Bool(true)})
	require.NoError(t, err)
	b, err := x.ddb.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("src"), BackupName: aws.String("before")})
	require.NoError(t, err)
	arn := aws.ToString(b.BackupDetails.BackupArn)

	code, _, _ := x.recover("backup", "--backup-arn", arn, "--to", "restored")
	require.Equal(t, exitOK, code)
	assert.Len(t, x.scan("restored"), 5)
	r, err := x.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("restored")})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(r.Table.StreamSpecification.StreamEnabled))
	assert.True(t, aws.ToBool(r.Table.DeletionProtectionEnabled))
	ttl, err := x.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("restored")})
	require.NoError(t, err)
	assert.Equal(t, "expires_at", aws.ToString(ttl.TimeToLiveDescription.AttributeName))
	cb, err := x.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("restored")})
	require.NoError(t, err)
	assert.Equal(t, types.PointInTimeRecoveryStatusEnabled, cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
	tags, err := table.Tags(ctx, x.ddb, aws.ToString(r.Table.TableArn))
	require.NoError(t, err)
	assert.Equal(t, "dev", tags["environment"])

	code, _, errs := x.recover("backup", "--backup-arn", arn, "--to", "src")
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, errs, "--to src already exists")
	code, _, errs = x.recover("backup", "--backup-arn", "arn:aws:s3:::bucket", "--to", "tgtx1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, `--backup-arn "arn:aws:s3:::bucket" is neither`)
	code, _, errs = x.recover("backup", "--backup-arn", "arn:aws:backup:us-east-1:123456789012:recovery-point:abc", "--to", "tgtx1")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errs, "--backup-vault and --iam-role-arn")
}

func TestDrill(t *testing.T) {
	x := newH(t, 10)
	code, out, _ := x.recover("drill", "--from", "s3://backups/exports", "--until", stamp(x.sc.Mid), "--json")
	require.Equal(t, exitOK, code)
	var rep struct {
		Passed   bool
		Count    int64
		Expected *int64  `json:"expected_count"`
		Scratch  string  `json:"scratch_table"`
		RTO      float64 `json:"rto_seconds"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.Passed)
	require.NotNil(t, rep.Expected)
	assert.Equal(t, *rep.Expected, rep.Count)
	assert.Positive(t, rep.RTO)
	gone, err := table.Describe(t.Context(), x.ddb, rep.Scratch)
	require.NoError(t, err)
	assert.Nil(t, gone, "the drill deletes its scratch table")

	x.createTable("drill-src", exporttest.Session("d1", 5)...)
	_, err = x.ddb.CreateBackup(t.Context(), &dynamodb.CreateBackupInput{TableName: aws.String("drill-src"), BackupName: aws.String("b")})
	require.NoError(t, err)
	code, _, _ = x.recover("drill", "--backup", "latest", "--table", "drill-src")
	assert.Equal(t, exitOK, code)
	code, _, _ = x.recover("drill", "--pitr", "--table", "drill-src")
	assert.Equal(t, exitOK, code)

	code, _, errs := x.recover("drill", "--pitr", "--from", "s3://backups/exports")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "give exactly one source")
}

// A drill whose restored table differs from its source beyond the
// tolerance fails with a non-zero exit: the source's items change between
// the restore and the verification (moto's restore copies them first).
func TestDrillMismatchFails(t *testing.T) {
	x := newH(t, 0)
	x.createTable("src2", exporttest.Session("m1", 8)...)
	srv := httptest.NewServer(&changeAfterRestore{x: x, target: mustURL(t, x.emu.URL())})
	t.Cleanup(srv.Close)
	x.endpoint = srv.URL
	code, _, errs := x.recover("drill", "--pitr", "--table", "src2", "--tolerance", "0")
	assert.Equal(t, exitMismatch, code)
	assert.Contains(t, errs, "failed verification")
}

// changeAfterRestore forwards to the emulator and, the first time the
// drill looks at its scratch table, edits every item of the source.
type changeAfterRestore struct {
	x      *h
	target *url.URL
	once   sync.Once
}

func (c *changeAfterRestore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.DescribeTable" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), "-drill-") {
			c.once.Do(func() {
				for _, it := range c.x.scan("src2") {
					_, err := c.x.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("src2"),
						Item: exporttest.With(it, "edited", &types.AttributeValueMemberBOOL{Value: true})})
					require.NoError(c.x.t, err)
				}
			})
		}
	}
	httputil.NewSingleHostReverseProxy(c.target).ServeHTTP(w, r)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
