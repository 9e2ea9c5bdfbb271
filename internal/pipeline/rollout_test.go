package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// instantClock fires timers at once and advances its time.
type instantClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *instantClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

type fakeInvocations struct{ requests, errors int64 }

func (f fakeInvocations) WorkerInvocations(_ context.Context, _ string, versions []string, _, _ time.Time) (map[string]cloudflare.VersionInvocations, error) {
	return map[string]cloudflare.VersionInvocations{versions[0]: {VersionID: versions[0], Requests: f.requests, Errors: f.errors}}, nil
}

type recObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recObserver) VersionReady(*Result) { o.add("ready") }
func (o *recObserver) StageStarted(_ *Result, s StageReport) {
	o.add(fmt.Sprintf("start %s", rollout.FormatPercent(s.Percentage)))
}
func (o *recObserver) StageFinished(_ *Result, s StageReport) {
	o.add(fmt.Sprintf("end %s %s", rollout.FormatPercent(s.Percentage), s.Verdict))
}
func (o *recObserver) add(s string) { o.mu.Lock(); o.events = append(o.events, s); o.mu.Unlock() }

func stagedConfig(t *testing.T, mod func(*inputs.Config)) *inputs.Config {
	st, err := rollout.ParseStages("10%@1m, 50%@1m, 100%")
	require.NoError(t, err)
	return config(t, func(c *inputs.Config) {
		c.Deploy = true
		c.Rollout = inputs.RolloutConfig{Stages: st, Rollback: true, HealthCheckInterval: 20 * time.Second, MinRequests: 50, NoData: rollout.NoDataFail}
		if mod != nil {
			mod(c)
		}
	})
}

// seeded returns a fakeAPI whose Worker serves an earlier version at 100%.
func seeded(t *testing.T) (*fakeAPI, string) {
	api := &fakeAPI{}
	_, err := Run(context.Background(), config(t, func(c *inputs.Config) { c.Deploy = true; c.Tag = "v0" }), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	api.calls = nil
	return api, api.versions[0].ID
}

func TestRunStagedRollout(t *testing.T) {
	t.Parallel()
	api, old := seeded(t)
	var headers []string
	var mu sync.Mutex
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get("Cloudflare-Workers-Version-Overrides"))
		mu.Unlock()
	}))
	t.Cleanup(health.Close)
	obs := &recObserver{}
	d := deps(api)
	d.Clock, d.HTTPClient, d.Observer = &instantClock{now: time.Unix(0, 0)}, health.Client(), obs
	d.Analytics = fakeInvocations{requests: 500, errors: 1}
	res, err := Run(context.Background(), stagedConfig(t, func(c *inputs.Config) {
		c.Rollout.HealthCheckURL, c.Rollout.ErrorRateGate, c.Rollout.MaxErrorRate = health.URL, true, 1
	}), &ghevent.Context{}, d)
	require.NoError(t, err)
	newID := res.VersionID
	require.Len(t, api.deployments, 4)
	assert.Equal(t, []cloudflare.DeploymentVersion{{VersionID: newID, Percentage: 10}, {VersionID: old, Percentage: 90}}, api.deployments[2].Versions)
	assert.Equal(t, []cloudflare.DeploymentVersion{{VersionID: newID, Percentage: 50}, {VersionID: old, Percentage: 50}}, api.deployments[1].Versions)
	assert.Equal(t, []cloudflare.DeploymentVersion{{VersionID: newID, Percentage: 100}}, api.deployments[0].Versions)
	assert.Equal(t, old, res.PreviousVersionID)
	assert.Equal(t, api.deployments[0].ID, res.DeploymentID)
	assert.Equal(t, float64(100), res.DeployedPercentage)
	assert.False(t, res.RolledBack)
	require.Len(t, res.Stages, 3)
	assert.Equal(t, 3, res.Stages[0].Checks)
	assert.Equal(t, int64(500), res.Stages[1].Requests)
	assert.Equal(t, "passed", res.Stages[1].Verdict)
	assert.Len(t, headers, 6)
	for _, h := range headers {
		assert.Equal(t, `shop="`+newID+`"`, h)
	}
	assert.Equal(t, []string{"ready", "start 10", "end 10 passed", "start 50", "end 50 passed", "start 100", "end 100 not watched"}, obs.events)
}

