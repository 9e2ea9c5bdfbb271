package e2e

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// matrixEnv is what one row of the fault matrix runs against.
type matrixEnv struct {
	cf *cloudflare
	gh *fakeGitHub
	ws string
}

// scenario prepares the state in which the API call under test happens, and
// says what a good run leaves behind.
type scenario struct {
	name string
	// worker is the Worker the run deploys.
	worker string
	// setup seeds state (before any fault is injected) and returns the job.
	setup func(t *testing.T, m *matrixEnv) job
	// tags must each name exactly one version afterwards, and no other tag may exist.
	tags []string
	// newDeployments is how many deployments the run under test creates.
	newDeployments int
	// github: the run reports to GitHub (sticky comment and GitHub Deployment).
	github bool
}

// Scenarios. The tag of the run under test is always pushSHA (push) or
// prHeadSHA (pull request), the defaults the action derives from the event.
var (
	// A push to a Worker that does not exist yet: worker get (404), worker
	// create, tag lookup, version create, deployments list, deployment create.
	scNewWorker = scenario{name: "new Worker", worker: "shop", tags: []string{pushSHA}, newDeployments: 1,
		setup: func(t *testing.T, m *matrixEnv) job {
			return pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true"})
		}}
	// A push to a Worker whose live version (tag "base") is deployed:
	// keep-secrets finds the live version's secrets in the tag lookup's listing.
	scExisting = scenario{name: "existing Worker", worker: "shop", tags: []string{"base", pushSHA}, newDeployments: 1,
		setup: func(t *testing.T, m *matrixEnv) job {
			seedBaseline(t, m.cf, m.ws)
			return pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true"})
		}}
	// A rerun: the version of this commit was uploaded (not deployed) by an
	// earlier attempt, so the run reuses it, reading it with include=modules.
	scRerun = scenario{name: "rerun", worker: "shop", tags: []string{pushSHA}, newDeployments: 1,
		setup: func(t *testing.T, m *matrixEnv) job {
			up := pushJob(t, m.cf, m.ws, nil).exec(t, ctxFor(t))
			require.Equal(t, 0, up.Code, up.Stdout)
			return pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true"})
		}}
	// A Worker with static assets (wrangler.json): upload session and upload.
	scAssets = scenario{name: "assets", worker: "shop", tags: []string{pushSHA}, newDeployments: 1,
		setup: func(t *testing.T, m *matrixEnv) job {
			write(t, m.ws, "wrangler.json", []byte(`{"name":"shop","assets":{"directory":"public","binding":"ASSETS"}}`))
			siteFiles(t, m.ws)
			return pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true", "worker": ""})
		}}
	// A two-stage rollout gated on the error rate: one GraphQL query at the
	// end of the 50% hold, with enough requests (1000 > min-requests 50).
	scGated = scenario{name: "error-rate gate", worker: "shop", tags: []string{"base", pushSHA}, newDeployments: 2,
		setup: func(t *testing.T, m *matrixEnv) job {
			seedBaseline(t, m.cf, m.ws)
			m.cf.SetInvocations("shop", emulator.AnyVersion, emulator.Invocations{Requests: 1000, Errors: 1})
			return pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true", "stages": "50%@500ms, 100%",
				"max-error-rate": "1%", "health-check-interval": "100ms"})
		}}
	// A pull request deployed at 100% with a GitHub Deployment and a new
	// sticky comment: list comments, create comment, create deployment,
	// create deployment status.
	scPR = scenario{name: "pull request", worker: "shop", tags: []string{prHeadSHA}, newDeployments: 1, github: true,
		setup: func(t *testing.T, m *matrixEnv) job {
			return prMatrixJob(t, m)
		}}
	// The same with the sticky comment already there: update comment.
	scPRUpdate = scenario{name: "pull request, comment exists", worker: "shop", tags: []string{prHeadSHA}, newDeployments: 1, github: true,
		setup: func(t *testing.T, m *matrixEnv) job {
			m.gh.addComment(prNumber, actionsBot, markerOf("shop")+"\nfrom an earlier run")
			return prMatrixJob(t, m)
		}}
)

func prMatrixJob(t *testing.T, m *matrixEnv) job {
	t.Helper()
	j := pushJob(t, m.cf, m.ws, map[string]string{"deploy": "true", "github-deployment": "true"})
	j.Event = "pull_request"
	j.SHA = "1111111111111111111111111111111111111111"
	j.Payload = filepath.Join(mustAbs(t, "../testdata/events"), "pull_request.22.synchronize.json")
	j.Env = map[string]string{"GITHUB_API_URL": m.gh.URL}
	return j
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	m := &matrixEnv{cf: newCloudflare(t), gh: newFakeGitHub(t), ws: workspace(t, "esm-multi")}
	return m
}

