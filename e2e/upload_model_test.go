package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests set `modules` where the framework tests do not, so that each one reaches
// the behaviour of one finding of the upload model.

// Finding 3: with `modules` naming the server folder and no .assetsignore, Astro's
// dist/_worker.js/ must still not be published as static assets.
func TestUploadModelServerCodeIsNeverAnAsset(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "astro")
	require.NoError(t, os.Remove(filepath.Join(ws, "dist", ".assetsignore")))
	j := naturalJob(t, cf, ws)
	j.Inputs["modules"] = "dist/_worker.js/**"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	v := cf.Versions("astro-app")[0]
	require.NotEmpty(t, assetPaths(v))
	for _, p := range assetPaths(v) {
		assert.False(t, strings.HasPrefix(p, "/_worker.js"), "server code published as asset %s", p)
	}
}

// Finding 4: `main` is resolved against the configuration file's folder.
func TestUploadModelMainIsRelativeToItsConfiguration(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := t.TempDir()
	write(t, ws, "app/wrangler.jsonc", []byte(`{"name": "app", "main": "out/worker.js", "compatibility_date": "2025-09-01"}`))
	write(t, ws, "app/out/worker.js", []byte("export default { fetch() { return new Response('main') } };\n"))
	write(t, ws, "app/out/sub/worker.js", []byte("export default { fetch() { return new Response('sub') } };\n"))
	j := naturalJob(t, cf, ws)
	j.Inputs["config"] = "app/wrangler.jsonc"
	j.Inputs["modules"] = "app/out/**"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, "worker.js", cf.Versions("app")[0].MainModule)
}

// Finding 5: with React Router's root configuration present, the redirected one (with the
// assets) is used, not the root one (without).
func TestUploadModelRedirectedConfigurationBringsTheAssets(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "react-router")
	j := naturalJob(t, cf, ws)
	j.Inputs["modules"] = "build/server/**\n!**/*.css\n!**/*.json"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	v := cf.Versions("react-router-app")[0]
	assert.Equal(t, "index.js", v.MainModule)
	assert.Len(t, assetPaths(v), 4, "the assets of build/server/wrangler.json")
	assert.Contains(t, r.Stdout, "build/server/wrangler.json")
}

// Finding 6: a static import of a module that is not uploaded fails before any write.
func TestUploadModelMissingImportFailsBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := t.TempDir()
	write(t, ws, "dist/index.js", []byte("import { render } from './server/render.js';\nexport default { fetch() { return render() } };\n"))
	j := naturalJob(t, cf, ws)
	j.Inputs["modules"] = "dist/**"
	j.Inputs["worker"], j.Inputs["compatibility-date"] = "shop", "2025-09-01"
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	assert.Empty(t, cf.Writes())
	require.Len(t, r.errorTexts(), 1)
	assert.Contains(t, r.errorTexts()[0], `module "index.js" imports "./server/render.js"`)
}

// Finding 8: the assets are in the log and in the job summary.
func TestUploadModelAssetsAreReported(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	write(t, ws, "public/index.html", []byte("<h1>hi</h1>"))
	write(t, ws, "public/app.css", []byte("h1{}"))
	write(t, ws, "public/notes.draft", []byte("x"))
	write(t, ws, "public/.assetsignore", []byte("*.draft\n"))
	r := pushJob(t, cf, ws, map[string]string{"assets-directory": "public"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Contains(t, r.Stdout, "Assets: 2 files, 15 B, found in public/; 1 skipped by .assetsignore")
	assert.Contains(t, r.Stdout, "Assets: uploaded 2 of 2 files")
	assert.Contains(t, r.Summary, "| Assets | 2 files, 15 B, found in public/; 2 uploaded (the others were already stored); 1 skipped by .assetsignore |")
}

// Finding 9: the "not applied" notice has neither empty keys nor build-tool keys.
func TestUploadModelNotAppliedNoticeWithoutNoise(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	write(t, ws, "wrangler.json", []byte(`{"name":"shop","compatibility_date":"2025-09-01","configPath":"/home/runner/x/wrangler.jsonc",
"userConfigPath":"/home/runner/x/wrangler.jsonc","topLevelName":"shop","legacy_env":true,"definedEnvironments":[],"no_bundle":true,
"dev":{"ip":"localhost"},"migrations":[],"triggers":{},"queues":{"producers":[],"consumers":[]},"logfwdr":{"bindings":[]},
"cloudchamber":{},"routes":["shop.example.com/*"]}`))
	r := pushJob(t, cf, ws, map[string]string{"worker": ""}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	var notice string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.Contains(l, "not applied") {
			notice = l
		}
	}
	require.NotEmpty(t, notice, r.Stdout)
	assert.True(t, strings.HasSuffix(notice, ": routes"), notice)
}

// Finding 10: a Worker without `main` and with only static assets deploys as an assets-only
// version; _headers is attached as a module and not published.
func TestUploadModelAssetsOnlyWorker(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := t.TempDir()
	write(t, ws, "wrangler.jsonc", []byte(`{"name": "docs", "compatibility_date": "2025-09-01", "assets": {"directory": "dist", "not_found_handling": "404-page"}}`))
	write(t, ws, "dist/index.html", []byte("<h1>docs</h1>"))
	write(t, ws, "dist/404.html", []byte("<h1>not found</h1>"))
	write(t, ws, "dist/app.js", []byte("console.log('client')"))
	write(t, ws, "dist/_headers", []byte("/*\n  X-Frame-Options: DENY\n"))
	r := naturalJob(t, cf, ws).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	v := cf.Versions("docs")[0]
	assert.Empty(t, v.MainModule)
	require.Len(t, v.Modules, 1)
	assert.Equal(t, "_headers", v.Modules[0].Name)
	assert.Equal(t, "text/plain", v.Modules[0].ContentType)
	assert.Equal(t, []string{"/404.html", "/app.js", "/index.html"}, assetPaths(v))
	assert.JSONEq(t, `{"not_found_handling": "404-page"}`, string(v.AssetConfig))
	assert.Contains(t, r.Stdout, "assets-only Worker")
	assert.Len(t, cf.Deployments("docs"), 1)
}
