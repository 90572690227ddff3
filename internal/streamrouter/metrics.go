package streamrouter

import (
	"io"
	"time"

	"github.com/manga-assist/manga-assist-data/internal/emf"
)

// Namespace is the CloudWatch namespace of the router's metrics.
const Namespace = "MangaAssist/StreamRouter"

// FunctionDimension is the one dimension of every metric: the router's
// function name, so that each stack's alarms watch their own router.
const FunctionDimension = "FunctionName"

// DefaultFunctionName is the dimension's value outside Lambda.
const DefaultFunctionName = "stream-router"

// Metrics are the counts of one invocation. They are written as one
// CloudWatch Embedded Metric Format line: CloudWatch Logs extracts the
// metrics from it, no PutMetricData call (and no CloudWatch client) needed.
type Metrics struct {
	RecordsIn         int                // stream records in the batch
	EventsOut         int                // events delivered to Kinesis
	KinesisRecordsOut int                // Kinesis records delivered, each 1–500 events of one session
	Skipped           map[SkipReason]int // records without an event, by reason
	DroppedAttributes int                // unusable attributes, sent as null
	Oversize          int                // events that can never be sent (poison): over the record limit, or a session id over 256 characters
	Calls             int                // PutRecords calls made
	CallFailures      int                // calls that failed as a whole
	EntryFailures     int                // Kinesis records a call reported failed
	Retries           int                // Kinesis records sent again after a failure
	Undelivered       int                // events left for Lambda to retry
	BatchLatency      time.Duration      // from invocation start to response
}

type metricValue struct {
	name, unit string
	value      float64
}

// skipMetricNames are the metric names of the skip reasons.
var skipMetricNames = map[SkipReason]string{
	SkipMissingKey:      "SkippedMissingKey",
	SkipMalformedKey:    "SkippedMalformedKey",
	SkipUnknownSortKey:  "SkippedUnknownSortKey",
	SkipMalformedRecord: "SkippedMalformedRecord",
}

// WriteEMF writes m as one EMF JSON line stamped at ts, with the dimension
// FunctionName=function.
func (m *Metrics) WriteEMF(w io.Writer, ts time.Time, function string) error {
	values := []metricValue{
		{"RecordsIn", "Count", float64(m.RecordsIn)},
		{"EventsOut", "Count", float64(m.EventsOut)},
		{"KinesisRecordsOut", "Count", float64(m.KinesisRecordsOut)},
		{"Skipped", "Count", float64(m.skippedTotal())},
		{"DroppedAttributes", "Count", float64(m.DroppedAttributes)},
		{"Oversize", "Count", float64(m.Oversize)},
		{"PutRecordsCalls", "Count", float64(m.Calls)},
		{"CallFailures", "Count", float64(m.CallFailures)},
		{"EntryFailures", "Count", float64(m.EntryFailures)},
		{"Retries", "Count", float64(m.Retries)},
		{"Undelivered", "Count", float64(m.Undelivered)},
		{"BatchLatency", "Milliseconds", float64(m.BatchLatency.Microseconds()) / 1000},
	}
	for _, r := range SkipReasons {
		values = append(values, metricValue{skipMetricNames[r], "Count", float64(m.Skipped[r])})
	}

	out := make([]emf.Metric, len(values))
	for i, v := range values {
		out[i] = emf.Metric{Name: v.name, Unit: v.unit, Value: v.value}
	}
	return emf.Write(w, ts, Namespace, FunctionDimension, function, out)
}

func (m *Metrics) skippedTotal() int {
	n := 0
	for _, c := range m.Skipped {
		n += c
	}
	return n
}
