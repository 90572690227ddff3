package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func previewOf(t *testing.T, prog pulumi.RunFunc, stack string) preview.Result {
	t.Helper()
	r, err := previewStack(prog, projectDir, stack, io.Discard)
	require.NoError(t, err)
	return r
}

// edge finds the edge of the picture from a node of type from to one of
// type to, with that label.
func hasEdge(df preview.DataFlow, from, to, label string) bool {
	types := map[string]string{}
	for _, n := range df.Nodes {
		types[n.ID] = n.Type
	}
	for _, e := range df.Edges {
		if types[e.From] == from && types[e.To] == to && e.Label == label {
			return true
		}
	}
	return false
}

func TestDataFlowPictureFollowsTheData(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			result := previewOf(t, program.Run, stack)
			df := preview.BuildDataFlow(result)
			assert.GreaterOrEqual(t, len(df.Nodes), 10)
			// A standby region adds its own path (prod: us-west-2).
			assert.LessOrEqual(t, len(df.Nodes), 40, "readable: about 40 nodes at most")
			ids := map[string]bool{}
			for _, n := range df.Nodes {
				ids[n.ID] = true
			}
			for _, e := range df.Edges {
				assert.True(t, ids[e.From] && ids[e.To], "edge %v joins nodes that exist", e)
			}
			// The data path, end to end, in the direction data moves.
			for _, hop := range []struct{ from, to, label string }{
				{"aws:dynamodb/table:Table", "aws:lambda/eventSourceMapping:EventSourceMapping", "stream records"},
				{"aws:lambda/eventSourceMapping:EventSourceMapping", "aws:lambda/function:Function", "batches"},
				{"aws:lambda/function:Function", "aws:kinesis/stream:Stream", "PutRecords"},
				{"aws:kinesis/stream:Stream", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "records"},
				{"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "aws:s3/bucketV2:BucketV2", "Parquet"},
				{"aws:s3/bucketV2:BucketV2", "aws:glue/catalogTable:CatalogTable", "partitions"},
				{"aws:glue/catalogTable:CatalogTable", "aws:athena/workgroup:Workgroup", "SQL"},
				{"aws:athena/workgroup:Workgroup", "aws:s3/bucketV2:BucketV2", "results"},
			} {
				assert.True(t, hasEdge(df, hop.from, hop.to, hop.label), "%s -%s-> %s", hop.from, hop.label, hop.to)
			}
			for _, n := range df.Nodes {
				assert.NotContains(t, n.Type, "iam/", "support resources are left out")
				assert.False(t, n.Violation, "%s: no mandatory violation in the unchanged program", n.Label)
			}
		})
	}
}

func TestDataFlowMarksMandatoryViolations(t *testing.T) {
	pitrOff := mutated(onType("aws:dynamodb/table:Table", func(p pulumi.Input) {
		p.(*dynamodb.TableArgs).PointInTimeRecovery = &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(false)}
	}), nil)
	unversioned := mutated(onType("aws:s3/bucketVersioningV2:BucketVersioningV2", func(p pulumi.Input) {
		p.(*s3.BucketVersioningV2Args).VersioningConfiguration = &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Suspended")}
	}), nil)
	for name, c := range map[string]struct {
		prog   pulumi.RunFunc
		marked string
	}{
		"on the resource itself":               {pitrOff, "aws:dynamodb/table:Table"},
		"through the component's support part": {unversioned, "aws:s3/bucketV2:BucketV2"},
	} {
		t.Run(name, func(t *testing.T) {
			result := previewOf(t, c.prog, "prod")
			require.NotEmpty(t, result.Mandatory())
			marked := 0
			for _, n := range preview.BuildDataFlow(result).Nodes {
				if n.Violation {
					marked++
					assert.Equal(t, c.marked, n.Type)
				}
			}
			assert.Positive(t, marked)
			var chart bytes.Buffer
			require.NoError(t, preview.WriteMermaid(&chart, result))
			assert.Contains(t, chart.String(), "class ")
			assert.Contains(t, chart.String(), "⚠ ")
		})
	}
}

