package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// projectDir is the repository root, where Pulumi.yaml lives.
const projectDir = "../.."

func runPreview(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"-dir", projectDir}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBothStacksPreviewWithTheTableSecured(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			code, out, errOut := runPreview(t, "-stack", stack)
			require.Equal(t, 0, code, errOut)
			for _, want := range []string{
				"Stack " + stack + " of manga-assist-data (aws:region us-east-1)",
				"─ manga-assist:data:SessionsTable  sessions",
				"aws:dynamodb/table:Table  sessions",
				"pointInTimeRecovery.enabled: true",
				"streamEnabled: true",
				"streamViewType: NEW_AND_OLD_IMAGES",
				"serverSideEncryption.enabled: true",
				"serverSideEncryption.kmsKeyArn: arn:aws:kms:us-east-1:",
				"enableKeyRotation: true",
				"environment=" + stack,
			} {
				assert.Contains(t, out, want)
			}
		})
	}
}

func TestStacksDifferAsConfigured(t *testing.T) {
	_, dev, _ := runPreview(t, "-stack", "dev")
	_, prod, _ := runPreview(t, "-stack", "prod")
	assert.Contains(t, dev, "deletionProtectionEnabled: false")
	assert.Contains(t, dev, "pointInTimeRecovery.recoveryPeriodInDays: 7")
	assert.Contains(t, dev, "name: manga-assist-sessions-dev")
	assert.Contains(t, prod, "deletionProtectionEnabled: true")
	assert.Contains(t, prod, "pointInTimeRecovery.recoveryPeriodInDays: 35")
	assert.Contains(t, prod, "multiRegion: true", "prod plans a replica, so its key is multi-Region")

	// Policy verdicts show on the resource and in a list at the end.
	assert.Contains(t, dev, "aws:dynamodb/table:Table  sessions  [advisory: dynamodb-deletion-protection]")
	assert.Contains(t, dev, "Policy violations:\n")
	assert.Contains(t, dev, "  [advisory] dynamodb-deletion-protection on aws:dynamodb/table:Table sessions\n")
	// prod's only verdicts are advisory (TestUnchangedProgramHasNoMandatoryViolation lists them).
	assert.Regexp(t, `\d+ policy violations \(0 mandatory\)`, prod)
}

func TestPreviewIsDeterministic(t *testing.T) {
	code, first, errOut := runPreview(t, "-stack", "prod", "-json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, first, `"resources"`, "a preview, not an empty document")
	for range 3 {
		code, again, errOut := runPreview(t, "-stack", "prod", "-json")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, first, again)
	}
}

func TestJSON(t *testing.T) {
	code, out, errOut := runPreview(t, "-stack", "dev", "-json")
	require.Equal(t, 0, code, errOut)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.JSONEq(t, `"dev"`, string(doc["stack"]))
	var violations []map[string]string
	require.NoError(t, json.Unmarshal(doc["violations"], &violations))
	require.NotEmpty(t, violations, "dev has advisory findings: no deletion protection, alarms off")
	for _, v := range violations {
		assert.ElementsMatch(t, []string{"policy", "urn", "enforcementLevel", "message"}, keysOf(v))
		assert.Equal(t, "advisory", v["enforcementLevel"], v["policy"])
	}

	var resources []map[string]any
	require.NoError(t, json.Unmarshal(doc["resources"], &resources))
	require.NotEmpty(t, resources)
	byType := map[string]map[string]any{}
	for _, r := range resources {
		assert.ElementsMatch(t, []string{"urn", "type", "name", "parent", "inputs"}, keys(r))
		byType[r["type"].(string)] = r
	}
	table := byType["aws:dynamodb/table:Table"]
	require.NotNil(t, table)
	assert.Equal(t, byType["manga-assist:data:SessionsTable"]["urn"], table["parent"])
	inputs := table["inputs"].(map[string]any)
	assert.Equal(t, map[string]any{"enabled": true, "recoveryPeriodInDays": 7.0}, inputs["pointInTimeRecovery"])
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMermaidAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topology.mmd")
	code, _, errOut := runPreview(t, "-stack", "dev", "-mermaid-all", path)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	chart := string(b)
	assert.Contains(t, chart, "flowchart LR")
	assert.Regexp(t, `subgraph r\d+\["SessionsTable<br/>sessions"\]`, chart)
	// The key feeds the table (its ARN) and the alias (its id).
	lines := strings.Split(chart, "\n")
	keyID, tableID := nodeID(t, lines, "Key<br/>sessions-key"), nodeID(t, lines, "Table<br/>sessions")
	assert.Contains(t, lines, "  "+keyID+" --> "+tableID)
}

