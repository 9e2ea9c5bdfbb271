package bundle

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Rule is one module rule of a wrangler configuration (`rules`): files whose module name
// matches one of Globs are uploaded with the rule's type. See docs/upload-model.md.
type Rule struct {
	// Type is ESModule, CommonJS, CompiledWasm, Text, Data, PythonModule or PythonRequirement.
	Type string
	// Globs are globs matched against the module name (the path relative to the base).
	Globs []string
	// Fallthrough, when true, lets later rules of the same type still apply; when false
	// or nil, later rules of the same type are dropped.
	Fallthrough *bool
}

// ruleTypes maps wrangler's rule types to module content types.
var ruleTypes = map[string]string{
	"ESModule":          TypeESModule,
	"CommonJS":          TypeCommonJS,
	"CompiledWasm":      TypeWasm,
	"Text":              TypeText,
	"Data":              TypeData,
	"PythonModule":      TypePython,
	"PythonRequirement": TypePythonRequirement,
}

// RuleTypes lists the rule types a configuration's `rules` may use.
var RuleTypes = []string{"ESModule", "CommonJS", "CompiledWasm", "Text", "Data", "PythonModule", "PythonRequirement"}

// defaultRules are wrangler's default module rules (Text, Data, CompiledWasm), then the
// JavaScript and Python rules a framework's output needs without any configuration.
// requirements.txt comes first so that it is not taken as Text.
var defaultRules = []Rule{
	{Type: "PythonRequirement", Globs: []string{"requirements.txt"}},
	{Type: "Text", Globs: []string{"**/*.txt", "**/*.html", "**/*.sql"}},
	{Type: "Data", Globs: []string{"**/*.bin"}},
	{Type: "CompiledWasm", Globs: []string{"**/*.wasm", "**/*.wasm?module"}},
	{Type: "ESModule", Globs: []string{"**/*.js", "**/*.mjs"}},
	{Type: "CommonJS", Globs: []string{"**/*.cjs"}},
	{Type: "PythonModule", Globs: []string{"**/*.py"}},
}

// ruleSet is the effective, ordered list of rules.
type ruleSet struct {
	rules      []Rule
	sourceMaps bool
	// Warnings are rules dropped because an earlier rule of the same type had no
	// fallthrough, as wrangler warns.
	warnings []string
}

// InputRules names the configuration's `rules` in errors.
const InputRules = "config rules"

// newRuleSet validates the configuration's rules and merges them with the defaults the way
// wrangler's parseRules does: user rules first, then the defaults; once a rule of a type is
// seen without `fallthrough: true`, every later rule of that type is dropped (with a warning
// for those that had not set `fallthrough: false` on the earlier rule).
func newRuleSet(user []Rule, sourceMaps bool) (*ruleSet, error) {
	var problems []string
	for i, r := range user {
		if _, ok := ruleTypes[r.Type]; !ok {
			problems = append(problems, fmt.Sprintf("rules[%d]: type %q is not one of %s", i, r.Type, strings.Join(RuleTypes, ", ")))
		}
		if len(r.Globs) == 0 {
			problems = append(problems, fmt.Sprintf("rules[%d]: `globs` is empty", i))
		}
		for _, g := range r.Globs {
			if !doublestar.ValidatePattern(g) {
				problems = append(problems, fmt.Sprintf("rules[%d]: glob %q is not a valid glob", i, g))
			}
		}
	}
	if len(problems) > 0 {
		return nil, inputErr(InputRules, newKindError(ErrInvalidPattern,
			"the configuration's module `rules` are invalid: %s", strings.Join(problems, "; ")))
	}
	all := append(append([]Rule{}, user...), defaultRules...)
	rs := &ruleSet{sourceMaps: sourceMaps}
	completed := map[string]int{}
	for i, r := range all {
		if at, ok := completed[r.Type]; ok {
			if all[at].Fallthrough == nil && i < len(user) {
				rs.warnings = append(rs.warnings, fmt.Sprintf(
					"module rule %d (type %s, globs %s) is ignored: rule %d has the same type; add `fallthrough: true` to rule %d to use both, or `fallthrough: false` to silence this warning",
					i, r.Type, strings.Join(r.Globs, ", "), at, at))
			}
			continue
		}
		if r.Fallthrough == nil || !*r.Fallthrough {
			completed[r.Type] = i
		}
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

// typeOf returns the content type of the module name by the first rule that matches it.
// Source maps have their own type and are uploaded only when sourceMaps is set.
func (rs *ruleSet) typeOf(name string) (string, bool) {
	if strings.EqualFold(path.Ext(name), ".map") {
		return TypeSourceMap, rs.sourceMaps
	}
	for _, r := range rs.rules {
		for _, g := range r.Globs {
			if doublestar.MatchUnvalidated(g, name) {
				return ruleTypes[r.Type], true
			}
		}
	}
	return "", false
}

// isSourceMap reports a module name of a source map.
func isSourceMap(name string) bool { return strings.EqualFold(path.Ext(name), ".map") }
