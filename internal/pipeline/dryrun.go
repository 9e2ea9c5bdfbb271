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
	w, err := deps.API.GetWorker(ctx, st.worker)
	switch {
	case err == nil:
		res.WorkerID, res.WorkerName, res.WorkerExists = w.ID, w.Name, true
	case cloudflare.IsNotFound(err):
		deps.Log.Noticef("dry run: Worker %q does not exist; a real run would %s", st.worker, map[bool]string{true: "create it", false: "fail (create-worker: false)"}[cfg.CreateWorker && !inputs.IsWorkerID(st.worker)])
		return nil
	default:
		return fmt.Errorf("failed to look up Worker %q: %w", st.worker, err)
	}
	existing, err := deps.API.FindVersionByTag(ctx, w.ID, res.Tag)
	if err != nil {
		return fmt.Errorf("failed to look for a version tagged %q: %w", res.Tag, err)
	}
	if existing == nil {
		deps.Log.Noticef("dry run: a real run would create a version tagged %q%s; nothing was written", res.Tag, map[bool]string{true: " and deploy it to 100%", false: ""}[cfg.Deploy])
		return nil
	}
	full, err := deps.API.GetVersion(ctx, w.ID, existing.ID, true)
	if err != nil {
		return fmt.Errorf("failed to read version %s: %w", existing.ID, err)
	}
	if diff := compareVersion(full, b, st); diff != "" {
		return fmt.Errorf("%w: version %s has tag %q but %s", ErrTagConflict, full.ID, res.Tag, diff)
	}
	res.VersionID, res.VersionNumber, res.VersionReused = full.ID, full.Number, true
	deps.Log.Noticef("dry run: a real run would reuse version %s (#%d); nothing was written", full.ID, full.Number)
	return nil
}
