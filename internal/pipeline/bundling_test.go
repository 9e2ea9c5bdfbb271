package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// sourceProject writes a Worker project with no build step: a TypeScript entry importing a
// text module and a package from node_modules.
func sourceProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"wrangler.toml":                  "name = \"shop\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2025-09-01\"\n[define]\n__GREETING__ = '\"hi\"'\n",
		"src/index.ts":                   "import text from \"./hello.txt\";\nimport { shout } from \"tiny\";\nexport default { fetch: (): Response => new Response(shout(text + __GREETING__)) };\n",
		"src/hello.txt":                  "hello",
		"node_modules/tiny/package.json": `{"name":"tiny","exports":{"workerd":"./w.js","default":"./d.js"}}`,
		"node_modules/tiny/w.js":         "export const shout = (s) => s.toUpperCase();\n",
		"node_modules/tiny/d.js":         "export const shout = () => 'wrong condition';\n",
	}
	for k, v := range files {
		base[k] = v
	}
	for name, content := range base {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestRunBundlesSourceEntry(t *testing.T) {
	t.Parallel()
	dir := sourceProject(t, nil)
	api := &fakeAPI{}
	cfg := config(t, func(c *inputs.Config) {
		c.Worker, c.ConfigFile, c.WorkingDirectory, c.CompatibilityDate, c.Bundle, c.Modules = "", "", dir, "", inputs.BundleAuto, ""
	})
	res, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	require.NotNil(t, res.Bundled)
	assert.Equal(t, "src/index.ts", res.Bundled.Entry)
	assert.Equal(t, "the entry src/index.ts is a source file", res.Bundled.Reason)
	assert.Equal(t, []string{"tiny"}, res.Bundled.Summary.Packages)
	assert.Equal(t, "index.js", res.MainModule)

	require.Len(t, api.versions, 1)
	v := api.versions[0]
	assert.Equal(t, "index.js", v.MainModule)
	names := map[string]cloudflare.ModuleContent{}
	for _, m := range v.Modules {
		names[m.Name] = m
	}
	require.Len(t, names, 2)
	main := string(names["index.js"].Content)
	assert.Contains(t, main, `s.toUpperCase()`, "the workerd export condition applies")
	assert.Contains(t, main, `"hi"`, "define applies")
	assert.Contains(t, main, `from "./aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d-hello.txt"`)
	assert.Equal(t, "text/plain", names["aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d-hello.txt"].ContentType)

	// The same source again: same digest, so the version is reused.
	res, err = Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.True(t, res.VersionReused)
	assert.Len(t, api.versions, 1)

	// Other source under the same tag is refused, as for any module.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/hello.txt"), []byte("changed"), 0o644))
	_, err = Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.ErrorIs(t, err, ErrTagConflict)
}

func TestRunBundleDecisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		mode    inputs.BundleMode
		modules bool
		wantErr string
		bundled string // Bundled.Reason, "" for no bundle
	}{
		{name: "bundle false on a source entry", mode: inputs.BundleNever,
			wantErr: "input `bundle`: the entry \"src/index.ts\" is a source file that must be bundled, and no built module was found in dist/; add a step before this action that bundles it, `npx wrangler deploy --dry-run --outdir dist` (the action then uploads dist/, no \"modules\" input needed); or let the action bundle it as wrangler does: remove `bundle: false`"},
		{name: "built entry importing a package", mode: inputs.BundleAuto,
			files:   map[string]string{"wrangler.toml": "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n", "dist/index.js": "export { shout as default } from './chunk.js';\n", "dist/chunk.js": "export { shout } from 'tiny';\n"},
			bundled: `module "chunk.js" imports the package "tiny"`},
		{name: "built entry without packages is uploaded as is", mode: inputs.BundleAuto,
			files: map[string]string{"wrangler.toml": "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n", "dist/index.js": "import 'cloudflare:workers';\nexport default {};\n"}},
		{name: "bundle true", mode: inputs.BundleAlways,
			files:   map[string]string{"wrangler.toml": "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n", "dist/index.js": "export default {};\n"},
			bundled: "input `bundle` is true"},
		{name: "bundle false on a built entry importing a package", mode: inputs.BundleNever,
			files:   map[string]string{"wrangler.toml": "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n", "dist/index.js": "export { shout as default } from 'tiny';\n"},
			wantErr: "input `bundle`: module \"index.js\" imports the package \"tiny\", which is not uploaded: this build output is not bundled and workerd cannot load it. Bundle the Worker: add a step before this action that bundles it, `npx wrangler deploy --dry-run --outdir dist`, and set input \"modules\" to \"dist/**\"; or let the action bundle it as wrangler does: remove `bundle: false`"},
		{name: "bundle true with modules: the bundle replaces the built entry", mode: inputs.BundleAlways, modules: true,
			files:   map[string]string{"wrangler.toml": "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n", "dist/index.js": "import { extra } from './extra.js';\nexport default { fetch: () => new Response(extra) };\n", "dist/extra.js": "export const extra = 'x';\n"},
			bundled: "input `bundle` is true"},
		{name: "a bad import names file, line and column", mode: inputs.BundleAuto,
			files:   map[string]string{"src/index.ts": "import x from \"missing-pkg\";\nexport default x;\n"},
			wantErr: `input ` + "`bundle`" + `: bundling src/index.ts failed: src/index.ts:1:15: Could not resolve "missing-pkg" (the package is not installed in the project's node_modules`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := sourceProject(t, tt.files)
			api := &fakeAPI{}
			cfg := config(t, func(c *inputs.Config) {
				c.Worker, c.ConfigFile, c.WorkingDirectory, c.CompatibilityDate, c.Bundle = "", "", dir, "", tt.mode
				if !tt.modules {
					c.Modules = ""
				}
			})
			res, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, api.versions, "nothing written")
				for _, c := range api.calls {
					assert.False(t, strings.HasPrefix(c, "Create"), "no write: %s", c)
				}
				return
			}
			require.NoError(t, err)
			if tt.bundled == "" {
				assert.Nil(t, res.Bundled)
				return
			}
			require.NotNil(t, res.Bundled)
			assert.Equal(t, tt.bundled, res.Bundled.Reason)
		})
	}
}
