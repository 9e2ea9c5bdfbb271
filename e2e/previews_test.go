package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// maxPreviewRequests is the budget of Cloudflare requests per pull-request commit in
// previews mode (BENCHMARKS.md).
const maxPreviewRequests = 5

const previewSecret = "preview-s3cret-VALUE-42"

// previewsConfig has production vars and a KV binding at the top level and its own vars in
// the previews block, which Previews must use alone.
const previewsConfig = `{
  "name": "shop",
  "compatibility_date": "2025-09-01",
  "vars": {"STAGE": "production", "PROD_ONLY": "yes"},
  "kv_namespaces": [{"binding": "CACHE", "id": "0123456789abcdef0123456789abcdef"}],
  "previews": {"vars": {"STAGE": "preview"}, "compatibility_flags": ["nodejs_compat"]}
}`

// previewsWorkspace is an emulator, a GitHub stand-in and the esm-multi Worker configured by
// config (a wrangler.jsonc).
func previewsWorkspace(t *testing.T, config string) (*cloudflare, *fakeGitHub, string) {
	t.Helper()
	ws := workspace(t, "esm-multi")
	write(t, ws, "wrangler.jsonc", []byte(config))
	return newCloudflare(t), newFakeGitHub(t), ws
}

// prPayload copies a real pull_request payload from testdata/events and changes the head
// commit and, for a fork, the head repository.
func prPayload(t *testing.T, fixture, headSHA, headRepo string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "events", fixture))
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(data, &ev))
	pr := ev["pull_request"].(map[string]any)
	head := pr["head"].(map[string]any)
	head["sha"] = headSHA
	if headRepo != "" {
		head["repo"].(map[string]any)["full_name"] = headRepo
		head["repo"].(map[string]any)["fork"] = true
	}
	out, err := json.Marshal(ev)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), fixture)
	require.NoError(t, os.WriteFile(p, out, 0o644))
	return p
}

// previewRun runs one pull_request event in previews mode and returns the run with the
// Cloudflare requests it made.
func previewRun(t *testing.T, cf *cloudflare, gh *fakeGitHub, ws, payload string, inputs map[string]string) (*run, []emulator.RequestRecord) {
	t.Helper()
	in := map[string]string{"secrets": "API_KEY", "comment": "false"}
	for k, v := range inputs {
		in[k] = v
	}
	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", in)
	j.Payload = payload
	j.Env["API_KEY"] = previewSecret
	cf.ResetRequests()
	r := j.exec(t, ctxFor(t))
	assertNothingLeaked(t, gh, r)
	for _, l := range strings.Split(r.Stdout, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") { // masking it is how it stays out of the log
			assert.NotContains(t, l, previewSecret)
		}
	}
	assert.NotContains(t, r.Summary, previewSecret)
	for k, v := range r.Outputs {
		assert.NotContains(t, v, previewSecret, k)
	}
	return r, cf.Requests()
}

func bindingsByName(bs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, b := range bs {
		out[b["name"].(string)] = b
	}
	return out
}

