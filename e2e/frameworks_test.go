package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// frameworkWorkspace copies testdata/frameworks/<name> (hidden folders such as .output and
// .wrangler included) into a temp dir.
func frameworkWorkspace(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	copyDir(t, filepath.Join("..", "testdata", "frameworks", name), dst)
	return dst
}

// naturalJob is a push with only the inputs a new user sets (api-token, account-id,
// deploy: true), plus the defaults the runner fills in from action.yml (no `modules`).
func naturalJob(t *testing.T, cf *cloudflare, ws string) job {
	t.Helper()
	in := runnerDefaults(t)
	for k, v := range map[string]string{"api-token": testToken, "account-id": testAccount, "api-url": cf.URL, "deploy": "true"} {
		in[k] = v
	}
	return job{
		Workspace: ws, Event: "push", SHA: pushSHA,
		Payload: filepath.Join(mustAbs(t, "../testdata/events"), "push.04.created.json"),
		Inputs:  in,
	}
}

func moduleTypes(v emulator.VersionState) map[string]string {
	out := map[string]string{}
	for _, m := range v.Modules {
		out[m.Name] = m.ContentType
	}
	return out
}

// assetPaths are the paths of the version's static assets, sorted.
func assetPaths(v emulator.VersionState) []string {
	out := make([]string, 0, len(v.AssetManifest))
	for p := range v.AssetManifest {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func bindingNames(v emulator.VersionState) []string {
	var out []string
	for _, b := range v.Bindings {
		out = append(out, b["name"].(string)+":"+b["type"].(string))
	}
	sort.Strings(out)
	return out
}

// deployed runs the job, requires success and a 100 % deployment, and returns the version.
func deployed(t *testing.T, cf *cloudflare, ws, worker string) (*run, emulator.VersionState) {
	t.Helper()
	r := naturalJob(t, cf, ws).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, r.errors())
	versions := cf.Versions(worker)
	require.Len(t, versions, 1, r.Stdout)
	deps := cf.Deployments(worker)
	require.Len(t, deps, 1)
	assert.Equal(t, []emulator.DeploymentVersion{{VersionID: versions[0].ID, Percentage: 100}}, deps[0].Versions)
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])
	return r, versions[0]
}

// Astro 5 + @astrojs/cloudflare: main dist/_worker.js/index.js inside assets.directory dist.
// The server chunks are the modules, never assets; dist's own files are never modules.
func TestFrameworkAstroDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "astro")
	r, v := deployed(t, cf, ws, "astro-app")
	assert.Equal(t, "index.js", v.MainModule)
	assert.Equal(t, map[string]string{
		"index.js":                                       "application/javascript+module",
		"renderers.mjs":                                  "application/javascript+module",
		"manifest_Co8IBAGp.mjs":                          "application/javascript+module",
		"chunks/_@astro-renderers_DpxeDnSh.mjs":          "application/javascript+module",
		"chunks/_@astrojs-ssr-adapter_BRuEU5sf.mjs":      "application/javascript+module",
		"chunks/astro/server_ayzMwmTg.mjs":               "application/javascript+module",
		"chunks/astro-designed-error-pages_8cJNQBmB.mjs": "application/javascript+module",
		"chunks/sharp_Dng4Gpec.mjs":                      "application/javascript+module",
		"pages/index.astro.mjs":                          "application/javascript+module",
		"pages/_image.astro.mjs":                         "application/javascript+module",
	}, moduleTypes(v), "only the entry's folder; no HTML, CSS or _routes.json of dist/ (findings 1, 2)")
	assert.Equal(t, []string{"/_astro/index.Bx3kQ9.css", "/favicon.svg"}, assetPaths(v))
	assert.Contains(t, bindingNames(v), "ASSETS:assets")
	assert.Contains(t, r.Stdout, `imports the package "sharp" dynamically`, "a dynamic import of a package is a warning")
	assert.Contains(t, r.Stdout, "Assets: 2 files")
	assert.Contains(t, r.Summary, "| Assets |")
}

