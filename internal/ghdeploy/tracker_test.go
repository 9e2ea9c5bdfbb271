package ghdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// fakeAPI records calls behind a mutex; …Err fields make a verb fail.
type fakeAPI struct {
	mu          sync.Mutex
	deployments []github.DeploymentRequest
	statuses    []github.DeploymentStatus
	ids         []int64
	block       chan struct{} // when set, calls wait for it or ctx

	CreateErr, StatusErr error
	// StatusFails, when above 0, limits StatusErr to that many first calls.
	StatusFails int
	// CreateID replaces the created deployment's ID 77 (0 stays 77; -1 is 0).
	CreateID int64
}

func (f *fakeAPI) wait(ctx context.Context) error {
	if f.block == nil {
		return nil
	}
	select {
	case <-f.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeAPI) CreateDeployment(ctx context.Context, owner, repo string, r github.DeploymentRequest) (github.Deployment, error) {
	if err := f.wait(ctx); err != nil {
		return github.Deployment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deployments = append(f.deployments, r)
	if f.CreateErr != nil {
		return github.Deployment{}, f.CreateErr
	}
	switch f.CreateID {
	case 0:
		return github.Deployment{ID: 77}, nil
	case -1:
		return github.Deployment{}, nil
	}
	return github.Deployment{ID: f.CreateID}, nil
}

func (f *fakeAPI) CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, s github.DeploymentStatus) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = append(f.statuses, s)
	f.ids = append(f.ids, id)
	if f.StatusFails > 0 && len(f.statuses) > f.StatusFails {
		return nil
	}
	return f.StatusErr
}

var _ API = (*fakeAPI)(nil)

const logURL = "https://github.com/octo/shop/actions/runs/4242"

func result() *pipeline.Result {
	return &pipeline.Result{
		WorkerName: "shop", VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 3,
		PreviewURL: "https://182bd5e5-shop.acme.workers.dev",
	}
}

func states(ss []github.DeploymentStatus) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.State+": "+s.Description)
	}
	return out
}

func TestPreviewDeployment(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	tr := Start(context.Background(), api, Options{Owner: "octo", Repo: "shop", Ref: "abc", Environment: "preview", Transient: true, LogURL: logURL, RunID: "4242", RunAttempt: "2"})
	res := result()
	tr.VersionReady(res)
	out, err := tr.Finish(context.Background(), res, nil, "")
	require.NoError(t, err)
	assert.Equal(t, Outcome{ID: 77, State: "success"}, out)
	no := false
	require.Len(t, api.deployments, 1)
	assert.Equal(t, github.DeploymentRequest{
		Ref: "abc", Environment: "preview", Description: "Worker shop, version 182bd5e5 (#3)", Transient: true, Production: &no,
		Payload: map[string]any{"worker": "shop", "version_id": res.VersionID, "version_number": 3},
		Nonce:   "shop/4242/2/" + res.VersionID,
	}, api.deployments[0])
	assert.Equal(t, []string{"in_progress: version 182bd5e5 (#3) uploaded", "success: preview of version 182bd5e5 (#3) ready"}, states(api.statuses))
	for _, s := range api.statuses {
		assert.Equal(t, logURL, s.LogURL)
		assert.Equal(t, res.PreviewURL, s.EnvironmentURL)
	}
	assert.Equal(t, []int64{77, 77}, api.ids)
}

func TestStagedDeploymentStatuses(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	tr := Start(context.Background(), api, Options{Owner: "octo", Repo: "shop", Ref: "abc", Environment: "production", LogURL: logURL})
	res := result()
	tr.VersionReady(res)
	for _, p := range []float64{10, 50, 100} {
		tr.StageStarted(res, pipeline.StageReport{Percentage: p})
		tr.StageFinished(res, pipeline.StageReport{Percentage: p})
	}
	res.Deployed, res.DeployedPercentage = true, 100
	out, err := tr.Finish(context.Background(), res, nil, "")
	require.NoError(t, err)
	assert.Equal(t, "success", out.State)
	assert.Nil(t, api.deployments[0].Production, "GitHub's default for a deploy")
	assert.False(t, api.deployments[0].Transient)
	assert.Equal(t, []string{
		"in_progress: version 182bd5e5 (#3) uploaded",
		"in_progress: 10% — rolling out", "in_progress: 10% — held",
		"in_progress: 50% — rolling out", "in_progress: 50% — held",
		"in_progress: 100% — rolling out", "in_progress: 100% — held",
		"success: version 182bd5e5 (#3) serves 100% of shop",
	}, states(api.statuses))
	assert.Equal(t, "https://shop.acme.workers.dev", api.statuses[len(api.statuses)-1].EnvironmentURL)
}