func TestRunRollsBackOnHighErrorRate(t *testing.T) {
	t.Parallel()
	api, old := seeded(t)
	d := deps(api)
	d.Clock, d.Analytics = &instantClock{}, fakeInvocations{requests: 100, errors: 30}
	res, err := Run(context.Background(), stagedConfig(t, func(c *inputs.Config) { c.Rollout.ErrorRateGate, c.Rollout.MaxErrorRate = true, 1 }), &ghevent.Context{}, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "error rate 30.00% (30 errors in 100 requests) is above max-error-rate 1%")
	assert.True(t, res.RolledBack)
	assert.Equal(t, float64(0), res.DeployedPercentage)
	assert.Equal(t, api.deployments[0].ID, res.DeploymentID)
	assert.Equal(t, []cloudflare.DeploymentVersion{{VersionID: old, Percentage: 100}}, api.deployments[0].Versions)
	assert.Equal(t, "failed", res.Stages[0].Verdict)
}

func TestRunPromote(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	for _, tag := range []string{"v1", "v2"} {
		_, err := Run(context.Background(), config(t, func(c *inputs.Config) { c.Tag = tag }), &ghevent.Context{}, deps(api))
		require.NoError(t, err)
	}
	// IDs that share their first 8 characters, and differ after.
	api.versions[0].ID = "abcdef01-1111-4111-8111-111111111111"
	api.versions[1].ID = "abcdef01-2222-4222-8222-222222222222"
	v1, v2 := api.versions[0].ID, api.versions[1].ID
	cases := []struct {
		name, ref, want, wantErr string
	}{
		{name: "full id", ref: v1, want: v1},
		{name: "prefix", ref: "abcdef01-22", want: v2},
		{name: "tag", ref: "v1", want: v1},
		{name: "ambiguous prefix", ref: "ABCDEF01", wantErr: `"ABCDEF01" is ambiguous: it matches 2 versions of Worker shop`},
		{name: "unknown", ref: "nope", wantErr: `"nope" matches no version of Worker shop`},
		{name: "short prefix", ref: "0000", wantErr: "an ID prefix needs at least 8 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			local := &fakeAPI{workers: api.workers, versions: api.versions}
			res, err := Run(context.Background(), config(t, func(c *inputs.Config) {
				c.Deploy, c.Rollout = true, inputs.RolloutConfig{VersionID: tc.ref, Stages: rollout.DefaultStages, Rollback: true}
				c.Modules, c.CompatibilityDate = "missing/**", "" // nothing is uploaded
			}), &ghevent.Context{}, deps(local))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var ie *inputs.Error
				assert.ErrorAs(t, err, &ie)
				assert.Empty(t, local.deployments)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.VersionID)
			assert.NotContains(t, local.calls, "CreateVersion")
			require.Len(t, local.deployments, 1)
			assert.Equal(t, []cloudflare.DeploymentVersion{{VersionID: tc.want, Percentage: 100}}, local.deployments[0].Versions)
		})
	}
}

// TestRunPromoteReadsNoUploadSettings: `version-id` uploads nothing, so a
// promote job needs neither a compatibility date nor the assets that the
// configuration names (they are not built in such a job), and reads none of
// them.
func TestRunPromoteReadsNoUploadSettings(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	_, err := Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	dir := projectDir(t, map[string]string{"wrangler.json": `{"name":"shop","main":"dist/index.js","assets":{"directory":"public","binding":"ASSETS"}}`})
	api.calls = nil
	res, err := Run(context.Background(), config(t, func(c *inputs.Config) {
		c.Worker, c.ConfigFile, c.WorkingDirectory, c.CompatibilityDate = "", "", dir, ""
		c.Deploy, c.Rollout = true, inputs.RolloutConfig{VersionID: "v1", Stages: rollout.DefaultStages, Rollback: true}
	}), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, api.versions[0].ID, res.VersionID)
	assert.Equal(t, "shop", res.WorkerName)
	assert.Equal(t, []string{"GetWorker shop", "ListVersions 1", "ListVersions 2", "ListDeployments", "CreateDeployment"}, api.calls)
}

// TestRunDeployReadsTheLiveDeploymentAgainAfterTheUpload: keep-secrets reads
// the live deployment before the upload and the rollout takes that read as
// its baseline, then reads again right before its first write, so that a
// deployment made during the upload is not overwritten: 6 requests.
func TestRunDeployReadsTheLiveDeploymentAgainAfterTheUpload(t *testing.T) {
	t.Parallel()
	api, old := seeded(t)
	res, err := Run(context.Background(), config(t, func(c *inputs.Config) {
		c.Deploy, c.Project.KeepSecrets = true, true
	}), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, old, res.PreviousVersionID)
	// The live version's secrets come from the tag lookup's listing: no GetVersion.
	assert.Equal(t, []string{"GetWorker shop", "FindVersionByTag v1", "ListDeployments", "CreateVersion", "ListDeployments", "CreateDeployment"}, api.calls)
}
