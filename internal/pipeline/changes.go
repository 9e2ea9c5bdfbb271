package pipeline

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// Changes is what a pull-request run's build changes against production: the
// version with the largest share of the Worker's live deployment
// (docs/change-summary.md). It names bindings, flags and tags, never values.
type Changes struct {
	// NoProduction is true when the Worker has no live deployment (or was
	// created by this run): everything is new, nothing below is set.
	NoProduction bool
	// Unavailable explains why production could not be read ("" when it was).
	Unavailable string
	// ProductionVersionID and ProductionVersionNumber name the version compared against.
	ProductionVersionID     string
	ProductionVersionNumber int

	// Bindings are the bindings added, removed or changed, sorted by name.
	Bindings []BindingChange

	// CompatibilityDateFrom is production's compatibility date when it differs
	// from this build's (CompatibilityDateTo), else both are "".
	CompatibilityDateFrom, CompatibilityDateTo string
	// FlagsAdded and FlagsRemoved are the compatibility flags this build adds or drops.
	FlagsAdded, FlagsRemoved []string

	// ModulesFrom and BytesFrom are production's module count and total size;
	// ModulesTo and BytesTo this build's. SizesKnown is false when production's
	// modules were not read.
	ModulesFrom, ModulesTo int
	BytesFrom, BytesTo     int64
	SizesKnown             bool

	// Assets is set when this build has static assets.
	Assets *AssetChanges

	// Migrations is set when this build carries Durable Object migrations that
	// production has not applied.
	Migrations *PendingMigrations
}

// BindingChange is one binding that differs from production, by name.
type BindingChange struct {
	Name string
	// Change is "added", "removed" or "changed".
	Change string
	// Type is the binding's type in this build ("" when removed); OldType its
	// type in production ("" when added, or when the type is unchanged).
	Type, OldType string
	// Fields are the keys whose values differ when the type is the same (for
	// example "namespace_id", or "text" for a plain_text var). Values are
	// never kept.
	Fields []string
}

// AssetChanges is what is known about the static assets against what
// Cloudflare stores for the Worker.
type AssetChanges struct {
	// Files is the number of files of this build's manifest.
	Files int
	// NewOrChanged counts the files whose content Cloudflare did not have (the
	// upload session's buckets); -1 when no upload ran. Added and changed
	// files cannot be told apart, and removed files are not known: the
	// production version's asset manifest cannot be read through the API.
	NewOrChanged int
}

// PendingMigrations are Durable Object migrations that apply when this
// build's version is deployed.
type PendingMigrations struct {
	// FromTag is production's migration tag ("" for none); ToTag this build's last tag.
	FromTag, ToTag string
	Steps          int
}

// nextBuild is what diffChanges compares production with.
type nextBuild struct {
	bindings    []bindings.Binding
	compatDate  string
	compatFlags []string
	modules     int
	bytes       int64
	assets      *AssetChanges
	migrations  json.RawMessage
	// keepSecrets: production's secrets this build does not send are carried.
	keepSecrets bool
}

// diffChanges compares the production version live (read with or without its
// modules) with this build. It is pure: no request, no value in its answer.
func diffChanges(live *cloudflare.Version, next nextBuild) *Changes {
	c := &Changes{
		ProductionVersionID:     live.ID,
		ProductionVersionNumber: live.Number,
		Bindings:                diffBindings(live.Bindings, next.bindings, next.keepSecrets),
		ModulesTo:               next.modules,
		BytesTo:                 next.bytes,
		Assets:                  next.assets,
		Migrations:              migrationsChange(next.migrations),
	}
	if live.CompatibilityDate != next.compatDate {
		c.CompatibilityDateFrom, c.CompatibilityDateTo = live.CompatibilityDate, next.compatDate
	}
	c.FlagsAdded, c.FlagsRemoved = setDiff(next.compatFlags, live.CompatibilityFlags), setDiff(live.CompatibilityFlags, next.compatFlags)
	if live.Modules != nil {
		c.SizesKnown = true
		c.ModulesFrom = len(live.Modules)
		for _, m := range live.Modules {
			c.BytesFrom += int64(len(m.Content))
		}
	}
	return c
}

