package inputs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
)

// ProjectConfig holds the inputs of bindings, secrets and assets.
type ProjectConfig struct {
	// Bindings is the `bindings` input: bindings in API form.
	Bindings []bindings.Binding
	// Vars is the `vars` input as plain_text bindings.
	Vars []bindings.Binding
	// Secrets are the `secrets` input as secret_text bindings. Their values
	// are masked by the app before anything is printed.
	Secrets []bindings.Binding
	// KeepSecrets carries the live version's secrets that this run does not
	// send, with inherit bindings.
	KeepSecrets bool
	// CreateResources creates the KV namespaces, D1 databases and R2 buckets
	// that the configuration names without an ID and that do not exist.
	CreateResources bool
	// AssetsDirectory is the `assets-directory` input, relative to the
	// working directory; "" means `assets.directory` from the configuration.
	AssetsDirectory string
}

// envName is what `secrets` may list: environment-variable names that are
// also binding names (JavaScript identifiers).
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// wranglerEnvName is an environment name of a wrangler configuration.
var wranglerEnvName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// projectFields are the inputs of bindings, secrets and assets.
var projectFields = map[string]field{
	"keep-secrets":     boolField(func(c *Config) *bool { return &c.Project.KeepSecrets }),
	"create-resources": boolField(func(c *Config) *bool { return &c.Project.CreateResources }),
	"bindings": func(c *Config, l *loader, name string) {
		var err error
		if c.Project.Bindings, err = bindings.ParseBindings(l.str(name)); err != nil {
			l.fail(name, "%w", err)
		}
	},
	"vars": func(c *Config, l *loader, name string) {
		var err error
		if c.Project.Vars, err = bindings.ParseVars(l.str(name)); err != nil {
			l.fail(name, "%w", err)
		}
	},
	"secrets": func(c *Config, l *loader, name string) {
		names, problems := SecretNames(l.str(name))
		for _, msg := range problems {
			l.fail(name, "%s", msg)
		}
		for _, n := range names {
			v := l.src.Env(n)
			if v == "" {
				l.fail(name, "environment variable %s is unset or empty; pass it to the step, e.g. `env: %s: ${{ secrets.%s }}`", n, n, n)
				continue
			}
			b, err := bindings.Secret(n, v)
			if err != nil {
				l.fail(name, "%w", err)
				continue
			}
			c.Project.Secrets = append(c.Project.Secrets, b)
		}
	},
	"assets-directory": stringField(func(c *Config) *string { return &c.Project.AssetsDirectory }),
}

// SecretNames splits the `secrets` input (names separated by new lines or
// commas) and reports names that cannot be environment variables or bindings.
// Problems never contain values.
func SecretNames(input string) (names []string, problems []string) {
	seen := map[string]bool{}
	for i, n := range SplitList(input) {
		switch {
		case !envName.MatchString(n):
			// Never echo the entry: someone may have pasted a value instead of a name.
			problems = append(problems, fmt.Sprintf("entry %d is not an environment-variable name usable as a binding name (letters, digits, `_`, not starting with a digit); list names, not values", i+1))
		case seen[n]:
			problems = append(problems, fmt.Sprintf("%s is listed twice", n))
		default:
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, problems
}

// SecretValues returns the values of the environment variables that the
// `secrets` input names, for masking before anything is printed (including
// every line of a multi-line value, since the runner masks line by line).
func SecretValues(src *Source) []string {
	v, _ := src.Lookup("secrets")
	names, _ := SecretNames(v)
	var out []string
	for _, n := range names {
		val := src.Env(n)
		if strings.TrimSpace(val) == "" {
			continue
		}
		out = append(out, val)
		if strings.Contains(val, "\n") {
			for _, line := range strings.Split(val, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					out = append(out, line)
				}
			}
		}
	}
	return out
}
