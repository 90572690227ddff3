package components

import (
	"cmp"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	jsonata "github.com/xiatechs/jsonata-go"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
)

var updateGolden = flag.Bool("update", false, "rewrite components/testdata/processed-layer/*.sql from the workflow")

const (
	testDatabase  = "manga_assist_analytics_unit"
	testWorkgroup = "manga-assist-processing-unit"
	testRetention = 2555
)

// testWorkflowDefinition is the workflow as the component builds it for a
// data bucket named "data".
func testWorkflowDefinition(t *testing.T) string {
	t.Helper()
	sql, err := workflowSQL(processedLocation("data"))
	require.NoError(t, err)
	def, err := workflowDefinition(workflowConfig{Database: testDatabase, Workgroup: testWorkgroup, RetentionDays: testRetention, SQL: sql})
	require.NoError(t, err)
	return def
}

func testStates(t *testing.T) map[string]map[string]any {
	t.Helper()
	var def struct {
		StartAt        string
		QueryLanguage  string
		TimeoutSeconds int
		States         map[string]map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(testWorkflowDefinition(t)), &def))
	require.Equal(t, "CheckInput", def.StartAt)
	require.Equal(t, "JSONata", def.QueryLanguage)
	require.Equal(t, 6*3600, def.TimeoutSeconds, "a run that takes over 6 hours times out, and alarms")
	return def.States
}

// evalJSONata evaluates a "{% ... %}" string of the definition with the
// workflow's variables bound, as Step Functions would (JSONata 2.0.6; the
// Go port evaluates the same functions: $toMillis, $fromMillis, $replace).
func evalJSONata(t *testing.T, s string, vars map[string]any) any {
	t.Helper()
	expr, ok := jsonataExpression(s)
	require.Truef(t, ok, "not a JSONata expression: %q", s)
	e, err := jsonata.Compile(expr)
	require.NoError(t, err, expr)
	require.NoError(t, e.RegisterVars(vars))
	v, err := e.Eval(nil)
	require.NoError(t, err, expr)
	return v
}

// runVars are the variables after Plan for an input, computed by the Plan
// state's own expressions.
func runVars(t *testing.T, states map[string]map[string]any, input map[string]any) map[string]any {
	t.Helper()
	vars := map[string]any{"states": map[string]any{"input": input}}
	for name, v := range states["Plan"]["Assign"].(map[string]any) {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{%") {
			vars[name] = evalJSONata(t, s, map[string]any{"states": map[string]any{"input": input}})
		} else {
			vars[name] = v
		}
	}
	return vars
}

// The workflow runs its states in this order; a missing table takes the
// detour through CreateTable; every Athena step waits for its query through
// the optimized integration, retries a failed query twice and then fails the
// run, naming itself.
func TestWorkflowStatesInOrder(t *testing.T) {
	states := testStates(t)
	var path []string
	for name := "CheckInput"; name != ""; {
		path = append(path, name)
		s := states[name]
		switch s["Type"] {
		case "Choice":
			name = s["Choices"].([]any)[0].(map[string]any)["Next"].(string)
		default:
			name, _ = s["Next"].(string)
		}
	}
	assert.Equal(t, []string{"CheckInput", "Plan", "FindTable", "Merge", "ExpireRetention", "Compact", "Vacuum", "Done"}, path)
	assert.Equal(t, "BadInput", states["CheckInput"]["Default"])
	assert.Equal(t, "Fail", states["BadInput"]["Type"])

	find := states["FindTable"]
	assert.Equal(t, "arn:aws:states:::aws-sdk:glue:getTable", find["Resource"])
	assert.Equal(t, map[string]any{"DatabaseName": testDatabase, "Name": ProcessedTableName}, find["Arguments"])
	catches, _ := find["Catch"].([]any)
	require.Len(t, catches, 2)
	assert.Equal(t, []any{"Glue.EntityNotFoundException"}, catches[0].(map[string]any)["ErrorEquals"])
	assert.Equal(t, "CreateTable", catches[0].(map[string]any)["Next"], "a missing table is created, then merged")
	assert.Equal(t, "Merge", states["CreateTable"]["Next"])

	for _, name := range []string{"CreateTable", "Merge", "ExpireRetention", "Compact", "Vacuum"} {
		s := states[name]
		assert.Equal(t, "Task", s["Type"], name)
		assert.Equal(t, "arn:aws:states:::athena:startQueryExecution.sync", s["Resource"], "%s waits for its query", name)
		args := s["Arguments"].(map[string]any)
		assert.Equal(t, testWorkgroup, args["WorkGroup"], name)
		assert.Equal(t, map[string]any{"Catalog": "AwsDataCatalog", "Database": testDatabase}, args["QueryExecutionContext"], name)
		assert.Equal(t, 3600.0, s["TimeoutSeconds"], name)
		retry, _ := s["Retry"].([]any)
		require.Len(t, retry, 1, name)
		assert.Equal(t, map[string]any{"ErrorEquals": []any{"States.TaskFailed"}, "IntervalSeconds": 60.0, "MaxAttempts": 2.0,
			"BackoffRate": 4.0, "JitterStrategy": "FULL"}, retry[0], name)
		catch, _ := s["Catch"].([]any)
		require.Len(t, catch, 1, name)
		assert.Equal(t, map[string]any{"ErrorEquals": []any{"States.ALL"}, "Assign": map[string]any{"failedStep": name}, "Next": "RunFailed"},
			catch[0], "%s: every failure ends in RunFailed, which names the step", name)
	}
	failedError := evalJSONata(t, states["RunFailed"]["Error"].(string), map[string]any{"failedStep": "Merge", "states": map[string]any{"input": map[string]any{}}})
	assert.Equal(t, "ProcessedLayer.MergeFailed", failedError)
	cause := evalJSONata(t, states["RunFailed"]["Cause"].(string), map[string]any{"states": map[string]any{"input": map[string]any{"Error": "States.TaskFailed", "Cause": "query 1234 FAILED"}}})
	assert.Equal(t, "query 1234 FAILED", cause, "the operator sees Athena's reason")
	cause = evalJSONata(t, states["RunFailed"]["Cause"].(string), map[string]any{"states": map[string]any{"input": map[string]any{}}})
	assert.Equal(t, "no cause given", cause)
}

