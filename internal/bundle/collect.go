package bundle

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// DefaultMaxGzipBytes is the default limit on the gzip size of a bundle: Cloudflare's
// paid-plan limit of 10 MiB compressed (docs/workers-api.md §9; the free plan allows 3 MB).
const DefaultMaxGzipBytes = 10 << 20

// mainCandidates are the base names the entry module is guessed from when neither `main-module`
// nor the config's `main` is set (README "Which files are uploaded").
var mainCandidates = []string{"index.js", "index.mjs", "worker.js", "worker.mjs"}

// readBufferSize is the one buffer Collect reads every file through.
const readBufferSize = 64 << 10

// Options configures Collect.
type Options struct {
	// Dir is the working directory, an absolute OS path. Patterns and ConfigMain are relative to it.
	Dir string
	// Patterns is the `modules` input (see ParsePatterns).
	Patterns string
	// MainModule is the `main-module` input: a module name. Empty when not set.
	MainModule string
	// ConfigMain is `main` from the wrangler configuration: a file path relative to Dir. Empty
	// when not set. Used only when MainModule is empty.
	ConfigMain string
	// MaxGzipBytes is the limit on the bundle's gzip size in bytes; 0 means DefaultMaxGzipBytes.
	MaxGzipBytes int64
	// Rules are the configuration's module rules, applied before the default rules.
	Rules []Rule
	// UploadSourceMaps uploads .map files as source-map modules; off, they are left out.
	UploadSourceMaps bool
	// AssetsDir is the static-assets directory (absolute), or "". Its files are never
	// modules, except those in the entry's own folder when that lies inside it.
	AssetsDir string
	// Extra are modules added by name, outside any base (_headers and _redirects of the
	// assets directory). They are uploaded as text and not scanned for imports.
	Extra []ExtraModule
	// AssetsOnly allows a result without modules (an assets-only Worker) when Patterns is
	// empty, no entry is named and nothing matched the fallback.
	AssetsOnly bool
	// NodeCompat allows static imports of Node.js built-ins without the node: prefix
	// (the nodejs_compat compatibility flag).
	NodeCompat bool

	// visitDir, when set, is called with each directory the walk enters (slash path relative
	// to Dir); tests use it to prove pruned trees are never visited.
	visitDir func(relDir string)
	// openFile, when set, replaces os.Open for reading modules in Collect (tests: unreadable files
	// cannot be simulated with chmod when the tests run as root).
	openFile func(name string) (io.ReadCloser, error)
}

// Bundle is the result of Collect.
type Bundle struct {
	// Modules are the modules to upload, sorted by name.
	Modules []Module
	// MainModule is the name of the entry module.
	MainModule string
	// RawBytes is the total size of the modules in bytes.
	RawBytes int64
	// GzipBytes is the size in bytes of gzip (default level) over all modules in name order,
	// the measure Cloudflare's compressed bundle-size limit applies to (approximately).
	GzipBytes int64
	// Digest is ContentDigest(MainModule, b.DigestEntries()), hex.
	Digest string
	// MainNote explains a main module chosen by fallback (wrangler's `main`
	// naming a source file that is not uploaded), for a notice; "" otherwise.
	MainNote string
	// Unmatched lists the include patterns (as written) that matched no file, for a warning.
	Unmatched []string
	// Source says where the modules came from, for the log: the patterns of input
	// `modules`, the entry's folder, or the dist/** fallback.
	Source string
	// Base is the directory (slash path relative to Dir) module names are relative to when
	// Patterns was empty; "" for Dir itself.
	Base string
	// EntryPath is the entry module's file (absolute), "" for an assets-only Worker.
	EntryPath string
	// Skipped lists files a glob matched but no module rule did (not uploaded), sorted.
	Skipped []string
	// SourceMapsLeftOut counts .map files left out because UploadSourceMaps is off.
	SourceMapsLeftOut int
	// Warnings are problems that do not stop the run: dynamic imports of modules that
	// are not uploaded, module rules ignored.
	Warnings []string
	// ProcessTypeTag lists the JavaScript modules, reachable from the main module through
	// its imports (static ones and import() of a literal path), whose source holds
	// "[object process]": the Node.js detection that tests `process`'s type tag. It stays
	// empty when a reachable module already assigns globalThis.process (a bundle that
	// brings its own polyfill, as wrangler's output does). Sorted.
	ProcessTypeTag []string
}

// ExtraModule is a file uploaded as a text module under a fixed name.
type ExtraModule struct {
	// Name is the module name.
	Name string
	// Path is the file (absolute).
	Path string
}

