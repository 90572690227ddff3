package streamrouter

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameRecords checks that decodeBatch read what aws-lambda-go read. The
// change keys are compared only with keys set: the two paths hash the same
// JSON alike, but aws-lambda-go reads some odd JSON differently (repeated
// keys merge, {"NULL": false} is a null, a null record is a zero one).
func sameRecords(t testing.TB, want []events.DynamoDBEventRecord, got []streamRecord, keys bool) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w := fromLambdaRecord(&want[i])
		g := got[i]
		require.Truef(t, w.created.Equal(g.created) || w.created.IsZero() && g.created.IsZero(),
			"record %d: created %v, want %v", i, g.created, w.created)
		w.created, g.created = time.Time{}, time.Time{}
		if !keys {
			w.change, g.change = changeKey{}, changeKey{}
		}
		require.Equalf(t, w, g, "record %d", i)
	}
}

// lambdaPayload is a batch as Lambda sends it, with every kind of record the
// router meets.
func lambdaPayload(t testing.TB) []byte {
	t.Helper()
	metaKeys := keys("SESSION#s-1", "META")
	recs := append(turnRecords(3, 2),
		record("MODIFY", "201", metaKeys, with(attrs{"status": s("closed"), "turn_count": n("4")}, metaKeys), with(attrs{"status": s("active")}, metaKeys)),
		record("REMOVE", "202", keys("SESSION#s-1", "SUMMARY#2"), nil, keys("SESSION#s-1", "SUMMARY#2")),
		record("INSERT", "203", keys("SESSION#s-1", "HANDOFF#x"), with(attrs{
			"agent_id": events.NewListAttribute([]events.DynamoDBAttributeValue{s("a")}), "reason": events.NewNullAttribute(),
			"blob": events.NewBinaryAttribute([]byte{0, 1}), "flags": events.NewStringSetAttribute([]string{"a", "b"}),
			"nested": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"x": n("1"), "y": events.NewBooleanAttribute(true)}),
		}, keys("SESSION#s-1", "HANDOFF#x")), nil),
		record("INSERT", "204", keys("SESSION#\u00e9\u2028\"\\", "TURN#\U0001F600"), nil, nil),
		record("INSERT", "205", attrs{"PK": n("7"), "SK": s("META")}, nil, nil),
	)
	recs[0].UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	payload, err := json.Marshal(events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	return payload
}

func TestDecodeBatchMatchesLambdaEvents(t *testing.T) {
	payload := lambdaPayload(t)
	var want events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(payload, &want))
	got, err := decodeBatch(payload)
	require.NoError(t, err)
	sameRecords(t, want.Records, got, true)
	assert.Equal(t, attr{attrNumber, "4"}, got[6].newImage[attrTurnCount])
	assert.Equal(t, attr{kind: attrOther}, got[8].newImage[attrAgentID], "a list where a string belongs")
}