// TestPreviewsPullRequestLifecycle follows one pull request through opened, a rerun,
// synchronize, closed (twice) and reopened, with real payloads.
func TestPreviewsPullRequestLifecycle(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	shaA, shaB := strings.Repeat("a", 40), strings.Repeat("b", 40)

	// opened: the Preview pr-2 is created with its first deployment.
	r, reqs := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", shaA, ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.LessOrEqual(t, len(reqs), maxPreviewRequests, "requests on the first commit: %v", reqs)
	t.Logf("requests, first commit: %d", len(reqs))
	previews := cf.Previews("shop")
	require.Len(t, previews, 1)
	p := previews[0]
	assert.Equal(t, "pr-2", p.Name)
	require.Len(t, p.Deployments, 1)
	d := p.Deployments[0]
	assert.Equal(t, p.ID, r.Outputs["preview-id"])
	assert.Equal(t, d.ID, r.Outputs["preview-deployment-id"])
	assert.Equal(t, "https://pr-2-shop.acme.workers.dev", r.Outputs["preview-url"])
	assert.Equal(t, "https://"+d.ID[:8]+"-pr-2-shop.acme.workers.dev", r.Outputs["commit-url"])
	assert.Empty(t, r.Outputs["version-id"])
	// The previews block's vars, not the top level's; the secret; the CI annotations.
	bs := bindingsByName(d.Bindings)
	assert.Equal(t, "preview", bs["STAGE"]["text"])
	assert.NotContains(t, bs, "PROD_ONLY")
	assert.NotContains(t, bs, "CACHE")
	assert.Equal(t, previewSecret, bs["API_KEY"]["text"])
	assert.Equal(t, "secret_text", bs["API_KEY"]["type"])
	assert.Equal(t, []string{"nodejs_compat"}, d.CompatibilityFlags)
	assert.Equal(t, shaA, d.Annotations["workers/commit_sha"])
	assert.Equal(t, "2", d.Annotations["workers/pull_request_number"])
	assert.Equal(t, "https://github.com/Codertocat/Hello-World/pull/2", d.Annotations["workers/pull_request_url"])
	assert.Equal(t, "https://github.com/octo/shop", d.Annotations["workers/repository_url"])
	assert.NotEmpty(t, d.Annotations["workers/pull_request_title"])
	assert.Equal(t, shaA, d.Annotations["workers/tag"])

	// A rerun of the same commit reuses the deployment.
	r, reqs = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", shaA, ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.LessOrEqual(t, len(reqs), maxPreviewRequests, "requests on a rerun: %v", reqs)
	t.Logf("requests, rerun: %d", len(reqs))
	assert.Equal(t, d.ID, r.Outputs["preview-deployment-id"])
	assert.Len(t, cf.Previews("shop")[0].Deployments, 1)

	// synchronize: a new commit, a new deployment on the same Preview.
	r, reqs = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.22.synchronize.json", shaB, ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.LessOrEqual(t, len(reqs), maxPreviewRequests, "requests on a new commit: %v", reqs)
	t.Logf("requests, next commit: %d", len(reqs))
	previews = cf.Previews("shop")
	require.Len(t, previews, 1, "one Preview per pull request")
	require.Len(t, previews[0].Deployments, 2, "one deployment per commit")
	assert.Equal(t, previews[0].Deployments[1].ID, r.Outputs["preview-deployment-id"])
	assert.Equal(t, "https://pr-2-shop.acme.workers.dev", r.Outputs["preview-url"], "the Preview URL is stable")

	// No production version or deployment was touched by any of these runs.
	assert.Empty(t, cf.Versions("shop"))
	assert.Empty(t, cf.Deployments("shop"))

	// closed deletes the Preview; a second closed finds none and is fine.
	for i := range 2 {
		r, reqs = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.03.closed.json", shaB, ""), nil)
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.Empty(t, cf.Previews("shop"))
		assert.LessOrEqual(t, len(reqs), 2, "closed #%d: %v", i+1, reqs)
		t.Logf("requests, closed #%d: %d", i+1, len(reqs))
	}
	assert.Contains(t, r.Stdout, "nothing to delete")

	// reopened: a fresh Preview.
	r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.18.reopened.json", shaB, ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	require.Len(t, cf.Previews("shop"), 1)
	assert.NotEqual(t, p.ID, r.Outputs["preview-id"])
	assert.Empty(t, cf.Versions("shop"))
}

// TestPreviewsFromFork: a pull request from a fork gets its Preview like any other (the
// workflow decides whether a fork's run has the token).
func TestPreviewsFromFork(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.12.opened.json", strings.Repeat("c", 40), "someone/Hello-World"), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	require.Len(t, cf.Previews("shop"), 1)
	assert.Equal(t, strings.Repeat("c", 40), cf.Previews("shop")[0].Deployments[0].Annotations["workers/commit_sha"])
	assert.Empty(t, cf.Versions("shop"))
}

