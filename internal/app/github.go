package app

import (
	"context"

	"github.com/sethvargo/go-githubactions"

	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// githubObserver follows the rollout for GitHub Deployment statuses (issue 4).
func githubObserver(ctx context.Context, action *githubactions.Action, cfg *inputs.Config, ev *ghevent.Context, env Env) pipeline.Observer {
	return pipeline.NopObserver{}
}

// reportGitHub writes the sticky PR comment and finishes the GitHub Deployment
// (issue 4). Failures are warnings: they never fail a good deploy. It sets
// res.CommentURL when a comment was written.
func reportGitHub(ctx context.Context, action *githubactions.Action, cfg *inputs.Config, ev *ghevent.Context, env Env, res *pipeline.Result, runErr error) {
}
