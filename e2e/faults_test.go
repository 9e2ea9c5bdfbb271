package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// TestFaultsDuringDeploy covers the faults outside TestFaultMatrix's columns
// (matrix_test.go has every API call × 503, 429 with Retry-After, reset, lost
// response and latency): Retry-After-Ms, 502 and a 409 concurrent
// modification. The run must succeed with exactly one version for the tag and
// the new version live at 100%.
func TestFaultsDuringDeploy(t *testing.T) {
	t.Parallel()
	const (
		versions    = "/accounts/*/workers/workers/*/versions"
		deployments = "/accounts/*/workers/scripts/*/deployments"
	)
	cases := []struct {
		name  string
		fault emulator.Fault
	}{
		{"429 with Retry-After-Ms on version create", emulator.Fault{Method: "POST", Path: versions, Times: 2, Kind: emulator.FaultStatus, Status: 429, RetryAfterMs: "150"}},
		{"502 twice on deployment list", emulator.Fault{Method: "GET", Path: deployments, Times: 2, Kind: emulator.FaultStatus, Status: 502}},
		{"409 concurrent modification on deployment", emulator.Fault{Method: "POST", Path: deployments, Times: 1, Kind: emulator.FaultStatus, Status: 409, Code: 10035}},
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
