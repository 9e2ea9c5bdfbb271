package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fakeGitHub is a local stand-in for the few GitHub REST endpoints the action
// calls, served under /api/v3 like GitHub Enterprise Server (a path prefix
// catches absolute endpoint paths). Pass URL as GITHUB_API_URL.
type fakeGitHub struct {
	t   *testing.T
	URL string

	mu sync.Mutex
	// login is what GET /user answers; "" answers 403 like GITHUB_TOKEN does.
	login string
	// readOnly answers every write with 403, like a fork PR's token.
	readOnly    bool
	faults      []ghFault
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

// ghFault answers Times requests matching Method and a path prefix with
// Status, Headers and Body instead of serving them.
type ghFault struct {
	Method, PathPrefix string
	Times              int
	Status             int
	Headers            map[string]string
	Body               string
}

const actionsBot = "github-actions[bot]"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	g := &fakeGitHub{t: t, comments: map[int][]*ghComment{}, nextID: 1000, auth: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", g.user)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", g.listComments)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", g.createComment)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", g.updateComment)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments", g.createDeployment)
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

func (g *fakeGitHub) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+r.URL.Path)
		g.auth[r.Header.Get("Authorization")] = true
		if r.Header.Get("Authorization") != "Bearer "+testGitHubToken {
			g.mu.Unlock()
			writeJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return
		}
		for i := range g.faults {
			f := &g.faults[i]
			if f.Times > 0 && f.Method == r.Method && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
				f.Times--
				g.mu.Unlock()
				for k, v := range f.Headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(f.Status)
				fmt.Fprint(w, f.Body)
				return
			}
		}
		if g.readOnly && r.Method != "GET" {
			g.mu.Unlock()
			writeJSON(w, 403, map[string]any{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		g.mu.Unlock()
		next.ServeHTTP(w, r)
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
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
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
	writeJSON(w, 201, map[string]any{"id": d.ID, "url": fmt.Sprintf("http://%s/api/v3/repos/%s/%s/deployments/%d", r.Host, r.PathValue("owner"), r.PathValue("repo"), d.ID)})
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

func (g *fakeGitHub) inject(f ghFault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, f)
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
