package stackconfig

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FieldError is one bad setting: its full key, the value given, and what is
// allowed.
type FieldError struct {
	Key     string
	Value   string
	Problem string
}

func (f FieldError) String() string { return fmt.Sprintf("%s = %q: %s", f.Key, f.Value, f.Problem) }

// Error lists every bad setting of a stack at once, so one run shows them all.
type Error struct {
	Stack  string
	Fields []FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %q: %d invalid setting(s):", e.Stack, len(e.Fields))
	for _, f := range e.Fields {
		b.WriteString("\n  - ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Load reads and validates the settings of the running program's stack.
func Load(ctx *pulumi.Context) (Settings, error) {
	values := map[string]string{}
	for _, key := range append(Keys(), RegionKey) {
		if v, ok := ctx.GetConfig(key); ok {
			values[key] = v
		}
	}
	return ParseWithSecrets(ctx.Stack(), values, ctx.IsConfigSecret)
}

// Keys returns the full keys of every declared setting.
func Keys() []string {
	keys := make([]string, len(Declared))
	for i, d := range Declared {
		keys[i] = FullKey(d.Key)
	}
	return keys
}

// Parse builds the settings of stack from config values keyed by full key
// ("manga-assist-data:tableName", "aws:region"), as the Pulumi engine passes
// them: defaults fill what is missing, keys of other namespaces are ignored,
// and every problem is reported in one *Error.
func Parse(stack string, values map[string]string) (Settings, error) {
	return ParseWithSecrets(stack, values, nil)
}

// ParseWithSecrets is Parse that also refuses a secret setting whose value
// is not encrypted in the stack's configuration: isSecret tells, by full key,
// whether a value came encrypted (nil: not known, not checked). Secret
// settings are optional, so Pulumi.yaml cannot declare them (a declared
// setting without a default is required, and the CLI refuses a plain
// default for a secret one): this check takes the place of the CLI's.
func ParseWithSecrets(stack string, values map[string]string, isSecret func(key string) bool) (Settings, error) {
	s := Defaults()
	s.Stack = stack
	var bad []FieldError
	report := func(key, value, problem string, secret bool) {
		if secret {
			value = "[secret]"
		}
		bad = append(bad, FieldError{Key: key, Value: value, Problem: problem})
	}

	for key := range values {
		name, ours := strings.CutPrefix(key, Project+":")
		if ours && !slices.ContainsFunc(Declared, func(d Setting) bool { return d.Key == name }) {
			report(key, values[key], "unknown setting; known: "+strings.Join(Keys(), ", "), false)
		}
	}
	typeErrors := map[string]bool{}
	for _, d := range Declared {
		raw, ok := values[FullKey(d.Key)]
		if !ok {
			continue
		}
		if d.Secret && isSecret != nil && !isSecret(FullKey(d.Key)) {
			report(FullKey(d.Key), raw, "is a secret: set it with `pulumi config set --secret "+d.Key+" …` so that it is stored encrypted", true)
			typeErrors[d.Key] = true
			continue
		}
		if err := d.set(&s, raw); err != nil {
			report(FullKey(d.Key), raw, err.Error(), d.Secret)
			typeErrors[d.Key] = true
		}
	}
	s.Region = values[RegionKey]

	for _, f := range s.check() {
		if typeErrors[strings.TrimPrefix(f.key, Project+":")] {
			continue // already reported as unparsable
		}
		report(f.key, f.value, f.problem, f.secret)
	}
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b FieldError) int { return strings.Compare(a.Key, b.Key) })
	}
	if problem := StackNameProblem(stack); problem != "" {
		bad = append([]FieldError{{Key: "stack", Value: stack, Problem: problem}}, bad...)
	}
	if len(bad) > 0 {
		return Settings{}, &Error{Stack: stack, Fields: bad}
	}
	return s, nil
}
