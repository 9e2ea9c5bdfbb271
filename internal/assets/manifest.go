package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/safefile"
)

// Limits of docs/workers-api.md §8 and §9.
const (
	// MaxFileBytes: each asset must be smaller than 25 MiB.
	MaxFileBytes = 25 << 20
	// MaxFiles: at most 20,000 files per manifest (the free plan's limit;
	// paid plans allow 100,000 per version, but the manifest limit is 20,000).
	MaxFiles = 20000
	// MaxIgnoreBytes caps the read of .assetsignore: real ones are a few
	// lines, and one that never ends (a link to /dev/zero) must not exhaust
	// memory.
	MaxIgnoreBytes = 1 << 20
)

// File is one asset of the manifest.
type File struct {
	// Path is the manifest key: "/" and the slash path below the root.
	Path string
	// Hash is the first 32 hex characters of the SHA-256 of the content.
	Hash string
	// Size is the content's length in bytes.
	Size int64
	// ContentType is guessed from the extension; application/null when unknown.
	ContentType string
	// abs is the file on disk.
	abs string
}

// Open opens the file's content.
func (f File) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// Manifest is every asset to upload, sorted by path.
type Manifest struct {
	// Dir is the absolute assets directory.
	Dir   string
	Files []File
	// Ignored counts files left out by .assetsignore.
	Ignored int
	// Excluded counts files left out because they are modules (the entry's folder).
	Excluded int
	// Headers and Redirects are the _headers and _redirects files at the root (absolute
	// paths), "" when absent. They are attached to the version as modules, not uploaded as
	// assets.
	Headers, Redirects string
}

// Option files at the root of the assets directory that configure the assets and are
// attached to the version as modules of the same name (never published).
const (
	HeadersFile   = "_headers"
	RedirectsFile = "_redirects"
	// WorkerFile is a Pages-style Worker (file or folder) at the root of the assets
	// directory: server code that must never be published as an asset.
	WorkerFile = "_worker.js"
)

// BuildOptions refine Build.
type BuildOptions struct {
	// Exclude are slash paths relative to the assets directory (files or folders) that
	// are modules of the Worker and therefore never assets: the entry's own folder when it
	// lies inside the assets directory, or the entry file.
	Exclude []string
}

// ErrWorkerAsset reports a _worker.js at the root of the assets directory that would be
// published as a public asset.
var ErrWorkerAsset = errors.New("server code would be published as a static asset")

