package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// version is one immutable Worker version. Nothing in it is modified after creation, so
// responses may share its slices and maps.
type version struct {
	id                 string
	number             int
	createdOn          time.Time
	mainModule         string
	modules            []module
	bindings           []map[string]any // resolved; includes write-only values
	compatibilityDate  string
	compatibilityFlags []string
	annotations        map[string]string
	extra              map[string]json.RawMessage // echoed fields, see passthroughKeys
	source             string
	assetManifest      map[string]string // path → hash of the asset upload the version names, or nil
	// migrationTag is set when the version is deployed with migrations
	// (the only field changed after creation; guarded by Server.mu).
	migrationTag string
}

type module struct {
	name        string
	contentType string
	content     []byte
}

// moduleContentTypes are the module content types of docs/workers-api.md §6.4.
var moduleContentTypes = []string{
	"application/javascript+module",
	"text/javascript+module",
	"application/javascript",
	"text/javascript",
	"text/x-python",
	"text/x-python-requirement",
	"application/wasm",
	"text/plain",
	"application/octet-stream",
	"application/source-map",
}

// mainModuleContentTypes are the types a main module can have: it must be executable
// (inferred: a text or data main module has no handlers and would fail with 10021).
var mainModuleContentTypes = []string{
	"application/javascript+module",
	"text/javascript+module",
	"application/javascript",
	"text/javascript",
	"text/x-python",
}

// passthroughKeys are version fields the emulator stores and returns as given, without
// interpreting them.
var passthroughKeys = []string{"limits", "placement", "migrations", "containers", "usage_model", "cache_options", "package_dependencies"}

// Annotation limits (docs/workers-api.md §6.2): workers/tag at most 100 bytes (rejected with
// 100102), workers/message truncated to 1000 bytes.
const (
	maxTagBytes     = 100
	maxMessageBytes = 1000
)

