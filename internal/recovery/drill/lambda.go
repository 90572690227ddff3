package drill

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/manga-assist/manga-assist-data/internal/emf"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
)

// The scheduled drill's verification step (handlers/restoredrill): the
// Step Functions machine restores and waits, then hands this the two
// tables; it verifies, writes the drill's metrics as one CloudWatch Embedded
// Metric Format line, and answers whether the drill passed. The machine
// deletes the scratch table whatever the answer.

// Metric namespace and names of the drill (components.RestoreDrill alarms on them).
const (
	MetricNamespace = "MangaAssist/RestoreDrill"
	MetricDimension = "SourceTable"
	MetricFailed    = "DrillFailed"
	MetricRTO       = "RTOSeconds"
	MetricItems     = "ItemCount"
)

// VerifyRequest is the verification step's input.
type VerifyRequest struct {
	SourceTable  string    `json:"source_table"`
	ScratchTable string    `json:"scratch_table"`
	Sample       int       `json:"sample"`
	Tolerance    float64   `json:"tolerance"`
	Started      time.Time `json:"started"` // the execution's start: the RTO runs from it
}

// VerifyResult is its output.
type VerifyResult struct {
	Verification
	Passed     bool    `json:"passed"`
	RTOSeconds float64 `json:"rto_seconds"`
}

// Verifier verifies a drill's scratch table.
type Verifier struct {
	DynamoDB table.DynamoDB
	Metrics  io.Writer // EMF lines; Lambda sends stdout to CloudWatch Logs
	Now      func() time.Time
}

// Handle checks the request, verifies, and writes the metrics.
func (v Verifier) Handle(ctx context.Context, req VerifyRequest) (VerifyResult, error) {
	if req.SourceTable == "" || req.ScratchTable == "" {
		return VerifyResult{}, fmt.Errorf("source_table and scratch_table are required, got %q and %q", req.SourceTable, req.ScratchTable)
	}
	if req.Sample <= 0 {
		req.Sample = 100
	}
	if req.Tolerance < 0 || req.Tolerance >= 1 {
		return VerifyResult{}, fmt.Errorf("tolerance %g: must be at least 0 and below 1", req.Tolerance)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ver, err := Verify(ctx, v.DynamoDB, req.SourceTable, req.ScratchTable, req.Sample, req.Tolerance)
	if err != nil {
		return VerifyResult{}, err
	}
	res := VerifyResult{Verification: ver, Passed: len(ver.Mismatches) == 0}
	if !req.Started.IsZero() {
		res.RTOSeconds = now().Sub(req.Started).Seconds()
	}
	failed := 1.0
	if res.Passed {
		failed = 0
	}
	if v.Metrics != nil {
		if err := emf.Write(v.Metrics, now(), MetricNamespace, MetricDimension, req.SourceTable, []emf.Metric{
			{Name: MetricFailed, Unit: "Count", Value: failed},
			{Name: MetricRTO, Unit: "Seconds", Value: res.RTOSeconds},
			{Name: MetricItems, Unit: "Count", Value: float64(res.Count)},
		}); err != nil {
			return res, fmt.Errorf("write the drill's metrics: %w", err)
		}
	}
	return res, nil
}
