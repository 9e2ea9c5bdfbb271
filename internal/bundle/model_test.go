package bundle

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

const js = "export default { fetch() { return new Response('ok') } };\n"

func TestRuleSetOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		user     []Rule
		maps     bool
		want     map[string]string // name → content type, "" = no rule
		warnings int
	}{
		{"defaults", nil, false, map[string]string{
			"a.js": TypeESModule, "a.mjs": TypeESModule, "a.cjs": TypeCommonJS, "x/a.wasm": TypeWasm,
			"a.txt": TypeText, "p/a.html": TypeText, "q.sql": TypeText, "d.bin": TypeData, "m.py": TypePython,
			"requirements.txt": TypePythonRequirement, "sub/requirements.txt": TypeText,
			"README.md": "", "wrangler.json": "", "a.css": "", "a.js.map": "", "a.ts": "",
		}, 0},
		{"source maps on request", nil, true, map[string]string{"a.js.map": TypeSourceMap}, 0},
		{"a user rule comes first", []Rule{{Type: "Text", Globs: []string{"**/*.js"}}}, false,
			map[string]string{"a.js": TypeText, "a.txt": "", "a.mjs": TypeESModule}, 0},
		{"a user rule of a type drops the default rule of that type", []Rule{{Type: "ESModule", Globs: []string{"**/*.mjs"}}}, false,
			map[string]string{"a.mjs": TypeESModule, "a.js": ""}, 0},
		{"fallthrough keeps the default", []Rule{{Type: "ESModule", Globs: []string{"**/*.mjs"}, Fallthrough: ptr(true)}}, false,
			map[string]string{"a.mjs": TypeESModule, "a.js": TypeESModule}, 0},
		{"a second user rule of the same type is ignored with a warning", []Rule{
			{Type: "Data", Globs: []string{"**/*.dat"}}, {Type: "Data", Globs: []string{"**/*.raw"}},
		}, false, map[string]string{"a.dat": TypeData, "a.raw": ""}, 1},
		{"fallthrough false silences the warning", []Rule{
			{Type: "Data", Globs: []string{"**/*.dat"}, Fallthrough: ptr(false)}, {Type: "Data", Globs: []string{"**/*.raw"}},
		}, false, map[string]string{"a.dat": TypeData, "a.raw": ""}, 0},
		{"CompiledWasm with ?module", nil, false, map[string]string{"a.wasm?module": TypeWasm}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := newRuleSet(tt.user, tt.maps)
			require.NoError(t, err)
			for name, want := range tt.want {
				got, ok := rs.typeOf(name)
				if want == "" {
					assert.False(t, ok, "%s matched %s", name, got)
					continue
				}
				assert.True(t, ok, name)
				assert.Equal(t, want, got, name)
			}
			assert.Len(t, rs.warnings, tt.warnings)
		})
	}
}

func TestRuleSetRejectsBadRules(t *testing.T) {
	t.Parallel()
	_, err := newRuleSet([]Rule{{Type: "Markdown", Globs: []string{"**/*.md"}}, {Type: "Text"}, {Type: "Data", Globs: []string{"[a"}}}, false)
	requireInputError(t, err, InputRules, ErrInvalidPattern, `type "Markdown"`, "rules[1]: `globs` is empty", `glob "[a"`)
}

func TestCollectUploadModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		// want are the module names and their files; main the entry.
		want      map[string]string
		main      string
		source    string
		skipped   []string
		maps      int
		assetOnly bool
	}{
		{
			name:  "the entry's folder is the base (finding 1: README.md skipped, no error)",
			files: map[string]string{"out/index.js": js, "out/chunk/a.mjs": "export const a = 1;\n", "out/README.md": "x", "out/index.js.map": "{}", "out/.hidden.js": js, "src/x.js": js},
			opts:  Options{ConfigMain: "out/index.js"},
			want:  map[string]string{"index.js": "out/index.js", "chunk/a.mjs": "out/chunk/a.mjs"},
			main:  "index.js", source: SourceEntryDir, skipped: []string{"out/README.md"}, maps: 1,
		},
		{
			name:  "an absolute main (resolved against its configuration file)",
			files: map[string]string{"app/out/worker.mjs": js},
			opts:  Options{ConfigMain: "/ABS/app/out/worker.mjs"},
			want:  map[string]string{"worker.mjs": "app/out/worker.mjs"},
			main:  "worker.mjs", source: SourceEntryDir,
		},
		{
			name:  "main-module names the entry file when modules is not set",
			files: map[string]string{"build/server.js": js, "build/lib.js": "export {}\n"},
			opts:  Options{MainModule: "build/server.js"},
			want:  map[string]string{"server.js": "build/server.js", "lib.js": "build/lib.js"},
			main:  "server.js", source: SourceEntryDir,
		},
		{
			name:  "main-module naming a module of dist/ (no such file below the working directory)",
			files: map[string]string{"dist/server.mjs": js, "dist/index.mjs": js},
			opts:  Options{MainModule: "server.mjs"},
			want:  map[string]string{"server.mjs": "dist/server.mjs", "index.mjs": "dist/index.mjs"},
			main:  "server.mjs", source: SourceFallback,
		},
		{
			name:  "the entry is uploaded even when the rules leave it out",
			files: map[string]string{"out/index.js": js, "out/b.mjs": "export {}\n"},
			opts:  Options{ConfigMain: "out/index.js", Rules: []Rule{{Type: "ESModule", Globs: []string{"**/*.mjs"}}}},
			want:  map[string]string{"index.js": "out/index.js", "b.mjs": "out/b.mjs"},
			main:  "index.js", source: SourceEntryDir,
		},
		{
			name:  "no entry: the dist/** fallback",
			files: map[string]string{"dist/worker.js": js, "dist/x.md": "x"},
			want:  map[string]string{"worker.js": "dist/worker.js"},
			main:  "worker.js", source: SourceFallback, skipped: []string{"dist/x.md"},
		},
		{
			name:  "finding 2: the assets directory overlapping dist/** is never a module source",
			files: map[string]string{"dist/index.html": "<p>", "dist/app.js": "x", "dist/sub/b.js": "x"},
			opts:  Options{AssetsDir: "/ABS/dist", AssetsOnly: true},
			want:  map[string]string{}, source: "assets only", assetOnly: true,
		},
		{
			name: "Astro: the entry's folder inside the assets directory is the module source",
			files: map[string]string{"dist/_worker.js/index.js": "import './chunks/a.mjs';\n" + js, "dist/_worker.js/chunks/a.mjs": "export {}\n",
				"dist/index.html": "<p>", "dist/_astro/x.js": "x", "dist/_routes.json": "{}"},
			opts: Options{ConfigMain: "dist/_worker.js/index.js", AssetsDir: "/ABS/dist"},
			want: map[string]string{"index.js": "dist/_worker.js/index.js", "chunks/a.mjs": "dist/_worker.js/chunks/a.mjs"},
			main: "index.js", source: SourceEntryDir,
		},
		{
			name:  "the assets directory inside the entry's folder is left out",
			files: map[string]string{"dist/index.js": js, "dist/client/app.js": "x", "dist/client/index.html": "<p>"},
			opts:  Options{ConfigMain: "dist/index.js", AssetsDir: "/ABS/dist/client"},
			want:  map[string]string{"index.js": "dist/index.js"},
			main:  "index.js", source: SourceEntryDir,
		},
		{
			name:  "the entry file at the root of the assets directory: only the entry",
			files: map[string]string{"kit/_worker.js": js, "kit/_app/a.js": "x", "kit/favicon.svg": "<svg/>", "kit/b.js": "x"},
			opts:  Options{ConfigMain: "kit/_worker.js", AssetsDir: "/ABS/kit"},
			want:  map[string]string{"_worker.js": "kit/_worker.js"},
			main:  "_worker.js", source: SourceEntryDir,
		},
		{
			name:  "with modules set, the assets directory is left out too",
			files: map[string]string{"dist/index.js": js, "dist/public/a.js": "x"},
			opts:  Options{Patterns: "dist/**", AssetsDir: "/ABS/dist/public"},
			want:  map[string]string{"index.js": "dist/index.js"},
			main:  "index.js", source: SourceInput,
		},
		{
			name:  "_headers and _redirects are text modules by name",
			files: map[string]string{"dist/index.js": js, "public/_headers": "/*\n  X: y\n"},
			opts:  Options{Patterns: "dist/**", Extra: []ExtraModule{{Name: "_headers", Path: "/ABS/public/_headers"}}},
			want:  map[string]string{"index.js": "dist/index.js", "_headers": "public/_headers"},
			main:  "index.js", source: SourceInput,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			abs := func(p string) string {
				if len(p) > 5 && p[:5] == "/ABS/" {
					return filepath.Join(dir, filepath.FromSlash(p[5:]))
				}
				return p
			}
			opts := tt.opts
			opts.Dir = dir
			opts.ConfigMain, opts.AssetsDir = abs(opts.ConfigMain), abs(opts.AssetsDir)
			for i := range opts.Extra {
				opts.Extra[i].Path = abs(opts.Extra[i].Path)
			}
			b, err := Collect(context.Background(), opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, names(b))
			assert.Equal(t, tt.main, b.MainModule)
			assert.Equal(t, tt.source, b.Source)
			assert.Equal(t, tt.skipped, b.Skipped)
			assert.Equal(t, tt.maps, b.SourceMapsLeftOut)
			assert.Equal(t, tt.assetOnly, b.AssetsOnly())
		})
	}
}

func TestCollectUploadModelErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		input string
		kind  error
		want  []string
	}{
		{"the entry does not exist", map[string]string{"dist/other.js": js}, Options{ConfigMain: "dist/index.js"},
			InputConfigMain, ErrMainModule, []string{`"dist/index.js"`, "run the build"}},
		{"a source entry without a build", map[string]string{"src/index.ts": "export default {}"}, Options{ConfigMain: "src/index.ts"},
			InputConfigMain, ErrBundleNeeded, []string{`"src/index.ts" is a source file`, "npx wrangler deploy --dry-run --outdir dist"}},
		{"nothing in dist/ and no assets", map[string]string{"src/a.js": js}, Options{},
			InputModules, ErrNoMatch, []string{"input \"modules\" is not set", "dist/"}},
		{"finding 6: a static import of a module that is not uploaded", map[string]string{"dist/index.js": "import {a} from './lib/a.js';\n" + js},
			Options{ConfigMain: "dist/index.js"}, InputModules, ErrImport, []string{`module "index.js" imports "./lib/a.js"`, `"lib/a.js"`}},
		{"an import of a skipped file says why", map[string]string{"dist/index.js": "import t from './t.md';\n" + js, "dist/t.md": "x"},
			Options{ConfigMain: "dist/index.js"}, InputModules, ErrImport, []string{"no module rule matches it"}},
		{"an import of a hidden folder needs bundling", map[string]string{"out/index.js": "export * from './.build/q.js';\n" + js, "out/.build/q.js": "export {}"},
			Options{ConfigMain: "out/index.js"}, InputModules, ErrBundleNeeded, []string{`imports "./.build/q.js", which is not uploaded (it lies above the entry's folder, or in a hidden`}},
		{"a package import needs bundling", map[string]string{"dist/index.js": "import { Hono } from 'hono';\nimport 'devalue';\n" + js},
			Options{ConfigMain: "dist/index.js"}, InputModules, ErrBundleNeeded, []string{`imports the package "hono"`, "(and 1 more such imports)", `"dist/**"`}},
		{"an import outside the folder needs bundling", map[string]string{"kit/_worker.js": "import { Server } from '../output/server/index.js';\n" + js, "output/server/index.js": "export class Server {}"},
			Options{ConfigMain: "kit/_worker.js"}, InputModules, ErrBundleNeeded, []string{`imports "../output/server/index.js", which is not uploaded (it lies above the entry's folder`}},
		{"a Node built-in without nodejs_compat", map[string]string{"dist/index.js": "import { Buffer } from 'buffer';\n" + js},
			Options{ConfigMain: "dist/index.js"}, InputModules, ErrImport, []string{"nodejs_compat", `"node:buffer"`}},
		{"a source map named without wildcards", map[string]string{"dist/index.js": js, "dist/index.js.map": "{}"},
			Options{Patterns: "dist/index.js, dist/index.js.map"}, InputModules, ErrUnsupportedType, []string{"upload-source-maps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			opts := tt.opts
			opts.Dir = dir
			_, err := Collect(context.Background(), opts)
			requireInputError(t, err, tt.input, tt.kind, tt.want...)
		})
	}
}

func TestCollectImportsThatAreFine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"dist/index.js": `import { DurableObject } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";
import { Buffer } from "buffer";
import manifest from "__STATIC_CONTENT_MANIFEST";
import { a } from "./lib/a.js";
import "/lib/b.mjs";
import w from "./add.wasm?module";
const lazy = () => import("./missing.js");
const pkg = () => import("sharp");
` + js,
		"dist/lib/a.js":  "export * from '../lib/b.mjs';\nexport const a = 1;\n",
		"dist/lib/b.mjs": "export const b = 2;\n",
		"dist/add.wasm":  "\x00asm",
	})
	b, err := Collect(context.Background(), Options{Dir: dir, ConfigMain: "dist/index.js", NodeCompat: true})
	require.NoError(t, err)
	assert.Len(t, b.Modules, 4)
	require.Len(t, b.Warnings, 2, "dynamic imports of missing modules are warnings")
	assert.Contains(t, b.Warnings[0], `"./missing.js"`)
	assert.Contains(t, b.Warnings[1], `"sharp"`)
}

func TestExternalImport(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string][2]bool{ // [without nodejs_compat, with]
		"cloudflare:workers": {true, true}, "node:fs": {true, true}, "__STATIC_CONTENT_MANIFEST": {true, true},
		"fs": {false, true}, "fs/promises": {false, true}, "hono": {false, false}, "@scope/pkg": {false, false},
	} {
		assert.Equal(t, want[0], ExternalImport(spec, false), spec)
		assert.Equal(t, want[1], ExternalImport(spec, true), spec)
	}
}
