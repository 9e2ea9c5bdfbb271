package bundle

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// nodeBuiltins are Node.js's built-in modules that workerd provides under nodejs_compat
// without the node: prefix (a subpath such as "fs/promises" is listed by its first part).
var nodeBuiltins = map[string]bool{
	"assert": true, "async_hooks": true, "buffer": true, "child_process": true, "cluster": true,
	"console": true, "constants": true, "crypto": true, "dgram": true, "diagnostics_channel": true,
	"dns": true, "domain": true, "events": true, "fs": true, "http": true, "http2": true, "https": true,
	"inspector": true, "module": true, "net": true, "os": true, "path": true, "perf_hooks": true,
	"process": true, "punycode": true, "querystring": true, "readline": true, "repl": true,
	"stream": true, "string_decoder": true, "sys": true, "timers": true, "tls": true,
	"trace_events": true, "tty": true, "url": true, "util": true, "v8": true, "vm": true, "wasi": true,
	"worker_threads": true, "zlib": true,
}

// ExternalImport reports whether workerd provides a bare specifier itself, so that no
// uploaded module is needed: cloudflare:*, node:*, a Node.js built-in under nodejs_compat,
// and wrangler's Workers Sites manifest __STATIC_CONTENT_MANIFEST.
func ExternalImport(spec string, nodeCompat bool) bool {
	switch {
	case strings.HasPrefix(spec, "cloudflare:"), strings.HasPrefix(spec, "node:"), spec == "__STATIC_CONTENT_MANIFEST":
		return true
	case nodeCompat:
		first, _, _ := strings.Cut(spec, "/")
		return nodeBuiltins[first]
	}
	return false
}

// isRelative reports a specifier that names a file relative to the importing module.
func isRelative(spec string) bool {
	return strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || spec == "." || spec == ".." || strings.HasPrefix(spec, "/")
}

// resolveSpecifier resolves a relative specifier against the importing module's name as
// workerd does (URL path semantics below the bundle root). escapes is true when it leads
// above the root.
func resolveSpecifier(importer, spec string) (target string, escapes bool) {
	if i := strings.IndexAny(spec, "?#"); i >= 0 {
		spec = spec[:i]
	}
	var joined string
	if strings.HasPrefix(spec, "/") {
		joined = path.Clean(strings.TrimLeft(spec, "/"))
	} else {
		joined = path.Join(path.Dir(importer), spec)
	}
	return joined, joined == ".." || strings.HasPrefix(joined, "../")
}

// checkImports fails when a static import of an uploaded JavaScript module names a module
// that is not uploaded: a relative path that resolves to no module (ErrImport), or a
// package or a path outside the uploaded folder (a *BundleNeededError: the build output is
// not bundled). A dynamic import() of a missing module only adds a warning: it may never run.
func (c *collector) checkImports(b *Bundle, p *plan) error {
	if len(c.imports) == 0 {
		return nil
	}
	names := make(map[string]bool, len(b.Modules))
	for _, m := range b.Modules {
		names[m.Name] = true
	}
	importers := make([]string, 0, len(c.imports))
	for name := range c.imports {
		importers = append(importers, name)
	}
	slices.Sort(importers)
	var (
		missing problemList
		bundle  *BundleNeededError
	)
	for _, importer := range importers {
		for _, im := range c.imports[importer] {
			spec := im.Specifier
			if isRelative(spec) {
				target, escapes := resolveSpecifier(importer, spec)
				if names[target] {
					continue
				}
				switch {
				case im.Dynamic:
					b.Warnings = append(b.Warnings, fmt.Sprintf("module %q imports %q dynamically (import()), and no module %q is uploaded: that import fails if it runs", importer, spec, target))
				case escapes || neverUploadedPath(target):
					// Above the base, or in a hidden or node_modules folder: only a bundler
					// can bring it in.
					bundle = addBundleNeed(bundle, c.entryRel, importer, spec, true)
				default:
					missing = append(missing, newKindError(ErrImport,
						"module %q imports %q, which resolves to %q: no such module is uploaded (%s)",
						importer, spec, target, c.missingHint(target)))
				}
				continue
			}
			if ExternalImport(spec, c.opts.NodeCompat) {
				continue
			}
			if im.Dynamic {
				b.Warnings = append(b.Warnings, fmt.Sprintf("module %q imports the package %q dynamically (import()); it is not uploaded, so that import fails if it runs (bundle the Worker to include it)", importer, spec))
				continue
			}
			if !strings.Contains(spec, ":") && nodeBuiltins[strings.SplitN(spec, "/", 2)[0]] {
				missing = append(missing, newKindError(ErrImport,
					"module %q imports the Node.js built-in %q, which workerd provides only with Node.js compatibility; add the flag nodejs_compat to `compatibility_flags` (or input %q), or move the compatibility date to 2026-08-04 or later (Node.js compatibility is on by default from then), or import %q",
					importer, spec, "compatibility-flags", "node:"+spec))
				continue
			}
			bundle = addBundleNeed(bundle, c.entryRel, importer, spec, false)
		}
	}
	if bundle != nil {
		return inputErr(InputModules, bundle)
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return inputErr(InputModules, missing[0])
	}
	return inputErr(InputModules, missing)
}

// neverUploadedPath reports a module path in a hidden or node_modules folder.
func neverUploadedPath(p string) bool {
	segs := strings.Split(p, "/")
	return slices.ContainsFunc(segs[:len(segs)-1], func(seg string) bool {
		return strings.HasPrefix(seg, ".") || seg == "node_modules"
	})
}

func addBundleNeed(e *BundleNeededError, entry, importer, spec string, outside bool) *BundleNeededError {
	if e == nil {
		return &BundleNeededError{Entry: entry, Importer: importer, Specifier: spec, Outside: outside}
	}
	e.More++
	return e
}

// missingHint says why a module may be missing.
func (c *collector) missingHint(target string) string {
	switch {
	case isSourceMap(target):
		return fmt.Sprintf("source maps are uploaded only with input %q", InputUploadSourceMaps)
	case c.skippedName(target):
		return "the file exists but no module rule matches it; add a rule to the configuration's `rules`"
	case c.inAssets(path.Join(c.baseOf(), target)):
		return "the file is in the assets directory, which is never a module source"
	}
	return "check that the build wrote it and that input `modules` (or the entry's folder) covers it"
}

func (c *collector) baseOf() string {
	if c.entryDir != "" {
		return c.entryDir
	}
	return ""
}

func (c *collector) skippedName(target string) bool {
	for rel := range c.skipped {
		if rel == target || strings.HasSuffix(rel, "/"+target) {
			return true
		}
	}
	return false
}
