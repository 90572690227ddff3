package analytics

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference design's Athena table, in its order, then what this project
// adds for replay and de-duplication.
func TestColumnsKeepTheSeedSchema(t *testing.T) {
	want := [][2]string{
		{"event_id", "string"}, {"event_type", "string"}, {"session_id", "string"}, {"sort_key", "string"},
		{"item_type", "string"}, {"role", "string"}, {"status", "string"}, {"old_status", "string"},
		{"customer_id", "string"}, {"turn_count", "double"}, {"token_count", "double"}, {"agent_id", "string"},
		{"reason", "string"}, {"response_id", "string"}, {"size_bytes", "bigint"}, {"timestamp", "bigint"},
		{"summary_number", "string"}, {"sequence_number", "string"}, {"event_time_ms", "bigint"},
	}
	var got [][2]string
	for _, c := range Columns() {
		got = append(got, [2]string{c.Name, c.Type})
		assert.NotEmptyf(t, c.Comment, "column %s has no comment", c.Name)
	}
	assert.Equal(t, want, got)
}

func TestColumnsIsACopy(t *testing.T) {
	cols := Columns()
	cols[0].Name = "changed"
	assert.Equal(t, "event_id", Columns()[0].Name)
}

func TestColumnsRejectsBadTags(t *testing.T) {
	type noName struct {
		A string `glue:"string"`
	}
	type wrongType struct {
		A *int64 `json:"a" glue:"double"`
	}
	// Built at run time: go vet rightly refuses a literal struct with a repeated json tag.
	twice := reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"a" glue:"string"`},
		{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"a" glue:"string"`},
	})
	type unknownGlue struct {
		A string `json:"a" glue:"varchar"`
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[noName](), reflect.TypeFor[wrongType](), twice, reflect.TypeFor[unknownGlue](),
	} {
		_, err := columnsOf(typ)
		assert.Errorf(t, err, "%s", typ)
	}
}

// The JSON keys are the column names, so what the router writes is what the
// Glue table reads.
func TestJSONKeysAreTheColumns(t *testing.T) {
	s, f := "x", 1.5
	full := Event{
		Role: &s, Status: &s, OldStatus: &s, CustomerID: &s, TurnCount: &f, TokenCount: &f,
		AgentID: &s, Reason: &s, ResponseID: &s, SummaryNumber: &s,
	}
	line, err := MarshalLine(&full)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(line, &keys))
	var names []string
	for _, c := range Columns() {
		names = append(names, c.Name)
	}
	assert.ElementsMatch(t, names, mapKeys(keys))
}

func TestMarshalLineLeavesAbsentAttributesOut(t *testing.T) {
	zero := 0.0
	e := Event{
		EventID: "e1", EventType: Insert, SessionID: "s<1>", SortKey: "TURN#1", ItemType: ItemTurn,
		TokenCount: &zero, SizeBytes: 10, Timestamp: 1700000000, SequenceNumber: "100", EventTimeMS: 1700000000000,
	}
	line, err := MarshalLine(&e)
	require.NoError(t, err)
	require.True(t, bytes.HasSuffix(line, []byte("}\n")))
	assert.Equal(t, 1, bytes.Count(line, []byte("\n")), "one object, one line")
	assert.Contains(t, string(line), `"session_id":"s<1>"`, "no HTML escaping")
	assert.Contains(t, string(line), `"token_count":0`, "a real zero stays")
	for _, absent := range []string{"role", "status", "old_status", "customer_id", "turn_count", "summary_number"} {
		assert.NotContainsf(t, string(line), `"`+absent+`"`, "%s is absent, not zero", absent)
	}
	var back Event
	require.NoError(t, json.Unmarshal(line, &back))
	assert.Equal(t, e, back)
}

// docs/streamrouter.md documents the schema; it must list every column with
// its type, so that the document cannot drift from the code either.
func TestDocumentedSchemaMatches(t *testing.T) {
	doc, err := os.ReadFile("../../docs/streamrouter.md")
	require.NoError(t, err)
	for _, c := range Columns() {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(c.Name) + "` \\| " + c.Type + " \\|")
		assert.Truef(t, row.Match(doc), "docs/streamrouter.md has no row for %s %s", c.Name, c.Type)
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
