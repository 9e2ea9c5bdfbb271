package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Worker Previews and Preview Deployments (beta at Cloudflare; docs/previews.md).
// A Preview is a named environment of a Worker with its own settings and its own sequence of
// deployments; its URL always serves the latest one, and each deployment has fixed URLs.

// preview is one stored Preview.
type preview struct {
	seq           int64
	id            string // 32 hex
	slug          string
	name          string
	tags          []string
	logpush       bool
	observability json.RawMessage
	tailConsumers []string
	createdOn     time.Time
	updatedOn     time.Time
	deployedOn    time.Time // zero: never deployed
	// base is the parent Worker's previews_base_config at creation (nil when ignored): the
	// settings a deployment without bindings of its own starts from.
	base        map[string]any
	deployments []*previewDeployment // oldest first; the last one is what the Preview serves
	lastNumber  int
}

// previewDeployment is one immutable deployment of a Preview.
type previewDeployment struct {
	id        string
	number    int
	createdOn time.Time
	v         *version // modules, bindings, compatibility settings, passthrough fields
	// annotations are every annotation, the CI ones included.
	annotations map[string]string
	// request is the effective request (bindings resolved, modules base64), the document a
	// PATCH …/deployments/latest merge-patches.
	request map[string]any
}

// previewNameRe and maxPreviewNameLen are the schema's constraints on a Preview name.
var previewNameRe = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-_/.+=]*[a-zA-Z0-9])?$`)

const (
	maxPreviewNameLen = 256
	// maxPreviewWorkerNameLen: a Worker that uses Previews may have a name of at most 54
	// characters (error 100315), so that "<preview>-<worker>" fits a DNS label.
	maxPreviewWorkerNameLen = 54
	// defaultPreviewsPerPage is the schema's default page size of both preview lists.
	defaultPreviewsPerPage = 10
)

// Annotation keys a preview deployment accepts, with the schema's byte limits. The CI keys
// are cut to their limit rather than refused (inferred: the schema gives only maxLength).
var previewAnnotationLimits = map[string]int{
	"workers/message":             maxMessageBytes,
	"workers/tag":                 maxTagBytes,
	"workers/commit_sha":          64,
	"workers/pull_request_number": 20,
	"workers/pull_request_title":  512,
	"workers/pull_request_url":    512,
	"workers/repository_url":      512,
}

func previewNotFound(ref string) *reply {
	// The code is undocumented; 10007 is what the Workers API uses for missing resources.
	return fail(http.StatusNotFound, 10007, "This Preview does not exist: %q", ref)
}

func previewDeploymentNotFound(ref string) *reply {
	return fail(http.StatusNotFound, 10007, "This Preview deployment does not exist: %q", ref)
}

// slugify turns a Preview name into its slug: lowercase letters, digits and single dashes.
// The real derivation is undocumented; the example pairs feature/my-branch with
// feature-my-branch (inferred).
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// findPreview resolves {preview_id}: the Preview's ID, its slug, or its name (the router has
// already decoded the URL-encoded name).
func (w *worker) findPreview(ref string) *preview {
	for _, match := range []func(p *preview) bool{
		func(p *preview) bool { return p.id == strings.ToLower(ref) },
		func(p *preview) bool { return p.slug == ref },
		func(p *preview) bool { return p.name == ref },
	} {
		for _, p := range w.previews {
			if match(p) {
				return p
			}
		}
	}
	return nil
}

// previewHostURLs are the Preview's routable URLs: "https://<slug>-<worker>.<subdomain>.workers.dev",
// under the same conditions as version preview URLs (inferred).
func (s *Server) previewHostURLs(w *worker, prefix string) []string {
	if !w.subdomain.PreviewsEnabled || s.subdomain == "" {
		return []string{}
	}
	return []string{fmt.Sprintf("https://%s-%s.%s.workers.dev", prefix, w.name, s.subdomain)}
}

func (s *Server) previewOut(w *worker, p *preview) map[string]any {
	tcs := []map[string]string{}
	for _, tc := range p.tailConsumers {
		tcs = append(tcs, map[string]string{"name": tc})
	}
	o := map[string]any{
		"id":             p.id,
		"slug":           p.slug,
		"name":           p.name,
		"tags":           slices.Clone(p.tags),
		"logpush":        p.logpush,
		"observability":  p.observability,
		"tail_consumers": tcs,
		"urls":           s.previewHostURLs(w, p.slug),
		"created_on":     formatTime(p.createdOn),
		"updated_on":     formatTime(p.updatedOn),
		"deployed_on":    nil,
	}
	if !p.deployedOn.IsZero() {
		o["deployed_on"] = formatTime(p.deployedOn)
	}
	return o
}

// previewInput is the body of Create/Update/Edit Preview.
type previewInput struct {
	Name          *string         `json:"name"`
	Tags          *[]string       `json:"tags"`
	Logpush       *bool           `json:"logpush"`
	Observability json.RawMessage `json:"observability"`
	TailConsumers *[]tailConsumer `json:"tail_consumers"`
}

// applyPreviewInput applies in onto p (which holds the defaults for create and update).
func applyPreviewInput(p *preview, in previewInput, requireName bool) *reply {
	switch {
	case in.Name != nil:
		n := *in.Name
		if len(n) > maxPreviewNameLen || !previewNameRe.MatchString(n) {
			return validationError("Invalid Preview name %q: use letters, digits and - _ / . + =, starting and ending with a letter or digit, at most %d characters", n, maxPreviewNameLen)
		}
		p.name = n
	case requireName:
		return fail(http.StatusBadRequest, 10005, "Missing required field name")
	}
	// Reuse the Worker's validation for the fields both resources share.
	base := workerSettings{name: "x", logpush: p.logpush, observability: p.observability, tags: p.tags, tailConsumers: p.tailConsumers}
	out, rep := applyWorkerInput(base, workerInput{Logpush: in.Logpush, Observability: in.Observability, Tags: in.Tags, TailConsumers: in.TailConsumers}, false)
	if rep != nil {
		return rep
	}
	p.logpush, p.observability, p.tags, p.tailConsumers = out.logpush, out.observability, out.tags, out.tailConsumers
	return nil
}

func newPreviewDefaults() *preview {
	return &preview{observability: defaultObservability, tags: []string{}, tailConsumers: []string{}}
}

// listPreviews is GET …/previews: paged, ordered, with partial-match filters on slug and name.
func (s *Server) listPreviews(rc *reqCtx) *reply {
	page, perPage, rep := parsePreviewPaging(rc)
	if rep != nil {
		return rep
	}
	order := cmpOr(rc.query.Get("order"), "desc")
	if order != "asc" && order != "desc" {
		return fail(http.StatusBadRequest, 10004, "Invalid order %q: want asc or desc", order)
	}
	var key func(a, b *preview) int
	switch orderBy := cmpOr(rc.query.Get("order_by"), "deployed_on"); orderBy {
	case "deployed_on":
		key = func(a, b *preview) int { return a.deployedOn.Compare(b.deployedOn) }
	case "updated_on":
		key = func(a, b *preview) int { return a.updatedOn.Compare(b.updatedOn) }
	case "created_on":
		key = func(a, b *preview) int { return a.createdOn.Compare(b.createdOn) }
	case "slug":
		key = func(a, b *preview) int { return strings.Compare(a.slug, b.slug) }
	case "name":
		key = func(a, b *preview) int { return strings.Compare(a.name, b.name) }
	default:
		return fail(http.StatusBadRequest, 10004, "Invalid order_by %q: want deployed_on, updated_on, created_on, slug or name", orderBy)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	var all []*preview
	for _, p := range w.previews {
		if strings.Contains(p.slug, rc.query.Get("slug")) && strings.Contains(p.name, rc.query.Get("name")) {
			all = append(all, p)
		}
	}
	slices.SortStableFunc(all, func(x, y *preview) int {
		c := key(x, y)
		if c == 0 {
			c = int(x.seq - y.seq)
		}
		if order == "desc" {
			c = -c
		}
		return c
	})
	items, info := paginate(all, page, perPage)
	res := make([]map[string]any, 0, len(items))
	for _, p := range items {
		res = append(res, s.previewOut(w, p))
	}
	return okList(res, info)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// parsePreviewPaging reads page and per_page with the Previews API's rules: default 10, at
// most 100 (the schema declares the bounds, so values outside them are refused).
func parsePreviewPaging(rc *reqCtx) (int, int, *reply) {
	page, perPage := 1, defaultPreviewsPerPage
	for _, p := range []struct {
		key      string
		dst      *int
		min, max int
	}{{"page", &page, 1, 1 << 30}, {"per_page", &perPage, 1, maxPerPage}} {
		v := rc.query.Get(p.key)
		if v == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v || n < p.min || n > p.max {
			return 0, 0, fail(http.StatusBadRequest, 10004, "Invalid %s %q: want an integer from %d to %d", p.key, v, p.min, p.max)
		}
		*p.dst = n
	}
	return page, perPage, nil
}

// createPreview is POST …/previews.
func (s *Server) createPreview(rc *reqCtx) *reply {
	ignoreDefaults, rep := parseBoolQuery(rc.query, "ignore_defaults")
	if rep != nil {
		return rep
	}
	ignoreBase, rep := parseBoolQuery(rc.query, "ignore_base_config")
	if rep != nil {
		return rep
	}
	var in previewInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return rep
	}
	if len(w.name) > maxPreviewWorkerNameLen {
		return fail(http.StatusBadRequest, 100315, "Worker name %q is %d characters long; Workers with Previews may have at most %d", w.name, len(w.name), maxPreviewWorkerNameLen)
	}
	p := newPreviewDefaults()
	if rep := applyPreviewInput(p, in, true); rep != nil {
		return rep
	}
	if w.findPreview(p.name) != nil || w.findPreview(slugify(p.name)) != nil {
		// Undocumented; a name conflict answers like the Worker's (inferred).
		return fail(http.StatusConflict, 10040, "A Preview named %q already exists on Worker %q", p.name, w.name)
	}
	p.slug = slugify(p.name)
	if len(p.slug)+1+len(w.name) > 63 {
		return validationError("Preview name %q makes the host label %q-%q longer than 63 characters; use a shorter name", p.name, p.slug, w.name)
	}
	if !ignoreDefaults && !ignoreBase && w.previewsBase != nil {
		p.base = deepCopyJSON(w.previewsBase)
	}
	now := s.now()
	p.seq, p.id, p.createdOn, p.updatedOn = s.nextSeq(), newWorkerID(), now, now
	w.previews = append(w.previews, p)
	return ok(s.previewOut(w, p))
}

// lookupPreview finds {worker} and {preview}. Callers hold s.mu.
func (s *Server) lookupPreview(rc *reqCtx) (*worker, *preview, *reply) {
	w, rep := s.lookupWorker(rc)
	if rep != nil {
		return nil, nil, rep
	}
	p := w.findPreview(rc.params["preview"])
	if p == nil {
		return nil, nil, previewNotFound(rc.params["preview"])
	}
	return w, p, nil
}

// getPreview is GET …/previews/{preview_id}.
func (s *Server) getPreview(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	return ok(s.previewOut(w, p))
}

// editPreview is PATCH (omitted fields unchanged); updatePreview is PUT (reset to defaults).
func (s *Server) editPreview(rc *reqCtx) *reply   { return s.writePreview(rc, false) }
func (s *Server) updatePreview(rc *reqCtx) *reply { return s.writePreview(rc, true) }

func (s *Server) writePreview(rc *reqCtx, replace bool) *reply {
	var in previewInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	next := *p
	if replace {
		d := newPreviewDefaults()
		next.tags, next.logpush, next.observability, next.tailConsumers = d.tags, d.logpush, d.observability, d.tailConsumers
	}
	if rep := applyPreviewInput(&next, in, replace); rep != nil {
		return rep
	}
	if next.name != p.name {
		if other := w.findPreview(next.name); other != nil && other != p {
			return fail(http.StatusConflict, 10040, "A Preview named %q already exists on Worker %q", next.name, w.name)
		}
	}
	next.updatedOn = s.now()
	*p = next // the slug is immutable: it stays what it was
	return ok(s.previewOut(w, p))
}

// deletePreview is DELETE …/previews/{preview_id}[?force=true]. The emulator has no other
// Workers that could reference a Preview, so force changes nothing.
func (s *Server) deletePreview(rc *reqCtx) *reply {
	if _, rep := parseBoolQuery(rc.query, "force"); rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	w.previews = slices.DeleteFunc(w.previews, func(x *preview) bool { return x == p })
	return ok(nil)
}

// ---------------------------------------------------------------------------------------------
// Preview Deployments

func (s *Server) previewDeploymentOut(w *worker, p *preview, d *previewDeployment, withModules bool) map[string]any {
	o := s.versionOut(w, d.v, withModules)
	o["id"] = d.id
	o["number"] = d.number
	o["created_on"] = formatTime(d.createdOn)
	o["author_id"] = ""
	o["author_email"] = AuthorEmail
	o["annotations"] = maps.Clone(d.annotations)
	o["urls"] = s.previewHostURLs(w, d.id[:8]+"-"+p.slug)
	env := map[string]any{}
	for _, b := range o["bindings"].([]map[string]any) {
		item := maps.Clone(b)
		delete(item, "name")
		env[b["name"].(string)] = item
	}
	o["env"] = env
	return o
}

// previewRequest normalises a Preview Deployment request: `env` (keyed by name) becomes
// `bindings`, the Preview's base config fills in when the request has neither.
func previewRequest(body []byte, p *preview, ignoreDefaults bool) (map[string]any, *reply) {
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformedBody(fmt.Errorf("empty body, want a JSON object"))
	}
	if err := dec.Decode(&req); err != nil || req == nil {
		return nil, malformedBody(fmt.Errorf("want a JSON object"))
	}
	return normaliseEnv(req, p, ignoreDefaults)
}

func normaliseEnv(req map[string]any, p *preview, ignoreDefaults bool) (map[string]any, *reply) {
	env, hasEnv := req["env"]
	_, hasBindings := req["bindings"]
	if hasEnv && env != nil && hasBindings && req["bindings"] != nil {
		return nil, validationError("Give either bindings or env, not both")
	}
	if !hasEnv && !hasBindings && !ignoreDefaults && p.base != nil {
		env, hasEnv = p.base["env"], p.base["env"] != nil
	}
	delete(req, "env")
	if hasEnv && env != nil {
		m, isObj := env.(map[string]any)
		if !isObj {
			return nil, validationError("env must be an object keyed by binding name")
		}
		var list []any
		for _, name := range slices.Sorted(maps.Keys(m)) {
			item, isObj := m[name].(map[string]any)
			if !isObj {
				return nil, validationError("env.%s must be an object", name)
			}
			b := deepCopyJSON(item)
			b["name"] = name
			list = append(list, b)
		}
		req["bindings"] = list
	}
	return req, nil
}

// addPreviewDeployment validates req and stores it as the Preview's newest deployment.
// Callers hold s.mu.
func (s *Server) addPreviewDeployment(rc *reqCtx, w *worker, p *preview, req map[string]any) *reply {
	body, err := json.Marshal(req)
	if err != nil {
		return malformedBody(err)
	}
	v, rep := parseVersionInput(body)
	if rep != nil {
		return rep
	}
	manifest, rep := s.checkAssetsJWT(rc.params["account"], w, body)
	if rep != nil {
		return rep
	}
	v.assetManifest = manifest
	if v.bindings, rep = resolvePreviewInherits(p, v.bindings); rep != nil {
		return rep
	}
	annotations := map[string]string{}
	if raw, isObj := req["annotations"].(map[string]any); isObj {
		for k, val := range raw {
			limit, known := previewAnnotationLimits[k]
			if !known {
				continue
			}
			str, isStr := val.(string)
			if !isStr {
				return validationError("annotations.%s must be a string", k)
			}
			if k == "workers/tag" && len(str) > limit {
				return fail(http.StatusBadRequest, 100102, "Tag too large: annotations.workers/tag is %d bytes, at most %d allowed", len(str), limit)
			}
			annotations[k] = truncateUTF8(str, limit)
		}
		req["annotations"] = anyMap(annotations)
	}
	annotations["workers/triggered_by"] = "create_preview_deployment_api"
	// A Preview implements its own Durable Object namespaces: its migration tag is the one its
	// latest deployment left, and migrations apply on top of it like a version's on deploy
	// (the precondition on old_tag as for versions; inferred for Previews).
	current := ""
	if n := len(p.deployments); n > 0 {
		current = p.deployments[n-1].v.migrationTag
	}
	v.migrationTag = current
	if m := migrationsOf(v); m != nil && m.NewTag != "" {
		if m.OldTag != current {
			return fail(http.StatusBadRequest, 10079, "Migration tag precondition failed: old_tag is %q but the Preview's current migration tag is %q", m.OldTag, current)
		}
		v.migrationTag = m.NewTag
	}
	now := s.now()
	p.lastNumber++
	d := &previewDeployment{id: newUUID(), number: p.lastNumber, createdOn: now, v: v, annotations: annotations, request: req}
	v.id, v.number, v.createdOn = d.id, d.number, now
	p.deployments = append(p.deployments, d)
	p.deployedOn, p.updatedOn = now, now
	return ok(s.previewDeploymentOut(w, p, d, false))
}

// resolvePreviewInherits replaces inherit bindings by the binding of that name (or old_name)
// in the Preview's latest deployment; version_id is not meaningful for a Preview and is
// ignored (inferred: the Preview API does not document inherit).
func resolvePreviewInherits(p *preview, bs []map[string]any) ([]map[string]any, *reply) {
	out := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		if b["type"] != "inherit" {
			out = append(out, b)
			continue
		}
		name := b["name"].(string)
		from := name
		if old, _ := b["old_name"].(string); old != "" {
			from = old
		}
		var src map[string]any
		if n := len(p.deployments); n > 0 {
			for _, x := range p.deployments[n-1].v.bindings {
				if x["name"] == from {
					src = x
				}
			}
		}
		if src == nil {
			return nil, validationError("Binding %q inherits %q, which the Preview's latest deployment does not have", name, from)
		}
		c := deepCopyJSON(src)
		c["name"] = name
		out = append(out, c)
	}
	return out, nil
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// createPreviewDeployment is POST …/previews/{preview_id}/deployments (JSON body).
func (s *Server) createPreviewDeployment(rc *reqCtx) *reply {
	ignoreDefaults, rep := parseBoolQuery(rc.query, "ignore_defaults")
	if rep != nil {
		return rep
	}
	if ct := rc.r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
		return fail(http.StatusUnsupportedMediaType, 10026, "The emulator accepts Preview deployments as JSON only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	req, rep := previewRequest(rc.body, p, ignoreDefaults)
	if rep != nil {
		return rep
	}
	return s.addPreviewDeployment(rc, w, p, req)
}

// patchLatestPreviewDeployment is PATCH …/deployments/latest: a JSON Merge Patch (RFC 7396)
// of the latest deployment's request makes a new deployment. Without a deployment the patch
// applies to the Preview's base config.
func (s *Server) patchLatestPreviewDeployment(rc *reqCtx) *reply {
	ignoreDefaults, rep := parseBoolQuery(rc.query, "ignore_defaults")
	if rep != nil {
		return rep
	}
	var patch map[string]any
	dec := json.NewDecoder(bytes.NewReader(rc.body))
	dec.UseNumber()
	if err := dec.Decode(&patch); err != nil || patch == nil {
		return malformedBody(fmt.Errorf("want a JSON merge patch object"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	base := map[string]any{}
	if n := len(p.deployments); n > 0 {
		base = deepCopyJSON(p.deployments[n-1].request)
		// Migrations are applied once: the new deployment carries them only when the patch
		// sets them again.
		delete(base, "migrations")
	}
	merged, _ := mergePatch(base, patch).(map[string]any)
	req, rep := normaliseEnv(merged, p, ignoreDefaults)
	if rep != nil {
		return rep
	}
	return s.addPreviewDeployment(rc, w, p, req)
}

// mergePatch applies an RFC 7396 JSON Merge Patch.
func mergePatch(target, patch any) any {
	pm, isObj := patch.(map[string]any)
	if !isObj {
		return patch
	}
	tm, isObj := target.(map[string]any)
	if !isObj {
		tm = map[string]any{}
	}
	out := maps.Clone(tm)
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// resolvePreviewDeployment resolves {deployment_id}: "latest", a UUID, or a unique prefix of at
// least 8 characters.
func resolvePreviewDeployment(p *preview, ref string) (*previewDeployment, *reply) {
	return resolveByID(p.deployments, func(d *previewDeployment) string { return d.id }, ref, "Deployment", previewDeploymentNotFound)
}

// listPreviewDeployments is GET …/deployments, newest first (inferred), paged.
func (s *Server) listPreviewDeployments(rc *reqCtx) *reply {
	page, perPage, rep := parsePreviewPaging(rc)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	newest := slices.Clone(p.deployments)
	slices.Reverse(newest)
	items, info := paginate(newest, page, perPage)
	res := make([]map[string]any, 0, len(items))
	for _, d := range items {
		res = append(res, s.previewDeploymentOut(w, p, d, false))
	}
	return okList(res, info)
}

// getPreviewDeployment is GET …/deployments/{deployment_id}[?include=modules].
func (s *Server) getPreviewDeployment(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	d, rep := resolvePreviewDeployment(p, rc.params["deployment"])
	if rep != nil {
		return rep
	}
	return ok(s.previewDeploymentOut(w, p, d, slices.Contains(rc.query["include"], "modules")))
}

// deletePreviewDeployment is DELETE …/deployments/{deployment_id}.
func (s *Server) deletePreviewDeployment(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, rep := s.lookupPreview(rc)
	if rep != nil {
		return rep
	}
	d, rep := resolvePreviewDeployment(p, rc.params["deployment"])
	if rep != nil {
		return rep
	}
	p.deployments = slices.DeleteFunc(p.deployments, func(x *previewDeployment) bool { return x == d })
	return ok(nil)
}

// ---------------------------------------------------------------------------------------------
// Inspection

// PreviewState is a snapshot of one stored Preview.
type PreviewState struct {
	// ID, Slug and Name identify the Preview.
	ID, Slug, Name string
	// Deployments are the Preview's deployments, oldest first.
	Deployments []PreviewDeploymentState
}

// PreviewDeploymentState is a snapshot of one Preview deployment, secrets included: its code,
// bindings, compatibility settings, assets and annotations (the CI ones included) as for a
// version, and the fields below.
type PreviewDeploymentState struct {
	VersionState
	// Migrations is the migrations object the deployment was created with (nil for none);
	// MigrationTag the Preview's Durable Object migration tag after it.
	Migrations   json.RawMessage
	MigrationTag string
	// Limits, Placement and CacheOptions are those objects as sent, nil when absent.
	Limits, Placement, CacheOptions json.RawMessage
}

// Previews returns snapshots of the Worker's Previews in creation order, or nil when no
// account has such a Worker.
func (s *Server) Previews(workerIDOrName string) []PreviewState {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.findAnyWorker(workerIDOrName)
	if w == nil {
		return nil
	}
	out := []PreviewState{}
	for _, p := range w.previews {
		ps := PreviewState{ID: p.id, Slug: p.slug, Name: p.name}
		for _, d := range p.deployments {
			ds := PreviewDeploymentState{VersionState: versionState(d.v),
				Migrations: slices.Clone(d.v.extra["migrations"]), MigrationTag: d.v.migrationTag,
				Limits: slices.Clone(d.v.extra["limits"]), Placement: slices.Clone(d.v.extra["placement"]),
				CacheOptions: slices.Clone(d.v.extra["cache_options"])}
			ds.Annotations = maps.Clone(d.annotations)
			ps.Deployments = append(ps.Deployments, ds)
		}
		out = append(out, ps)
	}
	return out
}

// publicBaseConfig returns the base config without write-only binding values.
func publicBaseConfig(base map[string]any) map[string]any {
	out := deepCopyJSON(base)
	if env, isObj := out["env"].(map[string]any); isObj {
		for name, item := range env {
			if b, isObj := item.(map[string]any); isObj {
				env[name] = publicBinding(b)
			}
		}
	}
	return out
}