// Module sources, for Bundle.Source.
const (
	SourceInput    = "input modules"
	SourceEntryDir = "the entry's folder"
	SourceFallback = "the dist/** fallback"
)

// FallbackPatterns are the globs used when `modules` is not set and no entry is named.
const FallbackPatterns = "dist/**"

// AssetsOnly reports a Worker without modules: only static assets.
func (b *Bundle) AssetsOnly() bool { return b.MainModule == "" }

// Collect finds the modules below opts.Dir, checks them, resolves the main module and
// measures the bundle. With Patterns set, the globs name the files; without, the entry's
// folder is the base (wrangler's find_additional_modules), or dist/** when no entry is
// named (docs/upload-model.md). Every file must match a module rule; other files are
// skipped and listed in Bundle.Skipped. The static imports of the JavaScript modules are
// checked (checkImports). Bad input (patterns, files, main module, size) is returned as an
// *InputError that names the input; the sentinels in this package classify it for
// errors.Is. Collect walks only below each include pattern's base and respects ctx
// cancellation while walking and reading.
func Collect(ctx context.Context, opts Options) (*Bundle, error) {
	if !filepath.IsAbs(opts.Dir) {
		return nil, fmt.Errorf("failed to collect modules: working directory %q is not an absolute path", opts.Dir)
	}
	dir := filepath.Clean(opts.Dir)
	info, err := os.Stat(dir)
	if err != nil {
		return nil, inputErr(InputWorkingDirectory, wrapKindError(ErrUnreadable, err,
			"failed to read working directory %q from input %q", dir, InputWorkingDirectory))
	}
	if !info.IsDir() {
		return nil, inputErr(InputWorkingDirectory, newKindError(ErrUnreadable,
			"working directory %q from input %q is not a directory", dir, InputWorkingDirectory))
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, inputErr(InputWorkingDirectory, wrapKindError(ErrUnreadable, err,
			"failed to resolve working directory %q from input %q", dir, InputWorkingDirectory))
	}
	rules, err := newRuleSet(opts.Rules, opts.UploadSourceMaps)
	if err != nil {
		return nil, err
	}
	c := &collector{
		ctx:       ctx,
		opts:      opts,
		dir:       dir,
		realDir:   realDir,
		rules:     rules,
		byName:    map[string]*candidate{},
		inspected: map[string]*fileMeta{},
		matched:   map[string]bool{},
		skipped:   map[string]bool{},
	}
	if opts.AssetsDir != "" {
		if rel, err := filepath.Rel(dir, opts.AssetsDir); err == nil && rel != "." && filepath.IsLocal(rel) {
			c.assetsRel = filepath.ToSlash(rel)
		}
	}
	plan, err := c.plan()
	if err != nil {
		return nil, err
	}
	patterns := plan.patterns
	var literals []Pattern
	groups := map[string][]Pattern{} // include globs by base: one walk per distinct base
	var bases []string
	for _, p := range patterns {
		switch {
		case p.Exclude:
			c.excludes = append(c.excludes, p)
		case p.literal != "":
			literals = append(literals, p)
		default:
			if _, ok := groups[p.Base]; !ok {
				bases = append(bases, p.Base)
			}
			groups[p.Base] = append(groups[p.Base], p)
		}
	}
	for _, base := range bases {
		if err := c.walkBase(base, groups[base]); err != nil {
			return nil, err
		}
	}
	for _, p := range literals {
		c.literal(p)
	}
	if plan.entryRel != "" && plan.source == SourceEntryDir {
		// The entry is uploaded whatever the rules say (as wrangler does).
		c.forceEntry(plan.entryRel, plan.base)
	}
	for _, x := range opts.Extra {
		c.extra(x)
	}
	if len(c.problems) == 1 {
		return nil, inputErr(InputModules, c.problems[0])
	}
	if len(c.problems) > 1 {
		return nil, inputErr(InputModules, c.problems)
	}
	b := &Bundle{Modules: make([]Module, 0, len(c.byName)), Source: plan.source, Base: plan.base, Warnings: rules.warnings}
	b.SourceMapsLeftOut = c.sourceMaps
	for rel := range c.skipped {
		b.Skipped = append(b.Skipped, rel)
	}
	slices.Sort(b.Skipped)
	if len(c.byName) == len(opts.Extra) {
		if plan.source == SourceFallback && plan.sourceEntry == "" && opts.AssetsOnly {
			// Nothing to run: an assets-only Worker. Only _headers/_redirects, if any, are
			// attached as modules.
			b.Source = "assets only"
			for name, cand := range c.byName {
				b.Modules = append(b.Modules, Module{Name: name, Path: cand.abs, RelPath: cand.relPath, ContentType: TypeText, Size: cand.meta.size})
			}
			slices.SortFunc(b.Modules, func(x, y Module) int { return cmp.Compare(x.Name, y.Name) })
			if err := c.read(b); err != nil {
				return nil, err
			}
			if err := c.measure(b); err != nil {
				return nil, err
			}
			b.Digest = ContentDigest("", b.DigestEntries())
			return b, nil
		}
		return nil, c.noMatch(patterns, plan)
	}
	for _, p := range patterns {
		if !p.Exclude && !c.matched[p.Raw] && plan.source == SourceInput {
			b.Unmatched = append(b.Unmatched, p.Raw)
		}
	}
	for name, cand := range c.byName {
		p := cand.abs
		if p == "" {
			p = filepath.Join(dir, filepath.FromSlash(cand.relPath))
		}
		b.Modules = append(b.Modules, Module{
			Name:        name,
			Path:        p,
			RelPath:     cand.relPath,
			ContentType: cand.contentType,
			Size:        cand.meta.size,
		})
	}
	slices.SortFunc(b.Modules, func(x, y Module) int { return cmp.Compare(x.Name, y.Name) })

	// Resolve the entry module before reading any bytes: a wrong main-module fails fast.
	mainOpts := opts
	if plan.source != SourceInput {
		mainOpts.MainModule, mainOpts.ConfigMain = plan.mainName, ""
		if plan.source == SourceFallback {
			mainOpts.MainModule, mainOpts.ConfigMain = plan.mainName, plan.configMain
		}
	}
	if b.MainModule, b.MainNote, err = resolveMain(b.Modules, mainOpts); err != nil {
		return nil, err
	}
	if plan.note != "" {
		b.MainNote = plan.note
	}
	for _, m := range b.Modules {
		if m.Name == b.MainModule {
			b.EntryPath = m.Path
		}
	}
	if err := c.read(b); err != nil {
		return nil, err
	}
	if err := c.checkImports(b, plan); err != nil {
		return nil, err
	}
	b.ProcessTypeTag = c.processDetection(b)
	if err := c.measure(b); err != nil {
		return nil, err
	}
	limit := opts.MaxGzipBytes
	if limit <= 0 {
		limit = DefaultMaxGzipBytes
	}
	if b.GzipBytes > limit {
		return nil, inputErr(InputModules, tooLarge(b, limit))
	}
	b.Digest = ContentDigest(b.MainModule, b.DigestEntries())
	return b, nil
}

