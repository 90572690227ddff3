package components

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

// namedQueries returns the embedded queries by file name.
func namedQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := queries.ReadDir("queries")
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range files {
		sql, err := queries.ReadFile(path.Join("queries", f.Name()))
		require.NoError(t, err)
		out[f.Name()] = string(sql)
	}
	require.Len(t, out, 5, "the design's five queries")
	return out
}

// processedNamedQueries returns the processed versions by file name
// (ProcessedLayer names them <name>-processed).
func processedNamedQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := processedQueries.ReadDir("queries/processed")
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range files {
		sql, err := processedQueries.ReadFile(path.Join("queries", "processed", f.Name()))
		require.NoError(t, err)
		out[f.Name()] = string(sql)
	}
	return out
}

// Each query's first line says which table it reads, and it reads that one:
// the raw table (every hour up to now, each event at least once) or the
// processed one (each event once, whole days up to yesterday). Each raw
// query has a processed twin of the same name, window length and result
// columns, and each names the other.
func TestCatalogQueriesSayWhichTableTheyRead(t *testing.T) {
	raw, processed := namedQueries(t), processedNamedQueries(t)
	require.Equal(t, sortedKeys(raw), sortedKeys(processed), "every named query has a processed version, and no other")
	for name, sql := range raw {
		first, _, _ := strings.Cut(sql, "\n")
		assert.Truef(t, strings.HasPrefix(first, "-- Reads the raw table "+EventsTableName+" "), "%s: the first line says it reads the raw table", name)
		assert.Containsf(t, first, strings.TrimSuffix(name, ".sql")+"-processed", "%s: and names its processed version", name)
		assert.Equalf(t, []string{EventsTableName}, tablesRead(sql), "%s reads the raw table only", name)
	}
	for name, sql := range processed {
		first, _, _ := strings.Cut(sql, "\n")
		assert.Truef(t, strings.HasPrefix(first, "-- Reads the processed table "+ProcessedTableName+" "), "%s: the first line says it reads the processed table", name)
		assert.Containsf(t, first, "; "+strings.TrimSuffix(name, ".sql")+" reads the raw table up to now", "%s: and names its raw version", name)
		assert.Equalf(t, []string{ProcessedTableName}, tablesRead(sql), "%s reads the processed table only", name)
		assert.Equalf(t, resultColumns(t, raw[name]), resultColumns(t, sql), "%s: the same result columns as the raw version", name)
		rawWindow := windowPredicate.FindStringSubmatch(normalizeSQL(raw[name]))
		window := processedWindowPredicate.FindStringSubmatch(normalizeSQL(sql))
		if assert.NotNilf(t, rawWindow, "%s", name) && assert.NotNilf(t, window, "%s", name) {
			assert.Equalf(t, daysIncludingToday(t, rawWindow[1]), window[1], "%s: as many days as the raw version", name)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tablesRead are the tables a query names after FROM or JOIN.
func tablesRead(sql string) []string {
	var out []string
	tokens := tokenizeSQL(sql)
	for i := 0; i+1 < len(tokens); i++ {
		word := strings.ToUpper(tokens[i].text)
		next := strings.ToLower(tokens[i+1].text)
		if tokens[i].kind == identifierToken && (word == "FROM" || word == "JOIN") && tokens[i+1].kind == identifierToken &&
			strings.HasPrefix(next, "manga_assist_") && !slices.Contains(out, next) {
			out = append(out, next)
		}
	}
	return out
}

// resultColumns are the names the final SELECT gives its columns.
func resultColumns(t *testing.T, sql string) []string {
	t.Helper()
	flat := normalizeSQL(sql)
	i := strings.LastIndex(flat, "SELECT ")
	// The outer SELECT of a query whose FROM is a subquery comes first.
	if open := strings.Index(flat, "FROM ("); open >= 0 && strings.Index(flat, "SELECT ") < open && !strings.HasPrefix(flat, "WITH ") {
		i = strings.Index(flat, "SELECT ")
	}
	require.GreaterOrEqual(t, i, 0)
	list := flat[i+len("SELECT "):]
	list = list[:strings.Index(list, " FROM ")]
	var out []string
	depth, start := 0, 0
	for j, c := range list + "," {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				item := strings.TrimSpace(list[start:min(j, len(list))])
				if k := strings.LastIndex(strings.ToUpper(item), " AS "); k >= 0 {
					item = item[k+4:]
				} else if k := strings.LastIndex(item, "."); k >= 0 {
					item = item[k+1:]
				}
				out = append(out, strings.Trim(item, `"`))
				start = j + 1
			}
		}
	}
	return out
}

// The first line is the named query's Description: one line saying what the
// query counts, over which rolling window, and that each event counts once.
func TestCatalogQueriesSayWhatTheyCount(t *testing.T) {
	for name, sql := range namedQueries(t) {
		first, _, _ := strings.Cut(sql, "\n")
		require.Truef(t, strings.HasPrefix(first, "-- "), "%s: the first line must be a -- comment", name)
		description := strings.TrimPrefix(first, "-- ")
		assert.LessOrEqualf(t, len(description), 1024, "%s: Athena's limit on a description", name)
		assert.GreaterOrEqualf(t, len(description), 40, "%s: the description must say what is counted", name)
		assert.Containsf(t, description, "counted once", "%s: the description must say what is counted once", name)
		days := regexp.MustCompile(`\blast (\d+)\b`).FindStringSubmatch(description)
		require.NotNilf(t, days, "%s: the description must name its window (the last N days)", name)
		assert.Containsf(t, description, "today included", "%s: say whether today counts", name)
		window := windowPredicate.FindStringSubmatch(normalizeSQL(sql))
		require.NotNilf(t, window, "%s: no rolling window", name)
		assert.Equalf(t, days[1], daysIncludingToday(t, window[1]), "%s: the description's window is not the one queried", name)
	}
}

// The processed versions' first lines say the same of their own window: the
// last N whole UTC days before today, today excluded, which is the window
// queried; each event counts once because the table holds each once.
func TestCatalogProcessedQueriesSayWhatTheyCount(t *testing.T) {
	for name, sql := range processedNamedQueries(t) {
		first, _, _ := strings.Cut(sql, "\n")
		description := strings.TrimPrefix(first, "-- ")
		assert.LessOrEqualf(t, len(description), 1024, "%s: Athena's limit on a description", name)
		assert.Containsf(t, description, "counted once", "%s", name)
		assert.Containsf(t, description, "each stream event once", "%s: the table holds each event once", name)
		assert.Containsf(t, description, "today excluded", "%s: the daily run has not reached today", name)
		days := regexp.MustCompile(`\blast (\d+)\b`).FindStringSubmatch(description)
		require.NotNilf(t, days, "%s: the description must name its window", name)
		window := processedWindowPredicate.FindStringSubmatch(normalizeSQL(sql))
		require.NotNilf(t, window, "%s: FROM %s must be followed by the whole-day filter:\n%s", name, ProcessedTableName, processedWindowPredicate)
		assert.Equalf(t, days[1], window[1], "%s: the description's window is not the one queried", name)
		assert.Equalf(t, 1, strings.Count(normalizeSQL(sql), ProcessedTableName), "%s: read the table in one place", name)
	}
}

// The processed table holds each change once: its queries number nothing by
// change_id or event_id (that would only cost time), and read no partition
// keys, which it does not have.
func TestCatalogProcessedQueriesDoNotDeduplicate(t *testing.T) {
	for name, sql := range processedNamedQueries(t) {
		flat := normalizeSQL(sql)
		assert.NotRegexpf(t, `(?i)PARTITION BY (event|change)_id`, flat, "%s", name)
		assert.NotRegexpf(t, `(?i)DISTINCT (event|change)_id`, flat, "%s", name)
	}
}

// Every identifier is a column of analytics.Event, a partition key, the
// table, a name the query itself defines (WITH x AS, AS x) or an allowed SQL
// keyword or function. A query still naming a renamed or dropped column
// fails here, whether quoted or not.
func TestCatalogQueriesUseOnlyKnownColumns(t *testing.T) {
	known := map[string]bool{EventsTableName: true}
	for _, c := range analytics.Columns() {
		known[c.Name] = true
	}
	for _, key := range partitionKeys {
		known[key] = true
	}
	for name, sql := range namedQueries(t) {
		tokens := tokenizeSQL(sql)
		defined := sqlDefinedNames(tokens)
		for _, tok := range tokens {
			if tok.kind != identifierToken && tok.kind != quotedToken {
				continue
			}
			word := strings.ToLower(tok.text)
			if known[word] || defined[word] || (tok.kind == identifierToken && sqlWords[word]) {
				continue
			}
			assert.Failf(t, "unknown identifier", "%s uses %q: not a column of analytics.Event, a partition key, a name it defines, or an allowed SQL word", name, tok.text)
		}
	}
	// The processed table has the same columns and event_ts, and no
	// partition keys: its partitions are day(event_ts), hidden.
	processedKnown := map[string]bool{ProcessedTableName: true}
	for _, c := range processedColumns() {
		processedKnown[c.Name] = true
	}
	for name, sql := range processedNamedQueries(t) {
		tokens := tokenizeSQL(sql)
		defined := sqlDefinedNames(tokens)
		for _, tok := range tokens {
			if tok.kind != identifierToken && tok.kind != quotedToken {
				continue
			}
			word := strings.ToLower(tok.text)
			if processedKnown[word] || defined[word] || (tok.kind == identifierToken && sqlWords[word]) {
				continue
			}
			assert.Failf(t, "unknown identifier", "processed/%s uses %q: not a column of the processed table, a name it defines, or an allowed SQL word", name, tok.text)
		}
	}
}

// Each query reads the table once, through a filter on the partition keys
// relative to current_date, and hard-codes no year.
func TestCatalogQueriesFilterARollingWindow(t *testing.T) {
	yearish := regexp.MustCompile(`(19|20)\d\d`)
	for name, sql := range namedQueries(t) {
		flat := normalizeSQL(sql)
		assert.Equalf(t, 1, strings.Count(strings.ToLower(flat), EventsTableName), "%s: read the table in one place, filtered once", name)
		window := windowPredicate.FindStringSubmatch(flat)
		if assert.NotNilf(t, window, "%s: FROM %s must be followed by the rolling partition filter:\n%s", name, EventsTableName, windowPredicate) {
			assert.Equalf(t, window[1], window[2], "%s: the year bound and the day bound must be the same days", name)
		}
		for _, tok := range tokenizeSQL(sql) {
			if tok.kind == stringToken || tok.kind == numberToken {
				assert.Falsef(t, yearish.MatchString(tok.text), "%s: hard-coded year in %q", name, tok.text)
			}
		}
	}
}

// Delivery is at least once, and around a switch of the analytics region a
// change comes from two regions' streams with two event_ids: each query
// keeps one row per change_id, with ROW_NUMBER() OVER (PARTITION BY
// change_id ...) filtered to 1, or counts DISTINCT change_id.
func TestCatalogQueriesDeduplicateOnChangeID(t *testing.T) {
	rowNumber := regexp.MustCompile(`(?i)ROW_NUMBER\(\) OVER \(PARTITION BY change_id(?: ORDER BY [\w, ]+)?\) AS (\w+)`)
	for name, sql := range namedQueries(t) {
		flat := normalizeSQL(sql)
		if regexp.MustCompile(`(?i)COUNT\(DISTINCT change_id\)`).MatchString(flat) {
			continue
		}
		m := rowNumber.FindStringSubmatch(flat)
		if !assert.NotNilf(t, m, "%s: no ROW_NUMBER() OVER (PARTITION BY change_id) AS <copy>", name) {
			continue
		}
		kept := regexp.MustCompile(`(?i)\bWHERE (\w+\.)?` + m[1] + ` = 1\b`)
		assert.Truef(t, kept.MatchString(flat), "%s: rows are never filtered to %s = 1", name, m[1])
	}
}

// Firehose's deserializer maps every Glue column whose name is not its JSON
// key, and nothing else: ts is filled from the JSON key timestamp.
func TestCatalogDeserializerMapsRenamedColumns(t *testing.T) {
	kids := catalogTestPipeline(t, AnalyticsPipelineArgs{})
	fh := catalogTestResource(t, kids, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "analytics-delivery")
	serde := digInputs(t, fh, "extendedS3Configuration", "dataFormatConversionConfiguration", "inputFormatConfiguration",
		"deserializer", "openXJsonSerDe")
	mappings, _ := serde["columnToJsonKeyMappings"].(map[string]any)
	assert.Equal(t, "timestamp", mappings["ts"], "the documented mapping for a Hive keyword: {\"ts\": \"timestamp\"}")

	table := catalogTestResource(t, kids, "aws:glue/catalogTable:CatalogTable", "analytics-events")
	jsonKeys := map[string]string{}
	for _, c := range analytics.Columns() {
		jsonKeys[c.Name] = c.JSONKey
	}
	glueColumns := map[string]bool{}
	for _, col := range digInputs(t, table, "storageDescriptor")["columns"].([]any) {
		name := col.(map[string]any)["name"].(string)
		glueColumns[name] = true
		key, ok := jsonKeys[name]
		require.Truef(t, ok, "Glue column %s is not in analytics.Columns()", name)
		if key != name {
			assert.Equalf(t, key, mappings[name], "Glue column %s is filled from the JSON key %s: it must be mapped", name, key)
		} else {
			assert.NotContainsf(t, mappings, name, "Glue column %s is its own JSON key", name)
		}
	}
	for column := range mappings {
		assert.Truef(t, glueColumns[column], "mapping for %s, which is no Glue column", column)
	}
	assert.NotContains(t, glueColumns, "timestamp", "timestamp is a Hive keyword, not a column")
}

// `pulumi destroy` deletes a workgroup that holds queries and history only
// when asked: dev stacks ask through forceDestroyBuckets.
func TestCatalogWorkgroupForceDestroy(t *testing.T) {
	for _, force := range []bool{false, true} {
		kids := catalogTestPipeline(t, AnalyticsPipelineArgs{ForceDestroy: force})
		wg := catalogTestResource(t, kids, "aws:athena/workgroup:Workgroup", "analytics-analytics")
		assert.Equal(t, force, wg["forceDestroy"], "ForceDestroy %t", force)
	}
}

// windowPredicate is the rolling filter every query applies where it reads
// the table: year between the window's first year and this year (a domain
// that bounds what partition projection generates), and year-month-day at
// or after the window's first day. Both sides come from current_date.
var windowPredicate = regexp.MustCompile(`(?i)FROM ` + EventsTableName + ` WHERE ` +
	regexp.QuoteMeta(`year BETWEEN date_format(current_date - INTERVAL '`) + `(\d+)` +
	regexp.QuoteMeta(`' DAY, '%Y') AND date_format(current_date, '%Y') AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '`) +
	`(\d+)` + regexp.QuoteMeta(`' DAY, '%Y-%m-%d')`))

// processedWindowPredicate is the processed queries' filter: the whole UTC
// days of event_ts from N days before today up to, not including, today.
var processedWindowPredicate = regexp.MustCompile(`(?i)FROM ` + ProcessedTableName + ` WHERE ` +
	regexp.QuoteMeta(`event_ts >= CAST(current_date - INTERVAL '`) + `(\d+)` +
	regexp.QuoteMeta(`' DAY AS timestamp) AND event_ts < CAST(current_date AS timestamp)`))

// daysIncludingToday is the length of a window that starts interval days
// before today.
func daysIncludingToday(t *testing.T, interval string) string {
	n, err := strconv.Atoi(interval)
	require.NoError(t, err)
	return strconv.Itoa(n + 1)
}

// normalizeSQL drops comments and folds white space, so patterns can span lines.
func normalizeSQL(sql string) string {
	var lines []string
	for _, line := range strings.Split(sql, "\n") {
		if code, _, _ := strings.Cut(line, "--"); strings.TrimSpace(code) != "" {
			lines = append(lines, code)
		}
	}
	flat := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	flat = strings.ReplaceAll(flat, "( ", "(")
	return strings.ReplaceAll(flat, " )", ")")
}

type sqlTokenKind int

const (
	identifierToken sqlTokenKind = iota // a bare word: keyword, function or name
	quotedToken                         // "name": always a name
	stringToken                         // 'literal'
	numberToken
)

type sqlToken struct {
	kind sqlTokenKind
	text string
}

// tokenizeSQL splits SQL into words, quoted names, string literals and numbers,
// skipping comments and punctuation.
func tokenizeSQL(sql string) []sqlToken {
	var out []sqlToken
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"':
			var text strings.Builder
			i++
			for i < len(sql) {
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c { // doubled quote
						text.WriteByte(c)
						i += 2
						continue
					}
					break
				}
				text.WriteByte(sql[i])
				i++
			}
			i++
			kind := stringToken
			if c == '"' {
				kind = quotedToken
			}
			out = append(out, sqlToken{kind, text.String()})
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			out = append(out, sqlToken{identifierToken, sql[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (sql[j] == '.' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			out = append(out, sqlToken{numberToken, sql[i:j]})
			i = j
		default:
			i++
		}
	}
	return out
}

// sqlDefinedNames are the names a query gives itself: CTEs (WITH x AS (SELECT
// ...), and likewise after a comma) and aliases (AS x, AS "x").
func sqlDefinedNames(tokens []sqlToken) map[string]bool {
	defined := map[string]bool{}
	for i := 1; i+1 < len(tokens); i++ {
		if tokens[i].kind != identifierToken || !strings.EqualFold(tokens[i].text, "AS") {
			continue
		}
		name := tokens[i+1] // the tokenizer skips the "(" of a CTE
		if name.kind == identifierToken && strings.EqualFold(name.text, "SELECT") {
			name = tokens[i-1]
		}
		if name.kind == identifierToken || name.kind == quotedToken {
			defined[strings.ToLower(name.text)] = true
		}
	}
	return defined
}

// sqlWords are the keywords and functions the queries may use. Column-like
// names (timestamp, date, user...) are deliberately absent.
var sqlWords = func() map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.Fields(`
		select distinct from where and or not in is null between like as with on join left right inner
		outer full cross group by order having limit asc desc case when then else end over partition
		rows range unbounded preceding following current row union all exists
		interval day current_date
		count count_if sum avg min max stddev approx_percentile round row_number rank dense_rank
		concat date_format from_unixtime coalesce max_by min_by cast
	`) {
		words[w] = true
	}
	return words
}()

// catalogTestPipeline runs the component under the preview's mocks, with
// the required arguments filled in, and returns its resources by type and name.
func catalogTestPipeline(t *testing.T, args AnalyticsPipelineArgs) map[string]preview.Resource {
	t.Helper()
	bucket := func(name string) BucketRef {
		return BucketRef{
			Name:      pulumi.String(name),
			Arn:       pulumi.String("arn:aws:s3:::" + name),
			KMSKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/" + name),
		}
	}
	args.TableStreamArn = pulumi.String("arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2026-01-01T00:00:00.000")
	args.TableKMSKeyArn = pulumi.String("arn:aws:kms:us-east-1:123456789012:key/table")
	args.DataBucket, args.FailedRecordsBucket, args.QueryResultsBucket = bucket("data"), bucket("failed"), bucket("results")
	result, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := NewAnalyticsPipeline(ctx, "analytics", &args)
		return err
	}, "test", "unit", "us-east-1", nil)
	require.NoError(t, err)
	out := map[string]preview.Resource{}
	for _, r := range result.Resources {
		out[r.Type+" "+r.Name] = r
	}
	return out
}

func catalogTestResource(t *testing.T, kids map[string]preview.Resource, typ, name string) map[string]any {
	t.Helper()
	r, ok := kids[typ+" "+name]
	require.Truef(t, ok, "no %s %s", typ, name)
	return r.Inputs
}

// digInputs follows nested objects of resource inputs.
func digInputs(t *testing.T, v map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := v[k].(map[string]any)
		require.Truef(t, ok, "no object %s in %v", k, v)
		v = next
	}
	return v
}
