package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// allLog records every line by kind.
type allLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *allLog) add(kind, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, kind+": "+fmt.Sprintf(format, args...))
}
func (l *allLog) Infof(f string, a ...any)    { l.add("info", f, a...) }
func (l *allLog) Noticef(f string, a ...any)  { l.add("notice", f, a...) }
func (l *allLog) Warningf(f string, a ...any) { l.add("warning", f, a...) }
func (l *allLog) Debugf(string, ...any)       {}
func (l *allLog) Group(string)                {}
func (l *allLog) EndGroup()                   {}
func (l *allLog) text() string                { l.mu.Lock(); defer l.mu.Unlock(); return strings.Join(l.lines, "\n") }

// writeProject writes files below a new directory.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// uploadCfg is a run on dir with only natural inputs: no `modules`, the configuration found
// automatically, the Worker name and compatibility date from it.
func uploadCfg(t *testing.T, dir string, mod func(*inputs.Config)) *inputs.Config {
	return config(t, func(c *inputs.Config) {
		c.WorkingDirectory, c.Workspace, c.ConfigFile, c.Modules, c.Worker, c.CompatibilityDate = dir, dir, "", "", "", ""
		if mod != nil {
			mod(c)
		}
	})
}

func sentModules(api *fakeAPI) []string {
	var out []string
	for _, m := range api.lastInput.Modules {
		out = append(out, m.Name+" "+m.ContentType)
	}
	sort.Strings(out)
	return out
}

const workerJS = "export default { fetch() { return new Response('ok') } };\n"

// Finding 4: `main` is relative to the configuration file's folder, not the working directory.
func TestRunMainIsRelativeToTheConfigurationFile(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{
		"app/wrangler.jsonc":   `{"name": "shop", "main": "out/index.js", "compatibility_date": "2025-09-01"}`,
		"app/out/index.js":     "import './lib/a.js';\n" + workerJS,
		"app/out/lib/a.js":     "export const a = 1;\n",
		"out/index.js":         workerJS, // the same path below the working directory: must not be used
		"app/out/README.md":    "not a module\n",
		"app/out/index.js.map": "{}",
	})
	api := &fakeAPI{}
	res, err := Run(context.Background(), uploadCfg(t, dir, func(c *inputs.Config) { c.ConfigFile = "app/wrangler.jsonc" }), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, "index.js", res.MainModule)
	assert.Equal(t, []string{"index.js application/javascript+module", "lib/a.js application/javascript+module"}, sentModules(api))
}

// Finding 5: the redirected configuration wins over the root configuration, which may be
// missing, and the notice names the file used.
func TestRunFollowsTheRedirectedConfiguration(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		".wrangler/deploy/config.json": `{"configPath":"../../build/server/wrangler.json","auxiliaryWorkers":[]}`,
		"build/server/wrangler.json":   `{"name":"rr","main":"index.js","compatibility_date":"2025-09-01","assets":{"directory":"../client"},"configPath":"/x/wrangler.jsonc","topLevelName":"rr","legacy_env":true,"migrations":[],"triggers":{},"queues":{"producers":[],"consumers":[]}}`,
		"build/server/index.js":        workerJS,
		"build/client/favicon.svg":     "<svg/>",
	}
	for _, withRoot := range []bool{false, true} {
		t.Run(fmt.Sprintf("root configuration %v", withRoot), func(t *testing.T) {
			t.Parallel()
			fs := map[string]string{}
			for k, v := range files {
				fs[k] = v
			}
			if withRoot {
				fs["wrangler.jsonc"] = `{"name":"rr","main":"./workers/app.ts","compatibility_date":"2025-09-01"}`
				fs["workers/app.ts"] = "export default {}"
			}
			dir := writeProject(t, fs)
			api := &fakeAPI{}
			log := &allLog{}
			d := deps(api)
			d.Log = log
			res, err := Run(context.Background(), uploadCfg(t, dir, nil), &ghevent.Context{}, d)
			require.NoError(t, err, log.text())
			assert.Equal(t, "rr", res.WorkerName)
			assert.Equal(t, "index.js", res.MainModule)
			require.NotNil(t, res.Assets, "the redirected configuration's assets are uploaded")
			assert.Equal(t, 1, res.Assets.Files)
			assert.NotEmpty(t, api.lastInput.Assets)
			assert.Contains(t, log.text(), "notice: using the configuration build/server/wrangler.json, named by .wrangler/deploy/config.json")
			// Finding 9: no empty keys, no build-tool keys in the "not applied" notice.
			assert.NotContains(t, log.text(), "not applied")
		})
	}
}

