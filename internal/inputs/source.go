package inputs

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Getenv looks up one environment variable; main passes os.Getenv, tests a map.
type Getenv func(key string) string

// Source answers the value of one input by its kebab-case name, and whether it
// was given at all. Flags win over INPUT_* variables.
type Source struct {
	flags map[string]string
	// action reads INPUT_* and other variables through the injected getenv
	// (go-githubactions' WithGetenv); it never touches the process's
	// environment.
	action *githubactions.Action
}

// NewSource parses args (without the program name) as one flag per input:
// --name=value, --name value, or a bare --name for a boolean input (true).
// Unknown flags are an error that lists the valid names.
func NewSource(args []string, getenv Getenv) (*Source, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := &Source{flags: map[string]string{}, action: githubactions.New(githubactions.WithGetenv(githubactions.GetenvFunc(getenv)))}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" || a == "-help" {
			return nil, ErrHelp
		}
		if !strings.HasPrefix(a, "-") {
			return nil, &Error{Input: a, Err: fmt.Errorf("unexpected argument %q: every input is given as --name=value", a)}
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		spec, ok := specByName[name]
		if !ok {
			return nil, &Error{Input: name, Err: fmt.Errorf("unknown flag --%s; valid flags: %s", name, strings.Join(Names(), ", "))}
		}
		if !hasValue {
			switch {
			case spec.kind == kindBool && (i+1 >= len(args) || !isBoolWord(args[i+1])):
				value = "true"
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, &Error{Input: name, Err: fmt.Errorf("flag --%s needs a value", name)}
			}
		}
		if _, dup := s.flags[name]; dup {
			return nil, &Error{Input: name, Err: fmt.Errorf("flag --%s given twice", name)}
		}
		s.flags[name] = value
	}
	return s, nil
}

func isBoolWord(s string) bool { return s == "true" || s == "false" }

// Lookup returns the input's value (trimmed of surrounding white space) and
// whether it was set by a flag or a non-empty INPUT_ variable. The runner sets
// INPUT_<NAME> for every input with a default, upper-cased with hyphens kept.
func (s *Source) Lookup(name string) (string, bool) {
	if v, ok := s.flags[name]; ok {
		return strings.TrimSpace(v), true
	}
	// INPUT_<NAME>: spaces become "_", upper-cased, hyphens kept; trimmed.
	v := s.action.GetInput(name)
	return v, v != ""
}

// Env returns an environment variable through the injected getenv.
func (s *Source) Env(key string) string { return s.action.Getenv(key) }
