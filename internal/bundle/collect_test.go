package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtureDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "workers", name))
	require.NoError(t, err)
	return dir
}

func TestCollectFixtureESMMulti(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t, "esm-multi")
	// Preconditions: the files that must be ignored are really checked in (a .gitignore with
	// node_modules/ would silently drop them and make this test meaningless).
	for _, f := range []string{"dist/node_modules/x/index.js", "dist/.build-meta.mjs", "dist/.vite/manifest.json", "src/index.ts"} {
		require.FileExists(t, filepath.Join(dir, filepath.FromSlash(f)))
	}

	var (
		mu      sync.Mutex
		visited []string
	)
	b, err := Collect(context.Background(), Options{
		Dir: dir, Patterns: "dist/**", UploadSourceMaps: true,
		visitDir: func(rel string) { mu.Lock(); visited = append(visited, rel); mu.Unlock() },
	})
	require.NoError(t, err)

	type mod struct{ name, rel, typ string }
	var got []mod
	for _, m := range b.Modules {
		got = append(got, mod{m.Name, m.RelPath, m.ContentType})
		assert.Equal(t, filepath.Join(dir, filepath.FromSlash(m.RelPath)), m.Path)
	}
	assert.Equal(t, []mod{
		{"add.wasm", "dist/add.wasm", TypeWasm},
		{"greeting.txt", "dist/greeting.txt", TypeText},
		{"index.mjs", "dist/index.mjs", TypeESModule},
		{"index.mjs.map", "dist/index.mjs.map", TypeSourceMap},
		{"legacy.cjs", "dist/legacy.cjs", TypeCommonJS},
		{"lib/util.mjs", "dist/lib/util.mjs", TypeESModule},
	}, got)
	assert.Equal(t, "index.mjs", b.MainModule)
	assert.Empty(t, b.Unmatched)
	assert.ElementsMatch(t, []string{"dist", "dist/lib"}, visited, "node_modules, .vite and src must not be visited")

	raw, gz := independentDigests(t, b)
	assert.Equal(t, raw, b.RawBytes)
	assert.Equal(t, gz, b.GzipBytes)
	assert.Equal(t, ContentDigest("index.mjs", b.DigestEntries()), b.Digest)
	assert.Len(t, b.Digest, 64)
}

func TestCollectFixtureSingle(t *testing.T) {
	t.Parallel()
	b, err := Collect(context.Background(), Options{Dir: fixtureDir(t, "single"), Patterns: "dist/**"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"worker.js": "dist/worker.js"}, names(b))
	assert.Equal(t, "worker.js", b.MainModule)
}

