package wrangler

import (
	"encoding/json"
	"errors"
	"sort"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
)

// Previews is the configuration's `previews` block: the settings of Worker
// Previews (wrangler 4.135+). As in wrangler, its bindings and vars do not
// come from the top level; main, the compatibility settings, limits and
// placement fall back to the top level when the block does not set them.
type Previews struct {
	// Main, CompatibilityDate and CompatibilityFlags are the block's own
	// values, "" or nil when it does not set them (HasCompatibilityFlags tells
	// an empty list from an absent key).
	Main                  string
	CompatibilityDate     string
	CompatibilityFlags    []string
	HasCompatibilityFlags bool
	// Bindings are the block's bindings and vars, sorted by name.
	Bindings []bindings.Binding
	// Limits, Placement and CacheOptions (the key `cache`) are the block's
	// objects, else the top level's, in the API's format; nil when neither
	// sets them.
	Limits, Placement, CacheOptions json.RawMessage
	// Worker holds observability, logpush and tags, applied when the action
	// creates the Preview.
	Worker WorkerSettings
	// TailConsumers are the names of the block's tail consumers.
	TailConsumers []string
	// Define is the block's `define`: as wrangler bundles a Preview, the
	// top level's `define` is not used (nil when the block has none).
	Define map[string]string
	// Ignored lists the block's keys the action does not apply (such as
	// `containers`), as "previews.<key>", sorted; reported only when a run
	// deploys a Preview.
	Ignored []string
}

// previewsApplied are the `previews` keys the action applies besides the
// binding keys.
var previewsApplied = map[string]bool{
	"main": true, "compatibility_date": true, "compatibility_flags": true, "observability": true,
	"logpush": true, "tags": true, "limits": true, "placement": true, "cache": true,
	"tail_consumers": true, "define": true,
}

// DefaultPreviews are the settings of a Preview for a configuration without a
// `previews` block (previews mode chosen by an input): no bindings of its own,
// the top level's limits, placement and cache.
func DefaultPreviews(top VersionSettings) *Previews {
	return &Previews{Limits: top.Limits, Placement: top.Placement, CacheOptions: top.CacheOptions}
}

// parsePreviews reads the `previews` block of the effective configuration eff
// over DefaultPreviews(top), or returns nil when there is none.
func parsePreviews(eff map[string]json.RawMessage, prefix string, top VersionSettings) (*Previews, error) {
	raw, ok := eff["previews"]
	if !ok {
		return nil, nil
	}
	var section map[string]json.RawMessage
	if json.Unmarshal(raw, &section) != nil || section == nil {
		return nil, errors.New("key \"" + prefix + "previews\" must be an object")
	}
	p := &parser{raw: section, prefix: prefix + "previews."}
	out := DefaultPreviews(top)
	p.str("main", &out.Main)
	p.str("compatibility_date", &out.CompatibilityDate)
	if _, ok := section["compatibility_flags"]; ok {
		out.HasCompatibilityFlags = true
		p.strList("compatibility_flags", &out.CompatibilityFlags)
	}
	p.workerSettings(&out.Worker)
	if v, ok := section["define"]; ok {
		if json.Unmarshal(v, &out.Define) != nil {
			p.fail("key %q must be a table of strings", prefix+"previews.define")
		}
	}
	p.runtimeObjects(&out.Limits, &out.Placement, &out.CacheOptions)
	if v, ok := section["tail_consumers"]; ok {
		var tcs []struct {
			Service string `json:"service"`
		}
		if json.Unmarshal(v, &tcs) != nil {
			p.fail("key %q must be a list of {\"service\": name}", prefix+"previews.tail_consumers")
		}
		for _, tc := range tcs {
			out.TailConsumers = append(out.TailConsumers, tc.Service)
		}
	}
	bs := p.bindings()
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	merged, err := bindings.Merge(bindings.Layer{Source: "the configuration's previews block", Bindings: bs})
	if err != nil {
		return nil, err
	}
	out.Bindings = merged
	for k, v := range section {
		if !previewsApplied[k] && !bindingKeys[k] && !quietKey(k, v) {
			out.Ignored = append(out.Ignored, "previews."+k)
		}
	}
	sort.Strings(out.Ignored)
	return out, nil
}
