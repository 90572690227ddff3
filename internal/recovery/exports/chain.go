package exports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Chain is the exports that rebuild a table as of a time: the newest full
// export at or before it, then every incremental export after that, in
// order, with no gap between them.
type Chain struct {
	Full         *Export
	Incrementals []*Export
	// Until is the time asked for; AsOf the time the chain's data is really
	// as of: the end of its last export, at or before Until.
	Until, AsOf time.Time
	// Skipped are incrementals inside the chain's span that another one
	// already covers (a retried window): applying them would move items back.
	Skipped []*Export
}

// Exports lists the chain in the order it is applied.
func (c *Chain) Exports() []*Export { return append([]*Export{c.Full}, c.Incrementals...) }

// GapError is a stretch of time no export covers.
type GapError struct {
	From, To time.Time // the last covered time, and where the next export starts
	After    *Export   // the export whose end starts the gap
	Next     *Export
}

func (e *GapError) Error() string {
	return fmt.Sprintf("gap in the export chain: nothing covers %s to %s (%s ends at %s; the next, %s, starts at %s); "+
		"run a full export, or restore to a time before the gap",
		stamp(e.From), stamp(e.To), e.After, stamp(e.From), e.Next, stamp(e.To))
}

// SelectChain picks from all (one table's exports) the chain that rebuilds
// the table as of until. It refuses a gap, and exports of several tables.
func SelectChain(all []*Export, until time.Time) (*Chain, error) {
	var full *Export
	var fulls []*Export
	for _, e := range all {
		if !e.Incremental {
			fulls = append(fulls, e)
			if !e.Time.After(until) && (full == nil || e.Time.After(full.Time)) {
				full = e
			}
		}
	}
	if full == nil {
		if len(fulls) == 0 {
			return nil, fmt.Errorf("no full export found: a chain starts with one")
		}
		return nil, fmt.Errorf("no full export at or before %s: the oldest is %s", stamp(until), fulls[0])
	}
	c := &Chain{Full: full, Until: until, AsOf: full.Time}
	var incs, straddling []*Export
	for _, e := range all {
		if !e.Incremental || e.To.Compare(full.Time) <= 0 || e.From.After(until) {
			continue // before the full export, or after until
		}
		if e.TableArn != full.TableArn {
			return nil, fmt.Errorf("%s is of table %s, but %s is of table %s: one chain holds one table's exports",
				e, e.TableArn, full, full.TableArn)
		}
		if e.To.After(until) {
			straddling = append(straddling, e) // its data is as of a time after until
			continue
		}
		incs = append(incs, e)
	}
	slices.SortFunc(incs, func(a, b *Export) int { return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To)) })
	last := full
	for _, e := range incs {
		switch {
		case e.From.After(c.AsOf):
			return nil, &GapError{From: c.AsOf, To: e.From, After: last, Next: e}
		case !e.To.After(c.AsOf):
			// Each incremental line is its item's state at the window's end,
			// so a window inside what is covered already would be a step back.
			c.Skipped = append(c.Skipped, e)
		default:
			// An overlap is safe: the later window's lines are as of its end.
			c.Incrementals = append(c.Incrementals, e)
			c.AsOf, last = e.To, e
		}
	}
	// An export that cannot be used because it ends after until still shows
	// a gap if it starts after the chain's end: the time between is lost.
	if len(straddling) > 0 {
		first := slices.MinFunc(straddling, func(a, b *Export) int { return a.From.Compare(b.From) })
		if first.From.After(c.AsOf) {
			return nil, &GapError{From: c.AsOf, To: first.From, After: last, Next: first}
		}
	}
	return c, nil
}

// Describe lists the chain for a report.
func (c *Chain) Describe() string {
	var b strings.Builder
	for i, e := range c.Exports() {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, e)
	}
	return b.String()
}
