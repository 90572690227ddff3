package streamrouter

import (
	"cmp"
	"slices"
)

// Limits are the limits the router packs records and calls to. Sizes count
// data bytes plus partition-key bytes, as Kinesis does.
type Limits struct {
	// MaxRecordsPerCall and MaxBytesPerCall bound one PutRecords call.
	MaxRecordsPerCall int
	MaxBytesPerCall   int
	// MaxBytesPerRecord is the largest record Kinesis accepts; a single
	// event over it can never be sent (poison).
	MaxBytesPerRecord int
	// MaxEventsPerRecord bounds the events aggregated into one record:
	// Firehose de-aggregates at most 500 per record.
	MaxEventsPerRecord int
	// MaxBytesPerAggregate bounds a record of more than one event. Firehose
	// documents 1,000 KiB as the largest record it takes (API Record, Data);
	// whether that also holds for records it reads from a data stream is not
	// documented, so aggregates stay within it. A single event up to
	// MaxBytesPerRecord still goes alone, as before aggregation.
	MaxBytesPerAggregate int
}

// KinesisLimits are the limits of Kinesis's PutRecords (for a stream with the
// default maximum record size) and of Firehose's de-aggregation.
var KinesisLimits = Limits{
	MaxRecordsPerCall:    500,
	MaxBytesPerCall:      5 << 20,
	MaxBytesPerRecord:    1 << 20,
	MaxEventsPerRecord:   500,
	MaxBytesPerAggregate: 1000 << 10,
}

func (l Limits) valid() bool {
	return l.MaxRecordsPerCall > 0 && l.MaxEventsPerRecord > 0 && l.MaxBytesPerRecord > 0 &&
		l.MaxBytesPerAggregate > 0 && l.MaxBytesPerAggregate <= l.MaxBytesPerRecord && l.MaxBytesPerCall >= l.MaxBytesPerRecord
}

// entry is one Kinesis record on its way: consecutive events of one session,
// one JSON line each. It is accepted or rejected whole, so a failed entry
// never leaves a hole in its session.
type entry struct {
	session  string // partition key
	data     []byte // the JSON lines
	first    int    // batch index of the stream record of its first event
	events   int    // events it carries
	sess     int    // index of its session in the schedule
	failures int    // attempts that failed so far
	// poison: its first event can never be sent (over MaxBytesPerRecord, or
	// its session id is too long a partition key). It is never sent, and
	// stands for that event and every later one of its session.
	poison bool
}

func (e *entry) size() int { return len(e.data) + len(e.session) }

// span is a session's entries in schedule.entries: [next, end), next being
// the first undelivered one.
type span struct{ next, end int }

// schedule decides what each PutRecords call carries.
//
// Kinesis does not keep order inside a PutRecords call when an entry fails
// (a failure does not stop later entries), so a call carries at most one
// entry per session, and a session's next entry goes out only after the call
// that delivered the previous one has returned. Within that rule calls are
// filled to the limits, sessions with the most entries left first (Hu's
// highest-level-first rule, optimal for chains of unit tasks), earlier
// stream positions first among equals.
type schedule struct {
	limits   Limits
	entries  []entry // grouped by session, each session's in stream order
	sessions []span

	cands []int    // scratch of next
	call  []*entry // scratch of next
}

// next returns the entries of the next call, in stream order, or nothing when
// no session can send: all delivered, or blocked behind a poison entry. The
// slice is reused by the following call to next.
func (s *schedule) next() []*entry {
	cands := s.cands[:0]
	for i, sp := range s.sessions {
		if sp.next < sp.end && !s.entries[sp.next].poison {
			cands = append(cands, i)
		}
	}
	slices.SortFunc(cands, func(a, b int) int {
		sa, sb := s.sessions[a], s.sessions[b]
		return cmp.Or(cmp.Compare(sb.end-sb.next, sa.end-sa.next), cmp.Compare(s.entries[sa.next].first, s.entries[sb.next].first))
	})
	s.cands = cands
	call := s.call[:0]
	bytes := 0
	for _, c := range cands {
		if len(call) == s.limits.MaxRecordsPerCall {
			break
		}
		head := &s.entries[s.sessions[c].next]
		if bytes+head.size() > s.limits.MaxBytesPerCall {
			continue // a smaller head further down may still fit
		}
		call = append(call, head)
		bytes += head.size()
	}
	slices.SortFunc(call, func(a, b *entry) int { return cmp.Compare(a.first, b.first) })
	s.call = call
	return call
}

// delivered marks e, which must be the head of its session, delivered.
func (s *schedule) delivered(e *entry) {
	sp := &s.sessions[e.sess]
	if sp.next >= sp.end || &s.entries[sp.next] != e {
		panic("streamrouter: delivered entry is not the head of its session")
	}
	sp.next++
}

// undelivered returns the first undelivered entry in stream order (nil if
// none) and the number of events not delivered.
func (s *schedule) undelivered() (first *entry, events int) {
	for _, sp := range s.sessions {
		for i := sp.next; i < sp.end; i++ {
			events += s.entries[i].events
		}
		if sp.next < sp.end && (first == nil || s.entries[sp.next].first < first.first) {
			first = &s.entries[sp.next]
		}
	}
	return first, events
}

// lowerBound is the fewest calls any order-keeping schedule of these entries
// can make: a call holds at most MaxRecordsPerCall entries, MaxBytesPerCall
// bytes and one entry per session. The schedule meets it when bytes do not
// bind; when they do, packing is bin packing and it may take more (eleven
// records of just over 5/6 MiB take 3 calls of 5, 5 and 1; the bytes term
// says 2).
func (s *schedule) lowerBound() int {
	records, bytes, longest := 0, 0, 0
	for _, sp := range s.sessions {
		n := 0
		for i := sp.next; i < sp.end && !s.entries[i].poison; i++ {
			n++
			bytes += s.entries[i].size()
		}
		records += n
		longest = max(longest, n)
	}
	ceil := func(a, b int) int { return (a + b - 1) / b }
	return max(longest, ceil(records, s.limits.MaxRecordsPerCall), ceil(bytes, s.limits.MaxBytesPerCall))
}