func TestCollectNaming(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name          string
		files         map[string]string
		links         [][2]string // target, link
		patterns      string
		main          string
		want          map[string]string
		wantUnmatched []string
	}{
		{
			name:     "several globs and bases",
			files:    map[string]string{"dist/index.mjs": "x", "dist/lib/a.mjs": "x", "wasm/pkg/add.wasm": "w", "sql/schema.sql": "s"},
			patterns: "dist/**\nwasm/pkg/*.wasm, sql/*.sql",
			want: map[string]string{
				"index.mjs": "dist/index.mjs", "lib/a.mjs": "dist/lib/a.mjs", "add.wasm": "wasm/pkg/add.wasm", "schema.sql": "sql/schema.sql",
			},
		},
		{
			name:     "wildcard from the root names by full path",
			files:    map[string]string{"index.js": "x", "lib/b.js": "x", "lib/c.txt": "t"},
			patterns: "**/*.js",
			want:     map[string]string{"index.js": "index.js", "lib/b.js": "lib/b.js"},
		},
		{
			name:     "brace alternation below a base",
			files:    map[string]string{"out/a/index.js": "x", "out/b/x.js": "x", "out/c/y.js": "x"},
			patterns: "out/{a,b}/*.js",
			want:     map[string]string{"a/index.js": "out/a/index.js", "b/x.js": "out/b/x.js"},
		},
		{
			name:     "literal file plus glob over the same file is one module",
			files:    map[string]string{"dist/worker.js": "x", "dist/a.txt": "t"},
			patterns: "dist/worker.js, dist/**",
			want:     map[string]string{"worker.js": "dist/worker.js", "a.txt": "dist/a.txt"},
		},
		{
			name:     "same base twice",
			files:    map[string]string{"dist/index.js": "x", "dist/a.wasm": "w"},
			patterns: "dist/*.js, dist/**",
			want:     map[string]string{"index.js": "dist/index.js", "a.wasm": "dist/a.wasm"},
		},
		{
			name:     "hidden base given literally",
			files:    map[string]string{".output/server/index.mjs": "x", ".output/server/chunks/a.mjs": "x", ".output/server/.hidden/b.mjs": "x", ".output/public/x.html": "h"},
			patterns: ".output/server/**",
			want:     map[string]string{"index.mjs": ".output/server/index.mjs", "chunks/a.mjs": ".output/server/chunks/a.mjs"},
		},
		{
			name:     "excludes",
			files:    map[string]string{"dist/index.js": "x", "dist/index.js.map": "m", "dist/lib/a.js": "x", "dist/lib/a.js.map": "m", "dist/tmp/junk.js": "j"},
			patterns: "dist/**\n!dist/**/*.map\n!dist/tmp",
			want:     map[string]string{"index.js": "dist/index.js", "lib/a.js": "dist/lib/a.js"},
		},
		{
			name:     "escaped metacharacters in a file name",
			files:    map[string]string{"dist/[id].js": "x", "dist/index.js": "x"},
			patterns: `dist/\[id\].js, dist/index.js`,
			want:     map[string]string{"[id].js": "dist/[id].js", "index.js": "dist/index.js"},
		},
		{
			name:     "dot-slash and cleaned patterns",
			files:    map[string]string{"dist/index.js": "x"},
			patterns: "./dist/../dist/**",
			want:     map[string]string{"index.js": "dist/index.js"},
		},
		{
			name:          "unmatched patterns are reported, not fatal",
			files:         map[string]string{"dist/index.js": "x"},
			patterns:      "dist/**, wasm/*.wasm, dist/missing.js",
			want:          map[string]string{"index.js": "dist/index.js"},
			wantUnmatched: []string{"wasm/*.wasm", "dist/missing.js"},
		},
		{
			name:     "symlinked file inside the working directory",
			files:    map[string]string{"dist/index.js": "x", "shared/data.bin": "b"},
			links:    [][2]string{{"../shared/data.bin", "dist/data.bin"}},
			patterns: "dist/**",
			want:     map[string]string{"index.js": "dist/index.js", "data.bin": "dist/data.bin"},
		},
		{
			name:     "symlinked base directory inside the working directory",
			files:    map[string]string{"build/index.js": "x", "build/lib/a.js": "x"},
			links:    [][2]string{{"build", "dist"}},
			patterns: "dist/**",
			want:     map[string]string{"index.js": "dist/index.js", "lib/a.js": "dist/lib/a.js"},
		},
		{
			name:     "directory symlinks below the base are not followed, loops do not hang",
			files:    map[string]string{"dist/index.js": "x", "other/x.js": "x"},
			links:    [][2]string{{".", "dist/loop"}, {"..", "dist/up"}, {"../other", "dist/other"}},
			patterns: "dist/**",
			want:     map[string]string{"index.js": "dist/index.js"},
		},
		{
			name:          "node_modules inside a base is never uploaded",
			files:         map[string]string{"dist/index.js": "x", "dist/node_modules/a/index.js": "x", "dist/a/.git/x.js": "x", "dist/.DS_Store.txt": "x"},
			patterns:      "dist/**, dist/**/node_modules/**/*.js",
			want:          map[string]string{"index.js": "dist/index.js"},
			wantUnmatched: []string{"dist/**/node_modules/**/*.js"},
		},
		{
			name: "whole working directory",
			files: map[string]string{
				"index.js": "x", "lib/a.wasm": "w", "node_modules/p/index.js": "x", ".git/x.js": "x", ".wrangler/tmp/b.js": "x", "README.txt": "r",
			},
			patterns: "**",
			want:     map[string]string{"index.js": "index.js", "lib/a.wasm": "lib/a.wasm", "README.txt": "README.txt"},
		},
		{
			name:     "main module by config main file path",
			files:    map[string]string{"dist/app.mjs": "x", "dist/lib.mjs": "x"},
			patterns: "dist/**",
			main:     "app.mjs",
			want:     map[string]string{"app.mjs": "dist/app.mjs", "lib.mjs": "dist/lib.mjs"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			for _, l := range tc.links {
				symlink(t, dir, l[0], l[1])
			}
			b, err := Collect(context.Background(), Options{Dir: dir, Patterns: tc.patterns, MainModule: tc.main})
			require.NoError(t, err)
			assert.Equal(t, tc.want, names(b))
			assert.Equal(t, tc.wantUnmatched, b.Unmatched)
			raw, gz := independentDigests(t, b)
			assert.Equal(t, raw, b.RawBytes)
			assert.Equal(t, gz, b.GzipBytes)
		})
	}
}