func TestFailures(t *testing.T) {
	t.Parallel()
	forbidden := &github.APIError{Method: "POST", Path: "/repos/octo/shop/deployments", Status: 403, Message: "Resource not accessible by integration"}
	cases := []struct {
		name        string
		api         *fakeAPI
		ready       bool
		stages      bool // a stage starts and ends before Finish
		runErr      error
		wantErr     string
		wantStates  []string
		wantOutcome Outcome
	}{
		{
			name: "failed deploy ends in failure", api: &fakeAPI{}, ready: true, runErr: errors.New("deploy failed"),
			wantStates:  []string{"in_progress: version 182bd5e5 (#3) uploaded", "failure: failed to deploy: bad"},
			wantOutcome: Outcome{ID: 77, State: "failure"},
		},
		{
			name: "run failed before the version: nothing", api: &fakeAPI{}, ready: false, runErr: errors.New("bad input"),
		},
		{
			name: "read-only token", api: &fakeAPI{CreateErr: forbidden}, ready: true,
			wantErr: `failed to create a GitHub Deployment for environment "production": GitHub API POST /repos/octo/shop/deployments: 403 Resource not accessible by integration`,
		},
		{
			name: "status fails: later in_progress ones are skipped, the final is still tried", api: &fakeAPI{StatusErr: errors.New("boom")}, ready: true, stages: true,
			wantErr:     "failed to post a in_progress status to GitHub Deployment 77: boom",
			wantStates:  []string{"in_progress: version 182bd5e5 (#3) uploaded", "success: preview of version 182bd5e5 (#3) ready"},
			wantOutcome: Outcome{ID: 77},
		},
		{
			// A status answer cut off every time, then GitHub recovers: the
			// deployment must not stay in_progress.
			name: "status fails once: the final status still lands", ready: true, stages: true,
			api:         &fakeAPI{StatusErr: fmt.Errorf("%w: cut off", github.ErrBadAnswer), StatusFails: 1},
			wantStates:  []string{"in_progress: version 182bd5e5 (#3) uploaded", "success: preview of version 182bd5e5 (#3) ready"},
			wantOutcome: Outcome{ID: 77, State: "success"},
		},
		{
			name: "status refused for want of permission: the final is not tried", ready: true, stages: true,
			api:         &fakeAPI{StatusErr: &github.APIError{Method: "POST", Path: "/repos/octo/shop/deployments/77/statuses", Status: 403, Message: "Resource not accessible by integration"}},
			wantErr:     "failed to post a in_progress status to GitHub Deployment 77: GitHub API POST /repos/octo/shop/deployments/77/statuses: 403 Resource not accessible by integration",
			wantStates:  []string{"in_progress: version 182bd5e5 (#3) uploaded"},
			wantOutcome: Outcome{ID: 77},
		},
		{
			name: "created without an id: no status, not a permission error", api: &fakeAPI{CreateID: -1}, ready: true,
			wantErr: `GitHub created a Deployment for environment "production" but did not say its id; its statuses cannot be posted`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := Start(context.Background(), tc.api, Options{Owner: "octo", Repo: "shop", Ref: "abc", Environment: "production", LogURL: logURL})
			res := result()
			if tc.ready {
				tr.VersionReady(res)
			}
			if tc.stages {
				tr.StageStarted(res, pipeline.StageReport{Percentage: 100})
				tr.StageFinished(res, pipeline.StageReport{Percentage: 100})
			}
			out, err := tr.Finish(context.Background(), res, tc.runErr, "failed to deploy: bad")
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantStates, states(tc.api.statuses))
			assert.Equal(t, tc.wantOutcome, out)
		})
	}
}

func TestFinishIsBoundedAndCancelledRunsStillReport(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{block: make(chan struct{})}
	runCtx, cancelRun := context.WithCancel(context.Background())
	tr := Start(runCtx, api, Options{Owner: "o", Repo: "r", Environment: "production", CallTimeout: time.Minute})
	tr.VersionReady(result())
	cancelRun() // SIGINT: the GitHub calls go on
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := tr.Finish(ctx, result(), errors.New("cancelled"), "cancelled")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up waiting")
	tr.StageStarted(result(), pipeline.StageReport{Percentage: 10}) // after Finish: ignored, no panic
	close(api.block)
	<-tr.done
	api.mu.Lock()
	defer api.mu.Unlock()
	assert.Len(t, api.deployments, 1, "the run's cancellation did not cancel the GitHub calls")
	assert.Equal(t, []string{"in_progress: version 182bd5e5 (#3) uploaded", "failure: cancelled"}, states(api.statuses))
}

func TestWorkerURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, preview, worker, want string }{
		{"preview URL", "https://182bd5e5-shop.acme.workers.dev", "shop", "https://shop.acme.workers.dev"},
		{"hyphenated worker", "https://182bd5e5-my-shop.acme.workers.dev", "my-shop", "https://my-shop.acme.workers.dev"},
		{"other worker", "https://182bd5e5-other.acme.workers.dev", "shop", ""},
		{"not workers.dev", "https://182bd5e5-shop.example.com", "shop", ""},
		{"a domain that only ends like workers.dev", "https://182bd5e5-shop.acme.notworkers.dev", "shop", ""},
		{"no account subdomain", "https://182bd5e5-shop.workers.dev", "shop", ""},
		{"empty", "", "shop", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, WorkerURL(tc.preview, tc.worker))
		})
	}
}

func TestStageDescription(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		st       pipeline.StageReport
		finished bool
		want     string
	}{
		{"start", pipeline.StageReport{Percentage: 50}, false, "50% — rolling out"},
		{"measured", pipeline.StageReport{Percentage: 50, Measured: true, Requests: 3000, Errors: 3, Rate: 0.1, Verdict: "passed"}, true, "50% — passed: 0.1% errors (3 of 3000 requests)"},
		{"no data and checks", pipeline.StageReport{Percentage: 10, Measured: true, NoData: true, Requests: 12, Checks: 30, FailedChecks: 1, Verdict: "failed"}, true, "10% — failed: no data (12 requests), 30 health checks, 1 failed"},
		{"not watched", pipeline.StageReport{Percentage: 100}, true, "100% — held"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, StageDescription(tc.st, tc.finished))
		})
	}
	long := StageDescription(pipeline.StageReport{Percentage: 33.333333333333336, Verdict: strings.Repeat("failed ", 40)}, true)
	assert.Len(t, []rune(long), github.MaxStatusDescription)
}
