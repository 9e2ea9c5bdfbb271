package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/gates"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// StageReport is one stage of a rollout, for reports.
type StageReport struct {
	// Index is the stage's 0-based position.
	Index int
	// Percentage is the new version's share in this stage, percent.
	Percentage float64
	// Hold is the configured hold; Extended is the extra hold of no-data: hold.
	Hold, Extended time.Duration
	// DeploymentID is the deployment written for the stage.
	DeploymentID string
	// Resumed is true when the stage was already live (rerun).
	Resumed bool
	// Checks and FailedChecks count health checks.
	Checks, FailedChecks int
	// Measured is true when the error-rate gate got counts.
	Measured bool
	// Requests and Errors are the new version's invocations over the stage.
	Requests, Errors int64
	// Rate is the error rate, percent.
	Rate float64
	// NoData is true when there were fewer than min-requests requests.
	NoData bool
	// Verdict is how the stage ended: passed, failed, cancelled, not watched…
	Verdict string
	// Reason explains the verdict.
	Reason string
}

func stageReport(s rollout.StageResult) StageReport {
	return StageReport{
		Index: s.Index, Percentage: s.Percentage, Hold: s.Hold, Extended: s.Extended,
		DeploymentID: s.DeploymentID, Resumed: s.Resumed,
		Checks: s.Checks, FailedChecks: s.FailedChecks,
		Measured: s.Measured, Requests: s.Requests, Errors: s.Errors, Rate: s.Rate, NoData: s.NoData,
		Verdict: string(s.Verdict), Reason: s.Reason,
	}
}

// apiDeployer reads and writes a Worker's deployment through the API.
type apiDeployer struct {
	api       API
	name      string
	versionID string
	message   string
	// live hands over the list read before the upload, used once (secrets.go).
	live *liveMemo
}

var _ rollout.Deployer = (*apiDeployer)(nil)

func toRollout(d *cloudflare.Deployment) *rollout.Deployment {
	out := &rollout.Deployment{ID: d.ID, Source: d.Source, AuthorEmail: d.AuthorEmail, CreatedOn: d.CreatedOn}
	for _, v := range d.Versions {
		out.Shares = append(out.Shares, rollout.Share{VersionID: v.VersionID, Percentage: v.Percentage})
	}
	return out
}

// Live returns the live deployment: the first of the list (docs/workers-api.md §7.2).
func (a *apiDeployer) Live(ctx context.Context) (*rollout.Deployment, error) {
	ds, ok := a.live.take()
	if !ok {
		var err error
		if ds, err = a.api.ListDeployments(ctx, a.name); err != nil {
			return nil, err
		}
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return toRollout(&ds[0]), nil
}

// Deploy writes a split. The rollback (a split without the new version) is
// forced: Cloudflare blocks going back across a secret change without it
// (code 10220, docs/workers-api.md §7.1).
func (a *apiDeployer) Deploy(ctx context.Context, shares []rollout.Share) (*rollout.Deployment, error) {
	vs := make([]cloudflare.DeploymentVersion, 0, len(shares))
	rollback := true
	for _, s := range shares {
		vs = append(vs, cloudflare.DeploymentVersion{VersionID: s.VersionID, Percentage: s.Percentage})
		rollback = rollback && s.VersionID != a.versionID
	}
	msg := a.message
	if rollback {
		msg = fmt.Sprintf("workers-deploy: rollback from version %s", a.versionID)
	}
	d, err := a.api.CreateDeployment(ctx, a.name, vs, msg, rollback)
	if err != nil {
		if !errors.Is(err, cloudflare.ErrUnknownOutcome) {
			// The client re-reads after any ambiguous failure; without
			// ErrUnknownOutcome the write was rejected or found not applied.
			return nil, notApplied{err}
		}
		return nil, err
	}
	return toRollout(d), nil
}

// notApplied is a deployment error after which the write is known not to
// have been applied (rollout.ErrNotApplied); its text is the cause's.
type notApplied struct{ error }

func (e notApplied) Unwrap() error { return e.error }

func (e notApplied) Is(target error) bool { return target == rollout.ErrNotApplied }

// deploy walks the rollout of res.VersionID over cfg's stages.
func deploy(ctx context.Context, cfg *inputs.Config, deps Deps, name string, res *Result) error {
	rc := cfg.Rollout
	stages := rc.Stages
	if len(stages) == 0 {
		stages = rollout.DefaultStages
	}
	ecfg := rollout.Config{
		VersionID: res.VersionID, Stages: stages, Rollback: rc.Rollback, Interval: rc.HealthCheckInterval,
		MaxErrorRate: rc.MaxErrorRate, MinRequests: rc.MinRequests, NoData: rc.NoData,
	}
	if rc.HealthCheckURL != "" {
		hc := deps.HTTPClient
		if hc == nil {
			hc = &http.Client{}
		}
		ecfg.Health = gates.NewHealth(rc.HealthCheckURL, name, res.VersionID, hc, min(rc.HealthCheckInterval, gates.DefaultCheckTimeout))
	}
	if rc.ErrorRateGate {
		an := deps.Analytics
		if an == nil {
			an, _ = deps.API.(gates.InvocationsAPI)
		}
		if an == nil {
			return &inputs.Error{Input: "max-error-rate", Err: errors.New("the error-rate gate needs Cloudflare's analytics API, which this run has no client for; remove `max-error-rate` (a `health-check-url` gate needs no analytics)")}
		}
		ecfg.Rates = gates.NewErrorRate(an, name, res.VersionID)
	}
	// The keep-secrets read is the rollout's baseline; it was made before the
	// upload, so the rollout reads again before its first write.
	ecfg.StaleBaseline = deps.live.held()
	eng, err := rollout.New(ecfg, &apiDeployer{api: deps.API, name: name, versionID: res.VersionID, message: res.Message, live: deps.live}, deps.Clock, deps.Log)
	if err != nil {
		return err
	}
	eng.OnStageStart = func(s rollout.StageResult) { deps.Observer.StageStarted(res, stageReport(s)) }
	eng.OnStageEnd = func(s rollout.StageResult) {
		deps.Observer.StageFinished(res, stageReport(s))
		if s.Hold > 0 {
			deps.Log.Infof("stage %d (%s%%): %s; %d health checks, %s", s.Index+1, rollout.FormatPercent(s.Percentage), s.Verdict, s.Checks, measured(s))
		}
	}
	out, err := eng.Run(ctx)
	res.PreviousVersionID = out.BaselineID
	res.Deployed = out.Deployed || out.RolledBack
	res.DeploymentID = out.DeploymentID
	res.DeployedPercentage = out.Percentage
	res.RolledBack = out.RolledBack
	res.Stages = res.Stages[:0]
	for _, s := range out.Stages {
		res.Stages = append(res.Stages, stageReport(s))
	}
	if err != nil {
		return fmt.Errorf("failed to deploy version %s of %s: %w", res.VersionID, name, err)
	}
	if out.DeploymentID != "" {
		deps.Log.Infof("Deployed version %s to 100%% of %s (deployment %s)", res.VersionID, name, out.DeploymentID)
	}
	return nil
}

func measured(s rollout.StageResult) string {
	switch {
	case !s.Measured:
		return "error rate not measured"
	case s.NoData:
		return fmt.Sprintf("no data (%d requests)", s.Requests)
	}
	return fmt.Sprintf("%d errors in %d requests (%.2f%%)", s.Errors, s.Requests, s.Rate)
}
