package streamrouter

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

type attrs = map[string]events.DynamoDBAttributeValue

var (
	created  = time.Date(2026, 3, 25, 14, 0, 7, 250e6, time.UTC)
	received = time.Date(2026, 3, 25, 15, 0, 0, 0, time.UTC)
)

func s(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
func n(v string) events.DynamoDBAttributeValue { return events.NewNumberAttribute(v) }

func keys(pk, sk string) attrs { return attrs{"PK": s(pk), "SK": s(sk)} }

// record builds a stream record; images may be nil.
func record(name, seq string, k, newImage, oldImage attrs) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID: "ev-" + seq, EventName: name, EventSource: "aws:dynamodb", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: created},
			Keys:                        k, NewImage: newImage, OldImage: oldImage,
			SequenceNumber: seq, SizeBytes: 321, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

func with(img attrs, k attrs) attrs {
	out := attrs{}
	for name, v := range k {
		out[name] = v
	}
	for name, v := range img {
		out[name] = v
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// base is the event part every kind shares, for record(…, "100", keys("SESSION#s-1", sk), …).
func base(eventType, sk, itemType string) analytics.Event {
	return analytics.Event{
		EventID: "ev-100", EventType: eventType, SessionID: "s-1", SortKey: sk, ItemType: itemType,
		SizeBytes: 321, Timestamp: created.Unix(), SequenceNumber: "100", EventTimeMS: created.UnixMilli(),
	}
}

func TestTransform(t *testing.T) {
	turnKeys := keys("SESSION#s-1", "TURN#0002")
	metaKeys := keys("SESSION#s-1", "META")
	turn := with(attrs{"role": s("assistant"), "token_count": n("117"), "response_id": s("r-9"), "text": s("Volume 3 ships Friday")}, turnKeys)
	metaOld := with(attrs{"status": s("active"), "customer_id": s("c-42"), "turn_count": n("4")}, metaKeys)
	metaNew := with(attrs{"status": s("handed_off"), "customer_id": s("c-42"), "turn_count": n("5")}, metaKeys)
	summaryKeys := keys("SESSION#s-1", "SUMMARY#3")
	handoffKeys := keys("SESSION#s-1", "HANDOFF#2026-03-25T14:00:00Z")
	handoff := with(attrs{"agent_id": s("agent-7"), "reason": s("refund")}, handoffKeys)

	cases := []struct {
		name    string
		rec     events.DynamoDBEventRecord
		want    func() analytics.Event
		dropped Dropped
	}{
		{"turn insert", record("INSERT", "100", turnKeys, turn, nil), func() analytics.Event {
			e := base("INSERT", "TURN#0002", "turn")
			e.Role, e.TokenCount, e.ResponseID = ptr("assistant"), ptr(117.0), ptr("r-9")
			return e
		}, nil},
		{"meta insert has no old status", record("INSERT", "100", metaKeys, metaOld, nil), func() analytics.Event {
			e := base("INSERT", "META", "meta")
			e.Status, e.CustomerID, e.TurnCount = ptr("active"), ptr("c-42"), ptr(4.0)
			return e
		}, nil},
		{"meta modify carries the old status", record("MODIFY", "100", metaKeys, metaNew, metaOld), func() analytics.Event {
			e := base("MODIFY", "META", "meta")
			e.Status, e.OldStatus, e.CustomerID, e.TurnCount = ptr("handed_off"), ptr("active"), ptr("c-42"), ptr(5.0)
			return e
		}, nil},
		{"meta remove carries the old image", record("REMOVE", "100", metaKeys, nil, metaOld), func() analytics.Event {
			e := base("REMOVE", "META", "meta")
			e.Status, e.OldStatus, e.CustomerID, e.TurnCount = ptr("active"), ptr("active"), ptr("c-42"), ptr(4.0)
			return e
		}, nil},
		{"turn remove carries the old image", record("REMOVE", "100", turnKeys, nil, turn), func() analytics.Event {
			e := base("REMOVE", "TURN#0002", "turn")
			e.Role, e.TokenCount, e.ResponseID = ptr("assistant"), ptr(117.0), ptr("r-9")
			return e
		}, nil},
		{"summary", record("INSERT", "100", summaryKeys, with(attrs{"summary": s("asked about volume 3")}, summaryKeys), nil), func() analytics.Event {
			e := base("INSERT", "SUMMARY#3", "summary")
			e.SummaryNumber = ptr("3")
			return e
		}, nil},
		{"summary remove", record("REMOVE", "100", summaryKeys, nil, summaryKeys), func() analytics.Event {
			e := base("REMOVE", "SUMMARY#3", "summary")
			e.SummaryNumber = ptr("3")
			return e
		}, nil},
		{"handoff", record("INSERT", "100", handoffKeys, handoff, nil), func() analytics.Event {
			e := base("INSERT", "HANDOFF#2026-03-25T14:00:00Z", "handoff")
			e.AgentID, e.Reason = ptr("agent-7"), ptr("refund")
			return e
		}, nil},
		{"keys-only image: attributes absent, not zero", record("INSERT", "100", turnKeys, turnKeys, nil), func() analytics.Event {
			return base("INSERT", "TURN#0002", "turn")
		}, nil},
		{"NULL attributes are absent", record("INSERT", "100", turnKeys, with(attrs{"role": events.NewNullAttribute(), "token_count": events.NewNullAttribute()}, turnKeys), nil), func() analytics.Event {
			return base("INSERT", "TURN#0002", "turn")
		}, nil},
		{"numbers: decimals and exponents", record("INSERT", "100", turnKeys, with(attrs{"token_count": n("1.5E2")}, turnKeys), nil), func() analytics.Event {
			e := base("INSERT", "TURN#0002", "turn")
			e.TokenCount = ptr(150.0)
			return e
		}, nil},
		{"numbers: 38 digits round to a double", record("INSERT", "100", metaKeys, with(attrs{"turn_count": n("12345678901234567890123456789012345678")}, metaKeys), nil), func() analytics.Event {
			e := base("INSERT", "META", "meta")
			e.TurnCount = ptr(1.2345678901234568e37)
			return e
		}, nil},
		{"numbers: zero is a value", record("INSERT", "100", turnKeys, with(attrs{"token_count": n("0")}, turnKeys), nil), func() analytics.Event {
			e := base("INSERT", "TURN#0002", "turn")
			e.TokenCount = ptr(0.0)
			return e
		}, nil},
		{"numbers: not a number is dropped", record("INSERT", "100", turnKeys, with(attrs{"token_count": n("lots"), "role": s("user")}, turnKeys), nil), func() analytics.Event {
			e := base("INSERT", "TURN#0002", "turn")
			e.Role = ptr("user")
			return e
		}, Dropped{"token_count"}},
		{"numbers: infinity and NaN are dropped", record("INSERT", "100", metaKeys, with(attrs{"turn_count": n("Infinity")}, metaKeys), with(attrs{"status": s("x")}, metaKeys)), func() analytics.Event {
			e := base("INSERT", "META", "meta")
			e.OldStatus = ptr("x")
			return e
		}, Dropped{"turn_count"}},
		{"wrong attribute types are dropped", record("INSERT", "100", turnKeys, with(attrs{"token_count": s("17"), "role": n("1")}, turnKeys), nil), func() analytics.Event {
			return base("INSERT", "TURN#0002", "turn")
		}, Dropped{"role", "token_count"}},
		{"missing creation time: received time, noted", func() events.DynamoDBEventRecord {
			r := record("INSERT", "100", summaryKeys, nil, nil)
			r.Change.ApproximateCreationDateTime = events.SecondsEpochTime{}
			return r
		}(), func() analytics.Event {
			e := base("INSERT", "SUMMARY#3", "summary")
			e.SummaryNumber = ptr("3")
			e.Timestamp, e.EventTimeMS = received.Unix(), received.UnixMilli()
			return e
		}, Dropped{CreationTimeAttribute}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped, err := Transform(&tc.rec, received)
			require.NoError(t, err)
			want := tc.want()
			// The change key has tests of its own (changekey_test.go); here
			// it must be the record's, in hex.
			key := changeKeyOf(&tc.rec)
			want.ChangeID, want.SourceRegion = hex.EncodeToString(key[:]), "us-east-1"
			assert.Equal(t, want, got)
			assert.ElementsMatch(t, tc.dropped, dropped)
		})
	}
}

func TestTransformSkips(t *testing.T) {
	ok := keys("SESSION#s-1", "META")
	cases := []struct {
		name   string
		rec    events.DynamoDBEventRecord
		reason SkipReason
	}{
		{"unknown sort key", record("INSERT", "1", keys("SESSION#s-1", "FEEDBACK#1"), nil, nil), SkipUnknownSortKey},
		{"lower-case kind", record("INSERT", "1", keys("SESSION#s-1", "turn#1"), nil, nil), SkipUnknownSortKey},
		{"no PK", record("INSERT", "1", attrs{"SK": s("META")}, nil, nil), SkipMissingKey},
		{"no SK", record("INSERT", "1", attrs{"PK": s("SESSION#s-1")}, nil, nil), SkipMissingKey},
		{"no keys at all", record("INSERT", "1", nil, nil, nil), SkipMissingKey},
		{"numeric PK", record("INSERT", "1", attrs{"PK": n("7"), "SK": s("META")}, nil, nil), SkipMalformedKey},
		{"binary SK", record("INSERT", "1", attrs{"PK": s("SESSION#s-1"), "SK": events.NewBinaryAttribute([]byte("META"))}, nil, nil), SkipMalformedKey},
		{"empty PK", record("INSERT", "1", attrs{"PK": s(""), "SK": s("META")}, nil, nil), SkipMalformedKey},
		{"PK without SESSION#", record("INSERT", "1", keys("USER#u-1", "META"), nil, nil), SkipMalformedKey},
		{"PK with an empty session id", record("INSERT", "1", keys("SESSION#", "META"), nil, nil), SkipMalformedKey},
		{"unknown event name", record("UPSERT", "1", ok, nil, nil), SkipMalformedRecord},
		{"no sequence number", record("INSERT", "", ok, nil, nil), SkipMalformedRecord},
		{"no event id", func() events.DynamoDBEventRecord { r := record("INSERT", "1", ok, nil, nil); r.EventID = ""; return r }(), SkipMalformedRecord},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Transform(&tc.rec, received)
			var skipErr *SkipError
			require.True(t, errors.As(err, &skipErr), "want a *SkipError, got %v", err)
			assert.Equal(t, tc.reason, skipErr.Reason)
			assert.Contains(t, err.Error(), string(tc.reason))
		})
	}
}
