package ghdeploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// API is the part of the GitHub client the Tracker needs.
type API interface {
	CreateDeployment(ctx context.Context, owner, repo string, r github.DeploymentRequest) (github.Deployment, error)
	CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, s github.DeploymentStatus) error
}

var _ API = (*github.Client)(nil)

// Options describe the deployment to create.
type Options struct {
	Owner, Repo string
	// Ref is the commit SHA deployed (the PR head on pull-request events).
	Ref string
	// Environment is the GitHub environment name.
	Environment string
	// Transient marks a preview environment (the run uploads without deploying).
	Transient bool
	// LogURL links each status to the workflow run.
	LogURL string
	// RunID and RunAttempt (GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT) make the
	// deployment's nonce unique to this run attempt (see Nonce).
	RunID, RunAttempt string
	// CallTimeout bounds each GitHub call, retries included (default 20s).
	CallTimeout time.Duration
}

// Tracker creates and updates one GitHub Deployment. It implements
// pipeline.Observer; call Finish once the run is over.
type Tracker struct {
	api  API
	opts Options
	ctx  context.Context

	queue chan func()
	done  chan struct{}

	// Owned by the worker goroutine until done is closed.
	id      int64
	err     error
	created bool
	// statusFailed: err comes from a status, not from the create.
	statusFailed bool

	mu     sync.Mutex // guards closed and sends on queue
	closed bool
}

var _ pipeline.Observer = (*Tracker)(nil)

// queueSize is plenty for a rollout's stages; when full, intermediate
// statuses are dropped rather than making the rollout wait.
const queueSize = 64

// Start returns a Tracker whose GitHub calls run on their own goroutine. The
// calls outlive ctx's cancellation (a cancelled run still gets its final
// status), each bounded by CallTimeout.
func Start(ctx context.Context, api API, opts Options) *Tracker {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 20 * time.Second
	}
	t := &Tracker{
		api: api, opts: opts, ctx: context.WithoutCancel(ctx),
		queue: make(chan func(), queueSize), done: make(chan struct{}),
	}
	go func() {
		defer close(t.done)
		for f := range t.queue {
			f()
		}
	}()
	return t
}

// snapshot is what the tracker keeps of a Result at one moment: the pipeline
// goes on changing the Result after an Observer call returns.
type snapshot struct {
	worker, versionID, previewURL string
	versionNumber                 int
	deployed                      bool
	percentage                    float64
	rolledBack                    bool
}

func snap(r *pipeline.Result) snapshot {
	return snapshot{
		worker: r.WorkerName, versionID: r.VersionID, previewURL: r.PreviewURL, versionNumber: r.VersionNumber,
		deployed: r.Deployed, percentage: r.DeployedPercentage, rolledBack: r.RolledBack,
	}
}

func (t *Tracker) enqueue(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	select {
	case t.queue <- f:
	default: // full: drop an intermediate status
	}
}

// VersionReady creates the deployment and its first in_progress status.
func (t *Tracker) VersionReady(res *pipeline.Result) {
	s := snap(res)
	t.enqueue(func() {
		if t.err != nil || t.created {
			return
		}
		req := github.DeploymentRequest{
			Ref:         t.opts.Ref,
			Environment: t.opts.Environment,
			Description: github.CutRunes(fmt.Sprintf("Worker %s, version %s (#%d)", s.worker, short(s.versionID), s.versionNumber), github.MaxStatusDescription),
			Transient:   t.opts.Transient,
			Payload:     map[string]any{"worker": s.worker, "version_id": s.versionID, "version_number": s.versionNumber},
			// The nonce lets the client find this deployment again when the
			// create's outcome is unknown, instead of creating a second one
			// or giving up on one left without a status.
			Nonce: Nonce(s.worker, t.opts.RunID, t.opts.RunAttempt, s.versionID),
		}
		if t.opts.Transient {
			no := false
			req.Production = &no
		}
		ctx, cancel := context.WithTimeout(t.ctx, t.opts.CallTimeout)
		defer cancel()
		d, err := t.api.CreateDeployment(ctx, t.opts.Owner, t.opts.Repo, req)
		if err != nil {
			t.err = fmt.Errorf("failed to create a GitHub Deployment for environment %q: %w", t.opts.Environment, err)
			return
		}
		if d.ID <= 0 {
			// Every later status would go to deployment 0, and GitHub's 404
			// would read as a missing permission.
			t.err = fmt.Errorf("GitHub created a Deployment for environment %q but did not say its id; its statuses cannot be posted", t.opts.Environment)
			return
		}
		t.id, t.created = d.ID, true
		t.status(github.DeploymentStatus{State: "in_progress", Description: fmt.Sprintf("version %s (#%d) uploaded", short(s.versionID), s.versionNumber), EnvironmentURL: s.previewURL})
	})
}

// Nonce identifies the GitHub Deployment of one Worker version in one run
// attempt: "<worker>/<run id>/<attempt>/<version id>". Outside Actions (no
// run ID) a random part stands in for the run.
func Nonce(worker, runID, runAttempt, versionID string) string {
	if runID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
		runID = "local-" + hex.EncodeToString(b[:])
	}
	if runAttempt == "" {
		runAttempt = "1"
	}
	return worker + "/" + runID + "/" + runAttempt + "/" + versionID
}

// StageStarted posts an in_progress status for the stage.
func (t *Tracker) StageStarted(res *pipeline.Result, st pipeline.StageReport) {
	desc := StageDescription(st, false)
	t.enqueue(func() { t.status(github.DeploymentStatus{State: "in_progress", Description: desc}) })
}

