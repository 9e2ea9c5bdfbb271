package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// isNodeIdiom is the Node.js detection Astro's runtime uses.
const isNodeIdiom = "const isNode = typeof process !== 'undefined' && Object.prototype.toString.call(process) === '[object process]';\n"

// unenvPreset is a stand-in for @cloudflare/unenv-preset and unenv in node_modules: enough for
// the bundler to inject the `process` polyfill.
var unenvPreset = map[string]string{
	"node_modules/@cloudflare/unenv-preset/package.json":                          `{"name":"@cloudflare/unenv-preset","type":"module","exports":{"./*":{"default":"./dist/runtime/*.mjs"},"./package.json":"./package.json"}}`,
	"node_modules/@cloudflare/unenv-preset/dist/runtime/node/process.mjs":         "export default { env: {}, version: 'v0.0.0-stub' };\n",
	"node_modules/@cloudflare/unenv-preset/dist/runtime/node/console.mjs":         "export default globalThis.console;\n",
	"node_modules/@cloudflare/unenv-preset/dist/runtime/polyfill/performance.mjs": "globalThis.performance ??= {};\n",
	"node_modules/unenv/package.json":                                             `{"name":"unenv","type":"module","exports":{"./package.json":"./package.json","./node/*":"./dist/runtime/node/*.mjs"}}`,
}

