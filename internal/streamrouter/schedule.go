package streamrouter

import (
	"cmp"
	"slices"
)

// Limits are the PutRecords limits the router packs calls to. Sizes count
// data bytes plus partition-key bytes, as Kinesis does.
type Limits struct {
	MaxRecordsPerCall int
	MaxBytesPerCall   int
	MaxBytesPerRecord int
}

// KinesisLimits are Kinesis's PutRecords limits for a stream with the default
// maximum record size.
var KinesisLimits = Limits{MaxRecordsPerCall: 500, MaxBytesPerCall: 5 << 20, MaxBytesPerRecord: 1 << 20}

// entry is one event on its way to Kinesis.
type entry struct {
	index    int    // position of its stream record in the batch: stream order
	session  string // partition key
	data     []byte // the JSON line
	failures int    // attempts that failed so far
	poison   bool   // can never be sent (over the record limit)
}

func (e *entry) size() int { return len(e.data) + len(e.session) }

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
	limits Limits
	queues map[string][]*entry // per session, undelivered entries in stream order
}

func newSchedule(limits Limits, entries []*entry) *schedule {
	s := &schedule{limits: limits, queues: make(map[string][]*entry)}
	for _, e := range entries {
		s.queues[e.session] = append(s.queues[e.session], e)
	}
	return s
}

// next returns the entries of the next call, in stream order, or nothing when
// no session can send: all delivered, or blocked behind a poison entry.
func (s *schedule) next() []*entry {
	type candidate struct {
		head *entry
		left int
	}
	var cands []candidate
	for _, q := range s.queues {
		if len(q) > 0 && !q[0].poison {
			cands = append(cands, candidate{q[0], len(q)})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.left, a.left), cmp.Compare(a.head.index, b.head.index))
	})
	var call []*entry
	bytes := 0
	for _, c := range cands {
		if len(call) == s.limits.MaxRecordsPerCall {
			break
		}
		if bytes+c.head.size() > s.limits.MaxBytesPerCall {
			continue // a smaller head further down may still fit
		}
		call = append(call, c.head)
		bytes += c.head.size()
	}
	slices.SortFunc(call, func(a, b *entry) int { return cmp.Compare(a.index, b.index) })
	return call
}

// delivered removes e, which must be the head of its session.
func (s *schedule) delivered(e *entry) {
	q := s.queues[e.session]
	if len(q) == 0 || q[0] != e {
		panic("streamrouter: delivered entry is not the head of its session")
	}
	s.queues[e.session] = q[1:]
}

// undelivered returns every entry not delivered, in stream order.
func (s *schedule) undelivered() []*entry {
	var left []*entry
	for _, q := range s.queues {
		left = append(left, q...)
	}
	slices.SortFunc(left, func(a, b *entry) int { return cmp.Compare(a.index, b.index) })
	return left
}
