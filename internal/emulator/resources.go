package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Resources a version binds to by ID: D1 databases, KV namespaces and R2
// buckets. The emulator keeps their names and IDs only (docs/wrangler.md
// "Resources"); data is out of scope.

// resources are one account's D1 databases, KV namespaces and R2 buckets.
type resources struct {
	d1 []namedID // creation order
	kv []namedID
	r2 map[string]bool // by jurisdiction + "/" + name
}

type namedID struct{ id, name string }

func (a *account) res() *resources {
	if a.resources == nil {
		a.resources = &resources{r2: map[string]bool{}}
	}
	return a.resources
}

// r2NameRe is R2's bucket-name rule: 3 to 63 lowercase letters, digits and dashes,
// starting and ending with a letter or digit.
var r2NameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// r2Jurisdictions are the values of the cf-r2-jurisdiction header.
var r2Jurisdictions = []string{"", "default", "eu", "fedramp"}

// listD1 is GET /accounts/{a}/d1/database[?name=]: the name filter matches
// substrings, as Cloudflare's does (inferred from the API reference's wording).
func (s *Server) listD1(rc *reqCtx) *reply {
	page, perPage, rep := parsePaging(rc.query)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := rc.query.Get("name")
	var out []map[string]any
	for _, d := range s.account(rc.params["account"]).res().d1 {
		if name == "" || strings.Contains(d.name, name) {
			out = append(out, map[string]any{"uuid": d.id, "name": d.name, "version": "production"})
		}
	}
	items, info := paginate(out, page, perPage)
	if items == nil {
		items = []map[string]any{}
	}
	return okList(items, info)
}

// createD1 is POST /accounts/{a}/d1/database {name}; a taken name is 400 code 7502.
func (s *Server) createD1(rc *reqCtx) *reply {
	var in struct {
		Name *string `json:"name"`
	}
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Name == nil || *in.Name == "" {
		return validationError("name is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.account(rc.params["account"]).res()
	if slices.ContainsFunc(r.d1, func(d namedID) bool { return d.name == *in.Name }) {
		return fail(http.StatusBadRequest, 7502, "A database with that name already exists")
	}
	d := namedID{id: newUUID(), name: *in.Name}
	r.d1 = append(r.d1, d)
	return ok(map[string]any{"uuid": d.id, "name": d.name, "version": "production"})
}

// listKV is GET /accounts/{a}/storage/kv/namespaces.
func (s *Server) listKV(rc *reqCtx) *reply {
	page, perPage, rep := parsePaging(rc.query)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, n := range s.account(rc.params["account"]).res().kv {
		out = append(out, map[string]any{"id": n.id, "title": n.name, "supports_url_encoding": true})
	}
	items, info := paginate(out, page, perPage)
	if items == nil {
		items = []map[string]any{}
	}
	return okList(items, info)
}

// createKV is POST /accounts/{a}/storage/kv/namespaces {title}; a taken title is 400 code 10014.
func (s *Server) createKV(rc *reqCtx) *reply {
	var in struct {
		Title *string `json:"title"`
	}
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Title == nil || *in.Title == "" {
		return validationError("title is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.account(rc.params["account"]).res()
	if slices.ContainsFunc(r.kv, func(n namedID) bool { return n.name == *in.Title }) {
		return fail(http.StatusBadRequest, 10014, "a namespace with this account ID and title already exists")
	}
	n := namedID{id: strings.ReplaceAll(newUUID(), "-", ""), name: *in.Title}
	r.kv = append(r.kv, n)
	return ok(map[string]any{"id": n.id, "title": n.name, "supports_url_encoding": true})
}

func r2Jurisdiction(rc *reqCtx) (string, *reply) {
	j := strings.ToLower(rc.r.Header.Get("cf-r2-jurisdiction"))
	if !slices.Contains(r2Jurisdictions, j) {
		return "", validationError("cf-r2-jurisdiction %q is not one of default, eu, fedramp", j)
	}
	if j == "default" {
		j = ""
	}
	return j, nil
}

func r2Out(name, jurisdiction string) map[string]any {
	o := map[string]any{"name": name, "creation_date": "2025-01-01T00:00:00Z", "location": "ENAM", "storage_class": "Standard"}
	if jurisdiction != "" {
		o["jurisdiction"] = jurisdiction
	}
	return o
}

// getR2 is GET /accounts/{a}/r2/buckets/{bucket}; a missing bucket is 404 code 10006.
func (s *Server) getR2(rc *reqCtx) *reply {
	j, rep := r2Jurisdiction(rc)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := rc.params["bucket"]
	if !s.account(rc.params["account"]).res().r2[j+"/"+name] {
		return fail(http.StatusNotFound, 10006, "The specified bucket does not exist.")
	}
	return ok(r2Out(name, j))
}

// listR2 is GET /accounts/{a}/r2/buckets: {buckets: [...]}.
func (s *Server) listR2(rc *reqCtx) *reply {
	j, rep := r2Jurisdiction(rc)
	if rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for k := range s.account(rc.params["account"]).res().r2 {
		if jj, n, _ := strings.Cut(k, "/"); jj == j {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, r2Out(n, j))
	}
	return ok(map[string]any{"buckets": out})
}

// createR2 is POST /accounts/{a}/r2/buckets {name}; a taken name is 409 code 10004.
func (s *Server) createR2(rc *reqCtx) *reply {
	j, rep := r2Jurisdiction(rc)
	if rep != nil {
		return rep
	}
	var in struct {
		Name *string `json:"name"`
	}
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Name == nil || !r2NameRe.MatchString(*in.Name) {
		return fail(http.StatusBadRequest, 10005, "The bucket name is not valid: use 3 to 63 lowercase letters, digits and dashes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.account(rc.params["account"]).res()
	if r.r2[j+"/"+*in.Name] {
		return fail(http.StatusConflict, 10004, "The bucket you tried to create already exists, and you own it.")
	}
	r.r2[j+"/"+*in.Name] = true
	return ok(r2Out(*in.Name, j))
}

// listScripts is GET /accounts/{a}/workers/scripts: each Worker with its
// migration_tag (set when a version carrying migrations is deployed).
func (s *Server) listScripts(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(rc.params["account"])
	ws := make([]*worker, 0, len(a.workers))
	for _, w := range a.workers {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].seq < ws[j].seq })
	out := []map[string]any{}
	for _, w := range ws {
		o := map[string]any{"id": w.name, "created_on": formatTime(w.createdOn), "modified_on": formatTime(w.updatedOn), "logpush": w.logpush}
		if w.migrationTag != "" {
			o["migration_tag"] = w.migrationTag
		}
		out = append(out, o)
	}
	return ok(out)
}

// versionMigrations is a version's migrations object: its tags, and whether
// it has any steps.
type versionMigrations struct {
	OldTag string `json:"old_tag"`
	NewTag string `json:"new_tag"`
}

// migrationsOf decodes the stored migrations of v, or nil.
func migrationsOf(v *version) *versionMigrations {
	raw, ok := v.extra["migrations"]
	if !ok {
		return nil
	}
	var m versionMigrations
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return &m
}
