package bindings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Binding is one binding of a version in the API's format.
type Binding struct {
	// Name is the JavaScript variable the Worker sees (env.<Name>).
	Name string
	// Type is the API's binding type, e.g. kv_namespace or secret_text.
	Type string
	// JSON is the whole binding object, name and type included. It may hold a
	// secret value (secret_text): never print it.
	JSON json.RawMessage
}

// Info returns the binding without its value, safe to print.
func (b Binding) Info() string { return b.Name + " (" + b.Type + ")" }

// identifier is the ASCII subset of JavaScript identifiers. Binding names become
// variables of the Worker's env (docs/workers-api.md §6.3: names must be valid
// JavaScript identifiers, code 10021); non-ASCII identifiers are legal
// JavaScript but are refused here, as the emulator does.
var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// maxNameBytes bounds a binding name. The API has a limit (code 10100) whose
// value is undocumented; 255 is a guess that no real name reaches (inferred).
const maxNameBytes = 255

// CheckName validates a binding name.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("a binding has no name")
	case len(name) > maxNameBytes:
		return fmt.Errorf("binding name %q is longer than %d bytes", name[:32]+"…", maxNameBytes)
	case !identifier.MatchString(name):
		return fmt.Errorf("binding name %q is not a valid JavaScript identifier: use letters, digits, `_` and `$`, not starting with a digit", name)
	}
	return nil
}

// New builds a binding from an object in API form. fields must not contain
// "name" or "type"; nil values are left out.
func New(name, typ string, fields map[string]any) (Binding, error) {
	obj := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		if v != nil {
			obj[k] = v
		}
	}
	obj["name"], obj["type"] = name, typ
	raw, err := json.Marshal(obj) // map keys are sorted: the JSON is canonical
	if err != nil {
		return Binding{}, fmt.Errorf("failed to encode binding %q: %w", name, err)
	}
	return Binding{Name: name, Type: typ, JSON: raw}, nil
}

// FromJSON validates one binding object in API form: an object with string
// name and type. The object is re-encoded with sorted keys.
func FromJSON(raw []byte) (Binding, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Binding{}, errors.New("each binding must be an object such as {\"type\": \"kv_namespace\", \"name\": \"CACHE\", \"namespace_id\": \"…\"}")
	}
	name, _ := obj["name"].(string)
	typ, _ := obj["type"].(string)
	if err := CheckName(name); err != nil {
		return Binding{}, err
	}
	if typ == "" {
		return Binding{}, fmt.Errorf("binding %q has no `type` (for example kv_namespace, r2_bucket, service)", name)
	}
	if typ == "inherit" {
		return Binding{}, fmt.Errorf("binding %q: type inherit is managed by `keep-secrets`; do not pass it", name)
	}
	delete(obj, "name")
	delete(obj, "type")
	return New(name, typ, obj)
}

// ParseBindings parses the `bindings` input: a JSON or YAML array of binding
// objects in the API's format. Names must be unique.
func ParseBindings(input string) ([]Binding, error) {
	if strings.TrimSpace(input) == "" {
		return nil, nil
	}
	var items []any
	if err := yaml.Unmarshal([]byte(input), &items); err != nil {
		// YAML is a superset of JSON: one parser reads both.
		return nil, fmt.Errorf("not a JSON or YAML array of bindings: %s", yamlMessage(err))
	}
	out := make([]Binding, 0, len(items))
	for i, it := range items {
		norm, err := normalizeYAML(it)
		if err != nil {
			return nil, fmt.Errorf("bindings[%d]: %w", i, err)
		}
		raw, err := json.Marshal(norm)
		if err != nil {
			return nil, fmt.Errorf("bindings[%d]: %w", i, err)
		}
		b, err := FromJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("bindings[%d]: %w", i, err)
		}
		out = append(out, b)
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

// normalizeYAML turns YAML's decoded values into JSON-encodable ones.
func normalizeYAML(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string", k)
			}
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case nil, string, bool, int, int64, uint64, float64:
		return t, nil
	default:
		// Timestamps and other YAML-only types: binding fields are strings.
		return fmt.Sprint(t), nil
	}
}

func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// keyValueLine is one KEY=value line of the `vars` input.
var keyValueLine = regexp.MustCompile(`^\s*[A-Za-z_$][A-Za-z0-9_$]*\s*=`)

