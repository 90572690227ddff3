package preview

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes a stack's review for a pull request: the summary
// line, what changed against the base (when d is not nil), the policy
// verdicts, and the data-flow picture in a mermaid block.
func WriteMarkdown(w io.Writer, head Result, d *Diff) error {
	p := &printer{w: w}
	p.printf("### Stack `%s` (%s)\n\n%s\n\n", head.Stack, head.Region, summary(head))
	if d != nil {
		writeDiff(p, head, *d)
	}
	if m := head.Mandatory(); len(m) > 0 {
		p.printf("**%d mandatory policy violation(s): the deployment is blocked.**\n\n", len(m))
	}
	var chart bytes.Buffer
	if err := WriteMermaid(&chart, head); err != nil {
		return err
	}
	p.printf("<details><summary>Data flow</summary>\n\n```mermaid\n%s```\n\n</details>\n\n", chart.String())
	return p.err
}

// summary is the line the tree starts with, in words.
func summary(r Result) string {
	s := fmt.Sprintf("%d resources, %d policy violations (%d mandatory)", len(r.Resources), len(r.Violations), len(r.Mandatory()))
	if len(r.Planned) > 0 {
		s += "; not created: " + strings.Join(r.Planned, "; ")
	}
	return s
}

func writeDiff(p *printer, head Result, d Diff) {
	if d.Empty() {
		p.printf("No change against the base.\n\n")
		return
	}
	replaced := 0
	for _, c := range d.Changed {
		if c.Replace {
			replaced++
		}
	}
	p.printf("%d added, %d removed, %d changed (%d replaced)\n\n", len(d.Added), len(d.Removed), len(d.Changed), replaced)
	if len(d.Added)+len(d.Removed)+len(d.Changed) > 0 {
		p.printf("| | Resource | Type | Input | Before | After |\n|---|---|---|---|---|---|\n")
		for _, r := range d.Added {
			p.printf("| + | %s | `%s` | | | |\n", cell(r.Name), r.Type)
		}
		for _, r := range d.Removed {
			p.printf("| − | %s | `%s` | | | |\n", cell(r.Name), r.Type)
		}
		for _, c := range d.Changed {
			for _, in := range c.Inputs {
				mark := "~"
				switch {
				case in.Replaces:
					mark = "**replace**"
				case in.Note != "":
					mark = "~ (" + in.Note + ")"
				}
				p.printf("| %s | %s | `%s` | `%s` | %s | %s |\n", mark, cell(c.Name), c.Type, in.Key, value(in.Old), value(in.New))
			}
		}
		p.printf("\n")
	}
	byURN := map[string]Resource{}
	for _, r := range head.Resources {
		byURN[r.URN] = r
	}
	verdicts := func(title string, vs []Violation) {
		if len(vs) == 0 {
			return
		}
		p.printf("%s\n\n", title)
		for _, v := range vs {
			name := v.URN
			if r, ok := byURN[v.URN]; ok {
				name = r.Type + " " + r.Name
			}
			p.printf("- **%s** `%s` on `%s`: %s\n", v.EnforcementLevel, v.Policy, name, cell(v.Message))
		}
		p.printf("\n")
	}
	verdicts("Policy verdicts this change brings:", d.NewViolations)
	verdicts("Policy verdicts this change removes:", d.GoneViolations)
}

// WriteDiff writes the diff as text, after the tree.
func WriteDiff(w io.Writer, head Result, d Diff) error {
	p := &printer{w: w}
	p.printf("\nChanges against the base: ")
	writeDiff(p, head, d)
	return p.err
}

// value renders an input value for a table cell, cut to stay readable.
func value(s string) string {
	if s == Absent {
		return "*" + s + "*"
	}
	const max = 80
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return "`" + strings.ReplaceAll(cell(s), "`", "'") + "`"
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
