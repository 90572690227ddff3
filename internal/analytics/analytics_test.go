package analytics

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference design's Athena table, in its order, then what this project
// adds for replay and de-duplication. Its "timestamp" is the column ts (a
// Hive keyword makes a bad column), filled from the JSON key timestamp.
func TestColumnsKeepTheSeedSchema(t *testing.T) {
	want := [][3]string{
		{"event_id", "event_id", "string"}, {"event_type", "event_type", "string"},
		{"session_id", "session_id", "string"}, {"sort_key", "sort_key", "string"},
		{"item_type", "item_type", "string"}, {"role", "role", "string"}, {"status", "status", "string"},
		{"old_status", "old_status", "string"}, {"customer_id", "customer_id", "string"},
		{"turn_count", "turn_count", "double"}, {"token_count", "token_count", "double"},
		{"agent_id", "agent_id", "string"}, {"reason", "reason", "string"}, {"response_id", "response_id", "string"},
		{"size_bytes", "size_bytes", "bigint"}, {"ts", "timestamp", "bigint"},
		{"summary_number", "summary_number", "string"}, {"sequence_number", "sequence_number", "string"},
		{"event_time_ms", "event_time_ms", "bigint"},
		{"change_id", "change_id", "string"}, {"source_region", "source_region", "string"},
	}
	var got [][3]string
	for _, c := range Columns() {
		got = append(got, [3]string{c.Name, c.JSONKey, c.Type})
		assert.NotEmptyf(t, c.Comment, "column %s has no comment", c.Name)
	}
	assert.Equal(t, want, got)
}

// Hive's reserved keywords: Athena's list for DDL statements, which is
// Hive's ("Reserved keywords",
// https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html), with
// CACHE and SYNC from Hive's own language manual, then Athena's list for
// SELECT statements. A column named like one needs quoting in every query,
// and the Firehose API reference (OpenXJsonSerDe) says to map such a JSON
// key to another column name instead.
var reservedKeywords = strings.Fields(`
	ALL ALTER AND ARRAY AS AUTHORIZATION BETWEEN BIGINT BINARY BOOLEAN BOTH BY CACHE CASE CAST CHAR
	COLUMN CONF CONSTRAINT COMMIT CREATE CROSS CUBE CURRENT CURRENT_DATE CURRENT_TIMESTAMP CURSOR
	DATABASE DATE DAYOFWEEK DECIMAL DELETE DESCRIBE DISTINCT DOUBLE DROP ELSE END EXCHANGE EXISTS
	EXTENDED EXTERNAL EXTRACT FALSE FETCH FLOAT FLOOR FOLLOWING FOR FOREIGN FROM FULL FUNCTION GRANT
	GROUP GROUPING HAVING IF IMPORT IN INNER INSERT INT INTEGER INTERSECT INTERVAL INTO IS JOIN LATERAL
	LEFT LESS LIKE LOCAL MACRO MAP MORE NONE NOT NULL NUMERIC OF ON ONLY OR ORDER OUT OUTER OVER
	PARTIALSCAN PARTITION PERCENT PRECEDING PRECISION PRESERVE PRIMARY PROCEDURE RANGE READS REDUCE
	REGEXP REFERENCES REVOKE RIGHT RLIKE ROLLBACK ROLLUP ROW ROWS SELECT SET SMALLINT START SYNC TABLE
	TABLESAMPLE THEN TIME TIMESTAMP TO TRANSFORM TRIGGER TRUE TRUNCATE UNBOUNDED UNION UNIQUEJOIN
	UPDATE USER USING UTC_TIMESTAMP VALUES VARCHAR VIEWS WHEN WHERE WINDOW WITH
	CURRENT_PATH CURRENT_TIME CURRENT_USER DEALLOCATE ESCAPE EXCEPT EXECUTE FIRST LAST LOCALTIME
	LOCALTIMESTAMP NATURAL NORMALIZE PREPARE RECURSIVE UESCAPE UNNEST
`)