// Security (finding 3): without .assetsignore, dist/_worker.js/ (the server code) must not
// be published as static assets.
func TestFrameworkAstroWithoutAssetsIgnoreKeepsServerCodePrivate(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "astro")
	require.NoError(t, os.Remove(filepath.Join(ws, "dist", ".assetsignore")))
	_, v := deployed(t, cf, ws, "astro-app")
	for _, p := range assetPaths(v) {
		assert.False(t, strings.HasPrefix(p, "/_worker.js"), "server code published as asset %s", p)
	}
	assert.Contains(t, assetPaths(v), "/_routes.json")
	assert.Len(t, v.Modules, 10)
}

// A _worker.js folder in the assets directory that is not the entry's folder is refused
// before any write (it would publish server code).
func TestFrameworkWorkerJSInAssetsIsRefused(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "astro")
	require.NoError(t, os.Remove(filepath.Join(ws, "dist", ".assetsignore")))
	// The Worker is built elsewhere; dist/_worker.js/ is a stale Pages build.
	write(t, ws, "server/index.js", []byte("export default { fetch() { return new Response('ok') } }\n"))
	cfg, err := os.ReadFile(filepath.Join(ws, "wrangler.jsonc"))
	require.NoError(t, err)
	write(t, ws, "wrangler.jsonc", []byte(strings.Replace(string(cfg), "./dist/_worker.js/index.js", "./server/index.js", 1)))
	r := naturalJob(t, cf, ws).exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	assert.Empty(t, cf.Writes())
	require.Len(t, r.errorTexts(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "_worker.js")
	assert.Contains(t, r.errorTexts()[0], ".assetsignore")
}

// Nuxt 4 / Nitro cloudflare_module: the redirected configuration .wrangler/deploy/config.json
// names .output/server/wrangler.json, whose `main` is relative to its own folder.
func TestFrameworkNuxtDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "nuxt")
	// Finding 5: the redirect works without a root configuration too.
	require.NoError(t, os.Remove(filepath.Join(ws, "wrangler.jsonc")))
	r, v := deployed(t, cf, ws, "nuxt-app")
	assert.Equal(t, "index.mjs", v.MainModule)
	assert.Equal(t, map[string]string{
		"index.mjs":                                "application/javascript+module",
		"chunks/nitro/nitro.mjs":                   "application/javascript+module",
		"chunks/routes/renderer.mjs":               "application/javascript+module",
		"chunks/virtual/_virtual_spa-template.mjs": "application/javascript+module",
		"_headers":                                 "text/plain",
	}, moduleTypes(v), "no source maps, no wrangler.json; _headers attached as a module")
	assert.Equal(t, []string{"/_nuxt/C4fHuxfT.js", "/_nuxt/error-404.C-Ezrlz-.css", "/robots.txt"}, assetPaths(v), "_headers is not a public asset")
	assert.Contains(t, bindingNames(v), "ASSETS:assets")
	assert.Equal(t, []string{"nodejs_compat", "no_nodejs_compat_v2"}, v.CompatibilityFlags)
	assert.Contains(t, r.Stdout, ".wrangler/deploy/config.json")
	assert.Contains(t, r.Stdout, "2 source map(s) left out")
}

// React Router 7 + @cloudflare/vite-plugin: the root configuration names the source
// (workers/app.ts) and no assets; the redirected one has the build, the assets and rules.
func TestFrameworkReactRouterDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "react-router")
	r, v := deployed(t, cf, ws, "react-router-app")
	assert.Equal(t, "index.js", v.MainModule)
	assert.Equal(t, map[string]string{
		"index.js":                        "application/javascript+module",
		"assets/worker-entry-DoAwTvwy.js": "application/javascript+module",
		"assets/server-build-B40WrdNo.js": "application/javascript+module",
	}, moduleTypes(v), "the server .css and wrangler.json are skipped (finding 1)")
	assert.Equal(t, []string{"/assets/jsx-runtime-CqN4NcIO.js", "/assets/root-CbGQDrIp.js", "/assets/root-DQUSok8F.css", "/favicon.svg"}, assetPaths(v), "finding 5: the assets of the redirected configuration")
	assert.Contains(t, bindingNames(v), "VALUE_FROM_CLOUDFLARE:plain_text")
	assert.Contains(t, r.Stdout, "2 file(s) matched no module rule")
	// Finding 9: the generated configuration's empty keys and build-tool keys are no noise.
	assert.NotContains(t, r.Stdout, "not applied")
}

