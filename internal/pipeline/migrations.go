package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// migrationsObject is the version's migrations field (docs/wrangler.md
// "Durable Object migrations").
type migrationsObject struct {
	OldTag string            `json:"old_tag,omitempty"`
	NewTag string            `json:"new_tag"`
	Steps  []json.RawMessage `json:"steps"`
}

// pendingMigrations computes the migrations a version carries, as wrangler
// does: all steps when the Worker has no migration tag; the steps after the
// current tag when the file has it (none when it is the last); all steps with
// a warning when the file does not have it. It returns nil when there is
// nothing to send.
func pendingMigrations(ms []wrangler.Migration, current string) (json.RawMessage, string) {
	if len(ms) == 0 {
		return nil, ""
	}
	from, warning := 0, ""
	if current != "" {
		idx := -1
		for i, m := range ms {
			if m.Tag == current {
				idx = i
			}
		}
		switch {
		case idx == len(ms)-1:
			return nil, ""
		case idx >= 0:
			from = idx + 1
		default:
			warning = fmt.Sprintf("the Worker's migration tag %q is not in the configuration's migrations; sending all of them (as wrangler does)", current)
		}
	}
	obj := migrationsObject{OldTag: current, NewTag: ms[len(ms)-1].Tag}
	for _, m := range ms[from:] {
		obj.Steps = append(obj.Steps, m.Step)
	}
	raw, _ := json.Marshal(obj)
	return raw, warning
}

// planMigrations reads the Worker's current migration tag (read-only) and
// sets st.migrations. A version that carries migrations is deployed to all
// traffic at once, so staged `stages` are refused here, before any write.
func planMigrations(ctx context.Context, api API, cfg *inputs.Config, st *settings, log Logger) error {
	ms := st.project.version.Migrations
	if len(ms) == 0 {
		return nil
	}
	name := st.worker
	if inputs.IsWorkerID(name) {
		w, err := api.GetWorker(ctx, name)
		switch {
		case err == nil:
			name = w.Name
		case cloudflare.IsNotFound(err):
			name = ""
		default:
			return fmt.Errorf("failed to look up Worker %q: %w", st.worker, err)
		}
	}
	current := ""
	if name != "" {
		var err error
		if current, err = api.ScriptMigrationTag(ctx, name); err != nil {
			return err
		}
	}
	raw, warning := pendingMigrations(ms, current)
	if warning != "" {
		log.Warningf("%s", warning)
	}
	st.migrations = raw
	if raw == nil {
		log.Infof("Durable Object migrations: up to date (tag %s)", current)
		return nil
	}
	var obj migrationsObject
	_ = json.Unmarshal(raw, &obj)
	from := current
	if from == "" {
		from = "none"
	}
	log.Infof("Durable Object migrations: %d step(s) from tag %s to %s, applied when the version is deployed", len(obj.Steps), from, obj.NewTag)
	if cfg.Deploy && cfg.Rollout.Staged() {
		return &inputs.Error{Input: "stages", Err: fmt.Errorf("this version carries Durable Object migrations (tag %s to %s), which apply to all traffic at once, so it cannot be rolled out in stages (`stages: %s`); deploy it with `stages: 100%%` (the default), then use stages again for later versions", from, obj.NewTag, cfg.Rollout.StagesInput)}
	}
	return nil
}
