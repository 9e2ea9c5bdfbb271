package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// fakeGitHub is a local stand-in for the few GitHub REST endpoints the action
// calls, served under /api/v3 like GitHub Enterprise Server (a path prefix
// catches absolute endpoint paths). Pass URL as GITHUB_API_URL.
type fakeGitHub struct {
	URL string

	mu sync.Mutex
	// login is what GET /user answers; "" answers 403 like GITHUB_TOKEN does.
	login string
	// readOnly answers every write with 403, like a fork PR's token.
	readOnly    bool
	faults      *faultinject.Injector
	log         []ghRecord
	comments    map[int][]*ghComment
	nextID      int64
	deployments []*ghDeployment
	calls       []string
	auth        map[string]bool // Authorization headers seen
}

type ghComment struct {
	ID     int64
	Body   string
	Author string
}

type ghDeployment struct {
	ID       int64
	Request  map[string]any
	Statuses []map[string]any
}

// ghRecord is one request the fake received, and the fault it got.
type ghRecord struct {
	Method, Path string
	RawQuery     string
	Fault        string // faultinject.Kind name, or ""
	At           time.Time
}

const actionsBot = "github-actions[bot]"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	g := &fakeGitHub{comments: map[int][]*ghComment{}, nextID: 1000, auth: map[string]bool{}, faults: &faultinject.Injector{}}
	g.faults.FailUnfired(t, "fake GitHub")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", g.user)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", g.listComments)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", g.createComment)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", g.updateComment)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments", g.createDeployment)
	mux.HandleFunc("GET /repos/{owner}/{repo}/deployments", g.listDeployments)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments/{id}/statuses", g.createStatus)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake GitHub: unexpected request %s %s", r.Method, r.URL.Path)
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	})
	root := http.NewServeMux()
	root.Handle("/api/v3/", http.StripPrefix("/api/v3", g.middleware(mux)))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake GitHub: request outside /api/v3: %s %s", r.Method, r.URL)
		http.Error(w, "outside the API base path", 500)
	})
	ts := httptest.NewServer(root)
	t.Cleanup(ts.Close)
	g.URL = ts.URL + "/api/v3"
	return g
}

