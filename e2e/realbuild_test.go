package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// realBuildsEnv turns on TestRealBuilds. It needs npm and the package registry, and takes
// minutes, so the ordinary test run skips it; .ci/run sets it in a step of its own.
const realBuildsEnv = "WORKERS_DEPLOY_REAL_BUILDS"

// realBuildsKeepEnv, when set to a directory, keeps each project's built tree, the modules the
// emulator stored and wrangler's dry-run output there, for inspection.
const realBuildsKeepEnv = "WORKERS_DEPLOY_REAL_BUILDS_KEEP"

// realOutcome is what a real framework project must do with natural inputs.
type realOutcome int

const (
	// realStarts: the action deploys it, and what the emulator stored starts in workerd and
	// answers GET / with 200 and the marker.
	realStarts realOutcome = iota
	// realRefused: the action fails before any write, with advice matching the row's advice.
	realRefused
)

func (o realOutcome) String() string {
	if o == realStarts {
		return "deploys and starts"
	}
	return "refused before any write"
}

// realBuild is one project under testdata/real: a framework's minimal starter with pinned
// package.json and package-lock.json, built with the framework's own command.
type realBuild struct {
	dir    string   // folder under testdata/real
	worker string   // the Worker name in its wrangler configuration
	build  []string // the build command; nil when the project deploys from source
	want   realOutcome
	// marker is a text the page at path (default /) contains (realStarts).
	marker string
	path   string
	exact  bool // the body is marker, not only contains it
	// previewMarker replaces marker for the pull request's Preview deployment, and
	// previewWarns is a text its warnings must contain: top-level bindings and vars the
	// configuration has no `previews` block for are not inherited (the action says so).
	previewMarker, previewWarns string
	// sameModules: the uploaded module set must equal wrangler's dry run's (otherwise the
	// difference is only logged: unbundled framework output is uploaded as it is).
	sameModules bool
	// advice matches the error a refused run prints (realRefused).
	advice *regexp.Regexp
	// knownIssue, when set, says why the page of the unbundled upload lacks the marker
	// although workerd starts it and answers 200; the project is then deployed a second time
	// with `bundle: true`, and that upload must show the marker.
	knownIssue string
}

// realBuilds holds one row per framework: want says what the action must do with it. Hono
// (main: src/index.ts), SvelteKit (its entry imports ../output/server) and OpenNext (worker.js
// pulls in 1000 files of node_modules/next) need bundling: with bundle: auto the action bundles
// them in process; set want to realRefused to check the refusal and its advice instead (as
// with bundle: false).
var realBuilds = []realBuild{
	{dir: "hono", worker: "hono-app", want: realStarts, marker: "Hello Hono!", advice: regexp.MustCompile(`(?i)bundl`)},
	// Astro tells Node.js by `process`'s type tag; bundle: auto bundles its built entry as
	// wrangler would, so that it sees unenv's polyfill instead of workerd's own `process`.
	{dir: "astro", worker: "astro-app", build: []string{"npx", "astro", "build"}, want: realStarts, marker: "<h1>Astro</h1>"},
	{dir: "nuxt", worker: "nuxt-app", build: []string{"npx", "nuxt", "build"}, want: realStarts, marker: "Nuxt on Workers"},
	{dir: "react-router", worker: "react-router-app", build: []string{"npx", "react-router", "build"}, want: realStarts, marker: "Hello from Cloudflare",
		previewMarker: "Welcome to React Router", previewWarns: "VALUE_FROM_CLOUDFLARE (plain_text)"},
	{dir: "sveltekit", worker: "sveltekit-app", build: []string{"npx", "vite", "build"}, want: realStarts, marker: "Welcome to SvelteKit", advice: regexp.MustCompile(`(?i)bundl`)},
	{dir: "nextjs", worker: "nextjs-app", build: []string{"npx", "opennextjs-cloudflare", "build"}, want: realStarts, marker: "Next.js on Workers", advice: regexp.MustCompile(`(?i)bundl`)},
	// Workers with no build of their own, bundled from source (also measured by
	// bench/bundle-vs-wrangler.sh): a Hono app importing a .wasm and a .txt file, Node.js
	// built-ins under nodejs_compat with unenv's polyfills, a Durable Object class.
	{dir: "hono-ts", worker: "bench-hono-ts", want: realStarts, path: "/add/2/40", marker: `{"sum":42}`, sameModules: true},
	{dir: "node-ts", worker: "bench-node-ts", want: realStarts, marker: `"digest":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","seen":"emitted"`, sameModules: true},
	{dir: "durable-object", worker: "bench-durable-object", want: realStarts, marker: "1", exact: true, sameModules: true},
}

