package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// seedBaseline deploys a first version (tag "base") at 100% and returns its ID.
func seedBaseline(t *testing.T, cf *cloudflare, ws string) string {
	t.Helper()
	r := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "base"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	return r.Outputs["version-id"]
}

// staged are the inputs of a short three-stage rollout.
func staged(extra map[string]string) map[string]string {
	in := map[string]string{"deploy": "true", "stages": "10%@300ms, 50%@300ms, 100%", "health-check-interval": "100ms"}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func splitOf(d emulator.DeploymentState) map[string]float64 {
	out := map[string]float64{}
	for _, v := range d.Versions {
		out[v.VersionID] = v.Percentage
	}
	return out
}

func TestRolloutThreeStagesExactSequence(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	health := newHealth(t, 200)
	cf.ResetRequests()
	r := pushJob(t, cf, ws, staged(map[string]string{"health-check-url": health.URL})).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, r.errors())
	newID := r.Outputs["version-id"]
	require.NotEqual(t, base, newID)

	deps := cf.Deployments("shop")
	require.Len(t, deps, 4, "baseline, then one deployment per stage")
	assert.Equal(t, map[string]float64{newID: 10, base: 90}, splitOf(deps[1]))
	assert.Equal(t, map[string]float64{newID: 50, base: 50}, splitOf(deps[2]))
	assert.Equal(t, map[string]float64{newID: 100}, splitOf(deps[3]))
	assert.Equal(t, 3, cf.deploymentWrites())

	assert.Equal(t, deps[3].ID, r.Outputs["deployment-id"])
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])
	assert.Equal(t, base, r.Outputs["previous-version-id"])
	assert.Equal(t, "false", r.Outputs["rolled-back"])
	assert.Contains(t, r.Summary, "#### Rollout")
	// The number of health checks in a 300ms hold (every 100ms) depends on the machine's load.
	assert.Regexp(t, `\| 1 \| 10% \| 300ms \| [1-9]\d* \|`, r.Summary)
	assertNoSecrets(t, r)

	// The override header reached the local health endpoint with the new version's ID.
	headers := health.Headers()
	require.GreaterOrEqual(t, len(headers), 4, "checks every 100ms over two 300ms holds")
	for _, h := range headers {
		assert.Equal(t, `shop="`+newID+`"`, h)
	}
}

func TestRolloutRollsBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		inputs  map[string]string
		setup   func(cf *cloudflare)
		status  int
		wantErr string
	}{
		{name: "failing health endpoint", status: 503, wantErr: "health check 1 failed"},
		{name: "high error rate", status: 200, inputs: map[string]string{"max-error-rate": "1%"},
			setup: func(cf *cloudflare) {
				cf.SetInvocations("shop", emulator.AnyVersion, emulator.Invocations{Requests: 1000, Errors: 50})
			},
			wantErr: "error rate 5.00% (50 errors in 1000 requests) is above max-error-rate 1%"},
		{name: "no data with no-data fail", status: 200, inputs: map[string]string{"max-error-rate": "1%", "no-data": "fail"},
			wantErr: "no data: 0 requests to the new version, fewer than min-requests 50 (no-data is fail)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			base := seedBaseline(t, cf, ws)
			health := newHealth(t, tc.status)
			if tc.setup != nil {
				tc.setup(cf)
			}
			in := staged(map[string]string{"health-check-url": health.URL})
			for k, v := range tc.inputs {
				in[k] = v
			}
			r := pushJob(t, cf, ws, in).exec(t, ctxFor(t))
			assert.Equal(t, 1, r.Code, r.Stdout)
			require.Len(t, r.errors(), 1, r.Stdout)
			assert.Contains(t, r.errorTexts()[0], tc.wantErr)
			assert.Contains(t, r.errorTexts()[0], "rolled back: version "+base+" serves 100% again")

			live := cf.live(t, "shop")
			assert.Equal(t, map[string]float64{base: 100}, splitOf(live))
			assert.Equal(t, "true", r.Outputs["rolled-back"])
			assert.Equal(t, "0", r.Outputs["deployed-percentage"])
			assert.Equal(t, live.ID, r.Outputs["deployment-id"], "the rollback is the last deployment this run created")
			assert.Equal(t, base, r.Outputs["previous-version-id"])
			assert.Contains(t, r.Summary, "failed")
			assertNoSecrets(t, r)
		})
	}
}