// The dev picture as it is committed: a change to the picture is a change to
// review. Rewrite with `go test ./cmd/preview -run Golden -update`.
func TestDataFlowGoldenDev(t *testing.T) {
	var chart bytes.Buffer
	require.NoError(t, preview.WriteMermaid(&chart, previewOf(t, program.Run, "dev")))
	golden := filepath.Join("testdata", "dev-dataflow.mmd")
	if *update {
		require.NoError(t, os.WriteFile(golden, chart.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), chart.String())
}

func TestDiffReportsExactlyTheChangedInput(t *testing.T) {
	sc, err := preview.LoadStackConfig(projectDir, "prod")
	require.NoError(t, err)
	base, err := preview.Run(program.Run, sc.Project, "prod", "us-east-1", sc.Values)
	require.NoError(t, err)
	sc.Values["manga-assist-data:kinesisRetentionHours"] = "200"
	head, err := preview.Run(program.Run, sc.Project, "prod", "us-east-1", sc.Values)
	require.NoError(t, err)

	d := preview.Compare(base, head)
	assert.Empty(t, d.Added)
	assert.Empty(t, d.Removed)
	require.Len(t, d.Changed, 2, "the events stream of the pipeline and of its us-west-2 standby")
	for _, c := range d.Changed {
		assert.Equal(t, "aws:kinesis/stream:Stream", c.Type)
		assert.Equal(t, []preview.InputChange{{Key: "retentionPeriod", Old: "168", New: "200"}}, c.Inputs)
		assert.False(t, c.Replace)
	}
	assert.True(t, preview.Compare(head, head).Empty())
}

func TestDiffReportsARemovedBucket(t *testing.T) {
	withStray := mutated(nil, func(ctx *pulumi.Context) error {
		_, err := s3.NewBucketV2(ctx, "stray", &s3.BucketV2Args{})
		return err
	})
	d := preview.Compare(previewOf(t, withStray, "dev"), previewOf(t, program.Run, "dev"))
	require.Len(t, d.Removed, 1)
	assert.Equal(t, "stray", d.Removed[0].Name)
	assert.Empty(t, d.Added)
	assert.Empty(t, d.Changed)
	// Its policy verdicts went away with it.
	assert.NotEmpty(t, d.GoneViolations)
}

func TestDiffFlagsATableKeyChangeAsAReplacement(t *testing.T) {
	newKey := mutated(onType("aws:dynamodb/table:Table", func(p pulumi.Input) {
		args := p.(*dynamodb.TableArgs)
		args.HashKey = pulumi.String("session_id")
		args.Attributes = append(args.Attributes.(dynamodb.TableAttributeArray),
			&dynamodb.TableAttributeArgs{Name: pulumi.String("session_id"), Type: pulumi.String("S")})
	}), nil)
	d := preview.Compare(previewOf(t, program.Run, "prod"), previewOf(t, newKey, "prod"))
	require.Len(t, d.Changed, 1)
	c := d.Changed[0]
	assert.Equal(t, "aws:dynamodb/table:Table", c.Type)
	assert.True(t, c.Replace)
	var replacing []string
	for _, in := range c.Inputs {
		if in.Replaces {
			replacing = append(replacing, in.Key)
		}
	}
	assert.Equal(t, []string{"hashKey"}, replacing, "attributes change in place; the key replaces the table")

	var md bytes.Buffer
	require.NoError(t, preview.WriteMarkdown(&md, previewOf(t, newKey, "prod"), &d))
	assert.Contains(t, md.String(), "| **replace** | sessions | `aws:dynamodb/table:Table` | `hashKey` | `PK` | `session_id` |")
}

func TestDiffShowsANewMandatoryViolation(t *testing.T) {
	pitrOff := mutated(onType("aws:dynamodb/table:Table", func(p pulumi.Input) {
		p.(*dynamodb.TableArgs).PointInTimeRecovery = &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(false)}
	}), nil)
	head := previewOf(t, pitrOff, "prod")
	d := preview.Compare(previewOf(t, program.Run, "prod"), head)
	require.NotEmpty(t, d.NewViolations)
	assert.Equal(t, "dynamodb-point-in-time-recovery", d.NewViolations[0].Policy)
	assert.Empty(t, d.GoneViolations)

	var md bytes.Buffer
	require.NoError(t, preview.WriteMarkdown(&md, head, &d))
	out := md.String()
	assert.Contains(t, out, "Policy verdicts this change brings:\n\n- **mandatory** `dynamodb-point-in-time-recovery` on `aws:dynamodb/table:Table sessions`")
	assert.Contains(t, out, "mandatory policy violation(s): the deployment is blocked")
	assert.Contains(t, out, "```mermaid\n%% manga-assist-data/prod: data flow")
}

func TestDiffNeverShowsSecrets(t *testing.T) {
	run := func(email string) preview.Result {
		sc, err := preview.LoadStackConfig(projectDir, "prod")
		require.NoError(t, err)
		sc.Values["manga-assist-data:alarmEmail"] = email
		r, err := preview.Run(program.Run, sc.Project, "prod", "us-east-1", sc.Values, "manga-assist-data:alarmEmail")
		require.NoError(t, err)
		return r
	}
	base, head := run("first@example.com"), run("second@example.com")
	d := preview.Compare(base, head)
	var md bytes.Buffer
	require.NoError(t, preview.WriteMarkdown(&md, head, &d))
	doc, err := json.Marshal(d)
	require.NoError(t, err)
	for _, out := range []string{md.String(), string(doc)} {
		assert.NotContains(t, out, "first@example.com")
		assert.NotContains(t, out, "second@example.com")
	}
}

// The flags, as the pull-request workflow uses them.
func TestDiffAndMarkdownFlags(t *testing.T) {
	dir := t.TempDir()
	code, base, errOut := runPreview(t, "-stack", "dev", "-json")
	require.Equal(t, 0, code, errOut)
	basePath := filepath.Join(dir, "base.json")
	require.NoError(t, os.WriteFile(basePath, []byte(base), 0o644))

	mdPath := filepath.Join(dir, "review.md")
	code, out, errOut := runPreview(t, "-stack", "dev", "-diff", basePath, "-markdown", mdPath)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Changes against the base: No change against the base.")
	md, err := os.ReadFile(mdPath)
	require.NoError(t, err)
	assert.Contains(t, string(md), "### Stack `dev` (us-east-1)")
	assert.Contains(t, string(md), "No change against the base.")
	assert.Contains(t, string(md), "```mermaid")

	code, _, errOut = runPreview(t, "-stack", "dev", "-diff", filepath.Join(dir, "missing.json"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "missing.json")

	allPath := filepath.Join(dir, "all.mmd")
	code, _, errOut = runPreview(t, "-stack", "dev", "-mermaid-all", allPath)
	require.Equal(t, 0, code, errOut)
	all, err := os.ReadFile(allPath)
	require.NoError(t, err)
	assert.Greater(t, strings.Count(string(all), "-->"), 50, "the full graph keeps every dependency")
}