func TestCollectPruning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{"dist/index.js": "x", "dist/lib/a.js": "x"}
	for _, d := range []string{"dist/node_modules/pkg/sub", "dist/lib/node_modules/p", "dist/.git/objects", "dist/.cache/deep", "src/deep/er", "node_modules/x"} {
		files[d+"/file.js"] = "x"
	}
	writeTree(t, dir, files)
	// When not running as root, unreadable pruned directories would also fail the walk if it
	// tried to read them. Root reads everything, so the visit hook below is the real proof.
	for _, d := range []string{"dist/node_modules", "dist/.git", "dist/.cache", "src"} {
		p := filepath.Join(dir, filepath.FromSlash(d))
		require.NoError(t, os.Chmod(p, 0o000))
		t.Cleanup(func() { _ = os.Chmod(p, 0o755) })
	}

	var visited []string
	b, err := Collect(context.Background(), Options{
		Dir: dir, Patterns: "dist/**", UploadSourceMaps: true,
		visitDir: func(rel string) { visited = append(visited, rel) },
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"index.js": "dist/index.js", "lib/a.js": "dist/lib/a.js"}, names(b))
	assert.ElementsMatch(t, []string{"dist", "dist/lib"}, visited)
}

func TestCollectMainModule(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name       string
		files      map[string]string
		patterns   string
		mainModule string
		configMain string
		want       string
		wantNote   string
	}{
		{name: "input main-module", files: map[string]string{"dist/a.mjs": "x", "dist/index.mjs": "x"}, mainModule: "a.mjs", want: "a.mjs"},
		{name: "input wins over config main", files: map[string]string{"dist/a.mjs": "x", "dist/b.mjs": "x"}, mainModule: "a.mjs", configMain: "dist/b.mjs", want: "a.mjs"},
		{name: "input with ./ prefix", files: map[string]string{"dist/a.mjs": "x"}, mainModule: "./a.mjs", want: "a.mjs"},
		{name: "config main maps to the module name", files: map[string]string{"dist/app/main.mjs": "x", "dist/index.mjs": "x"}, configMain: "dist/app/main.mjs", want: "app/main.mjs"},
		{name: "config main with ./", files: map[string]string{"dist/app.js": "x"}, configMain: "./dist/app.js", want: "app.js"},
		{name: "absolute config main inside the directory", files: map[string]string{"dist/app.js": "x"}, configMain: "@DIR@/dist/app.js", want: "app.js"},
		{name: "only index candidate", files: map[string]string{"dist/index.js": "x", "dist/lib/util.mjs": "x", "dist/a.wasm": "w"}, want: "index.js"},
		{name: "only worker candidate", files: map[string]string{"dist/worker.mjs": "x", "dist/chunk.js": "x"}, want: "worker.mjs"},
		{name: "nested candidate", files: map[string]string{"dist/server/index.mjs": "x", "dist/chunk.mjs": "x"}, want: "server/index.mjs"},
		{name: "python main", files: map[string]string{"src/entry.py": "x", "src/requirements.txt": "r"}, patterns: "src/**", mainModule: "entry.py", want: "entry.py"},
		{name: "commonjs main", files: map[string]string{"dist/main.cjs": "x"}, mainModule: "main.cjs", want: "main.cjs"},
		{name: "config main naming the source falls back to the same stem", files: map[string]string{"dist/worker.js": "x", "dist/index.js": "x", "src/worker.ts": "x"}, configMain: "src/worker.ts", want: "worker.js", wantNote: `using the built module "worker.js" with the same name`},
		{name: "config main naming the source falls back to the only index", files: map[string]string{"dist/index.mjs": "x", "src/main.ts": "x"}, configMain: "src/main.ts", want: "index.mjs", wantNote: `using "index.mjs", the only index/worker module`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			patterns := tc.patterns
			if patterns == "" {
				patterns = "dist/**"
			}
			configMain := strings.ReplaceAll(tc.configMain, "@DIR@", dir)
			b, err := Collect(context.Background(), Options{Dir: dir, Patterns: patterns, MainModule: tc.mainModule, ConfigMain: configMain})
			require.NoError(t, err)
			assert.Equal(t, tc.want, b.MainModule)
			assert.Equal(t, ContentDigest(tc.want, b.DigestEntries()), b.Digest)
			if tc.wantNote == "" {
				assert.Empty(t, b.MainNote)
			} else {
				assert.Contains(t, b.MainNote, tc.wantNote)
			}
		})
	}
}