// matrixCall is one API call of the action and the scenario that makes it.
type matrixCall struct {
	name string
	// github: the call goes to GitHub (the GitHub fake), else to Cloudflare.
	github       bool
	method, path string // fault pattern ("*" one segment)
	// query, when set, must be in the faulted request's query; "-" means the
	// query must not contain include=modules (the live-version read).
	query string
	// read: a lost response is the same as a reset, so that column is not run.
	read bool
	// noEmpty: the empty-answer column does not apply (GitHub, whose garbled
	// answers have their own tests; GraphQL, not a v4 envelope; an asset
	// bucket upload, whose answer may rightly have no token).
	noEmpty bool
	sc      scenario
	// lookup is the GET (fault pattern) by which the action resolves an
	// unknown outcome of this create (a reset, a lost answer, a 5xx) before
	// any re-send; lookupQuery must all be in its query.
	lookup      string
	lookupQuery []string
}

const (
	cfWorker      = "/accounts/*/workers/workers/*"
	cfWorkers     = "/accounts/*/workers/workers"
	cfVersions    = cfWorker + "/versions"
	cfVersion     = cfVersions + "/*"
	cfDeployments = "/accounts/*/workers/scripts/*/deployments"
)

var matrixCalls = []matrixCall{
	{name: "worker get", method: "GET", path: cfWorker, read: true, sc: scExisting},
	{name: "worker create", method: "POST", path: cfWorkers, sc: scNewWorker},
	{name: "versions list (tag lookup)", method: "GET", path: cfVersions, read: true, sc: scExisting},
	{name: "version create", method: "POST", path: cfVersions, sc: scExisting},
	// keep-secrets takes the live version's bindings from the tag lookup's
	// listing (the row above); it reads the version on its own only when the
	// listing lacked it, through the same GET as the reuse read below.
	{name: "version get (include=modules, reuse)", method: "GET", path: cfVersion, query: "include=modules", read: true, sc: scRerun},
	{name: "deployments list", method: "GET", path: cfDeployments, read: true, sc: scExisting},
	{name: "deployment create", method: "POST", path: cfDeployments, sc: scExisting},
	{name: "asset upload session", method: "POST", path: "/accounts/*/workers/scripts/*/assets-upload-session", sc: scAssets},
	{name: "asset upload", method: "POST", path: "/accounts/*/workers/assets/upload", sc: scAssets, noEmpty: true},
	// A GraphQL POST is a query: it changes nothing, so it is a read here.
	{name: "GraphQL analytics", method: "POST", path: "/graphql", read: true, sc: scGated, noEmpty: true},
	{name: "GitHub list comments", github: true, method: "GET", path: "/repos/*/*/issues/*/comments", read: true, sc: scPR},
	// Creates whose outcome is unknown after a reset, a lost answer or a 5xx
	// are looked up before any re-send: the comment by its marker and
	// author, the GitHub Deployment by the nonce in its payload.
	{name: "GitHub create comment", github: true, method: "POST", path: "/repos/*/*/issues/*/comments", sc: scPR,
		lookup: "/repos/*/*/issues/*/comments", lookupQuery: []string{"per_page=100"}},
	{name: "GitHub update comment", github: true, method: "PATCH", path: "/repos/*/*/issues/comments/*", sc: scPRUpdate},
	{name: "GitHub create deployment", github: true, method: "POST", path: "/repos/*/*/deployments", sc: scPR,
		lookup: "/repos/*/*/deployments", lookupQuery: []string{"sha=" + prHeadSHA, "environment=production", "task=deploy"}},
	{name: "GitHub create deployment status", github: true, method: "POST", path: "/repos/*/*/deployments/*/statuses", sc: scPR},
}

// matrixFault is one column of the matrix.
type matrixFault struct {
	name       string
	kind       emulator.FaultKind
	times      int
	status     int
	retryAfter string
	latency    time.Duration
	writesOnly bool
}

var matrixFaults = []matrixFault{
	{name: "503 twice", kind: emulator.FaultStatus, times: 2, status: 503},
	{name: "429 Retry-After 1 twice", kind: emulator.FaultStatus, times: 2, status: 429, retryAfter: "1"},
	{name: "reset", kind: emulator.FaultDrop, times: 1},
	{name: "lost response", kind: emulator.FaultLostResponse, times: 1, writesOnly: true},
	{name: "2s latency", kind: emulator.FaultLatency, times: 1, latency: 2 * time.Second},
	// Applied, then answered {"success":true,"result":{}}: a write is found
	// by reading, a read is made again.
	{name: "empty answer", kind: emulator.FaultEmpty, times: 1},
}