// Finding 9: real keys the action does not apply are still listed, empty ones are not.
func TestRunNotAppliedNoticeHasNoNoise(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{
		"wrangler.jsonc": `{"name":"shop","main":"dist/index.js","compatibility_date":"2025-09-01","routes":["a.example.com/*"],"triggers":{"crons":[]},"userConfigPath":"/x","definedEnvironments":[],"kv_namespaces":[]}`,
		"dist/index.js":  workerJS,
	})
	log := &allLog{}
	d := deps(&fakeAPI{})
	d.Log = log
	_, err := Run(context.Background(), uploadCfg(t, dir, nil), &ghevent.Context{}, d)
	require.NoError(t, err)
	assert.Contains(t, log.text(), "not applied by workers-deploy (manage them with wrangler or Terraform): routes\n")
}

// Finding 2: the dist/** fallback never takes the assets directory's files as modules; with
// nothing else to run, the Worker is assets-only.
func TestRunAssetsOnlyWorker(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{
		"wrangler.jsonc":  `{"name":"site","compatibility_date":"2025-09-01","assets":{"directory":"dist","not_found_handling":"single-page-application"}}`,
		"dist/index.html": "<h1>hi</h1>",
		"dist/app.js":     "console.log(1)",
		"dist/_headers":   "/*\n  X-Frame-Options: DENY\n",
	})
	api := &fakeAPI{}
	log := &allLog{}
	d := deps(api)
	d.Log = log
	res, err := Run(context.Background(), uploadCfg(t, dir, nil), &ghevent.Context{}, d)
	require.NoError(t, err, log.text())
	assert.Empty(t, res.MainModule)
	assert.Equal(t, []string{"_headers text/plain"}, sentModules(api), "only _headers, attached as a module")
	assert.Equal(t, 2, res.Assets.Files, "index.html and app.js are assets, _headers is not")
	assert.Contains(t, string(api.lastInput.Assets), `"not_found_handling":"single-page-application"`)
	assert.Contains(t, log.text(), "assets-only Worker")
}

// Finding 10: configurations the action cannot upload fail before any request.
func TestRunRefusesWhatCannotBeUploaded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"Workers Sites", map[string]string{
			"wrangler.toml": "name = \"s\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2025-09-01\"\n[site]\nbucket = \"./public\"\n",
			"dist/index.js": workerJS,
		}, []string{"`site` (Workers Sites) cannot be uploaded", "assets"}},
		{"assets without a directory", map[string]string{
			"wrangler.jsonc": `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01","assets":{"not_found_handling":"404-page"}}`,
			"dist/index.js":  workerJS,
		}, []string{"`assets.directory` is not", "assets-directory"}},
		{"_worker.js published as an asset", map[string]string{
			"wrangler.jsonc":             `{"name":"s","main":"src/worker.js","compatibility_date":"2025-09-01","assets":{"directory":"public"}}`,
			"src/worker.js":              workerJS,
			"public/_worker.js/index.js": workerJS,
			"public/index.html":          "<p>",
		}, []string{"_worker.js", ".assetsignore", "expose server-side code"}},
		{"static import of a missing module", map[string]string{
			"wrangler.jsonc": `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01"}`,
			"dist/index.js":  "import { a } from './chunk.js';\n" + workerJS,
		}, []string{`module "index.js" imports "./chunk.js"`, "no such module is uploaded"}},
		{"static import of a package", map[string]string{
			"wrangler.jsonc": `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01"}`,
			"dist/index.js":  "import { Hono } from 'hono';\n" + workerJS,
		}, []string{`imports the package "hono"`, "npx wrangler deploy --dry-run --outdir dist"}},
		{"a source entry without a build", map[string]string{
			"wrangler.jsonc": `{"name":"s","main":"src/index.ts","compatibility_date":"2025-09-01"}`,
			"src/index.ts":   "export default {}",
		}, []string{`"src/index.ts" is a source file`, "npx wrangler deploy --dry-run --outdir dist"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{}
			_, err := Run(context.Background(), uploadCfg(t, writeProject(t, tt.files), nil), &ghevent.Context{}, deps(api))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, api.calls, "no request before the error")
		})
	}
}