// StageFinished posts an in_progress status with the stage's outcome.
func (t *Tracker) StageFinished(res *pipeline.Result, st pipeline.StageReport) {
	desc := StageDescription(st, true)
	t.enqueue(func() { t.status(github.DeploymentStatus{State: "in_progress", Description: desc}) })
}

// StageDescription is the status text of a stage, e.g. "50% — rolling out"
// when it starts and "50% — passed: 0.1% errors (3 of 3000 requests)" when it
// ends. It stays within GitHub's 140 characters.
func StageDescription(st pipeline.StageReport, finished bool) string {
	p := strconv.FormatFloat(st.Percentage, 'f', -1, 64) + "%"
	if !finished {
		return github.CutRunes(p+" — rolling out", github.MaxStatusDescription)
	}
	var parts []string
	switch {
	case st.Measured && !st.NoData:
		parts = append(parts, fmt.Sprintf("%s%% errors (%d of %d requests)", strconv.FormatFloat(st.Rate, 'f', -1, 64), st.Errors, st.Requests))
	case st.Measured:
		parts = append(parts, fmt.Sprintf("no data (%d requests)", st.Requests))
	}
	if st.Checks > 0 {
		parts = append(parts, fmt.Sprintf("%d health checks, %d failed", st.Checks, st.FailedChecks))
	}
	verdict := st.Verdict
	if verdict == "" {
		verdict = "held"
	}
	desc := p + " — " + verdict
	if len(parts) > 0 {
		desc += ": " + strings.Join(parts, ", ")
	}
	return github.CutRunes(desc, github.MaxStatusDescription)
}

// status posts one in_progress status. The first failure stops every later
// one (GitHub may be down: each would wait up to CallTimeout), but not the
// final status (see final).
func (t *Tracker) status(s github.DeploymentStatus) {
	if t.err != nil || !t.created {
		return
	}
	t.err = t.post(s)
}

// final posts the final status. It is tried even after an in_progress status
// failed, unless for want of permission (which would fail again): without
// it the GitHub Deployment stays in_progress for good. It returns whether
// the status was recorded; then an earlier in_progress failure is forgotten
// (the deployment's log lacks an intermediate entry, nothing more).
func (t *Tracker) final(s github.DeploymentStatus) bool {
	if !t.created || (t.err != nil && (!t.statusFailed || github.IsPermission(t.err))) {
		return false
	}
	if err := t.post(s); err != nil {
		if t.err == nil {
			t.err = err
		}
		return false
	}
	t.err = nil
	return true
}

// post sends one status to the deployment.
func (t *Tracker) post(s github.DeploymentStatus) error {
	s.LogURL = t.opts.LogURL
	ctx, cancel := context.WithTimeout(t.ctx, t.opts.CallTimeout)
	defer cancel()
	if err := t.api.CreateDeploymentStatus(ctx, t.opts.Owner, t.opts.Repo, t.id, s); err != nil {
		t.statusFailed = true
		return fmt.Errorf("failed to post a %s status to GitHub Deployment %d: %w", s.State, t.id, err)
	}
	return nil
}

// Outcome is what Finish reports.
type Outcome struct {
	// ID is the GitHub Deployment's ID; 0 when none was created (the run
	// failed before the version existed).
	ID int64
	// State is the final status posted ("" when none).
	State string
}

// Finish posts the final status: success when runErr is nil, else failure
// with failure (the advice for runErr) as description, and waits for every
// queued call (at most until ctx ends). It returns the first GitHub error
// (none when only an in_progress status was lost and the final one landed);
// the caller turns it into a warning.
func (t *Tracker) Finish(ctx context.Context, res *pipeline.Result, runErr error, failure string) (Outcome, error) {
	s := snap(res)
	var out Outcome
	final := func() {
		st := github.DeploymentStatus{State: "success", EnvironmentURL: environmentURL(s)}
		switch {
		case runErr != nil:
			st.State, st.Description = "failure", failure
		case s.deployed:
			st.Description = fmt.Sprintf("version %s (#%d) serves %s%% of %s", short(s.versionID), s.versionNumber, strconv.FormatFloat(s.percentage, 'f', -1, 64), s.worker)
		default:
			st.Description = fmt.Sprintf("preview of version %s (#%d) ready", short(s.versionID), s.versionNumber)
		}
		if t.final(st) {
			out.State = st.State
		}
	}
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		t.queue <- final // blocks only while the queue is full
		close(t.queue)
	}
	t.mu.Unlock()
	select {
	case <-t.done:
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("gave up waiting for GitHub to record the deployment status: %w", ctx.Err())
	}
	out.ID = t.id
	return out, t.err
}

// environmentURL is the deployment's "View deployment" link: the Worker's
// workers.dev URL when the version took traffic, else its preview URL.
func environmentURL(s snapshot) string {
	if s.deployed && !s.rolledBack {
		if u := WorkerURL(s.previewURL, s.worker); u != "" {
			return u
		}
	}
	return s.previewURL
}

// WorkerURL derives https://<worker>.<subdomain>.workers.dev from a version
// preview URL https://<prefix>-<worker>.<subdomain>.workers.dev, or "" when
// the preview URL does not have that shape (no workers.dev, custom setups).
// The Result carries no Worker URL; this avoids an extra Cloudflare call.
func WorkerURL(previewURL, worker string) string {
	u, err := url.Parse(previewURL)
	if err != nil || worker == "" {
		return ""
	}
	label, rest, ok := strings.Cut(u.Hostname(), ".")
	if !ok || !strings.HasSuffix(rest, ".workers.dev") {
		return ""
	}
	prefix, name, ok := strings.Cut(label, "-")
	if !ok || prefix == "" || name != worker {
		return ""
	}
	return "https://" + worker + "." + rest
}

// short is the first 8 characters of a version ID, as in preview URLs.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
