package streamrouter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// SkipReason says why a stream record produced no event. Skips are final:
// retrying the record cannot change them, so they are counted and logged,
// never reported as batch item failures.
type SkipReason string

const (
	// SkipMissingKey: Keys lacks PK or SK.
	SkipMissingKey SkipReason = "missing_key"
	// SkipMalformedKey: PK or SK is not a non-empty string, or PK is not
	// SESSION#<id> with a non-empty id.
	SkipMalformedKey SkipReason = "malformed_key"
	// SkipUnknownSortKey: SK is of no known item kind.
	SkipUnknownSortKey SkipReason = "unknown_sort_key"
	// SkipMalformedRecord: no eventID or SequenceNumber, or an event name
	// other than INSERT, MODIFY and REMOVE.
	SkipMalformedRecord SkipReason = "malformed_record"
)

// SkipReasons lists every reason, in the order metrics report them.
var SkipReasons = []SkipReason{SkipMissingKey, SkipMalformedKey, SkipUnknownSortKey, SkipMalformedRecord}

// SkipError is Transform's error: the record is skipped for Reason.
type SkipError struct {
	Reason SkipReason
	Detail string
}

func (e *SkipError) Error() string { return string(e.Reason) + ": " + e.Detail }

func skip(reason SkipReason, format string, args ...any) *SkipError {
	return &SkipError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Dropped names attributes that were present but unusable (of the wrong type,
// or a number that is not finite): their columns are null and the event is
// still sent. The creation time is listed when it was missing and replaced.
type Dropped []string

// CreationTimeAttribute is the name Dropped uses for a missing
// ApproximateCreationDateTime.
const CreationTimeAttribute = "ApproximateCreationDateTime"

// Transform turns one stream record into its analytics event. A non-nil
// error is always a *SkipError. received stands in for the creation time
// when the record has none (real stream records always have one).
//
// Attributes come from the new image, or from the old image on REMOVE, so a
// deletion says what was deleted; old_status always comes from the old image.
func Transform(rec *events.DynamoDBEventRecord, received time.Time) (analytics.Event, Dropped, error) {
	switch rec.EventName {
	case analytics.Insert, analytics.Modify, analytics.Remove:
	default:
		return analytics.Event{}, nil, skip(SkipMalformedRecord, "event name %q", rec.EventName)
	}
	if rec.EventID == "" || rec.Change.SequenceNumber == "" {
		return analytics.Event{}, nil, skip(SkipMalformedRecord, "eventID %q, SequenceNumber %q: both are needed", rec.EventID, rec.Change.SequenceNumber)
	}
	pk, err := stringKey(rec.Change.Keys, sessions.PartitionKey)
	if err != nil {
		return analytics.Event{}, nil, err
	}
	sk, err := stringKey(rec.Change.Keys, sessions.SortKey)
	if err != nil {
		return analytics.Event{}, nil, err
	}
	sessionID, ok := sessions.SessionID(pk)
	if !ok || sessionID == "" {
		return analytics.Event{}, nil, skip(SkipMalformedKey, "%s %q is not %s<session id>", sessions.PartitionKey, pk, sessions.SessionPrefix)
	}
	kind := sessions.KindOf(sk)
	if kind == sessions.KindUnknown {
		return analytics.Event{}, nil, skip(SkipUnknownSortKey, "%s %q", sessions.SortKey, sk)
	}

	var dropped Dropped
	created := rec.Change.ApproximateCreationDateTime.Time
	if created.Unix() <= 0 {
		created = received
		dropped = append(dropped, CreationTimeAttribute)
	}
	ev := analytics.Event{
		EventID:        rec.EventID,
		EventType:      rec.EventName,
		SessionID:      sessionID,
		SortKey:        sk,
		ItemType:       string(kind),
		SizeBytes:      rec.Change.SizeBytes,
		Timestamp:      created.Unix(),
		SequenceNumber: rec.Change.SequenceNumber,
		EventTimeMS:    created.UnixMilli(),
	}

	img := image{attrs: rec.Change.NewImage, dropped: &dropped}
	if rec.EventName == analytics.Remove {
		img.attrs = rec.Change.OldImage
	}
	switch kind {
	case sessions.KindTurn:
		ev.Role = img.str("role")
		ev.TokenCount = img.number("token_count")
		ev.ResponseID = img.str("response_id")
	case sessions.KindMeta:
		ev.Status = img.str("status")
		ev.OldStatus = image{attrs: rec.Change.OldImage, dropped: &dropped}.str("status")
		ev.CustomerID = img.str("customer_id")
		ev.TurnCount = img.number("turn_count")
	case sessions.KindSummary:
		n := strings.TrimPrefix(sk, sessions.SummaryPrefix)
		ev.SummaryNumber = &n
	case sessions.KindHandoff:
		ev.AgentID = img.str("agent_id")
		ev.Reason = img.str("reason")
	}
	return ev, dropped, nil
}

func stringKey(keys map[string]events.DynamoDBAttributeValue, name string) (string, error) {
	av, ok := keys[name]
	if !ok {
		return "", skip(SkipMissingKey, "no %s in Keys", name)
	}
	// Check the type first: the accessors of aws-lambda-go panic on others.
	if av.DataType() != events.DataTypeString || av.String() == "" {
		return "", skip(SkipMalformedKey, "%s is not a non-empty string", name)
	}
	return av.String(), nil
}

// image reads attributes of one item image; absent and NULL attributes are
// nil, unusable ones are nil and noted in dropped.
type image struct {
	attrs   map[string]events.DynamoDBAttributeValue
	dropped *Dropped
}

func (img image) str(name string) *string {
	av, ok := img.attrs[name]
	if !ok || av.DataType() == events.DataTypeNull {
		return nil
	}
	if av.DataType() != events.DataTypeString {
		*img.dropped = append(*img.dropped, name)
		return nil
	}
	s := av.String()
	return &s
}

func (img image) number(name string) *float64 {
	av, ok := img.attrs[name]
	if !ok || av.DataType() == events.DataTypeNull {
		return nil
	}
	if av.DataType() != events.DataTypeNumber {
		*img.dropped = append(*img.dropped, name)
		return nil
	}
	// JSON has no NaN or infinities, and DynamoDB numbers never are: such a
	// value cannot be encoded, so it is dropped rather than failing the event.
	f, err := strconv.ParseFloat(av.Number(), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		*img.dropped = append(*img.dropped, name)
		return nil
	}
	return &f
}