// Bytes returns the total size of the files.
func (m *Manifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Entries returns the manifest in the API's form.
func (m *Manifest) Entries() map[string]cloudflare.AssetManifestEntry {
	out := make(map[string]cloudflare.AssetManifestEntry, len(m.Files))
	for _, f := range m.Files {
		out[f.Path] = cloudflare.AssetManifestEntry{Hash: f.Hash, Size: f.Size}
	}
	return out
}

// Build walks dir and hashes every file, leaving out .assetsignore itself,
// what it lists, and .git directories. Symbolic links are followed when they
// stay inside dir; one that leaves it is an error, as is a file of 25 MiB or
// more, or more than MaxFiles files.
func Build(dir string) (*Manifest, error) { return BuildWith(dir, BuildOptions{}) }

// BuildWith is Build with options. Besides, it keeps _headers and _redirects at the root
// out of the manifest (Manifest.Headers, Manifest.Redirects), and refuses a _worker.js
// file or folder at the root that is neither excluded nor listed in .assetsignore: it
// would publish server code (wrangler refuses it too).
func BuildWith(dir string, opts BuildOptions) (*Manifest, error) {
	excluded := map[string]bool{}
	for _, e := range opts.Exclude {
		excluded[strings.Trim(path.Clean(e), "/")] = true
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("failed to read the assets directory %q: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("the assets directory %q is not a directory", dir)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("failed to read the assets directory %q: %w", dir, err)
	}
	var ig *Ignore
	if _, err := os.Lstat(filepath.Join(abs, IgnoreFile)); err == nil {
		// A regular file inside the assets directory, capped: a named pipe
		// would block the run and a link to /dev/zero never end. A dangling
		// link is an error too: the files it meant to leave out would be
		// published.
		b, err := safefile.ReadFile(root, IgnoreFile, MaxIgnoreBytes)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s in the assets directory %q: %w; make it a regular file inside the assets directory", IgnoreFile, dir, err)
		}
		if ig, err = ParseIgnore(string(b)); err != nil {
			return nil, fmt.Errorf("failed to read the ignore rules of the assets directory %q: %w", dir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("failed to read %s in the assets directory %q: %w", IgnoreFile, dir, err)
	}
	m := &Manifest{Dir: abs}
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(abs, p)
		if rel == "." {
			return nil
		}
		slash := filepath.ToSlash(rel)
		info, err := os.Stat(p) // follows links
		if err != nil {
			return fmt.Errorf("failed to read asset %q: %w", slash, err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("failed to read asset %q: %w", slash, err)
			}
			if !within(root, target) {
				return fmt.Errorf("asset %q is a symbolic link to %q, outside the assets directory; copy the file instead", slash, target)
			}
			if info.IsDir() {
				return nil // links to directories are not followed (no cycles)
			}
		}
		if excluded[slash] {
			if info.IsDir() {
				m.Excluded += countFiles(p)
				return filepath.SkipDir
			}
			m.Excluded++
			return nil
		}
		if info.IsDir() {
			if d.Name() == ".git" || ig.Match(slash, true) {
				return filepath.SkipDir
			}
			if slash == WorkerFile {
				return workerAssetError(dir)
			}
			return nil
		}
		if slash == IgnoreFile {
			return nil
		}
		if (slash == HeadersFile || slash == RedirectsFile) && info.Mode().IsRegular() {
			if slash == HeadersFile {
				m.Headers = p
			} else {
				m.Redirects = p
			}
			return nil
		}
		if ig.Match(slash, false) {
			m.Ignored++
			return nil
		}
		if slash == WorkerFile {
			return workerAssetError(dir)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		if info.Size() >= MaxFileBytes {
			return fmt.Errorf("asset %q is %.1f MiB; each asset must be smaller than 25 MiB (list it in %s, or serve it from R2)", slash, float64(info.Size())/(1<<20), IgnoreFile)
		}
		if len(m.Files) >= MaxFiles {
			return fmt.Errorf("the assets directory has more than %d files, the limit of one upload; list files to leave out in %s", MaxFiles, IgnoreFile)
		}
		h, err := hashFile(p)
		if err != nil {
			return fmt.Errorf("failed to read asset %q: %w", slash, err)
		}
		m.Files = append(m.Files, File{Path: "/" + slash, Hash: h, Size: info.Size(), ContentType: contentType(slash), abs: p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m, nil
}

func workerAssetError(dir string) error {
	return fmt.Errorf("%w: the assets directory %q holds %s at its root, which would be uploaded as a public asset and expose server-side code; if it is the Worker, point `main` (or input `main-module`) at it, otherwise add %q to %s in the assets directory",
		ErrWorkerAsset, dir, WorkerFile, WorkerFile, IgnoreFile)
}

// countFiles counts the regular files below dir (for the report; errors count nothing).
func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// hashFile returns the first 32 hex characters of the file's SHA-256 (the
// docs' and Terraform's hash; the API only needs 32 hex characters).
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	// The size was checked before; a file growing meanwhile is cut short
	// of reading without end.
	n, err := io.Copy(h, io.LimitReader(f, MaxFileBytes))
	if err != nil {
		return "", err
	}
	if n >= MaxFileBytes {
		return "", errors.New("the file grew to 25 MiB or more while it was read")
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// contentType guesses the type served with an asset; application/null makes
// the service send none (docs/workers-api.md §8).
func contentType(p string) string {
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/null"
}