func TestRolloutCompletesWithNoDataPass(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	seedBaseline(t, cf, ws)
	cf.SetInvocations("shop", emulator.AnyVersion, emulator.Invocations{Requests: 3, Errors: 3})
	r := pushJob(t, cf, ws, staged(map[string]string{"max-error-rate": "1%", "no-data": "pass"})).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, map[string]float64{r.Outputs["version-id"]: 100}, splitOf(cf.live(t, "shop")))
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])
	assert.Contains(t, r.Summary, "no data (3 of 50 requests); no-data is pass")
}

func TestRolloutSIGINTRestoresBaselineWithin5s(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	health := newHealth(t, 200)
	run := pushJob(t, cf, ws, map[string]string{"deploy": "true", "stages": "10%@1m, 100%", "health-check-interval": "100ms",
		"health-check-url": health.URL}).start(t)
	waitFor(t, 30*time.Second, "the 10% stage", func() bool { return len(cf.Deployments("shop")) == 2 })
	// Mid-hold: the 1m hold is running its health checks.
	waitFor(t, 30*time.Second, "a health check of the 10% hold", func() bool { return len(health.Headers()) >= 1 })
	sent := time.Now()
	run.signal(t, syscall.SIGINT)
	waitFor(t, 5*time.Second, "the baseline at 100% again", func() bool {
		ds := cf.Deployments("shop")
		return len(ds) == 3 && len(ds[2].Versions) == 1 && ds[2].Versions[0].VersionID == base
	})
	restored := time.Since(sent)
	t.Logf("baseline restored %s after SIGINT", restored)
	r := run.wait(t, 10*time.Second)
	assert.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "cancelled")
	assert.Equal(t, "true", r.Outputs["rolled-back"])
	assert.Equal(t, "0", r.Outputs["deployed-percentage"])
}

func TestRolloutSIGINTDuringAPIRequestRestoresBaseline(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	// The write of the 100% stage hangs (a slow API) when SIGINT arrives.
	// Both faults are in place before the run starts, so the end of the
	// 500ms hold cannot outrun them: the first (1ms) is used up by the 10%
	// write, the second holds the 100% write for a minute.
	const deployments = "/accounts/*/workers/scripts/*/deployments"
	cf.InjectFault(emulator.Fault{Method: "POST", Path: deployments, Times: 1, Kind: emulator.FaultLatency, Latency: time.Millisecond})
	cf.InjectFault(emulator.Fault{Method: "POST", Path: deployments, Times: 1, Kind: emulator.FaultLatency, Latency: time.Minute})
	run := pushJob(t, cf, ws, map[string]string{"deploy": "true", "stages": "10%@500ms, 100%"}).start(t)
	waitFor(t, 30*time.Second, "the 10% stage", func() bool { return len(cf.Deployments("shop")) == 2 })
	waitFor(t, 10*time.Second, "the hanging 100% write", func() bool {
		for _, q := range cf.Requests() {
			if q.Method == "POST" && strings.HasSuffix(q.Path, "/deployments") && q.Fault == "" && q.Status == 0 {
				return true
			}
		}
		return false
	})
	sent := time.Now()
	run.signal(t, syscall.SIGINT)
	waitFor(t, 5*time.Second, "the baseline at 100% again", func() bool {
		ds := cf.Deployments("shop")
		return len(ds) == 3 && len(ds[2].Versions) == 1 && ds[2].Versions[0].VersionID == base
	})
	t.Logf("baseline restored %s after SIGINT during a request", time.Since(sent))
	r := run.wait(t, 10*time.Second)
	assert.Equal(t, 1, r.Code, r.Stdout)
	assert.Equal(t, "true", r.Outputs["rolled-back"])
}

func TestRolloutLeavesForeignDeploymentUntouched(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	health := newHealth(t, 200)
	// The hook runs on the health endpoint's goroutine: the ID comes back
	// over a channel, which also proves the hand-made rollback happened.
	foreignCh := make(chan string, 1)
	health.onCheck = func(n int) {
		if n == 1 { // someone rolls back by hand during the first hold
			foreignCh <- cf.deployAs(t, "shop", split{base: 100})
		}
	}
	r := pushJob(t, cf, ws, staged(map[string]string{"health-check-url": health.URL})).exec(t, ctxFor(t))
	var foreign string
	select {
	case foreign = <-foreignCh:
	default:
		t.Fatalf("no foreign deployment was made during the first hold:\n%s", r.Stdout)
	}
	assert.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "the live deployment changed before stage 2 (50%)")
	assert.Contains(t, r.errorTexts()[0], "deployment "+foreign)
	assert.Contains(t, r.errorTexts()[0], "source api, author "+emulator.AuthorEmail)
	deps := cf.Deployments("shop")
	require.Len(t, deps, 3, "baseline, stage 1, the foreign one: nothing after it")
	assert.Equal(t, foreign, deps[2].ID)
	assert.Equal(t, "false", r.Outputs["rolled-back"])
	assert.Equal(t, "0", r.Outputs["deployed-percentage"], "the foreign deployment gives the new version nothing")
}

