package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/comment"
	"github.com/workers-deploy/workers-deploy/internal/console"
	"github.com/workers-deploy/workers-deploy/internal/ghdeploy"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/redact"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

// Time limits of GitHub reporting after the run: the deploy result stands
// either way, so a slow GitHub must not hold the job for long.
const (
	commentTimeout    = 60 * time.Second
	deploymentTimeout = 30 * time.Second
)

// githubReporter reports a run to GitHub: a GitHub Deployment that follows
// the rollout (as the pipeline's Observer) and the sticky PR comment
// (reportGitHub). Every failure is one warning; none changes the exit code.
type githubReporter struct {
	ctx    context.Context
	action *console.Console
	cfg    *inputs.Config
	ev     *ghevent.Context
	// red redacts the credentials and secret values from everything sent to
	// GitHub.
	red *redact.Redactor

	// clientOpts are the GitHub client's options from Env (HTTP client, clock).
	clientOpts []github.Option
	client     *github.Client
	clientErr  error
	tracker    *ghdeploy.Tracker
	// deployErr is a failure to start the GitHub Deployment, warned about in
	// reportGitHub.
	deployErr error
}

var _ pipeline.Observer = (*githubReporter)(nil)

// githubObserver follows the rollout for GitHub Deployment statuses.
func githubObserver(ctx context.Context, action *console.Console, cfg *inputs.Config, ev *ghevent.Context, red *redact.Redactor) *githubReporter {
	return &githubReporter{ctx: ctx, action: action, cfg: cfg, ev: ev, red: red}
}

// githubClient builds the client once, for GITHUB_API_URL (GHES included).
func (g *githubReporter) githubClient() (*github.Client, error) {
	if g.client == nil && g.clientErr == nil {
		g.client, g.clientErr = github.New(g.ev.APIURL, g.cfg.GitHub.Token, append([]github.Option{github.WithUserAgent("workers-deploy/" + Version)}, g.clientOpts...)...)
	}
	return g.client, g.clientErr
}

// VersionReady starts the GitHub Deployment when `github-deployment: true`.
func (g *githubReporter) VersionReady(res *pipeline.Result) {
	if !g.cfg.GitHub.Deployment || g.cfg.DryRun || g.tracker != nil || g.deployErr != nil {
		return
	}
	owner, repo, ok := g.ev.OwnerRepo()
	ref := g.ev.DefaultTag()
	if ref == "" {
		ref = g.ev.Ref
	}
	switch {
	case !ok:
		g.deployErr = errors.New("GITHUB_REPOSITORY (owner/name) is not set: this is not a GitHub Actions run")
		return
	case ref == "":
		g.deployErr = errors.New("no commit to deploy: GITHUB_SHA is not set")
		return
	}
	client, err := g.githubClient()
	if err != nil {
		g.deployErr = err
		return
	}
	env := g.cfg.GitHub.EnvironmentFor(g.cfg.Deploy)
	g.tracker = ghdeploy.Start(g.ctx, client, ghdeploy.Options{
		Owner: owner, Repo: repo, Ref: ref, Environment: env,
		// Versions that take no traffic are previews: GitHub shows them as
		// destroyed once inactive instead of keeping them as live environments.
		Transient: !g.cfg.Deploy,
		LogURL:    g.ev.RunURL(),
		// The deployment's nonce (run, attempt) lets the client find it again
		// after a create whose outcome is unknown.
		RunID: g.ev.RunID, RunAttempt: g.ev.RunAttempt,
	})
	g.tracker.VersionReady(res)
}

// StageStarted forwards to the GitHub Deployment.
func (g *githubReporter) StageStarted(res *pipeline.Result, st pipeline.StageReport) {
	if g.tracker != nil {
		g.tracker.StageStarted(res, st)
	}
}

// StageFinished forwards to the GitHub Deployment.
func (g *githubReporter) StageFinished(res *pipeline.Result, st pipeline.StageReport) {
	if g.tracker != nil {
		g.tracker.StageFinished(res, st)
	}
}

// reportGitHub writes the sticky PR comment and finishes the GitHub Deployment.
// Failures are warnings: they never fail a good deploy. It sets
// res.CommentURL when a comment was written. failure is the redacted advice
// for a failed run ("" on success), shared with the summary and ::error::.
// ctx outlives a cancelled run by a few seconds (see reportingContext): the
// final state is what users need, but the runner kills the step soon after
// its signal.
func reportGitHub(ctx context.Context, g *githubReporter, res *pipeline.Result, runErr error, failure string) {
	g.finishDeployment(ctx, res, runErr, failure)
	g.writeComment(ctx, res, failure)
}

func (g *githubReporter) finishDeployment(ctx context.Context, res *pipeline.Result, runErr error, failure string) {
	if g.deployErr != nil {
		g.warn("could not create a GitHub Deployment", g.deployErr, "deployments: write")
		return
	}
	if g.tracker == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, deploymentTimeout)
	defer cancel()
	// The client cuts the description to GitHub's 140 characters.
	out, err := g.tracker.Finish(ctx, res, runErr, failure)
	if err != nil {
		g.warn("could not record the GitHub Deployment", err, "deployments: write")
		return
	}
	if out.ID != 0 {
		g.action.Infof("GitHub Deployment %d (environment %q): %s", out.ID, g.cfg.GitHub.EnvironmentFor(g.cfg.Deploy), out.State)
	}
}