// middleware records the request, applies the injected faults (paths
// relative to /api/v3), then checks the token and the read-only mode.
func (g *fakeGitHub) middleware(next http.Handler) http.Handler {
	authorized := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		readOnly := g.readOnly
		g.mu.Unlock()
		switch {
		case r.Header.Get("Authorization") != "Bearer "+testGitHubToken:
			writeJSON(w, 401, map[string]any{"message": "Bad credentials"})
		case readOnly && r.Method != "GET":
			writeJSON(w, 403, map[string]any{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
		default:
			next.ServeHTTP(w, r)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+r.URL.Path)
		g.auth[r.Header.Get("Authorization")] = true
		g.log = append(g.log, ghRecord{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, At: time.Now()})
		idx := len(g.log) - 1
		g.mu.Unlock()
		g.faults.Serve(w, r, authorized, func(_ int, fault string) {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.log[idx].Fault = fault
		})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *fakeGitHub) commentJSON(r *http.Request, number int, c *ghComment) map[string]any {
	typ := "User"
	if strings.HasSuffix(c.Author, "[bot]") {
		typ = "Bot"
	}
	return map[string]any{
		"id": c.ID, "body": c.Body,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", r.PathValue("owner"), r.PathValue("repo"), number, c.ID),
		"user":     map[string]any{"login": c.Author, "type": typ},
	}
}

// user answers like GitHub does for installation tokens unless login is set.
func (g *fakeGitHub) user(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	login := g.login
	g.mu.Unlock()
	if login == "" {
		writeJSON(w, 403, map[string]any{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"})
		return
	}
	writeJSON(w, 200, map[string]any{"login": login, "type": "User"})
}

// author is who writes with the test token.
func (g *fakeGitHub) author() string {
	if g.login != "" {
		return g.login
	}
	return actionsBot
}

func (g *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	number, _ := strconv.Atoi(r.PathValue("number"))
	perPage, page := pageParams(r.URL.Query())
	g.mu.Lock()
	defer g.mu.Unlock()
	all := g.comments[number]
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	out := []map[string]any{}
	for _, c := range all[from:to] {
		out = append(out, g.commentJSON(r, number, c))
	}
	if to < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3%s?per_page=%d&page=%d>; rel="next"`, r.Host, r.URL.Path, perPage, page+1))
	}
	writeJSON(w, 200, out)
}

// pageParams reads GitHub's paging parameters: per_page (default 30, at most
// 100) and page (from 1).
func pageParams(q url.Values) (perPage, page int) {
	perPage, _ = strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	page, _ = strconv.Atoi(q.Get("page"))
	return min(perPage, 100), max(page, 1)
}

func decodeBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return nil, false
	}
	return in, true
}

// validBody enforces GitHub's 65,536-character limit on comment bodies.
func validBody(w http.ResponseWriter, in map[string]any) (string, bool) {
	body, _ := in["body"].(string)
	if body == "" || utf8.RuneCountInString(body) > 65536 {
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []any{map[string]any{"field": "body", "code": "invalid"}}})
		return "", false
	}
	return body, true
}

func (g *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	number, _ := strconv.Atoi(r.PathValue("number"))
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	body, ok := validBody(w, in)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	c := &ghComment{ID: g.nextID, Body: body, Author: g.author()}
	g.comments[number] = append(g.comments[number], c)
	writeJSON(w, 201, g.commentJSON(r, number, c))
}

func (g *fakeGitHub) updateComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	body, ok := validBody(w, in)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for number, list := range g.comments {
		for _, c := range list {
			if c.ID != id {
				continue
			}
			if c.Author != g.author() {
				// GitHub lets only the author (or a maintainer) edit.
				writeJSON(w, 403, map[string]any{"message": "You cannot edit this comment"})
				return
			}
			c.Body = body
			writeJSON(w, 200, g.commentJSON(r, number, c))
			return
		}
	}
	writeJSON(w, 404, map[string]any{"message": "Not Found"})
}

func (g *fakeGitHub) createDeployment(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	if _, ok := in["required_contexts"]; !ok {
		// GitHub checks every commit status context when the field is
		// missing; the running workflow's own check is still pending.
		writeJSON(w, 409, map[string]any{"message": "Conflict: Commit status checks failed for main."})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	d := &ghDeployment{ID: int64(500 + len(g.deployments)), Request: in}
	g.deployments = append(g.deployments, d)
	writeJSON(w, 201, g.deploymentJSON(r, d))
}

// deploymentJSON renders d like GitHub's deployment object: the request's
// ref, task, environment and description, and its payload as sent ({} when
// none). A ref that is a full commit SHA is also the sha; any other ref
// resolves to a fixed commit here.
func (g *fakeGitHub) deploymentJSON(r *http.Request, d *ghDeployment) map[string]any {
	str := func(k, def string) string {
		if v, ok := d.Request[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	ref := str("ref", "")
	sha := ref
	if !isHexSHA(ref) {
		sha = strings.Repeat("0", 40)
	}
	payload := d.Request["payload"]
	if payload == nil {
		payload = map[string]any{}
	}
	base := fmt.Sprintf("http://%s/api/v3/repos/%s/%s/deployments/%d", r.Host, r.PathValue("owner"), r.PathValue("repo"), d.ID)
	return map[string]any{
		"id": d.ID, "url": base, "statuses_url": base + "/statuses",
		"sha": sha, "ref": ref, "task": str("task", "deploy"), "environment": str("environment", "production"),
		"description": d.Request["description"], "payload": payload,
		"creator": map[string]any{"login": g.author(), "type": "Bot"},
	}
}

func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// listDeployments answers GET /repos/{owner}/{repo}/deployments like GitHub:
// newest first, filtered by the sha, ref, task and environment parameters
// (each an exact match when given), paged by per_page (default 30, at most
// 100) and page.
func (g *fakeGitHub) listDeployments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage, page := pageParams(q)
	g.mu.Lock()
	defer g.mu.Unlock()
	var all []map[string]any
	for i := len(g.deployments) - 1; i >= 0; i-- {
		d := g.deploymentJSON(r, g.deployments[i])
		match := true
		for _, k := range []string{"sha", "ref", "task", "environment"} {
			if v := q.Get(k); v != "" && d[k] != v {
				match = false
			}
		}
		if match {
			all = append(all, d)
		}
	}
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	out := append([]map[string]any{}, all[from:to]...)
	if to < len(all) {
		next := r.URL.Query()
		next.Set("per_page", strconv.Itoa(perPage))
		next.Set("page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3%s?%s>; rel="next"`, r.Host, r.URL.Path, next.Encode()))
	}
	writeJSON(w, 200, out)
}

func (g *fakeGitHub) createStatus(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	desc, _ := in["description"].(string)
	if utf8.RuneCountInString(desc) > 140 {
		writeJSON(w, 422, map[string]any{"message": "Validation Failed: description is too long (maximum is 140 characters)"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range g.deployments {
		if d.ID == id {
			d.Statuses = append(d.Statuses, in)
			writeJSON(w, 201, map[string]any{"id": len(d.Statuses), "state": in["state"]})
			return
		}
	}
	writeJSON(w, 404, map[string]any{"message": "Not Found"})
}

// addComment seeds a comment written by author.
func (g *fakeGitHub) addComment(number int, author, body string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	g.comments[number] = append(g.comments[number], &ghComment{ID: g.nextID, Body: body, Author: author})
	return g.nextID
}

// commentsOf returns copies of the comments of number.
func (g *fakeGitHub) commentsOf(number int) []ghComment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []ghComment
	for _, c := range g.comments[number] {
		out = append(out, *c)
	}
	return out
}

// addDeployment seeds a deployment as if created with request.
func (g *fakeGitHub) addDeployment(request map[string]any) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := &ghDeployment{ID: int64(500 + len(g.deployments)), Request: request}
	g.deployments = append(g.deployments, d)
	return d.ID
}

// requests returns and forgets the requests served so far ("METHOD /path").
func (g *fakeGitHub) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.calls
	g.calls = nil
	return out
}

func (g *fakeGitHub) deploymentsCopy() []ghDeployment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []ghDeployment
	for _, d := range g.deployments {
		out = append(out, *d)
	}
	return out
}

