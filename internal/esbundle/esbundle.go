package esbundle

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// Module content types, as the Workers API names them.
const (
	TypeESModule  = "application/javascript+module"
	TypeWasm      = "application/wasm"
	TypeText      = "text/plain"
	TypeData      = "application/octet-stream"
	TypeSourceMap = "application/source-map"
)

// Options is one bundling job.
type Options struct {
	// Entry is the entry file (absolute, or relative to ProjectDir).
	Entry string
	// ProjectDir is the project's root: packages resolve from its node_modules (and those of
	// the folders above it, as Node.js does), and paths in messages and source maps are
	// relative to it. Absolute.
	ProjectDir string
	// CompatibilityDate (YYYY-MM-DD) and CompatibilityFlags decide how Node.js built-ins are
	// treated and whether navigator.userAgent is defined.
	CompatibilityDate  string
	CompatibilityFlags []string
	// Define replaces global identifiers with expressions (the configuration's `define`).
	Define map[string]string
	// Alias replaces import specifiers (the configuration's `alias`); a value is resolved from
	// ProjectDir.
	Alias map[string]string
	// Minify, KeepNames and Tsconfig are the configuration's `minify`, `keep_names` (wrangler's
	// default is true) and `tsconfig` (relative to ProjectDir).
	Minify    bool
	KeepNames bool
	Tsconfig  string
	// SourceMap adds a source map module named `<main>.map`.
	SourceMap bool
}

// Module is one module of the result, held in memory.
type Module struct {
	Name        string
	ContentType string
	Content     []byte
	// Source is the file an additional module was read from, relative to ProjectDir (slash
	// form); empty for the bundle itself and its source map.
	Source string
}

// Result is a finished bundle.
type Result struct {
	// Main is the main module's name: the entry's base name with a .js extension.
	Main string
	// Modules are the main module first, then the additional modules by name, then the source map.
	Modules []Module
	Summary Summary
}

// Summary is what a plan shows about a bundle.
type Summary struct {
	// Entry is the entry file relative to ProjectDir.
	Entry string `json:"entry"`
	// Inputs is how many source files went into the bundle.
	Inputs int `json:"inputs"`
	// Packages are the npm packages bundled, by name, sorted.
	Packages []string `json:"packages,omitempty"`
	// External are the specifiers left for the runtime (cloudflare:*, node:*), sorted.
	External []string `json:"external,omitempty"`
	// Polyfilled are the Node.js built-ins replaced by unenv polyfills, sorted.
	Polyfilled []string `json:"polyfilled,omitempty"`
	// NodeCompat is the Node.js compatibility mode applied.
	NodeCompat NodeCompatMode `json:"node_compat"`
	// Warnings are esbuild's warnings, formatted with file, line and column.
	Warnings []string `json:"warnings,omitempty"`
	// Duration is the time esbuild took.
	Duration time.Duration `json:"-"`
}