// TestFaultMatrix injects each fault into each API call the action makes,
// in a scenario where that call happens, and checks that the run succeeds
// with exactly one version per tag, the new version live at 100%, no extra
// deployment, one sticky comment and a GitHub Deployment ending in success.
// docs/faults.md summarises it.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, c := range matrixCalls {
		for _, f := range matrixFaults {
			if f.writesOnly && c.read {
				continue
			}
			if f.kind == emulator.FaultEmpty && (c.github || c.noEmpty) {
				continue
			}
			t.Run(c.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				runMatrixRow(t, c, f)
			})
		}
	}
}

func runMatrixRow(t *testing.T, c matrixCall, f matrixFault) {
	m := newMatrixEnv(t)
	sc := c.sc
	j := sc.setup(t, m)
	before := len(m.cf.Deployments(sc.worker))
	if c.github {
		m.gh.inject(faultinject.Fault{Method: c.method, Path: c.path, Times: f.times, Kind: f.kind,
			Status: f.status, RetryAfter: f.retryAfter, Latency: f.latency})
	} else {
		m.cf.InjectFault(emulator.Fault{Method: c.method, Path: c.path, Times: f.times, Kind: f.kind,
			Status: f.status, RetryAfter: f.retryAfter, Latency: f.latency})
	}
	m.cf.ResetRequests()
	r := j.exec(t, ctxFor(t))
	log := requestLog(m.cf, m.gh)

	// The fault really fired, on the intended request.
	type hit struct {
		method, path, query string
		at                  time.Time
	}
	var fired, all []hit
	if c.github {
		for _, q := range m.gh.records() {
			h := hit{method: q.Method, path: strings.TrimPrefix(q.Path, "/api/v3"), at: q.At}
			if q.Method == c.method && faultinject.Match(c.path, h.path) {
				all = append(all, h)
			}
			if q.Fault != "" {
				fired = append(fired, h)
			}
		}
	} else {
		for _, q := range m.cf.Requests() {
			h := hit{method: q.Method, path: strings.TrimPrefix(q.Path, "/client/v4"), query: q.RawQuery, at: q.At}
			if q.Method == c.method && faultinject.Match(c.path, h.path) {
				all = append(all, h)
			}
			if q.Fault != "" {
				fired = append(fired, h)
			}
		}
	}
	require.Len(t, fired, f.times, "the fault fires %d times:\n%s", f.times, log)
	for _, h := range fired {
		assert.Equal(t, c.method, h.method)
		assert.True(t, faultinject.Match(c.path, h.path), "faulted %s %s", h.method, h.path)
		switch c.query {
		case "":
		case "-":
			assert.NotContains(t, h.query, "include=modules", "the live-version read, not the reuse read")
		default:
			assert.Contains(t, h.query, c.query)
		}
	}
	if f.kind == emulator.FaultStatus || f.kind == emulator.FaultDrop {
		// Nothing was applied: the call must have been made again.
		require.Greater(t, len(all), f.times, "the call was made again after the fault:\n%s", log)
	}
	if c.lookup != "" {
		assertLookedUpBeforeResending(t, c, f, m.gh.records(), log)
	}
	if f.retryAfter != "" {
		// Retry-After: 1 is honoured: each retry comes at least 1 s after the 429.
		for i := 0; i < f.times; i++ {
			gap := all[i+1].at.Sub(all[i].at)
			assert.GreaterOrEqual(t, gap, 950*time.Millisecond, "retry %d came %s after a 429 with Retry-After: 1", i+1, gap)
		}
	}

	t.Logf("row outcome (%s): exit %d, %d requests of the call (%d faulted), %d warnings, %d Cloudflare requests in all",
		sc.name, r.Code, len(all), len(fired), len(warnings(r)), len(m.cf.Requests()))

	// The run succeeded, with nothing half-done on Cloudflare.
	require.Equal(t, 0, r.Code, "%s\nrequests:\n%s", r.Stdout, log)
	assert.Empty(t, r.errors())
	want := map[string]int{}
	for _, tag := range sc.tags {
		want[tag] = 1
	}
	assert.Equal(t, want, versionsByTag(m.cf, sc.worker), "exactly one version per tag")
	runTag := sc.tags[len(sc.tags)-1]
	var newID string
	for _, v := range m.cf.Versions(sc.worker) {
		if v.Annotations["workers/tag"] == runTag {
			newID = v.ID
		}
	}
	assert.Equal(t, newID, r.Outputs["version-id"])
	deps := m.cf.Deployments(sc.worker)
	assert.Len(t, deps, before+sc.newDeployments, "no deployment beyond the intended ones:\n%s", log)
	require.NotEmpty(t, deps)
	assert.Equal(t, map[string]float64{newID: 100}, splitOf(deps[len(deps)-1]), "the new version serves 100%")
	assert.Equal(t, deps[len(deps)-1].ID, r.Outputs["deployment-id"])
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])
	assertNoSecrets(t, r)

	if !sc.github {
		assert.Empty(t, warnings(r), r.Stdout)
		return
	}
	// GitHub: one sticky comment and one GitHub Deployment ending in success.
	assert.Empty(t, warnings(r), r.Stdout)
	assert.NotEmpty(t, r.Outputs["comment-url"])
	assertOneComment(t, m, newID)
	assertGitHubDeploymentSucceeded(t, m, newID)
	assertNothingLeaked(t, m.gh, r)
}

