package components

import (
	"fmt"
	"regexp"
)

// nameRule is what AWS accepts as the name of one kind of resource. Names the
// components build from a prefix and the stack name are checked against it
// when the component is created, so a long or odd stack name fails with a
// message that names it, not halfway through a deployment.
type nameRule struct {
	kind    string
	max     int
	pattern *regexp.Regexp
	charset string // pattern in words, for the message
	doc     string // where AWS states the rule
}

var (
	// S3 "Bucket naming rules": 3-63 characters; lower-case letters,
	// digits, dots and hyphens; begins and ends with a letter or digit.
	bucketNameRule = nameRule{"S3 bucket", 63, regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`),
		"lower-case letters, digits, dots and hyphens", "S3 User Guide, Bucket naming rules"}
	// Lambda CreateFunction: FunctionName up to 64 characters, [a-zA-Z0-9-_]+.
	lambdaNameRule = nameRule{"Lambda function", 64, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
		"letters, digits, hyphens and underscores", "Lambda API Reference, CreateFunction"}
	// Firehose CreateDeliveryStream: DeliveryStreamName 1-64, [a-zA-Z0-9_.-]+.
	firehoseNameRule = nameRule{"Firehose stream", 64, regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`),
		"letters, digits, dots, hyphens and underscores", "Firehose API Reference, CreateDeliveryStream"}
	// Kinesis CreateStream: StreamName 1-128, [a-zA-Z0-9_.-]+.
	kinesisNameRule = nameRule{"Kinesis stream", 128, regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`),
		"letters, digits, dots, hyphens and underscores", "Kinesis API Reference, CreateStream"}
	// Athena CreateWorkGroup: Name 1-128, [a-zA-Z0-9._-]{1,128}.
	workgroupNameRule = nameRule{"Athena workgroup", 128, regexp.MustCompile(`^[a-zA-Z0-9._-]+$`),
		"letters, digits, dots, hyphens and underscores", "Athena API Reference, CreateWorkGroup"}
	// Glue stores database names in lower case (Athena "Names for tables,
	// databases, and columns"); a mixed-case name would differ on every
	// refresh. Up to 255 characters.
	glueDatabaseNameRule = nameRule{"Glue database", 255, regexp.MustCompile(`^[a-z0-9_]+$`),
		"lower-case letters, digits and underscores", "Athena User Guide, Names for tables, databases, and columns"}
)

// problem returns what is wrong with name for stack, or "".
func (r nameRule) problem(field, name, stack string) string {
	switch {
	case len(name) > r.max:
		return fmt.Sprintf("%s %q (stack %q) is %d characters; a %s name may have at most %d (%s): use a shorter stack name or Name",
			field, name, stack, len(name), r.kind, r.max, r.doc)
	case !r.pattern.MatchString(name):
		return fmt.Sprintf("%s %q (stack %q): a %s name may hold only %s (%s)",
			field, name, stack, r.kind, r.charset, r.doc)
	}
	return ""
}