type fileMeta struct {
	size  int64
	isDir bool
}

type candidate struct {
	relPath     string
	pattern     string // raw pattern that named it, for duplicate messages
	meta        *fileMeta
	contentType string
	abs         string // set for Extra modules, which may lie outside Dir
}

type collector struct {
	ctx      context.Context
	opts     Options
	dir      string // cleaned working directory as given
	realDir  string // dir with symlinks resolved, for containment checks
	excludes []Pattern

	byName    map[string]*candidate
	inspected map[string]*fileMeta // by relPath; nil value: skipped or already reported
	matched   map[string]bool      // raw include patterns that matched at least one path
	excluded  int                  // files matched by an include but removed by an exclude
	problems  problemList

	rules      *ruleSet
	skipped    map[string]bool // relPaths matched by a glob but by no module rule
	sourceMaps int             // .map files left out
	assetsRel  string          // the assets directory relative to dir (slash), "" when none inside
	assetsHits int             // files inside the assets directory that were not taken as modules
	// entryRel is the entry file and entryDir its folder (slash, relative to dir), when known.
	entryRel    string
	entryDir    string
	hasEntryDir bool
	// imports are the specifiers found in each JavaScript module, by module name.
	imports map[string][]Import
	// tagsProcess are the JavaScript modules whose source holds the process type tag
	// (see processDetection).
	tagsProcess map[string]bool
	jsBuf       bytes.Buffer
	buf         []byte // the read buffer of read and measure
}

// plan is how Collect finds the modules.
type plan struct {
	patterns []Pattern
	source   string
	base     string
	// entryRel is the entry file (slash, relative to dir) in the entry-folder model.
	entryRel string
	// mainName is the entry's module name in the entry-folder model.
	mainName string
	// configMain is handed to resolveMain in the fallback (a source entry to guess from).
	configMain string
	// sourceEntry is a source file named as the entry (src/index.ts) that needs bundling.
	sourceEntry string
	note        string
}

