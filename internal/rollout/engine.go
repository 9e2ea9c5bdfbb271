package rollout

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultRollbackTimeout bounds the rollback (one read and one write of the
// deployment). The runner kills a cancelled step about 10 s after SIGINT
// (GitHub's cancellation behaviour), and the README promises the previous
// version back within 5 s; 4.5 s leaves room for the process to report.
const DefaultRollbackTimeout = 4500 * time.Millisecond

// DefaultSettleWindow bounds how long the engine re-reads the live deployment
// for a stage write whose outcome is unknown (it timed out, or the run was
// cancelled while it was in flight) before it rolls back or reports: the API
// may still apply that write after the client gave up on it. It comes out of
// the rollback's own time limit.
const DefaultSettleWindow = 2 * time.Second

// settleInterval spaces those re-reads, and the re-reads of an empty answer.
const settleInterval = 250 * time.Millisecond

// emptyRereads is how many more times an empty deployment list is read again
// once this run has written a deployment: deployments are not deleted while
// the Worker exists, so an empty list then is a bad answer, not the state.
const emptyRereads = 2

// percentTolerance compares percentages read back from the API with ours
// (Cloudflare checks sums with an ε of 0.001, docs/workers-api.md §7.1).
const percentTolerance = 0.001

// Share is one version's share of a deployment.
type Share struct {
	// VersionID is the version's UUID.
	VersionID string
	// Percentage is its share of traffic, percent 0–100.
	Percentage float64
}

// Deployment is a live traffic split as the engine sees it.
type Deployment struct {
	// ID is the deployment's UUID.
	ID string
	// Source is the client that made it (api, wrangler, dash…).
	Source string
	// AuthorEmail is who made it, when the API says.
	AuthorEmail string
	// CreatedOn is when it was made.
	CreatedOn time.Time
	// Shares are its versions and percentages.
	Shares []Share
}

// describe says what a deployment is, for messages.
func (d *Deployment) describe() string {
	if d == nil {
		return "no deployment at all"
	}
	parts := make([]string, 0, len(d.Shares))
	for _, s := range d.Shares {
		parts = append(parts, fmt.Sprintf("%s at %s%%", s.VersionID, FormatPercent(s.Percentage)))
	}
	by := []string{}
	if d.Source != "" {
		by = append(by, "source "+d.Source)
	}
	if d.AuthorEmail != "" {
		by = append(by, "author "+d.AuthorEmail)
	}
	if !d.CreatedOn.IsZero() {
		by = append(by, "created "+d.CreatedOn.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("deployment %s (%s)", d.ID, strings.Join(parts, ", "))
	if len(by) > 0 {
		s += " [" + strings.Join(by, ", ") + "]"
	}
	return s
}

// Deployer reads and writes a Worker's live deployment.
type Deployer interface {
	// Live returns the live deployment, or nil when the Worker has none.
	Live(ctx context.Context) (*Deployment, error)
	// Deploy makes shares the live deployment and returns it.
	Deploy(ctx context.Context, shares []Share) (*Deployment, error)
}

// HealthChecker runs one health check of the new version.
type HealthChecker interface {
	// Check returns nil when the version is healthy, else why not.
	Check(ctx context.Context) error
}

// Measurement is the new version's traffic in a time window.
type Measurement struct {
	// Requests and Errors are invocation counts.
	Requests, Errors int64
}

// ErrorRates measures the new version's invocations and errors.
type ErrorRates interface {
	// Measure returns the counts of the window [since, until].
	Measure(ctx context.Context, since, until time.Time) (Measurement, error)
}

// Clock is the engine's time: Now, and a timer.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Logger receives progress lines; pipeline.Logger satisfies it.
type Logger interface {
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
}

// NoData says what a stage with too few requests for the error-rate gate does.
type NoData string

// The no-data policies of the `no-data` input.
const (
	NoDataFail NoData = "fail"
	NoDataPass NoData = "pass"
	// NoDataHold extends the stage by up to once more its hold time, then fails.
	NoDataHold NoData = "hold"
)

// ParseNoData parses the `no-data` input.
func ParseNoData(s string) (NoData, error) {
	switch v := NoData(strings.ToLower(strings.TrimSpace(s))); v {
	case NoDataFail, NoDataPass, NoDataHold:
		return v, nil
	}
	return "", fmt.Errorf("%q is not a no-data policy; use fail, pass or hold", s)
}

// Config is one rollout.
type Config struct {
	// VersionID is the version being rolled out.
	VersionID string
	// Stages are the steps, ending at 100%.
	Stages []Stage
	// Rollback restores the baseline on failure (the `rollback` input).
	Rollback bool
	// Interval is the time between gate checks within a stage's hold.
	Interval time.Duration
	// Health is the health-check gate; nil when there is none.
	Health HealthChecker
	// Rates is the error-rate gate; nil when there is none.
	Rates ErrorRates
	// MaxErrorRate is the highest acceptable error rate, percent 0–100.
	MaxErrorRate float64
	// MinRequests is the fewest requests for the error-rate gate to decide.
	MinRequests int64
	// NoData decides a stage whose error-rate gate had too few requests.
	NoData NoData
	// RollbackTimeout bounds the rollback; 0 means DefaultRollbackTimeout.
	RollbackTimeout time.Duration
	// SettleWindow bounds the re-reads made for a stage write whose outcome
	// is unknown; 0 means DefaultSettleWindow.
	SettleWindow time.Duration
	// StaleBaseline says that the first Live answer may be older than the
	// version upload (it was read before it): the live deployment is read
	// again before the first write, and the run stops without writing when
	// it changed in between.
	StaleBaseline bool
}

// Verdict is how a stage ended.
type Verdict string

// Stage verdicts.
const (
	VerdictPending    Verdict = "pending"
	VerdictPassed     Verdict = "passed"
	VerdictNotWatched Verdict = "not watched"
	VerdictFailed     Verdict = "failed"
	VerdictCancelled  Verdict = "cancelled"
	VerdictSkipped    Verdict = "skipped"
	VerdictLive       Verdict = "already live"
)

// StageResult is what happened in one stage.
type StageResult struct {
	Stage
	// Index is the stage's 0-based position.
	Index int
	// DeploymentID is the deployment written for the stage ("" when none).
	DeploymentID string
	// Resumed is true when the stage's split was already live (a rerun).
	Resumed bool
	// Extended is how long the stage was held beyond Hold (no-data: hold).
	Extended time.Duration
	// Checks and FailedChecks count health checks.
	Checks, FailedChecks int
	// Measured is true when the error-rate gate got counts.
	Measured bool
	// Requests and Errors are the new version's counts over the stage.
	Requests, Errors int64
	// Rate is Errors/Requests, percent; valid when Measured and Requests > 0.
	Rate float64
	// NoData is true when there were fewer than MinRequests requests.
	NoData bool
	// Verdict is how the stage ended.
	Verdict Verdict
	// Reason explains the verdict.
	Reason string
}

// Outcome is what a rollout did.
type Outcome struct {
	// Stages has one entry per configured stage.
	Stages []StageResult
	// BaselineID is the version that had 100% before ("" when none).
	BaselineID string
	// DeploymentID is the last deployment the run created.
	DeploymentID string
	// Percentage is the new version's share when the run ended.
	Percentage float64
	// Deployed is true when the new version got traffic (written or already live).
	Deployed bool
	// AlreadyLive is true when the version already had 100% and nothing was written.
	AlreadyLive bool
	// RolledBack is true when the baseline was restored.
	RolledBack bool
}

// ForeignSplitError is a live split that this run did not start and that
// does not contain the new version: it is left alone.
type ForeignSplitError struct{ Live *Deployment }

func (e *ForeignSplitError) Error() string {
	return fmt.Sprintf("the Worker's live deployment is a split that this run did not start: %s. Not overwriting it: finish or undo that rollout first (with wrangler or the dashboard), then rerun", e.Live.describe())
}

// ChangedError is a live deployment changed by someone else during the rollout.
type ChangedError struct {
	// Expected is the deployment the run last wrote.
	Expected string
	// Live is what is live now (nil: none).
	Live *Deployment
	// When says at which point it was noticed ("before stage 2 (50%)").
	When string
	// Was is the deployment read when the run started, when Expected is ""
	// (the change happened before this run wrote anything).
	Was *Deployment
}

func (e *ChangedError) Error() string {
	if e.Expected == "" {
		return fmt.Sprintf("the live deployment changed %s: it was %s when the run started, but %s is live now. Someone or something else deployed the Worker (another run of this workflow?); not overwriting it. Check who did, then rerun", e.When, e.Was.describe(), e.Live.describe())
	}
	return fmt.Sprintf("the live deployment changed %s: this run last wrote deployment %s, but %s is live now. Someone or something else deployed the Worker; not overwriting it. Check who did, then rerun", e.When, e.Expected, e.Live.describe())
}

// ErrNotApplied marks a Deploy error after which the deployer knows the split
// was not applied (a rejection, or a look-up that found nothing): the engine
// then does not wait for it to show up before a rollback.
var ErrNotApplied = errors.New("the deployment was not applied")

// ErrGateFailed is wrapped by errors of a stage whose gate failed.
var ErrGateFailed = errors.New("a rollout gate failed")

// FailedError is a rollout that stopped after writing: a failed gate, an API
// error, or cancellation, and what the rollback did.
type FailedError struct {
	// Stage is the stage that failed.
	Stage StageResult
	// Cause is why the rollout stopped.
	Cause error
	// Rollback says what happened to traffic afterwards.
	Rollback string
	// RollbackErr is the rollback's own error, if it failed.
	RollbackErr error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("rollout stopped at stage %d (%s%%): %v; %s", e.Stage.Index+1, FormatPercent(e.Stage.Percentage), e.Cause, e.Rollback)
}

// Unwrap returns the cause and the rollback's error.
func (e *FailedError) Unwrap() []error {
	if e.RollbackErr != nil {
		return []error{e.Cause, e.RollbackErr}
	}
	return []error{e.Cause}
}

// Engine walks a rollout. Create it with New.
type Engine struct {
	cfg   Config
	dep   Deployer
	clock Clock
	log   Logger
	// OnStageStart and OnStageEnd, when set, are called around each stage.
	OnStageStart, OnStageEnd func(StageResult)
}

// New returns an Engine. clock nil means RealClock.
func New(cfg Config, dep Deployer, clock Clock, log Logger) (*Engine, error) {
	switch {
	case cfg.VersionID == "":
		return nil, errors.New("failed to start the rollout: no version ID")
	case len(cfg.Stages) == 0 || cfg.Stages[len(cfg.Stages)-1].Percentage != 100:
		return nil, errors.New("failed to start the rollout: the stages must end at 100%")
	case (cfg.Health != nil || cfg.Rates != nil) && cfg.Interval <= 0:
		return nil, errors.New("failed to start the rollout: the health-check interval must be positive")
	}
	if cfg.NoData == "" {
		cfg.NoData = NoDataFail
	}
	if cfg.RollbackTimeout <= 0 {
		cfg.RollbackTimeout = DefaultRollbackTimeout
	}
	if cfg.SettleWindow <= 0 {
		cfg.SettleWindow = DefaultSettleWindow
	}
	if clock == nil {
		clock = RealClock{}
	}
	return &Engine{cfg: cfg, dep: dep, clock: clock, log: log}, nil
}

// run is the state of one rollout.
type run struct {
	e   *Engine
	out *Outcome
	// owned is the live deployment this run wrote last (or adopted on resume).
	owned *Deployment
	// pending is a split whose write failed: it may have been applied.
	pending []Share
	// checked is true while owned is the deployment just read as live (a
	// resume): the next stage need not read it again.
	checked bool
	// stale says that the first read must be repeated before the first
	// write (Config.StaleBaseline).
	stale bool
}

// Run performs the rollout. The returned Outcome is never nil. Errors are
// *ForeignSplitError or *ChangedError (nothing overwritten), *FailedError
// (stopped after writing; rollback attempted per Config.Rollback), or a
// plain error when the live deployment could not be read before anything was
// written.
func (e *Engine) Run(ctx context.Context) (*Outcome, error) {
	r := &run{e: e, out: &Outcome{}}
	for i, st := range e.cfg.Stages {
		r.out.Stages = append(r.out.Stages, StageResult{Stage: st, Index: i, Verdict: VerdictPending})
	}
	live, err := e.dep.Live(ctx)
	if err != nil {
		return r.out, fmt.Errorf("failed to read the live deployment before the rollout: %w", err)
	}
	r.stale = e.cfg.StaleBaseline
	start, resumeAt := 0, -1
	newID := e.cfg.VersionID
	switch {
	case live == nil || len(live.Shares) == 0:
		if len(e.cfg.Stages) > 1 {
			e.log.Warningf("the Worker has no deployment yet: there is no previous version to split traffic with, so the version goes to 100%% at once (a rollback is impossible)")
			for i := range len(e.cfg.Stages) - 1 {
				r.out.Stages[i].Verdict, r.out.Stages[i].Reason = VerdictSkipped, "no previous version to split traffic with"
			}
			start = len(e.cfg.Stages) - 1
		} else {
			e.log.Infof("the Worker has no deployment yet: deploying directly (no previous version, so a rollback is impossible)")
		}
	case len(live.Shares) == 1 && live.Shares[0].VersionID == newID:
		e.log.Infof("version %s already serves 100%%: nothing to deploy", newID)
		r.out.Deployed, r.out.AlreadyLive, r.out.Percentage = true, true, 100
		for i := range r.out.Stages {
			r.out.Stages[i].Verdict = VerdictLive
		}
		return r.out, nil
	case len(live.Shares) == 1:
		r.out.BaselineID = live.Shares[0].VersionID
	default:
		var p float64
		found, other := false, ""
		for _, s := range live.Shares {
			if s.VersionID == newID {
				p, found = s.Percentage, true
			} else {
				other = s.VersionID
			}
		}
		if !found || len(live.Shares) != 2 {
			return r.out, &ForeignSplitError{Live: live}
		}
		r.out.BaselineID = other
		// A rerun of a job that stopped mid-rollout: carry on from the live share.
		r.owned, r.checked = live, true
		r.out.Deployed, r.out.Percentage = true, p
		for i, st := range e.cfg.Stages {
			if st.Percentage < p-percentTolerance {
				r.out.Stages[i].Verdict, r.out.Stages[i].Reason = VerdictSkipped, "below the live share on resume"
				continue
			}
			start = i
			if math.Abs(st.Percentage-p) <= percentTolerance {
				resumeAt = i
			}
			break
		}
		e.log.Infof("resuming the rollout of version %s: it already has %s%% (%s); previous version %s", newID, FormatPercent(p), live.ID, r.out.BaselineID)
	}
	if r.stale {
		// The baseline was read before the upload: someone may have deployed
		// since. Nothing is written yet, so a change stops the run as it is,
		// unless it made this very version live (a concurrent run of the same
		// build finished first).
		fresh, err := e.dep.Live(ctx)
		if err != nil {
			return r.out, fmt.Errorf("failed to re-read the live deployment after the upload (nothing was written): %w", err)
		}
		if !sameDeployment(fresh, live) {
			if fresh != nil && len(fresh.Shares) == 1 && fresh.Shares[0].VersionID == newID {
				e.log.Infof("version %s was deployed to 100%% during the upload (%s, by another run?): nothing to deploy", newID, fresh.ID)
				r.out.Deployed, r.out.AlreadyLive, r.out.Percentage = true, true, 100
				for i := range r.out.Stages {
					r.out.Stages[i].Verdict, r.out.Stages[i].Reason = VerdictLive, ""
				}
				return r.out, nil
			}
			for i := range r.out.Stages {
				r.out.Stages[i].Verdict, r.out.Stages[i].Reason = VerdictCancelled, "the live deployment was changed by someone else during the upload"
			}
			r.out.Deployed, r.out.Percentage = false, r.shareIn(fresh)
			return r.out, &ChangedError{Live: fresh, Was: live, When: "during the version upload, before the first write"}
		}
		r.checked = r.owned != nil
	}
	if r.out.BaselineID != "" {
		e.log.Infof("previous version (baseline): %s", r.out.BaselineID)
	}
	for i := start; i < len(e.cfg.Stages); i++ {
		if err := r.stage(ctx, i, i == resumeAt); err != nil {
			return r.out, err
		}
	}
	return r.out, nil
}

// split is the deployment of a stage.
func (r *run) split(st Stage) []Share {
	if st.Percentage >= 100 || r.out.BaselineID == "" {
		return []Share{{VersionID: r.e.cfg.VersionID, Percentage: 100}}
	}
	// Rounded to the API's precision so that 100-p has no float noise.
	old := math.Round((100-st.Percentage)*1000) / 1000
	return []Share{{VersionID: r.e.cfg.VersionID, Percentage: st.Percentage}, {VersionID: r.out.BaselineID, Percentage: old}}
}

func (r *run) stage(ctx context.Context, i int, resumed bool) error {
	e, sr := r.e, &r.out.Stages[i]
	when := fmt.Sprintf("before stage %d (%s%%)", i+1, FormatPercent(sr.Percentage))
	if r.owned != nil && !r.checked {
		live, err := r.read(ctx)
		if err != nil {
			return r.fail(ctx, sr, fmt.Errorf("failed to re-read the live deployment %s: %w", when, err))
		}
		if live == nil || live.ID != r.owned.ID {
			sr.Verdict, sr.Reason = VerdictCancelled, "the live deployment was changed by someone else"
			r.out.Percentage = r.shareIn(live)
			return &ChangedError{Expected: r.owned.ID, Live: live, When: when}
		}
	}
	r.checked = false
	if e.OnStageStart != nil {
		e.OnStageStart(*sr)
	}
	if resumed {
		sr.Resumed, sr.DeploymentID = true, r.owned.ID
		e.log.Infof("stage %d: %s%% is already live (%s); holding it again", i+1, FormatPercent(sr.Percentage), r.owned.ID)
	} else {
		shares := r.split(sr.Stage)
		d, err := e.dep.Deploy(ctx, shares)
		if err != nil {
			if !errors.Is(err, ErrNotApplied) {
				r.pending = shares
			}
			return r.fail(ctx, sr, fmt.Errorf("failed to deploy stage %d (%s%%): %w", i+1, FormatPercent(sr.Percentage), err))
		}
		r.owned, r.pending = d, nil
		sr.DeploymentID = d.ID
		r.out.DeploymentID, r.out.Deployed, r.out.Percentage = d.ID, true, shares[0].Percentage
		e.log.Infof("stage %d: version %s at %s%% (deployment %s)", i+1, e.cfg.VersionID, FormatPercent(shares[0].Percentage), d.ID)
	}
	if err := r.hold(ctx, sr); err != nil {
		return r.fail(ctx, sr, err)
	}
	if e.OnStageEnd != nil {
		e.OnStageEnd(*sr)
	}
	return nil
}

// sleep waits d on the engine's clock, or until ctx ends (checked first, so
// that a fake clock whose timers fire at once still sees cancellation).
func (r *run) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		select {
		case <-ctx.Done():
		case <-r.e.clock.After(d):
		}
	}
	return ctx.Err()
}

// hold holds a stage and runs its gates. It returns why the stage failed.
func (r *run) hold(ctx context.Context, sr *StageResult) error {
	cfg := r.e.cfg
	if sr.Hold <= 0 {
		sr.Verdict = VerdictNotWatched
		return nil
	}
	since := r.e.clock.Now()
	deadline := since.Add(sr.Hold)
	if cfg.Health == nil && cfg.Rates == nil {
		if err := r.sleep(ctx, sr.Hold); err != nil {
			return err
		}
		sr.Verdict, sr.Reason = VerdictPassed, "held without gates"
		return nil
	}
	var breach func() (bool, error)
	if cfg.Rates != nil {
		last := since
		breach = func() (bool, error) {
			now := r.e.clock.Now()
			if now.Sub(last) < analyticsEvery(cfg.Interval) || !now.Before(deadline) {
				return false, nil // the verdict at the deadline is measure's
			}
			last = now
			return r.breach(ctx, sr, since)
		}
	}
	if err := r.watch(ctx, sr, deadline, breach); err != nil {
		return err
	}
	if cfg.Rates == nil {
		sr.Verdict = VerdictPassed
		return nil
	}
	done, err := r.measure(ctx, sr, since)
	if err != nil || done {
		return err
	}
	switch cfg.NoData {
	case NoDataPass:
		sr.Verdict, sr.Reason = VerdictPassed, fmt.Sprintf("no data (%d of %d requests); no-data is pass", sr.Requests, cfg.MinRequests)
		return nil
	case NoDataHold:
		extStart := r.e.clock.Now()
		r.e.log.Infof("stage %d: only %d requests (min-requests %d): holding up to %s more", sr.Index+1, sr.Requests, cfg.MinRequests, sr.Hold)
		decided := false
		err := r.watch(ctx, sr, deadline.Add(sr.Hold), func() (bool, error) {
			d, err := r.measure(ctx, sr, since)
			decided = d
			return d, err
		})
		sr.Extended = r.e.clock.Now().Sub(extStart)
		if err != nil || decided {
			return err
		}
	}
	return r.gateFailed(sr, "no data: %d requests to the new version, fewer than min-requests %d (no-data is %s)", sr.Requests, cfg.MinRequests, cfg.NoData)
}

// watch runs health checks every interval until deadline. tick, when set, is
// called after each check; it stops the watch early by returning true.
func (r *run) watch(ctx context.Context, sr *StageResult, deadline time.Time, tick func() (bool, error)) error {
	cfg := r.e.cfg
	for {
		left := deadline.Sub(r.e.clock.Now())
		if left <= 0 {
			return nil
		}
		if err := r.sleep(ctx, min(cfg.Interval, left)); err != nil {
			return err
		}
		if cfg.Health != nil {
			sr.Checks++
			if err := cfg.Health.Check(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sr.FailedChecks++
				return r.gateFailed(sr, "health check %d failed: %v", sr.Checks, err)
			}
		}
		if tick != nil {
			if done, err := tick(); err != nil || done {
				return err
			}
		}
	}
}

// minAnalyticsInterval spaces the error-rate queries made during a hold:
// Cloudflare's GraphQL API allows about 300 queries per 5 minutes per user
// (docs/workers-api.md §13.2), and its data lag by minutes anyway.
const minAnalyticsInterval = 30 * time.Second

func analyticsEvery(interval time.Duration) time.Duration {
	return max(interval, minAnalyticsInterval)
}

// breach measures the error rate during a hold and fails the stage at once
// when there are at least min-requests requests and the rate is above the
// limit, instead of serving the bad version until the hold ends. It never
// passes a stage and never decides "no data" early: that is measure's, at the
// end. A failed query mid-hold is not a verdict either (the final one is).
func (r *run) breach(ctx context.Context, sr *StageResult, since time.Time) (bool, error) {
	cfg := r.e.cfg
	m, err := cfg.Rates.Measure(ctx, since, r.e.clock.Now())
	switch {
	case err != nil && ctx.Err() != nil:
		return true, ctx.Err()
	case err != nil, m.Requests == 0, m.Requests < cfg.MinRequests:
		return false, nil
	}
	rate := float64(m.Errors) / float64(m.Requests) * 100
	if rate <= cfg.MaxErrorRate {
		return false, nil
	}
	sr.Measured, sr.Requests, sr.Errors, sr.Rate, sr.NoData = true, m.Requests, m.Errors, rate, false
	return true, r.gateFailed(sr, "error rate %.2f%% (%d errors in %d requests) is above max-error-rate %s%% during the hold", rate, m.Errors, m.Requests, FormatPercent(cfg.MaxErrorRate))
}

// measure runs the error-rate gate over [since, now]. done is true when it
// decided the stage (passed, or failed with err).
func (r *run) measure(ctx context.Context, sr *StageResult, since time.Time) (bool, error) {
	cfg := r.e.cfg
	m, err := cfg.Rates.Measure(ctx, since, r.e.clock.Now())
	if err != nil {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		return true, r.gateFailed(sr, "failed to measure the error rate: %v", err)
	}
	sr.Measured, sr.Requests, sr.Errors = true, m.Requests, m.Errors
	sr.Rate = 0
	if m.Requests > 0 {
		sr.Rate = float64(m.Errors) / float64(m.Requests) * 100
	}
	if m.Requests < cfg.MinRequests || m.Requests == 0 {
		sr.NoData = true
		return false, nil
	}
	sr.NoData = false
	if sr.Rate > cfg.MaxErrorRate {
		return true, r.gateFailed(sr, "error rate %.2f%% (%d errors in %d requests) is above max-error-rate %s%%", sr.Rate, m.Errors, m.Requests, FormatPercent(cfg.MaxErrorRate))
	}
	sr.Verdict, sr.Reason = VerdictPassed, ""
	return true, nil
}

func (r *run) gateFailed(sr *StageResult, format string, args ...any) error {
	sr.Verdict, sr.Reason = VerdictFailed, fmt.Sprintf(format, args...)
	return fmt.Errorf("%w: %s", ErrGateFailed, sr.Reason)
}

// fail stops the rollout after cause and rolls back as configured.
func (r *run) fail(ctx context.Context, sr *StageResult, cause error) error {
	e := r.e
	if ctx.Err() != nil && !errors.Is(cause, ctx.Err()) {
		cause = fmt.Errorf("%w: %w", ctx.Err(), cause)
	}
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		sr.Verdict, sr.Reason = VerdictCancelled, "the run was cancelled"
		cause = fmt.Errorf("the run was cancelled (SIGINT/SIGTERM or timeout): %w", cause)
	} else if sr.Verdict != VerdictFailed {
		sr.Verdict, sr.Reason = VerdictFailed, cause.Error()
	}
	fe := &FailedError{Stage: *sr, Cause: cause}
	defer func() {
		if e.OnStageEnd != nil {
			e.OnStageEnd(*sr)
		}
	}()
	if r.pending != nil && (!e.cfg.Rollback || r.out.BaselineID == "") {
		// No rollback follows, but the outputs must say what is live: the
		// write whose outcome is unknown may still be applied.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RollbackTimeout)
		if live, err := r.settle(sctx); err == nil {
			r.confirmed(live)
		}
		cancel()
	}
	pct := FormatPercent(r.out.Percentage)
	switch {
	case r.owned == nil && r.pending == nil:
		fe.Rollback = "nothing was deployed, so there is nothing to roll back"
		return fe
	case !e.cfg.Rollback:
		fe.Rollback = fmt.Sprintf("rollback is false: version %s keeps %s%% of traffic", e.cfg.VersionID, pct)
		return fe
	case r.out.BaselineID == "":
		fe.Rollback = fmt.Sprintf("there was no deployment before this run, so there is no previous version to roll back to: version %s keeps %s%%", e.cfg.VersionID, pct)
		return fe
	}
	// The run's ctx may be cancelled (SIGINT): the rollback gets its own
	// deadline so that it can still write.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RollbackTimeout)
	defer cancel()
	// A stage write whose outcome is unknown (r.pending) may still be applied
	// after the client gave up on it. The rollback is not held back for it:
	// the baseline is restored at once, then the live deployment is watched
	// for the settle window and restored again if that write lands.
	settleEnd := e.clock.Now().Add(e.cfg.SettleWindow)
	live, err := r.read(rctx)
	r.adopt(live)
	already := false
	switch {
	case err != nil:
		// Without the live deployment ownership cannot be checked; restoring the
		// baseline is still the safer choice for a rollout that failed.
		e.log.Warningf("could not re-read the live deployment before the rollback (%v); restoring the previous version anyway", err)
	case live != nil && len(live.Shares) == 1 && live.Shares[0].VersionID == r.out.BaselineID:
		already = true
	case !r.ours(live):
		r.out.Percentage = r.shareIn(live)
		fe.Rollback = "not rolled back: " + (&ChangedError{Expected: r.ownedID(), Live: live, When: "before the rollback"}).Error()
		return fe
	}
	restore := func() (*Deployment, bool) {
		d, err := e.dep.Deploy(rctx, []Share{{VersionID: r.out.BaselineID, Percentage: 100}})
		if err != nil {
			fe.RollbackErr = fmt.Errorf("failed to roll back to version %s: %w", r.out.BaselineID, err)
			fe.Rollback = fe.RollbackErr.Error() + fmt.Sprintf("; version %s may still have %s%%: restore the previous version by hand (wrangler rollback or the dashboard)", e.cfg.VersionID, pct)
			return nil, false
		}
		r.out.DeploymentID = d.ID
		return d, true
	}
	var rolled *Deployment // the last rollback written
	expect := ""           // the deployment that must be live at the end
	if already {
		expect = live.ID
	} else {
		d, ok := restore()
		if !ok {
			return fe
		}
		rolled, expect = d, d.ID
	}
	for r.pending != nil && e.clock.Now().Before(settleEnd) {
		if r.sleep(rctx, min(settleInterval, settleEnd.Sub(e.clock.Now()))) != nil {
			break
		}
		now, err := r.read(rctx)
		if err != nil || now == nil || !sameShares(now.Shares, r.pending) {
			continue
		}
		e.log.Warningf("the stage write whose outcome was unknown was applied late (%s); restoring version %s again", now.ID, r.out.BaselineID)
		r.owned, r.pending = now, nil
		d, ok := restore()
		if !ok {
			return fe
		}
		rolled, expect = d, d.ID
	}
	// Report only what a read confirms.
	after, err := r.read(rctx)
	switch {
	case err != nil:
		r.out.Percentage = 0
		fe.Rollback = fmt.Sprintf("version %s should serve 100%% again (deployment %s), but the live deployment could not be read to confirm it (%v); check it in the dashboard", r.out.BaselineID, expect, err)
		return fe
	case after == nil || after.ID != expect:
		r.out.Percentage = r.shareIn(after)
		fe.Rollback = fmt.Sprintf("not rolled back: deployment %s should be live, but %s is live now, giving version %s %s%%. Someone deployed right after, or a write still in flight landed late; restore the previous version by hand if needed (wrangler rollback or the dashboard)", expect, after.describe(), e.cfg.VersionID, FormatPercent(r.out.Percentage))
		return fe
	}
	r.out.Percentage = 0
	if rolled == nil {
		fe.Rollback = fmt.Sprintf("the previous version %s already serves 100%% (%s)", r.out.BaselineID, live.ID)
		return fe
	}
	r.out.RolledBack = true
	fe.Rollback = fmt.Sprintf("rolled back: version %s serves 100%% again (deployment %s)", r.out.BaselineID, rolled.ID)
	e.log.Infof("rolled back to version %s (deployment %s)", r.out.BaselineID, rolled.ID)
	return fe
}