// Bundle builds opts.Entry into an in-memory Result. Failures return an *Error that lists
// every esbuild message with its file, line and column.
func Bundle(opts Options) (*Result, error) {
	start := time.Now()
	if !filepath.IsAbs(opts.ProjectDir) {
		return nil, fmt.Errorf("esbundle: project directory %q is not absolute", opts.ProjectDir)
	}
	entry := opts.Entry
	if !filepath.IsAbs(entry) {
		entry = filepath.Join(opts.ProjectDir, entry)
	}
	relEntry := relSlash(opts.ProjectDir, entry)
	if fi, err := os.Stat(entry); err != nil || fi.IsDir() {
		return nil, &Error{Entry: relEntry, Messages: []Message{{Text: fmt.Sprintf("entry %q is not a readable file", relEntry)}}}
	}
	mainName := strings.TrimSuffix(filepath.Base(entry), filepath.Ext(entry)) + ".js"
	mode := nodeCompatMode(opts.CompatibilityDate, opts.CompatibilityFlags)

	st := &state{opts: opts, mode: mode, collected: map[string]Module{}, external: map[string]bool{}, polyfilled: map[string]bool{}}
	define := map[string]string{
		"process.env.NODE_ENV":            `"production"`,
		"global.process.env.NODE_ENV":     `"production"`,
		"globalThis.process.env.NODE_ENV": `"production"`,
	}
	if navigatorDefined(opts.CompatibilityDate, opts.CompatibilityFlags) {
		define["navigator.userAgent"] = `"Cloudflare-Workers"`
	}
	for k, v := range opts.Define {
		define[k] = v
	}
	sourcemap := api.SourceMapNone
	if opts.SourceMap {
		sourcemap = api.SourceMapLinked
	}
	// Output paths only matter to source maps: their sources are relative to the project.
	outdir := opts.ProjectDir
	build := api.BuildOptions{
		EntryPoints:   []string{entry},
		Bundle:        true,
		AbsWorkingDir: opts.ProjectDir,
		Outdir:        outdir,
		EntryNames:    strings.TrimSuffix(mainName, ".js"),
		Write:         false,
		Metafile:      true,
		KeepNames:     opts.KeepNames,
		External:      []string{"__STATIC_CONTENT_MANIFEST"},
		Format:        api.FormatESModule,
		Target:        api.ES2024,
		Supported:     map[string]bool{"import-source": true},
		Sourcemap:     sourcemap,
		Conditions:    []string{"workerd", "worker", "browser"},
		Platform:      api.PlatformBrowser,
		Define:        define,
		Loader:        map[string]api.Loader{".js": api.LoaderJSX, ".mjs": api.LoaderJSX, ".cjs": api.LoaderJSX},
		LogLevel:      api.LogLevelSilent,
		Tsconfig:      opts.Tsconfig,
	}
	if opts.Minify {
		build.MinifyWhitespace, build.MinifyIdentifiers, build.MinifySyntax = true, true, true
	}
	build.Plugins = []api.Plugin{
		st.aliasPlugin(),
		st.moduleRulesPlugin(),
		st.nodePlugin(),
		st.cloudflarePlugin(),
	}
	res := buildWithoutGC(build)
	if len(res.Errors) > 0 {
		return nil, newError(relEntry, res.Errors, mode)
	}

	var main, smap []byte
	for _, f := range res.OutputFiles {
		switch {
		case strings.HasSuffix(f.Path, ".js.map"):
			smap = f.Contents
		case strings.HasSuffix(f.Path, ".js"):
			main = f.Contents
		}
	}
	if main == nil {
		return nil, fmt.Errorf("esbundle: esbuild produced no JavaScript output for %q", relEntry)
	}
	out := &Result{Main: mainName}
	out.Modules = append(out.Modules, Module{Name: mainName, ContentType: TypeESModule, Content: main})
	names := make([]string, 0, len(st.collected))
	for n := range st.collected {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out.Modules = append(out.Modules, st.collected[n])
	}
	if opts.SourceMap && smap != nil {
		fixed, err := fixSourceMap(smap, mainName)
		if err != nil {
			return nil, err
		}
		out.Modules = append(out.Modules, Module{Name: mainName + ".map", ContentType: TypeSourceMap, Content: fixed})
	}

	sum, err := summarize(res.Metafile)
	if err != nil {
		return nil, err
	}
	sum.Entry = relEntry
	sum.NodeCompat = mode
	sum.External = sortedKeys(st.external)
	sum.Polyfilled = sortedKeys(st.polyfilled)
	for _, w := range res.Warnings {
		sum.Warnings = append(sum.Warnings, formatMessage(w))
	}
	sum.Duration = time.Since(start)
	out.Summary = sum
	return out, nil
}

// buildWithoutGC runs one esbuild build with the garbage collector off (see pauseGC).
func buildWithoutGC(build api.BuildOptions) api.BuildResult {
	defer pauseGC()()
	return api.Build(build)
}

// state is what the plugins of one build share. esbuild calls plugin callbacks from several
// goroutines, hence the mutex.
type state struct {
	opts Options
	mode NodeCompatMode

	mu         sync.Mutex
	collected  map[string]Module // by module name
	external   map[string]bool
	polyfilled map[string]bool
}

func (s *state) addExternal(spec string) {
	s.mu.Lock()
	s.external[spec] = true
	s.mu.Unlock()
}

// navigatorDefined follows workerd's global_navigator flag (default from 2022-03-21).
func navigatorDefined(date string, flags []string) bool {
	switch {
	case slices.Contains(flags, "global_navigator"):
		return true
	case slices.Contains(flags, "no_global_navigator"):
		return false
	}
	return date >= "2022-03-21"
}

// aliasPlugin applies the configuration's `alias` before any other resolution, resolving the
// replacement from the project directory (as wrangler does, so user aliases win over polyfills).
func (s *state) aliasPlugin() api.Plugin {
	return api.Plugin{Name: "alias", Setup: func(b api.PluginBuild) {
		if len(s.opts.Alias) == 0 {
			return
		}
		keys := make([]string, 0, len(s.opts.Alias))
		for k := range s.opts.Alias {
			keys = append(keys, regexp.QuoteMeta(k))
		}
		b.OnResolve(api.OnResolveOptions{Filter: "^(" + strings.Join(keys, "|") + ")$"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			to, ok := s.opts.Alias[a.Path]
			if !ok || a.PluginData == skipAlias {
				return api.OnResolveResult{}, nil
			}
			r := b.Resolve(to, api.ResolveOptions{Kind: a.Kind, Importer: a.Importer, ResolveDir: s.opts.ProjectDir, PluginData: skipAlias})
			if len(r.Errors) > 0 {
				return api.OnResolveResult{Errors: []api.Message{{Text: fmt.Sprintf("alias %q → %q: %s (the alias target resolves from the project directory)", a.Path, to, r.Errors[0].Text)}}}, nil
			}
			return api.OnResolveResult{Path: r.Path, External: r.External, Namespace: r.Namespace, SideEffects: sideEffects(r.SideEffects)}, nil
		})
	}}
}