func TestCollectErrors(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name      string
		setup     func(t *testing.T, dir string)
		opts      Options // Dir is filled in unless set
		wantInput string
		wantKind  error
		wantMsg   []string
	}{
		{
			name:      "no match names the input, patterns and directory",
			setup:     func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"src/index.ts": "x"}) },
			opts:      Options{Patterns: "dist/**, build/*.js"},
			wantInput: InputModules, wantKind: ErrNoMatch,
			wantMsg: []string{`input "modules"`, `"dist/**", "build/*.js"`, "in working directory"},
		},
		{
			name: "everything excluded",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/a.js": "x", "dist/b.js": "x"})
			},
			opts:      Options{Patterns: "dist/**, !dist/*.js"},
			wantInput: InputModules, wantKind: ErrNoMatch,
			wantMsg: []string{"2 file(s) matched but were excluded"},
		},
		{
			name: "only ignored files",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/node_modules/a/index.js": "x", "dist/.hidden.js": "x"})
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrNoMatch,
			wantMsg: []string{"never uploaded"},
		},
		{
			name: "a pattern without wildcards naming a file no module rule matches",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/stats.json": "{}"})
			},
			opts:      Options{Patterns: "dist/index.js, dist/stats.json"},
			wantInput: InputModules, wantKind: ErrUnsupportedType,
			wantMsg: []string{`"dist/stats.json"`, "no module rule", ".wasm", "`rules`"},
		},
		{
			name: "several problems are reported together",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/a.json": "{}", "dist/b.mjs": "", "dist/empty.js": ""})
			},
			opts:      Options{Patterns: "dist/**, dist/a.json"},
			wantInput: InputModules, wantKind: ErrEmptyModule,
			wantMsg: []string{"found 3 problem(s)", `"dist/a.json"`, `"dist/b.mjs"`, `"dist/empty.js"`},
		},
		{
			name: "empty file",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/empty.mjs": ""})
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrEmptyModule,
			wantMsg: []string{`"dist/empty.mjs"`, "empty (0 bytes)"},
		},
		{
			name: "duplicate module names across globs",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/util.js": "a", "shared/util.js": "b"})
			},
			opts:      Options{Patterns: "dist/**\nshared/*.js"},
			wantInput: InputModules, wantKind: ErrDuplicateModule,
			wantMsg: []string{`"dist/util.js"`, `"shared/util.js"`, `module "util.js"`, `"dist/**"`, `"shared/*.js"`},
		},
		{
			name: "symlinked file escaping the working directory",
			setup: func(t *testing.T, dir string) {
				outside := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-outside.js")
				require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o644))
				t.Cleanup(func() { _ = os.Remove(outside) })
				writeTree(t, dir, map[string]string{"dist/index.js": "x"})
				symlink(t, dir, outside, "dist/steal.js")
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrOutsideWorkingDir,
			wantMsg: []string{`"dist/steal.js"`, "escapes the working directory"},
		},
		{
			name: "symlinked base escaping the working directory",
			setup: func(t *testing.T, dir string) {
				symlink(t, dir, "/etc", "dist")
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrOutsideWorkingDir,
			wantMsg: []string{`"dist"`, `"dist/**"`, "escapes the working directory"},
		},
		{
			name: "literal path through a symlinked directory escaping",
			setup: func(t *testing.T, dir string) {
				symlink(t, dir, "/etc", "dist")
			},
			opts:      Options{Patterns: "dist/passwd"},
			wantInput: InputModules, wantKind: ErrOutsideWorkingDir,
			wantMsg: []string{`"dist/passwd"`, "escapes the working directory"},
		},
		{
			name: "symlink loop on a matched file",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x"})
				symlink(t, dir, "loop.js", "dist/loop.js")
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrUnreadable,
			wantMsg: []string{`"dist/loop.js"`, "symlink loop"},
		},
		{
			name: "dangling symlink",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x"})
				symlink(t, dir, "gone.js", "dist/chunk.js")
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrUnreadable,
			wantMsg: []string{`"dist/chunk.js"`},
		},
		{
			name: "a fifo is not read",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x"})
				require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "dist", "pipe.js"), 0o644))
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputModules, wantKind: ErrUnreadable,
			wantMsg: []string{`"dist/pipe.js"`, "not a regular file"},
		},
		{
			name:      "literal pattern naming a directory",
			setup:     func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"dist/index.js": "x"}) },
			opts:      Options{Patterns: "dist"},
			wantInput: InputModules, wantKind: ErrInvalidPattern,
			wantMsg: []string{`"dist"`, "names a directory", `"dist/**"`},
		},
		{
			name:      "invalid pattern",
			setup:     func(t *testing.T, dir string) {},
			opts:      Options{Patterns: "dist/{a"},
			wantInput: InputModules, wantKind: ErrInvalidPattern,
			wantMsg: []string{`"dist/{a"`},
		},
		{
			name: "unknown main-module lists module names",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/lib/a.js": "x"})
			},
			opts:      Options{Patterns: "dist/**", MainModule: "server.js"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{`"server.js"`, `input "main-module"`, `"index.js", "lib/a.js"`},
		},
		{
			name:      "main-module given as a file path gets a hint",
			setup:     func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"dist/index.js": "x"}) },
			opts:      Options{Patterns: "dist/**", MainModule: "dist/index.js"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{`"dist/index.js" is the file of module "index.js"`},
		},
		{
			name: "module list in the error is capped",
			setup: func(t *testing.T, dir string) {
				files := map[string]string{}
				for _, c := range "abcdefghijklmn" {
					files["dist/"+string(c)+".js"] = "x"
				}
				writeTree(t, dir, files)
			},
			opts:      Options{Patterns: "dist/**", MainModule: "z.js"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{`"j.js", … and 4 more`},
		},
		{
			name: "config main pointing at the source",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/app.mjs": "x", "dist/chunk.mjs": "x", "src/main.ts": "x"})
			},
			opts:      Options{Patterns: "dist/**", ConfigMain: "src/main.ts"},
			wantInput: InputConfigMain, wantKind: ErrMainModule,
			wantMsg: []string{"`main` \"src/main.ts\"", `input "main-module"`, `"app.mjs"`},
		},
		{
			name: "no candidate for the main module",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/app.mjs": "x", "dist/b.mjs": "x"})
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{"index.js, index.mjs, worker.js, worker.mjs", `set input "main-module"`, `"app.mjs", "b.mjs"`},
		},
		{
			name: "several candidates for the main module",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.mjs": "x", "dist/worker.js": "x", "dist/sub/index.js": "x"})
			},
			opts:      Options{Patterns: "dist/**"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{"3 modules could be it", `"index.mjs", "sub/index.js", "worker.js"`, `"main-module"`},
		},
		{
			name: "main module must be code",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/greeting.txt": "hi"})
			},
			opts:      Options{Patterns: "dist/**", MainModule: "greeting.txt"},
			wantInput: InputMainModule, wantKind: ErrMainModule,
			wantMsg: []string{`"greeting.txt"`, `"text/plain"`, "must be JavaScript"},
		},
		{
			name: "config main must be code",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/a.wasm": "w"})
			},
			opts:      Options{Patterns: "dist/**", ConfigMain: "dist/a.wasm"},
			wantInput: InputConfigMain, wantKind: ErrMainModule,
			wantMsg: []string{`"a.wasm"`, "wrangler configuration"},
		},
		{
			name: "bundle over the size limit",
			setup: func(t *testing.T, dir string) {
				writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/big.bin": string(randomBytes(t, 64<<10))})
			},
			opts:      Options{Patterns: "dist/**", MaxGzipBytes: 32 << 10},
			wantInput: InputModules, wantKind: ErrBundleTooLarge,
			wantMsg: []string{"0.06 MiB gzip-compressed", "over the limit of 0.03 MiB", "10 MiB compressed on the paid plan", "3 MB on the free plan", "big.bin (0.06 MiB)"},
		},
		{
			name:      "working directory missing",
			setup:     func(t *testing.T, dir string) {},
			opts:      Options{Dir: "/nonexistent/workers-deploy-test", Patterns: "dist/**"},
			wantInput: InputWorkingDirectory, wantKind: ErrUnreadable,
			wantMsg: []string{`"/nonexistent/workers-deploy-test"`, `input "working-directory"`},
		},
		{
			name:      "working directory is a file",
			setup:     func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"file": "x"}) },
			opts:      Options{Dir: "file", Patterns: "dist/**"}, // made absolute below
			wantInput: InputWorkingDirectory, wantKind: ErrUnreadable,
			wantMsg: []string{"is not a directory"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.setup(t, dir)
			opts := tc.opts
			switch {
			case opts.Dir == "":
				opts.Dir = dir
			case !filepath.IsAbs(opts.Dir):
				opts.Dir = filepath.Join(dir, opts.Dir)
			}
			b, err := Collect(context.Background(), opts)
			assert.Nil(t, b)
			requireInputError(t, err, tc.wantInput, tc.wantKind, tc.wantMsg...)
		})
	}
}