// adopt takes live as the run's own when it is the pending split: the write
// whose outcome was unknown was applied.
func (r *run) adopt(live *Deployment) {
	if r.pending != nil && live != nil && sameShares(live.Shares, r.pending) {
		r.owned, r.pending = live, nil
	}
}

// read returns the live deployment. Once this run has written (or may have
// written) a deployment, an empty answer cannot be the state: it is read
// again a few times before it is believed.
func (r *run) read(ctx context.Context) (*Deployment, error) {
	live, err := r.e.dep.Live(ctx)
	for n := 0; err == nil && live == nil && (r.owned != nil || r.pending != nil) && n < emptyRereads; n++ {
		if err = r.sleep(ctx, settleInterval); err != nil {
			break
		}
		live, err = r.e.dep.Live(ctx)
	}
	return live, err
}

// settle reads the live deployment. When a stage write's outcome is unknown
// (r.pending), the API may still apply it: the deployment is read again until
// it shows that split (it was applied: it is adopted as the run's own) or the
// settle window has passed.
func (r *run) settle(ctx context.Context) (*Deployment, error) {
	live, err := r.read(ctx)
	if r.pending == nil {
		return live, err
	}
	end := r.e.clock.Now().Add(r.e.cfg.SettleWindow)
	for {
		if err == nil {
			if r.adopt(live); r.pending == nil {
				return live, nil
			}
		}
		if !r.e.clock.Now().Before(end) || ctx.Err() != nil {
			return live, err
		}
		if serr := r.sleep(ctx, settleInterval); serr != nil {
			return live, err
		}
		live, err = r.read(ctx)
	}
}