func TestPreviewsModeChoice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		config       string
		inputs       map[string]string
		wantPreviews bool
	}{
		{name: "auto with a previews block", config: previewsConfig, wantPreviews: true},
		{name: "auto without a previews block", config: `{"name":"shop","compatibility_date":"2025-09-01"}`},
		{name: "previews without a block", config: `{"name":"shop","compatibility_date":"2025-09-01","vars":{"PROD_ONLY":"x"}}`, inputs: map[string]string{"preview": "previews"}, wantPreviews: true},
		{name: "versions despite a block", config: previewsConfig, inputs: map[string]string{"preview": "versions"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf, gh, ws := previewsWorkspace(t, tc.config)
			r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("d", 40), ""), tc.inputs)
			require.Equal(t, 0, r.Code, r.Stdout)
			if tc.wantPreviews {
				assert.Len(t, cf.Previews("shop"), 1)
				assert.Empty(t, cf.Versions("shop"))
				assert.NotEmpty(t, r.Outputs["preview-deployment-id"])
				for _, b := range cf.Previews("shop")[0].Deployments[0].Bindings {
					assert.NotEqual(t, "PROD_ONLY", b["name"], "a Preview never takes the top level's vars")
				}
			} else {
				assert.Empty(t, cf.Previews("shop"))
				assert.Len(t, cf.Versions("shop"), 1)
				assert.Equal(t, r.Outputs["preview-url"], r.Outputs["commit-url"])
				assert.Empty(t, r.Outputs["preview-id"])
			}
		})
	}
}

// TestPreviewNameOnPush maintains a branch Preview from a push, without a production version.
func TestPreviewNameOnPush(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	write(t, ws, "wrangler.jsonc", []byte(previewsConfig))
	r := pushJob(t, cf, ws, map[string]string{"preview-name": "feature/login"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	ps := cf.Previews("shop")
	require.Len(t, ps, 1)
	assert.Equal(t, "feature/login", ps[0].Name)
	assert.Equal(t, "https://feature-login-shop.acme.workers.dev", r.Outputs["preview-url"])
	assert.Empty(t, cf.Versions("shop"))

	r = pushJob(t, cf, ws, map[string]string{"preview-name": "feature/login", "deploy": "true"}).exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, strings.Join(r.errorTexts(), "\n"), "preview-name")
}

// TestPreviewsRefuseLongWorkerNames: Cloudflare allows at most 54 characters for a Worker
// with Previews; the run stops before any write.
func TestPreviewsRefuseLongWorkerNames(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	long := strings.Repeat("s", 55)
	write(t, ws, "wrangler.jsonc", []byte(strings.Replace(previewsConfig, `"shop"`, `"`+long+`"`, 1)))
	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("e", 40), ""), map[string]string{"worker": ""})
	assert.Equal(t, 1, r.Code, r.Stdout)
	assert.Contains(t, strings.Join(r.errorTexts(), "\n"), "54")
	assert.Empty(t, cf.Writes())
}

// TestPreviewsStickyComment: the comment shows the Preview URL and this commit's URL, and is
// edited in place on the next commit, which lists the first one as earlier.
func TestPreviewsStickyComment(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	first, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), map[string]string{"comment": "true"})
	require.Equal(t, 0, first.Code, first.Stdout)
	second, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.22.synchronize.json", strings.Repeat("b", 40), ""), map[string]string{"comment": "true"})
	require.Equal(t, 0, second.Code, second.Stdout)
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1, "one sticky comment, edited in place")
	body := comments[0].Body
	assert.Contains(t, body, "<"+second.Outputs["preview-url"]+">")
	assert.Contains(t, body, "<"+second.Outputs["commit-url"]+">")
	assert.Contains(t, body, "<"+first.Outputs["commit-url"]+">", "the earlier deployment is listed")
	assert.Contains(t, body, "production traffic is unchanged")
	assert.NotContains(t, body, previewSecret)
	assert.Equal(t, first.Outputs["comment-url"], second.Outputs["comment-url"])
}

