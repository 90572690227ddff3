package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// StateVersion is the version of the state document this code writes.
const StateVersion = 1

// MaxStateBytes is the largest value a standard-tier SSM parameter holds
// (Systems Manager User Guide, "Managing parameter tiers": 4 KB). The state
// stays far below it: at most MaxInFlight exports and a few requests.
const MaxStateBytes = 4096

// Kind is what an export is for.
type Kind string

const (
	// Incremental is one window [From, To) of the chain.
	Incremental Kind = "incremental"
	// Base is a full export the chain starts, or restarts, from.
	Base Kind = "base"
	// Full is a full export on its own schedule: a restore point that
	// shortens replay. The chain does not depend on it.
	Full Kind = "full"
)

// Export is an export the orchestrator requested and has not finished with.
type Export struct {
	Kind Kind `json:"kind"`
	// Arn is the export's ARN; empty while the request is only an intent:
	// recorded before the call, so a crash between the call and the next
	// save is found again (by its token and by ListExports), never lost.
	Arn string `json:"arn,omitempty"`
	// From and To bound an incremental window: From inclusive, To exclusive.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// ExportTime is the point in time of a full (or base) export.
	ExportTime time.Time `json:"exportTime,omitzero"`
	// Attempt counts restarts after FAILED; it is part of the token, since a
	// token reused within 8 hours would return the failed export again.
	Attempt int `json:"attempt,omitempty"`
	// Completed is set on an incremental that completed before a window
	// ahead of it: it waits for the chain to reach it.
	Completed bool `json:"completed,omitempty"`
	// RequestedAt is when the intent was recorded.
	RequestedAt time.Time `json:"requestedAt,omitzero"`
}

// Label names an export in logs: "incremental 2026-01-02T01:50:00Z..2026-01-03T01:50:00Z".
func (e Export) Label() string {
	if e.Kind == Incremental {
		return fmt.Sprintf("incremental %s..%s", stamp(e.From), stamp(e.To))
	}
	return fmt.Sprintf("%s at %s", e.Kind, stamp(e.ExportTime))
}

// Restored is a completed full export: the base of the chain, or the
// newest restore point.
type Restored struct {
	Arn        string    `json:"arn"`
	ExportTime time.Time `json:"exportTime"`
}

// State is everything the orchestrator remembers between runs, kept as one
// JSON document in an SSM parameter.
type State struct {
	Version int `json:"version"`
	// TableArn is the table the state belongs to; a state of another table is refused.
	TableArn string `json:"tableArn,omitempty"`
	// CreatedAt is the first run; the watermark lag counts from it until a
	// base export completes.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Base is the full export the chain starts from; the chain covers
	// [Base.ExportTime, Watermark) without a gap.
	Base *Restored `json:"base,omitempty"`
	// Watermark moves only when the export ending there has completed.
	Watermark time.Time `json:"watermark,omitzero"`
	// LatestFull is the newest completed full export (base or scheduled).
	LatestFull *Restored `json:"latestFull,omitempty"`
	// Broken says why the chain cannot go on from the watermark (a window
	// failed every attempt); the next run rebases on a full export.
	Broken string `json:"broken,omitempty"`
	// InFlight are the exports requested and not yet accounted for.
	InFlight []Export `json:"inFlight,omitempty"`
	// FullRequests are scheduled full exports not started yet, by export time.
	FullRequests []time.Time `json:"fullRequests,omitempty"`
}

// DecodeState parses a state document; an empty one ("" or "{}") is the
// state before the first run.
func DecodeState(raw string) (State, error) {
	var s State
	if raw == "" {
		return State{Version: StateVersion}, nil
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return State{}, fmt.Errorf("state is not valid JSON: %w", err)
	}
	switch s.Version {
	case 0:
		s.Version = StateVersion // "{}", as the component creates it
	case StateVersion:
	default:
		return State{}, fmt.Errorf("state version %d: this orchestrator reads version %d", s.Version, StateVersion)
	}
	return s, nil
}

// Encode renders the state, refusing one too large for its parameter.
func (s State) Encode() (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	if len(b) > MaxStateBytes {
		return "", fmt.Errorf("state is %d bytes, more than the %d a standard SSM parameter holds (%d exports in flight)",
			len(b), MaxStateBytes, len(s.InFlight))
	}
	return string(b), nil
}

// Clone is a deep copy.
func (s State) Clone() State {
	c := s
	c.InFlight = slices.Clone(s.InFlight)
	c.FullRequests = slices.Clone(s.FullRequests)
	if s.Base != nil {
		b := *s.Base
		c.Base = &b
	}
	if s.LatestFull != nil {
		f := *s.LatestFull
		c.LatestFull = &f
	}
	return c
}

// ClientToken is the deterministic idempotency token of an export request:
// the same table, type, window (or export time), view, destination and
// attempt always give the same token, so a retried invocation repeats the
// request instead of starting a second export (DynamoDB API Reference,
// ExportTableToPointInTime: a token is valid for 8 hours after the request
// completes). The destination is part of it because the same token with
// other parameters is an ExportConflictException.
func ClientToken(tableArn string, e Export, bucket, prefix string) string {
	from, to := e.From, e.To
	exportType := "FULL_EXPORT"
	if e.Kind == Incremental {
		exportType = "INCREMENTAL_EXPORT"
	} else {
		from, to = e.ExportTime, e.ExportTime
	}
	sum := sha256.Sum256([]byte(tableArn + "|" + exportType + "|" + stamp(from) + "|" + stamp(to) + "|" +
		ViewType + "|" + bucket + "|" + prefix + "|" + strconv.Itoa(e.Attempt)))
	return hex.EncodeToString(sum[:16])
}

// stamp formats a time the same way everywhere: UTC, milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
