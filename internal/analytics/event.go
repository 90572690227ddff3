// Package analytics defines the analytics event that the stream router writes
// to Kinesis and that Firehose turns into Parquet rows of the Glue table.
//
// Event is the single definition of those columns: Columns derives the Glue
// schema from it by reflection, so the table and the router cannot drift.
// Columns keep the names and types of the reference design's Athena table;
// summary_number, sequence_number, event_time_ms, change_id and
// source_region are added at the end.
//
// event_id is the stream record's id, different in every region of a global
// table; change_id identifies the change itself in every region, so it is
// the key that de-duplicates (docs/components/global-table-failover.md).
//
// One column is renamed: the JSON key "timestamp" fills the column "ts",
// because timestamp is a Hive keyword. The Firehose API reference
// (OpenXJsonSerDe, ColumnToJsonKeyMappings) advises exactly this mapping,
// {"ts": "timestamp"}; ColumnToJSONKeyMappings returns it for the SerDe. The
// JSON on Kinesis keeps "timestamp" for its other readers.
//
// Attributes an item does not have are absent from the JSON (pointer fields
// with omitempty), never zero: Firehose's OpenX JSON SerDe reads a missing key
// as NULL, so "no token count" and "0 tokens" stay different in Athena.
package analytics

import (
	"bytes"
	"encoding/json"
)

// Event is one change of one item of the sessions table.
//
// Each field has a json tag (its JSON key, and the column name unless a
// column tag gives another), a glue tag (its Glue/Hive type: string, double
// or bigint) and a comment tag (the column comment). A column tag is for a
// JSON key that cannot be a column name, such as a Hive keyword.
type Event struct {
	EventID   string `json:"event_id" glue:"string" comment:"stream record eventID, different in each region; change_id de-duplicates"`
	EventType string `json:"event_type" glue:"string" comment:"INSERT, MODIFY or REMOVE"`
	SessionID string `json:"session_id" glue:"string" comment:"PK without SESSION#; also the Kinesis partition key"`
	SortKey   string `json:"sort_key" glue:"string" comment:"SK of the item"`
	ItemType  string `json:"item_type" glue:"string" comment:"meta, turn, summary or handoff (from SK)"`

	Role       *string  `json:"role,omitempty" glue:"string" comment:"turn: who wrote it"`
	Status     *string  `json:"status,omitempty" glue:"string" comment:"meta: status in the new image (old image on REMOVE)"`
	OldStatus  *string  `json:"old_status,omitempty" glue:"string" comment:"meta: status in the old image; null on INSERT"`
	CustomerID *string  `json:"customer_id,omitempty" glue:"string" comment:"meta: customer of the session"`
	TurnCount  *float64 `json:"turn_count,omitempty" glue:"double" comment:"meta: turns so far"`
	TokenCount *float64 `json:"token_count,omitempty" glue:"double" comment:"turn: tokens of the turn"`
	AgentID    *string  `json:"agent_id,omitempty" glue:"string" comment:"handoff: human agent"`
	Reason     *string  `json:"reason,omitempty" glue:"string" comment:"handoff: why"`
	ResponseID *string  `json:"response_id,omitempty" glue:"string" comment:"turn: model response id"`

	SizeBytes int64 `json:"size_bytes" glue:"bigint" comment:"stream record size in bytes"`
	Timestamp int64 `json:"timestamp" column:"ts" glue:"bigint" comment:"event time, epoch seconds (ApproximateCreationDateTime); JSON key timestamp"`

	SummaryNumber  *string `json:"summary_number,omitempty" glue:"string" comment:"summary: SK after SUMMARY#"`
	SequenceNumber string  `json:"sequence_number" glue:"string" comment:"stream record SequenceNumber; replay position and order"`
	EventTimeMS    int64   `json:"event_time_ms" glue:"bigint" comment:"event time, epoch milliseconds; drives the hour partition"`

	ChangeID     string `json:"change_id" glue:"string" comment:"hash of keys, event name and both images: the same in every region; de-duplication key"`
	SourceRegion string `json:"source_region" glue:"string" comment:"region whose table stream the event came from"`
}

// Item types, the values of ItemType.
const (
	ItemMeta    = "meta"
	ItemTurn    = "turn"
	ItemSummary = "summary"
	ItemHandoff = "handoff"
)

// Event types, the values of EventType: DynamoDB's stream event names.
const (
	Insert = "INSERT"
	Modify = "MODIFY"
	Remove = "REMOVE"
)

// MarshalLine returns e as one JSON object followed by "\n", the shape of
// every Kinesis record: Firehose and Athena read newline-delimited JSON.
// HTML escaping is off because it only inflates records (< becomes \u003c).
func MarshalLine(e *Event) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(512)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil { // Encode appends the "\n"
		return nil, err
	}
	return buf.Bytes(), nil
}