type pluginMarker string

const (
	skipAlias pluginMarker = "skip-alias"
	skipRule  pluginMarker = "skip-rule"
)

func sideEffects(b bool) api.SideEffects {
	if b {
		return api.SideEffectsTrue
	}
	return api.SideEffectsFalse
}

// cloudflarePlugin leaves `cloudflare:*` imports to the runtime.
func (s *state) cloudflarePlugin() api.Plugin {
	return api.Plugin{Name: "cloudflare-internal", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `^cloudflare:`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			s.addExternal(a.Path)
			return api.OnResolveResult{Path: a.Path, External: true}, nil
		})
	}}
}

// rule is one of wrangler's default module rules for non-JavaScript imports.
type rule struct {
	filter      string
	contentType string
}

// moduleRules are wrangler's default rules (Text, Data, CompiledWasm) as esbuild filters. The
// globs `**/*.ext` need a slash in the specifier, as wrangler's glob-to-regexp conversion does.
var moduleRules = []rule{
	{`^.*/.*\.txt$`, TypeText},
	{`^.*/.*\.html$`, TypeText},
	{`^.*/.*\.sql$`, TypeText},
	{`^.*/.*\.bin$`, TypeData},
	{`^.*/.*\.wasm$`, TypeWasm},
	{`^.*/.*\.wasm\?module$`, TypeWasm},
}

// moduleRulesPlugin turns imports matched by a module rule into additional modules named
// `<sha1 of content>-<base name>`, left external in the bundle so workerd links them.
func (s *state) moduleRulesPlugin() api.Plugin {
	return api.Plugin{Name: "module-rules", Setup: func(b api.PluginBuild) {
		for _, r := range moduleRules {
			b.OnResolve(api.OnResolveOptions{Filter: r.filter}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if a.PluginData == skipRule {
					return api.OnResolveResult{}, nil
				}
				clean, _, _ := strings.Cut(a.Path, "?")
				file := filepath.Join(a.ResolveDir, filepath.FromSlash(clean))
				if !strings.HasPrefix(clean, ".") && !strings.HasPrefix(clean, "/") {
					// A file inside a package: resolve it through the package's exports.
					if res := b.Resolve(clean, api.ResolveOptions{Kind: a.Kind, Importer: a.Importer, ResolveDir: a.ResolveDir, PluginData: skipRule}); len(res.Errors) == 0 && res.Path != "" {
						file = res.Path
					}
				} else if filepath.IsAbs(filepath.FromSlash(clean)) {
					file = filepath.FromSlash(clean)
				}
				content, err := os.ReadFile(file)
				if err != nil {
					return api.OnResolveResult{}, fmt.Errorf("cannot read %q imported as a %s module: %w", relSlash(s.opts.ProjectDir, file), r.contentType, err)
				}
				sum := sha1.Sum(content)
				name := hex.EncodeToString(sum[:]) + "-" + filepath.Base(file)
				s.mu.Lock()
				s.collected[name] = Module{Name: name, ContentType: r.contentType, Content: content, Source: relSlash(s.opts.ProjectDir, file)}
				s.mu.Unlock()
				return api.OnResolveResult{Path: "./" + name, External: true}, nil
			})
		}
	}}
}

func relSlash(base, p string) string {
	if rel, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summarize reads esbuild's metafile: how many inputs, which packages.
func summarize(metafile string) (Summary, error) {
	var meta struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return Summary{}, fmt.Errorf("esbundle: reading esbuild's metafile: %w", err)
	}
	pkgs := map[string]bool{}
	n := 0
	for in := range meta.Inputs {
		if strings.Contains(in, "_virtual_unenv_") {
			continue
		}
		n++
		if p := packageOf(in); p != "" {
			pkgs[p] = true
		}
	}
	return Summary{Inputs: n, Packages: sortedKeys(pkgs)}, nil
}

// packageOf returns the npm package a metafile input path belongs to (the part after the last
// node_modules/), or "".
func packageOf(in string) string {
	i := strings.LastIndex(in, "node_modules/")
	if i < 0 {
		return ""
	}
	parts := strings.SplitN(in[i+len("node_modules/"):], "/", 3)
	if strings.HasPrefix(parts[0], "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// fixSourceMap names the main module in the map's `file`, as wrangler does.
func fixSourceMap(smap []byte, mainName string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(smap, &m); err != nil {
		return nil, fmt.Errorf("esbundle: reading esbuild's source map: %w", err)
	}
	m["file"] = mainName
	delete(m, "sourceRoot")
	return json.Marshal(m)
}