// TestRealBuilds builds each framework's starter from its lockfile, runs the action on it with
// only the inputs a user would set, and starts what the emulator stored in workerd through
// Miniflare. A version the emulator accepts but workerd cannot start fails the test. It also
// logs how the uploaded module set differs from what wrangler's dry run would upload.
func TestRealBuilds(t *testing.T) {
	if os.Getenv(realBuildsEnv) == "" {
		t.Skipf("set %s=1 to build the real framework projects with npm (minutes, needs the npm registry)", realBuildsEnv)
	}
	for _, tool := range []string{"node", "npm", "npx"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s=1 needs %s on PATH", realBuildsEnv, tool)
	}
	keep := os.Getenv(realBuildsKeepEnv)
	// One npm cache for this run only: nothing is reused from an earlier run.
	npmEnv := append(os.Environ(),
		"npm_config_cache="+t.TempDir(), "npm_config_update_notifier=false",
		"npm_config_audit=false", "npm_config_fund=false",
		"CI=true", "WRANGLER_SEND_METRICS=false", "NEXT_TELEMETRY_DISABLED=1",
		"NUXT_TELEMETRY_DISABLED=1", "ASTRO_TELEMETRY_DISABLED=1", "DO_NOT_TRACK=1",
	)

	starter := filepath.Join(t.TempDir(), "realbuild")
	copyTree(t, "realbuild", starter)
	timed(t, "miniflare: npm ci", func() { npm(t, starter, npmEnv, "ci", "--ignore-scripts") })

	defaults := actionDefaults(t)
	for _, rb := range realBuilds {
		t.Run(rb.dir, func(t *testing.T) {
			// The workspace holds the project in a folder, as a checkout of a repository whose
			// Worker is not at the root; the build runs where the action then reads it.
			ws := t.TempDir()
			proj := filepath.Join(ws, "project")
			copyTree(t, filepath.Join("..", "testdata", "real", rb.dir), proj)
			timed(t, "npm ci", func() { npm(t, proj, npmEnv, "ci", "--ignore-scripts") })
			if rb.build != nil {
				timed(t, strings.Join(rb.build, " "), func() { runIn(t, proj, npmEnv, 15*time.Minute, rb.build...) })
			}

			cf := newCloudflare(t)
			in := withInputs(defaults, map[string]string{
				"api-token": testToken, "account-id": testAccount, "api-url": cf.URL,
				"deploy": "true", "working-directory": "project",
			})
			j := job{
				Workspace: ws, Event: "push", SHA: pushSHA,
				Payload: filepath.Join(mustAbs(t, "../testdata/events"), "push.04.created.json"),
				Inputs:  in,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			r := j.exec(t, ctx)
			assertNoSecrets(t, r)
			t.Logf("action exit code %d; output:\n%s", r.Code, r.Stdout)

			// wrangler after the action, so its .wrangler/tmp cannot change what the action sees.
			var wranglerOut string
			timed(t, "wrangler deploy --dry-run", func() {
				wranglerOut = filepath.Join(t.TempDir(), "wrangler-out")
				runIn(t, proj, npmEnv, 5*time.Minute, "npx", "wrangler", "deploy", "--dry-run", "--outdir", wranglerOut)
			})
			versions := cf.Versions(rb.worker)
			if len(versions) > 0 {
				v := versions[len(versions)-1]
				compareWithWrangler(t, v.Modules, wranglerOut, rb.sameModules)
			}
			if keep != "" {
				dst := filepath.Join(keep, rb.dir)
				require.NoError(t, os.RemoveAll(dst))
				copyTree(t, wranglerOut, filepath.Join(dst, "wrangler-out"))
				if len(versions) > 0 {
					dumpVersion(t, cf, rb.worker, filepath.Join(dst, "stored"))
				}
			}

			switch rb.want {
			case realRefused:
				assert.NotZero(t, r.Code, "%s must be refused until the action bundles; it was deployed", rb.dir)
				assert.Empty(t, cf.Writes(), "%s: no write may happen before the refusal", rb.dir)
				assert.Empty(t, versions, "%s: no version may be stored", rb.dir)
				assert.True(t, slices.ContainsFunc(r.errorTexts(), rb.advice.MatchString),
					"%s: the error must name the step to add (%s); errors: %q", rb.dir, rb.advice, r.errorTexts())
			case realStarts:
				require.Zero(t, r.Code, "%s must deploy with natural inputs; errors: %q", rb.dir, r.errorTexts())
				require.NotEmpty(t, versions, "%s: no version stored", rb.dir)
				require.NotEmpty(t, cf.Deployments(rb.worker), "%s: deploy: true must create a deployment", rb.dir)
				dir := filepath.Join(t.TempDir(), "stored")
				dumpVersion(t, cf, rb.worker, dir)
				var res startResult
				timed(t, "workerd start and GET /", func() { res = startInWorkerd(t, starter, dir, rb.path, npmEnv) })
				for _, w := range res.Warnings {
					t.Logf("miniflare: %s", w)
				}
				require.True(t, res.Started, "%s: the emulator accepted the version but workerd cannot start it:\n%s", rb.dir, res.Error)
				assert.Equal(t, 200, res.Status, "%s: GET / in workerd; body:\n%s\nerror: %s", rb.dir, res.Body, res.Error)
				if rb.knownIssue == "" {
					checkBody(t, rb, res, "")
					checkPullRequestPreview(t, rb, cf, j, starter, npmEnv)
					return
				}
				if strings.Contains(res.Body, rb.marker) {
					t.Logf("%s: the known issue is gone (the unbundled upload shows the page): drop knownIssue from its row", rb.dir)
				} else {
					t.Logf("%s: known issue, the unbundled upload answers %q: %s", rb.dir, truncate(res.Body, 80), rb.knownIssue)
				}
				// The same build with bundle: true, as the README advises for this framework.
				j.Inputs = withInputs(in, map[string]string{"bundle": "true", "tag": "bundled"})
				rb2 := j.exec(t, ctx)
				require.Zero(t, rb2.Code, "%s with bundle: true must deploy; errors: %q", rb.dir, rb2.errorTexts())
				dir2 := filepath.Join(t.TempDir(), "stored-bundled")
				dumpVersion(t, cf, rb.worker, dir2)
				timed(t, "workerd start and GET / (bundle: true)", func() { res = startInWorkerd(t, starter, dir2, rb.path, npmEnv) })
				require.True(t, res.Started, "%s with bundle: true: workerd cannot start it:\n%s", rb.dir, res.Error)
				assert.Equal(t, 200, res.Status, "%s with bundle: true: GET /; body:\n%s", rb.dir, res.Body)
				assert.Contains(t, res.Body, rb.marker, "%s with bundle: true: GET / in workerd", rb.dir)
			}
		})
	}
}

// checkBody checks the page workerd answered against the row's marker.
func checkBody(t *testing.T, rb realBuild, res startResult, what string) {
	t.Helper()
	if rb.exact {
		assert.Equal(t, rb.marker, res.Body, "%s%s: GET %s in workerd", rb.dir, what, rb.path)
	} else {
		assert.Contains(t, res.Body, rb.marker, "%s%s: GET %s in workerd", rb.dir, what, rb.path)
	}
}

// checkPullRequestPreview runs the same project as a pull request in previews mode (a real
// pull_request payload, `preview: previews`, which a configuration's `previews` block would
// also select) and starts the Preview deployment the emulator stored in workerd: the Preview
// path uploads JSON rather than a multipart form, and its bindings come from the `previews`
// block, with the assets binding shared.
func checkPullRequestPreview(t *testing.T, rb realBuild, cf *cloudflare, j job, starter string, env []string) {
	t.Helper()
	pr := j
	pr.Event, pr.SHA = "pull_request", "1111111111111111111111111111111111111111"
	pr.Payload = filepath.Join(mustAbs(t, "../testdata/events"), "pull_request.00.opened.json")
	pr.Inputs = withInputs(j.Inputs, map[string]string{"deploy": "false", "preview": "previews", "comment": "false"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := pr.exec(t, ctx)
	require.Zero(t, r.Code, "%s as a pull request in previews mode; errors: %q\n%s", rb.dir, r.errorTexts(), r.Stdout)
	require.NotEmpty(t, r.Outputs["preview-deployment-id"], rb.dir)
	if rb.previewWarns != "" {
		assert.Contains(t, strings.Join(warnings(r), "\n"), rb.previewWarns, "%s: the warning names what the Preview lacks", rb.dir)
	}
	if rb.previewMarker != "" {
		rb.marker = rb.previewMarker
	}
	dir := filepath.Join(t.TempDir(), "preview")
	dumpPreviewDeployment(t, cf, rb.worker, dir)
	var res startResult
	timed(t, "workerd start and GET / (Preview deployment)", func() { res = startInWorkerd(t, starter, dir, rb.path, env) })
	require.True(t, res.Started, "%s: the emulator accepted the Preview deployment but workerd cannot start it:\n%s", rb.dir, res.Error)
	assert.Equal(t, 200, res.Status, "%s (Preview deployment): GET %s; body:\n%s\nerror: %s", rb.dir, rb.path, res.Body, res.Error)
	checkBody(t, rb, res, " (Preview deployment)")
}

// startResult is the line e2e/realbuild/start.mjs prints.
type startResult struct {
	Started  bool     `json:"started"`
	Status   int      `json:"status"`
	Body     string   `json:"body"`
	Error    string   `json:"error"`
	Warnings []string `json:"warnings"`
}

// startInWorkerd runs start.mjs on a dumped version and decodes its result line.
func startInWorkerd(t *testing.T, starter, dir, path string, env []string) startResult {
	t.Helper()
	if path == "" {
		path = "/"
	}
	out := runIn(t, starter, env, 2*time.Minute, "node", "start.mjs", dir, path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res startResult
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &res), "start.mjs output:\n%s", out)
	if !res.Started || res.Status != 200 {
		t.Logf("start.mjs output:\n%s", out)
	}
	return res
}

// dumpVersion writes the Worker's newest stored version to dir the way start.mjs reads it:
// version.json (entry, modules with content types, compatibility settings, bindings),
// modules/<name> and assets/<path> (rebuilt from the version's asset manifest).
func dumpVersion(t *testing.T, cf *cloudflare, worker, dir string) {
	t.Helper()
	versions := cf.Versions(worker)
	require.NotEmpty(t, versions)
	dumpCode(t, cf, worker, dir, versions[len(versions)-1])
}

// dumpPreviewDeployment writes the newest deployment of the Worker's only Preview to dir, as
// dumpVersion writes a version.
func dumpPreviewDeployment(t *testing.T, cf *cloudflare, worker, dir string) {
	t.Helper()
	previews := cf.Previews(worker)
	require.Len(t, previews, 1)
	ds := previews[0].Deployments
	require.NotEmpty(t, ds)
	dumpCode(t, cf, worker, dir, ds[len(ds)-1].VersionState)
}

func dumpCode(t *testing.T, cf *cloudflare, worker, dir string, v emulator.VersionState) {
	t.Helper()
	type mod struct {
		Name        string `json:"name"`
		ContentType string `json:"contentType"`
	}
	meta := struct {
		WorkerName         string           `json:"workerName"`
		MainModule         string           `json:"mainModule"`
		Modules            []mod            `json:"modules"`
		CompatibilityDate  string           `json:"compatibilityDate"`
		CompatibilityFlags []string         `json:"compatibilityFlags"`
		Bindings           []map[string]any `json:"bindings"`
		HasAssets          bool             `json:"hasAssets"`
		AssetConfig        json.RawMessage  `json:"assetConfig,omitempty"`
	}{WorkerName: worker, MainModule: v.MainModule, CompatibilityDate: v.CompatibilityDate,
		CompatibilityFlags: v.CompatibilityFlags, Bindings: v.Bindings,
		HasAssets: v.AssetManifest != nil, AssetConfig: v.AssetConfig}
	for _, m := range v.Modules {
		meta.Modules = append(meta.Modules, mod{m.Name, m.ContentType})
		write(t, filepath.Join(dir, "modules"), m.Name, m.Content)
	}
	contents := cf.Assets(worker)
	for p, hash := range v.AssetManifest {
		content, ok := contents[hash]
		require.True(t, ok, "asset %s (hash %s) is in the manifest but was never uploaded", p, hash)
		write(t, filepath.Join(dir, "assets"), strings.TrimPrefix(p, "/"), content)
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	require.NoError(t, err)
	write(t, dir, "version.json", b)
}

// compareWithWrangler logs how the stored module names differ from the files wrangler's
// dry run wrote (its module set; README.md is wrangler's own note, not a module), source maps
// and the _headers/_redirects asset rules aside. Bundling
// makes most sets differ by design (wrangler bundles Astro's and Nuxt's output into one
// file), so this reports and does not fail.
func compareWithWrangler(t *testing.T, stored []emulator.ModuleState, wranglerOut string, must bool) {
	t.Helper()
	var ours, theirs []string
	for _, m := range stored {
		// _headers and _redirects travel with the version as asset rules; wrangler's
		// --outdir does not write them.
		if !strings.HasSuffix(m.Name, ".map") && m.Name != "_headers" && m.Name != "_redirects" {
			ours = append(ours, m.Name)
		}
	}
	_ = filepath.WalkDir(wranglerOut, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(wranglerOut, p)
		// --outdir writes source maps whether or not wrangler would upload them
		// (upload_source_maps), so they are left out of both sides.
		if rel != "README.md" && !strings.HasSuffix(rel, ".map") {
			theirs = append(theirs, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(ours)
	slices.Sort(theirs)
	var onlyOurs, onlyTheirs []string
	for _, n := range ours {
		if !slices.Contains(theirs, n) {
			onlyOurs = append(onlyOurs, n)
		}
	}
	for _, n := range theirs {
		if !slices.Contains(ours, n) {
			onlyTheirs = append(onlyTheirs, n)
		}
	}
	if len(onlyOurs) == 0 && len(onlyTheirs) == 0 {
		t.Logf("wrangler parity: the same %d modules as wrangler's dry run", len(ours))
		return
	}
	report := t.Logf
	if must {
		report = t.Errorf
	}
	report("wrangler parity: %d modules uploaded, wrangler's dry run has %d; only ours: %s; only wrangler's: %s",
		len(ours), len(theirs), abbreviate(onlyOurs), abbreviate(onlyTheirs))
}

func abbreviate(names []string) string {
	if len(names) > 12 {
		return fmt.Sprintf("%s … (%d in all)", strings.Join(names[:12], ", "), len(names))
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// actionDefaults returns the default of every input in action.yml, as the runner fills them
// in when a workflow leaves an input out.
func actionDefaults(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "action.yml"))
	require.NoError(t, err)
	var meta struct {
		Inputs map[string]struct {
			Default *string `yaml:"default"`
		} `yaml:"inputs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &meta))
	out := map[string]string{}
	for name, in := range meta.Inputs {
		if in.Default == nil {
			continue
		}
		v := *in.Default
		if strings.Contains(v, "${{ github.token }}") {
			v = testGitHubToken
		}
		out[name] = v
	}
	return out
}

// withInputs returns a copy of base with over applied.
func withInputs(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// buildOutputs are the folders copyTree leaves out: dependencies and build products, so a
// local run after a manual build starts from the same tree as CI.
var buildOutputs = []string{"node_modules", "dist", "build", ".output", ".nuxt", ".svelte-kit",
	".react-router", ".astro", ".next", ".open-next", ".wrangler"}

// copyTree copies src to dst, leaving out buildOutputs.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	copyDir(t, src, dst, buildOutputs...)
}

// npm runs npm in dir.
func npm(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	runIn(t, dir, env, 15*time.Minute, append([]string{"npm"}, args...)...)
}

// runIn runs a command in dir and returns its combined output; a failure fails the test with
// the output's tail.
func runIn(t *testing.T, dir string, env []string, timeout time.Duration, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		s := out.String()
		if len(s) > 8000 {
			s = "…" + s[len(s)-8000:]
		}
		t.Fatalf("%s in %s: %v\n%s", strings.Join(argv, " "), path.Base(dir), err, s)
	}
	return out.String()
}

// timed runs f and logs how long it took.
func timed(t *testing.T, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	t.Logf("timing: %s: %s", what, time.Since(start).Round(100*time.Millisecond))
}

// truncate cuts s to n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
