package pipeline

import (
	"context"
	"fmt"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// dryRun makes only read requests (when credentials are there) and reports
// what a real run would do.
func dryRun(ctx context.Context, cfg *inputs.Config, deps Deps, st *settings, b *bundle.Bundle, res *Result) error {
	if deps.API == nil {
		deps.Log.Noticef("dry run: no API credentials, so the Worker and existing versions were not looked up; nothing was written")
		return nil
	}
	withAssets := ""
	if res.Assets != nil {
		withAssets = fmt.Sprintf(" with %d static asset files (only those the service lacks are uploaded)", res.Assets.Files)
	}
	if err := planMigrations(ctx, deps.API, cfg, st, deps.Log); err != nil {
		return err
	}
	if err := resolveResources(ctx, deps.API, cfg, st, deps.Log); err != nil {
		return err
	}
	for _, r := range st.project.resources {
		deps.Log.Noticef("dry run: a real run would create %s (create-resources: true)", describeResource(st, r))
	}
	res.Bindings = bindingInfo(st.project.bindings)
	w, err := deps.API.GetWorker(ctx, st.worker)
	switch {
	case err == nil:
		res.WorkerID, res.WorkerName, res.WorkerExists = w.ID, w.Name, true
	case cloudflare.IsNotFound(err):
		outcome := fmt.Sprintf("create it and a version tagged %q%s", res.Tag, withAssets)
		switch {
		case inputs.IsWorkerID(st.worker):
			outcome = "fail: no Worker has this ID (a Worker is created only by name)"
		case !cfg.CreateWorker:
			outcome = "fail (create-worker: false)"
		}
		deps.Log.Noticef("dry run: Worker %q does not exist; a real run would %s", st.worker, outcome)
		return nil
	default:
		return fmt.Errorf("failed to look up Worker %q: %w", st.worker, err)
	}
	full, _, err := reusable(ctx, deps.API, w.ID, b, res, st)
	if err != nil {
		return err
	}
	if full == nil {
		deps.Log.Noticef("dry run: a real run would create a version tagged %q%s%s; nothing was written", res.Tag, withAssets, map[bool]string{true: " and deploy it to 100%", false: ""}[cfg.Deploy])
		return nil
	}
	res.VersionID, res.VersionNumber, res.VersionReused = full.ID, full.Number, true
	deps.Log.Noticef("dry run: a real run would reuse version %s (#%d); nothing was written", full.ID, full.Number)
	return nil
}
