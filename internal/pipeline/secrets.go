package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// liveMemo keeps the deployment list read for keep-secrets before the upload,
// so the rollout takes it as its baseline instead of reading it again. As it
// was read before the version upload, the rollout reads the live deployment
// again before its first write (and before every later stage and a
// rollback), and stops when it changed during the upload.
type liveMemo struct {
	mu    sync.Mutex
	list  []cloudflare.Deployment
	valid bool

	// withModules reads the production version with its modules (set when
	// the run renders a change summary, which needs their sizes); prod* keep
	// that one read for keep-secrets and the change summary (changes.go).
	withModules bool
	prodDone    bool
	prod        *cloudflare.Version
	prodErr     error

	// seen are the versions the tag lookup listed (without modules). When the
	// live version is among them and its answer carried its bindings, the
	// production read that needs no modules takes it from here: one request
	// less for every deploy (the live version is usually recent).
	seen map[string]cloudflare.Version
}

// remember keeps the versions a listing returned.
func (m *liveMemo) remember(vs []cloudflare.Version) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]cloudflare.Version{}
	}
	for _, v := range vs {
		m.seen[v.ID] = v
	}
}

// listed returns the listed version id when the listing carried its
// bindings. A listing without the `bindings` key (nil, unlike an empty list)
// cannot tell which secrets the version has, so it is not used.
func (m *liveMemo) listed(id string) (*cloudflare.Version, bool) {
	if m == nil || m.withModules {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.seen[id]
	if !ok || v.Bindings == nil {
		return nil, false
	}
	return &v, true
}

// production returns the version with the largest share of the Worker's
// live deployment, nil when it was never deployed. It reads the deployment
// list and the version once per run; later calls return the same answer.
func (m *liveMemo) production(ctx context.Context, api API, name, workerID, why string) (*cloudflare.Version, error) {
	if m != nil && m.prodDone {
		return m.prod, m.prodErr
	}
	v, err := func() (*cloudflare.Version, error) {
		liveID, err := liveVersionID(ctx, api, m, name, why)
		if err != nil || liveID == "" {
			return nil, err
		}
		if v, ok := m.listed(liveID); ok {
			return v, nil
		}
		v, err := api.GetVersion(ctx, workerID, liveID, m != nil && m.withModules)
		if err != nil {
			return nil, fmt.Errorf("failed to read the live version %s of %s (for %s): %w", liveID, name, why, err)
		}
		return v, nil
	}()
	if m != nil {
		m.prodDone, m.prod, m.prodErr = true, v, err
	}
	return v, err
}

// read lists the deployments and keeps the list for one take.
func (m *liveMemo) read(ctx context.Context, api API, name string) ([]cloudflare.Deployment, error) {
	list, err := api.ListDeployments(ctx, name)
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.mu.Lock()
		m.list, m.valid = list, true
		m.mu.Unlock()
	}
	return list, nil
}

// held reports whether a list is kept and not taken yet.
func (m *liveMemo) held() bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.valid
}

// take returns the kept list once.
func (m *liveMemo) take() ([]cloudflare.Deployment, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list, ok := m.list, m.valid
	m.list, m.valid = nil, false
	return list, ok
}

// liveVersionID returns the version that serves the most traffic in the
// Worker's live deployment, or "" when it was never deployed. The
// deployments endpoints take the Worker's name (docs/workers-api.md §4).
func liveVersionID(ctx context.Context, api API, memo *liveMemo, name, why string) (string, error) {
	ds, err := memo.read(ctx, api, name)
	if err != nil {
		return "", fmt.Errorf("failed to read the live deployment of %s (for %s): %w", name, why, err)
	}
	if len(ds) == 0 || len(ds[0].Versions) == 0 {
		return "", nil
	}
	best := ds[0].Versions[0]
	for _, dv := range ds[0].Versions[1:] {
		if dv.Percentage > best.Percentage {
			best = dv
		}
	}
	return best.VersionID, nil
}

// carriedSecrets returns an inherit binding, pinned to the live version, for
// each secret_text binding of the live version that this run does not send:
// so no secret needs a separate, deploying call (README, input `keep-secrets`).
func carriedSecrets(ctx context.Context, api API, memo *liveMemo, name, workerID string, sending []bindings.Binding) ([]bindings.Binding, error) {
	live, err := memo.production(ctx, api, name, workerID, "keep-secrets")
	if err != nil || live == nil {
		return nil, err
	}
	sent := map[string]bool{}
	for _, b := range sending {
		sent[b.Name] = true
	}
	var out []bindings.Binding
	for _, raw := range live.Bindings {
		var b struct{ Name, Type string }
		if json.Unmarshal(raw, &b) != nil || b.Type != "secret_text" || sent[b.Name] {
			continue
		}
		out = append(out, bindings.Inherit(b.Name, live.ID))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// writeOnly are binding keys the API never returns (docs/workers-api.md §6.3):
// such values can only be compared by the binding's name.
var writeOnly = map[string]map[string]bool{
	"secret_text": {"text": true},
	"secret_key":  {"key_base64": true, "key_jwk": true},
}

// compareBindings says how a stored version's bindings differ from the ones
// this run would send, or "". Secrets compare by name and type only. Keys
// the API adds to a binding are tolerated; with keepSecrets, extra
// secret_text bindings are the secrets carried by an earlier run. Messages
// name bindings, never values.
func compareBindings(stored []json.RawMessage, want []bindings.Binding, keepSecrets bool) string {
	have := map[string]map[string]any{}
	for _, raw := range stored {
		var b map[string]any
		if decode(raw, &b) != nil || b == nil {
			continue
		}
		name, _ := b["name"].(string)
		have[name] = b
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.Name] = true
		h, ok := have[w.Name]
		if !ok {
			return fmt.Sprintf("it has no binding %q", w.Name)
		}
		if h["type"] != w.Type {
			return fmt.Sprintf("its binding %q is of type %v, not %s", w.Name, h["type"], w.Type)
		}
		var wm map[string]any
		if decode(w.JSON, &wm) != nil {
			return fmt.Sprintf("binding %q cannot be compared", w.Name)
		}
		for k, v := range wm {
			if writeOnly[w.Type][k] {
				continue
			}
			if !reflect.DeepEqual(h[k], v) {
				return fmt.Sprintf("its binding %q (%s) has another %s", w.Name, w.Type, k)
			}
		}
	}
	names := make([]string, 0, len(have))
	for n := range have {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if wanted[n] || (keepSecrets && have[n]["type"] == "secret_text") {
			continue
		}
		return fmt.Sprintf("it has binding %q, which this run does not send", n)
	}
	return ""
}

func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