// The run's dates come from the schedule's time, never from the clock: the
// same input gives the same days, whenever it runs (a retried run), and
// the definition has no clock in it.
func TestWorkflowDatesComeFromTheScheduledTime(t *testing.T) {
	states := testStates(t)
	def := testWorkflowDefinition(t)
	for _, clock := range []string{"$now(", "$millis(", "Execution.StartTime", "EnteredTime"} {
		assert.NotContains(t, def, clock, "no clock in the definition")
	}
	vars := runVars(t, states, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})
	assert.Equal(t, "2026-11-28", vars["runDate"])
	assert.Equal(t, "2026-11-21", vars["windowStart"], "7 whole days before the run's day")
	assert.Equal(t, "2019-11-30", vars["retentionStart"], "2555 days before")

	wide := runVars(t, states, map[string]any{"scheduledTime": "2026-03-01T01:30:00Z", "lookbackDays": 35.0})
	assert.Equal(t, "2026-03-01", wide["runDate"])
	assert.Equal(t, "2026-01-25", wide["windowStart"], "across a month and February")
	late := runVars(t, states, map[string]any{"scheduledTime": "2026-12-31T23:59:59Z", "lookbackDays": 1.0})
	assert.Equal(t, "2026-12-31", late["runDate"], "UTC day of the scheduled time")
	assert.Equal(t, "2026-12-30", late["windowStart"])
}

// CheckInput lets a run start only with a scheduled time and a window the
// retention covers; anything else fails as BadInput before any query.
func TestWorkflowRefusesBadInput(t *testing.T) {
	condition := testStates(t)["CheckInput"]["Choices"].([]any)[0].(map[string]any)["Condition"].(string)
	for input, want := range map[string]bool{
		`{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7}`:           true,
		`{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 2555}`:        true,
		`{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 2556}`:        false,
		`{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 0}`:           false,
		`{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": "7"}`:         false,
		`{"scheduledTime": "2026-11-28", "lookbackDays": 7}`:                     false,
		`{"scheduledTime": "<aws.scheduler.scheduled-time>", "lookbackDays": 7}`: false,
		`{"lookbackDays": 7}`:                       false,
		`{"scheduledTime": "2026-11-28T01:30:00Z"}`: false,
		`{}`: false,
	} {
		var in map[string]any
		require.NoError(t, json.Unmarshal([]byte(input), &in))
		got := evalJSONata(t, condition, map[string]any{"states": map[string]any{"input": in}})
		assert.Equal(t, want, got, input)
	}
}