// TestPreviewsKeepSecrets: a commit that does not send a secret keeps the Preview's (inherit).
func TestPreviewsKeepSecrets(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.22.synchronize.json", strings.Repeat("b", 40), ""), map[string]string{"secrets": ""})
	require.Equal(t, 0, r.Code, r.Stdout)
	ds := cf.Previews("shop")[0].Deployments
	require.Len(t, ds, 2)
	bs := bindingsByName(ds[1].Bindings)
	assert.Equal(t, "secret_text", bs["API_KEY"]["type"], "carried from the Preview's latest deployment")
	assert.Equal(t, previewSecret, bs["API_KEY"]["text"])
	assert.Empty(t, cf.Versions("shop"))
}

// inOrder lists the requests as "METHOD path" in the order they were made, the account
// prefix cut.
func inOrder(reqs []emulator.RequestRecord) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		p := r.Path
		if i := strings.Index(p, "/workers/"); i >= 0 {
			p = p[i:]
		}
		out = append(out, r.Method+" "+p)
	}
	return out
}

// TestPreviewsRequestBudget: every pull-request commit in previews mode stays within 5
// Cloudflare requests, with the change summary against production included: a new
// Worker, a new pull request against a live production, a later commit, and a rerun.
// The exact sequences are pinned so that a new request shows up here.
func TestPreviewsRequestBudget(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	shaA, shaB, shaC := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	// want is called after the run: the paths hold IDs the run made.
	run := func(name, payload string, in map[string]string, budget int, want func() []string) *run {
		t.Helper()
		r, reqs := previewRun(t, cf, gh, ws, payload, in)
		require.Equal(t, 0, r.Code, "%s: %s", name, r.Stdout)
		got := inOrder(reqs)
		t.Logf("requests, %s: %d: %v", name, len(got), got)
		assert.LessOrEqual(t, len(got), budget, name)
		assert.Equal(t, want(), got, name)
		return r
	}

	// The Worker does not exist: the Preview's create says so, the Worker is created.
	r := run("new Worker", prPayload(t, "pull_request.00.opened.json", shaA, ""), nil, maxPreviewRequests, func() []string {
		return []string{
			"GET /workers/workers/shop/previews/pr-2",
			"POST /workers/workers/shop/previews",
			"POST /workers/workers",
			"POST /workers/workers/shop/previews",
			"POST /workers/workers/shop/previews/" + cf.Previews("shop")[0].ID + "/deployments",
		}
	})
	assert.Equal(t, cf.Workers()[0].ID, r.Outputs["worker-id"], "a Worker the run created has its ID")
	assert.Equal(t, "shop", r.Outputs["worker-name"])

	deployProduction(t, cf, ws)
	liveID := cf.Versions("shop")[0].ID

	// A new pull request against a live production: the summary reads production.
	r = run("new pull request, production live", prPayload(t, "pull_request.00.opened.json", shaA, ""), map[string]string{"preview-name": "pr-77"}, maxPreviewRequests, func() []string {
		return []string{
			"GET /workers/workers/shop/previews/pr-77",
			"POST /workers/workers/shop/previews",
			"POST /workers/workers/shop/previews/" + previewID(cf, "pr-77") + "/deployments",
			"GET /workers/scripts/shop/deployments",
			"GET /workers/workers/shop/versions/" + liveID,
		}
	})
	assert.Equal(t, liveID, parseRecord(t, r.Outputs["result"]).Changes.ProductionVersionID)
	assert.Empty(t, r.Outputs["worker-id"], "previews mode does not read the Worker")
	assert.Equal(t, "shop", r.Outputs["worker-name"])

	// A later commit of the first pull request.
	r = run("later commit, production live", prPayload(t, "pull_request.22.synchronize.json", shaB, ""), nil, maxPreviewRequests, func() []string {
		return []string{
			"GET /workers/workers/shop/previews/pr-2",
			"GET /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments",
			"POST /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments",
			"GET /workers/scripts/shop/deployments",
			"GET /workers/workers/shop/versions/" + liveID,
		}
	})
	assert.Contains(t, changeSummary(t, r.Summary), "Compared with version `")

	// A rerun of that commit: the POST becomes a read of the latest deployment.
	last := cf.Previews("shop")
	var latest string
	for _, p := range last {
		if p.Name == "pr-2" {
			latest = p.Deployments[len(p.Deployments)-1].ID
		}
	}
	r = run("rerun, production live", prPayload(t, "pull_request.22.synchronize.json", shaB, ""), nil, maxPreviewRequests, func() []string {
		return []string{
			"GET /workers/workers/shop/previews/pr-2",
			"GET /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments",
			"GET /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments/" + latest,
			"GET /workers/scripts/shop/deployments",
			"GET /workers/workers/shop/versions/" + liveID,
		}
	})
	assert.Equal(t, latest, r.Outputs["preview-deployment-id"])

	// The Worker given by its ID: it is read for its name (the production deployments
	// endpoint takes only names), one request over the budget (BENCHMARKS.md).
	r = run("Worker by ID, later commit", prPayload(t, "pull_request.22.synchronize.json", shaC, ""), map[string]string{"worker": cf.Workers()[0].ID}, maxPreviewRequests+1, func() []string {
		return []string{
			"GET /workers/workers/" + cf.Workers()[0].ID,
			"GET /workers/workers/shop/previews/pr-2",
			"GET /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments",
			"POST /workers/workers/shop/previews/" + previewID(cf, "pr-2") + "/deployments",
			"GET /workers/scripts/shop/deployments",
			"GET /workers/workers/" + cf.Workers()[0].ID + "/versions/" + liveID,
		}
	})
	assert.Equal(t, cf.Workers()[0].ID, r.Outputs["worker-id"])
}