// builtEntry and sourceEntry are the entry extensions of a built module and of a source
// file that must be bundled.
var (
	builtExts  = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".py": true}
	sourceExts = map[string]bool{".ts": true, ".tsx": true, ".jsx": true, ".mts": true, ".cts": true}
)

// IsSourceEntry reports whether an entry file is source code that must be bundled before
// it can be uploaded (TypeScript, JSX).
func IsSourceEntry(name string) bool { return sourceExts[strings.ToLower(path.Ext(name))] }

// plan decides the model: the `modules` globs, the entry's folder, or the fallback.
func (c *collector) plan() (*plan, error) {
	if strings.TrimSpace(c.opts.Patterns) != "" {
		pats, err := ParsePatterns(c.opts.Patterns)
		if err != nil {
			return nil, err
		}
		if rel := c.relEntry(c.opts.ConfigMain); rel != "" && strings.TrimSpace(c.opts.MainModule) == "" {
			c.setEntry(rel)
		}
		return &plan{patterns: pats, source: SourceInput}, nil
	}
	entry, from := strings.TrimSpace(c.opts.MainModule), InputMainModule
	if entry == "" {
		entry, from = strings.TrimSpace(c.opts.ConfigMain), InputConfigMain
	}
	fallback := func() (*plan, error) {
		pats, err := ParsePatterns(FallbackPatterns)
		return &plan{patterns: pats, source: SourceFallback, base: "dist"}, err
	}
	if entry == "" {
		return fallback()
	}
	what := describeEntry(from)
	rel := c.relEntry(entry)
	if rel == "" {
		return nil, inputErr(from, newKindError(ErrOutsideWorkingDir,
			"the entry %q (%s) is outside the working directory %q; set input %q to the folder that holds the build output",
			entry, what, c.dir, InputWorkingDirectory))
	}
	ext := strings.ToLower(path.Ext(rel))
	switch {
	case builtExts[ext]:
		abs := filepath.Join(c.dir, filepath.FromSlash(rel))
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
			if from == InputMainModule {
				// `main-module` is a module name in dist/** (the fallback), as before
				// the entry's folder became the base.
				p, err := fallback()
				if p != nil {
					p.mainName = entry
				}
				return p, err
			}
			return nil, inputErr(from, newKindError(ErrMainModule,
				"the entry %q (%s) is not a file in %q; run the build before this step, or set input %q to the built entry",
				rel, what, c.dir, InputMainModule))
		}
		base := path.Dir(rel)
		if base == "." {
			base = ""
		}
		glob := "**"
		if base != "" {
			glob = escapeGlob(base) + "/**"
		}
		c.setEntry(rel)
		return &plan{
			patterns: []Pattern{{Raw: glob, Base: base, Glob: glob}},
			source:   SourceEntryDir, base: base, entryRel: rel, mainName: path.Base(rel),
		}, nil
	case sourceExts[ext]:
		p, err := fallback()
		if err != nil {
			return nil, err
		}
		p.sourceEntry, p.configMain = rel, rel
		return p, nil
	}
	return nil, inputErr(from, newKindError(ErrMainModule,
		"the entry %q (%s) is neither a built module (.js, .mjs, .cjs, .py) nor a source file to bundle (.ts, .tsx, .jsx, .mts, .cts)",
		rel, what))
}

func describeEntry(from string) string {
	if from == InputMainModule {
		return fmt.Sprintf("input %q", InputMainModule)
	}
	return "`main` of the wrangler configuration"
}

func (c *collector) setEntry(rel string) {
	c.entryRel = rel
	c.entryDir = path.Dir(rel)
	if c.entryDir == "." {
		c.entryDir = ""
	}
	c.hasEntryDir = true
}

// relEntry turns an entry path (absolute, or relative to dir) into a clean slash path
// relative to dir, or "" when it leaves dir or is empty.
func (c *collector) relEntry(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(c.dir, p)
		if err != nil {
			return ""
		}
		p = r
	}
	return cleanRel(p)
}

// escapeGlob escapes doublestar's metacharacters in a literal path.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]{}\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// inAssets reports a path inside the assets directory.
func (c *collector) inAssets(rel string) bool {
	return c.assetsRel != "" && (rel == c.assetsRel || strings.HasPrefix(rel, c.assetsRel+"/"))
}

// entryDirInAssets reports an entry folder strictly inside the assets directory
// (Astro's dist/_worker.js/ in dist/): its files are modules.
func (c *collector) entryDirInAssets() bool {
	return c.hasEntryDir && c.assetsRel != "" && strings.HasPrefix(c.entryDir, c.assetsRel+"/")
}