// ParseVars parses the `vars` input into plain_text bindings: either KEY=value
// lines, or a YAML map of names to scalar values (taken as written, so
// `PORT: 8080` gives the text "8080"). Names must be unique.
func ParseVars(input string) ([]Binding, error) {
	if strings.TrimSpace(input) == "" {
		return nil, nil
	}
	type kv struct{ k, v string }
	var pairs []kv
	if isKeyValueLines(input) {
		for _, line := range strings.Split(input, "\n") {
			line = strings.TrimRight(line, "\r")
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			k, v, _ := strings.Cut(line, "=")
			pairs = append(pairs, kv{strings.TrimSpace(k), v})
		}
	} else {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(input), &doc); err != nil {
			return nil, fmt.Errorf("not KEY=value lines nor a YAML map: %s", yamlMessage(err))
		}
		if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			if n, key := badKeyLine(input); n > 0 {
				// KEY=value lines with a key that is no binding name: say which.
				return nil, fmt.Errorf("line %d: %q is not a valid var name: use letters, digits, `_` and `$`, not starting with a digit", n, key)
			}
			return nil, errors.New("use KEY=value lines or a YAML map such as `API_BASE: https://api.example.com`")
		}
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: the key is not a name", k.Line)
			}
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: var %q must be a string; for structured values use the `bindings` input with type json", v.Line, k.Value)
			}
			val := v.Value
			if v.Tag == "!!null" {
				val = ""
			}
			pairs = append(pairs, kv{k.Value, val})
		}
	}
	out := make([]Binding, 0, len(pairs))
	for _, p := range pairs {
		if err := CheckName(p.k); err != nil {
			return nil, err
		}
		b, err := New(p.k, "plain_text", map[string]any{"text": p.v})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

// isKeyValueLines reports whether every non-empty, non-comment line is KEY=value.
func isKeyValueLines(s string) bool {
	seen := false
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !keyValueLine.MatchString(line) {
			return false
		}
		seen = true
	}
	return seen
}

// badKeyLine finds the first KEY=value line whose key is not a name, for
// input that is neither valid KEY=value lines nor a YAML map. It returns the
// 1-based line number and the key (never the value), or 0.
func badKeyLine(s string) (int, string) {
	for i, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || keyValueLine.MatchString(line) {
			continue
		}
		if k, _, ok := strings.Cut(t, "="); ok && !strings.Contains(k, ":") {
			return i + 1, strings.TrimSpace(k)
		}
	}
	return 0, ""
}

// Secret creates a secret_text binding. The value is never printed.
func Secret(name, value string) (Binding, error) {
	if err := CheckName(name); err != nil {
		return Binding{}, err
	}
	return New(name, "secret_text", map[string]any{"text": value})
}

// Inherit creates an inherit binding that copies the binding name from
// version versionID ("" means the API's default, the latest version).
func Inherit(name, versionID string) Binding {
	f := map[string]any{}
	if versionID != "" {
		f["version_id"] = versionID
	}
	b, _ := New(name, "inherit", f) // strings always encode
	return b
}

func checkUnique(bs []Binding) error {
	seen := map[string]bool{}
	for _, b := range bs {
		if seen[b.Name] {
			return fmt.Errorf("binding name %q is used twice; each binding needs its own name", b.Name)
		}
		seen[b.Name] = true
	}
	return nil
}

// Layer is one source of bindings, named for error messages (an input or the
// configuration file).
type Layer struct {
	// Source names where the bindings come from, e.g. "input `vars`".
	Source string
	// Bindings are this source's bindings; names must be unique within a layer.
	Bindings []Binding
	// Input marks an action input: it replaces configuration bindings of the
	// same name, and must not share a name with another input.
	Input bool
}

// Merge merges the configuration's layer with the inputs' layers (pass the
// configuration first). An input replaces a configuration binding of the same
// name (README "Wrangler configuration"); two inputs naming the same
// binding are an error, since neither clearly wins. The result is sorted by
// name, so that equivalent configurations give identical requests.
func Merge(layers ...Layer) ([]Binding, error) {
	byName := map[string]Binding{}
	from := map[string]string{}
	fromInput := map[string]bool{}
	for _, l := range layers {
		if err := checkUnique(l.Bindings); err != nil {
			return nil, fmt.Errorf("%s: %w", l.Source, err)
		}
		for _, b := range l.Bindings {
			if _, dup := byName[b.Name]; dup && (!l.Input || fromInput[b.Name]) {
				return nil, fmt.Errorf("binding %q is given by both %s and %s; keep one", b.Name, from[b.Name], l.Source)
			}
			byName[b.Name], from[b.Name], fromInput[b.Name] = b, l.Source, l.Input
		}
	}
	out := make([]Binding, 0, len(byName))
	for _, b := range byName {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Names returns the bindings' names.
func Names(bs []Binding) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

// Raw returns the bindings' JSON objects, for a version upload.
func Raw(bs []Binding) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(bs))
	for _, b := range bs {
		out = append(out, slices.Clone(b.JSON))
	}
	return out
}
