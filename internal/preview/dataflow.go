package preview

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// dataKinds are the resource types data passes through, with the word a
// reviewer knows them by. Everything else (roles, policies, keys, aliases,
// log groups, alarms, bucket settings) is support and left out of the
// data-flow picture.
var dataKinds = map[string]string{
	"aws:dynamodb/table:Table":                                  "DynamoDB table",
	"aws:dynamodb/tableReplica:TableReplica":                    "replica",
	"aws:lambda/eventSourceMapping:EventSourceMapping":          "stream trigger",
	"aws:lambda/function:Function":                              "Lambda",
	"aws:kinesis/stream:Stream":                                 "Kinesis stream",
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "Firehose",
	"aws:s3/bucketV2:BucketV2":                                  "S3 bucket",
	"aws:glue/catalogTable:CatalogTable":                        "Glue table",
	"aws:athena/workgroup:Workgroup":                            "Athena workgroup",
	"aws:scheduler/schedule:Schedule":                           "schedule",
	"aws:sfn/stateMachine:StateMachine":                         "state machine",
	"aws:backup/vault:Vault":                                    "backup vault",
}

// flow is one kind of edge: data moves from a resource of type from to one
// of type to, labelled with what moves. The two must be linked: one uses the
// other's outputs, or (sibling) they are children of the same component.
type flow struct {
	from, to, label string
	sibling         bool
	side            bool // not the main path: drawn dotted
}

