package analytics

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// Column is one column of the Glue table, as Glue's StorageDescriptor wants
// it, and the JSON key of the event that fills it.
type Column struct {
	Name    string // the Glue column
	JSONKey string // the key in the JSON the router writes; usually Name
	Type    string // Glue/Hive type: string, double or bigint
	Comment string
}

// Glue types used by Event, and the Go types that may carry each.
var glueTypes = map[string][]reflect.Type{
	"string": {reflect.TypeFor[string](), reflect.TypeFor[*string]()},
	"double": {reflect.TypeFor[float64](), reflect.TypeFor[*float64]()},
	"bigint": {reflect.TypeFor[int64](), reflect.TypeFor[*int64]()},
}

// columnName is what Glue keeps of a column name: it lowercases names, so an
// upper-case name would never match its own mapping.
var columnName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var columns = sync.OnceValues(func() ([]Column, error) { return columnsOf(reflect.TypeFor[Event]()) })

// Columns returns the table's columns in Event's field order. It panics if
// Event's tags are inconsistent, which the package tests rule out.
func Columns() []Column {
	cols, err := columns()
	if err != nil {
		panic(err)
	}
	return append([]Column(nil), cols...)
}

// ColumnToJSONKeyMappings returns, for every column whose name is not its
// JSON key, column name -> JSON key: the ColumnToJsonKeyMappings of the
// Firehose OpenX JSON SerDe that fills the table from the router's JSON.
func ColumnToJSONKeyMappings() map[string]string {
	mappings := map[string]string{}
	for _, c := range Columns() {
		if c.Name != c.JSONKey {
			mappings[c.Name] = c.JSONKey
		}
	}
	return mappings
}

func columnsOf(t reflect.Type) ([]Column, error) {
	cols := make([]Column, 0, t.NumField())
	seen := make(map[string]string, 2*t.NumField()) // column names and JSON keys -> field
	for f := range t.Fields() {
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		name, renamed := f.Tag.Lookup("column")
		if !renamed {
			name = key
		}
		glue := f.Tag.Get("glue")
		switch {
		case key == "" || key == "-":
			return nil, fmt.Errorf("analytics: field %s has no json name", f.Name)
		case !columnName.MatchString(name):
			return nil, fmt.Errorf("analytics: field %s: column name %q is not a lower-case identifier", f.Name, name)
		case renamed && name == key:
			return nil, fmt.Errorf("analytics: field %s: column tag %q repeats the json name", f.Name, name)
		case seen["column "+name] != "":
			return nil, fmt.Errorf("analytics: column %q is defined twice (%s, %s)", name, seen["column "+name], f.Name)
		case seen["json "+key] != "":
			return nil, fmt.Errorf("analytics: json key %q is used twice (%s, %s)", key, seen["json "+key], f.Name)
		case !carries(glue, f.Type):
			return nil, fmt.Errorf("analytics: field %s: glue type %q does not fit Go type %s", f.Name, glue, f.Type)
		}
		seen["column "+name], seen["json "+key] = f.Name, f.Name
		cols = append(cols, Column{Name: name, JSONKey: key, Type: glue, Comment: f.Tag.Get("comment")})
	}
	return cols, nil
}

func carries(glue string, t reflect.Type) bool {
	for _, ok := range glueTypes[glue] {
		if t == ok {
			return true
		}
	}
	return false
}