// stickyComments returns the action's comments on the pull request.
func stickyComments(m *matrixEnv) []ghComment {
	var out []ghComment
	for _, c := range m.gh.commentsOf(prNumber) {
		if strings.HasPrefix(c.Body, markerOf("shop")+"\n") {
			out = append(out, c)
		}
	}
	return out
}

func assertOneComment(t *testing.T, m *matrixEnv, versionID string) {
	t.Helper()
	if c := stickyComments(m); assert.Len(t, c, 1, "one sticky comment:\n%s", requestLog(m.cf, m.gh)) {
		assert.Equal(t, actionsBot, c[0].Author)
		assert.Contains(t, c[0].Body, versionID)
	}
}

func assertGitHubDeploymentSucceeded(t *testing.T, m *matrixEnv, versionID string) {
	t.Helper()
	log := requestLog(m.cf, m.gh)
	if d := m.gh.deploymentsCopy(); assert.Len(t, d, 1, "one GitHub Deployment:\n%s", log) {
		// The nonce by which an unknown create is found again: Worker, run,
		// attempt and version.
		payload, _ := d[0].Request["payload"].(map[string]any)
		assert.Equal(t, "shop/4242/1/"+versionID, payload["nonce"], "the payload's nonce")
		st := d[0].Statuses
		if assert.NotEmpty(t, st, "the GitHub Deployment has statuses:\n%s", log) {
			assert.Equal(t, "success", st[len(st)-1]["state"], "the GitHub Deployment ends in success:\n%s", log)
		}
	}
}

// assertLookedUpBeforeResending checks a create whose outcome the fault left
// unknown (a reset, a lost answer, a 5xx): the lookup came after the first
// faulted attempt, every re-send came only after a lookup found nothing, and
// a lost answer (applied) was found, not re-sent. Rate limits (429) are
// rejections: re-sent as they are.
func assertLookedUpBeforeResending(t *testing.T, c matrixCall, f matrixFault, recs []ghRecord, log string) {
	t.Helper()
	unknown := f.kind == emulator.FaultDrop || f.kind == emulator.FaultLostResponse || (f.kind == emulator.FaultStatus && f.status >= 500)
	if !unknown {
		return
	}
	posts, lookups := 0, 0
	lookedUp := false // since the last POST
	for _, q := range recs {
		path := strings.TrimPrefix(q.Path, "/api/v3")
		switch {
		case q.Method == c.method && faultinject.Match(c.path, path):
			if posts > 0 {
				assert.True(t, lookedUp, "POST %d re-sent without a lookup first:\n%s", posts+1, log)
			}
			posts++
			lookedUp = false
		case posts > 0 && q.Method == "GET" && faultinject.Match(c.lookup, path):
			lookups++
			lookedUp = true
			for _, want := range c.lookupQuery {
				assert.Contains(t, q.RawQuery, want, "the lookup's query")
			}
		}
	}
	assert.GreaterOrEqual(t, lookups, 1, "the outcome was looked up:\n%s", log)
	switch f.kind {
	case emulator.FaultLostResponse:
		assert.Equal(t, 1, posts, "applied, found by the lookup, not re-sent:\n%s", log)
	case emulator.FaultDrop:
		assert.Equal(t, 2, posts, "not applied: re-sent once after the lookup:\n%s", log)
	default:
		assert.Equal(t, f.times+1, posts, "re-sent after each lookup:\n%s", log)
	}
}

