package inputs

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// declared is one input as action.yml or the README declares it.
type declared struct {
	name, def, description string
	hasDefault             bool
}

// actionInputs reads the inputs of action.yml, in file order.
func actionInputs(t *testing.T) []declared {
	t.Helper()
	raw, err := os.ReadFile("../../action.yml")
	require.NoError(t, err)
	var doc struct {
		Inputs yaml.Node `yaml:"inputs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	require.Equal(t, yaml.MappingNode, doc.Inputs.Kind, "action.yml: inputs is a map")
	var out []declared
	for i := 0; i+1 < len(doc.Inputs.Content); i += 2 {
		var in struct {
			Description string  `yaml:"description"`
			Default     *string `yaml:"default"`
		}
		require.NoError(t, doc.Inputs.Content[i+1].Decode(&in))
		d := declared{name: doc.Inputs.Content[i].Value, description: in.Description}
		if in.Default != nil {
			d.def, d.hasDefault = *in.Default, true
		}
		out = append(out, d)
	}
	return out
}

// readmeRow is a row of the README's input table: | `name` | default | meaning |.
var readmeRow = regexp.MustCompile("^\\| `([a-z-]+)` \\| (.*?) \\| (.*) \\|$")

// readmeInputs reads the README's input table (after "## Inputs"), in order.
func readmeInputs(t *testing.T) []declared {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(raw), "\n## Inputs\n")
	require.True(t, ok, "README.md has an ## Inputs section")
	var out []declared
	started := false
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "| input |") {
			started = true
			continue
		}
		if !started || strings.HasPrefix(line, "|---") {
			continue
		}
		m := readmeRow.FindStringSubmatch(line)
		if m == nil {
			break // the table ends at the first line that is not a row
		}
		out = append(out, declared{name: m[1], def: m[2], description: m[3]})
	}
	require.NotEmpty(t, out, "README.md: the input table has rows")
	return out
}

func names(ds []declared) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.name)
	}
	return out
}

// TestSpecMatchesActionYML: spec.go is the one list of inputs; action.yml
// declares the same inputs in the same order, each with a description, and
// the same defaults (an expression default is in runnerDefaults).
func TestSpecMatchesActionYML(t *testing.T) {
	t.Parallel()
	var want []string
	for _, s := range specs {
		want = append(want, s.name)
	}
	got := actionInputs(t)
	require.Equal(t, want, names(got), "action.yml's inputs, in order, are spec.go's")
	for i, d := range got {
		s := specs[i]
		assert.NotEmpty(t, strings.TrimSpace(d.description), "action.yml: input %s has no description", d.name)
		switch {
		case runnerDefaults[s.name] != "":
			assert.Equal(t, runnerDefaults[s.name], d.def, "action.yml: default of %s", d.name)
			assert.Empty(t, s.def, "spec.go: %s has an expression default in action.yml and none of its own", s.name)
		case s.def != "":
			assert.True(t, d.hasDefault, "action.yml: %s has no default; spec.go says %q", d.name, s.def)
			assert.Equal(t, s.def, d.def, "action.yml: default of %s", d.name)
		default:
			assert.False(t, d.hasDefault, "action.yml: %s has default %q; spec.go has none", d.name, d.def)
		}
	}
}

// TestSpecMatchesREADME: the README's input table lists spec.go's inputs in
// the same order, each with a meaning; an input with a literal default shows
// it as `value`, one without shows what decides instead (not a bare literal).
func TestSpecMatchesREADME(t *testing.T) {
	t.Parallel()
	var want []string
	for _, s := range specs {
		want = append(want, s.name)
	}
	got := readmeInputs(t)
	require.Equal(t, want, names(got), "README.md's input table, in order, is spec.go's")
	literal := regexp.MustCompile("^`[^`]*`$")
	for i, d := range got {
		s := specs[i]
		assert.NotEmpty(t, strings.TrimSpace(d.description), "README.md: input %s has no meaning", d.name)
		assert.NotEmpty(t, strings.TrimSpace(d.def), "README.md: input %s has an empty default cell (use — for none)", d.name)
		switch {
		case runnerDefaults[s.name] != "":
			assert.Equal(t, "`"+runnerDefaults[s.name]+"`", d.def, "README.md: default of %s", d.name)
		case s.def != "":
			assert.Equal(t, "`"+s.def+"`", d.def, "README.md: default of %s", d.name)
		default:
			assert.NotRegexp(t, literal, d.def, "README.md: %s shows a literal default; spec.go has none", d.name)
		}
	}
}

func TestRunnerDefaults(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, d := range RunnerDefaults(func(expr string) string { return "value of " + expr }) {
		got[d.Name] = d.Value
	}
	assert.Equal(t, "value of ${{ github.token }}", got["github-token"])
	assert.Equal(t, "100%", got["stages"])
	assert.NotContains(t, got, "worker", "an input without a default is not filled in")
}

// TestEveryInputHasAField: Load reads each input of specs with its field
// function, and there is none for an input specs does not list.
func TestEveryInputHasAField(t *testing.T) {
	t.Parallel()
	var want []string
	for _, s := range specs {
		assert.Contains(t, fields, s.name, "no field function for input %s", s.name)
		want = append(want, s.name)
	}
	for name := range fields {
		assert.Contains(t, want, name, "a field function for %s, which is not an input", name)
	}
}

// TestLoadErrorsInSpecOrder: problems of several inputs come in the order of
// action.yml (the field functions run in the order of specs), then those
// across inputs.
func TestLoadErrorsInSpecOrder(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{
		"INPUT_DELETE-PREVIEW": "x", "INPUT_WORKER": "Bad Name", "INPUT_TAG": "a\nb",
		"INPUT_DEPLOY": "maybe", "INPUT_VERSION-ID": "v1",
	})
	require.Error(t, err)
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ie *Error
		require.ErrorAs(t, e, &ie)
		got = append(got, ie.Input)
	}
	assert.Equal(t, []string{"worker", "tag", "deploy", "delete-preview", "api-token", "account-id", "version-id"}, got)
}