// Finding 6: bundling is needed is recognisable for a caller that can bundle.
func TestRunBundleNeededIsClassified(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{
		"wrangler.jsonc": `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01","compatibility_flags":["nodejs_compat"]}`,
		"dist/index.js":  "import { Buffer } from 'buffer';\nimport x from 'left-pad';\n" + workerJS,
	})
	_, err := Run(context.Background(), uploadCfg(t, dir, nil), &ghevent.Context{}, deps(&fakeAPI{}))
	var bn *bundle.BundleNeededError
	require.ErrorAs(t, err, &bn)
	assert.Equal(t, "left-pad", bn.Specifier, "buffer is a Node built-in under nodejs_compat")
	assert.Equal(t, "dist/index.js", bn.Entry)
}

// Finding 7: source maps follow upload-source-maps (input over configuration).
func TestRunSourceMapsOnRequest(t *testing.T) {
	t.Parallel()
	files := map[string]string{"dist/index.js": workerJS, "dist/index.js.map": "{}"}
	for _, tt := range []struct {
		name   string
		config string
		input  *bool
		want   bool
	}{
		{"default", `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01"}`, nil, false},
		{"configuration", `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01","upload_source_maps":true}`, nil, true},
		{"input over configuration", `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01","upload_source_maps":true}`, new(bool), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := map[string]string{"wrangler.jsonc": tt.config}
			for k, v := range files {
				fs[k] = v
			}
			api := &fakeAPI{}
			_, err := Run(context.Background(), uploadCfg(t, writeProject(t, fs), func(c *inputs.Config) { c.UploadSourceMaps = tt.input }), &ghevent.Context{}, deps(api))
			require.NoError(t, err)
			assert.Equal(t, tt.want, strings.Contains(strings.Join(sentModules(api), ","), "index.js.map application/source-map"))
		})
	}
}

// Finding 8: the assets are in the dry-run plan (found, skipped by .assetsignore).
func TestDryRunPlanListsAssets(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{
		"wrangler.jsonc":       `{"name":"s","main":"dist/index.js","compatibility_date":"2025-09-01","assets":{"directory":"public"}}`,
		"dist/index.js":        workerJS,
		"public/a.css":         "a{}",
		"public/b.txt":         "b",
		"public/secret.env":    "x",
		"public/.assetsignore": "*.env\n",
	})
	log := &allLog{}
	d := deps(&fakeAPI{})
	d.Log = log
	res, err := Run(context.Background(), uploadCfg(t, dir, func(c *inputs.Config) { c.DryRun = true }), &ghevent.Context{}, d)
	require.NoError(t, err)
	require.NotNil(t, res.Assets)
	assert.Equal(t, AssetsReport{Directory: "public", Files: 2, Bytes: 4, Ignored: 1, Uploaded: -1}, *res.Assets)
	assert.Contains(t, log.text(), "info: Assets: 2 files, 4 B, found in public/; 1 skipped by .assetsignore")
	assert.Contains(t, log.text(), "with 2 static asset files")
}
