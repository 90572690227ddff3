// Package emf writes CloudWatch Embedded Metric Format lines: one JSON log
// line from which CloudWatch Logs extracts metrics, so a Lambda handler needs
// no CloudWatch client and no PutMetricData call.
package emf

import (
	"encoding/json"
	"io"
	"time"
)

// Metric is one value of a line.
type Metric struct {
	Name, Unit string
	Value      float64
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"` // epoch milliseconds
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Write writes metrics as one line stamped at ts, in namespace, with the one
// dimension name=value. It makes one Write call, so the line stays whole.
func Write(w io.Writer, ts time.Time, namespace, name, value string, metrics []Metric) error {
	line := map[string]any{name: value}
	d := directive{Namespace: namespace, Dimensions: [][]string{{name}}}
	for _, m := range metrics {
		d.Metrics = append(d.Metrics, metricDef{Name: m.Name, Unit: m.Unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = metadata{Timestamp: ts.UnixMilli(), CloudWatchMetrics: []directive{d}}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