// previewID is the ID of the Preview called name of the Worker shop.
func previewID(cf *cloudflare, name string) string {
	for _, p := range cf.Previews("shop") {
		if p.Name == name {
			return p.ID
		}
	}
	return "(no Preview " + name + ")"
}

// TestPreviewsWorkerNotRead: in previews mode the Worker is addressed by name and read only
// when creating the Preview fails, to tell a missing Worker from another refusal.
func TestPreviewsWorkerNotRead(t *testing.T) {
	t.Parallel()
	const previewsPath = "/accounts/*/workers/workers/*/previews"
	for _, tc := range []struct {
		name       string
		existing   bool              // the Worker is there before the run
		fault      *emulator.Fault   // on the Preview's create
		inputs     map[string]string // on top of previewRun's
		wantCode   int
		wantErr    string // in the log when wantCode != 0
		wantCalls  []string
		wantWorker bool // the Worker exists after the run
	}{
		{
			name: "missing Worker, create-worker false", inputs: map[string]string{"create-worker": "false"},
			wantCode: 1, wantErr: "`create-worker` is false",
			wantCalls: []string{"GET /workers/workers/shop/previews/pr-2", "POST /workers/workers/shop/previews"},
		},
		{
			name: "create refused (403), Worker there: the refusal is the error", existing: true,
			fault:    &emulator.Fault{Method: "POST", Path: previewsPath, Times: 1, Kind: emulator.FaultStatus, Status: 403},
			wantCode: 1, wantErr: "failed to create Preview \"pr-2\" of Worker shop", wantWorker: true,
			wantCalls: []string{"GET /workers/workers/shop/previews/pr-2", "POST /workers/workers/shop/previews", "GET /workers/workers/shop"},
		},
		{
			name:  "create refused (400), Worker missing: it is created and the create sent again",
			fault: &emulator.Fault{Method: "POST", Path: previewsPath, Times: 1, Kind: emulator.FaultStatus, Status: 400},
			wantCalls: []string{"GET /workers/workers/shop/previews/pr-2", "POST /workers/workers/shop/previews", "GET /workers/workers/shop",
				"POST /workers/workers", "POST /workers/workers/shop/previews", "POST /workers/workers/shop/previews/*/deployments"},
			wantWorker: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf, gh, ws := previewsWorkspace(t, previewsConfig)
			if tc.existing {
				j := pushJob(t, cf, ws, map[string]string{"tag": "base"})
				require.Equal(t, 0, j.exec(t, ctxFor(t)).Code)
			}
			if tc.fault != nil {
				cf.InjectFault(*tc.fault)
			}
			r, reqs := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), tc.inputs)
			require.Equal(t, tc.wantCode, r.Code, r.Stdout)
			if tc.wantErr != "" {
				assert.Contains(t, r.Stdout, tc.wantErr)
			}
			got := inOrder(reqs)
			for i, g := range got { // the deployment's path holds the new Preview's ID
				if strings.HasSuffix(g, "/deployments") && strings.HasPrefix(g, "POST /workers/workers/shop/previews/") {
					got[i] = "POST /workers/workers/shop/previews/*/deployments"
				}
			}
			assert.Equal(t, tc.wantCalls, got)
			assert.Equal(t, tc.wantWorker, len(cf.Workers()) == 1)
			rec := parseRecord(t, r.Outputs["result"])
			require.NotNil(t, rec.Worker)
			assert.Equal(t, tc.wantWorker, rec.Worker.Exists, "the record says whether the Worker exists")
			if tc.wantWorker {
				assert.Equal(t, cf.Workers()[0].ID, rec.Worker.ID, "the Worker was read or created: its ID is known")
			}
			if tc.wantCode == 0 {
				require.Len(t, cf.Previews("shop"), 1)
				assert.Len(t, cf.Previews("shop")[0].Deployments, 1)
				assert.Equal(t, cf.Workers()[0].ID, r.Outputs["worker-id"])
			}
			assert.Empty(t, cf.Deployments("shop"), "no production deployment")
		})
	}
}

