// Package components holds the Pulumi component resources of the
// manga-assist-data platform. Each one is a pulumi.ComponentResource with the
// type token manga-assist:data:<Name>, an Args struct whose zero values take
// documented defaults, children parented to it, and its useful outputs
// registered, so another stack can use it alone:
//
//	table, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{
//		Tags: map[string]string{"project": "shop", "environment": ctx.Stack()},
//	})
//
// Args fields that shape the resources are plain Go values, checked when the
// component is created; fields that may come from other resources (ARNs) are
// pulumi.Input values.
package components

import (
	"fmt"
	"maps"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// typeToken is the Pulumi type of the component called name.
func typeToken(name string) string { return "manga-assist:data:" + name }

// argsError reports every problem of an Args struct at once, each line
// starting with the struct's name so the field is unambiguous; nil if none.
func argsError(argsType string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s.%s", argsType, strings.Join(problems, "\n"+argsType+"."))
}

// tagsFor returns the tags of every child of a component: the caller's tags
// plus component=<name>, which the caller cannot override.
func tagsFor(component string, tags map[string]string) pulumi.StringMap {
	all := maps.Clone(tags)
	if all == nil {
		all = map[string]string{}
	}
	all["component"] = component
	return pulumi.ToStringMap(all)
}