// renderedSQL is each Athena step's query for an input, as Step Functions
// would compute it from the definition.
func renderedSQL(t *testing.T, input map[string]any) map[string]string {
	t.Helper()
	states := testStates(t)
	vars := runVars(t, states, input)
	out := map[string]string{}
	for _, s := range workflowSteps {
		q := states[s.state]["Arguments"].(map[string]any)["QueryString"].(string)
		out[s.file] = evalJSONata(t, q, vars).(string)
	}
	return out
}

// The queries the workflow sends, for the daily run of 2026-11-28, are the
// golden files in testdata/processed-layer (rewrite them with
// `go test ./components -run TestWorkflowQueriesAreTheGoldenFiles -update`
// and read the diff). A column added to analytics.Event changes them: the
// existing table then needs ALTER TABLE ADD COLUMNS before the next run,
// because CREATE TABLE IF NOT EXISTS leaves it as it is.
func TestWorkflowQueriesAreTheGoldenFiles(t *testing.T) {
	got := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})
	for file, sql := range got {
		path := filepath.Join("testdata", "processed-layer", file)
		if *updateGolden {
			require.NoError(t, os.WriteFile(path, []byte(sql+"\n"), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(want), sql+"\n", "%s differs from the golden file", file)
		for _, placeholder := range []string{runDatePlaceholder, windowStartPlaceholder, retentionStartPlaceholder, "{{", "}}"} {
			assert.NotContains(t, sql, placeholder, "%s: every placeholder is filled", file)
		}
		assert.False(t, strings.HasPrefix(strings.TrimSpace(sql), "--"), "%s: no leading comment goes to Athena", file)
	}
}

// What the statements must say, read off the rendered text: the table is
// Iceberg, partitioned by day(event_ts), under processed/; MERGE reads the
// raw table's window, keeps one row per change_id, and only inserts; the
// retention is a DELETE; OPTIMIZE and VACUUM follow.
func TestWorkflowStatementsSayWhatTheyDo(t *testing.T) {
	sql := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})
	flat := map[string]string{}
	for k, v := range sql {
		flat[k] = strings.Join(strings.Fields(v), " ")
	}
	create := flat["1-create-table.sql"]
	assert.Regexp(t, `^CREATE TABLE IF NOT EXISTS manga_assist_events_processed \(`, create, "idempotent")
	assert.Contains(t, create, "PARTITIONED BY (day(event_ts))")
	assert.Contains(t, create, "LOCATION 's3://data/processed/manga_assist_events_processed/'")
	assert.Contains(t, create, "'table_type' = 'ICEBERG'")
	assert.NotContains(t, create, "EXTERNAL", "Athena refuses EXTERNAL for Iceberg")

	merge := flat["2-merge.sql"]
	assert.Regexp(t, `^MERGE INTO manga_assist_events_processed AS t USING \(`, merge)
	assert.Contains(t, merge, "ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number")
	assert.Contains(t, merge, "WHERE copy_number = 1")
	assert.Contains(t, merge, "FROM manga_assist_events WHERE year BETWEEN substr('2026-11-21', 1, 4) AND substr('2026-11-28', 1, 4)")
	assert.Contains(t, merge, "concat(year, '-', month, '-', day) >= '2026-11-21' AND concat(year, '-', month, '-', day) < '2026-11-28'")
	assert.Contains(t, merge, "ON t.change_id = s.change_id")
	assert.Contains(t, merge, "WHEN NOT MATCHED THEN INSERT")
	assert.NotContains(t, merge, "WHEN MATCHED", "inserts only: a re-run changes nothing")
	assert.NotContains(t, merge, "current_date", "the window comes from the run, not the clock")

	assert.Equal(t, "DELETE FROM manga_assist_events_processed WHERE event_ts < TIMESTAMP '2019-11-30 00:00:00'", flat["3-expire.sql"])
	assert.Equal(t, "OPTIMIZE manga_assist_events_processed REWRITE DATA USING BIN_PACK WHERE event_ts >= TIMESTAMP '2026-11-21 00:00:00' "+
		"AND event_ts < TIMESTAMP '2026-11-28 00:00:00'", flat["4-optimize.sql"])
	assert.Equal(t, "VACUUM manga_assist_events_processed", flat["5-vacuum.sql"])
}