// TestPreviewsDurableObjectMigrations: a Preview implements its own Durable Object
// namespaces, so its deployments carry the configuration's migrations after the tag the
// Preview's latest deployment left: all of them first, none while nothing changed, the new
// step when one is added. Production is not touched.
func TestPreviewsDurableObjectMigrations(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	config := func(migrations string) []byte {
		return []byte(`{
  "name": "shop",
  "compatibility_date": "2025-09-01",
  "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]},
  "migrations": [` + migrations + `],
  "previews": {"durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]}}
}`)
	}
	const v1 = `{"tag": "v1", "new_sqlite_classes": ["Counter"]}`
	const v2 = `{"tag": "v2", "new_sqlite_classes": ["Room"]}`
	latest := func() emulator.PreviewDeploymentState {
		t.Helper()
		ps := cf.Previews("shop")
		require.Len(t, ps, 1)
		return ps[0].Deployments[len(ps[0].Deployments)-1]
	}
	commit := func(sha string) *run {
		t.Helper()
		r, reqs := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.22.synchronize.json", sha, ""), nil)
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.LessOrEqual(t, len(reqs), maxPreviewRequests)
		assert.NotContains(t, r.Stdout, "Preview deployments do not get", "the previews block has the top level's binding")
		return r
	}

	write(t, ws, "wrangler.jsonc", config(v1))
	commit(strings.Repeat("a", 40))
	d := latest()
	assert.JSONEq(t, `{"new_tag": "v1", "steps": [{"new_sqlite_classes": ["Counter"]}]}`, string(d.Migrations), "the first deployment gets every migration")
	assert.Equal(t, "v1", d.MigrationTag)
	assert.Equal(t, "durable_object_namespace", bindingsByName(d.Bindings)["COUNTER"]["type"])

	commit(strings.Repeat("b", 40))
	d = latest()
	assert.Empty(t, d.Migrations, "nothing new to migrate")
	assert.Equal(t, "v1", d.MigrationTag)

	write(t, ws, "wrangler.jsonc", config(v1+", "+v2))
	commit(strings.Repeat("c", 40))
	d = latest()
	assert.JSONEq(t, `{"old_tag": "v1", "new_tag": "v2", "steps": [{"new_sqlite_classes": ["Room"]}]}`, string(d.Migrations), "only the step after the Preview's tag")
	assert.Equal(t, "v2", d.MigrationTag)

	assert.Empty(t, cf.Versions("shop"), "no production version")
	assert.Empty(t, cf.Deployments("shop"), "no production deployment")
}