// TestRunBundlesCodeThatTellsNodeByProcess covers the rule of `bundle: auto` for built entries
// whose code tests `process`'s type tag: bundled as wrangler would when workerd gives the
// Worker its own `process` and wrangler's bundle the unenv polyfill, warned about when the
// action cannot or may not bundle.
func TestRunBundlesCodeThatTellsNodeByProcess(t *testing.T) {
	t.Parallel()
	const reason = "module %s tells Node.js by `process`'s type tag (\"[object process]\"), and workerd's own `process` (compatibility date %s, nodejs_compat) passes that test; wrangler's bundle gives it unenv's polyfill instead"
	astro := map[string]string{
		"dist/index.js":          "import { render } from './chunks/server.mjs';\nexport default { fetch: () => render() };\n",
		"dist/chunks/server.mjs": isNodeIdiom + "export const render = () => new Response(isNode ? 'node' : 'web');\n",
	}
	tests := []struct {
		name    string
		date    string
		flags   string // TOML array items
		files   map[string]string
		mode    inputs.BundleMode
		modules string
		preset  bool
		bundled string // Bundled.Reason, "" for no bundle
		warning string // a warning line must contain it; "" for none about process
	}{
		{name: "process v2 by date", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs"`, "2025-11-30")},
		{name: "on the switch date", date: "2025-09-15", flags: `"nodejs_compat"`, preset: true,
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs"`, "2025-09-15")},
		{name: "before process v2", date: "2025-09-14", flags: `"nodejs_compat"`, preset: true},
		{name: "enable flag before the date", date: "2025-09-01", flags: `"nodejs_compat", "enable_nodejs_process_v2"`, preset: true,
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs"`, "2025-09-01")},
		{name: "disable flag", date: "2025-11-30", flags: `"nodejs_compat", "disable_nodejs_process_v2"`, preset: true},
		{name: "without nodejs_compat", date: "2025-11-30", flags: ``, preset: true},
		{name: "workerd reads iterable bodies: wrangler keeps its process too", date: "2026-02-19", flags: `"nodejs_compat"`, preset: true},
		{name: "iterable bodies by flags: wrangler keeps its process too", date: "2025-11-30", flags: `"nodejs_compat", "fetch_iterable_type_support", "fetch_iterable_type_support_override_adjustment"`, preset: true},
		{name: "iterable bodies without the adjustment: wrangler still polyfills", date: "2025-11-30", flags: `"nodejs_compat", "fetch_iterable_type_support"`, preset: true,
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs"`, "2025-11-30")},
		{name: "idiom absent", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			files: map[string]string{"dist/chunks/server.mjs": "export const render = () => new Response('web');\n"}},
		{name: "idiom only outside the import graph", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			files: map[string]string{"dist/chunks/server.mjs": "export const render = () => new Response('web');\n", "dist/unused.mjs": isNodeIdiom}},
		{name: "idiom behind import()", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			files: map[string]string{
				"dist/index.js":        "export default { fetch: async () => (await import('./pages/index.mjs')).render() };\n",
				"dist/pages/index.mjs": "export { render } from '../chunks/server.mjs';\n",
			},
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs"`, "2025-11-30")},
		{name: "two modules", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			files:   map[string]string{"dist/index.js": "import { render } from './chunks/server.mjs';\n" + isNodeIdiom + "export default { fetch: () => render() };\n"},
			bundled: fmt.Sprintf(reason, `"chunks/server.mjs" (and 1 more)`, "2025-11-30")},
		{name: "an upload that assigns its own process polyfill (wrangler's output)", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true,
			files: map[string]string{"dist/index.js": "globalThis.process = { env: {} };\nimport { render } from './chunks/server.mjs';\nexport default { fetch: () => render() };\n"}},
		{name: "bundle false warns", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true, mode: inputs.BundleNever,
			warning: "remove `bundle: false` or set `bundle: true`; or add the compatibility flag disable_nodejs_process_v2"},
		{name: "modules set warns", date: "2025-11-30", flags: `"nodejs_compat"`, preset: true, modules: "dist/**",
			warning: "set `bundle: true`, or remove input `modules`; or add the compatibility flag disable_nodejs_process_v2"},
		{name: "preset missing: not bundled, warned", date: "2025-11-30", flags: `"nodejs_compat"`,
			warning: "@cloudflare/unenv-preset and unenv are not installed in the project, so the action uploads it unbundled: install them before this step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"wrangler.toml": fmt.Sprintf("name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = %q\ncompatibility_flags = [%s]\n", tt.date, tt.flags),
			}
			for k, v := range astro {
				files[k] = v
			}
			for k, v := range tt.files {
				files[k] = v
			}
			if tt.preset {
				for k, v := range unenvPreset {
					files[k] = v
				}
			}
			dir := writeProject(t, files)
			api := &fakeAPI{}
			log := &allLog{}
			cfg := config(t, func(c *inputs.Config) {
				c.Worker, c.ConfigFile, c.WorkingDirectory, c.CompatibilityDate, c.Modules = "", "", dir, "", tt.modules
				c.Bundle = inputs.BundleAuto
				if tt.mode != "" {
					c.Bundle = tt.mode
				}
			})
			d := deps(api)
			d.Log = log
			d.Now = func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }
			res, err := Run(context.Background(), cfg, &ghevent.Context{}, d)
			require.NoError(t, err)
			require.Len(t, api.versions, 1)
			v := api.versions[0]
			if tt.bundled == "" {
				assert.Nil(t, res.Bundled, "uploaded as built")
				assert.Greater(t, len(v.Modules), 1, "the built modules, not one bundle")
			} else {
				require.NotNil(t, res.Bundled, "must be bundled")
				assert.Equal(t, tt.bundled, res.Bundled.Reason)
				assert.Equal(t, "dist/index.js", res.Bundled.Entry)
				require.Len(t, v.Modules, 1, "one bundle")
				assert.Contains(t, string(v.Modules[0].Content), "globalThis.process = process_default", "the bundle installs the polyfill")
				assert.Contains(t, log.text(), "because "+tt.bundled)
			}
			var processWarnings []string
			for _, l := range strings.Split(log.text(), "\n") {
				if strings.HasPrefix(l, "warning: ") && strings.Contains(l, "[object process]") {
					processWarnings = append(processWarnings, l)
				}
			}
			if tt.warning == "" {
				assert.Empty(t, processWarnings)
				return
			}
			require.Len(t, processWarnings, 1)
			assert.Contains(t, processWarnings[0], tt.warning)
			assert.Contains(t, processWarnings[0], `module "chunks/server.mjs" tells Node.js by`)
		})
	}
}
