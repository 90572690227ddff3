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
	r := fromLambdaRecord(rec)
	var ev event
	dropped, err := transform(&r, received, &ev)
	if err != nil {
		return analytics.Event{}, nil, err
	}
	return ev.analytics(), dropped, nil
}

// transform is Transform on the router's own record type; it fills ev. Its
// strings are substrings of the record's, so it allocates nothing unless it
// skips the record or drops an attribute.
func transform(rec *streamRecord, received time.Time, ev *event) (Dropped, error) {
	switch rec.eventName {
	case analytics.Insert, analytics.Modify, analytics.Remove:
	default:
		return nil, skip(SkipMalformedRecord, "event name %q", rec.eventName)
	}
	if rec.eventID == "" || rec.sequenceNumber == "" {
		return nil, skip(SkipMalformedRecord, "eventID %q, SequenceNumber %q: both are needed", rec.eventID, rec.sequenceNumber)
	}
	pk, err := stringKey(rec.pk, sessions.PartitionKey)
	if err != nil {
		return nil, err
	}
	sk, err := stringKey(rec.sk, sessions.SortKey)
	if err != nil {
		return nil, err
	}
	sessionID, ok := sessions.SessionID(pk)
	if !ok || sessionID == "" {
		return nil, skip(SkipMalformedKey, "%s %q is not %s<session id>", sessions.PartitionKey, pk, sessions.SessionPrefix)
	}
	kind := sessions.KindOf(sk)
	if kind == sessions.KindUnknown {
		return nil, skip(SkipUnknownSortKey, "%s %q", sessions.SortKey, sk)
	}

	var dropped Dropped
	created := rec.created
	if created.Unix() <= 0 {
		created = received
		dropped = append(dropped, CreationTimeAttribute)
	}
	*ev = event{
		eventID:        rec.eventID,
		eventType:      rec.eventName,
		sessionID:      sessionID,
		sortKey:        sk,
		itemType:       string(kind),
		sizeBytes:      rec.sizeBytes,
		timestamp:      created.Unix(),
		sequenceNumber: rec.sequenceNumber,
		eventTimeMS:    created.UnixMilli(),
		changeKey:      rec.change,
		sourceRegion:   rec.awsRegion,
	}

	img := &rec.newImage
	if rec.eventName == analytics.Remove {
		img = &rec.oldImage
	}
	switch kind {
	case sessions.KindTurn:
		ev.role = str(img, attrRole, &dropped)
		ev.tokenCount = number(img, attrTokenCount, &dropped)
		ev.responseID = str(img, attrResponseID, &dropped)
	case sessions.KindMeta:
		ev.status = str(img, attrStatus, &dropped)
		ev.oldStatus = str(&rec.oldImage, attrStatus, &dropped)
		ev.customerID = str(img, attrCustomerID, &dropped)
		ev.turnCount = number(img, attrTurnCount, &dropped)
	case sessions.KindSummary:
		ev.summaryNumber = optString{strings.TrimPrefix(sk, sessions.SummaryPrefix), true}
	case sessions.KindHandoff:
		ev.agentID = str(img, attrAgentID, &dropped)
		ev.reason = str(img, attrReason, &dropped)
	}
	return dropped, nil
}

func stringKey(a attr, name string) (string, error) {
	switch {
	case a.kind == attrAbsent:
		return "", skip(SkipMissingKey, "no %s in Keys", name)
	case a.kind != attrString || a.text == "":
		return "", skip(SkipMalformedKey, "%s is not a non-empty string", name)
	}
	return a.text, nil
}

// str reads a string attribute: absent and NULL are absent, other types are
// absent and noted in dropped.
func str(img *image, i int, dropped *Dropped) optString {
	switch a := img[i]; a.kind {
	case attrAbsent, attrNull:
		return optString{}
	case attrString:
		return optString{a.text, true}
	}
	*dropped = append(*dropped, imageAttrNames[i])
	return optString{}
}

// number reads a number attribute as a double, like str.
func number(img *image, i int, dropped *Dropped) optNumber {
	a := img[i]
	switch a.kind {
	case attrAbsent, attrNull:
		return optNumber{}
	case attrNumber:
		// JSON has no NaN or infinities, and DynamoDB numbers never are:
		// such a value cannot be encoded, so it is dropped rather than
		// failing the event.
		f, err := strconv.ParseFloat(a.text, 64)
		if err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return optNumber{f, true}
		}
	}
	*dropped = append(*dropped, imageAttrNames[i])
	return optNumber{}
}