// inject adds a fault; its Path is relative to /api/v3.
func (g *fakeGitHub) inject(f faultinject.Fault) { g.faults.Add(f) }

// records returns the requests received so far, with the faults they got.
func (g *fakeGitHub) records() []ghRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ghRecord(nil), g.log...)
}

// everything is all text the fake received, for secret checks.
func (g *fakeGitHub) everything() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	for _, list := range g.comments {
		for _, c := range list {
			b.WriteString(c.Body)
		}
	}
	for _, d := range g.deployments {
		data, _ := json.Marshal(d)
		b.Write(data)
	}
	return b.String()
}

// TestFakeGitHubListsDeployments checks the stand-in's GET deployments
// against GitHub's documented behaviour: newest first, exact filters on sha,
// ref, task and environment, payloads as sent, pages linked.
func TestFakeGitHubListsDeployments(t *testing.T) {
	t.Parallel()
	g := newFakeGitHub(t)
	const shaA, shaB = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	first := g.addDeployment(map[string]any{"ref": shaA, "task": "deploy", "environment": "preview", "payload": map[string]any{"nonce": "n1"}})
	g.addDeployment(map[string]any{"ref": shaB, "task": "deploy", "environment": "preview"})
	third := g.addDeployment(map[string]any{"ref": shaA, "task": "deploy", "environment": "preview", "payload": map[string]any{"nonce": "n3", "n": 3.0}})
	g.addDeployment(map[string]any{"ref": shaA, "task": "deploy:migrate", "environment": "preview"})
	g.addDeployment(map[string]any{"ref": "main", "task": "deploy", "environment": "production"})
	get := func(query string) ([]map[string]any, string) {
		t.Helper()
		req, err := http.NewRequest("GET", g.URL+"/repos/o/r/deployments?"+query, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testGitHubToken)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		var out []map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return out, res.Header.Get("Link")
	}
	ids := func(list []map[string]any) []float64 {
		var out []float64
		for _, d := range list {
			out = append(out, d["id"].(float64))
		}
		return out
	}
	cases := []struct {
		name, query string
		want        []float64
	}{
		{"all, newest first", "", []float64{504, 503, 502, 501, 500}},
		{"sha, environment, task", "sha=" + shaA + "&environment=preview&task=deploy", []float64{float64(third), float64(first)}},
		{"ref", "ref=main", []float64{504}},
		{"environment", "environment=production", []float64{504}},
		{"no match", "sha=" + shaB + "&environment=production", nil},
	}
	for _, tc := range cases {
		got, _ := get(tc.query)
		assert.Equal(t, tc.want, ids(got), tc.name)
	}
	got, link := get("sha=" + shaA + "&environment=preview&task=deploy&per_page=1")
	require.Len(t, got, 1)
	assert.Equal(t, map[string]any{"nonce": "n3", "n": 3.0}, got[0]["payload"], "the payload as sent")
	assert.Equal(t, shaA, got[0]["sha"])
	assert.Contains(t, link, `page=2`)
	assert.Contains(t, link, `sha=`+shaA, "the next page keeps the filters")
	none, _ := get("ref=" + shaB)
	require.Len(t, none, 1)
	assert.Equal(t, map[string]any{}, none[0]["payload"], "no payload is {}")
}
