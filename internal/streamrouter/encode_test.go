package streamrouter

import (
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// fromAnalytics is the inverse of event.analytics, written field by field.
// A field added to analytics.Event and not here makes
// TestAppendEventMatchesMarshalLine fail, because fullEvent sets it and
// MarshalLine writes it.
func fromAnalytics(e analytics.Event) event {
	s := func(p *string) optString {
		if p == nil {
			return optString{}
		}
		return optString{*p, true}
	}
	n := func(p *float64) optNumber {
		if p == nil {
			return optNumber{}
		}
		return optNumber{*p, true}
	}
	return event{
		eventID: e.EventID, eventType: e.EventType, sessionID: e.SessionID, sortKey: e.SortKey, itemType: e.ItemType,
		role: s(e.Role), status: s(e.Status), oldStatus: s(e.OldStatus), customerID: s(e.CustomerID),
		turnCount: n(e.TurnCount), tokenCount: n(e.TokenCount),
		agentID: s(e.AgentID), reason: s(e.Reason), responseID: s(e.ResponseID),
		sizeBytes: e.SizeBytes, timestamp: e.Timestamp,
		summaryNumber: s(e.SummaryNumber), sequenceNumber: e.SequenceNumber, eventTimeMS: e.EventTimeMS,
		changeKey: changeKeyFromHex(e.ChangeID), sourceRegion: e.SourceRegion,
	}
}

// changeKeyFromHex reads a ChangeID; anything but 32 hex digits is a zero key.
func changeKeyFromHex(id string) changeKey {
	var k changeKey
	if b, err := hex.DecodeString(id); err == nil && len(b) == len(k) {
		copy(k[:], b)
	}
	return k
}

// fullEvent sets every field of analytics.Event, found by reflection, to
// the given string, float or integer.
func fullEvent(t testing.TB, str string, num float64, integer int64) analytics.Event {
	t.Helper()
	var e analytics.Event
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(str)
		case reflect.Int64:
			f.SetInt(integer)
		case reflect.Pointer:
			switch f.Type().Elem().Kind() {
			case reflect.String:
				f.Set(reflect.ValueOf(&str))
			case reflect.Float64:
				f.Set(reflect.ValueOf(&num))
			default:
				t.Fatalf("field %s: %s is not handled here", v.Type().Field(i).Name, f.Type())
			}
		default:
			t.Fatalf("field %s: %s is not handled here", v.Type().Field(i).Name, f.Type())
		}
	}
	e.ChangeID = "00112233445566778899aabbccddeeff" // a change key is always 32 hex digits
	return e
}

func requireSameLine(t testing.TB, e analytics.Event) {
	t.Helper()
	want, err := analytics.MarshalLine(&e)
	require.NoError(t, err)
	ev := fromAnalytics(e)
	require.Equal(t, string(want), string(appendEvent(nil, &ev)))
	require.Equal(t, e, ev.analytics(), "event and analytics.Event convert both ways")
}

// appendEvent writes exactly what analytics.MarshalLine (encoding/json)
// writes, for every field, every kind of string and every float format.
func TestAppendEventMatchesMarshalLine(t *testing.T) {
	strs := []string{"", "plain", `quote " backslash \ slash /`, "\x00\x01\x07\x1f\x7f", "\b\f\n\r\t",
		"<script>&amp;</script>", "\u2028 and \u2029", "héllo 日本 🎉", "\xff\xfe invalid", "cut \xe6\x97", "\ufffd", "\U0010FFFF"}
	nums := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-7, 1e-6, 9.99e-7, 123456789.125, 1e20, 1e21, -1e21,
		1.2345678901234568e37, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e-10}
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64}
	for i, str := range strs {
		requireSameLine(t, fullEvent(t, str, nums[i%len(nums)], ints[i%len(ints)]))
	}
	for i, num := range nums {
		requireSameLine(t, fullEvent(t, strs[i%len(strs)], num, ints[i%len(ints)]))
	}
	// Absent attributes: every optional field left out.
	e := fullEvent(t, "x", 1, 1)
	e.Role, e.Status, e.OldStatus, e.CustomerID, e.TurnCount, e.TokenCount = nil, nil, nil, nil, nil, nil
	e.AgentID, e.Reason, e.ResponseID, e.SummaryNumber = nil, nil, nil, nil
	requireSameLine(t, e)
	requireSameLine(t, analytics.Event{ChangeID: strings.Repeat("0", 32)})
}

// FuzzAppendEvent compares appendEvent with analytics.MarshalLine on
// arbitrary strings and numbers.
func FuzzAppendEvent(f *testing.F) {
	f.Add("s-1", "TURN#1", "user", 12.5, int64(1774447207))
	f.Add("\u2028\x00\"\\", "\xff", "<>&", 1e21, int64(-1))
	f.Add("", "", "", 1e-7, int64(0))
	f.Fuzz(func(t *testing.T, a, b, c string, num float64, n int64) {
		if math.IsNaN(num) || math.IsInf(num, 0) {
			return // transform drops these; encoding/json refuses them
		}
		e := fullEvent(t, a, num, n)
		e.SessionID, e.Reason, e.SequenceNumber = b, &c, c
		requireSameLine(t, e)
	})
}

func TestAppendFloatFormats(t *testing.T) {
	for f, want := range map[float64]string{12: "12", 140.5: "140.5", 1e-7: "1e-7", 1e21: "1e+21", 1e20: "100000000000000000000", 0.000001: "0.000001"} {
		assert.Equal(t, want, string(appendFloat(nil, f)))
	}
}

// The hot path allocates nothing per event: transform reads substrings and
// appendEvent writes into the batch's buffer.
func TestTransformAndEncodeDoNotAllocate(t *testing.T) {
	recs := append(turnRecords(1, 1), record("MODIFY", "7", keys("SESSION#s-1", "META"),
		with(attrs{"status": s("closed \u2028 \"x\""), "turn_count": n("1e-7"), "customer_id": s("c-1")}, keys("SESSION#s-1", "META")),
		with(attrs{"status": s("active")}, keys("SESSION#s-1", "META"))))
	buf := make([]byte, 0, 4096)
	for i := range recs {
		r := fromLambdaRecord(&recs[i])
		var ev event
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := transform(&r, received, &ev); err != nil {
				t.Fatal(err)
			}
			buf = appendEvent(buf[:0], &ev)
		})
		assert.Zero(t, allocs, "record %d", i)
	}
}
