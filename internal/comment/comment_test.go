package comment

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./internal/comment -update` to create %s", path)
	assert.Equal(t, string(want), got, "(+got, -want) golden %s", path)
}

const runURL = "https://github.com/octo/shop/actions/runs/42"

func preview() *pipeline.Result {
	return &pipeline.Result{
		WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop",
		Tag:        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		Message:    "Update the README <!-- workers-deploy:sticky-comment worker=shop --> @octocat <img src=x onerror=alert(1)> | ](x) \\| $x$ #12",
		MainModule: "index.mjs",
		Modules: []pipeline.Module{
			{Name: "index.mjs", ContentType: "application/javascript+module", Size: 2048},
			{Name: "lib/`evil`|<b>.mjs", ContentType: "application/javascript+module", Size: 10},
		},
		RawBytes: 2058, GzipBytes: 900, CompatibilityDate: "2025-09-01",
		VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 3,
		PreviewURL: "https://182bd5e5-shop.acme.workers.dev",
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	deployed := preview()
	deployed.Deployed, deployed.DeploymentID, deployed.DeployedPercentage = true, "5f1e2d3c-0000-4000-8000-000000000001", 100
	deployed.PreviousVersionID = "00000000-0000-4000-8000-000000000002"
	deployed.Bindings = []pipeline.BindingInfo{{Name: "KV", Type: "kv_namespace"}, {Name: "API_KEY", Type: "secret_text"}}
	failed := preview()
	previews := preview()
	previews.VersionID, previews.VersionNumber = "", 0
	previews.PreviewURL = "https://pr-2-shop.acme.workers.dev"
	previews.CommitURL = "https://9387e76d-pr-2-shop.acme.workers.dev"
	previews.Preview = &pipeline.PreviewInfo{
		Name: "pr-2", ID: "63bafce9179948688866bb22268eb1c6", URL: previews.PreviewURL,
		DeploymentID: "9387e76d-0000-4000-8000-000000000003", DeploymentNumber: 3, DeploymentURL: previews.CommitURL,
	}
	for n := 2; n >= 1; n-- {
		sha := strings.Repeat(strconv.Itoa(n), 40)
		previews.Preview.Earlier = append(previews.Preview.Earlier, pipeline.EarlierDeployment{
			Number: n, CommitSHA: sha, URL: "https://" + sha[:8] + "-pr-2-shop.acme.workers.dev"})
	}
	previews.Changes = &pipeline.Changes{
		ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 7,
		Bindings: []pipeline.BindingChange{
			{Name: "API_TOKEN", Change: "added", Type: "secret_text"},
			{Name: "MODE", Change: "changed", Type: "plain_text", Fields: []string{"text"}},
			{Name: "OLD_DB", Change: "removed", OldType: "d1"},
		},
		FlagsAdded:  []string{"nodejs_compat"},
		ModulesFrom: 1, ModulesTo: 2, BytesFrom: 2048, BytesTo: 2089, SizesKnown: true,
	}
	firstDeploy := preview()
	firstDeploy.Changes = &pipeline.Changes{NoProduction: true}
	reused := preview()
	reused.VersionID, reused.PreviewURL = "", "https://pr-2-shop.acme.workers.dev"
	reused.Preview = &pipeline.PreviewInfo{Name: "pr-2", ID: "63bafce9179948688866bb22268eb1c6", Created: true,
		DeploymentID: "9387e76d-0000-4000-8000-000000000001", DeploymentNumber: 1, Reused: true,
		DeploymentURL: "https://9387e76d-pr-2-shop.acme.workers.dev/>)|<img src=x>"}
	closed := &pipeline.Result{WorkerName: "shop", Skipped: "pull request #2 was closed: nothing to deploy",
		Preview: &pipeline.PreviewInfo{Name: "pr-2", Deleted: true}}
	cases := []struct {
		name string
		res  *pipeline.Result
		d    report.Details
	}{
		{"preview.md", preview(), report.Details{RunURL: runURL}},
		{"deployed.md", deployed, report.Details{RunURL: runURL}},
		{"previews.md", previews, report.Details{RunURL: runURL}},
		{"preview-first-deploy.md", firstDeploy, report.Details{RunURL: runURL}},
		{"previews-first-reused.md", reused, report.Details{RunURL: runURL}},
		{"closed.md", closed, report.Details{RunURL: runURL}},
		{"failed.md", failed, report.Details{RunURL: runURL, Failure: "failed to deploy version 182bd5e5 to 100%: Cloudflare API POST /x: 400 (code 10210)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Render("shop", tc.res, tc.d)
			golden(t, tc.name, got)
			first, rest, _ := strings.Cut(got, "\n")
			assert.Equal(t, Marker("shop"), first)
			assert.NotContains(t, rest, "<!--", "untrusted text cannot forge a marker")
			assert.NotContains(t, rest, "<img")
			assert.NotContains(t, rest, "@octocat")
		})
	}
}

func TestRenderStaysUnderTheLimit(t *testing.T) {
	t.Parallel()
	res := preview()
	res.Modules = nil
	for i := range 5000 {
		res.Modules = append(res.Modules, pipeline.Module{Name: fmt.Sprintf("chunks/%05d-%s.mjs", i, strings.Repeat("x", 40)), ContentType: "application/javascript+module", Size: 100})
	}
	for i := range 3000 {
		res.Bindings = append(res.Bindings, pipeline.BindingInfo{Name: fmt.Sprintf("VAR_%d", i), Type: "plain_text"})
	}
	got := Render("shop", res, report.Details{RunURL: runURL})
	assert.LessOrEqual(t, len(got), MaxBody)
	assert.Contains(t, got, "more (cut to keep the report short)")
	assert.True(t, strings.HasPrefix(got, Marker("shop")+"\n"))
	assert.Contains(t, got, res.VersionID, "the essentials stay")

	// Even a single huge message (already cut to 1000 bytes by inputs) or
	// stage table cannot push it over: the last resort cuts lines.
	res.Message = strings.Repeat("@a ", 40000)
	got = Render("shop", res, report.Details{RunURL: runURL})
	assert.LessOrEqual(t, len(got), MaxBody)
	assert.Contains(t, got, "the job summary has all of it")
}

func TestMarker(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, worker, want string }{
		{"name", "shop", "<!-- workers-deploy:sticky-comment worker=shop -->"},
		{"id", "0123456789abcdef0123456789abcdef", "<!-- workers-deploy:sticky-comment worker=0123456789abcdef0123456789abcdef -->"},
		{"hostile", "a-->b c", "<!-- workers-deploy:sticky-comment worker=a-%2D%3Eb%20c -->"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Marker(tc.worker))
		})
	}
	assert.False(t, strings.HasPrefix(Marker("shop-staging"), Marker("shop")), "one Worker's marker is not a prefix of another's")
}

func FuzzMarker(f *testing.F) {
	f.Add("shop")
	f.Add("a-->b")
	f.Add("--!>")
	f.Fuzz(func(t *testing.T, w string) {
		m := Marker(w)
		inner := strings.TrimSuffix(strings.TrimPrefix(m, "<!-- "), " -->")
		if strings.Contains(inner, "--") || strings.Contains(inner, ">") || strings.ContainsAny(inner, "\n\r") {
			t.Fatalf("marker %q for %q can end the comment early", m, w)
		}
	})
}

// fakeAPI records calls behind a mutex; …Err fields make a verb fail.
type fakeAPI struct {
	mu       sync.Mutex
	login    string
	comments []github.Comment
	nextID   int64
	calls    []string

	ViewerErr, ListErr, CreateErr, UpdateErr error
	// found, when set, is what CreateComment returns instead of creating: the
	// client found it after an unknown outcome. It must satisfy mine.
	found *github.Comment
}

func (f *fakeAPI) Viewer(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "viewer")
	return f.login, f.ViewerErr
}

func (f *fakeAPI) ListComments(_ context.Context, owner, repo string, number int) ([]github.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("list %s/%s#%d", owner, repo, number))
	if f.ListErr != nil {
		return nil, f.ListErr
	}
	return append([]github.Comment(nil), f.comments...), nil
}

func (f *fakeAPI) CreateComment(_ context.Context, owner, repo string, number int, body string, mine func(github.Comment) bool) (github.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("create %s/%s#%d", owner, repo, number))
	if f.CreateErr != nil {
		return github.Comment{}, f.CreateErr
	}
	if f.found != nil {
		if mine == nil || !mine(*f.found) {
			return github.Comment{}, errors.New("the found comment is not recognised as the sticky one")
		}
		f.comments = append(f.comments, *f.found)
		return *f.found, nil
	}
	f.nextID++
	c := github.Comment{ID: 1000 + f.nextID, Body: body, Author: "github-actions[bot]", HTMLURL: fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, number, 1000+f.nextID)}
	if mine == nil || !mine(c) {
		return github.Comment{}, errors.New("the created comment would not be recognised after an unknown outcome")
	}
	f.comments = append(f.comments, c)
	return c, nil
}

func (f *fakeAPI) UpdateComment(_ context.Context, owner, repo string, id int64, body string) (github.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("update %d", id))
	if f.UpdateErr != nil {
		return github.Comment{}, f.UpdateErr
	}
	for i := range f.comments {
		if f.comments[i].ID == id {
			f.comments[i].Body = body
			f.comments[i].HTMLURL = fmt.Sprintf("https://github.com/%s/%s/pull/7#issuecomment-%d", owner, repo, id)
			return f.comments[i], nil
		}
	}
	return github.Comment{}, errors.New("no such comment")
}

var _ API = (*fakeAPI)(nil)

func TestUpsert(t *testing.T) {
	t.Parallel()
	forbidden := &github.APIError{Method: "GET", Path: "/user", Status: 403, Message: "Resource not accessible by integration"}
	mine := Marker("shop") + "\nold"
	target := Target{Owner: "octo", Repo: "shop", Number: 7}
	cases := []struct {
		name       string
		api        *fakeAPI
		wantAction string
		wantID     int64
		wantErr    string
		wantCalls  []string
	}{
		{
			name:       "first run creates",
			api:        &fakeAPI{ViewerErr: forbidden, comments: []github.Comment{{ID: 1, Body: "lgtm", Author: "alice"}}},
			wantAction: "created", wantID: 1001,
			wantCalls: []string{"viewer", "list octo/shop#7", "create octo/shop#7"},
		},
		{
			name: "the bot's own marked comment is edited (identity assumed on 403)",
			api: &fakeAPI{ViewerErr: forbidden, comments: []github.Comment{
				{ID: 1, Body: mine, Author: "mallory"}, // pasted the marker: not ours
				{ID: 2, Body: Marker("shop-staging") + "\nx", Author: "github-actions[bot]"},
				{ID: 3, Body: mine, Author: "GitHub-Actions[bot]"},
			}},
			wantAction: "updated", wantID: 3,
			wantCalls: []string{"viewer", "list octo/shop#7", "update 3"},
		},
		{
			name:       "personal token: login from GET /user, [bot] and case ignored",
			api:        &fakeAPI{login: "Deploy-Bot", comments: []github.Comment{{ID: 5, Body: mine, Author: "github-actions[bot]"}, {ID: 6, Body: mine, Author: "deploy-bot"}}},
			wantAction: "updated", wantID: 6,
			wantCalls: []string{"viewer", "list octo/shop#7", "update 6"},
		},
		{
			name:       "same body is not rewritten",
			api:        &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 9, Body: Marker("shop") + "\nnew", Author: "github-actions[bot]", HTMLURL: "u9"}}},
			wantAction: "unchanged", wantID: 9,
			wantCalls: []string{"viewer", "list octo/shop#7"},
		},
		{
			name: "found after an unknown outcome with another body: edited",
			api: &fakeAPI{ViewerErr: forbidden, found: &github.Comment{
				ID: 12, Body: Marker("shop") + "\nfrom a concurrent attempt", Author: "github-actions[bot]", HTMLURL: "u12",
			}},
			wantAction: "created", wantID: 12,
			wantCalls: []string{"viewer", "list octo/shop#7", "create octo/shop#7", "update 12"},
		},
		{
			name: "found after an unknown outcome with this body: not edited",
			api: &fakeAPI{login: "deploy-bot", found: &github.Comment{
				ID: 13, Body: Marker("shop") + "\nnew", Author: "deploy-bot", HTMLURL: "u13",
			}},
			wantAction: "created", wantID: 13,
			wantCalls: []string{"viewer", "list octo/shop#7", "create octo/shop#7"},
		},
		{
			name:      "list forbidden",
			api:       &fakeAPI{ViewerErr: forbidden, ListErr: &github.APIError{Method: "GET", Path: "/c", Status: 404, Message: "Not Found"}},
			wantErr:   "failed to list the comments of pull request #7: GitHub API GET /c: 404 Not Found",
			wantCalls: []string{"viewer", "list octo/shop#7"},
		},
		{
			name:      "viewer outage is an error, not a guess",
			api:       &fakeAPI{ViewerErr: &github.APIError{Method: "GET", Path: "/user", Status: 502}},
			wantErr:   "failed to look up the GitHub token's user: GitHub API GET /user: 502 Bad Gateway",
			wantCalls: []string{"viewer"},
		},
		{
			name:      "create forbidden",
			api:       &fakeAPI{ViewerErr: forbidden, CreateErr: &github.APIError{Method: "POST", Path: "/c", Status: 403, Message: "Resource not accessible by integration"}},
			wantErr:   "failed to create a comment on pull request #7",
			wantCalls: []string{"viewer", "list octo/shop#7", "create octo/shop#7"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Upsert(context.Background(), tc.api, target, "shop", Marker("shop")+"\nnew")
			assert.Equal(t, tc.wantCalls, tc.api.calls)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantAction, got.Action)
			assert.Equal(t, tc.wantID, got.ID)
			assert.NotEmpty(t, got.URL)
		})
	}
}

func TestSameLogin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		want bool
	}{
		{"github-actions[bot]", "github-actions", true},
		{"GitHub-Actions", "github-actions[bot]", true},
		{"alice", "bob", false},
		{"", "", false},
		{"github-actions[bot]x", "github-actions", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, SameLogin(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
	}
}
