package emulator

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"
)

// RequestRecord is one request the Server received.
type RequestRecord struct {
	// Method is the HTTP method.
	Method string
	// Path is the full URL path, including BasePath.
	Path string
	// RawQuery is the query string without "?".
	RawQuery string
	// Status is the HTTP status sent, or 0 when no response was sent (drop and lost-response
	// faults, cancelled requests, or a request still in flight).
	Status int
	// Fault is the kind of fault applied ("status", "drop", "lost", "latency"), or "".
	Fault string
	// At is when the request arrived, from Options.Now.
	At time.Time
}

func (s *Server) recordArrival(r *http.Request) (int, int) {
	rec := RequestRecord{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, At: s.now()}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.requests = append(s.requests, rec)
	return len(s.requests) - 1, s.reqGen
}

func (s *Server) recordResult(idx, gen, status int, fault string) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if gen != s.reqGen || idx >= len(s.requests) {
		return
	}
	s.requests[idx].Status = status
	s.requests[idx].Fault = fault
}

// Requests returns a copy of every request received since the start or the last
// ResetRequests, in order of arrival.
func (s *Server) Requests() []RequestRecord {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return slices.Clone(s.requests)
}

// Writes returns the recorded requests that could change state (all but GET and HEAD), in
// arrival order.
func (s *Server) Writes() []RequestRecord {
	var out []RequestRecord
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.requests = nil
	s.reqGen++
}

// WorkerState is a snapshot of one stored Worker.
type WorkerState struct {
	// AccountID is the account the Worker belongs to.
	AccountID string
	// ID is the 32-hex Worker ID.
	ID string
	// Name is the Worker name.
	Name string
	// Logpush says whether Logpush is enabled.
	Logpush bool
	// Observability is the observability object as the API returns it.
	Observability json.RawMessage
	// Subdomain holds the workers.dev settings.
	Subdomain SubdomainSettings
	// Tags are the Worker's tags.
	Tags []string
	// TailConsumers are the names of the tail consumer Workers.
	TailConsumers []string
	// CreatedOn, UpdatedOn and DeployedOn are the resource times; DeployedOn is zero when
	// the Worker was never deployed.
	CreatedOn, UpdatedOn, DeployedOn time.Time
}

// ModuleState is one decoded module of a version.
type ModuleState struct {
	// Name is the module name.
	Name string
	// ContentType is the module's content type.
	ContentType string
	// Content is the decoded module content.
	Content []byte
}

// VersionState is a snapshot of one stored version, including what the API never returns.
type VersionState struct {
	// ID is the version UUID.
	ID string
	// Number is the per-Worker version number, from 1.
	Number int
	// CreatedOn is when the version was created.
	CreatedOn time.Time
	// MainModule is the entry module name.
	MainModule string
	// Modules are the decoded modules.
	Modules []ModuleState
	// Bindings are the resolved bindings (inherit bindings replaced by what they copied),
	// including secret_text values and key material.
	Bindings []map[string]any
	// Annotations are the version annotations, including workers/triggered_by.
	Annotations map[string]string
	// CompatibilityDate is the YYYY-MM-DD compatibility date, or "".
	CompatibilityDate string
	// CompatibilityFlags are the compatibility flags.
	CompatibilityFlags []string
	// Source is the client that created the version ("api").
	Source string
	// AssetManifest maps each static asset's path ("/index.html") to its hash, the manifest of
	// the upload whose completion token the version named; nil without assets. Server.Assets
	// holds the contents by hash.
	AssetManifest map[string]string
	// AssetConfig is the version's assets.config object as sent, or nil.
	AssetConfig json.RawMessage
	// AssetPaths are the manifest paths of the version's static assets, sorted (the keys of
	// AssetManifest).
	AssetPaths []string
}

// DeploymentState is a snapshot of one stored deployment.
type DeploymentState struct {
	// ID is the deployment UUID.
	ID string
	// CreatedOn is when the deployment was created.
	CreatedOn time.Time
	// Source is the client that created it ("api").
	Source string
	// Strategy is always "percentage".
	Strategy string
	// Versions is the traffic split.
	Versions []DeploymentVersion
	// Annotations are the deployment annotations.
	Annotations map[string]string
	// AuthorEmail is the author's email.
	AuthorEmail string
}

