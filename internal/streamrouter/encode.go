package streamrouter

import (
	"encoding/hex"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

// optString and optNumber are attributes an event may lack: absent from the
// JSON, never "" or 0.
type optString struct {
	v  string
	ok bool
}

type optNumber struct {
	v  float64
	ok bool
}

// event is analytics.Event without pointers, in the same field order, so
// that transform fills it without allocating and appendEvent writes it
// without reflection. TestAppendEventMatchesMarshalLine keeps the two
// byte-identical, field by field.
type event struct {
	eventID, eventType, sessionID, sortKey, itemType string
	role, status, oldStatus, customerID              optString
	turnCount, tokenCount                            optNumber
	agentID, reason, responseID                      optString
	sizeBytes, timestamp                             int64
	summaryNumber                                    optString
	sequenceNumber                                   string
	eventTimeMS                                      int64
	changeKey                                        changeKey
	sourceRegion                                     string
}

// analytics returns e as the schema's type.
func (e *event) analytics() analytics.Event {
	s := func(o optString) *string {
		if !o.ok {
			return nil
		}
		return &o.v
	}
	n := func(o optNumber) *float64 {
		if !o.ok {
			return nil
		}
		return &o.v
	}
	return analytics.Event{
		EventID: e.eventID, EventType: e.eventType, SessionID: e.sessionID, SortKey: e.sortKey, ItemType: e.itemType,
		Role: s(e.role), Status: s(e.status), OldStatus: s(e.oldStatus), CustomerID: s(e.customerID),
		TurnCount: n(e.turnCount), TokenCount: n(e.tokenCount),
		AgentID: s(e.agentID), Reason: s(e.reason), ResponseID: s(e.responseID),
		SizeBytes: e.sizeBytes, Timestamp: e.timestamp,
		SummaryNumber: s(e.summaryNumber), SequenceNumber: e.sequenceNumber, EventTimeMS: e.eventTimeMS,
		ChangeID: hex.EncodeToString(e.changeKey[:]), SourceRegion: e.sourceRegion,
	}
}

// appendEvent appends e as analytics.MarshalLine writes it: one JSON object,
// keys in struct order, absent attributes left out, no HTML escaping, then
// "\n". The number must be finite (transform drops the others).
func appendEvent(b []byte, e *event) []byte {
	b = append(b, `{"event_id":`...)
	b = appendString(b, e.eventID)
	b = append(b, `,"event_type":`...)
	b = appendString(b, e.eventType)
	b = append(b, `,"session_id":`...)
	b = appendString(b, e.sessionID)
	b = append(b, `,"sort_key":`...)
	b = appendString(b, e.sortKey)
	b = append(b, `,"item_type":`...)
	b = appendString(b, e.itemType)
	b = appendOptString(b, `,"role":`, e.role)
	b = appendOptString(b, `,"status":`, e.status)
	b = appendOptString(b, `,"old_status":`, e.oldStatus)
	b = appendOptString(b, `,"customer_id":`, e.customerID)
	b = appendOptNumber(b, `,"turn_count":`, e.turnCount)
	b = appendOptNumber(b, `,"token_count":`, e.tokenCount)
	b = appendOptString(b, `,"agent_id":`, e.agentID)
	b = appendOptString(b, `,"reason":`, e.reason)
	b = appendOptString(b, `,"response_id":`, e.responseID)
	b = append(b, `,"size_bytes":`...)
	b = strconv.AppendInt(b, e.sizeBytes, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, e.timestamp, 10)
	b = appendOptString(b, `,"summary_number":`, e.summaryNumber)
	b = append(b, `,"sequence_number":`...)
	b = appendString(b, e.sequenceNumber)
	b = append(b, `,"event_time_ms":`...)
	b = strconv.AppendInt(b, e.eventTimeMS, 10)
	b = append(b, `,"change_id":"`...)
	b = hex.AppendEncode(b, e.changeKey[:])
	b = append(b, `","source_region":`...)
	b = appendString(b, e.sourceRegion)
	return append(b, "}\n"...)
}

func appendOptString(b []byte, key string, o optString) []byte {
	if !o.ok {
		return b
	}
	return appendString(append(b, key...), o.v)
}

func appendOptNumber(b []byte, key string, o optNumber) []byte {
	if !o.ok {
		return b
	}
	return appendFloat(append(b, key...), o.v)
}

// appendFloat formats f as encoding/json does for a float64: like ES6, 'f'
// between 1e-6 and 1e21, else 'e' with a short exponent.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quote, backslash and control characters escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