// moduleInAssets reports whether a file inside the assets directory may still be a module:
// the entry itself, or a file of the entry's folder when that folder lies inside.
func (c *collector) moduleInAssets(rel string) bool {
	return rel == c.entryRel || c.entryDirInAssets() && strings.HasPrefix(rel, c.entryDir+"/")
}

// pruneAssetsDir reports a directory of the assets directory that holds no modules.
func (c *collector) pruneAssetsDir(rel string) bool {
	if !c.inAssets(rel) {
		return false
	}
	if c.entryDirInAssets() && (rel == c.entryDir || strings.HasPrefix(rel, c.entryDir+"/") || strings.HasPrefix(c.entryDir, rel+"/")) {
		return false
	}
	// The assets directory itself holding the entry file (SvelteKit's _worker.js): walk it
	// for that one file, but not its subfolders.
	return rel != c.assetsRel || c.entryRel == "" || path.Dir(c.entryRel) != c.assetsRel
}

func (c *collector) problem(err error) { c.problems = append(c.problems, err) }

// walkBase walks Dir/base once for all include globs sharing that base.
func (c *collector) walkBase(base string, pats []Pattern) error {
	root := filepath.Join(c.dir, filepath.FromSlash(base))
	if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing built there: reported as unmatched / no match
	}
	// The base itself may be, or pass through, a symlink (dist -> build). It is followed when it
	// stays inside the working directory, and the walk runs over the resolved directory while
	// names and paths stay the logical ones below base.
	walkRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return inputErr(InputModules, wrapKindError(ErrUnreadable, err,
			"failed to resolve directory %q (base of pattern %q in input %q)", base, pats[0].Raw, InputModules))
	}
	if !within(c.realDir, walkRoot) {
		return inputErr(InputModules, newKindError(ErrOutsideWorkingDir,
			"directory %q (base of pattern %q in input %q) resolves to %q, which escapes the working directory %q; copy the build output into the working directory",
			base, pats[0].Raw, InputModules, walkRoot, c.realDir))
	}
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := c.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		rel, relErr := filepath.Rel(walkRoot, p)
		if relErr != nil {
			return relErr
		}
		relPath := base
		if rel != "." {
			relPath = path.Join(base, filepath.ToSlash(rel))
		}
		atRoot := p == walkRoot
		if err != nil {
			return inputErr(InputModules, wrapKindError(ErrUnreadable, err,
				"failed to read %q below the base of pattern %q in input %q (exclude a directory with a \"!\" pattern that names it)",
				relPath, pats[0].Raw, InputModules))
		}
		name := d.Name()
		if d.IsDir() {
			// Prune without descending: a node_modules tree of 100,000 files costs one Lstat.
			// The rule covers what the wildcards reach below the base; a hidden base given
			// literally (".output/server/**", Nuxt/Nitro output) is the user's explicit choice.
			if !atRoot && (name == "node_modules" || name == ".git" || strings.HasPrefix(name, ".")) {
				return fs.SkipDir
			}
			// An exclude that matches a directory removes everything below it, as in .gitignore,
			// and spares the walk.
			if !atRoot && c.isExcluded(relPath) {
				return fs.SkipDir
			}
			// The assets directory is never a module source (Astro's assets.directory: dist
			// overlaps dist/**), except for the entry's own folder inside it.
			if !atRoot && c.pruneAssetsDir(relPath) {
				return fs.SkipDir
			}
			if c.opts.visitDir != nil {
				c.opts.visitDir(relPath)
			}
			return nil
		}
		if !atRoot && strings.HasPrefix(name, ".") {
			return nil // hidden files are never uploaded
		}
		// Symlinks (d.Type() is ModeSymlink) are not followed into directories by WalkDir, so a
		// directory symlink, even a loop, is never walked: following them would visit trees twice
		// and could leave the working directory. Symlinked files are checked in inspect.
		c.consider(relPath, base, pats, false)
		return nil
	})
	if err != nil {
		if ctxErr := c.ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return fmt.Errorf("failed to collect modules: %w", err)
		}
		return err
	}
	return nil
}

// literal handles an include pattern without wildcards: one file, looked up directly.
func (c *collector) literal(p Pattern) {
	abs := filepath.Join(c.dir, filepath.FromSlash(p.literal))
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		return
	}
	c.consider(p.literal, p.Base, []Pattern{p}, true)
}

