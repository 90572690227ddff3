package exports

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func h(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

func full(id string, at int) *Export {
	return &Export{ID: id, Time: h(at), Summary: Summary{TableArn: "arn:t", ExportType: FullExport}}
}

func inc(id string, from, to int) *Export {
	return &Export{ID: id, Incremental: true, From: h(from), To: h(to), Summary: Summary{TableArn: "arn:t", ExportType: IncrementalExport, OutputView: ViewNewAndOldImages}}
}

func ids(es []*Export) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestSelectChain(t *testing.T) {
	all := []*Export{full("f0", 0), inc("a", 0, 24), inc("b", 24, 48), full("f1", 48), inc("c", 48, 72), inc("d", 72, 96)}
	for _, c := range []struct {
		until int
		want  []string
		asOf  int
	}{
		{0, []string{"f0"}, 0},
		{30, []string{"f0", "a"}, 24}, // b ends after until: the chain stops at a's end
		{48, []string{"f1"}, 48},      // the newest full at or before until
		{96, []string{"f1", "c", "d"}, 96},
		{100, []string{"f1", "c", "d"}, 96},
	} {
		c := c
		chain, err := SelectChain(all, h(c.until))
		require.NoError(t, err, "until %d", c.until)
		assert.Equal(t, c.want, ids(chain.Exports()), "until %d", c.until)
		assert.Equal(t, h(c.asOf), chain.AsOf, "until %d", c.until)
	}
}

func TestSelectChainOverlapsAndRetries(t *testing.T) {
	// b2 retried b's window; e overlaps d: both safe, the retry is skipped.
	all := []*Export{full("f", 0), inc("a", 0, 24), inc("b", 24, 48), inc("b2", 24, 48), inc("d", 48, 72), inc("e", 60, 80)}
	chain, err := SelectChain(all, h(80))
	require.NoError(t, err)
	assert.Equal(t, []string{"f", "a", "b", "d", "e"}, ids(chain.Exports()))
	assert.Equal(t, []string{"b2"}, ids(chain.Skipped))
	// An incremental starting before the full export still counts from it.
	chain, err = SelectChain([]*Export{full("f", 10), inc("a", 0, 24)}, h(24))
	require.NoError(t, err)
	assert.Equal(t, []string{"f", "a"}, ids(chain.Exports()))
}

func TestSelectChainRefusesGaps(t *testing.T) {
	var gap *GapError
	_, err := SelectChain([]*Export{full("f", 0), inc("a", 0, 24), inc("c", 25, 48)}, h(48))
	require.True(t, errors.As(err, &gap))
	assert.Equal(t, h(24), gap.From)
	assert.Equal(t, h(25), gap.To)
	assert.Equal(t, "c", gap.Next.ID)
	// The export after the gap ends after until: the gap still shows.
	_, err = SelectChain([]*Export{full("f", 0), inc("a", 0, 24), inc("c", 25, 48)}, h(30))
	require.True(t, errors.As(err, &gap), "%v", err)
	assert.Equal(t, h(24), gap.From)
	// No gap when another export covers the straddle.
	_, err = SelectChain([]*Export{full("f", 0), inc("a", 0, 24), inc("b", 20, 48), inc("c", 25, 48)}, h(30))
	require.NoError(t, err)
}

func TestSelectChainRefusals(t *testing.T) {
	_, err := SelectChain([]*Export{inc("a", 0, 24)}, h(24))
	assert.ErrorContains(t, err, "no full export found")
	_, err = SelectChain([]*Export{full("f", 10)}, h(5))
	assert.ErrorContains(t, err, "no full export at or before 2026-11-01T05:00:00Z: the oldest is full export f (2026-11-01T10:00:00Z)")
	other := inc("x", 0, 24)
	other.TableArn = "arn:other"
	_, err = SelectChain([]*Export{full("f", 0), other}, h(24))
	assert.ErrorContains(t, err, "one chain holds one table's exports")
}

func TestParseLine(t *testing.T) {
	c, err := ParseLine([]byte(`{"Item":{"PK":{"S":"SESSION#a"},"SK":{"S":"META"},"n":{"N":"1"}}}`), false)
	require.NoError(t, err)
	assert.Equal(t, Put, c.Op)
	assert.Equal(t, "SESSION#a", c.Key.PK)

	keys := `"Keys":{"PK":{"S":"SESSION#a"},"SK":{"S":"TURN#1"}}`
	img := `{"PK":{"S":"SESSION#a"},"SK":{"S":"TURN#1"},"role":{"S":"user"}}`
	for _, tc := range []struct {
		line             string
		op               Op
		inserted, hadOld bool
	}{
		{`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},` + keys + `,"NewImage":` + img + `}`, Put, true, false},
		{`{` + keys + `,"NewImage":` + img + `,"OldImage":` + img + `}`, Put, false, true},
		{`{` + keys + `,"OldImage":` + img + `}`, Delete, false, true},
		{`{` + keys + `}`, Delete, false, false}, // NEW_IMAGE delete
	} {
		c, err := ParseLine([]byte(tc.line), true)
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.op, c.Op, tc.line)
		assert.Equal(t, tc.inserted, c.Inserted, tc.line)
		assert.Equal(t, tc.hadOld, c.HadOld, tc.line)
	}
	_, err = ParseLine([]byte(`{"Keys":{"PK":{"S":"SESSION#a"},"SK":{"S":"x"}},"NewImage":`+img+`}`), true)
	assert.ErrorContains(t, err, "does not match Keys")
	_, err = ParseLine([]byte(`{"Item":{"PK":{"Q":"x"}}}`), false)
	assert.ErrorContains(t, err, `unknown type "Q"`)
}

func TestLocations(t *testing.T) {
	l, err := ParseLocation("s3://b/some/prefix/")
	require.NoError(t, err)
	assert.Equal(t, Location{Bucket: "b", Prefix: "some/prefix"}, l)
	_, err = ParseLocation("b/prefix")
	assert.ErrorContains(t, err, "is not s3://BUCKET/PREFIX")
	l, id, err := ParseExportLocation("s3://b/p/AWSDynamoDB/0123-abc")
	require.NoError(t, err)
	assert.Equal(t, Location{Bucket: "b", Prefix: "p"}, l)
	assert.Equal(t, "0123-abc", id)
	l, _, err = ParseExportLocation("s3://b/AWSDynamoDB/0123-abc/")
	require.NoError(t, err)
	assert.Equal(t, "", l.Prefix)
	_, _, err = ParseExportLocation("s3://b/p/AWSDynamoDB/data")
	assert.Error(t, err)
	e := &Export{ID: "x", Dir: "p/AWSDynamoDB/x/"}
	assert.Equal(t, "p/AWSDynamoDB/data/f.json.gz", e.resolve("p/AWSDynamoDB/data/f.json.gz"))
	assert.Equal(t, "p/AWSDynamoDB/data/f.json.gz", e.resolve("AWSDynamoDB/data/f.json.gz"), "a manifest key without the prefix")
}
