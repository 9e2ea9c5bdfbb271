package bundle

import (
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
// paid-plan limit of 10 MiB compressed (docs/cloudflare-api.md §9; the free plan allows 3 MB).
const DefaultMaxGzipBytes = 10 << 20

// mainCandidates are the base names the entry module is guessed from when neither `main-module`
// nor the config's `main` is set (product.md: "the only index/worker .js/.mjs match").
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
}

// Collect globs the modules below opts.Dir, checks them, resolves the main module and measures
// the bundle. Bad input (patterns, files, main module, size) is returned as an *InputError that
// names the input; the sentinels in this package classify it for errors.Is. Collect walks only
// below each include pattern's base and respects ctx cancellation while walking and reading.
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
	patterns, err := ParsePatterns(opts.Patterns)
	if err != nil {
		return nil, err
	}

	c := &collector{
		ctx:       ctx,
		opts:      opts,
		dir:       dir,
		realDir:   realDir,
		byName:    map[string]*candidate{},
		inspected: map[string]*fileMeta{},
		matched:   map[string]bool{},
	}
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
	if len(c.problems) == 1 {
		return nil, inputErr(InputModules, c.problems[0])
	}
	if len(c.problems) > 1 {
		return nil, inputErr(InputModules, c.problems)
	}
	if len(c.byName) == 0 {
		return nil, inputErr(InputModules, c.noMatch(patterns))
	}

	b := &Bundle{Modules: make([]Module, 0, len(c.byName))}
	for _, p := range patterns {
		if !p.Exclude && !c.matched[p.Raw] {
			b.Unmatched = append(b.Unmatched, p.Raw)
		}
	}
	for name, cand := range c.byName {
		b.Modules = append(b.Modules, Module{
			Name:        name,
			Path:        filepath.Join(dir, filepath.FromSlash(cand.relPath)),
			RelPath:     cand.relPath,
			ContentType: cand.meta.contentType,
			Size:        cand.meta.size,
		})
	}
	slices.SortFunc(b.Modules, func(x, y Module) int { return cmp.Compare(x.Name, y.Name) })

	// Resolve the entry module before reading any bytes: a wrong main-module fails fast.
	if b.MainModule, b.MainNote, err = resolveMain(b.Modules, opts); err != nil {
		return nil, err
	}
	if err := c.read(b); err != nil {
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
	contentType string
	size        int64
	isDir       bool
}

type candidate struct {
	relPath string
	pattern string // raw pattern that named it, for duplicate messages
	meta    *fileMeta
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
	meta := c.inspect(relPath, literal)
	if meta == nil {
		return
	}
	if meta.isDir {
		if literal {
			c.problem(newKindError(ErrInvalidPattern,
				"pattern %q in input %q names a directory; use %q to upload the files below it",
				by, InputModules, strings.TrimSuffix(by, "/")+"/**"))
		}
		return // a symlink to a directory met during a walk: not followed
	}
	name, err := moduleName(base, relPath)
	if err != nil {
		c.problem(err)
		return
	}
	if prev, ok := c.byName[name]; ok {
		if prev.relPath != relPath {
			c.problem(newKindError(ErrDuplicateModule,
				"files %q (pattern %q) and %q (pattern %q) would both be uploaded as module %q; module names are paths relative to each pattern's base directory, so exclude one with a \"!\" pattern in input %q",
				prev.relPath, prev.pattern, relPath, by, name, InputModules))
		}
		return // the same file through two patterns with the same base: one module
	}
	c.byName[name] = &candidate{relPath: relPath, pattern: by, meta: meta}
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
	contentType, err := ContentType(relPath)
	if err != nil {
		c.problem(fmt.Errorf("%w; exclude it in input %q with %q (or %q for all such files)",
			err, InputModules, "!"+relPath, "!**/*"+path.Ext(relPath)))
		return nil
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
	meta := &fileMeta{contentType: contentType, size: info.Size()}
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

func (c *collector) noMatch(patterns []Pattern) error {
	raws := make([]string, len(patterns))
	for i, p := range patterns {
		raws[i] = p.Raw
	}
	msg := fmt.Sprintf("no file matched input %q (patterns: %s) in working directory %q", InputModules, quoteList(raws, 20), c.dir)
	if c.excluded > 0 {
		msg += fmt.Sprintf("; %d file(s) matched but were excluded by \"!\" patterns", c.excluded)
	}
	msg += "; check that the build ran before this step and that the patterns are relative to working-directory (node_modules, .git and hidden files are never uploaded)"
	return &kindError{kind: ErrNoMatch, msg: msg}
}

// read reads every module once, in name order, through one buffer, feeding SHA-256 and a single
// gzip stream; no file is held in memory.
func (c *collector) read(b *Bundle) error {
	open := c.opts.openFile
	if open == nil {
		open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	counter := &countingWriter{}
	gz := gzip.NewWriter(counter)
	h := sha256.New()
	buf := make([]byte, readBufferSize)
	for i := range b.Modules {
		if err := c.ctx.Err(); err != nil {
			return fmt.Errorf("failed to collect modules: %w", err)
		}
		m := &b.Modules[i]
		// Stat before reading: a write during the read shows up in Verify.
		if fi, err := os.Stat(m.Path); err == nil {
			m.ModTime = fi.ModTime()
		}
		n, err := hashFile(open, m.Path, h, gz, buf)
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
	if err := gz.Close(); err != nil {
		return fmt.Errorf("failed to measure bundle size: %w", err)
	}
	b.GzipBytes = counter.n
	return nil
}

func hashFile(open func(string) (io.ReadCloser, error), name string, h hash.Hash, gz io.Writer, buf []byte) (int64, error) {
	h.Reset()
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
			h.Write(buf[:n])
			if _, werr := gz.Write(buf[:n]); werr != nil {
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
