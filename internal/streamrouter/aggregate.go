package streamrouter

import (
	"errors"
	"time"
	"unicode/utf8"
)

// MaxPartitionKeyChars is the longest partition key Kinesis accepts, in
// Unicode characters. A longer session id can never be sent: Kinesis would
// refuse the whole call (ValidationException) and with it every other
// session's records.
const MaxPartitionKeyChars = 256

// line is one encoded event in the stream-order buffer.
type line struct {
	start, end int    // its bytes in the buffer; empty if oversize
	index      int    // batch index of its stream record
	session    string // partition key
	poison     bool   // can never be sent: over MaxBytesPerRecord, or its session id is too long a key
	next       int    // next line of its session, or -1
}

// prepare transforms and encodes the records and aggregates each session's
// events into entries: as few as the limits allow, each holding consecutive
// events of one session in stream order, at most MaxEventsPerRecord of them
// and, if more than one, at most MaxBytesPerAggregate bytes. Filling each
// entry before starting the next gives the fewest entries per session (and
// so the fewest bytes of partition keys). Skipped records are counted and
// logged; an event that can never be sent (oversize, or of a session id too
// long for a partition key) becomes a poison entry that also holds its
// session's later events back.
func (r *Router) prepare(recs []streamRecord, received time.Time, m *Metrics) *schedule {
	lim := r.cfg.Limits

	// Pass 1, stream order: transform and encode every record once.
	buf := make([]byte, 0, len(recs)*320) // a turn event is ~280 bytes
	lines := make([]line, 0, len(recs))
	var ev event
	for i := range recs {
		rec := &recs[i]
		dropped, err := transform(rec, received, &ev)
		if err != nil {
			var s *SkipError
			if !errors.As(err, &s) { // transform returns only *SkipError; stay safe if that changes
				s = &SkipError{Reason: SkipMalformedRecord, Detail: err.Error()}
			}
			m.Skipped[s.Reason]++
			r.log.Warn("record skipped", "reason", s.Reason, "detail", s.Detail,
				"event_id", rec.eventID, "sequence_number", rec.sequenceNumber)
			continue
		}
		if len(dropped) > 0 {
			m.DroppedAttributes += len(dropped)
			r.log.Warn("unusable attributes sent as null", "attributes", []string(dropped),
				"event_id", ev.eventID, "sequence_number", ev.sequenceNumber)
		}
		start := len(buf)
		buf = appendEvent(buf, &ev)
		ln := line{start: start, end: len(buf), index: i, session: ev.sessionID, next: -1}
		switch size := len(buf) - start + len(ev.sessionID); {
		case size > lim.MaxBytesPerRecord:
			ln.end, ln.poison = start, true
			m.Oversize++
			r.log.Error("event over the Kinesis record limit; reported as failed for the on-failure destination",
				"bytes", size, "limit", lim.MaxBytesPerRecord, "event_id", ev.eventID,
				"sequence_number", ev.sequenceNumber, "session_id", ev.sessionID)
		case len(ev.sessionID) > MaxPartitionKeyChars && utf8.RuneCountInString(ev.sessionID) > MaxPartitionKeyChars:
			ln.end, ln.poison = start, true
			m.Oversize++
			r.log.Error("session id longer than a Kinesis partition key; reported as failed for the on-failure destination",
				"characters", utf8.RuneCountInString(ev.sessionID), "limit", MaxPartitionKeyChars, "event_id", ev.eventID,
				"sequence_number", ev.sequenceNumber, "session_id", ev.sessionID)
		}
		buf = buf[:ln.end]
		lines = append(lines, ln)
	}

	// Sessions in order of first appearance, each a chain of its lines.
	type chain struct{ head, tail int }
	index := make(map[string]int, len(lines)/4+1)
	var chains []chain
	for i := range lines {
		if c, ok := index[lines[i].session]; ok {
			lines[chains[c].tail].next = i
			chains[c].tail = i
			continue
		}
		index[lines[i].session] = len(chains)
		chains = append(chains, chain{i, i})
	}

	// Pass 2, session by session: cut each chain into entries, copying its
	// lines next to each other.
	s := &schedule{limits: lim, entries: make([]entry, 0, len(chains)), sessions: make([]span, 0, len(chains))}
	data := make([]byte, 0, len(buf))
	for c, ch := range chains {
		sp := span{next: len(s.entries)}
		open := false // the last entry may take more events
		for i := ch.head; i >= 0; i = lines[i].next {
			ln := &lines[i]
			cur := len(s.entries) - 1
			switch {
			case open && s.entries[cur].poison:
				s.entries[cur].events++ // held behind the poison event
				continue
			case ln.poison:
				s.entries = append(s.entries, entry{session: ln.session, first: ln.index, events: 1, sess: c, poison: true})
				open = true
				continue
			case open:
				e := &s.entries[cur]
				if e.events == lim.MaxEventsPerRecord || e.size()+ln.end-ln.start > lim.MaxBytesPerAggregate {
					open = false
				}
			}
			if !open {
				s.entries = append(s.entries, entry{session: ln.session, first: ln.index, sess: c, data: data[len(data):]})
				open = true
			}
			e := &s.entries[len(s.entries)-1]
			start := len(data) - len(e.data)
			data = append(data, buf[ln.start:ln.end]...)
			e.data = data[start:]
			e.events++
		}
		sp.end = len(s.entries)
		s.sessions = append(s.sessions, sp)
	}
	return s
}