// flows lists the edges in the order data moves; the first rule that links
// two resources names their edge.
var flows = []flow{
	{from: "aws:dynamodb/table:Table", to: "aws:lambda/eventSourceMapping:EventSourceMapping", label: "stream records"},
	{from: "aws:lambda/eventSourceMapping:EventSourceMapping", to: "aws:lambda/function:Function", label: "batches"},
	{from: "aws:lambda/eventSourceMapping:EventSourceMapping", to: "aws:s3/bucketV2:BucketV2", label: "failed batches", side: true},
	{from: "aws:lambda/function:Function", to: "aws:kinesis/stream:Stream", label: "PutRecords"},
	{from: "aws:kinesis/stream:Stream", to: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", label: "records"},
	{from: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", to: "aws:s3/bucketV2:BucketV2", label: "Parquet"},
	{from: "aws:glue/catalogTable:CatalogTable", to: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", label: "schema", side: true},
	{from: "aws:s3/bucketV2:BucketV2", to: "aws:glue/catalogTable:CatalogTable", label: "partitions"},
	{from: "aws:glue/catalogTable:CatalogTable", to: "aws:athena/workgroup:Workgroup", label: "SQL", sibling: true},
	{from: "aws:athena/workgroup:Workgroup", to: "aws:s3/bucketV2:BucketV2", label: "results"},
	{from: "aws:dynamodb/table:Table", to: "aws:dynamodb/tableReplica:TableReplica", label: "replication"},
	{from: "aws:scheduler/schedule:Schedule", to: "aws:lambda/function:Function", label: "invokes"},
	{from: "aws:scheduler/schedule:Schedule", to: "aws:sfn/stateMachine:StateMachine", label: "starts"},
	{from: "aws:dynamodb/table:Table", to: "aws:lambda/function:Function", label: "exports"},
	{from: "aws:lambda/function:Function", to: "aws:s3/bucketV2:BucketV2", label: "exports"},
	{from: "aws:dynamodb/table:Table", to: "aws:backup/vault:Vault", label: "backups"},
	{from: "aws:backup/vault:Vault", to: "aws:backup/vault:Vault", label: "copies"},
}

// connectors are support resources that join two data resources by name:
// the input holding the source's name and the one holding the target's.
var connectors = []struct{ typ, fromInput, toInput, label string }{
	{"aws:s3/bucketLoggingV2:BucketLoggingV2", "bucket", "targetBucket", "access logs"}, // drawn dotted
}

// DataFlow is the data-flow picture of a preview: the resources data passes
// through, grouped by component, and edges in the direction data moves.
type DataFlow struct {
	Nodes []FlowNode
	Edges []FlowEdge
}

// FlowNode is one resource of the picture.
type FlowNode struct {
	ID, URN, Type, Label string
	Group                string // URN of the component it is drawn in; "" for none
	Violation            bool   // a mandatory policy violation on it or its support
}

// FlowEdge is data moving From one node To another; Side edges (failed
// records, schemas, access logs) are off the main path.
type FlowEdge struct {
	From, To, Label string
	Side            bool
}

// BuildDataFlow derives the picture from r.
func BuildDataFlow(r Result) DataFlow {
	byURN := map[string]Resource{}
	for _, res := range r.Resources {
		byURN[res.URN] = res
	}
	top := func(urn string) string { // the component just under the stack
		for p := byURN[urn].Parent; p != "" && p != r.StackURN(); p = byURN[p].Parent {
			urn = p
		}
		return urn
	}

	var df DataFlow
	index := map[string]int{}
	perGroup := map[string]int{}
	for _, res := range r.Resources {
		kind, ok := dataKinds[res.Type]
		if !ok {
			continue
		}
		index[res.URN] = len(df.Nodes)
		group := top(res.URN)
		if group == res.URN {
			group = ""
		}
		perGroup[group]++
		if reg := r.RegionOf(res); reg != r.Region {
			kind += " in " + reg
		}
		df.Nodes = append(df.Nodes, FlowNode{
			ID: fmt.Sprintf("n%d", len(df.Nodes)), URN: res.URN, Type: res.Type, Group: group,
			Label: kind + "<br/>" + physicalName(res),
		})
	}
	// Nodes in the order data reaches them, so the picture reads left to right.
	slices.SortStableFunc(df.Nodes, func(a, b FlowNode) int { return flowRank(a.Type) - flowRank(b.Type) })
	for i := range df.Nodes {
		df.Nodes[i].ID = fmt.Sprintf("n%d", i)
		index[df.Nodes[i].URN] = i
	}
	// A component with one data resource is drawn as that resource alone.
	for i := range df.Nodes {
		if perGroup[df.Nodes[i].Group] < 2 {
			df.Nodes[i].Group = ""
		}
	}

	linked := func(a, b Resource) bool {
		return slices.Contains(a.Dependencies, b.URN) || slices.Contains(b.Dependencies, a.URN)
	}
	seen := map[[2]int]bool{}
	add := func(from, to int, label string, side bool) {
		if from == to || seen[[2]int{from, to}] || seen[[2]int{to, from}] {
			return
		}
		seen[[2]int{from, to}] = true
		df.Edges = append(df.Edges, FlowEdge{From: df.Nodes[from].ID, To: df.Nodes[to].ID, Label: label, Side: side})
	}
	for _, f := range flows {
		for _, a := range df.Nodes {
			if a.Type != f.from {
				continue
			}
			for _, b := range df.Nodes {
				if b.Type != f.to || a.URN == b.URN {
					continue
				}
				ra, rb := byURN[a.URN], byURN[b.URN]
				if linked(ra, rb) || f.sibling && ra.Parent == rb.Parent {
					add(index[a.URN], index[b.URN], f.label, f.side)
				}
			}
		}
	}
	byName := map[string]int{}
	for _, n := range df.Nodes {
		byName[physicalName(byURN[n.URN])] = index[n.URN]
		if id := byURN[n.URN].ID; id != "" {
			byName[id] = index[n.URN]
		}
	}
	for _, c := range connectors {
		for _, res := range r.Find(c.typ) {
			from, okFrom := byName[inputString(res, c.fromInput)]
			to, okTo := byName[inputString(res, c.toInput)]
			if okFrom && okTo {
				add(from, to, c.label, true)
			}
		}
	}

	// A mandatory verdict marks its resource, or the one data resource of
	// the nearest component that holds any.
	for _, v := range r.Mandatory() {
		for urn := v.URN; urn != ""; urn = byURN[urn].Parent {
			if i, ok := index[urn]; ok {
				df.Nodes[i].Violation = true
				break
			}
			var inside []int
			for i, n := range df.Nodes {
				if within(byURN, n.URN, urn) {
					inside = append(inside, i)
				}
			}
			if len(inside) > 0 {
				for _, i := range inside {
					df.Nodes[i].Violation = true
				}
				break
			}
		}
	}
	return df
}

// flowRank is where a type first appears in flows.
func flowRank(typ string) int {
	for i, f := range flows {
		if f.from == typ || f.to == typ {
			return i
		}
	}
	return len(flows)
}

func within(byURN map[string]Resource, urn, ancestor string) bool {
	for ; urn != ""; urn = byURN[urn].Parent {
		if urn == ancestor {
			return true
		}
	}
	return false
}

// physicalName is the name AWS knows a resource by when the program sets
// it, else its logical name.
func physicalName(res Resource) string {
	if arn, ok := res.Inputs["globalTableArn"].(string); ok { // a replica bears its table's name
		if _, name, found := strings.Cut(arn, ":table/"); found {
			return name
		}
	}
	for _, key := range []string{"name", "bucket"} {
		if s, ok := res.Inputs[key].(string); ok && s != "" && s != "(known after deploy)" {
			return s
		}
	}
	return res.Name
}

func inputString(res Resource, key string) string {
	s, _ := res.Inputs[key].(string)
	return s
}

// WriteMermaid writes the data-flow picture as a Mermaid flowchart: a
// subgraph per component with more than one data resource, an edge per
// flow, labelled, and mandatory violations in red.
func WriteMermaid(w io.Writer, r Result) error {
	df := BuildDataFlow(r)
	byURN := map[string]Resource{}
	for _, res := range r.Resources {
		byURN[res.URN] = res
	}
	p := &printer{w: w}
	p.printf("%%%% %s/%s: data flow, generated by cmd/preview\nflowchart LR\n", r.Project, r.Stack)
	var groups []string
	for _, n := range df.Nodes {
		if n.Group != "" && !slices.Contains(groups, n.Group) {
			groups = append(groups, n.Group)
		}
	}
	for i, g := range groups {
		p.printf("  subgraph g%d[\"%s\"]\n", i, mermaidText(componentLabel(byURN[g])))
		for _, n := range df.Nodes {
			if n.Group == g {
				p.printf("    %s\n", mermaidNode(n))
			}
		}
		p.printf("  end\n")
	}
	for _, n := range df.Nodes {
		if n.Group == "" {
			p.printf("  %s\n", mermaidNode(n))
		}
	}
	for _, e := range df.Edges {
		arrow := "-->"
		if e.Side {
			arrow = "-.->"
		}
		p.printf("  %s %s|%s| %s\n", e.From, arrow, mermaidText(e.Label), e.To)
	}
	var marked []string
	for _, n := range df.Nodes {
		if n.Violation {
			marked = append(marked, n.ID)
		}
	}
	if len(marked) > 0 {
		p.printf("  classDef violation fill:#fdd,stroke:#c00,stroke-width:3px\n  class %s violation\n", strings.Join(marked, ","))
	}
	return p.err
}

func mermaidNode(n FlowNode) string {
	label := n.Label
	if n.Violation {
		label = "⚠ " + label
	}
	shape := `%s["%s"]`
	if n.Type == "aws:s3/bucketV2:BucketV2" || n.Type == "aws:dynamodb/table:Table" || n.Type == "aws:dynamodb/tableReplica:TableReplica" {
		shape = `%s[("%s")]` // stores are cylinders
	}
	return fmt.Sprintf(shape, n.ID, mermaidText(label))
}

func componentLabel(res Resource) string {
	typ := res.Type
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + " " + res.Name
}

func mermaidText(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }
