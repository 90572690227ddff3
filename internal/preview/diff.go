package preview

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Diff is what changed between the preview of a base (the target branch of a
// pull request) and the preview of a head (the change).
type Diff struct {
	Added, Removed []Resource
	Changed        []Change
	// Verdicts that the change brings and that it removes.
	NewViolations, GoneViolations []Violation
}

// Change is one resource whose inputs differ.
type Change struct {
	URN, Type, Name string
	Inputs          []InputChange
	// Replace: a changed input forces AWS or the provider to create a new
	// resource and delete the old one.
	Replace bool
}

// InputChange is one flattened input ("rules[0].expiration.days") before and
// after; Absent marks a side that does not have it.
type InputChange struct {
	Key, Old, New string
	Replaces      bool   // this input forces a replacement
	Note          string // what the change means, when it is not obvious
}

// Absent stands for an input that one side does not set.
const Absent = "(not set)"

// replacing lists, per type, the inputs whose change makes the provider
// replace the resource (ForceNew in the provider's schema), for the types of
// this project where a replacement loses data or breaks consumers.
var replacing = map[string][]string{
	"aws:dynamodb/table:Table":                                  {"name", "hashKey", "rangeKey"},
	"aws:dynamodb/tableReplica:TableReplica":                    {"globalTableArn", "kmsKeyArn"},
	"aws:s3/bucketV2:BucketV2":                                  {"bucket", "bucketPrefix"},
	"aws:kinesis/stream:Stream":                                 {"name"},
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {"name", "destination"},
	"aws:lambda/function:Function":                              {"name"},
	"aws:lambda/eventSourceMapping:EventSourceMapping":          {"eventSourceArn", "startingPosition"},
	"aws:glue/catalogDatabase:CatalogDatabase":                  {"name"},
	"aws:glue/catalogTable:CatalogTable":                        {"name", "databaseName"},
	"aws:athena/workgroup:Workgroup":                            {"name"},
	"aws:kms/key:Key":                                           {"multiRegion", "keyUsage", "customerMasterKeySpec"},
	"aws:sns/topic:Topic":                                       {"name"},
	"aws:sqs/queue:Queue":                                       {"name", "fifoQueue"},
	"aws:iam/role:Role":                                         {"name"},
	"aws:cloudwatch/logGroup:LogGroup":                          {"name"},
}

// notes explain changes that are in place but not harmless.
var notes = map[string]map[string]string{
	"aws:lambda/function:Function": {
		// CloudFormation's AWS::Lambda::Function: Architectures "Update
		// requires: No interruption"; Lambda applies it with the code.
		"architectures": "in place, with a new code deployment: the binary must be built for it",
	},
}

// LoadResult reads a preview saved with -json.
func LoadResult(path string) (Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("%s: not a preview saved with -json: %w", path, err)
	}
	return r, nil
}

// Compare reports what head changes relative to base.
func Compare(base, head Result) Diff {
	var d Diff
	baseByURN := map[string]Resource{}
	for _, r := range base.Resources {
		baseByURN[r.URN] = r
	}
	headURNs := map[string]bool{}
	for _, h := range head.Resources {
		headURNs[h.URN] = true
		b, ok := baseByURN[h.URN]
		if !ok {
			d.Added = append(d.Added, h)
			continue
		}
		if c, changed := compareInputs(b, h); changed {
			d.Changed = append(d.Changed, c)
		}
	}
	for _, b := range base.Resources {
		if !headURNs[b.URN] {
			d.Removed = append(d.Removed, b)
		}
	}
	key := func(v Violation) string { return v.Policy + "\x00" + v.URN + "\x00" + v.Message }
	baseV, headV := map[string]bool{}, map[string]bool{}
	for _, v := range base.Violations {
		baseV[key(v)] = true
	}
	for _, v := range head.Violations {
		headV[key(v)] = true
		if !baseV[key(v)] {
			d.NewViolations = append(d.NewViolations, v)
		}
	}
	for _, v := range base.Violations {
		if !headV[key(v)] {
			d.GoneViolations = append(d.GoneViolations, v)
		}
	}
	return d
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Changed)+len(d.NewViolations)+len(d.GoneViolations) == 0
}

func compareInputs(base, head Resource) (Change, bool) {
	old, cur := flatten("", base.Inputs), flatten("", head.Inputs)
	c := Change{URN: head.URN, Type: head.Type, Name: head.Name}
	keys := slices.Sorted(maps.Keys(old))
	for k := range cur {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		o, ok1 := old[k]
		n, ok2 := cur[k]
		if ok1 && ok2 && o == n {
			continue
		}
		if !ok1 {
			o = Absent
		}
		if !ok2 {
			n = Absent
		}
		ic := InputChange{Key: k, Old: o, New: n, Note: notes[head.Type][topKey(k)]}
		if slices.Contains(replacing[head.Type], topKey(k)) {
			ic.Replaces, c.Replace = true, true
		}
		c.Inputs = append(c.Inputs, ic)
	}
	return c, len(c.Inputs) > 0
}

// topKey is the input a flattened key belongs to: "rules[0].id" -> "rules".
func topKey(k string) string {
	if i := strings.IndexAny(k, ".["); i >= 0 {
		return k[:i]
	}
	return k
}

// flatten turns inputs into "a.b[0].c" keys and printable values. Secrets
// are already masked in the inputs ("[secret]"), so they stay masked here.
func flatten(prefix string, v any) map[string]string {
	out := map[string]string{}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 && key != "" {
				out[key] = "{}"
			}
			for k, e := range v {
				if key == "" {
					walk(k, e)
				} else {
					walk(key+"."+k, e)
				}
			}
		case []any:
			if len(v) == 0 {
				out[key] = "[]"
			}
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", key, i), e)
			}
		case nil:
			out[key] = "null"
		default:
			out[key] = fmt.Sprint(v)
		}
	}
	walk(prefix, v)
	return out
}