func nodeID(t *testing.T, lines []string, label string) string {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, `["`+label+`"]`) {
			return strings.TrimSpace(l[:strings.Index(l, "[")])
		}
	}
	t.Fatalf("no node %q", label)
	return ""
}

// badProject writes a project with one stack file and returns its directory.
func badProject(t *testing.T, stackFile string) string {
	t.Helper()
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(projectDir, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.bad.yaml"), []byte(stackFile), 0o644))
	return dir
}

func TestBadConfigIsRefusedByName(t *testing.T) {
	dir := badProject(t, `config:
  aws:region: us-central-9
  manga-assist-data:analyticsRetentionDays: -30
  manga-assist-data:incrementalExportSchedule: cron(0 2 * *)
  manga-assist-data:replicaRegions: [us-east-1]
  manga-assist-data:tabelName: typo
`)
	var out, errOut bytes.Buffer
	code := run([]string{"-dir", dir, "-stack", "bad"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Empty(t, out.String(), "nothing is previewed from a bad configuration")
	msg := errOut.String()
	for _, want := range []string{
		`aws:region = "us-central-9": unknown AWS region`,
		`manga-assist-data:analyticsRetentionDays = "-30": must be 1 to 36500 days`,
		`manga-assist-data:incrementalExportSchedule = "cron(0 2 * *)": cron needs 6 fields`,
		`manga-assist-data:tabelName = "typo": unknown setting`,
		`fix Pulumi.bad.yaml`,
	} {
		assert.Contains(t, msg, want)
	}
}

func TestWrongTypeIsRefusedByPulumisOwnLoader(t *testing.T) {
	// A declared integer given a word: the stack file loads (YAML has no
	// types to check), and the setting is refused by name.
	dir := badProject(t, "config:\n  aws:region: us-east-1\n  manga-assist-data:logRetentionDays: forever\n")
	var out, errOut bytes.Buffer
	code := run([]string{"-dir", dir, "-stack", "bad"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), `manga-assist-data:logRetentionDays = "forever": must be a whole number`)
}

func TestUsageAndUnknownStack(t *testing.T) {
	code, _, errOut := runPreview(t)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-stack is required")

	code, _, errOut = runPreview(t, "-stack", "staging")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `stack "staging": no stack file`)
	assert.Contains(t, errOut, "dev, prod")
}

// Pulumi.yaml and internal/stackconfig declare the same settings with the
// same types, defaults, descriptions and secrecy.
func TestPulumiYamlDeclaresEverySetting(t *testing.T) {
	project, err := workspace.LoadProject(filepath.Join(projectDir, "Pulumi.yaml"))
	require.NoError(t, err)
	require.Equal(t, stackconfig.Project, string(project.Name))

	declared := map[string]bool{}
	for _, s := range stackconfig.Declared {
		declared[s.Key] = true
		if s.Secret {
			// Optional secrets cannot be declared: see Pulumi.yaml.
			assert.NotContains(t, project.Config, s.Key, "secret setting %s must not be declared in Pulumi.yaml", s.Key)
			continue
		}
		c, ok := project.Config[s.Key]
		if !assert.True(t, ok, "Pulumi.yaml does not declare %s", s.Key) {
			continue
		}
		require.NotNil(t, c.Type, s.Key)
		assert.Equal(t, s.Type, *c.Type, "type of %s", s.Key)
		assert.Equal(t, s.Description, c.Description, "description of %s", s.Key)
		assert.Equal(t, s.Secret, c.Secret, "secret of %s", s.Key)
		want, err := json.Marshal(s.Default)
		require.NoError(t, err)
		got, err := json.Marshal(c.Default)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got), "default of %s", s.Key)
	}
	for key, c := range project.Config {
		assert.True(t, declared[key], "Pulumi.yaml declares %s, which the program does not read", key)
		assert.False(t, c.Secret && c.Default != nil, "%s is secret with a default, which the Pulumi CLI refuses", key)
	}
}

// The preview refuses what the Pulumi CLI refuses before the program runs.
func TestPreviewRefusesWhatTheCLIRefuses(t *testing.T) {
	cases := map[string]struct{ project, stack, want string }{
		"secret with a plain default": {
			"  token:\n    type: string\n    secret: true\n    default: \"\"\n", "",
			"token is secret and has a plain default"},
		"secret in plain text": {
			"  token:\n    type: string\n    secret: true\n", "  manga-assist-data:token: hunter2\n",
			"configuration key 'token' must be encrypted"},
		"required and missing": {
			"  owner:\n    type: string\n", "",
			"missing configuration value(s) owner"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			project := "name: manga-assist-data\nruntime: go\nconfig:\n" + c.project
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(project), 0o644))
			stack := "config:\n  aws:region: us-east-1\n" + c.stack
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(stack), 0o644))
			_, err := preview.LoadStackConfig(dir, "dev")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