func TestRolloutRefusesForeignSplitWithoutWriting(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	other := pushJob(t, cf, ws, map[string]string{"tag": "other"}).exec(t, ctxFor(t))
	require.Equal(t, 0, other.Code, other.Stdout)
	foreign := cf.deployAs(t, "shop", split{base: 70, other.Outputs["version-id"]: 30})
	cf.ResetRequests()
	r := pushJob(t, cf, ws, staged(nil)).exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "a split that this run did not start: deployment "+foreign)
	assert.Equal(t, 0, cf.deploymentWrites())
	assert.Equal(t, foreign, cf.live(t, "shop").ID)
	assert.Equal(t, "", r.Outputs["deployment-id"])
}

func TestRolloutRerunResumesItsSplit(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	// The version of this commit exists and a failed job left it at 50%.
	up := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	require.Equal(t, 0, up.Code, up.Stdout)
	newID := up.Outputs["version-id"]
	cf.deployAs(t, "shop", split{newID: 50, base: 50})
	cf.ResetRequests()
	r := pushJob(t, cf, ws, staged(nil)).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, "true", r.Outputs["version-reused"])
	assert.Equal(t, 1, cf.deploymentWrites(), "10% and 50% are not written again")
	assert.Equal(t, map[string]float64{newID: 100}, splitOf(cf.live(t, "shop")))
	assert.Equal(t, base, r.Outputs["previous-version-id"])
	assert.Contains(t, r.Summary, "(resumed)")
}

func TestPromoteByPrefixAndTag(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	v1 := seedBaseline(t, cf, ws)
	second := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "release-2"}).exec(t, ctxFor(t))
	require.Equal(t, 0, second.Code, second.Stdout)
	v2 := second.Outputs["version-id"]
	// A promotion uploads nothing: no build output is needed.
	require.NoError(t, os.RemoveAll(filepath.Join(ws, "dist")))
	dispatch := func(ref string, extra map[string]string) *run {
		j := pushJob(t, cf, ws, map[string]string{"deploy": "true", "version-id": ref})
		j.Event, j.Payload = "workflow_dispatch", filepath.Join(mustAbs(t, "../testdata/events"), "workflow_dispatch.00.json")
		for k, v := range extra {
			j.Inputs[k] = v
		}
		return j.exec(t, ctxFor(t))
	}
	cf.ResetRequests()
	r := dispatch(v1[:8], map[string]string{"stages": "50%@200ms, 100%", "health-check-interval": "100ms"})
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, v1, r.Outputs["version-id"])
	assert.Equal(t, v2, r.Outputs["previous-version-id"])
	deps := cf.Deployments("shop")
	assert.Equal(t, map[string]float64{v1: 50, v2: 50}, splitOf(deps[len(deps)-2]))
	assert.Equal(t, map[string]float64{v1: 100}, splitOf(deps[len(deps)-1]))
	assert.Equal(t, 2, cf.deploymentWrites(), "one deployment per stage")
	for _, w := range cf.Writes() {
		assert.True(t, strings.HasSuffix(w.Path, "/deployments"), "only deployments are written: %s %s", w.Method, w.Path)
	}
	assert.Len(t, cf.Versions("shop"), 2, "no upload")

	r = dispatch("release-2", nil)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, v2, r.Outputs["version-id"])
	assert.Equal(t, map[string]float64{v2: 100}, splitOf(cf.live(t, "shop")))

	for _, ref := range []string{"no-such-tag", "0000"} {
		cf.ResetRequests()
		r = dispatch(ref, nil)
		assert.Equal(t, 1, r.Code, r.Stdout)
		require.Len(t, r.errors(), 1, r.Stdout)
		assert.Contains(t, r.errorTexts()[0], "version-id")
		assert.Contains(t, r.errorTexts()[0], "matches no version of Worker shop")
		assert.Empty(t, cf.Writes())
	}
}