// Hono built by `wrangler deploy --dry-run --outdir dist`, with `bundle: false` (the action
// would otherwise bundle src/index.ts itself): wrangler's README.md is skipped, the source map
// left out, and `main: src/index.ts` maps to the built index.js.
func TestFrameworkHonoOutdirDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "hono-outdir")
	j := naturalJob(t, cf, ws)
	j.Inputs["bundle"] = "false"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	v := cf.Versions("hono-app")[0]
	assert.Equal(t, "index.js", v.MainModule)
	assert.Equal(t, map[string]string{"index.js": "application/javascript+module"}, moduleTypes(v))
	assert.Contains(t, r.Stdout, "dist/README.md")
}

// OpenNext's output is bundled from .open-next/worker.js (one of the files that would be
// uploaded imports a package), as `wrangler deploy` does: the dynamic import of the server
// function is inlined, Node.js built-ins and cloudflare:workers stay external.
func TestFrameworkOpenNextIsBundled(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "nextjs")
	r, v := deployed(t, cf, ws, "nextjs-app")
	assert.Contains(t, r.Stdout, `Bundled .open-next/worker.js with esbuild into worker.js because module "cloudflare-templates/images.js" imports the package "@opennextjs/aws/adapters/logger.js"`)
	assert.Equal(t, "worker.js", v.MainModule)
	assert.Equal(t, map[string]string{"worker.js": "application/javascript+module"}, moduleTypes(v))
}

// Outputs that need bundling but whose packages are not installed fail before any write,
// naming the file, line and column and the import, with the advice to install them.
func TestFrameworksThatNeedBundlingFailBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, bundle string
		want         []string
	}{
		{"hono", "auto", []string{`input ` + "`bundle`" + `: bundling src/index.ts failed: src/index.ts:1:22: Could not resolve "hono"`, "npm ci"}},
		{"sveltekit", "auto", []string{`.svelte-kit/output/server/index.js:1:28: Could not resolve "@sveltejs/kit"`, "npm ci"}},
		// With `bundle: false`, the upload model's errors, and how to let the action bundle.
		{"hono", "false", []string{`"src/index.ts" is a source file`, "npx wrangler deploy --dry-run --outdir dist", "remove `bundle: false`"}},
		{"sveltekit", "false", []string{`module "_worker.js" imports "./../output/server/index.js"`, "npx wrangler deploy --dry-run --outdir dist", `"dist/**"`, "remove `bundle: false`"}},
		{"nextjs", "false", []string{"@opennextjs/", "npx wrangler deploy --dry-run --outdir dist", `"dist/**"`, "remove `bundle: false`"}},
	} {
		t.Run(tt.name+" bundle "+tt.bundle, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := frameworkWorkspace(t, tt.name)
			j := naturalJob(t, cf, ws)
			j.Inputs["bundle"] = tt.bundle
			r := j.exec(t, ctxFor(t))
			require.Equal(t, 1, r.Code, r.Stdout)
			assert.Empty(t, cf.Writes(), "nothing may be written")
			assert.Empty(t, cf.Workers())
			errs := r.errorTexts()
			require.Len(t, errs, 1, r.Stdout)
			for _, w := range tt.want {
				assert.Contains(t, errs[0], w)
			}
		})
	}
}

// The advised step works: after `wrangler deploy --dry-run --outdir dist` (its output
// shape: README.md, _worker.js, _worker.js.map) and `modules: dist/**`, SvelteKit deploys,
// its assets from .svelte-kit/cloudflare with _worker.js kept out by .assetsignore.
func TestFrameworkSvelteKitAfterTheAdvisedStepDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "sveltekit")
	write(t, ws, "dist/README.md", []byte("This folder contains the built output assets for the worker \"sveltekit-app\".\n"))
	write(t, ws, "dist/_worker.js", []byte("var worker_default = { fetch() { return new Response('svelte') } };\nexport { worker_default as default };\n"))
	write(t, ws, "dist/_worker.js.map", []byte("{}\n"))
	j := naturalJob(t, cf, ws)
	j.Inputs["modules"] = "dist/**"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	v := cf.Versions("sveltekit-app")[0]
	assert.Equal(t, "_worker.js", v.MainModule)
	assert.Equal(t, map[string]string{"_worker.js": "application/javascript+module", "_headers": "text/plain"}, moduleTypes(v))
	assert.Equal(t, []string{"/_app/immutable/chunks/B2mEZFzM.js", "/_app/immutable/entry/start.D7GBfxz6.js", "/_app/version.json", "/favicon.svg"}, assetPaths(v))
}