func TestNoColumnIsAReservedKeyword(t *testing.T) {
	for _, word := range []string{"TIMESTAMP", "DATE", "TIME", "USER", "ORDER"} {
		require.Contains(t, reservedKeywords, word)
	}
	for _, c := range Columns() {
		assert.NotContainsf(t, reservedKeywords, strings.ToUpper(c.Name),
			"column %s is a reserved keyword: give its field a column tag, the SerDe then maps the JSON key to it", c.Name)
	}
}

// The SerDe's mappings are exactly the renamed columns, in a fresh map.
func TestColumnToJSONKeyMappings(t *testing.T) {
	mappings := ColumnToJSONKeyMappings()
	assert.Equal(t, map[string]string{"ts": "timestamp"}, mappings)
	for _, c := range Columns() {
		if c.Name != c.JSONKey {
			assert.Equalf(t, c.JSONKey, mappings[c.Name], "column %s", c.Name)
		} else {
			assert.NotContainsf(t, mappings, c.Name, "column %s is its own JSON key", c.Name)
		}
	}
	mappings["ts"] = "changed"
	assert.Equal(t, "timestamp", ColumnToJSONKeyMappings()["ts"])
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
	keyTwice := reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"a" column:"x" glue:"string"`},
		{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"a" column:"y" glue:"string"`},
	})
	type unknownGlue struct {
		A string `json:"a" glue:"varchar"`
	}
	type upperColumn struct {
		A string `json:"a" column:"A" glue:"string"`
	}
	type emptyColumn struct {
		A string `json:"a" column:"" glue:"string"`
	}
	type columnIsKey struct {
		A string `json:"a" column:"a" glue:"string"`
	}
	type columnClash struct {
		A string `json:"a" glue:"string"`
		B string `json:"b" column:"a" glue:"string"`
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[noName](), reflect.TypeFor[wrongType](), twice, keyTwice, reflect.TypeFor[unknownGlue](),
		reflect.TypeFor[upperColumn](), reflect.TypeFor[emptyColumn](), reflect.TypeFor[columnIsKey](),
		reflect.TypeFor[columnClash](),
	} {
		_, err := columnsOf(typ)
		assert.Errorf(t, err, "%s", typ)
	}
}

// The JSON the router writes has exactly the columns' JSON keys: every key
// fills a column and every column has its key.
func TestJSONKeysAreTheColumnKeys(t *testing.T) {
	s, f := "x", 1.5
	full := Event{
		Role: &s, Status: &s, OldStatus: &s, CustomerID: &s, TurnCount: &f, TokenCount: &f,
		AgentID: &s, Reason: &s, ResponseID: &s, SummaryNumber: &s,
	}
	line, err := MarshalLine(&full)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(line, &keys))
	var jsonKeys []string
	for _, c := range Columns() {
		jsonKeys = append(jsonKeys, c.JSONKey)
	}
	assert.ElementsMatch(t, jsonKeys, mapKeys(keys))
	assert.Contains(t, keys, "timestamp", "Kinesis readers keep the key timestamp")
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

// docs/streamrouter.md documents the JSON the router writes: it must list
// every key with its type. docs/components/analytics-pipeline.md must list
// every column that is not its JSON key. So neither document can drift from
// the code.
func TestDocumentedSchemaMatches(t *testing.T) {
	doc, err := os.ReadFile("../../docs/streamrouter.md")
	require.NoError(t, err)
	for _, c := range Columns() {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(c.JSONKey) + "` \\| " + c.Type + " \\|")
		assert.Truef(t, row.Match(doc), "docs/streamrouter.md has no row for %s %s", c.JSONKey, c.Type)
	}
	pipeline, err := os.ReadFile("../../docs/components/analytics-pipeline.md")
	require.NoError(t, err)
	for column, key := range ColumnToJSONKeyMappings() {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(column) + "` \\| `" + regexp.QuoteMeta(key) + "` \\|")
		assert.Truef(t, row.Match(pipeline), "docs/components/analytics-pipeline.md has no row for column %s, JSON key %s", column, key)
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
