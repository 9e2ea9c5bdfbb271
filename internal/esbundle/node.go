package esbundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

const (
	nsRequireBuiltin = "node-built-in-modules"
	nsRequireUnenv   = "required-unenv-alias"
	virtualPrefix    = "_virtual_unenv_global_polyfill-"
)

// nodePlugin treats Node.js built-ins by compatibility mode. In v2 mode a built-in workerd
// implements stays external as `node:<name>`; one it lacks is replaced by unenv's polyfill when
// @cloudflare/unenv-preset and unenv are installed in the project, and is an error otherwise.
// Outside v2 mode `node:*` imports stay external (workerd decides at startup) and bare
// built-in names are left to esbuild, which cannot resolve them.
func (s *state) nodePlugin() api.Plugin {
	return api.Plugin{Name: "nodejs-compat", Setup: func(b api.PluginBuild) {
		if s.mode != NodeCompatV2 {
			b.OnResolve(api.OnResolveOptions{Filter: `^node:`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				s.addExternal(a.Path)
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			})
			return
		}
		s.setupV2(b)
	}}
}

func (s *state) setupV2(b api.PluginBuild) {
	env := newNodeEnv(s.opts.CompatibilityDate, s.opts.CompatibilityFlags)
	// resolve finds a polyfill module in the project's node_modules.
	resolve := func(spec string) (string, bool) {
		r := b.Resolve(spec, api.ResolveOptions{Kind: api.ResolveJSImportStatement, ResolveDir: s.opts.ProjectDir, PluginData: skipAlias})
		return r.Path, len(r.Errors) == 0 && r.Path != ""
	}
	hasPreset := UnenvPresetInstalled(s.opts.ProjectDir)

	names := make([]string, 0, len(nodeBuiltins)+len(npmShims))
	for _, n := range nodeBuiltins {
		names = append(names, regexp.QuoteMeta(n))
	}
	builtinRE := `^(node:.+|` + strings.Join(names, "|") + `)$`

	// require() of a built-in becomes an ES import wrapped as CommonJS, as wrangler does.
	b.OnResolve(api.OnResolveOptions{Filter: builtinRE}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
		if a.Kind == api.ResolveJSRequireCall {
			return api.OnResolveResult{Path: a.Path, Namespace: nsRequireBuiltin}, nil
		}
		return api.OnResolveResult{}, nil
	})
	b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: nsRequireBuiltin}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
		c := fmt.Sprintf("import libDefault from %q;\nmodule.exports = libDefault;", a.Path)
		return api.OnLoadResult{Contents: &c, Loader: api.LoaderJS, ResolveDir: s.opts.ProjectDir}, nil
	})

	b.OnResolve(api.OnResolveOptions{Filter: builtinRE}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
		name, _ := builtinName(a.Path)
		if env.native[name] || (!hasPreset && name == "process") {
			spec := "node:" + name
			s.addExternal(spec)
			return api.OnResolveResult{Path: spec, External: true}, nil
		}
		to, ok := env.alias[name]
		if !ok {
			return api.OnResolveResult{}, fmt.Errorf("%q is not a Node.js module workerd provides or unenv polyfills", a.Path)
		}
		if !hasPreset {
			return api.OnResolveResult{}, fmt.Errorf("workerd does not provide %q at compatibility date %s; install @cloudflare/unenv-preset and unenv in the project (npm install -D @cloudflare/unenv-preset unenv) so it is polyfilled as wrangler does, or move the compatibility date forward", "node:"+name, s.opts.CompatibilityDate)
		}
		path, ok := resolve(to)
		if !ok {
			return api.OnResolveResult{}, fmt.Errorf("the polyfill %q for %q is not installed; run npm install -D unenv", to, a.Path)
		}
		s.mu.Lock()
		s.polyfilled["node:"+name] = true
		s.mu.Unlock()
		return api.OnResolveResult{Path: path}, nil
	})

	if !hasPreset {
		return
	}

	// unenv's replacements for Node-only npm packages (those it ships).
	shimKeys := make([]string, 0, len(npmShims))
	for k := range npmShims {
		shimKeys = append(shimKeys, regexp.QuoteMeta(k))
	}
	sort.Strings(shimKeys)
	{
		b.OnResolve(api.OnResolveOptions{Filter: "^(" + strings.Join(shimKeys, "|") + ")$"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			path, ok := resolve(npmShims[a.Path])
			if !ok {
				return api.OnResolveResult{}, nil // this unenv has no such shim: bundle the package
			}
			if a.Kind == api.ResolveJSRequireCall {
				return api.OnResolveResult{Path: path, Namespace: nsRequireUnenv}, nil
			}
			return api.OnResolveResult{Path: path}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: nsRequireUnenv}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			c := fmt.Sprintf(`import * as esm from %q;
module.exports = Object.entries(esm)
	.filter(([k,]) => k !== 'default')
	.reduce((cjs, [k, value]) =>
		Object.defineProperty(cjs, k, { value, enumerable: true }),
		"default" in esm ? esm.default : {}
	);`, a.Path)
			return api.OnLoadResult{Contents: &c, Loader: api.LoaderJS, ResolveDir: s.opts.ProjectDir}, nil
		})
	}

	// Globals: a virtual module per injected module sets globalThis.<name>; polyfills are
	// injected as they are.
	virtual := map[string]string{} // virtual path → module specifier
	globals := map[string][]string{}
	inject := make([]string, 0, len(env.inject)+len(env.polyfills))
	// unenv's merged preset lists process before console; wrangler injects in that order.
	for _, g := range []string{"process", "console"} {
		mod, ok := env.inject[g]
		if !ok {
			continue
		}
		p := filepath.Join(s.opts.ProjectDir, virtualPrefix+strings.ReplaceAll(mod, "/", "-"))
		if _, seen := virtual[p]; !seen {
			inject = append(inject, p)
		}
		virtual[p] = mod
		globals[mod] = append(globals[mod], g)
	}
	for _, pf := range env.polyfills {
		p := filepath.Join(s.opts.ProjectDir, virtualPrefix+strings.ReplaceAll(pf, "/", "-"))
		virtual[p] = pf
		inject = append(inject, p)
	}
	b.InitialOptions.Inject = append(b.InitialOptions.Inject, inject...)
	b.OnResolve(api.OnResolveOptions{Filter: regexp.QuoteMeta(virtualPrefix) + `.+$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
		return api.OnResolveResult{Path: a.Path}, nil
	})
	b.OnLoad(api.OnLoadOptions{Filter: regexp.QuoteMeta(virtualPrefix) + `.+$`}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
		mod, ok := virtual[a.Path]
		if !ok {
			return api.OnLoadResult{}, fmt.Errorf("unknown virtual module %q", a.Path)
		}
		gs := globals[mod]
		sort.Strings(gs)
		var sb strings.Builder
		if len(gs) == 0 {
			fmt.Fprintf(&sb, "import %q;\n", mod) // a side-effect polyfill
		} else {
			fmt.Fprintf(&sb, "import { default as defaultExport } from %q;\n", mod)
		}
		for _, g := range gs {
			fmt.Fprintf(&sb, "globalThis.%s = defaultExport;\n", g)
		}
		c := sb.String()
		return api.OnLoadResult{Contents: &c, Loader: api.LoaderJS, ResolveDir: s.opts.ProjectDir}, nil
	})
}

// installed reports whether a package is in node_modules of dir or of a folder above it, the
// folders Node.js (and esbuild) resolve packages from.
func installed(dir, pkg string) bool {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err == nil && !fi.IsDir() {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}
