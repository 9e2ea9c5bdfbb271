package bundle

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// maxListedNames bounds how many module names an error lists.
const maxListedNames = 10

// resolveMain picks the entry module: opts.MainModule (a module name), else opts.ConfigMain (a
// file path relative to Dir), else the only module whose base name is one of mainCandidates.
// mods are sorted by name.
func resolveMain(mods []Module, opts Options) (name, note string, err error) {
	byName := func(name string) (Module, bool) {
		i, ok := slices.BinarySearchFunc(mods, name, func(m Module, n string) int { return strings.Compare(m.Name, n) })
		if !ok {
			return Module{}, false
		}
		return mods[i], true
	}
	names := make([]string, len(mods))
	for i, m := range mods {
		names[i] = m.Name
	}

	if want := strings.TrimSpace(opts.MainModule); want != "" {
		m, ok := byName(strings.TrimPrefix(want, "./"))
		if !ok {
			hint := ""
			// A common slip: the file path instead of the module name.
			if rel := cleanRel(want); rel != "" {
				for _, mod := range mods {
					if mod.RelPath == rel {
						hint = fmt.Sprintf(" (%q is the file of module %q: module names are relative to the pattern's base directory)", want, mod.Name)
						break
					}
				}
			}
			return "", "", inputErr(InputMainModule, newKindError(ErrMainModule,
				"main module %q from input %q is not one of the uploaded modules%s; module names: %s",
				want, InputMainModule, hint, quoteList(names, maxListedNames)))
		}
		name, err := checkMain(m, InputMainModule, "input "+quoteName(InputMainModule))
		return name, "", err
	}

	if cfg := strings.TrimSpace(opts.ConfigMain); cfg != "" {
		if filepath.IsAbs(cfg) {
			// Tolerate a caller that already resolved `main` to an absolute path.
			if r, err := filepath.Rel(filepath.Clean(opts.Dir), cfg); err == nil {
				cfg = r
			}
		}
		rel := cleanRel(cfg)
		for _, m := range mods {
			if m.RelPath == rel {
				name, err := checkMain(m, InputConfigMain, "`main` of the wrangler configuration")
				return name, "", err
			}
		}
		// wrangler's `main` usually names the source (src/index.ts) that wrangler
		// itself bundles; the action uploads the build output instead. Use the
		// built module with the same stem, else the only index/worker module,
		// and say so; fail only when neither exists.
		if guess := guessBuilt(mods, rel); guess != "" {
			m, _ := byName(guess)
			name, err := checkMain(m, InputConfigMain, "`main` of the wrangler configuration")
			return name, fmt.Sprintf("`main` %q of the wrangler configuration is not an uploaded module; using the built module %q with the same name (set input %q to choose another)", cfg, guess, InputMainModule), err
		}
		if c := indexCandidates(mods); len(c) == 1 {
			name, err := checkMain(c[0], InputConfigMain, "`main` of the wrangler configuration")
			return name, fmt.Sprintf("`main` %q of the wrangler configuration is not an uploaded module; using %q, the only index/worker module (set input %q to choose another)", cfg, c[0].Name, InputMainModule), err
		}
		return "", "", inputErr(InputConfigMain, newKindError(ErrMainModule,
			"`main` %q of the wrangler configuration is not among the files matched by input %q; "+
				"it often names the source (e.g. src/index.ts) while the action uploads the build output, "+
				"so set input %q to the built entry module's name; module names: %s",
			cfg, InputModules, InputMainModule, quoteList(names, maxListedNames)))
	}

	candidates := indexCandidates(mods)
	if len(candidates) == 1 {
		name, err := checkMain(candidates[0], InputMainModule, "the only index/worker module")
		return name, "", err
	}
	cands := make([]string, len(candidates))
	for i, m := range candidates {
		cands[i] = m.Name
	}
	if len(candidates) == 0 {
		return "", "", inputErr(InputMainModule, newKindError(ErrMainModule,
			"cannot tell the main module: no module is named %s, and neither input %q nor `main` in a wrangler configuration is set; set input %q to one of: %s",
			strings.Join(mainCandidates, ", "), InputMainModule, InputMainModule, quoteList(names, maxListedNames)))
	}
	return "", "", inputErr(InputMainModule, newKindError(ErrMainModule,
		"cannot tell the main module: %d modules could be it (%s); set input %q to one of them",
		len(candidates), quoteList(cands, maxListedNames), InputMainModule))
}

func checkMain(m Module, input, source string) (string, error) {
	if !isCodeType(m.ContentType) {
		return "", inputErr(input, newKindError(ErrMainModule,
			"main module %q (from %s) has content type %q; the main module must be JavaScript (.js, .mjs, .cjs) or Python (.py)",
			m.Name, source, m.ContentType))
	}
	return m.Name, nil
}

// cleanRel turns a user-given relative file path into the slash form of Module.RelPath,
// or "" when it is absolute or leaves the working directory.
func cleanRel(p string) string {
	p = path.Clean(filepath.ToSlash(strings.TrimSpace(p)))
	if p == "." || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	return p
}

// guessBuilt returns the single code module whose name has the same stem as the source file
// (src/index.ts → index.mjs), or "". resolveMain uses it in place of `main` and says so in
// Bundle.MainNote, so it is never chosen silently.
func guessBuilt(mods []Module, rel string) string {
	if rel == "" {
		return ""
	}
	stem := strings.TrimSuffix(path.Base(rel), path.Ext(rel))
	var found []string
	for _, m := range mods {
		base := path.Base(m.Name)
		if isCodeType(m.ContentType) && strings.TrimSuffix(base, path.Ext(base)) == stem {
			found = append(found, m.Name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func quoteName(s string) string { return fmt.Sprintf("%q", s) }

// indexCandidates are the modules named like an entry point (mainCandidates).
func indexCandidates(mods []Module) []Module {
	var out []Module
	for _, m := range mods {
		if slices.Contains(mainCandidates, path.Base(m.Name)) {
			out = append(out, m)
		}
	}
	return out
}