func (g *githubReporter) writeComment(ctx context.Context, res *pipeline.Result, failure string) {
	if !g.cfg.GitHub.Comment || !g.ev.IsPullRequest() || g.ev.PRNumber() <= 0 {
		return
	}
	worker := res.WorkerName
	if worker == "" {
		worker = res.WorkerID
	}
	if worker == "" {
		return // failed before the Worker was known: the ::error:: says why
	}
	owner, repo, ok := g.ev.OwnerRepo()
	if !ok {
		g.warn("could not write the pull-request comment", errors.New("GITHUB_REPOSITORY (owner/name) is not set"), "")
		return
	}
	client, err := g.githubClient()
	if err != nil {
		g.warn("could not write the pull-request comment", err, "")
		return
	}
	body := g.redact(comment.Render(worker, res, report.Details{RunURL: g.ev.RunURL(), Failure: failure}))
	ctx, cancel := context.WithTimeout(ctx, commentTimeout)
	defer cancel()
	out, err := comment.Upsert(ctx, client, comment.Target{Owner: owner, Repo: repo, Number: g.ev.PRNumber()}, worker, body)
	if err != nil {
		g.warn("could not write the pull-request comment", err, "pull-requests: write")
		return
	}
	res.CommentURL = out.URL
	g.action.Infof("Pull-request comment %s: %s", out.Action, out.URL)
}

// warn prints one ::warning:: for a reporting failure. A permission error
// names the permission the job lacks, and on fork pull requests says why the
// token is read-only; a create of unknown outcome says where to look. The
// job summary always has the report.
func (g *githubReporter) warn(what string, err error, permission string) {
	msg := fmt.Sprintf("%s: %s", what, err)
	if github.IsPermission(err) && permission != "" {
		msg += fmt.Sprintf(". The GitHub token lacks a permission: give the job `permissions: %s` (or pass a `github-token` that has it)", permission)
		if g.ev.IsFork() && !g.ev.IsPullRequestTarget() {
			msg += ". This pull request comes from a fork, and GitHub gives fork runs of `pull_request` a read-only token: post the report from a `workflow_run` job instead (see the README)"
		}
	}
	if errors.Is(err, github.ErrUnknownOutcome) {
		msg += ". GitHub may have applied the request anyway (nothing was re-sent, so there is no duplicate): the pull request may already show the comment, or the repository's deployments one without a final status"
	}
	msg += ". The deploy result is unaffected; the job summary has the full report."
	g.action.Warningf("%s", g.redact(msg))
}

// redact removes the credentials and secret values, in every escaped form,
// from text bound for GitHub or the log, in case an error message echoed one
// (defence in depth: errors are built without them).
func (g *githubReporter) redact(s string) string { return g.red.Redact(s) }

// closedNoteWanted reports whether a run on a closed pull request edits the
// sticky comment to say so: only when this run deleted the pull request's
// Preview (a pull request without one has nothing to correct), not in a dry
// run, not after a failure, and not with `comment: false`.
func closedNoteWanted(cfg *inputs.Config, ev *ghevent.Context, res *pipeline.Result, runErr error) bool {
	return res != nil && runErr == nil && !cfg.DryRun && cfg.GitHub.Comment &&
		ev.IsPullRequest() && ev.Payload.Action == "closed" && ev.PRNumber() > 0 &&
		res.Preview != nil && res.Preview.Deleted && res.WorkerName != ""
}

// closeComment edits the sticky comment of a closed pull request whose
// Preview was deleted to the closed note; it creates none. A failure is a
// warning.
func (g *githubReporter) closeComment(ctx context.Context, res *pipeline.Result) {
	const what = "could not mark the pull-request comment as closed"
	owner, repo, ok := g.ev.OwnerRepo()
	if !ok {
		g.warn(what, errors.New("GITHUB_REPOSITORY (owner/name) is not set"), "")
		return
	}
	client, err := g.githubClient()
	if err != nil {
		g.warn(what, err, "")
		return
	}
	number := g.ev.PRNumber()
	body := g.redact(comment.RenderClosed(res.WorkerName, res, number, g.ev.RunURL()))
	ctx, cancel := context.WithTimeout(ctx, commentTimeout)
	defer cancel()
	out, err := comment.Close(ctx, client, comment.Target{Owner: owner, Repo: repo, Number: number}, res.WorkerName, body)
	if err != nil {
		g.warn(what, err, "pull-requests: write")
		return
	}
	if out.Action == "" {
		g.action.Infof("Pull request #%d has no comment of this action to mark as closed", number)
		return
	}
	res.CommentURL = out.URL
	g.action.Infof("Pull-request comment %s: %s", out.Action, out.URL)
}
