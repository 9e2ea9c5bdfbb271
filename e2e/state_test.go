package e2e

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// inFlight reports whether a request to method path (suffix) is still
// waiting for its answer (the emulator records the fault and status at the
// end).
func inFlight(cf *cloudflare, method, suffix string) bool {
	for _, q := range cf.Requests() {
		if q.Method == method && strings.HasSuffix(q.Path, suffix) && q.Fault == "" && q.Status == 0 {
			return true
		}
	}
	return false
}

// Someone deploys while the version uploads: the run's baseline (read before
// the upload) is stale, so it reads again before its first write and stops
// without overwriting the other deployment.
func TestDeploymentMadeDuringTheUploadIsNotOverwritten(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	cf.InjectFault(emulator.Fault{Method: "POST", Path: cfVersions, Times: 1, Kind: emulator.FaultLatency, Latency: 1500 * time.Millisecond})
	cf.ResetRequests()
	run := pushJob(t, cf, ws, map[string]string{"deploy": "true"}).start(t)
	waitFor(t, 30*time.Second, "the version upload", func() bool { return inFlight(cf, "POST", "/versions") })
	foreign := cf.deployAs(t, "shop", split{base: 100})
	r := run.wait(t, 30*time.Second)
	assert.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "the live deployment changed during the version upload")
	assert.Contains(t, r.errorTexts()[0], "deployment "+foreign)
	assert.Equal(t, 1, cf.deploymentWrites(), "only the foreign deployment was written:\n%s", requestLog(cf, nil))
	assert.Equal(t, foreign, cf.live(t, "shop").ID)
	assert.Equal(t, "", r.Outputs["deployment-id"])
	assert.Equal(t, "0", r.Outputs["deployed-percentage"])
	assert.Equal(t, "false", r.Outputs["rolled-back"])
}

// Two runs of one commit at the same time both find no version with the tag
// and both upload: the run whose version is younger uses the older one, so
// both deploy the same version, and neither undoes the other.
func TestConcurrentRunsOfOneCommitKeepTheOlderVersion(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	seedBaseline(t, cf, ws)
	// Both uploads are held long enough for both tag lookups to come first.
	cf.InjectFault(emulator.Fault{Method: "POST", Path: cfVersions, Times: 2, Kind: emulator.FaultLatency, Latency: 3 * time.Second})
	j := pushJob(t, cf, ws, map[string]string{"deploy": "true"})
	a, b := j.start(t), j.start(t)
	var ra, rb *run
	var wg sync.WaitGroup
	wg.Go(func() { ra = a.wait(t, time.Minute) })
	wg.Go(func() { rb = b.wait(t, time.Minute) })
	wg.Wait()
	require.Equal(t, 2, versionsByTag(cf, "shop")[pushSHA], "both runs uploaded (the race happened):\n%s", requestLog(cf, nil))
	var older, younger string
	for _, v := range cf.Versions("shop") {
		if v.Annotations["workers/tag"] != pushSHA {
			continue
		}
		if older == "" {
			older = v.ID
		} else {
			younger = v.ID
		}
	}
	for _, r := range []*run{ra, rb} {
		assert.Equal(t, 0, r.Code, r.Stdout)
		assert.Equal(t, older, r.Outputs["version-id"], "the older version, never the younger %s:\n%s", younger, r.Stdout)
	}
	assert.Equal(t, map[string]float64{older: 100}, splitOf(cf.live(t, "shop")))
	for _, d := range cf.Deployments("shop") {
		assert.NotContains(t, splitOf(d), younger, "the younger version is never deployed")
	}
	both := ra.Stdout + rb.Stdout
	assert.Contains(t, both, "2 versions carry tag \""+pushSHA+"\"")
}

// SIGINT while the API holds a stage write that it applies a second after the
// client gave up: the baseline is restored at once, restored again when the
// late write lands, and the outputs say what a read confirmed.
func TestSIGINTDuringALateStageWriteRollsBackAfterIt(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	cf.InjectFault(emulator.Fault{Method: "POST", Path: cfDeployments, Times: 1, Kind: emulator.FaultLatency, Latency: time.Millisecond})
	cf.InjectFault(emulator.Fault{Method: "POST", Path: cfDeployments, Times: 1, Kind: emulator.FaultLate, Latency: time.Second})
	run := pushJob(t, cf, ws, map[string]string{"deploy": "true", "stages": "10%@500ms, 100%"}).start(t)
	waitFor(t, 30*time.Second, "the 10% stage", func() bool { return len(cf.Deployments("shop")) == 2 })
	waitFor(t, 10*time.Second, "the held 100% write", func() bool { return inFlight(cf, "POST", "/deployments") })
	sent := time.Now()
	run.signal(t, syscall.SIGINT)
	waitFor(t, 5*time.Second, "the baseline at 100% again", func() bool {
		ds := cf.Deployments("shop")
		return len(ds) == 3 && splitOf(ds[2])[base] == 100
	})
	t.Logf("baseline restored %s after SIGINT", time.Since(sent))
	r := run.wait(t, 10*time.Second)
	// Anything still held would land within a second of the cancellation.
	time.Sleep(1500 * time.Millisecond)
	log := requestLog(cf, nil)
	ds := cf.Deployments("shop")
	newID := r.Outputs["version-id"]
	require.Len(t, ds, 5, "baseline, 10%%, the rollback, the late 100%%, the rollback again:\n%s\n%s", log, r.Stdout)
	assert.Equal(t, map[string]float64{newID: 100}, splitOf(ds[3]), "the late write")
	assert.Equal(t, map[string]float64{base: 100}, splitOf(ds[4]), "restored again after it:\n%s", r.Stdout)
	assert.Equal(t, 1, r.Code, r.Stdout)
	assert.Contains(t, r.Stdout, "was applied late")
	assert.Equal(t, "true", r.Outputs["rolled-back"])
	assert.Equal(t, "0", r.Outputs["deployed-percentage"])
	assert.Equal(t, ds[4].ID, r.Outputs["deployment-id"])
}

// A rerun after a secret was rotated reuses the version of the commit (the
// API never returns secret values, so they cannot be compared): the log says
// so, and how to send the new value.
func TestRerunAfterSecretRotationSaysSecretsAreNotCompared(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	first := pushJob(t, cf, ws, map[string]string{"secrets": "API_KEY"})
	first.Env = map[string]string{"API_KEY": "old-secret-value-1"}
	r1 := first.exec(t, ctxFor(t))
	require.Equal(t, 0, r1.Code, r1.Stdout)
	again := pushJob(t, cf, ws, map[string]string{"secrets": "API_KEY"})
	again.Env = map[string]string{"API_KEY": "rotated-secret-value-2"}
	r2 := again.exec(t, ctxFor(t))
	require.Equal(t, 0, r2.Code, r2.Stdout)
	assert.Equal(t, r1.Outputs["version-id"], r2.Outputs["version-id"], "the version is reused")
	assert.Contains(t, r2.Stdout, "Secret values are not compared")
	assert.Contains(t, r2.Stdout, "set a new `tag`")
	assert.NotContains(t, r2.Stdout, "and the same content")
	for _, line := range strings.Split(r2.Stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			assert.NotContains(t, line, "rotated-secret-value-2")
		}
	}
}