// TestPreviewsMissingBindingsWarning: top-level bindings that the previews block lacks are
// named in a warning (Previews do not inherit them), as wrangler warns.
func TestPreviewsMissingBindingsWarning(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	w := warnings(r)
	require.Len(t, w, 1, "%q", w)
	assert.Contains(t, w[0], "Preview deployments do not get: CACHE (kv_namespace), PROD_ONLY (plain_text).")
	assert.Contains(t, w[0], "add them under `previews` in wrangler.jsonc")
	assert.NotContains(t, w[0], "STAGE", "the previews block sets its own")
}

// TestPreviewsWorkerSettingsFallBack: limits, placement and cache come from the previews
// block when it sets them, else from the top level, also when the configuration has no
// previews block at all (previews mode chosen by the input).
func TestPreviewsWorkerSettingsFallBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config                   string
		inputs                         map[string]string
		limits, placement, cacheOption string
	}{
		{
			name:   "no previews block",
			config: `{"name": "shop", "compatibility_date": "2025-09-01", "limits": {"cpu_ms": 100}, "placement": {"mode": "smart"}, "cache": {"enabled": true}}`,
			inputs: map[string]string{"preview": "previews"},
			limits: `{"cpu_ms": 100}`, placement: `{"mode": "smart"}`, cacheOption: `{"enabled": true}`,
		},
		{
			name:   "the block's own",
			config: `{"name": "shop", "compatibility_date": "2025-09-01", "limits": {"cpu_ms": 100}, "cache": {"enabled": true}, "previews": {"limits": {"cpu_ms": 50}, "cache": {"enabled": false}}}`,
			limits: `{"cpu_ms": 50}`, cacheOption: `{"enabled": false}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf, gh, ws := previewsWorkspace(t, tc.config)
			r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), tc.inputs)
			require.Equal(t, 0, r.Code, r.Stdout)
			ps := cf.Previews("shop")
			require.Len(t, ps, 1)
			d := ps[0].Deployments[0]
			for what, pair := range map[string][2]string{"limits": {tc.limits, string(d.Limits)}, "placement": {tc.placement, string(d.Placement)}, "cache_options": {tc.cacheOption, string(d.CacheOptions)}} {
				if pair[0] == "" {
					assert.Empty(t, pair[1], what)
					continue
				}
				assert.JSONEq(t, pair[0], pair[1], what)
			}
		})
	}
}

// TestPreviewsKeysNotApplied: keys of the previews block that the action does not apply are
// named in a notice on a Preview run, and not on a production run.
func TestPreviewsKeysNotApplied(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, `{"name": "shop", "compatibility_date": "2025-09-01",
  "previews": {"vars": {"STAGE": "preview"}, "containers": [{"class_name": "C", "image": "./Dockerfile"}]}}`)
	const notice = "not applied to Preview deployments by workers-deploy: previews.containers"
	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", strings.Repeat("a", 40), ""), nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Contains(t, r.Stdout, notice)
	r = pushJob(t, cf, ws, map[string]string{"tag": "prod"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.NotContains(t, r.Stdout, notice)
}
