// Command preview is the project's main job without a cloud account: it runs
// the real Pulumi program for a stack under mocks, with that stack's
// configuration (aws:region included), and prints what would be created.
//
//	go run ./cmd/preview -stack dev                 # resource tree
//	go run ./cmd/preview -stack prod -json          # machine-readable
//	go run ./cmd/preview -stack dev -mermaid out.mmd       # data-flow picture
//	go run ./cmd/preview -stack dev -mermaid-all all.mmd   # every resource and dependency
//	go run ./cmd/preview -stack prod -diff base.json -markdown review.md
//
// For a pull request, save the base branch's preview with -json and give it
// to -diff on the change: the tree is followed by what was added, removed and
// changed (replacements flagged) and which policy verdicts came or went;
// -markdown writes all of it, with the picture, for a job summary.
//
// The policy pack in policy/ runs over the resources; its verdicts are part of
// the output. It exits 0 when the stack previews with no mandatory violation,
// 1 when a mandatory policy fails or the configuration or the program does,
// and 2 on bad usage.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
	"github.com/manga-assist/manga-assist-data/policy/pack"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return runProgram(program.Run, args, stdout, stderr)
}

// runProgram previews prog, which is program.Run except in tests.
func runProgram(prog pulumi.RunFunc, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("preview", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "", "stack to preview: the <name> of a Pulumi.<name>.yaml (required)")
	dir := flags.String("dir", ".", "directory holding Pulumi.yaml")
	asJSON := flags.Bool("json", false, "print JSON instead of the resource tree")
	mermaid := flags.String("mermaid", "", "also write the data-flow picture (Mermaid) to this file")
	mermaidAll := flags.String("mermaid-all", "", "also write a Mermaid graph of every resource and dependency to this file")
	diffBase := flags.String("diff", "", "compare with a preview of the base saved with -json")
	markdown := flags.String("markdown", "", "also write the review (summary, diff, verdicts, picture) as Markdown to this file")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *stack == "" || flags.NArg() > 0 {
		fmt.Fprintf(stderr, "preview: -stack is required (stacks here: %v)\n", preview.Stacks(*dir))
		flags.Usage()
		return 2
	}

	result, err := previewStack(prog, *dir, *stack, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "preview: %v\n", err)
		return 1
	}
	var diff *preview.Diff
	if *diffBase != "" {
		base, err := preview.LoadResult(*diffBase)
		if err != nil {
			fmt.Fprintf(stderr, "preview: -diff: %v\n", err)
			return 1
		}
		d := preview.Compare(base, result)
		diff = &d
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(result)
	} else {
		err = preview.WriteTree(stdout, result)
		if err == nil && diff != nil {
			err = preview.WriteDiff(stdout, result, *diff)
		}
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{*mermaid, func(w io.Writer) error { return preview.WriteMermaid(w, result) }},
		{*mermaidAll, func(w io.Writer) error { return preview.WriteMermaidAll(w, result) }},
		{*markdown, func(w io.Writer) error { return preview.WriteMarkdown(w, result, diff) }},
	} {
		if err == nil && out.path != "" {
			err = writeFile(out.path, out.write)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "preview: %v\n", err)
		return 1
	}
	if mandatory := result.Mandatory(); len(mandatory) > 0 {
		fmt.Fprintf(stderr, "preview: %d mandatory policy violation(s):\n", len(mandatory))
		for _, v := range mandatory {
			fmt.Fprintf(stderr, "  %s: %s\n      %s\n", v.Policy, v.URN, v.Message)
		}
		return 1
	}
	return 0
}

// previewStack loads a stack's configuration, refuses it with every problem
// named if it is invalid, and runs the program under mocks.
func previewStack(prog pulumi.RunFunc, dir, stack string, stderr io.Writer) (preview.Result, error) {
	sc, err := preview.LoadStackConfig(dir, stack)
	if err != nil {
		return preview.Result{}, err
	}
	if sc.Project != stackconfig.Project {
		return preview.Result{}, fmt.Errorf("%s/Pulumi.yaml is project %q, not %q", dir, sc.Project, stackconfig.Project)
	}
	for _, key := range sc.Encrypted {
		fmt.Fprintf(stderr, "preview: %s is encrypted; offline, the program sees its default\n", key)
	}
	// Parse first: it also catches misspelt keys, which the program, reading
	// only the keys it knows, cannot see.
	settings, err := stackconfig.ParseWithSecrets(stack, sc.Values, func(key string) bool { return slices.Contains(sc.Encrypted, key) })
	if err != nil {
		var cfgErr *stackconfig.Error
		if errors.As(err, &cfgErr) {
			return preview.Result{}, fmt.Errorf("%w\nfix Pulumi.%s.yaml (or `pulumi config set`) and run again", err, stack)
		}
		return preview.Result{}, err
	}
	policy, err := policyConfig(dir, stack)
	if err != nil {
		return preview.Result{}, err
	}
	result, err := preview.RunWithPolicy(policy, prog, sc.Project, stack, settings.Region, sc.Values, sc.Encrypted...)
	result.Planned = program.Planned(settings)
	return result, err
}

// policyConfig is the policy pack's config for stack: the defaults,
// overridden by policy/config/<stack>.json when it exists, the file that
// `pulumi preview --policy-pack policy --policy-pack-config` takes for the
// same stack (docs/policies.md).
func policyConfig(dir, stack string) (pack.Config, error) {
	path := filepath.Join(dir, "policy", "config", stack+".json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pack.DefaultConfig(), nil
	}
	if err != nil {
		return pack.Config{}, err
	}
	cfg, err := pack.ParseConfig(raw, pack.DefaultConfig())
	if err != nil {
		return pack.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
