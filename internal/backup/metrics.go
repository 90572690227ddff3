package backup

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of the orchestrator's metrics.
const Namespace = "MangaAssist/BackupOrchestrator"

// TableDimension is the one dimension of every metric: the table's name, so
// that each stack's alarms watch their own table.
const TableDimension = "TableName"

// Metric names, also used by the BackupSchedule component's alarms.
const (
	MetricExportsStarted     = "ExportsStarted"
	MetricExportsCompleted   = "ExportsCompleted"
	MetricExportsFailed      = "ExportsFailed"
	MetricExportsInFlight    = "ExportsInFlight"
	MetricWatermarkLag       = "WatermarkLagSeconds"
	MetricFullExportAge      = "NewestFullExportAgeSeconds"
	MetricChainRebased       = "ChainRebased"
	MetricTransientErrors    = "TransientErrors"
	MetricExportsAbandoned   = "ExportsAbandoned"
	MetricFullExportsOverdue = "FullExportsOverdue"
)

// Metrics are the counts and gauges of one run, written as one CloudWatch
// Embedded Metric Format line: CloudWatch Logs extracts them, no CloudWatch
// client is needed.
type Metrics struct {
	Started, Completed, Failed, InFlight, Rebased, Transient, Abandoned, Overdue int
	// WatermarkLag is now minus the watermark (or minus the first run while
	// no base export has completed); LagKnown is false when the run could
	// not read the state, and the lag is then left out rather than sent as
	// 0 (the lag alarm treats a missing value as breaching).
	WatermarkLag time.Duration
	LagKnown     bool
	// FullExportAge is now minus the newest completed full export's time;
	// zero while there is none.
	FullExportAge time.Duration
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// WriteEMF writes m as one EMF JSON line stamped at ts.
func (m Metrics) WriteEMF(w io.Writer, ts time.Time, table string) error {
	values := []struct {
		name, unit string
		value      float64
	}{
		{MetricExportsStarted, "Count", float64(m.Started)},
		{MetricExportsCompleted, "Count", float64(m.Completed)},
		{MetricExportsFailed, "Count", float64(m.Failed)},
		{MetricExportsInFlight, "Count", float64(m.InFlight)},
		{MetricChainRebased, "Count", float64(m.Rebased)},
		{MetricTransientErrors, "Count", float64(m.Transient)},
		{MetricExportsAbandoned, "Count", float64(m.Abandoned)},
		{MetricFullExportsOverdue, "Count", float64(m.Overdue)},
	}
	if m.LagKnown {
		values = append(values, struct {
			name, unit string
			value      float64
		}{MetricWatermarkLag, "Seconds", m.WatermarkLag.Seconds()})
	}
	if m.FullExportAge > 0 {
		values = append(values, struct {
			name, unit string
			value      float64
		}{MetricFullExportAge, "Seconds", m.FullExportAge.Seconds()})
	}
	line := map[string]any{TableDimension: table}
	directive := emfDirective{Namespace: Namespace, Dimensions: [][]string{{TableDimension}}}
	for _, v := range values {
		directive.Metrics = append(directive.Metrics, emfMetric{Name: v.name, Unit: v.unit})
		line[v.name] = v.value
	}
	line["_aws"] = emfMetadata{Timestamp: ts.UnixMilli(), CloudWatchMetrics: []emfDirective{directive}}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n')) // one Write: one log line
	return err
}