func TestCollectRelativeDir(t *testing.T) {
	t.Parallel()
	_, err := Collect(context.Background(), Options{Dir: "relative/dir", Patterns: "dist/**"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"relative/dir" is not an absolute path`)
}

func TestCollectUnreadableFile(t *testing.T) {
	t.Parallel()

	t.Run("open fails", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/secret.js": "y"})
		_, err := Collect(context.Background(), Options{
			Dir: dir, Patterns: "dist/**",
			openFile: func(name string) (io.ReadCloser, error) {
				if strings.HasSuffix(name, "secret.js") {
					return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrPermission}
				}
				return os.Open(name)
			},
		})
		requireInputError(t, err, InputModules, ErrUnreadable, `"dist/secret.js"`, "permission denied")
		assert.ErrorIs(t, err, os.ErrPermission)
	})

	t.Run("chmod 000", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() == 0 {
			t.Skip("root can read files with mode 000; the open-fails case covers the error path")
		}
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/secret.js": "y"})
		require.NoError(t, os.Chmod(filepath.Join(dir, "dist", "secret.js"), 0o000))
		_, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
		requireInputError(t, err, InputModules, ErrUnreadable, `"dist/secret.js"`)
	})

	t.Run("unreadable directory below the base", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() == 0 {
			t.Skip("root can read directories with mode 000")
		}
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"dist/index.js": "x", "dist/locked/a.js": "y"})
		p := filepath.Join(dir, "dist", "locked")
		require.NoError(t, os.Chmod(p, 0o000))
		t.Cleanup(func() { _ = os.Chmod(p, 0o755) })
		_, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
		requireInputError(t, err, InputModules, ErrUnreadable, `"dist/locked"`)
	})
}

func TestCollectContextCanceled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"dist/index.js": "x"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Collect(ctx, Options{Dir: dir, Patterns: "dist/**"})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	var ie *InputError
	assert.False(t, errors.As(err, &ie), "cancellation is not bad input")
}

func TestCollectCanceledDuringWalk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 50 {
		files[filepath.ToSlash(filepath.Join("dist", "d"+string(rune('a'+i%26)), "f"+string(rune('a'+i/26))+".js"))] = "x"
	}
	writeTree(t, dir, files)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	visits := 0
	_, err := Collect(ctx, Options{Dir: dir, Patterns: "dist/**", visitDir: func(string) {
		visits++
		if visits == 3 {
			cancel()
		}
	}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, visits, "the walk stops at the first entry after cancellation")
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		n    int64
		want string
	}{
		{"bytes", 41, "41 B"},
		{"just below a KiB", 1023, "1023 B"},
		{"KiB", 2048, "2.0 KiB"},
		{"MiB", 3<<20 + 2089, "3.00 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, HumanBytes(tc.n))
		})
	}
}

// TestCollectMeasuresAfterImportCheck: the gzip size, the costliest part of collecting, is
// measured (by reading each module a second time) only for a module set that passes the
// import check. A set that must be bundled first, like OpenNext's output with its 2.4 MB
// handler, is reported as such even when it would also be over the size limit.
func TestCollectMeasuresAfterImportCheck(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("export const x = Math.random();\n", 2000)
	tests := []struct {
		name      string
		files     map[string]string
		kind      error // nil: collected
		wantOpens int   // per module file
	}{
		{"uploadable: hashed, then measured", map[string]string{"dist/index.js": "import './a.js';\n" + big, "dist/a.js": big}, nil, 2},
		{"needs bundling: not measured", map[string]string{"dist/index.js": "import { Hono } from 'hono';\n" + big, "dist/a.js": big}, ErrBundleNeeded, 1},
		{"a broken import: not measured", map[string]string{"dist/index.js": "import './missing.js';\n" + big, "dist/a.js": big}, ErrImport, 1},
	}
	for _, tt := range tests {
		for _, limit := range []int64{0, 100} {
			t.Run(fmt.Sprintf("%s, limit %d", tt.name, limit), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				writeTree(t, dir, tt.files)
				var mu sync.Mutex
				opens := map[string]int{}
				b, err := Collect(context.Background(), Options{
					Dir: dir, ConfigMain: "dist/index.js", MaxGzipBytes: limit,
					openFile: func(name string) (io.ReadCloser, error) {
						mu.Lock()
						opens[filepath.Base(name)]++
						mu.Unlock()
						return os.Open(name)
					},
				})
				switch {
				case tt.kind != nil:
					require.ErrorIs(t, err, tt.kind)
				case limit > 0:
					require.ErrorIs(t, err, ErrBundleTooLarge)
				default:
					require.NoError(t, err)
					assert.Positive(t, b.GzipBytes)
					assert.Less(t, b.GzipBytes, b.RawBytes)
				}
				assert.Equal(t, map[string]int{"index.js": tt.wantOpens, "a.js": tt.wantOpens}, opens)
			})
		}
	}
}
