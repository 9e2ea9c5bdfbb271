package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// account holds one account's Workers.
type account struct {
	workers map[string]*worker // by ID
	byName  map[string]*worker
	// resources are the account's D1, KV and R2 resources (resources.go).
	resources *resources
}

// worker is the stored state of one Worker with its versions and deployments.
type worker struct {
	seq int64
	workerSettings
	id          string
	createdOn   time.Time
	updatedOn   time.Time
	deployedOn  time.Time     // zero: never deployed
	versions    []*version    // ascending number
	deployments []*deployment // oldest first; the last one is active
	lastNumber  int
	// migrationTag is the Durable Object migration tag, set when a version
	// carrying migrations is deployed.
	migrationTag string
	previews     []*preview // creation order (preview.go)
}

// workerSettings are the Worker fields a client can write (docs/workers-api.md §5.1).
type workerSettings struct {
	name          string
	logpush       bool
	observability json.RawMessage // a JSON object; never mutated in place
	subdomain     SubdomainSettings
	tags          []string
	tailConsumers []string
	// previewsBase is previews_base_config, the template of new Previews; nil when unset.
	previewsBase map[string]any
}

// SubdomainSettings are a Worker's workers.dev settings.
type SubdomainSettings struct {
	// Enabled makes the Worker reachable at <name>.<account subdomain>.workers.dev.
	Enabled bool `json:"enabled"`
	// PreviewsEnabled makes version preview URLs reachable.
	PreviewsEnabled bool `json:"previews_enabled"`
}

// defaultObservability is the observability object of a new Worker, from the defaults in
// [OAS-2025] (docs/workers-api.md §5.1).
var defaultObservability = json.RawMessage(`{"enabled":false,"head_sampling_rate":1,"logs":{"destinations":[],"enabled":false,"head_sampling_rate":1,"invocation_logs":true,"persist":true}}`)

func defaultSettings() workerSettings {
	return workerSettings{observability: defaultObservability, tags: []string{}, tailConsumers: []string{}}
}

// workerNameRe is the OpenAPI name pattern (docs/workers-api.md §5.2). The error-code docs are
// stricter (must start with a letter, no underscores); the emulator accepts what the schema
// accepts, plus the documented 63-character maximum.
var workerNameRe = regexp.MustCompile(`^[a-z0-9_][a-z0-9-_]*$`)

const maxWorkerNameLen = 63

// Tag limits: [OAS-2025] says at most 8 tags of at most 1024 characters without "," or "&";
// the legacy settings schema allowed 10 and the error docs say 128 bytes (conflict, see
// docs/workers-api.md §5.1). The emulator uses the OpenAPI numbers and the documented codes.
const (
	maxWorkerTags   = 8
	maxWorkerTagLen = 1024
)

func (s *Server) account(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = &account{workers: map[string]*worker{}, byName: map[string]*worker{}}
		s.accounts[id] = a
	}
	return a
}

// findWorker resolves {worker_id}: the Worker ID first, then the name (docs/workers-api.md §11.2).
func (a *account) findWorker(ref string) *worker {
	if id := strings.ToLower(ref); hex32Re.MatchString(id) {
		if w := a.workers[id]; w != nil {
			return w
		}
	}
	return a.byName[ref]
}

func workerNotFound(ref string) *reply {
	return fail(http.StatusNotFound, 10007, "This Worker does not exist: %q (workers.api.error.script_not_found)", ref)
}

// workerInput is the body of Create/Update/Edit Worker. Unknown fields are ignored.
type workerInput struct {
	Name          *string          `json:"name"`
	Logpush       *bool            `json:"logpush"`
	Observability json.RawMessage  `json:"observability"`
	Subdomain     *subdomainInput  `json:"subdomain"`
	Tags          *[]string        `json:"tags"`
	TailConsumers *[]tailConsumer  `json:"tail_consumers"`
	References    *json.RawMessage `json:"references"` // read-only, ignored
	// PreviewsBaseConfig is stored as given (an object) and copied into new Previews.
	PreviewsBaseConfig json.RawMessage `json:"previews_base_config"`
}

type subdomainInput struct {
	Enabled         *bool `json:"enabled"`
	PreviewsEnabled *bool `json:"previews_enabled"`
}

