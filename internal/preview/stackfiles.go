package preview

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// StackConfig is a stack's configuration as the Pulumi CLI would hand it to
// the program.
type StackConfig struct {
	Project string
	Stack   string
	// Values are keyed by full key ("aws:region", "<project>:tableName"):
	// the stack file's values plus the declared defaults of project
	// settings the stack leaves unset.
	Values map[string]string
	// Encrypted lists the keys whose values are secrets: they cannot be
	// decrypted without the stack's secrets provider, so they are left out
	// and the program sees their defaults.
	Encrypted []string
}

// LoadStackConfig reads Pulumi.yaml and Pulumi.<stack>.yaml in dir with
// Pulumi's own loaders, which check both files against Pulumi's schema.
func LoadStackConfig(dir, stack string) (StackConfig, error) {
	project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return StackConfig{}, err
	}
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(path); err != nil {
		return StackConfig{}, fmt.Errorf("stack %q: no stack file %s (stacks here: %s)", stack, path, strings.Join(Stacks(dir), ", "))
	}
	ps, err := workspace.LoadProjectStack(diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never}), project, path)
	if err != nil {
		return StackConfig{}, err
	}

	if err := cliConfigRules(project, ps, stack); err != nil {
		return StackConfig{}, err
	}
	sc := StackConfig{Project: string(project.Name), Stack: stack, Values: map[string]string{}}
	for key, value := range ps.Config {
		if value.Secure() {
			sc.Encrypted = append(sc.Encrypted, key.String())
			continue
		}
		v, err := value.Value(config.NopDecrypter)
		if err != nil {
			return StackConfig{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		sc.Values[key.String()] = v
	}
	slices.Sort(sc.Encrypted)

	for name, declared := range project.Config {
		key := name
		if !strings.Contains(key, ":") {
			key = sc.Project + ":" + name
		}
		if _, set := sc.Values[key]; set || slices.Contains(sc.Encrypted, key) {
			continue
		}
		def := declared.Default
		if def == nil {
			def = declared.Value
		}
		if def == nil {
			continue
		}
		v, err := configString(def)
		if err != nil {
			return StackConfig{}, fmt.Errorf("Pulumi.yaml: default of %s: %w", name, err)
		}
		sc.Values[key] = v
	}
	return sc, nil
}

// cliConfigRules refuses what the Pulumi CLI refuses before it runs the
// program (its config merge in sdk/go/common/workspace, 3.202 and later): a
// secret setting with a plain default in Pulumi.yaml, a secret setting with a
// plain value in the stack file, and a declared setting of the project with
// neither a default nor a value. Without this, the offline preview would pass
// a stack that `pulumi up` stops at once.
func cliConfigRules(project *workspace.Project, ps *workspace.ProjectStack, stack string) error {
	var problems []string
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(project.Config)) {
		declared := project.Config[name]
		key, err := configKey(string(project.Name), name)
		if err != nil {
			return fmt.Errorf("Pulumi.yaml: %s: %w", name, err)
		}
		value, set := ps.Config[key]
		switch {
		case declared.Secret && declared.Default != nil:
			problems = append(problems, fmt.Sprintf("Pulumi.yaml: %s is secret and has a plain default; the CLI refuses it (\"must be encrypted as it's secret\"): declare secret settings without a default", name))
		case declared.Secret && set && !value.Secure():
			problems = append(problems, fmt.Sprintf("Stack '%s' with configuration key '%s' must be encrypted as it's secret: `pulumi config set --secret %s …`", stack, name, name))
		case !set && declared.Default == nil && declared.Value == nil && key.Namespace() == string(project.Name):
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("Stack '%s' is missing configuration value(s) %s", stack, strings.Join(missing, ", ")))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// configKey is the full key of a Pulumi.yaml setting name.
func configKey(project, name string) (config.Key, error) {
	if strings.Contains(name, ":") {
		return config.ParseKey(name)
	}
	return config.MustMakeKey(project, name), nil
}

// configString renders a value the way the Pulumi engine passes config to a
// program: strings as they are, everything else as JSON.
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Stacks lists the stacks that have a Pulumi.<stack>.yaml in dir.
func Stacks(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	var stacks []string
	for _, f := range files {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	return stacks
}
