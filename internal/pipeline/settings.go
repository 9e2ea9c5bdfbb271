package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// resolveSettings merges inputs over the wrangler configuration.
func resolveSettings(cfg *inputs.Config, deps Deps) (*settings, error) {
	st := &settings{worker: cfg.Worker, compatDate: cfg.CompatibilityDate, compatFl: cfg.CompatibilityFlags}
	path, err := wrangler.Find(cfg.WorkingDirectory, cfg.ConfigFile)
	switch {
	case errors.Is(err, wrangler.ErrNotFound):
	case err != nil:
		return nil, &inputs.Error{Input: "config", Err: err}
	case path != "":
		wc, err := wrangler.Load(path, deps.ReadFile)
		if err != nil {
			return nil, &inputs.Error{Input: "config", Err: err}
		}
		st.configPath = path
		if len(wc.Unsupported) > 0 {
			return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s sets %s: bindings and assets from wrangler configuration are not supported by this build yet, and deploying without them would ship a broken Worker; remove them or use `config: none` if the Worker does not need them",
				filepath.Base(path), strings.Join(wc.Unsupported, ", "))}
		}
		if len(wc.Ignored) > 0 {
			deps.Log.Noticef("%s: these keys are not applied by workers-deploy (manage them with wrangler or Terraform): %s", filepath.Base(path), strings.Join(wc.Ignored, ", "))
		}
		if st.worker == "" {
			st.worker = wc.Name
			if st.worker != "" {
				if err := inputs.CheckWorkerName(st.worker); err != nil {
					return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `name`: %w", filepath.Base(path), err)}
				}
			}
		}
		st.configMain = wc.Main
		if st.compatDate == "" && wc.CompatibilityDate != "" {
			if err := inputs.CheckCompatibilityDate(wc.CompatibilityDate, deps.Now()); err != nil {
				return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `compatibility_date`: %w", filepath.Base(path), err)}
			}
			st.compatDate = wc.CompatibilityDate
		}
		if !cfg.CompatibilityFlagsSet {
			st.compatFl = wc.CompatibilityFlags
		}
	}
	if st.worker == "" {
		return nil, &inputs.Error{Input: "worker", Err: errors.New("no Worker named: set the `worker` input, or `name` in wrangler configuration")}
	}
	if st.compatDate == "" {
		return nil, &inputs.Error{Input: "compatibility-date", Err: errors.New("no compatibility date: set the `compatibility-date` input (YYYY-MM-DD) or `compatibility_date` in wrangler configuration")}
	}
	return st, nil
}