// An Astro-shaped build whose runtime tells Node.js by `process`'s type tag, at a compatibility
// date where workerd gives the Worker its own `process` (nodejs_compat, 2025-11-30): with only
// natural inputs the action bundles the built entry as wrangler would, so the code sees unenv's
// polyfill (from the project's node_modules), and the plan, the log and the record say why.
// With `bundle: false` it is uploaded as built, with a warning that names the way out.
func TestFrameworkAstroNodeProcessIsBundled(t *testing.T) {
	t.Parallel()
	const why = "because module \"chunks/astro/server_ayzMwmTg.mjs\" tells Node.js by `process`'s type tag (\"[object process]\"), and workerd's own `process` (compatibility date 2025-11-30, nodejs_compat) passes that test; wrangler's bundle gives it unenv's polyfill instead"

	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		j := naturalJob(t, cf, frameworkWorkspace(t, "astro-node-process"))
		j.Inputs["dry-run"] = "true"
		r := j.exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.Empty(t, cf.Writes())
		assert.Contains(t, r.Stdout, "Bundled dist/_worker.js/index.js with esbuild into index.js "+why)
		parseRecord(t, r.Outputs["result"])
		var rec struct {
			Bundle struct {
				Bundled *struct {
					Entry, Reason string
					Packages      []string
				} `json:"bundled"`
			} `json:"bundle"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Outputs["result"]), &rec))
		bd := rec.Bundle.Bundled
		require.NotNil(t, bd, "the record says the entry was bundled")
		assert.Equal(t, "dist/_worker.js/index.js", bd.Entry)
		assert.Equal(t, strings.TrimPrefix(why, "because "), bd.Reason)
		assert.Contains(t, bd.Packages, "@cloudflare/unenv-preset")
		assert.Contains(t, r.Summary, "Bundled `dist/_worker.js/index.js` into `index.js` with esbuild")
	})

	t.Run("deploy", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		r, v := deployed(t, cf, frameworkWorkspace(t, "astro-node-process"), "astro-node-app")
		assert.Contains(t, r.Stdout, why)
		assert.Equal(t, "index.js", v.MainModule)
		assert.Equal(t, map[string]string{"index.js": "application/javascript+module"}, moduleTypes(v), "one bundle")
		assert.Contains(t, string(v.Modules[0].Content), "globalThis.process = process_default", "the bundle installs unenv's process")
		assert.Equal(t, []string{"/_astro/index.Bx3kQ9.css", "/favicon.svg"}, assetPaths(v))
	})

	t.Run("bundle false", func(t *testing.T) {
		t.Parallel()
		cf := newCloudflare(t)
		j := naturalJob(t, cf, frameworkWorkspace(t, "astro-node-process"))
		j.Inputs["bundle"] = "false"
		r := j.exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.NotContains(t, r.Stdout, "Bundled")
		versions := cf.Versions("astro-node-app")
		require.Len(t, versions, 1)
		assert.Contains(t, moduleTypes(versions[0]), "chunks/astro/server_ayzMwmTg.mjs", "uploaded as built")
		warned := false
		for _, l := range strings.Split(r.Stdout, "\n") {
			if w := unescapeAnnotation(l); strings.HasPrefix(w, "::warning") && strings.Contains(w, "[object process]") {
				warned = true
				assert.Contains(t, w, "remove `bundle: false` or set `bundle: true`")
				assert.Contains(t, w, "disable_nodejs_process_v2")
			}
		}
		assert.True(t, warned, "a warning about process; output:\n%s", r.Stdout)
	})
}