// The processed table's columns are the raw table's (analytics.Event's)
// and event_ts; MERGE inserts every one of them.
func TestProcessedTableHasTheRawColumns(t *testing.T) {
	sql := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})
	create := sql["1-create-table.sql"]
	columnLine := regexp.MustCompile(`(?m)^\s+(\w+) (\w+) COMMENT '`)
	var got []analytics.Column
	for _, m := range columnLine.FindAllStringSubmatch(create, -1) {
		got = append(got, analytics.Column{Name: m[1], Type: m[2]})
	}
	var want []analytics.Column
	for _, c := range processedColumns() {
		want = append(want, analytics.Column{Name: c.Name, Type: c.Type})
	}
	assert.Equal(t, want, got)

	insert := regexp.MustCompile(`INSERT \(([^)]*)\)`).FindStringSubmatch(sql["2-merge.sql"])
	require.NotNil(t, insert)
	var names []string
	for _, c := range want {
		names = append(names, c.Name)
	}
	assert.Equal(t, strings.Join(names, ", "), insert[1])
}

// rawRow is a row of the raw table: its day partition and the columns the
// MERGE looks at; the other columns travel along unchanged.
type rawRow struct {
	day, eventID, sessionID, itemType string
	changeID                          string // "" for the rows of tests that need none: then eventID stands in
	eventTimeMS                       int64
}

// change is the row's change_id.
func (r rawRow) change() string {
	if r.changeID == "" {
		return "change-of-" + r.eventID // one change per event id, as in a single region
	}
	return r.changeID
}

// mergeModel applies the MERGE's semantics, as the rendered statement
// states them, to rows: the source is the raw rows whose day partition is
// in the window, numbered per the PARTITION BY columns, those numbered 1
// kept; each is inserted unless the target already holds a row equal on
// the ON columns. It reads the de-duplication key, the kept number and the
// ON columns from the statement, so a change to any of them changes what it
// computes.
func mergeModel(t *testing.T, merge string, target, raw []rawRow) []rawRow {
	t.Helper()
	flat := strings.Join(strings.Fields(merge), " ")
	partition := regexp.MustCompile(`ROW_NUMBER\(\) OVER \(PARTITION BY ([\w, ]+?)(?: ORDER BY ([\w, ]+))?\) AS (\w+)`).FindStringSubmatch(flat)
	require.NotNil(t, partition, "the source is numbered")
	order, partition := partition[2], []string{partition[0], partition[1], partition[3]}
	keptRE := regexp.MustCompile(`WHERE ` + partition[2] + ` = (\d+)`)
	kept := keptRE.FindStringSubmatch(flat)
	window := regexp.MustCompile(`day\) >= '([0-9-]+)' AND concat\(year, '-', month, '-', day\) < '([0-9-]+)'`).FindStringSubmatch(flat)
	require.NotNil(t, window, "the source is a window of days")
	on := regexp.MustCompile(`ON ((?:t\.\w+ = s\.\w+)(?: AND t\.\w+ = s\.\w+)*)`).FindStringSubmatch(flat)
	require.NotNil(t, on)
	require.False(t, strings.Contains(flat, "WHEN MATCHED"), "the model knows inserts only")

	column := func(r rawRow, name string) string {
		switch strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(name), "t."), "s.") {
		case "event_id":
			return r.eventID
		case "change_id":
			return r.change()
		case "session_id":
			return r.sessionID
		case "item_type":
			return r.itemType
		}
		t.Fatalf("the model has no column %s", name)
		return ""
	}
	key := func(r rawRow, cols []string) string {
		var parts []string
		for _, c := range cols {
			parts = append(parts, column(r, c))
		}
		return strings.Join(parts, "\x00")
	}
	partitionCols := strings.Split(partition[1], ",")
	var onCols []string
	for _, eq := range strings.Split(on[1], " AND ") {
		onCols = append(onCols, strings.Split(eq, " = ")[0])
	}
	// Rows are numbered in the ORDER BY's order, when there is one.
	inWindow := slices.Clone(raw)
	if order != "" {
		slices.SortStableFunc(inWindow, func(a, b rawRow) int {
			for _, col := range strings.Split(order, ",") {
				var c int
				switch col = strings.TrimSpace(col); col {
				case "event_time_ms":
					c = cmp.Compare(a.eventTimeMS, b.eventTimeMS)
				default:
					c = strings.Compare(column(a, col), column(b, col))
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	numbered := map[string]int{}
	var source []rawRow
	for _, r := range inWindow {
		if r.day < window[1] || r.day >= window[2] {
			continue
		}
		k := key(r, partitionCols)
		numbered[k]++
		if kept == nil || strconv.Itoa(numbered[k]) == kept[1] {
			source = append(source, r)
		}
	}
	// NOT MATCHED is decided against the target as it was before the
	// statement: two source rows for one event would both be inserted.
	out := append([]rawRow(nil), target...)
	for _, s := range source {
		matched := false
		for _, r := range target {
			if key(r, onCols) == key(s, onCols) {
				matched = true
			}
		}
		if !matched {
			out = append(out, s)
		}
	}
	return out
}

// The MERGE de-duplicates: raw rows with repeated event_ids (a retried
// batch, a re-sent PutRecords) become one row each, two events of one
// session stay two, days outside the window stay out, and running the same
// window again inserts nothing.
func TestMergeKeepsEachEventOnceAndReRunsInsertNothing(t *testing.T) {
	sql := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})
	merge := sql["2-merge.sql"]
	raw := []rawRow{
		{day: "2026-11-27", eventID: "e1", sessionID: "s1", itemType: "turn"},
		{day: "2026-11-27", eventID: "e1", sessionID: "s1", itemType: "turn"}, // Lambda retried the batch
		{day: "2026-11-27", eventID: "e1", sessionID: "s1", itemType: "turn"}, // and PutRecords was sent twice
		{day: "2026-11-27", eventID: "e2", sessionID: "s1", itemType: "turn"}, // same session, another event
		{day: "2026-11-21", eventID: "e3", sessionID: "s2", itemType: "handoff"},
		{day: "2026-11-21", eventID: "e3", sessionID: "s2", itemType: "handoff"},
		{day: "2026-11-20", eventID: "e4", sessionID: "s3", itemType: "turn"}, // before the window
		{day: "2026-11-28", eventID: "e5", sessionID: "s3", itemType: "turn"}, // the run's own day: tomorrow's run
	}
	first := mergeModel(t, merge, nil, raw)
	var ids []string
	for _, r := range first {
		ids = append(ids, r.eventID)
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"e1", "e2", "e3"}, ids, "each event of the window once")

	again := mergeModel(t, merge, first, raw)
	assert.Equal(t, first, again, "a re-run of the same window inserts nothing")

	// A late copy of e2 and a late new event, caught by the next day's window.
	next := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-29T01:30:00Z", "lookbackDays": 7.0})["2-merge.sql"]
	late := append(raw, rawRow{day: "2026-11-27", eventID: "e2", sessionID: "s1", itemType: "turn"}, rawRow{day: "2026-11-26", eventID: "e6", sessionID: "s4", itemType: "meta"})
	after := mergeModel(t, next, first, late)
	ids = nil
	for _, r := range after {
		ids = append(ids, r.eventID)
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"e1", "e2", "e3", "e5", "e6"}, ids, "late events join once; copies of merged ones do not")
}

