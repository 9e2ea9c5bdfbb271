package inputs

import "sort"

type kind int

const (
	kindString kind = iota
	kindBool
	kindSecret
)

// spec describes one input of action.yml; the names are the public interface (README "Inputs").
type spec struct {
	name string
	kind kind
	// def is the built-in default; "" means computed or none.
	def string
}

// specs lists every input of action.yml, in its order.
var specs = []spec{
	{"api-token", kindSecret, ""},
	{"account-id", kindString, ""},
	{"api-url", kindString, ""},
	{"worker", kindString, ""},
	{"create-worker", kindBool, "true"},
	{"working-directory", kindString, "."},
	{"config", kindString, ""},
	{"wrangler-env", kindString, ""},
	{"modules", kindString, ""},
	{"main-module", kindString, ""},
	{"compatibility-date", kindString, ""},
	{"compatibility-flags", kindString, ""},
	{"bindings", kindString, ""},
	{"vars", kindString, ""},
	{"secrets", kindString, ""},
	{"keep-secrets", kindBool, "true"},
	{"create-resources", kindBool, "false"},
	{"tag", kindString, ""},
	{"message", kindString, ""},
	{"deploy", kindBool, "false"},
	{"stages", kindString, "100%"},
	{"health-check-url", kindString, ""},
	{"health-check-interval", kindString, "10s"},
	{"max-error-rate", kindString, ""},
	{"min-requests", kindString, "50"},
	{"no-data", kindString, "fail"},
	{"rollback", kindBool, "true"},
	{"version-id", kindString, ""},
	{"github-token", kindSecret, ""},
	{"comment", kindBool, "true"},
	{"github-deployment", kindBool, "false"},
	{"github-environment", kindString, ""},
	{"assets-directory", kindString, ""},
	{"upload-source-maps", kindString, ""},
	{"bundle", kindString, "auto"},
	{"preview", kindString, "auto"},
	{"preview-name", kindString, ""},
	{"delete-preview", kindBool, "true"},
	{"dry-run", kindBool, "false"},
	{"json", kindBool, "false"},
}

var specByName = func() map[string]spec {
	m := make(map[string]spec, len(specs))
	for _, s := range specs {
		m[s.name] = s
	}
	return m
}()

// Names returns every input name, sorted.
func Names() []string {
	out := make([]string, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}

// runnerDefaults are the action.yml defaults that are expressions the runner
// evaluates (`${{ … }}`); outside Actions such an input has no default.
var runnerDefaults = map[string]string{
	"github-token": "${{ github.token }}",
}

// Default is one input and the value the runner fills in when a workflow
// does not set it, as action.yml declares it.
type Default struct{ Name, Value string }

// RunnerDefaults returns, in action.yml's order, every input that has a
// default and the value the runner passes for it; expr gives the value of an
// expression default such as `${{ github.token }}`. End-to-end tests run the
// binary with these, as the runner does.
func RunnerDefaults(expr func(string) string) []Default {
	var out []Default
	for _, s := range specs {
		switch {
		case runnerDefaults[s.name] != "":
			out = append(out, Default{s.name, expr(runnerDefaults[s.name])})
		case s.def != "":
			out = append(out, Default{s.name, s.def})
		}
	}
	return out
}
