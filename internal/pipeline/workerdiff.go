package pipeline

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// workerSettingsDiff lists the Worker-level settings of the configuration
// that differ from the live Worker, one entry per setting ("" values are not
// set in the configuration and never differ).
func workerSettingsDiff(w *cloudflare.Worker, ws wrangler.WorkerSettings) []string {
	var out []string
	if ws.Logpush != nil && *ws.Logpush != w.Logpush {
		out = append(out, fmt.Sprintf("logpush (%t here, %t on the Worker)", *ws.Logpush, w.Logpush))
	}
	if ws.WorkersDev != nil && *ws.WorkersDev != w.Subdomain.Enabled {
		out = append(out, fmt.Sprintf("workers_dev (%t here, %t on the Worker)", *ws.WorkersDev, w.Subdomain.Enabled))
	}
	if ws.PreviewURLs != nil && *ws.PreviewURLs != w.Subdomain.PreviewsEnabled {
		out = append(out, fmt.Sprintf("preview_urls (%t here, %t on the Worker)", *ws.PreviewURLs, w.Subdomain.PreviewsEnabled))
	}
	if len(ws.Tags) > 0 && !slices.Equal(sorted(ws.Tags), sorted(w.Tags)) {
		out = append(out, fmt.Sprintf("tags ([%s] here, [%s] on the Worker)", strings.Join(ws.Tags, ", "), strings.Join(w.Tags, ", ")))
	}
	if len(ws.Observability) > 0 {
		var want, live any
		_ = json.Unmarshal(ws.Observability, &want)
		_ = json.Unmarshal(w.Observability, &live)
		if !subset(want, live) {
			out = append(out, fmt.Sprintf("observability (%s here, %s on the Worker)", ws.Observability, orNone(w.Observability)))
		}
	}
	if len(ws.TailConsumers) > 0 {
		var want []struct {
			Service string `json:"service"`
		}
		_ = json.Unmarshal(ws.TailConsumers, &want)
		var names []string
		for _, t := range want {
			names = append(names, t.Service)
		}
		var live []string
		for _, t := range w.TailConsumers {
			live = append(live, t.Name)
		}
		if !slices.Equal(sorted(names), sorted(live)) {
			out = append(out, fmt.Sprintf("tail_consumers ([%s] here, [%s] on the Worker)", strings.Join(names, ", "), strings.Join(live, ", ")))
		}
	}
	return out
}

// subset reports whether every value set in want is the same in live
// (objects compared key by key; numbers as numbers).
func subset(want, live any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(want, live)
	}
	lm, ok := live.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range wm {
		if !subset(v, lm[k]) {
			return false
		}
	}
	return true
}

func orNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "none"
	}
	return string(raw)
}