type tailConsumer struct {
	Name string `json:"name"`
}

// applyWorkerInput returns base updated by in. Create and Update (PUT) pass the defaults as
// base, so omitted fields reset; Edit (PATCH) passes the current settings, so they stay.
func applyWorkerInput(base workerSettings, in workerInput, requireName bool) (workerSettings, *reply) {
	out := base
	switch {
	case in.Name != nil:
		if rep := validateWorkerName(*in.Name); rep != nil {
			return out, rep
		}
		out.name = *in.Name
	case requireName:
		// 10005 is the documented "missing name" code (docs/workers-api.md §3.3).
		return out, fail(http.StatusBadRequest, 10005, "Missing required field name")
	}
	if in.Logpush != nil {
		out.logpush = *in.Logpush
	}
	if len(in.Observability) > 0 && !bytes.Equal(in.Observability, []byte("null")) {
		obs, rep := mergeObservability(base.observability, in.Observability)
		if rep != nil {
			return out, rep
		}
		out.observability = obs
	}
	if in.Subdomain != nil {
		if in.Subdomain.Enabled != nil {
			out.subdomain.Enabled = *in.Subdomain.Enabled
		}
		if in.Subdomain.PreviewsEnabled != nil {
			out.subdomain.PreviewsEnabled = *in.Subdomain.PreviewsEnabled
		}
	}
	if in.Tags != nil {
		tags := *in.Tags
		if len(tags) > maxWorkerTags {
			return out, fail(http.StatusForbidden, 100103, "Too many tags: %d, at most %d allowed", len(tags), maxWorkerTags)
		}
		for _, t := range tags {
			if len(t) > maxWorkerTagLen {
				return out, fail(http.StatusBadRequest, 100102, "Tag too large: %d bytes, at most %d allowed", len(t), maxWorkerTagLen)
			}
			if strings.ContainsAny(t, ",&") {
				return out, validationError("Invalid tag %q: tags must not contain ',' or '&'", t)
			}
		}
		out.tags = append([]string{}, tags...)
	}
	if len(in.PreviewsBaseConfig) > 0 {
		if bytes.Equal(in.PreviewsBaseConfig, []byte("null")) {
			out.previewsBase = nil
		} else {
			var m map[string]any
			if err := json.Unmarshal(in.PreviewsBaseConfig, &m); err != nil || m == nil {
				return out, validationError("previews_base_config must be an object")
			}
			if env, present := m["env"]; present && env != nil {
				if _, isObj := env.(map[string]any); !isObj {
					return out, validationError("previews_base_config.env must be an object keyed by binding name")
				}
			}
			out.previewsBase = m
		}
	}
	if in.TailConsumers != nil {
		tcs := []string{}
		for i, tc := range *in.TailConsumers {
			if tc.Name == "" {
				return out, validationError("tail_consumers[%d].name is required", i)
			}
			tcs = append(tcs, tc.Name)
		}
		out.tailConsumers = tcs
	}
	return out, nil
}

func validateWorkerName(name string) *reply {
	if name == "" {
		return fail(http.StatusBadRequest, 10005, "Missing required field name")
	}
	if len(name) > maxWorkerNameLen || !workerNameRe.MatchString(name) {
		return fail(http.StatusBadRequest, 10016, "Invalid Worker name %q: use lowercase letters, digits, '-' and '_', not starting with '-', at most %d characters", name, maxWorkerNameLen)
	}
	return nil
}