// Workers returns snapshots of every Worker of every account, ordered by account ID, then by
// creation.
func (s *Server) Workers() []WorkerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WorkerState
	for _, acctID := range slices.Sorted(maps.Keys(s.accounts)) {
		ws := slices.Collect(maps.Values(s.accounts[acctID].workers))
		slices.SortFunc(ws, func(a, b *worker) int { return int(a.seq - b.seq) })
		for _, w := range ws {
			out = append(out, WorkerState{
				AccountID:     acctID,
				ID:            w.id,
				Name:          w.name,
				Logpush:       w.logpush,
				Observability: slices.Clone(w.observability),
				Subdomain:     w.subdomain,
				Tags:          slices.Clone(w.tags),
				TailConsumers: slices.Clone(w.tailConsumers),
				CreatedOn:     w.createdOn,
				UpdatedOn:     w.updatedOn,
				DeployedOn:    w.deployedOn,
			})
		}
	}
	return out
}

// findAnyWorker finds a Worker by ID or name in any account (accounts in ID order).
// Callers hold s.mu.
func (s *Server) findAnyWorker(ref string) *worker {
	for _, acctID := range slices.Sorted(maps.Keys(s.accounts)) {
		if w := s.accounts[acctID].findWorker(ref); w != nil {
			return w
		}
	}
	return nil
}

// Versions returns snapshots of the Worker's versions in creation order (number ascending),
// or nil when no account has such a Worker. workerIDOrName is a Worker ID or name.
func (s *Server) Versions(workerIDOrName string) []VersionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.findAnyWorker(workerIDOrName)
	if w == nil {
		return nil
	}
	out := make([]VersionState, 0, len(w.versions))
	for _, v := range w.versions {
		out = append(out, versionState(v))
	}
	return out
}

// versionState is a deep copy of v. Callers hold s.mu.
func versionState(v *version) VersionState {
	vs := VersionState{
		ID:                 v.id,
		Number:             v.number,
		CreatedOn:          v.createdOn,
		MainModule:         v.mainModule,
		Annotations:        maps.Clone(v.annotations),
		CompatibilityDate:  v.compatibilityDate,
		CompatibilityFlags: slices.Clone(v.compatibilityFlags),
		Source:             v.source,
		AssetManifest:      maps.Clone(v.assetManifest),
		AssetConfig:        assetConfig(v.extra["assets"]),
	}
	if len(v.assetManifest) > 0 {
		vs.AssetPaths = slices.Sorted(maps.Keys(v.assetManifest))
	}
	for _, m := range v.modules {
		vs.Modules = append(vs.Modules, ModuleState{Name: m.name, ContentType: m.contentType, Content: slices.Clone(m.content)})
	}
	for _, b := range v.bindings {
		vs.Bindings = append(vs.Bindings, deepCopyJSON(b))
	}
	return vs
}

// assetConfig returns the config member of a stored assets field, or nil.
func assetConfig(assets json.RawMessage) json.RawMessage {
	var in struct {
		Config json.RawMessage `json:"config"`
	}
	if len(assets) == 0 || json.Unmarshal(assets, &in) != nil {
		return nil
	}
	return in.Config
}

// Deployments returns snapshots of the Worker's deployments in creation order (the last one
// is active), or nil when no account has a Worker with that name. Deployments are addressed by
// Worker name in the API; a Worker ID is accepted here too.
func (s *Server) Deployments(workerName string) []DeploymentState {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.findAnyWorker(workerName)
	if w == nil {
		return nil
	}
	out := make([]DeploymentState, 0, len(w.deployments))
	for _, d := range w.deployments {
		out = append(out, DeploymentState{
			ID:          d.id,
			CreatedOn:   d.createdOn,
			Source:      d.source,
			Strategy:    d.strategy,
			Versions:    slices.Clone(d.versions),
			Annotations: maps.Clone(d.annotations),
			AuthorEmail: d.authorEmail,
		})
	}
	return out
}

// deepCopyJSON copies a decoded JSON object so callers cannot reach stored state.
func deepCopyJSON(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyJSON(t)
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = deepCopyValue(e)
		}
		return c
	default:
		return v
	}
}
