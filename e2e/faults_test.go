package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// TestFaultsDuringDeploy injects one kind of fault into one API call of an
// upload + deploy run: the run must succeed with exactly one version for the
// tag and the new version live at 100%. (Issue 6 extends this to the full
// matrix of calls × faults.)
func TestFaultsDuringDeploy(t *testing.T) {
	t.Parallel()
	const (
		versions    = "/accounts/*/workers/workers/*/versions"
		worker      = "/accounts/*/workers/workers/*"
		deployments = "/accounts/*/workers/scripts/*/deployments"
	)
	cases := []struct {
		name  string
		fault emulator.Fault
	}{
		{"503 twice on version create", emulator.Fault{Method: "POST", Path: versions, Times: 2, Kind: emulator.FaultStatus, Status: 503}},
		{"429 with Retry-After twice on worker lookup", emulator.Fault{Method: "GET", Path: worker, Times: 2, Kind: emulator.FaultStatus, Status: 429, RetryAfter: "1"}},
		{"429 with Retry-After-Ms on version create", emulator.Fault{Method: "POST", Path: versions, Times: 2, Kind: emulator.FaultStatus, Status: 429, RetryAfterMs: "150"}},
		{"connection dropped on version create", emulator.Fault{Method: "POST", Path: versions, Times: 1, Kind: emulator.FaultDrop}},
		{"response lost after the deployment was written", emulator.Fault{Method: "POST", Path: deployments, Times: 1, Kind: emulator.FaultLostResponse}},
		{"502 twice on deployment list", emulator.Fault{Method: "GET", Path: deployments, Times: 2, Kind: emulator.FaultStatus, Status: 502}},
		{"409 concurrent modification on deployment", emulator.Fault{Method: "POST", Path: deployments, Times: 1, Kind: emulator.FaultStatus, Status: 409, Code: 10035}},
		{"2 s latency on version create", emulator.Fault{Method: "POST", Path: versions, Times: 1, Kind: emulator.FaultLatency, Latency: 2e9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			cf.InjectFault(tc.fault)
			r := pushJob(t, cf, ws, map[string]string{"deploy": "true"}).exec(t, ctxFor(t))
			require.Equal(t, 0, r.Code, r.Stdout)

			fired := 0
			for _, q := range cf.Requests() {
				if q.Fault != "" {
					fired++
				}
			}
			assert.Positive(t, fired, "the fault fired")
			vs := cf.Versions("shop")
			require.Len(t, vs, 1, "exactly one version for the tag")
			deps := cf.Deployments("shop")
			require.NotEmpty(t, deps)
			live := deps[len(deps)-1]
			require.Len(t, live.Versions, 1)
			assert.Equal(t, vs[0].ID, live.Versions[0].VersionID)
			assert.Equal(t, float64(100), live.Versions[0].Percentage)
			assert.LessOrEqual(t, len(deps), 1, "a deployment written once is not written again")
			assert.Equal(t, vs[0].ID, r.Outputs["version-id"])
			assert.Equal(t, "100", r.Outputs["deployed-percentage"])
		})
	}
}

// TestPersistentOutageFailsWithOneError: an API that answers 503 to every
// version create ends the run, within the client's default 90 s budget (8
// attempts with backoff), with one clear error, no version and no deployment.
func TestPersistentOutageFailsWithOneError(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	cf.InjectFault(emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Kind: emulator.FaultStatus, Status: 503})
	r := pushJob(t, cf, ws, map[string]string{"deploy": "true"}).exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code)
	errs := r.errors()
	require.Len(t, errs, 1, r.Stdout)
	assert.Contains(t, errs[0], "503")
	assert.Empty(t, cf.Deployments("shop"))
	assert.Empty(t, cf.Versions("shop"))
	assertNoSecrets(t, r)
}
