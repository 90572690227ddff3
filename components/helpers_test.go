package components_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
)

// run runs fn under the same mocks as the offline preview and returns what
// it registered.
func run(t *testing.T, fn pulumi.RunFunc) preview.Result {
	t.Helper()
	result, err := preview.Run(fn, "test", "unit", "us-east-1", nil)
	require.NoError(t, err)
	return result
}

func one(t *testing.T, r preview.Result, typ string) preview.Resource {
	t.Helper()
	found := r.Find(typ)
	require.Len(t, found, 1, "resources of type %s", typ)
	return found[0]
}

// resolved collects output values. An output that no resource produced (a
// plain value passed through) resolves outside the program's wait, so the
// test waits for each value it reads.
type resolved struct {
	mu     sync.Mutex
	values map[string]chan string
}

func (r *resolved) ch(name string) chan string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = map[string]chan string{}
	}
	if r.values[name] == nil {
		r.values[name] = make(chan string, 1)
	}
	return r.values[name]
}

func (r *resolved) capture(name string, o pulumi.StringOutput) {
	ch := r.ch(name)
	o.ApplyT(func(v string) string { ch <- v; return v })
}

func (r *resolved) get(t *testing.T, name string) string {
	t.Helper()
	select {
	case v := <-r.ch(name):
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("output %s never resolved", name)
		return ""
	}
}

// children returns the resources whose parent is the component named name
// of type typ, keyed by type.
func children(t *testing.T, r preview.Result, typ, name string) map[string]preview.Resource {
	t.Helper()
	var parent string
	for _, res := range r.Find(typ) {
		if res.Name == name {
			parent = res.URN
		}
	}
	require.NotEmpty(t, parent, "no %s %s", typ, name)
	out := map[string]preview.Resource{}
	for _, res := range r.Resources {
		if res.Parent == parent {
			_, dup := out[res.Type]
			require.False(t, dup, "two %s under %s", res.Type, name)
			out[res.Type] = res
		}
	}
	return out
}