// confirmed sets the outputs from a deployment just read.
func (r *run) confirmed(live *Deployment) {
	r.out.Percentage = r.shareIn(live)
	if live != nil && r.ours(live) {
		r.out.DeploymentID, r.out.Deployed = live.ID, true
	}
}

// sameDeployment reports whether two reads show the same live deployment.
func sameDeployment(a, b *Deployment) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.ID == b.ID
}

// shareIn is the new version's share of d, percent.
func (r *run) shareIn(d *Deployment) float64 {
	if d == nil {
		return 0
	}
	for _, s := range d.Shares {
		if s.VersionID == r.e.cfg.VersionID {
			return s.Percentage
		}
	}
	return 0
}

func (r *run) ownedID() string {
	if r.owned == nil {
		return "(none yet)"
	}
	return r.owned.ID
}

// ours reports whether live is the deployment this run wrote last, or the
// split whose write failed in a way that may have applied it.
func (r *run) ours(live *Deployment) bool {
	if live == nil {
		return false
	}
	if r.owned != nil && live.ID == r.owned.ID {
		return true
	}
	return r.pending != nil && sameShares(live.Shares, r.pending)
}

func sameShares(a, b []Share) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		found := false
		for _, y := range a {
			if x.VersionID == y.VersionID && math.Abs(x.Percentage-y.Percentage) <= percentTolerance {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
