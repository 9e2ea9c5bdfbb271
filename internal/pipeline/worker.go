package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

type worker struct {
	// ID is empty when the Worker was addressed by name and not read
	// (previews mode).
	ID, Name string
	created  bool
	// deployed is false when the Worker has never been deployed; true also
	// when that is not known.
	deployed bool
}

// ref is how API paths that take an ID or a name address the Worker.
func (w *worker) ref() string {
	if w.ID != "" {
		return w.ID
	}
	return w.Name
}

// resolveWorkerFor finds the Worker st names (by name or ID) and creates it
// when allowed, with the configuration's Worker-level settings.
func resolveWorkerFor(ctx context.Context, api API, cfg *inputs.Config, st *settings, log Logger) (*worker, error) {
	nameOrID := st.worker
	w, err := api.GetWorker(ctx, nameOrID)
	if err == nil {
		log.Infof("Worker %s (%s) found", w.Name, w.ID)
		if st.project.hasWorkerSettings() {
			// An existing Worker's settings belong to whoever provisioned it:
			// they are never changed, only reported when they differ.
			if diff := workerSettingsDiff(w, st.project.worker); len(diff) > 0 {
				log.Noticef("%s: these Worker-level settings differ from the live Worker %s and were not applied (they are written only when the action creates the Worker; change them in the dashboard, with wrangler or Terraform): %s", filepath.Base(st.configPath), w.Name, strings.Join(diff, "; "))
			}
		}
		return &worker{ID: w.ID, Name: w.Name, deployed: w.DeployedOn != nil}, nil
	}
	if !cloudflare.IsNotFound(err) {
		return nil, fmt.Errorf("failed to look up Worker %q: %w", nameOrID, err)
	}
	return createMissingWorker(ctx, api, cfg, st, log)
}

// createMissingWorker creates the Worker st names, known to be missing, when
// allowed: a name (not an ID) and `create-worker`.
func createMissingWorker(ctx context.Context, api API, cfg *inputs.Config, st *settings, log Logger) (*worker, error) {
	nameOrID := st.worker
	if inputs.IsWorkerID(nameOrID) {
		return nil, &inputs.Error{Input: "worker", Err: fmt.Errorf("%w: no Worker has ID %s in this account; check `worker` and `account-id`", ErrWorkerNotFound, nameOrID)}
	}
	if !cfg.CreateWorker {
		return nil, &inputs.Error{Input: "create-worker", Err: fmt.Errorf("%w: Worker %q is not in this account and `create-worker` is false; provision it first (Terraform `cloudflare_worker`, the dashboard) or set `create-worker: true`", ErrWorkerNotFound, nameOrID)}
	}
	// Worker-level settings are written only here, on creation.
	created, err := api.CreateWorker(ctx, st.project.workerInput(nameOrID))
	if err != nil {
		return nil, fmt.Errorf("failed to create Worker %q: %w", nameOrID, err)
	}
	log.Infof("Worker %s (%s) created", created.Name, created.ID)
	return &worker{ID: created.ID, Name: created.Name, created: true}, nil
}