// consider adds the file at relPath when an include in pats matches it and no exclude does.
func (c *collector) consider(relPath, base string, pats []Pattern, literal bool) {
	var by string
	for _, p := range pats {
		if doublestar.MatchUnvalidated(p.Glob, relPath) {
			c.matched[p.Raw] = true
			if by == "" {
				by = p.Raw
			}
		}
	}
	if by == "" {
		return
	}
	if c.isExcluded(relPath) {
		c.excluded++
		return
	}
	if neverUploaded(relPath) {
		return
	}
	if c.inAssets(relPath) && !c.moduleInAssets(relPath) {
		c.assetsHits++
		return
	}
	var meta *fileMeta
	if literal {
		// A named path is checked first: a directory or an escaping symlink is the clearer error.
		if meta = c.inspect(relPath, literal); meta == nil {
			return
		}
		if meta.isDir {
			c.problem(newKindError(ErrInvalidPattern,
				"pattern %q in input %q names a directory; use %q to upload the files below it",
				by, InputModules, strings.TrimSuffix(by, "/")+"/**"))
			return
		}
	}
	name, err := moduleName(base, relPath)
	if err != nil {
		c.problem(err)
		return
	}
	contentType, ok := c.rules.typeOf(name)
	if !ok {
		switch {
		case literal && isSourceMap(name):
			c.problem(newKindError(ErrUnsupportedType,
				"pattern %q in input %q names the source map %q, which is uploaded only with input %q set to true",
				by, InputModules, relPath, InputUploadSourceMaps))
		case literal:
			c.problem(newKindError(ErrUnsupportedType,
				"pattern %q in input %q names %q, which no module rule matches (%s); add a rule to the configuration's `rules`, or remove the pattern",
				by, InputModules, relPath, ruleSummary))
		case isSourceMap(name):
			c.sourceMaps++
		default:
			c.skipped[relPath] = true
		}
		return
	}
	if meta == nil {
		if meta = c.inspect(relPath, literal); meta == nil {
			return
		}
	}
	if meta.isDir {
		return // a symlink to a directory met during a walk: not followed
	}
	if prev, ok := c.byName[name]; ok {
		if prev.relPath != relPath {
			c.problem(newKindError(ErrDuplicateModule,
				"files %q (pattern %q) and %q (pattern %q) would both be uploaded as module %q; module names are paths relative to each pattern's base directory, so exclude one with a \"!\" pattern in input %q",
				prev.relPath, prev.pattern, relPath, by, name, InputModules))
		}
		return // the same file through two patterns with the same base: one module
	}
	c.byName[name] = &candidate{relPath: relPath, pattern: by, meta: meta, contentType: contentType}
}

// ruleSummary describes the default module rules for messages.
const ruleSummary = "the default rules take .js, .mjs, .cjs, .wasm, .txt, .html, .sql, .bin, .py and requirements.txt"

// forceEntry uploads the entry even when no module rule matches it (wrangler uploads
// `main` whatever its rules say), typed by its extension.
func (c *collector) forceEntry(rel, base string) {
	name, err := moduleName(base, rel)
	if err != nil {
		c.problem(err)
		return
	}
	if _, ok := c.byName[name]; ok {
		return
	}
	delete(c.skipped, rel)
	contentType, err := ContentType(rel)
	if err != nil {
		c.problem(err)
		return
	}
	if meta := c.inspect(rel, true); meta != nil && !meta.isDir {
		c.byName[name] = &candidate{relPath: rel, pattern: "the entry", meta: meta, contentType: contentType}
	}
}

// extra adds a text module under a fixed name (_headers, _redirects of the assets directory).
func (c *collector) extra(x ExtraModule) {
	fi, err := os.Stat(x.Path)
	if err != nil {
		c.problem(wrapKindError(ErrUnreadable, err, "failed to read %q", x.Path))
		return
	}
	if !fi.Mode().IsRegular() {
		c.problem(newKindError(ErrUnreadable, "%q is not a regular file", x.Path))
		return
	}
	rel := x.Path
	if r, err := filepath.Rel(c.dir, x.Path); err == nil && filepath.IsLocal(r) {
		rel = filepath.ToSlash(r)
	}
	if prev, ok := c.byName[x.Name]; ok {
		c.problem(newKindError(ErrDuplicateModule,
			"files %q and %q would both be uploaded as module %q (the assets directory's %s is attached as a module of that name); rename or exclude %q",
			prev.relPath, rel, x.Name, x.Name, prev.relPath))
		return
	}
	c.byName[x.Name] = &candidate{relPath: rel, pattern: "the assets directory", meta: &fileMeta{size: fi.Size()}, contentType: TypeText, abs: x.Path}
}

func (c *collector) isExcluded(relPath string) bool {
	for _, p := range c.excludes {
		if doublestar.MatchUnvalidated(p.Glob, relPath) {
			return true
		}
	}
	return false
}

