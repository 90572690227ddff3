package pack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// Safe readers of property values. The property package's As* accessors panic
// on a value of another kind, and during a preview any value can be unknown
// (computed), so every policy reads properties through these instead.

// at returns the value at path inside m: a computed value when it, or any map
// on the way to it, is unknown; null when a key is missing or something on the
// way is not a map.
func at(m property.Map, path ...string) property.Value {
	v := property.New(m)
	for _, key := range path {
		if v.IsComputed() {
			return v
		}
		if !v.IsMap() {
			return property.Value{}
		}
		v = v.AsMap().Get(key)
	}
	return v
}

func boolOf(v property.Value) (bool, bool) {
	if v.IsBool() {
		return v.AsBool(), true
	}
	return false, false
}

func stringOf(v property.Value) (string, bool) {
	if v.IsString() {
		return v.AsString(), true
	}
	return "", false
}

func numberOf(v property.Value) (float64, bool) {
	if v.IsNumber() {
		return v.AsNumber(), true
	}
	return 0, false
}

// mapOf returns v's map; ok is false for anything else, unknown included.
func mapOf(v property.Value) (property.Map, bool) {
	if v.IsMap() {
		return v.AsMap(), true
	}
	return property.Map{}, false
}

// elements returns v's elements, or nil when v is not a known list.
func elements(v property.Value) []property.Value {
	if v.IsArray() {
		return v.AsArray().AsSlice()
	}
	return nil
}

// isSet reports whether v holds something: neither null, nor an empty string
// or list. An empty object counts: it stands for a block of defaults. Unknown
// values count as set: they will hold something after deployment.
func isSet(v property.Value) bool {
	switch {
	case v.IsString():
		return v.AsString() != ""
	case v.IsArray():
		return v.AsArray().Len() > 0
	}
	return !v.IsNull()
}

// describe renders a known value for a violation message.
func describe(v property.Value) string {
	switch {
	case v.IsNull():
		return "not set"
	case v.IsString():
		return strconv.Quote(v.AsString())
	case v.IsNumber():
		return strconv.FormatFloat(v.AsNumber(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.AsBool())
	case v.IsArray() && v.AsArray().Len() == 0:
		return "an empty list"
	case v.IsArray():
		return "a list"
	case v.IsMap():
		return "an object"
	default:
		return "not a plain value"
	}
}

// mustBeTrue reports unless v is true. An unknown v passes: a preview cannot
// tell yet.
func mustBeTrue(report func(string), name string, v property.Value, why string) {
	if v.IsComputed() {
		return
	}
	if b, ok := boolOf(v); ok && b {
		return
	}
	report(fmt.Sprintf("%s must be true, is %s: %s", name, describe(v), why))
}

// plain converts v to the Go value encoding/json would produce; known is
// false when v or anything inside it is unknown.
func plain(v property.Value) (value any, known bool) {
	if v.HasComputed() {
		return nil, false
	}
	switch {
	case v.IsMap():
		out := map[string]any{}
		for k, e := range v.AsMap().All {
			out[k], _ = plain(e)
		}
		return out, true
	case v.IsArray():
		out := []any{}
		for _, e := range v.AsArray().All {
			p, _ := plain(e)
			out = append(out, p)
		}
		return out, true
	case v.IsString():
		return v.AsString(), true
	case v.IsNumber():
		return v.AsNumber(), true
	case v.IsBool():
		return v.AsBool(), true
	default:
		return nil, true
	}
}

// jsonDocument decodes a property holding a JSON document either as a string
// (the usual form) or as an object. known is false while the document is
// unknown; err is set when the string is not valid JSON.
func jsonDocument(v property.Value, into any) (known bool, err error) {
	if v.HasComputed() {
		return false, nil
	}
	var raw []byte
	if s, ok := stringOf(v); ok {
		raw = []byte(s)
	} else {
		p, _ := plain(v)
		if raw, err = json.Marshal(p); err != nil {
			return true, err
		}
	}
	return true, json.Unmarshal(raw, into)
}

// globMatch matches s against an IAM-style pattern, where * stands for any
// run of characters (slashes and colons included) and ? for one character.
// It backtracks only to the last *, so it runs in O(len(pattern)*len(s)).
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// globMatchFold is globMatch ignoring case, as IAM matches action names.
func globMatchFold(pattern, s string) bool {
	return globMatch(strings.ToLower(strings.TrimSpace(pattern)), strings.ToLower(s))
}
