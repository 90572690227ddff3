package analytics

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Column is one column of the Glue table, as Glue's StorageDescriptor wants it.
type Column struct {
	Name    string
	Type    string // Glue/Hive type: string, double or bigint
	Comment string
}

// Glue types used by Event, and the Go types that may carry each.
var glueTypes = map[string][]reflect.Type{
	"string": {reflect.TypeFor[string](), reflect.TypeFor[*string]()},
	"double": {reflect.TypeFor[float64](), reflect.TypeFor[*float64]()},
	"bigint": {reflect.TypeFor[int64](), reflect.TypeFor[*int64]()},
}

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

func columnsOf(t reflect.Type) ([]Column, error) {
	cols := make([]Column, 0, t.NumField())
	seen := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		glue := f.Tag.Get("glue")
		switch {
		case name == "" || name == "-":
			return nil, fmt.Errorf("analytics: field %s has no json name", f.Name)
		case seen[name]:
			return nil, fmt.Errorf("analytics: column %q is defined twice", name)
		case !carries(glue, f.Type):
			return nil, fmt.Errorf("analytics: field %s: glue type %q does not fit Go type %s", f.Name, glue, f.Type)
		}
		seen[name] = true
		cols = append(cols, Column{Name: name, Type: glue, Comment: f.Tag.Get("comment")})
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
