package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// wantModules are the esm-multi fixture's modules and their content types (its
// index.mjs.map is left out: source maps are uploaded only with upload-source-maps).
var wantModules = map[string]string{
	"index.mjs":    "application/javascript+module",
	"lib/util.mjs": "application/javascript+module",
	"legacy.cjs":   "application/javascript",
	"add.wasm":     "application/wasm",
	"greeting.txt": "text/plain",
}

func TestPushCreatesWorkerAndOneVersion(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, r.errors())

	workers := cf.Workers()
	require.Len(t, workers, 1)
	assert.Equal(t, "shop", workers[0].Name)
	versions := cf.Versions("shop")
	require.Len(t, versions, 1)
	v := versions[0]
	assert.Equal(t, pushSHA, v.Annotations["workers/tag"])
	assert.Equal(t, "index.mjs", v.MainModule)
	got := map[string]string{}
	for _, m := range v.Modules {
		got[m.Name] = m.ContentType
		onDisk, err := os.ReadFile(filepath.Join(ws, "dist", filepath.FromSlash(m.Name)))
		require.NoError(t, err)
		assert.Equal(t, onDisk, m.Content, "bytes of %s", m.Name)
	}
	assert.Equal(t, wantModules, got)
	assert.Empty(t, cf.Deployments("shop"), "creating a version must not deploy it")

	assert.Equal(t, workers[0].ID, r.Outputs["worker-id"])
	assert.Equal(t, "shop", r.Outputs["worker-name"])
	assert.Equal(t, v.ID, r.Outputs["version-id"])
	assert.Equal(t, "1", r.Outputs["version-number"])
	assert.Equal(t, "false", r.Outputs["version-reused"])
	assert.Equal(t, "https://"+v.ID[:8]+"-shop.acme.workers.dev", r.Outputs["preview-url"])
	assert.Equal(t, "", r.Outputs["deployment-id"])
	assert.Equal(t, "0", r.Outputs["deployed-percentage"])
	assert.Contains(t, r.Summary, v.ID)
	assert.Contains(t, r.Summary, "`lib/util.mjs`")
	assertNoSecrets(t, r)

	// A rerun of the same commit reuses the version.
	cf.ResetRequests()
	r2 := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r2.Code, r2.Stdout)
	assert.Equal(t, "true", r2.Outputs["version-reused"])
	assert.Equal(t, v.ID, r2.Outputs["version-id"])
	assert.Len(t, cf.Versions("shop"), 1)
	assert.Empty(t, cf.Writes(), "a rerun writes nothing")
}

func TestChangedContentUnderSameTagFailsWithoutWriting(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	require.Equal(t, 0, pushJob(t, cf, ws, nil).exec(t, ctxFor(t)).Code)

	require.NoError(t, os.WriteFile(filepath.Join(ws, "dist", "greeting.txt"), []byte("changed\n"), 0o644))
	cf.ResetRequests()
	r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errors()[0], "already exists with different content")
	assert.Contains(t, r.errors()[0], "`tag`")
	assert.Empty(t, cf.Writes())
	assert.Len(t, cf.Versions("shop"), 1)
}

func TestDeployMakesOne100PercentDeployment(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	// First version, deployed: the baseline.
	first := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "v1"}).exec(t, ctxFor(t))
	require.Equal(t, 0, first.Code, first.Stdout)
	require.Len(t, cf.Deployments("shop"), 1)

	// Upload and deploy to an existing Worker: count the requests.
	require.NoError(t, os.WriteFile(filepath.Join(ws, "dist", "greeting.txt"), []byte("v2\n"), 0o644))
	cf.ResetRequests()
	r := pushJob(t, cf, ws, map[string]string{"deploy": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)

	deps := cf.Deployments("shop")
	require.Len(t, deps, 2)
	live := deps[len(deps)-1] // creation order: the last is live
	require.Len(t, live.Versions, 1)
	assert.Equal(t, r.Outputs["version-id"], live.Versions[0].VersionID)
	assert.Equal(t, float64(100), live.Versions[0].Percentage)
	assert.Equal(t, live.ID, r.Outputs["deployment-id"])
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])
	assert.Equal(t, first.Outputs["version-id"], r.Outputs["previous-version-id"])

	reqs := cf.Requests()
	// 6: the live deployment is read before the upload (keep-secrets, the
	// baseline) and again right before the write, so that a deployment made
	// during the upload is not overwritten; the live version's secrets come
	// from the tag lookup's listing, so it is not read on its own.
	assert.LessOrEqual(t, len(reqs), 6, "upload + 100%% deploy to an existing Worker: %v", describe(reqs))
	t.Logf("requests for upload + deploy: %d: %v", len(reqs), describe(reqs))
}

func TestLostResponseAfterCreateDoesNotDuplicate(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	cf.InjectFault(emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Times: 1, Kind: emulator.FaultLostResponse})
	r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	versions := cf.Versions("shop")
	require.Len(t, versions, 1, "the version create applied once; the retry must find it by tag")
	assert.Equal(t, versions[0].ID, r.Outputs["version-id"])
	var lost, creates int
	for _, q := range cf.Requests() {
		if q.Method == "POST" && strings.HasSuffix(q.Path, "/versions") {
			creates++
			if q.Fault != "" {
				lost++
			}
		}
	}
	assert.Equal(t, 1, lost, "the fault fired")
	assert.Equal(t, 1, creates, "the create was not re-sent after the lookup found it")
}

func TestLocalModeCompletes(t *testing.T) {
	t.Parallel()
	ws := workspace(t, "esm-multi")
	r := job{Workspace: ws, Outside: true, Args: []string{
		"--api-url", "local", "--worker", "hello", "--compatibility-date", "2025-09-01", "--deploy",
	}}.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Contains(t, r.Stdout, "embedded Cloudflare API emulator")
	assert.Contains(t, r.Stdout, "Deployed version")
	assert.Contains(t, r.Stdout, "version-id=")
	assert.Contains(t, r.Stdout, "deployed-percentage=100")
	assert.NotContains(t, r.Stdout, "::add-mask::", "outside Actions nothing masks: never print secrets there")
	assert.NotContains(t, r.Stdout, "::", "outside Actions the log is plain text, not workflow commands")
	assert.Contains(t, r.Stdout, "notice: no commit SHA")
}

func describe(reqs []emulator.RequestRecord) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

// TestPreviewRequestCount: a pull-request run (no deploy) against an existing,
// deployed Worker makes at most 5 Cloudflare requests.
func TestPreviewRequestCount(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	require.Equal(t, 0, pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "base"}).exec(t, ctxFor(t)).Code)

	require.NoError(t, os.WriteFile(filepath.Join(ws, "dist", "greeting.txt"), []byte("pr\n"), 0o644))
	cf.ResetRequests()
	j := pushJob(t, cf, ws, map[string]string{"comment": "false"})
	j.Event = "pull_request"
	j.Payload = filepath.Join(mustAbs(t, "../testdata/events"), "pull_request.22.synchronize.json")
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	reqs := cf.Requests()
	assert.LessOrEqual(t, len(reqs), 5, "PR preview run: %v", describe(reqs))
	t.Logf("requests for a PR preview run: %d: %v", len(reqs), describe(reqs))
}
