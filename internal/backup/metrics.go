package backup

import (
	"io"
	"time"

	"github.com/manga-assist/manga-assist-data/internal/emf"
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

// WriteEMF writes m as one EMF JSON line stamped at ts.
func (m Metrics) WriteEMF(w io.Writer, ts time.Time, table string) error {
	values := []emf.Metric{
		{Name: MetricExportsStarted, Unit: "Count", Value: float64(m.Started)},
		{Name: MetricExportsCompleted, Unit: "Count", Value: float64(m.Completed)},
		{Name: MetricExportsFailed, Unit: "Count", Value: float64(m.Failed)},
		{Name: MetricExportsInFlight, Unit: "Count", Value: float64(m.InFlight)},
		{Name: MetricChainRebased, Unit: "Count", Value: float64(m.Rebased)},
		{Name: MetricTransientErrors, Unit: "Count", Value: float64(m.Transient)},
		{Name: MetricExportsAbandoned, Unit: "Count", Value: float64(m.Abandoned)},
		{Name: MetricFullExportsOverdue, Unit: "Count", Value: float64(m.Overdue)},
	}
	if m.LagKnown {
		values = append(values, emf.Metric{Name: MetricWatermarkLag, Unit: "Seconds", Value: m.WatermarkLag.Seconds()})
	}
	if m.FullExportAge > 0 {
		values = append(values, emf.Metric{Name: MetricFullExportAge, Unit: "Seconds", Value: m.FullExportAge.Seconds()})
	}
	return emf.Write(w, ts, Namespace, TableDimension, table, values)
}