// setDiff returns the sorted elements of a that b lacks.
func setDiff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// diffBindings compares production's bindings (as the API returns them) with
// the ones this build sends. A binding of the same name and type is changed
// when a key this build sends has another value there; keys the API adds are
// not compared, and neither are secret values, which the API never returns.
// A secret carried with `inherit` (keep-secrets) is production's secret,
// unchanged, and so is, with keepSecrets, a production secret this build
// does not send.
func diffBindings(stored []json.RawMessage, next []bindings.Binding, keepSecrets bool) []BindingChange {
	have := map[string]map[string]any{}
	for _, raw := range stored {
		var b map[string]any
		if decode(raw, &b) != nil || b == nil {
			continue
		}
		name, _ := b["name"].(string)
		have[name] = b
	}
	var out []BindingChange
	sending := map[string]bool{}
	for _, w := range next {
		sending[w.Name] = true
		h, ok := have[w.Name]
		oldType, _ := h["type"].(string)
		switch {
		case !ok:
			if w.Type != "inherit" {
				out = append(out, BindingChange{Name: w.Name, Change: "added", Type: w.Type})
			}
		case w.Type == "inherit":
			// Carried from production as it is.
		case oldType != w.Type:
			out = append(out, BindingChange{Name: w.Name, Change: "changed", Type: w.Type, OldType: oldType})
		default:
			var wm map[string]any
			if decode(w.JSON, &wm) != nil {
				continue
			}
			var fields []string
			for k, v := range wm {
				if k == "name" || k == "type" || writeOnly[w.Type][k] {
					continue
				}
				if !reflect.DeepEqual(h[k], v) {
					fields = append(fields, k)
				}
			}
			if len(fields) > 0 {
				sort.Strings(fields)
				out = append(out, BindingChange{Name: w.Name, Change: "changed", Type: w.Type, Fields: fields})
			}
		}
	}
	for name, h := range have {
		t, _ := h["type"].(string)
		if !sending[name] && !(keepSecrets && t == "secret_text") {
			out = append(out, BindingChange{Name: name, Change: "removed", OldType: t})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// migrationsChange reads the version's migrations object (migrations.go).
func migrationsChange(raw json.RawMessage) *PendingMigrations {
	if raw == nil {
		return nil
	}
	var obj migrationsObject
	if json.Unmarshal(raw, &obj) != nil || len(obj.Steps) == 0 {
		return nil
	}
	return &PendingMigrations{FromTag: obj.OldTag, ToTag: obj.NewTag, Steps: len(obj.Steps)}
}

// wantsChanges says whether the run renders a change summary: a pull-request
// run that does not deploy production, or a previews-mode run.
func wantsChanges(cfg *inputs.Config, ev *ghevent.Context, preview string) bool {
	return !cfg.DryRun && (preview != "" || (ev.IsPullRequest() && !cfg.Deploy))
}

// changesFor compares this run's build with production. It reads the live
// deployment and the production version (with its modules) at most once per
// run, sharing the answer with keep-secrets; a Worker that was never deployed
// costs no read. A failed read is a warning: the summary says production
// could not be read, the run goes on.
func changesFor(ctx context.Context, api API, st *settings, w *worker, res *Result, log Logger) *Changes {
	if w.created || (!w.deployed && !(st.live != nil && st.live.prodDone)) {
		return &Changes{NoProduction: true}
	}
	live, err := st.live.production(ctx, api, w.Name, w.ref(), "the change summary")
	if err != nil {
		log.Warningf("change summary left out: %v", err)
		return &Changes{Unavailable: "production could not be read (see the log)"}
	}
	if live == nil {
		return &Changes{NoProduction: true}
	}
	next := nextBuild{
		bindings:    st.sent,
		compatDate:  st.compatDate,
		compatFlags: st.compatFl,
		modules:     len(res.Modules),
		migrations:  st.migrations,
		keepSecrets: st.project.keepSecrets,
	}
	if next.bindings == nil {
		next.bindings = st.project.bindings
	}
	for _, m := range res.Modules {
		next.bytes += m.Size
	}
	if res.Assets != nil {
		next.assets = &AssetChanges{Files: res.Assets.Files, NewOrChanged: res.Assets.Uploaded}
	}
	if res.Preview != nil {
		// Against production: the steps production has not applied yet (the
		// Preview applies its own, after its own tag; previews.go).
		next.migrations, _ = pendingMigrations(st.project.version.Migrations, live.MigrationTag)
	}
	return diffChanges(live, next)
}