// mergeObservability validates the known observability keys of in and deep-merges in onto
// base, keeping keys the emulator does not know (the schema keeps growing, §12).
func mergeObservability(base, in json.RawMessage) (json.RawMessage, *reply) {
	var inMap map[string]any
	if err := json.Unmarshal(in, &inMap); err != nil {
		return nil, malformedBody(fmt.Errorf("observability: %w", err))
	}
	if rep := checkObservability("observability", inMap); rep != nil {
		return nil, rep
	}
	for _, sub := range []string{"logs", "traces"} {
		v, ok := inMap[sub]
		if !ok || v == nil {
			continue
		}
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, validationError("observability.%s must be an object", sub)
		}
		if rep := checkObservability("observability."+sub, m); rep != nil {
			return nil, rep
		}
		if d, ok := m["destinations"]; ok && d != nil {
			arr, isArr := d.([]any)
			for _, e := range arr {
				if _, isStr := e.(string); !isStr {
					isArr = false
				}
			}
			if !isArr {
				return nil, validationError("observability.%s.destinations must be an array of strings", sub)
			}
		}
		if p, ok := m["propagation_policy"]; ok && p != "authenticated" && p != "accept" {
			return nil, validationError("observability.%s.propagation_policy must be authenticated or accept", sub)
		}
	}
	var baseMap map[string]any
	if err := json.Unmarshal(base, &baseMap); err != nil {
		baseMap = map[string]any{}
	}
	merged := deepMerge(baseMap, inMap)
	out, err := json.Marshal(merged)
	if err != nil {
		return nil, validationError("observability cannot be encoded: %v", err)
	}
	return out, nil
}

func checkObservability(where string, m map[string]any) *reply {
	for _, k := range []string{"enabled", "invocation_logs", "persist"} {
		if v, ok := m[k]; ok {
			if _, isBool := v.(bool); !isBool {
				return validationError("%s.%s must be a boolean", where, k)
			}
		}
	}
	if v, ok := m["head_sampling_rate"]; ok {
		f, isNum := v.(float64)
		if !isNum || f < 0 || f > 1 {
			return validationError("%s.head_sampling_rate must be a number from 0 to 1", where)
		}
	}
	return nil
}

// deepMerge returns base with in merged into it: objects merge recursively, anything else in
// in replaces the value in base. Neither argument is modified.
func deepMerge(base, in map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(in))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range in {
		bm, bOK := out[k].(map[string]any)
		im, iOK := v.(map[string]any)
		if bOK && iOK {
			out[k] = deepMerge(bm, im)
			continue
		}
		out[k] = v
	}
	return out
}

// workerOut is the Worker resource in responses (docs/workers-api.md §5.1).
type workerOut struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Logpush       bool              `json:"logpush"`
	Observability json.RawMessage   `json:"observability"`
	Subdomain     SubdomainSettings `json:"subdomain"`
	Tags          []string          `json:"tags"`
	TailConsumers []tailConsumer    `json:"tail_consumers"`
	References    workerReferences  `json:"references"`
	CreatedOn     string            `json:"created_on"`
	UpdatedOn     string            `json:"updated_on"`
	DeployedOn    *string           `json:"deployed_on"`
	// PreviewsBaseConfig is left out when unset.
	PreviewsBaseConfig map[string]any `json:"previews_base_config,omitempty"`
}

// workerReferences lists resources that depend on the Worker. The emulator has none of them,
// but all five arrays are always present, as in the API.
type workerReferences struct {
	DispatchNamespaceOutbounds []any `json:"dispatch_namespace_outbounds"`
	Domains                    []any `json:"domains"`
	DurableObjects             []any `json:"durable_objects"`
	Queues                     []any `json:"queues"`
	Workers                    []any `json:"workers"`
}

func (w *worker) out() workerOut {
	o := workerOut{
		ID:            w.id,
		Name:          w.name,
		Logpush:       w.logpush,
		Observability: w.observability,
		Subdomain:     w.subdomain,
		Tags:          append([]string{}, w.tags...),
		TailConsumers: []tailConsumer{},
		References: workerReferences{
			DispatchNamespaceOutbounds: []any{}, Domains: []any{}, DurableObjects: []any{}, Queues: []any{}, Workers: []any{},
		},
		CreatedOn: formatTime(w.createdOn),
		UpdatedOn: formatTime(w.updatedOn),
	}
	if w.previewsBase != nil {
		o.PreviewsBaseConfig = publicBaseConfig(w.previewsBase)
	}
	for _, tc := range w.tailConsumers {
		o.TailConsumers = append(o.TailConsumers, tailConsumer{Name: tc})
	}
	if !w.deployedOn.IsZero() {
		d := formatTime(w.deployedOn)
		o.DeployedOn = &d
	}
	return o
}