// neverUploaded reports paths with a node_modules or .git segment anywhere, even inside a base.
func neverUploaded(relPath string) bool {
	for seg := range strings.SplitSeq(relPath, "/") {
		if seg == "node_modules" || seg == ".git" {
			return true
		}
	}
	return false
}

// inspect checks a matched path once (several patterns may reach it) and returns its metadata,
// or nil after recording a problem. resolveAll checks every path component for symlinks leaving
// the working directory (literal patterns are not walked); otherwise only a symlinked leaf is
// resolved, because the walk root is resolved and directory symlinks are never followed.
func (c *collector) inspect(relPath string, resolveAll bool) *fileMeta {
	if meta, ok := c.inspected[relPath]; ok {
		return meta
	}
	c.inspected[relPath] = nil
	abs := filepath.Join(c.dir, filepath.FromSlash(relPath))
	li, err := os.Lstat(abs)
	if err != nil {
		c.problem(wrapKindError(ErrUnreadable, err, "failed to read module file %q", relPath))
		return nil
	}
	info := li
	if resolveAll || li.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			c.problem(wrapKindError(ErrUnreadable, err,
				"failed to resolve module file %q (a broken symlink or a symlink loop?)", relPath))
			return nil
		}
		if !within(c.realDir, real) {
			c.problem(newKindError(ErrOutsideWorkingDir,
				"module file %q is a symlink to %q, which escapes the working directory %q; copy the file into the build output or exclude it with %q",
				relPath, real, c.realDir, "!"+relPath))
			return nil
		}
		if info, err = os.Stat(abs); err != nil {
			c.problem(wrapKindError(ErrUnreadable, err, "failed to read module file %q", relPath))
			return nil
		}
	}
	if info.IsDir() {
		meta := &fileMeta{isDir: true}
		c.inspected[relPath] = meta
		return meta
	}
	if !info.Mode().IsRegular() {
		c.problem(newKindError(ErrUnreadable,
			"module file %q is not a regular file (%s); exclude it with %q", relPath, info.Mode().Type(), "!"+relPath))
		return nil
	}
	if info.Size() == 0 {
		c.problem(newKindError(ErrEmptyModule,
			"module file %q is empty (0 bytes); fix the build or exclude it in input %q with %q", relPath, InputModules, "!"+relPath))
		return nil
	}
	meta := &fileMeta{size: info.Size()}
	c.inspected[relPath] = meta
	return meta
}

// within reports whether path target is root or below it (both cleaned, symlinks resolved).
func within(root, target string) bool {
	rel, err := filepath.Rel(root, target)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel))
}

func (c *collector) noMatch(patterns []Pattern, p *plan) error {
	if p.sourceEntry != "" {
		return inputErr(InputConfigMain, &BundleNeededError{Entry: p.sourceEntry})
	}
	raws := make([]string, len(patterns))
	for i, p := range patterns {
		raws[i] = p.Raw
	}
	var msg string
	switch p.source {
	case SourceFallback:
		msg = fmt.Sprintf("no module to upload: input %q is not set, no entry is named (`main` in a wrangler configuration, or input %q), and no file in %q matched a module rule (working directory %q)",
			InputModules, InputMainModule, "dist/", c.dir)
		if c.assetsHits > 0 {
			msg += fmt.Sprintf("; %d file(s) there belong to the assets directory, which is never a module source", c.assetsHits)
		}
	default:
		msg = fmt.Sprintf("no file matched input %q (patterns: %s) in working directory %q", InputModules, quoteList(raws, 20), c.dir)
	}
	if c.excluded > 0 {
		msg += fmt.Sprintf("; %d file(s) matched but were excluded by \"!\" patterns", c.excluded)
	}
	if len(c.skipped) > 0 {
		msg += fmt.Sprintf("; %d file(s) matched but no module rule (%s)", len(c.skipped), ruleSummary)
	}
	msg += "; check that the build ran before this step and that the patterns are relative to working-directory (node_modules, .git and hidden files are never uploaded)"
	return inputErr(InputModules, &kindError{kind: ErrNoMatch, msg: msg})
}