// BenchmarkPreviewProd measures a whole offline preview of prod: config
// loading, validation, the program under mocks, and the tree.
func BenchmarkPreviewProd(b *testing.B) {
	for b.Loop() {
		if code := run([]string{"-dir", projectDir, "-stack", "prod"}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

type jsonResource struct {
	URN    string         `json:"urn"`
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Parent string         `json:"parent"`
	Inputs map[string]any `json:"inputs"`
}

func previewJSON(t *testing.T, stack string) []jsonResource {
	t.Helper()
	code, out, errOut := runPreview(t, "-stack", stack, "-json")
	require.Equal(t, 0, code, errOut)
	var doc struct{ Resources []jsonResource }
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	return doc.Resources
}

// bucketResources maps each bucket's logical name to the resources that
// configure it, by type; a bucket's name is what they give as "bucket".
func bucketResources(resources []jsonResource) map[string]map[string]jsonResource {
	physical := map[string]string{}
	out := map[string]map[string]jsonResource{}
	for _, r := range resources {
		if r.Type == "aws:s3/bucketV2:BucketV2" {
			if b, ok := r.Inputs["bucket"].(string); ok {
				physical[b] = r.Name // named by the program
			}
			for _, other := range resources { // auto-named
				if b, ok := other.Inputs["bucket"].(string); ok && strings.HasPrefix(b, r.Name+"-") && len(b) == len(r.Name)+8 {
					physical[b] = r.Name
				}
			}
			out[r.Name] = map[string]jsonResource{r.Type: r}
		}
	}
	for _, r := range resources {
		if b, ok := r.Inputs["bucket"].(string); ok && physical[b] != "" {
			out[physical[b]][r.Type] = r
		}
	}
	return out
}

func TestEveryBucketIsSecuredAndAged(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			buckets := bucketResources(previewJSON(t, stack))
			want := 5 // access logs, data, failed records, backups, query results
			if stack == "prod" {
				want += 2 // the standby's data and log buckets in us-west-2
			}
			require.Len(t, buckets, want)
			for name, res := range buckets {
				for _, typ := range []string{
					"aws:s3/bucketVersioningV2:BucketVersioningV2",
					"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
					"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
					"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
					"aws:s3/bucketPolicy:BucketPolicy",
					"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
				} {
					assert.Contains(t, res, typ, "bucket %s", name)
				}
				assert.Contains(t, res["aws:s3/bucketPolicy:BucketPolicy"].Inputs["policy"], `"aws:SecureTransport":"false"`, name)
				if name == "manga-assist-access-logs" || name == "manga-assist-logs-usw2" {
					assert.NotContains(t, res, "aws:s3/bucketLoggingV2:BucketLoggingV2")
				} else {
					assert.Contains(t, res, "aws:s3/bucketLoggingV2:BucketLoggingV2", "bucket %s logs its access", name)
				}
				rules := res["aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"].Inputs["rules"].([]any)
				var ids []string
				for _, r := range rules {
					ids = append(ids, r.(map[string]any)["id"].(string))
				}
				assert.Subset(t, ids, []string{"noncurrent-versions", "expired-delete-markers", "abort-incomplete-multipart"}, name)
				assert.Equal(t, stack == "dev", res["aws:s3/bucketV2:BucketV2"].Inputs["forceDestroy"], "only dev force-destroys: %s", name)
			}
		})
	}
}

func TestDataBucketTiersPerStack(t *testing.T) {
	raw := func(stack string) map[string]any {
		res := bucketResources(previewJSON(t, stack))["manga-assist-data"]
		rules := res["aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"].Inputs["rules"].([]any)
		return rules[0].(map[string]any)
	}
	prod := raw("prod")
	assert.Equal(t, "tier-raw", prod["id"])
	assert.Equal(t, []any{
		map[string]any{"days": 30.0, "storageClass": "STANDARD_IA"},
		map[string]any{"days": 90.0, "storageClass": "GLACIER_IR"},
		map[string]any{"days": 365.0, "storageClass": "DEEP_ARCHIVE"},
	}, prod["transitions"], "prod keeps the design's tiers")
	assert.Equal(t, map[string]any{"days": 2555.0}, prod["expiration"])

	dev := raw("dev")
	assert.NotContains(t, dev, "transitions", "dev data expires before any tier pays off")
	assert.Equal(t, map[string]any{"days": 30.0}, dev["expiration"])

	_, out, _ := runPreview(t, "-stack", "prod")
	assert.Contains(t, out, "aws:s3/bucketV2:BucketV2  manga-assist-data  (protected)")
}
