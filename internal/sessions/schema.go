// Package sessions holds the shape of the manga-assist-sessions table: its key
// attributes, stream settings and the sort-key prefixes of each item kind. The
// Pulumi component, the handlers and the tests all read it from here, so the
// table that is deployed and the table that is tested cannot drift apart.
package sessions

import (
	"regexp"
	"strings"
)

// DefaultTableName is the table's name unless a stack overrides it.
const DefaultTableName = "manga-assist-sessions"

// Key attributes: both are strings.
const (
	PartitionKey = "PK" // "SESSION#<session id>"
	SortKey      = "SK" // "META", "TURN#…", "SUMMARY#…", "HANDOFF#…"
)

// StreamViewType is what the stream carries: routers need the old image to
// report status transitions and the new one for everything else.
const StreamViewType = "NEW_AND_OLD_IMAGES"

// SessionPrefix starts every partition key.
const SessionPrefix = "SESSION#"

// Kind is the kind of an item, read from its sort key.
type Kind string

const (
	KindMeta    Kind = "meta"
	KindTurn    Kind = "turn"
	KindSummary Kind = "summary"
	KindHandoff Kind = "handoff"
	KindUnknown Kind = ""
)

// Sort keys and sort-key prefixes of each kind.
const (
	MetaSortKey   = "META"
	TurnPrefix    = "TURN#"
	SummaryPrefix = "SUMMARY#"
	HandoffPrefix = "HANDOFF#"
)

// PK returns the partition key of a session.
func PK(sessionID string) string { return SessionPrefix + sessionID }

// SessionID returns the session id of a partition key and whether the key had
// the session prefix.
func SessionID(pk string) (string, bool) { return strings.CutPrefix(pk, SessionPrefix) }

// KindOf returns the kind of the item with sort key sk, or KindUnknown.
func KindOf(sk string) Kind {
	switch {
	case sk == MetaSortKey:
		return KindMeta
	case strings.HasPrefix(sk, TurnPrefix):
		return KindTurn
	case strings.HasPrefix(sk, SummaryPrefix):
		return KindSummary
	case strings.HasPrefix(sk, HandoffPrefix):
		return KindHandoff
	default:
		return KindUnknown
	}
}

// TableNameRule says which table names DynamoDB accepts.
const TableNameRule = "must be 3 to 255 characters of letters, digits, '_', '-' and '.'"

var tableNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// ValidTableName reports whether DynamoDB accepts name as a table name.
func ValidTableName(name string) bool { return tableNamePattern.MatchString(name) }