// read reads every module once, in name order, through one buffer, feeding SHA-256 and a single
// gzip stream; no file is held in memory.
func (c *collector) read(b *Bundle) error {
	open := c.open()
	h := sha256.New()
	buf := c.readBuffer()
	for i := range b.Modules {
		if err := c.ctx.Err(); err != nil {
			return fmt.Errorf("failed to collect modules: %w", err)
		}
		m := &b.Modules[i]
		// Stat before reading: a write during the read shows up in Verify.
		if fi, err := os.Stat(m.Path); err == nil {
			m.ModTime = fi.ModTime()
		}
		var n int64
		var err error
		if isScanned(m.ContentType) && !c.isExtra(m.Name) {
			n, err = c.hashAndScan(open, m, h)
		} else {
			h.Reset()
			n, err = copyFile(open, m.Path, h, buf)
		}
		if err != nil {
			return inputErr(InputModules, wrapKindError(ErrUnreadable, err, "failed to read module file %q", m.RelPath))
		}
		if n == 0 {
			return inputErr(InputModules, newKindError(ErrEmptyModule,
				"module file %q is empty (0 bytes); fix the build or exclude it in input %q with %q", m.RelPath, InputModules, "!"+m.RelPath))
		}
		m.Size = n
		h.Sum(m.SHA256[:0])
		b.RawBytes += n
	}
	return nil
}

// measure sets b.GzipBytes: gzip over every module in name order. It reads the files once
// more, after the import check: compressing is the costliest part of collecting (about
// 50 MB/s), and a module set that must be bundled first is never measured.
func (c *collector) measure(b *Bundle) error {
	open := c.open()
	buf := c.readBuffer()
	counter := &countingWriter{}
	gz := gzip.NewWriter(counter)
	for _, m := range b.Modules {
		if err := c.ctx.Err(); err != nil {
			return fmt.Errorf("failed to collect modules: %w", err)
		}
		if _, err := copyFile(open, m.Path, gz, buf); err != nil {
			return inputErr(InputModules, wrapKindError(ErrUnreadable, err, "failed to read module file %q", m.RelPath))
		}
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("failed to measure bundle size: %w", err)
	}
	b.GzipBytes = counter.n
	return nil
}

func (c *collector) open() func(string) (io.ReadCloser, error) {
	if c.opts.openFile != nil {
		return c.opts.openFile
	}
	return func(name string) (io.ReadCloser, error) { return os.Open(name) }
}

func (c *collector) readBuffer() []byte {
	if c.buf == nil {
		c.buf = make([]byte, readBufferSize)
	}
	return c.buf
}

// isScanned reports the content types whose imports are checked.
func isScanned(contentType string) bool {
	return contentType == TypeESModule || contentType == TypeCommonJS
}

func (c *collector) isExtra(name string) bool {
	cand, ok := c.byName[name]
	return ok && cand.abs != ""
}

// hashAndScan reads a JavaScript module whole (into one reused buffer), hashes it and
// records its imports.
func (c *collector) hashAndScan(open func(string) (io.ReadCloser, error), m *Module, h hash.Hash) (int64, error) {
	h.Reset()
	f, err := open(m.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c.jsBuf.Reset()
	if _, err := c.jsBuf.ReadFrom(f); err != nil {
		return 0, err
	}
	data := c.jsBuf.Bytes()
	h.Write(data)
	if imps := ScanImports(data); len(imps) > 0 {
		if c.imports == nil {
			c.imports = map[string][]Import{}
		}
		c.imports[m.Name] = imps
	}
	c.noteProcess(m.Name, data)
	return int64(len(data)), nil
}

// copyFile writes the file's bytes to w through buf.
func copyFile(open func(string) (io.ReadCloser, error), name string, w io.Writer, buf []byte) (int64, error) {
	f, err := open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	for {
		n, err := f.Read(buf)
		if n > 0 {
			total += int64(n)
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// HumanBytes formats n bytes for people with a binary unit: "41 B", "2.0 KiB",
// "3.00 MiB". The log and the job summary print bundle sizes with it.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return mib(n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func tooLarge(b *Bundle, limit int64) error {
	largest := slices.Clone(b.Modules)
	slices.SortFunc(largest, func(x, y Module) int { return cmp.Or(cmp.Compare(y.Size, x.Size), cmp.Compare(x.Name, y.Name)) })
	var names []string
	for _, m := range largest[:min(5, len(largest))] {
		names = append(names, fmt.Sprintf("%s (%s)", m.Name, mib(m.Size)))
	}
	return newKindError(ErrBundleTooLarge,
		"bundle from input %q is %s gzip-compressed (%d bytes, %s uncompressed), over the limit of %s; Cloudflare's limit is 10 MiB compressed on the paid plan (3 MB on the free plan). Largest modules: %s. Exclude files the Worker does not need (e.g. \"!**/*.map\") or shrink the build",
		InputModules, mib(b.GzipBytes), b.GzipBytes, mib(b.RawBytes), mib(limit), strings.Join(names, ", "))
}