func TestDecodeBatchEdges(t *testing.T) {
	ok := func(payload string) []streamRecord {
		t.Helper()
		recs, err := decodeBatch([]byte(payload))
		require.NoError(t, err, payload)
		return recs
	}
	// Keys of struct fields match as encoding/json matches them, escapes included.
	recs := ok(`{"records":[{"EVENTID":"e1","\u0065ventName":"INSERT","DynamoDB":{"sequencenumber":"1","Keys":{"PK":{"S":"SESSION#a\u00e9\ud83d\ude00"}}}}]}`)
	require.Len(t, recs, 1)
	assert.Equal(t, "e1", recs[0].eventID)
	assert.Equal(t, "INSERT", recs[0].eventName)
	assert.Equal(t, "1", recs[0].sequenceNumber)
	assert.Equal(t, attr{attrString, "SESSION#aé😀"}, recs[0].pk)
	// Attribute names and type labels are exact.
	recs = ok(`{"Records":[{"dynamodb":{"Keys":{"pk":{"S":"x"},"SK":{"s":"y"}}}}]}`)
	assert.Equal(t, attr{}, recs[0].pk)
	assert.Equal(t, attr{kind: attrOther}, recs[0].sk)
	// Attribute values the router cannot use are attrOther, never an error.
	for payload, want := range map[string]attr{
		`{"S":5}`:              {kind: attrOther},
		`{"S":"a","N":"1"}`:    {kind: attrOther},
		`{}`:                   {kind: attrOther},
		`null`:                 {kind: attrOther},
		`"x"`:                  {kind: attrOther},
		`{"X":"new type"}`:     {kind: attrOther},
		`{"NULL":true}`:        {kind: attrNull},
		`{"N":"1e400"}`:        {attrNumber, "1e400"},
		`{"S":"a","S":"b"}`:    {attrString, "b"},
		"{\"S\":\"bad \xff\"}": {attrString, "bad \ufffd"},
		`{"S":"\ud800 lone"}`:  {attrString, "\ufffd lone"},
	} {
		recs := ok(`{"Records":[{"dynamodb":{"NewImage":{"role":` + payload + `}}}]}`)
		assert.Equal(t, want, recs[0].newImage[attrRole], payload)
	}
	// An unknown type in an attribute the router does not read is skipped
	// (aws-lambda-go fails the whole batch on it).
	recs = ok(`{"Records":[{"eventID":"e","dynamodb":{"NewImage":{"text":{"X":[1,{"a":null}]}}}}]}`)
	assert.Equal(t, "e", recs[0].eventID)
	// Creation time as events.SecondsEpochTime reads it.
	recs = ok(`{"Records":[{"dynamodb":{"ApproximateCreationDateTime":1774447207.25}},{"dynamodb":{"ApproximateCreationDateTime":null}}]}`)
	assert.Equal(t, time.Unix(1774447207, 250e6), recs[0].created)
	assert.LessOrEqual(t, recs[1].created.Unix(), int64(0))
	assert.Empty(t, ok(`null`))
	assert.Empty(t, ok(` {"Records":[]} `))

	for _, bad := range []string{
		``, `[]`, `{"Records":{}}`, `{"Records":[{"eventID":5}]}`, `{"Records":[{"dynamodb":{"SizeBytes":1.5}}]}`,
		`{"Records":[{"dynamodb":{"ApproximateCreationDateTime":"1"}}]}`, `{"Records":[{"dynamodb":{"ApproximateCreationDateTime":1e400}}]}`,
		`{"Records":[]} x`, `{"Records":[],}`, `{"Records":[{"eventID":"a\x01"}]}`, `{"Records":[{"eventID":"\q"}]}`,
		`{"Records":[{"eventID":"\u12"}]}`, `{"Records":[01]}`, `{"Records":[-]}`, `{"Records":[1.]}`, `{"Records":[tru]}`,
		`{"Records":[{"x":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}]}`,
	} {
		_, err := decodeBatch([]byte(bad))
		assert.Error(t, err, "%.80q", bad)
		assert.Error(t, json.Unmarshal([]byte(bad), &events.DynamoDBEvent{}), "encoding/json refuses %.80q too", bad)
	}
}

// FuzzDecodeMatchesLambdaEvents: wherever encoding/json decodes a payload
// into aws-lambda-go's events.DynamoDBEvent, decodeBatch decodes it too and
// reads the same fields; elsewhere it must not panic.
func FuzzDecodeMatchesLambdaEvents(f *testing.F) {
	f.Add(lambdaPayload(f))
	for _, seed := range []string{
		`{"Records":[{"eventID":"a","Records":1}],"Records":[{"eventName":"INSERT"},{"eventID":"b"}]}`,
		`{"Records":[{"dynamodb":{"Keys":{"PK":{"S":"SESSION#1"}},"Keys":{"SK":{"S":"META"}},"NewImage":{"status":{"S":"a"}},"NewImage":null}}]}`,
		`{"Records":[null,{"eventID":"x","eventID":null}]}`,
		`{"Records":[{"dynamodb":{"ApproximateCreationDateTime":-1.5e9,"SizeBytes":-0,"SequenceNumber":"\u00001"}}]}`,
		`{"Records":[{"dynamodb":{"NewImage":{"turn_count":{"N":"NaN"},"token_count":{"NULL":false},"role":{"S":"\ud83d\ude00\udc00"}}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		recs, err := decodeBatch(payload)
		var want events.DynamoDBEvent
		if json.Unmarshal(payload, &want) != nil {
			return
		}
		require.NoError(t, err, "encoding/json decodes %q", payload)
		sameRecords(t, want.Records, recs, false)
		// What aws-lambda-go read, written as Lambda would write it: now
		// the change keys agree too.
		again, err := json.Marshal(want)
		require.NoError(t, err)
		recs, err = decodeBatch(again)
		require.NoError(t, err)
		for i := range want.Records {
			if want.Records[i].EventName == "" && want.Records[i].Change.Keys == nil && recs[i].eventID == "" {
				continue // a null record: decodeBatch leaves it zero
			}
			require.Equalf(t, changeKeyOf(&want.Records[i]), recs[i].change, "record %d of %s", i, again)
		}
	})
}