// Around a switch of the analytics region a change reaches the raw table
// through two regions' streams: two event_ids, two event times (even two
// days), one change_id. The MERGE keeps it once, the earliest copy, whether
// both copies arrive in one run or the second a day later.
func TestMergeKeepsAChangeSeenInTwoRegionsOnce(t *testing.T) {
	merge := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-28T01:30:00Z", "lookbackDays": 7.0})["2-merge.sql"]
	raw := []rawRow{
		{day: "2026-11-26", eventID: "east-1", sessionID: "s1", itemType: "turn", changeID: "c1", eventTimeMS: 2000},
		{day: "2026-11-25", eventID: "west-7", sessionID: "s1", itemType: "turn", changeID: "c1", eventTimeMS: 1000},
		{day: "2026-11-25", eventID: "east-2", sessionID: "s1", itemType: "turn", changeID: "c2", eventTimeMS: 1500},
	}
	first := mergeModel(t, merge, nil, raw)
	var ids []string
	for _, r := range first {
		ids = append(ids, r.eventID)
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"east-2", "west-7"}, ids, "c1 once, its earliest copy; c2 is another change")

	// The second region's copy of c2 arrives after c2 was merged.
	next := renderedSQL(t, map[string]any{"scheduledTime": "2026-11-29T01:30:00Z", "lookbackDays": 7.0})["2-merge.sql"]
	late := append(raw, rawRow{day: "2026-11-28", eventID: "west-8", sessionID: "s1", itemType: "turn", changeID: "c2", eventTimeMS: 9000})
	assert.Equal(t, first, mergeModel(t, next, first, late), "a copy from the other region inserts nothing")
}