// lateRow is a write the API holds until the client gives up on it (here: the
// run is cancelled with SIGINT while it waits) and applies a second later.
type lateRow struct {
	name string
	sc   scenario
	// inputs override the scenario's job inputs.
	inputs map[string]string
	// method and path are the held write; skip that many matching requests first.
	method, path, suffix string
	skip                 int
	// rolledBack: the cancelled run must end with the baseline live and say
	// rolled-back (the late write was a stage of its rollout).
	rolledBack bool
}

var lateRows = []lateRow{
	{name: "worker create", sc: scNewWorker, method: "POST", path: cfWorkers, suffix: "/workers/workers"},
	{name: "version create", sc: scExisting, method: "POST", path: cfVersions, suffix: "/versions"},
	{name: "deployment create (100%)", sc: scExisting, method: "POST", path: cfDeployments, suffix: "/deployments", rolledBack: true},
	{name: "deployment create (stage 2 of 2)", sc: scExisting, inputs: map[string]string{"stages": "10%@300ms, 100%"},
		method: "POST", path: cfDeployments, suffix: "/deployments", skip: 1, rolledBack: true},
}

// TestFaultMatrixLateWrites cancels a run while the API holds one of its
// writes, which the API applies a second after the client gave up. The
// cancelled run must leave a state its outputs describe (a rollback comes
// after the late stage write, not before it), and a rerun must finish with
// one Worker, one version per tag and the new version live. docs/faults.md
// summarises it.
func TestFaultMatrixLateWrites(t *testing.T) {
	t.Parallel()
	for _, row := range lateRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			m := newMatrixEnv(t)
			sc := row.sc
			j := sc.setup(t, m)
			for k, v := range row.inputs {
				j.Inputs[k] = v
			}
			var base string
			if ds := m.cf.Deployments(sc.worker); len(ds) > 0 {
				base = ds[len(ds)-1].ID
			}
			if row.skip > 0 {
				m.cf.InjectFault(emulator.Fault{Method: row.method, Path: row.path, Times: row.skip, Kind: emulator.FaultLatency, Latency: time.Millisecond})
			}
			m.cf.InjectFault(emulator.Fault{Method: row.method, Path: row.path, Times: 1, Kind: emulator.FaultLate, Latency: time.Second})
			m.cf.ResetRequests()
			run := j.start(t)
			waitFor(t, 30*time.Second, "the held write", func() bool {
				n := 0
				for _, q := range m.cf.Requests() {
					if q.Method == row.method && strings.HasSuffix(q.Path, row.suffix) {
						n++
						if n > row.skip && q.Fault == "" && q.Status == 0 {
							return true
						}
					}
				}
				return false
			})
			run.signal(t, syscall.SIGINT)
			r := run.wait(t, 15*time.Second)
			time.Sleep(1500 * time.Millisecond) // the late write has landed by now
			log := requestLog(m.cf, nil)
			assert.Equal(t, 1, r.Code, r.Stdout)
			late := 0
			for _, q := range m.cf.Requests() {
				if q.Fault == "late" {
					late++
				}
			}
			require.Equal(t, 1, late, "the write was held and applied late:\n%s", log)
			if row.rolledBack {
				live := m.cf.live(t, sc.worker)
				assert.NotEqual(t, base, live.ID)
				assert.Equal(t, splitOf(m.cf.Deployments(sc.worker)[0]), splitOf(live), "the baseline is live again, after the late write:\n%s\n%s", log, r.Stdout)
				assert.Equal(t, live.ID, r.Outputs["deployment-id"])
				assert.Equal(t, "true", r.Outputs["rolled-back"])
				assert.Equal(t, "0", r.Outputs["deployed-percentage"])
			}

			// A rerun finishes the job.
			again := j.exec(t, ctxFor(t))
			require.Equal(t, 0, again.Code, again.Stdout)
			want := map[string]int{}
			for _, tag := range sc.tags {
				want[tag] = 1
			}
			assert.Equal(t, want, versionsByTag(m.cf, sc.worker), "exactly one version per tag:\n%s", requestLog(m.cf, nil))
			assert.Len(t, m.cf.Workers(), 1, "one Worker")
			assert.Equal(t, map[string]float64{again.Outputs["version-id"]: 100}, splitOf(m.cf.live(t, sc.worker)))
			assert.Equal(t, "100", again.Outputs["deployed-percentage"])
		})
	}
}