// listWorkers is W-L: GET /accounts/{account_id}/workers/workers.
func (s *Server) listWorkers(rc *reqCtx) *reply {
	page, perPage, rep := parsePaging(rc.query)
	if rep != nil {
		return rep
	}
	order := rc.query.Get("order")
	if order == "" {
		order = "asc"
	}
	if order != "asc" && order != "desc" {
		return fail(http.StatusBadRequest, 10004, "Invalid order %q: want asc or desc", order)
	}
	// The default sort is undocumented; creation order is the natural guess (inferred).
	orderBy := rc.query.Get("order_by")
	if orderBy == "" {
		orderBy = "created_on"
	}
	var key func(a, b *worker) int
	switch orderBy {
	case "created_on":
		key = func(a, b *worker) int { return a.createdOn.Compare(b.createdOn) }
	case "updated_on":
		key = func(a, b *worker) int { return a.updatedOn.Compare(b.updatedOn) }
	case "deployed_on": // never-deployed Workers (null) sort first in ascending order
		key = func(a, b *worker) int { return a.deployedOn.Compare(b.deployedOn) }
	case "name":
		key = func(a, b *worker) int { return strings.Compare(a.name, b.name) }
	default:
		return fail(http.StatusBadRequest, 10004, "Invalid order_by %q: want deployed_on, updated_on, created_on or name", orderBy)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(rc.params["account"])
	all := make([]*worker, 0, len(a.workers))
	for _, w := range a.workers {
		all = append(all, w)
	}
	slices.SortFunc(all, func(x, y *worker) int {
		c := key(x, y)
		if c == 0 {
			c = int(x.seq - y.seq) // stable tie-break by creation
		}
		if order == "desc" {
			c = -c
		}
		return c
	})
	pageItems, info := paginate(all, page, perPage)
	res := make([]workerOut, 0, len(pageItems))
	for _, w := range pageItems {
		res = append(res, w.out())
	}
	return okList(res, info)
}

// createWorker is W-C: POST /accounts/{account_id}/workers/workers.
func (s *Server) createWorker(rc *reqCtx) *reply {
	var in workerInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	settings, rep := applyWorkerInput(defaultSettings(), in, true)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(rc.params["account"])
	if a.byName[settings.name] != nil {
		return nameConflict(settings.name)
	}
	now := s.now()
	w := &worker{seq: s.nextSeq(), workerSettings: settings, id: newWorkerID(), createdOn: now, updatedOn: now}
	a.workers[w.id] = w
	a.byName[w.name] = w
	return ok(w.out())
}

func nameConflict(name string) *reply {
	return fail(http.StatusConflict, 10040, "A Worker named %q already exists", name)
}

// getWorker is W-G: GET /accounts/{account_id}/workers/workers/{worker_id}.
func (s *Server) getWorker(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.account(rc.params["account"]).findWorker(rc.params["worker"])
	if w == nil {
		return workerNotFound(rc.params["worker"])
	}
	return ok(w.out())
}

// updateWorker is W-U: PUT, a full replacement where omitted fields reset to their defaults.
func (s *Server) updateWorker(rc *reqCtx) *reply {
	return s.writeWorker(rc, true)
}

// editWorker is W-E: PATCH, a partial update where omitted fields stay unchanged.
func (s *Server) editWorker(rc *reqCtx) *reply {
	return s.writeWorker(rc, false)
}

func (s *Server) writeWorker(rc *reqCtx, replace bool) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(rc.params["account"])
	w := a.findWorker(rc.params["worker"])
	if w == nil {
		return workerNotFound(rc.params["worker"])
	}
	var in workerInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	base := w.workerSettings
	if replace {
		base = defaultSettings()
	}
	settings, rep := applyWorkerInput(base, in, replace)
	if rep != nil {
		return rep
	}
	if other := a.byName[settings.name]; other != nil && other != w {
		return nameConflict(settings.name)
	}
	delete(a.byName, w.name)
	w.workerSettings = settings
	a.byName[w.name] = w
	w.updatedOn = s.now()
	return ok(w.out())
}

// deleteWorker is W-D: it deletes the Worker with all its versions and deployments.
func (s *Server) deleteWorker(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(rc.params["account"])
	w := a.findWorker(rc.params["worker"])
	if w == nil {
		return workerNotFound(rc.params["worker"])
	}
	delete(a.workers, w.id)
	delete(a.byName, w.name)
	return ok(nil)
}
