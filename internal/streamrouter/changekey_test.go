package streamrouter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyOfJSON decodes one stream record, written as Lambda would hand it
// over, and returns its change key.
func keyOfJSON(t *testing.T, record string) changeKey {
	t.Helper()
	recs, err := decodeBatch([]byte(`{"Records":[` + record + `]}`))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	return recs[0].change
}

// usEast is a MODIFY of a META item as the us-east-1 stream carries it.
const usEast = `{"eventID":"e-east-1","eventName":"MODIFY","awsRegion":"us-east-1","dynamodb":{
	"ApproximateCreationDateTime":1774447207,"SequenceNumber":"100","SizeBytes":300,
	"Keys":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"META"}},
	"OldImage":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"META"},"status":{"S":"active"},"turn_count":{"N":"3"},
		"tags":{"SS":["a","b","c"]},"scores":{"NS":["1","2.5"]},"raw":{"BS":["AAE=","/w=="]},
		"prefs":{"M":{"lang":{"S":"ja"},"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"adult":{"BOOL":false}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="}},
	"NewImage":{"PK":{"S":"SESSION#s-1"},"SK":{"S":"META"},"status":{"S":"handoff"},"turn_count":{"N":"4"},
		"tags":{"SS":["a","b","c"]},"scores":{"NS":["1","2.5"]},"raw":{"BS":["AAE=","/w=="]},
		"prefs":{"M":{"lang":{"S":"ja"},"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"adult":{"BOOL":false}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="},"title":{"S":"Café"}}}}`

// usWest is the same change as the us-west-2 replica's stream carries it:
// another event id, sequence number, time, size and region, members and set
// elements in another order, other white space, and an escaped character.
const usWest = `{"awsRegion":"us-west-2","eventName":"MODIFY","eventID":"e-west-9","dynamodb":{
	"SizeBytes":310,"SequenceNumber":"98765","ApproximateCreationDateTime":1774447208,
	"NewImage":{"title":{"S":"Caf\u00e9"},"blob":{"B":"3q2+7w=="},"note":{"NULL":true},
		"prefs":{"M":{"adult":{"BOOL":false},"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"lang":{"S":"ja"}}},
		"raw":{"BS":["/w==","AAE="]},"scores":{"NS":["2.5","1"]},"tags":{"SS":["c","a","b"]},
		"turn_count":{"N":"4"},"status":{"S":"handoff"},"SK":{"S":"META"},"PK":{"S":"SESSION#s-1"}},
	"Keys":{"SK":{"S":"META"},"PK":{"S":"SESSION#s-1"}},
	"OldImage":{"SK":{"S":"META"},"PK":{"S":"SESSION#s-1"},"turn_count":{"N":"3"},"status":{"S":"active"},
		"tags":{"SS":["b","c","a"]},"scores":{"NS":["2.5","1"]},"raw":{"BS":["AAE=","/w=="]},
		"prefs":{"M":{"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"lang":{"S":"ja"},"adult":{"BOOL":false}}},
		"blob":{"B":"3q2+7w=="},"note":{"NULL":true}}}}`

func TestChangeKeyIsTheSameInEveryRegion(t *testing.T) {
	east, west := keyOfJSON(t, usEast), keyOfJSON(t, usWest)
	assert.Equal(t, east, west)
	assert.NotEqual(t, changeKey{}, east)

	// And the event says which stream it came from.
	recs, err := decodeBatch([]byte(`{"Records":[` + usWest + `]}`))
	require.NoError(t, err)
	var ev event
	_, err = transform(&recs[0], received, &ev)
	require.NoError(t, err)
	line := appendEvent(nil, &ev)
	assert.Contains(t, string(line), `"source_region":"us-west-2"`)
	assert.Contains(t, string(line), `"change_id":"`+ev.analytics().ChangeID+`"`)
	assert.Len(t, ev.analytics().ChangeID, 32)
}

func TestChangeKeyTellsChangesApart(t *testing.T) {
	east := keyOfJSON(t, usEast)
	for name, edit := range map[string]func(string) string{
		"another event name":           func(s string) string { return strings.Replace(s, `"MODIFY"`, `"INSERT"`, 1) },
		"another item":                 func(s string) string { return strings.ReplaceAll(s, "SESSION#s-1", "SESSION#s-2") },
		"an attribute analytics skips": func(s string) string { return strings.Replace(s, `"Café"`, `"Cafe"`, 1) },
		"a list in another order": func(s string) string {
			return strings.Replace(s, `[{"S":"shonen"},{"S":"seinen"}]}`, `[{"S":"seinen"},{"S":"shonen"}]}`, 1)
		},
		"a number where a string was": func(s string) string {
			return strings.Replace(s, `"turn_count":{"N":"4"}`, `"turn_count":{"S":"4"}`, 1)
		},
		"old and new swapped": func(s string) string {
			s = strings.Replace(s, `"OldImage"`, `"Tmp"`, 1)
			s = strings.Replace(s, `"NewImage"`, `"OldImage"`, 1)
			return strings.Replace(s, `"Tmp"`, `"NewImage"`, 1)
		},
		"no old image": func(s string) string { return strings.Replace(s, `"OldImage"`, `"Ignored"`, 1) },
		"a set element less": func(s string) string {
			return strings.Replace(s, `"tags":{"SS":["a","b","c"]},"scores":{"NS":["1","2.5"]},"raw":{"BS":["AAE=","/w=="]},
		"prefs":{"M":{"lang":{"S":"ja"},"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"adult":{"BOOL":false}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="},"title"`, `"tags":{"SS":["a","b"]},"scores":{"NS":["1","2.5"]},"raw":{"BS":["AAE=","/w=="]},
		"prefs":{"M":{"lang":{"S":"ja"},"genres":{"L":[{"S":"shonen"},{"S":"seinen"}]},"adult":{"BOOL":false}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="},"title"`, 1)
		},
		"a nested value": func(s string) string {
			return strings.Replace(s, `"adult":{"BOOL":false}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="},"title"`, `"adult":{"BOOL":true}}},
		"note":{"NULL":true},"blob":{"B":"3q2+7w=="},"title"`, 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			changed := edit(usEast)
			require.NotEqual(t, usEast, changed, "the edit must change the record")
			assert.NotEqual(t, east, keyOfJSON(t, changed))
		})
	}
}

// Both paths, the router's decoder and aws-lambda-go's types, give the same
// key for every DynamoDB type.
func TestChangeKeyPathsAgree(t *testing.T) {
	for _, raw := range []string{usEast, usWest} {
		var rec events.DynamoDBEventRecord
		require.NoError(t, json.Unmarshal([]byte(raw), &rec))
		assert.Equal(t, keyOfJSON(t, raw), changeKeyOf(&rec))
	}
}

// Reading the key must leave the decoder where it was: the records after it
// decode as before.
func TestChangeKeyKeepsTheDecoderInPlace(t *testing.T) {
	recs, err := decodeBatch([]byte(`{"Records":[` + usEast + `,` + usWest + `]}`))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "e-west-9", recs[1].eventID)
	assert.Equal(t, recs[0].change, recs[1].change)
	assert.Equal(t, attr{attrString, "handoff"}, recs[1].newImage[attrStatus])
}
