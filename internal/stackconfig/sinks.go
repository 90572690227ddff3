package stackconfig

import "regexp"

// The optional sinks of the processed layer are off while their setting is
// empty; a value turns one on and names who gets access to it.
var (
	// quickSightPrincipal is a QuickSight user or group ARN. Its region is
	// QuickSight's identity region, which may differ from the stack's.
	quickSightPrincipal = regexp.MustCompile(`^arn:aws(-[a-z]+)*:quicksight:[a-z0-9-]+:\d{12}:(user|group)/[^/\s]+/[^/\s]+$`)
	// openSearchPrincipal is an IAM role or user ARN: OpenSearch Serverless
	// data access policies name IAM users and roles (or SAML identities),
	// not groups (OpenSearch Service Developer Guide, "Data access control
	// for Amazon OpenSearch Serverless").
	openSearchPrincipal = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$`)
)

// QuickSightPrincipalProblem says what is wrong with a QuickSight principal
// ARN, or "".
func QuickSightPrincipalProblem(arn string) string {
	if quickSightPrincipal.MatchString(arn) {
		return ""
	}
	return "must be a QuickSight user or group ARN, arn:aws:quicksight:<region>:<account>:user/<namespace>/<name> (or group/...)"
}

// OpenSearchPrincipalProblem says what is wrong with the ARN of an
// OpenSearch Serverless reader, or "".
func OpenSearchPrincipalProblem(arn string) string {
	if openSearchPrincipal.MatchString(arn) {
		return ""
	}
	return "must be an IAM role or user ARN, arn:aws:iam::<account>:role/<name> (a data access policy takes no groups)"
}

// checkSinks applies the sinks' rules: a setting that is set must name a
// principal of the right kind.
func (s Settings) checkSinks(bad func(key, value, format string, args ...any)) {
	if s.QuickSightPrincipalARN != "" {
		if p := QuickSightPrincipalProblem(s.QuickSightPrincipalARN); p != "" {
			bad(FullKey("quicksightPrincipalArn"), s.QuickSightPrincipalARN, "%s", p)
		}
	}
	if s.OpenSearchReaderARN != "" {
		if p := OpenSearchPrincipalProblem(s.OpenSearchReaderARN); p != "" {
			bad(FullKey("openSearchReaderArn"), s.OpenSearchReaderARN, "%s", p)
		}
	}
}

// The sinks' descriptions, here for their length; Pulumi.yaml repeats them.
const (
	QuickSightDescription = "QuickSight user or group ARN (arn:aws:quicksight:<region>:<account>:user/<namespace>/<name>) that owns " +
		"an Athena data source and a direct-query data set over the processed table; empty leaves the QuickSight sink off. " +
		"Costs: QuickSight's own per-user pricing, and the Athena scans each visual runs."
	OpenSearchDescription = "IAM role or user ARN that may read an OpenSearch Serverless time-series collection, which an OpenSearch " +
		"Ingestion pipeline fills with every event from the events stream; empty leaves the sink off. Costs at least 2 " +
		"OCUs around the clock, 1 for the collection and 1 for the pipeline (dev stacks, no standby replicas: about " +
		"$350 a month) or 3 (other stacks: about $525 a month) at $0.24 per OCU-hour, plus storage. Events may repeat: " +
		"count them by unique change_id."
)