type versionInput struct {
	MainModule         *string           `json:"main_module"`
	Modules            []moduleInput     `json:"modules"`
	Bindings           []json.RawMessage `json:"bindings"`
	CompatibilityDate  *string           `json:"compatibility_date"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	Annotations        map[string]any    `json:"annotations"`
	Assets             json.RawMessage   `json:"assets"`
}

type moduleInput struct {
	Name          *string `json:"name"`
	ContentType   *string `json:"content_type"`
	ContentBase64 *string `json:"content_base64"`
}

func versionNotFound(ref string) *reply {
	return fail(http.StatusNotFound, 10071, "Worker version %q not found", ref)
}

// truncateUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// resolveVersion resolves {version_id}: "latest" (the most recently created version), a full
// UUID, or a unique prefix of at least 8 characters (docs/workers-api.md §1, §11.2).
func resolveVersion(w *worker, ref string) (*version, *reply) {
	return resolveByID(w.versions, func(v *version) string { return v.id }, ref, "Version", versionNotFound)
}

// resolveByID resolves an ID reference the way Cloudflare resolves version and deployment
// IDs: "latest" (the last of items, which are oldest first), a full UUID, or a unique prefix
// of at least 8 characters. kind names the resource in the error of an ambiguous prefix.
func resolveByID[T any](items []T, id func(T) string, ref, kind string, notFound func(string) *reply) (T, *reply) {
	var zero T
	want := strings.ToLower(ref)
	if want == "latest" {
		if len(items) == 0 {
			return zero, notFound(ref)
		}
		return items[len(items)-1], nil
	}
	if uuidRe.MatchString(want) {
		for _, it := range items {
			if id(it) == want {
				return it, nil
			}
		}
		return zero, notFound(ref)
	}
	if len(want) < 8 {
		return zero, notFound(ref)
	}
	var found T
	n := 0
	for _, it := range items {
		if strings.HasPrefix(id(it), want) {
			found, n = it, n+1
		}
	}
	switch n {
	case 0:
		return zero, notFound(ref)
	case 1:
		return found, nil
	}
	// An ambiguous prefix is undocumented; a 400 says "be more specific" better than a
	// 404 would (inferred).
	return zero, validationError("%s ID prefix %q matches more than one %s; use more characters", kind, ref, strings.ToLower(kind))
}

// liveVersion is the version an inherit binding without version_id copies from: the one
// at 100% in the active deployment, or the newest version of a split active deployment. A
// Worker that was never deployed falls back to its newest version, as the SDK documents
// "latest" (inferred; the real resolution rule is undocumented).
func liveVersion(w *worker) *version {
	if d := w.activeDeployment(); d != nil {
		var best *version
		for _, dv := range d.versions {
			v := w.versionByID(dv.VersionID)
			if v == nil {
				continue
			}
			if dv.Percentage >= 100 {
				return v
			}
			if best == nil || v.number > best.number {
				best = v
			}
		}
		if best != nil {
			return best
		}
	}
	if len(w.versions) > 0 {
		return w.versions[len(w.versions)-1]
	}
	return nil
}

func (w *worker) versionByID(id string) *version {
	for _, v := range w.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

// resolveInherits replaces every inherit binding by a copy of the binding it names. An
// inherit binding that cannot be resolved is a 400 code 10021: the beta API's behaviour is
// undocumented (the legacy API silently drops it unless bindings_inherit=strict), and failing
// loudly is what a deploy pipeline wants to notice.
func resolveInherits(w *worker, bindings []map[string]any) ([]map[string]any, *reply) {
	out := make([]map[string]any, 0, len(bindings))
	for _, b := range bindings {
		if b["type"] != "inherit" {
			out = append(out, b)
			continue
		}
		name := b["name"].(string)
		from := name
		if old, _ := b["old_name"].(string); old != "" {
			from = old
		}
		var src *version
		if ref, _ := b["version_id"].(string); ref != "" {
			v, rep := resolveVersion(w, ref)
			if rep != nil {
				return nil, validationError("Binding %q inherits from version %q, which does not exist", name, ref)
			}
			src = v
		} else {
			src = liveVersion(w)
		}
		if src == nil {
			return nil, validationError("Binding %q cannot be inherited: the Worker has no previous version", name)
		}
		var found map[string]any
		for _, sb := range src.bindings {
			if sb["name"] == from {
				found = sb
			}
		}
		if found == nil {
			return nil, validationError("Binding %q cannot be inherited: version %s has no binding named %q", name, src.id, from)
		}
		c := maps.Clone(found)
		c["name"] = name
		out = append(out, c)
	}
	return out, nil
}

// parseVersionInput validates a Create Version body (docs/workers-api.md §6, §11.4) into a
// version without ID, number or resolved inherit bindings.
func parseVersionInput(body []byte) (*version, *reply) {
	var in versionInput
	if rep := decodeBody(body, &in); rep != nil {
		return nil, rep
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(body, &all); err != nil {
		return nil, malformedBody(err)
	}
	v := &version{source: "api", annotations: map[string]string{}, extra: map[string]json.RawMessage{}}

	names := map[string]bool{}
	for i, m := range in.Modules {
		switch {
		case m.Name == nil || *m.Name == "":
			return nil, validationError("modules[%d].name is required", i)
		case m.ContentType == nil || *m.ContentType == "":
			return nil, validationError("modules[%d] (%q): content_type is required", i, *m.Name)
		case m.ContentBase64 == nil:
			return nil, validationError("modules[%d] (%q): content_base64 is required", i, *m.Name)
		}
		if names[*m.Name] {
			return nil, validationError("Module name %q is used more than once", *m.Name)
		}
		names[*m.Name] = true
		if !slices.Contains(moduleContentTypes, *m.ContentType) {
			return nil, validationError("Module %q has unsupported content_type %q; use one of %s", *m.Name, *m.ContentType, strings.Join(moduleContentTypes, ", "))
		}
		// format: byte is standard base64 with padding, as Go's encoding/json writes []byte.
		content, err := base64.StdEncoding.DecodeString(*m.ContentBase64)
		if err != nil {
			return nil, validationError("Module %q: content_base64 is not valid base64: %v", *m.Name, err)
		}
		v.modules = append(v.modules, module{name: *m.Name, contentType: *m.ContentType, content: content})
	}
	if in.MainModule != nil {
		v.mainModule = *in.MainModule
	}
	hasAssets, rep := checkAssets(in.Assets)
	if rep != nil {
		return nil, rep
	}
	code := 0 // modules other than the assets' _headers and _redirects
	for _, m := range v.modules {
		if m.name != "_headers" && m.name != "_redirects" {
			code++
		}
	}
	switch {
	case code > 0 && v.mainModule == "":
		return nil, validationError("main_module is required when modules are given")
	case code == 0 && len(v.modules) > 0 && v.mainModule == "" && !hasAssets:
		return nil, validationError("_headers and _redirects modules need assets")
	case v.mainModule != "" && !names[v.mainModule]:
		return nil, validationError("main_module %q is not one of the modules", v.mainModule)
	case len(v.modules) == 0 && !hasAssets:
		// An assets-only Worker needs no code; a version with neither has nothing to run
		// (inferred).
		return nil, validationError("A version needs modules (with main_module) or assets")
	}
	for _, m := range v.modules {
		if m.name == v.mainModule && !slices.Contains(mainModuleContentTypes, m.contentType) {
			return nil, validationError("main_module %q has content_type %q, which cannot be executed; use one of %s", m.name, m.contentType, strings.Join(mainModuleContentTypes, ", "))
		}
	}

	if in.CompatibilityDate != nil && *in.CompatibilityDate != "" {
		if _, err := time.Parse(time.DateOnly, *in.CompatibilityDate); err != nil {
			return nil, validationError("compatibility_date %q is not a YYYY-MM-DD date", *in.CompatibilityDate)
		}
		v.compatibilityDate = *in.CompatibilityDate
	}
	v.compatibilityFlags = append([]string{}, in.CompatibilityFlags...)

	for k, val := range in.Annotations {
		switch k {
		case "workers/message", "workers/tag":
			str, isStr := val.(string)
			if !isStr {
				return nil, validationError("annotations.%s must be a string", k)
			}
			if k == "workers/tag" && len(str) > maxTagBytes {
				return nil, fail(http.StatusBadRequest, 100102, "Tag too large: annotations.workers/tag is %d bytes, at most %d allowed", len(str), maxTagBytes)
			}
			if k == "workers/message" {
				str = truncateUTF8(str, maxMessageBytes)
			}
			v.annotations[k] = str
		}
		// workers/triggered_by is set by the server; other keys are ignored.
	}
	v.annotations["workers/triggered_by"] = "upload"

	bindings, rep := decodeBindings(in.Bindings, hasAssets)
	if rep != nil {
		return nil, rep
	}
	v.bindings = bindings

	for _, k := range passthroughKeys {
		if raw, ok := all[k]; ok && !bytes.Equal(raw, []byte("null")) {
			v.extra[k] = raw
		}
	}
	if hasAssets {
		v.extra["assets"] = publicAssets(in.Assets)
	}
	return v, nil
}

// checkAssets validates the assets field and reports whether the version has assets.
//
// The completion token itself is checked by Server.checkAssetsJWT (assets.go).
func checkAssets(raw json.RawMessage) (bool, *reply) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false, nil
	}
	var a struct {
		JWT    *string         `json:"jwt"`
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return false, malformedBody(fmt.Errorf("assets: %w", err))
	}
	if len(a.Config) > 0 && !bytes.Equal(a.Config, []byte("null")) {
		var cfg map[string]any
		if err := json.Unmarshal(a.Config, &cfg); err != nil {
			return false, validationError("assets.config must be an object")
		}
	}
	return a.JWT != nil && *a.JWT != "", nil
}

// publicAssets returns the assets field without its jwt: the completion token is a
// credential, so the emulator does not echo it (the schema allows it; inferred).
func publicAssets(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return raw
	}
	delete(m, "jwt")
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// previewURLs are the version's preview URLs: "https://<first 8 hex of the ID>-<worker>.
// <subdomain>.workers.dev" when the Worker has previews enabled and the account has a
// subdomain, otherwise none (docs/workers-api.md §6.5, inferred).
func (s *Server) previewURLs(w *worker, v *version) []string {
	if !w.subdomain.PreviewsEnabled || s.subdomain == "" {
		return []string{}
	}
	return []string{fmt.Sprintf("https://%s-%s.%s.workers.dev", v.id[:8], w.name, s.subdomain)}
}

// versionOut is the Version resource in responses (docs/workers-api.md §6.5). Write-only
// binding values are left out; modules only when withModules.
func (s *Server) versionOut(w *worker, v *version, withModules bool) map[string]any {
	bindings := make([]map[string]any, 0, len(v.bindings))
	for _, b := range v.bindings {
		bindings = append(bindings, publicBinding(b))
	}
	o := map[string]any{
		"id":                  v.id,
		"number":              v.number,
		"created_on":          formatTime(v.createdOn),
		"urls":                s.previewURLs(w, v),
		"annotations":         maps.Clone(v.annotations),
		"bindings":            bindings,
		"compatibility_flags": v.compatibilityFlags,
		"source":              v.source,
		"startup_time_ms":     0,
	}
	if v.compatibilityDate != "" {
		o["compatibility_date"] = v.compatibilityDate
	}
	if v.mainModule != "" {
		o["main_module"] = v.mainModule
	}
	for k, raw := range v.extra {
		o[k] = raw
	}
	if v.migrationTag != "" {
		o["migration_tag"] = v.migrationTag
	}
	if withModules {
		mods := make([]map[string]string, 0, len(v.modules))
		for _, m := range v.modules {
			mods = append(mods, map[string]string{
				"name":           m.name,
				"content_type":   m.contentType,
				"content_base64": base64.StdEncoding.EncodeToString(m.content),
			})
		}
		o["modules"] = mods
	}
	return o
}

// lookupWorker finds {worker} in the request's account. Callers hold s.mu.
func (s *Server) lookupWorker(rc *reqCtx) (*worker, *reply) {
	w := s.account(rc.params["account"]).findWorker(rc.params["worker"])
	if w == nil {
		return nil, workerNotFound(rc.params["worker"])
	}
	return w, nil
}

// listVersions is V-L: versions newest first, paginated.
func (s *Server) listVersions(rc *reqCtx) *reply {
	page, perPage, rep := parsePaging(rc.query)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	// The order is undocumented; newest first is what wrangler shows (inferred).
	newest := slices.Clone(w.versions)
	slices.Reverse(newest)
	items, info := paginate(newest, page, perPage)
	res := make([]map[string]any, 0, len(items))
	for _, v := range items {
		res = append(res, s.versionOut(w, v, false))
	}
	return okList(res, info)
}

// createVersion is V-C: POST .../versions[?deploy=true].
func (s *Server) createVersion(rc *reqCtx) *reply {
	deploy, rep := parseBoolQuery(rc.query, "deploy")
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	v, rep := parseVersionInput(rc.body)
	if rep != nil {
		return rep
	}
	manifest, rep := s.checkAssetsJWT(rc.params["account"], w, rc.body)
	if rep != nil {
		return rep
	}
	v.assetManifest = manifest
	if v.bindings, rep = resolveInherits(w, v.bindings); rep != nil {
		return rep
	}
	if m := migrationsOf(v); m != nil && m.OldTag != w.migrationTag {
		// old_tag is a precondition on the Worker's current tag (no tag: no
		// old_tag). The code is inferred.
		return fail(http.StatusBadRequest, 10079, "Migration tag precondition failed: old_tag is %q but the Worker's current migration tag is %q", m.OldTag, w.migrationTag)
	}
	now := s.now()
	w.lastNumber++
	v.id = newUUID()
	v.number = w.lastNumber
	v.createdOn = now
	w.versions = append(w.versions, v)
	if deploy {
		// The deployment that ?deploy=true creates is labelled like a wrangler deploy
		// ("upload"); the real label is undocumented (inferred).
		w.addDeployment(&deployment{
			id:          newUUID(),
			createdOn:   now,
			source:      "api",
			strategy:    "percentage",
			versions:    []DeploymentVersion{{VersionID: v.id, Percentage: 100}},
			annotations: map[string]string{"workers/triggered_by": "upload"},
			authorEmail: AuthorEmail,
		})
	}
	return ok(s.versionOut(w, v, false))
}

// getVersion is V-G: modules only with ?include=modules.
func (s *Server) getVersion(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	v, rep := resolveVersion(w, rc.params["version"])
	if rep != nil {
		return rep
	}
	withModules := slices.Contains(rc.query["include"], "modules")
	return ok(s.versionOut(w, v, withModules))
}

// deleteVersion is V-D: the latest version and versions in the active deployment cannot be
// deleted (10339).
func (s *Server) deleteVersion(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	v, rep := resolveVersion(w, rc.params["version"])
	if rep != nil {
		return rep
	}
	if v == w.versions[len(w.versions)-1] {
		return fail(http.StatusBadRequest, 10339, "Cannot delete version %s: it is the latest version", v.id)
	}
	if d := w.activeDeployment(); d != nil {
		for _, dv := range d.versions {
			if dv.VersionID == v.id {
				return fail(http.StatusBadRequest, 10339, "Cannot delete version %s: it is currently deployed", v.id)
			}
		}
	}
	w.versions = slices.DeleteFunc(w.versions, func(x *version) bool { return x == v })
	return ok(nil)
}
