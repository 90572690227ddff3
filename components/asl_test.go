package components

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	jsonata "github.com/xiatechs/jsonata-go"
)

// validateASL checks a state machine definition against the rules of the
// Amazon States Language (https://states-language.net/spec.html) and Step
// Functions' JSONata mode (Step Functions Developer Guide, "Transforming data
// with JSONata"), for the state types this repository uses. It returns every
// problem found, or none.
func validateASL(definition string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var def map[string]any
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	for key := range def {
		if !slices.Contains([]string{"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}, key) {
			bad("top level: unknown field %s", key)
		}
	}
	language, _ := def["QueryLanguage"].(string)
	if language == "" {
		language = "JSONPath"
	}
	if language != "JSONPath" && language != "JSONata" {
		bad("QueryLanguage %q: must be JSONPath or JSONata", language)
	}
	if t, ok := def["TimeoutSeconds"]; ok && !positiveInt(t) {
		bad("TimeoutSeconds %v: must be a positive integer", t)
	}
	states, _ := def["States"].(map[string]any)
	if len(states) == 0 {
		return append(problems, "States: must hold at least one state")
	}
	start, _ := def["StartAt"].(string)
	if _, ok := states[start]; !ok {
		bad("StartAt %q: no such state", start)
	}
	exists := func(where, target string) {
		if _, ok := states[target]; !ok {
			bad("%s: %q is no state", where, target)
		}
	}
	// Fields each type may have (the spec's tables), beside the common ones.
	common := []string{"Type", "Comment", "QueryLanguage"}
	allowed := map[string][]string{
		"Task":    {"Resource", "Next", "End", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials"},
		"Pass":    {"Next", "End", "Result"},
		"Choice":  {"Choices", "Default"},
		"Wait":    {"Next", "End", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
		"Succeed": {},
		"Fail":    {"Error", "Cause", "ErrorPath", "CausePath"},
	}
	jsonPathOnly := []string{"InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath"}
	jsonataOnly := []string{"Arguments", "Output"}
	// The spec's field sets, by language (Fail and Choice take fewer).
	for typ := range allowed {
		switch typ {
		case "Task", "Pass":
			allowed[typ] = append(allowed[typ], "Assign")
			allowed[typ] = append(allowed[typ], append(jsonPathOnly, jsonataOnly...)...)
		case "Wait", "Choice":
			allowed[typ] = append(allowed[typ], "Assign", "InputPath", "OutputPath", "Output")
		}
	}
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	terminal := false
	for _, name := range names {
		s, ok := states[name].(map[string]any)
		if !ok {
			bad("%s: not an object", name)
			continue
		}
		if len(name) > 80 {
			bad("%s: a state name has at most 80 characters", name)
		}
		typ, _ := s["Type"].(string)
		fields, known := allowed[typ]
		if !known {
			bad("%s: Type %q is not one this check knows", name, typ)
			continue
		}
		stateLanguage := language
		if l, ok := s["QueryLanguage"].(string); ok {
			stateLanguage = l
		}
		for key := range s {
			if !slices.Contains(common, key) && !slices.Contains(fields, key) {
				bad("%s: a %s state has no field %s", name, typ, key)
			}
			if stateLanguage == "JSONata" && slices.Contains(jsonPathOnly, key) {
				bad("%s: %s is a JSONPath field; JSONata states use Arguments and Output", name, key)
			}
			if stateLanguage == "JSONPath" && slices.Contains(jsonataOnly, key) {
				bad("%s: %s is a JSONata field", name, key)
			}
		}
		switch typ {
		case "Succeed", "Fail":
			terminal = true
			if _, ok := s["Next"]; ok {
				bad("%s: a %s state is terminal and has no Next", name, typ)
			}
		case "Choice":
			choices, _ := s["Choices"].([]any)
			if len(choices) == 0 {
				bad("%s: Choices must not be empty", name)
			}
			for i, c := range choices {
				rule, _ := c.(map[string]any)
				next, _ := rule["Next"].(string)
				exists(fmt.Sprintf("%s.Choices[%d].Next", name, i), next)
				if stateLanguage == "JSONata" && !isJSONata(rule["Condition"]) {
					bad("%s.Choices[%d]: a JSONata choice needs a Condition {%% ... %%}", name, i)
				}
			}
			if d, ok := s["Default"].(string); ok {
				exists(name+".Default", d)
			}
		default:
			next, hasNext := s["Next"].(string)
			end, _ := s["End"].(bool)
			switch {
			case hasNext && end:
				bad("%s: has both Next and End", name)
			case hasNext:
				exists(name+".Next", next)
			case end:
				terminal = true
			default:
				bad("%s: a %s state needs Next or End: true", name, typ)
			}
		}
		if typ == "Task" {
			if r, _ := s["Resource"].(string); !strings.HasPrefix(r, "arn:") {
				bad("%s: Resource %q is not an ARN", name, r)
			}
			for _, f := range []string{"TimeoutSeconds", "HeartbeatSeconds"} {
				if v, ok := s[f]; ok && !positiveInt(v) {
					bad("%s: %s %v must be a positive integer", name, f, v)
				}
			}
		}
		retriers, _ := s["Retry"].([]any)
		for i, r := range retriers {
			where := fmt.Sprintf("%s.Retry[%d]", name, i)
			retrier, _ := r.(map[string]any)
			errorEquals(where, retrier, i == len(retriers)-1, bad)
			for key, v := range retrier {
				switch key {
				case "ErrorEquals", "Comment":
				case "IntervalSeconds", "MaxDelaySeconds":
					if !positiveInt(v) {
						bad("%s: %s %v must be a positive integer", where, key, v)
					}
				case "MaxAttempts":
					if n, ok := v.(float64); !ok || n < 0 || n != float64(int(n)) {
						bad("%s: MaxAttempts %v must be a non-negative integer", where, v)
					}
				case "BackoffRate":
					if n, ok := v.(float64); !ok || n < 1 {
						bad("%s: BackoffRate %v must be a number of at least 1.0", where, v)
					}
				case "JitterStrategy":
					if v != "FULL" && v != "NONE" {
						bad("%s: JitterStrategy %v must be FULL or NONE", where, v)
					}
				default:
					bad("%s: a retrier has no field %s", where, key)
				}
			}
		}
		catchers, _ := s["Catch"].([]any)
		for i, c := range catchers {
			where := fmt.Sprintf("%s.Catch[%d]", name, i)
			catcher, _ := c.(map[string]any)
			errorEquals(where, catcher, i == len(catchers)-1, bad)
			next, _ := catcher["Next"].(string)
			exists(where+".Next", next)
			for key := range catcher {
				if !slices.Contains([]string{"ErrorEquals", "Next", "Comment", "ResultPath", "Output", "Assign"}, key) {
					bad("%s: a catcher has no field %s", where, key)
				}
			}
		}
		walkStrings(s, func(path, v string) {
			if strings.HasPrefix(v, "{%") != strings.HasSuffix(v, "%}") {
				bad("%s.%s: a JSONata expression is {%% ... %%}, with nothing outside: %q", name, path, v)
			}
			if expr, ok := jsonataExpression(v); ok {
				if stateLanguage != "JSONata" {
					bad("%s.%s: a JSONata expression in a JSONPath state", name, path)
				} else if _, err := jsonata.Compile(expr); err != nil {
					bad("%s.%s: JSONata does not compile: %v", name, path, err)
				}
			}
		})
	}
	if !terminal {
		bad("no state ends the execution (Succeed, Fail or End: true)")
	}
	// Every state is reachable from StartAt.
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		s, _ := states[name].(map[string]any)
		for _, t := range transitions(s) {
			visit(t)
		}
	}
	visit(start)
	for _, name := range names {
		if !seen[name] {
			bad("%s: no path from StartAt reaches it", name)
		}
	}
	return problems
}

// errorEquals checks a retrier's or catcher's ErrorEquals: not empty, and
// States.ALL only alone and in the last one.
func errorEquals(where string, rule map[string]any, last bool, bad func(string, ...any)) {
	list, _ := rule["ErrorEquals"].([]any)
	if len(list) == 0 {
		bad("%s: ErrorEquals must not be empty", where)
	}
	for _, e := range list {
		if e == "States.ALL" && (len(list) > 1 || !last) {
			bad("%s: States.ALL must be alone in the last retrier or catcher", where)
		}
		if s, _ := e.(string); s == "" {
			bad("%s: an error name must be a non-empty string", where)
		}
	}
}

// transitions are the states a state can go to.
func transitions(s map[string]any) []string {
	var out []string
	if n, ok := s["Next"].(string); ok {
		out = append(out, n)
	}
	if d, ok := s["Default"].(string); ok {
		out = append(out, d)
	}
	for _, key := range []string{"Choices", "Catch"} {
		list, _ := s[key].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			if n, ok := m["Next"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

func positiveInt(v any) bool {
	n, ok := v.(float64)
	return ok && n >= 1 && n == float64(int64(n))
}

func isJSONata(v any) bool {
	s, _ := v.(string)
	_, ok := jsonataExpression(s)
	return ok
}

// jsonataExpression returns the expression of a "{% ... %}" string.
func jsonataExpression(s string) (string, bool) {
	if !strings.HasPrefix(s, "{%") || !strings.HasSuffix(s, "%}") || len(s) < 4 {
		return "", false
	}
	return strings.TrimSpace(s[2 : len(s)-2]), true
}

// walkStrings calls fn with every string in v and its path.
func walkStrings(v any, fn func(path, value string)) {
	var walk func(string, any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case string:
			fn(path, x)
		case map[string]any:
			for k, item := range x {
				walk(strings.TrimPrefix(path+"."+k, "."), item)
			}
		case []any:
			for i, item := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), item)
			}
		}
	}
	walk("", v)
}

// The checker itself: a definition broken in each way it knows is refused
// with a message naming the fault, and the workflow's is accepted.
func TestASLCheckerRefusesBrokenDefinitions(t *testing.T) {
	base := testWorkflowDefinition(t)
	require.Empty(t, validateASL(base), "the workflow is valid ASL")

	for name, c := range map[string]struct {
		change func(def map[string]any, states map[string]any)
		want   string
	}{
		"StartAt missing": {func(d, _ map[string]any) { d["StartAt"] = "Nowhere" }, `StartAt "Nowhere": no such state`},
		"Next missing": {func(_, s map[string]any) { s["Merge"].(map[string]any)["Next"] = "Compaction" },
			`Merge.Next: "Compaction" is no state`},
		"Catch target missing": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Catch"].([]any)[0].(map[string]any)["Next"] = "Gone"
		}, `Merge.Catch[0].Next: "Gone" is no state`},
		"Default missing": {func(_, s map[string]any) { s["CheckInput"].(map[string]any)["Default"] = "Elsewhere" },
			`CheckInput.Default: "Elsewhere" is no state`},
		"Next and End": {func(_, s map[string]any) { s["Vacuum"].(map[string]any)["End"] = true }, "Vacuum: has both Next and End"},
		"neither Next nor End": {func(_, s map[string]any) { delete(s["Plan"].(map[string]any), "Next") },
			"Plan: a Pass state needs Next or End: true"},
		"Next on a Fail": {func(_, s map[string]any) { s["RunFailed"].(map[string]any)["Next"] = "Done" },
			"RunFailed: a Fail state is terminal and has no Next"},
		"unreachable state": {func(_, s map[string]any) { s["Orphan"] = map[string]any{"Type": "Succeed"} },
			"Orphan: no path from StartAt reaches it"},
		"States.ALL not last": {func(_, s map[string]any) {
			m := s["Merge"].(map[string]any)
			m["Catch"] = append(m["Catch"].([]any), map[string]any{"ErrorEquals": []any{"X.Y"}, "Next": "Done"})
		}, "Merge.Catch[0]: States.ALL must be alone in the last retrier or catcher"},
		"BackoffRate below 1": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Retry"].([]any)[0].(map[string]any)["BackoffRate"] = 0.5
		}, "Merge.Retry[0]: BackoffRate 0.5 must be a number of at least 1.0"},
		"fractional interval": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Retry"].([]any)[0].(map[string]any)["IntervalSeconds"] = 1.5
		}, "Merge.Retry[0]: IntervalSeconds 1.5 must be a positive integer"},
		"negative MaxAttempts": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Retry"].([]any)[0].(map[string]any)["MaxAttempts"] = -1.0
		}, "Merge.Retry[0]: MaxAttempts -1 must be a non-negative integer"},
		"unknown jitter": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Retry"].([]any)[0].(map[string]any)["JitterStrategy"] = "SOME"
		}, "Merge.Retry[0]: JitterStrategy SOME must be FULL or NONE"},
		"empty ErrorEquals": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Retry"].([]any)[0].(map[string]any)["ErrorEquals"] = []any{}
		}, "Merge.Retry[0]: ErrorEquals must not be empty"},
		"JSONPath field in JSONata": {func(_, s map[string]any) { s["Merge"].(map[string]any)["Parameters"] = map[string]any{} },
			"Merge: Parameters is a JSONPath field"},
		"broken JSONata": {func(_, s map[string]any) {
			s["Plan"].(map[string]any)["Assign"].(map[string]any)["runDate"] = "{% $fromMillis( %}"
		}, "Plan.Assign.runDate: JSONata does not compile"},
		"half a JSONata expression": {func(_, s map[string]any) {
			s["Merge"].(map[string]any)["Arguments"].(map[string]any)["WorkGroup"] = "{% $wg"
		}, "Merge.Arguments.WorkGroup: a JSONata expression is {% ... %}"},
		"no terminal state": {func(_, s map[string]any) {
			for name, st := range s {
				if typ := st.(map[string]any)["Type"]; typ == "Succeed" || typ == "Fail" {
					s[name] = map[string]any{"Type": "Pass", "Next": "CheckInput"}
				}
			}
		}, "no state ends the execution"},
		"unknown type": {func(_, s map[string]any) { s["Done"].(map[string]any)["Type"] = "Finish" },
			`Done: Type "Finish" is not one this check knows`},
		"unknown field": {func(_, s map[string]any) { s["Merge"].(map[string]any)["Retries"] = 3.0 },
			"Merge: a Task state has no field Retries"},
		"no Resource ARN": {func(_, s map[string]any) { s["Merge"].(map[string]any)["Resource"] = "athena" },
			`Merge: Resource "athena" is not an ARN`},
	} {
		t.Run(name, func(t *testing.T) {
			var def map[string]any
			require.NoError(t, json.Unmarshal([]byte(base), &def))
			c.change(def, def["States"].(map[string]any))
			broken, err := json.Marshal(def)
			require.NoError(t, err)
			problems := validateASL(string(broken))
			assert.NotEmpty(t, problems)
			assert.Contains(t, strings.Join(problems, "\n"), c.want)
		})
	}
}
