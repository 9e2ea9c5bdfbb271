package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// Secret values of the security tests: one with Markdown metacharacters (the
// summary escapes `_`, so an unredacted value would no longer match the
// runner's mask), and one on two lines (masked line by line).
const (
	secValue      = "s3cret_value_e2e*Security"
	secMultiLine1 = "first-line-of-the-secret"
	secMultiLine2 = "second-line-of-the-secret"
)

// recorded is one request a recordingProxy saw.
type recorded struct {
	Method, URL string
	Header      http.Header
	Body        string
}

// text is everything of the request but the Authorization header.
func (r recorded) text() string {
	h := r.Header.Clone()
	h.Del("Authorization")
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	_ = h.Write(&b)
	b.WriteString(r.Body)
	return b.String()
}

// recordingProxy sits in front of a test server and keeps every request
// (URL, headers, body). intercept, when it returns true, answers the request
// itself instead of forwarding it.
type recordingProxy struct {
	*httptest.Server
	mu        sync.Mutex
	reqs      []recorded
	intercept func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	u.Path, u.RawPath = "", ""
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &recordingProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.reqs = append(p.reqs, recorded{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: string(body)})
		hook := p.intercept
		p.mu.Unlock()
		if hook != nil && hook(w, r, body) {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) requests() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded(nil), p.reqs...)
}

func (p *recordingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

// versionCreate matches the one request allowed to carry secret values.
var versionCreate = regexp.MustCompile(`^POST /client/v4/accounts/[0-9a-f]+/workers/workers/[^/]+/versions(\?|$)`)

// TestSecurityCredentialsStayWhereTheyBelong runs a pull_request job with
// api-token, github-token and `secrets` set, comment and github-deployment
// enabled, through recording proxies, and fails it two ways. None of the three
// credentials appears in stdout (except the leading ::add-mask:: lines), the
// outputs, the job summary, anything GitHub received, or the health checks;
// the API token goes only to the API host as the bearer, the GitHub token only
// to GITHUB_API_URL as the bearer, and secret values only in the version
// create body.
func TestSecurityCredentialsStayWhereTheyBelong(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// healthStatus is the answer of the health endpoint.
		healthStatus int
		// echo makes the version upload fail with an error that repeats the
		// credentials it was sent, as a careless API could.
		echo bool
	}{
		{name: "rollout fails its health checks and rolls back", healthStatus: http.StatusServiceUnavailable},
		{name: "version upload rejected with an error echoing the credentials", healthStatus: http.StatusOK, echo: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := newCloudflare(t)
			cfProxy := newRecordingProxy(t, emu.URL)
			cf := &cloudflare{Server: emu.Server, URL: cfProxy.URL + "/client/v4"}
			gh := newFakeGitHub(t)
			ghProxy := newRecordingProxy(t, gh.URL)
			ws := workspace(t, "esm-multi")
			seedBaseline(t, cf, ws)
			cfProxy.reset()

			var hmu sync.Mutex
			var healthReqs []recorded
			health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hmu.Lock()
				healthReqs = append(healthReqs, recorded{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone()})
				hmu.Unlock()
				w.WriteHeader(tc.healthStatus)
			}))
			t.Cleanup(health.Close)

			if tc.echo {
				cfProxy.mu.Lock()
				cfProxy.intercept = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
					if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/versions") {
						return false
					}
					msg := fmt.Sprintf("binding APP_SECRET: value %q is not allowed; MULTI: %q; auth %q", secValue, secMultiLine1+"\n"+secMultiLine2, r.Header.Get("Authorization"))
					writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "result": nil, "messages": []any{},
						"errors": []any{map[string]any{"code": 10021, "message": msg}}})
					return true
				}
				cfProxy.mu.Unlock()
			}

			j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", staged(map[string]string{
				"health-check-url": health.URL + "/healthz", "github-deployment": "true", "comment": "true",
				"secrets": "APP_SECRET\nMULTI_SECRET",
			}))
			j.Env["GITHUB_API_URL"] = ghProxy.URL + "/api/v3"
			j.Env["APP_SECRET"] = secValue
			j.Env["MULTI_SECRET"] = secMultiLine1 + "\n" + secMultiLine2
			r := j.exec(t, ctxFor(t))
			require.Equal(t, 1, r.Code, r.Stdout)
			require.Len(t, r.errors(), 1, r.Stdout)

			secrets := []string{testToken, testGitHubToken, secValue, secMultiLine1, secMultiLine2}
			// stdout: only the ::add-mask:: lines, all before anything else.
			other := false
			masked := map[string]bool{}
			for _, l := range strings.Split(r.Stdout, "\n") {
				if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
					assert.False(t, other, "::add-mask:: after other output: %q", l)
					masked[v] = true
					continue
				}
				other = other || l != ""
				for _, s := range secrets {
					assert.NotContains(t, l, s)
				}
			}
			for _, s := range secrets {
				assert.True(t, masked[s], "%.6s… is masked on a line of its own", s)
			}
			for name, v := range r.Outputs {
				for _, s := range secrets {
					assert.NotContains(t, v, s, "output %s", name)
				}
			}
			require.NotEmpty(t, r.Summary)
			for _, s := range secrets {
				assert.NotContains(t, r.Summary, s, "job summary")
			}

			// GitHub: the comment and the deployment were written, without
			// any credential; the GitHub token only as the bearer.
			require.Len(t, gh.commentsOf(prNumber), 1)
			if tc.echo {
				assert.Empty(t, gh.deploymentsCopy(), "no version, no GitHub Deployment")
			} else {
				require.Len(t, gh.deploymentsCopy(), 1)
			}
			ghReqs := ghProxy.requests()
			require.NotEmpty(t, ghReqs)
			for _, q := range ghReqs {
				assert.Equal(t, "Bearer "+testGitHubToken, q.Header.Get("Authorization"), q.URL)
				for _, s := range secrets {
					assert.NotContains(t, q.text(), s, "GitHub request %s %s", q.Method, q.URL)
				}
			}
			assertNothingLeaked(t, gh)

			// Cloudflare: the API token only as the bearer, never the GitHub
			// token; secret values only in the version create body.
			cfReqs := cfProxy.requests()
			require.NotEmpty(t, cfReqs)
			sentSecret := false
			for _, q := range cfReqs {
				assert.Equal(t, "Bearer "+testToken, q.Header.Get("Authorization"), q.URL)
				text := q.text()
				assert.NotContains(t, text, testToken, q.URL)
				assert.NotContains(t, text, testGitHubToken, q.URL)
				if versionCreate.MatchString(q.Method + " " + q.URL) {
					sentSecret = sentSecret || strings.Contains(q.Body, secValue)
					continue
				}
				for _, s := range []string{secValue, secMultiLine1, secMultiLine2} {
					assert.NotContains(t, text, s, "%s %s", q.Method, q.URL)
				}
			}
			assert.True(t, sentSecret, "the secret value went to Cloudflare in the version create body")

			// The health endpoint: checks ran (when the version was deployed)
			// and none carried a credential.
			hmu.Lock()
			defer hmu.Unlock()
			if !tc.echo {
				require.NotEmpty(t, healthReqs)
			}
			for _, q := range healthReqs {
				assert.Empty(t, q.Header.Get("Authorization"))
				assert.Empty(t, q.Header.Get("Cookie"))
				for _, s := range secrets {
					assert.NotContains(t, q.text(), s)
				}
			}
		})
	}
}

// hostileTitle is a PR title that tries to forge the sticky-comment marker,
// mention a team, inject HTML and a link, and overflow the comment.
func hostileTitle() string {
	unit := "<!-- workers-deploy:sticky-comment worker=x --> @org/team <script>alert(1)</script> [click](https://evil.example) | x |\n\n"
	return strings.Repeat(unit, 70000/len(unit)+1)
}

// TestSecurityHostilePRTitle: a 70,000-character PR title (the default version
// message) full of markup does not forge or break the marker, mention anyone,
// inject HTML or links (Markdown links or bare URLs), or push the comment over 65,536 characters; a comment
// by someone else that carries the marker is never edited.
func TestSecurityHostilePRTitle(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "events", "pull_request.00.opened.json"))
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw, &ev))
	ev["pull_request"].(map[string]any)["title"] = hostileTitle()
	payload := filepath.Join(t.TempDir(), "event.json")
	data, err := json.Marshal(ev)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(payload, data, 0o644))
	foreign := gh.addComment(prNumber, "mallory", markerOf("shop")+"\nplease edit me")

	var bodies []string
	for range 2 {
		j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", nil)
		j.Payload = payload
		r := j.exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.Empty(t, warnings(r), r.Stdout)
		for _, md := range []string{r.Summary} {
			assert.NotContains(t, md, "<script")
			assert.NotContains(t, md, "<!--")
			assert.NotContains(t, md, "@org/team")
			assert.NotContains(t, md, "[click](")
			assert.NotContains(t, md, "https://evil.example", "a bare URL GFM would link")
			assert.Less(t, len(md), 1<<20)
		}
		for _, l := range strings.Split(r.Stdout, "\n") {
			assert.False(t, strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::add-mask::") && !strings.HasPrefix(l, "::debug::") &&
				!strings.HasPrefix(l, "::notice") && !strings.HasPrefix(l, "::warning") && !strings.HasPrefix(l, "::error") &&
				!strings.HasPrefix(l, "::group::") && !strings.HasPrefix(l, "::endgroup::"), "a workflow command from untrusted text: %q", l)
		}
		comments := gh.commentsOf(prNumber)
		require.Len(t, comments, 2, "the foreign comment and one sticky comment")
		assert.Equal(t, foreign, comments[0].ID)
		assert.Equal(t, markerOf("shop")+"\nplease edit me", comments[0].Body, "someone else's comment is never edited")
		bodies = append(bodies, comments[1].Body)
	}
	body := bodies[1]
	require.True(t, strings.HasPrefix(body, markerOf("shop")+"\n"), "the marker is the first line")
	assert.Equal(t, 1, strings.Count(body, "<!--"), "the only HTML comment is the marker")
	assert.NotContains(t, body, "<script")
	assert.NotContains(t, body, "@org/team")
	assert.NotContains(t, body, "[click](")
	assert.NotContains(t, body, "https://evil.example", "a bare URL GFM would link")
	assert.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	// The message row is one line: the title's line breaks and table pipes
	// did not add rows.
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if strings.HasPrefix(sc.Text(), "| x |") || strings.HasPrefix(sc.Text(), "@") {
			t.Errorf("a line made of the title: %.80q", sc.Text())
		}
	}
	require.NoError(t, sc.Err(), "the whole comment body was scanned")
	assert.Greater(t, lines, 1, "the comment body has lines to check")
}

// TestSecurityAssetsDirectoryStaysInWorkingDirectory: a configuration whose
// assets.directory points outside the working directory (by an absolute path,
// "..", or a symlink) fails before any write instead of publishing those files
// as static assets (in the container, /proc/self/environ holds the API token).
func TestSecurityAssetsDirectoryStaysInWorkingDirectory(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, dir string }{
		{"absolute path", "ABS"},
		{"parent directory", "../outside"},
		{"symlink to a directory outside", "public"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			root := t.TempDir()
			ws := filepath.Join(root, "ws")
			require.NoError(t, os.MkdirAll(filepath.Join(root, "outside"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, "outside", "secret.txt"), []byte("not for the public"), 0o644))
			require.NoError(t, os.MkdirAll(filepath.Join(ws, "dist"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(ws, "dist", "index.js"), []byte("export default {fetch(){return new Response('ok')}}"), 0o644))
			dir := tc.dir
			if dir == "ABS" {
				dir = filepath.Join(root, "outside")
			}
			if tc.dir == "public" {
				require.NoError(t, os.Symlink(filepath.Join(root, "outside"), filepath.Join(ws, "public")))
			}
			require.NoError(t, os.WriteFile(filepath.Join(ws, "wrangler.json"),
				[]byte(fmt.Sprintf(`{"name":"site","assets":{"directory":%q}}`, dir)), 0o644))
			r := pushJob(t, cf, ws, map[string]string{"worker": ""}).exec(t, ctxFor(t))
			assert.Empty(t, cf.Assets("site"), "no file outside the working directory was published")
			require.Equal(t, 1, r.Code, r.Stdout)
			require.Len(t, r.errors(), 1, r.Stdout)
			assert.Contains(t, r.errors()[0], "config")
			assert.Contains(t, r.errors()[0], "is outside")
			assert.Empty(t, cf.Writes(), "nothing was uploaded")
		})
	}
}

// TestAssetsDirectoryBesideWorkingDirectory: in a monorepo an app's assets may
// live beside it (`../public`, as wrangler allows) as long as they stay inside
// the workspace, the boundary of TestSecurityAssetsDirectoryStaysInWorkingDirectory.
func TestAssetsDirectoryBesideWorkingDirectory(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := t.TempDir()
	app := filepath.Join(ws, "apps", "site")
	require.NoError(t, os.MkdirAll(filepath.Join(app, "dist"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "dist", "index.js"), []byte("export default {fetch(){return new Response('ok')}}"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(ws, "apps", "public"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "apps", "public", "index.html"), []byte("<h1>site</h1>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "wrangler.json"), []byte(`{"name":"site","assets":{"directory":"../public"}}`), 0o644))
	r := pushJob(t, cf, ws, map[string]string{"worker": "", "working-directory": "apps/site"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Len(t, cf.Assets("site"), 1)
}

// TestSecurityImageContents parses the Dockerfile and .dockerignore: the final
// stage is FROM scratch and copies only the static binary and the CA bundle
// from the build stage; there is no shell, no package manager, no USER (Docker
// actions run as root); the build context holds only the Go sources, without
// tests and test data. TestContainerImage builds and runs the image.
func TestSecurityImageContents(t *testing.T) {
	t.Parallel()
	df, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	require.NoError(t, err)
	var stages [][]string
	var logical strings.Builder
	for _, line := range strings.Split(string(df), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			logical.WriteString(cont + " ")
			continue
		}
		logical.WriteString(line)
		inst := logical.String()
		logical.Reset()
		if strings.HasPrefix(strings.ToUpper(inst), "FROM ") {
			stages = append(stages, nil)
		}
		require.NotEmpty(t, stages, "an instruction before the first FROM: %q", inst)
		stages[len(stages)-1] = append(stages[len(stages)-1], inst)
	}
	require.GreaterOrEqual(t, len(stages), 2, "a build stage and a final stage")
	final := stages[len(stages)-1]
	assert.Equal(t, "FROM scratch", final[0])
	assert.True(t, strings.HasPrefix(stages[0][0], "FROM golang:"), stages[0][0])
	var copies []string
	for _, inst := range final[1:] {
		fields := strings.Fields(inst)
		switch strings.ToUpper(fields[0]) {
		case "COPY":
			copies = append(copies, strings.Join(fields[1:], " "))
		case "ENTRYPOINT":
			assert.Equal(t, `ENTRYPOINT ["/workers-deploy"]`, inst)
		default:
			t.Errorf("unexpected instruction in the final stage: %q", inst)
		}
	}
	assert.ElementsMatch(t, []string{
		"--from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
		"--from=build /out/workers-deploy /workers-deploy",
	}, copies)
	build := strings.Join(stages[0], "\n")
	assert.Contains(t, build, "CGO_ENABLED=0", "a static binary: scratch has no libc")
	assert.Contains(t, build, "-trimpath")
	assert.Contains(t, build, "COPY go.mod go.sum ./", "modules come from go.sum-verified downloads")
	assert.NotContains(t, strings.ToLower(string(df)), "npm ")

	ign, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	require.NoError(t, err)
	lines := strings.Fields(string(ign))
	require.NotEmpty(t, lines)
	assert.Equal(t, "*", lines[0], "everything is excluded first")
	assert.ElementsMatch(t, []string{"!go.mod", "!go.sum", "!cmd", "!internal", "internal/**/testdata", "internal/**/*_test.go"}, lines[1:])
}

// TestSecurityOutsideActionsNothingMasked: outside GitHub Actions nothing reads
// ::add-mask::, so printing it would show the secret: a run with flags prints
// no mask command and neither the token nor a secret value, also when it
// fails.
func TestSecurityOutsideActionsNothingMasked(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	cf.InjectFault(emulator.Fault{Method: "POST", Path: "/accounts/*/workers/scripts/*/deployments", Kind: emulator.FaultStatus, Status: 400, Code: 10210})
	j := job{Workspace: ws, Outside: true, Env: map[string]string{"APP_SECRET": secValue}, Args: []string{
		"--api-token", testToken, "--account-id", testAccount, "--api-url", cf.URL, "--worker", "shop",
		"--compatibility-date", "2025-09-01", "--modules", "dist/**", "--secrets", "APP_SECRET", "--deploy",
	}}
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	assert.Len(t, cf.Versions("shop"), 1, "the token was used: the version exists")
	assert.NotContains(t, r.Stdout, "::add-mask::")
	assert.NotContains(t, r.Stdout, testToken)
	assert.NotContains(t, r.Stdout, secValue)
}

// TestSecuritySupplyChain: every module go.mod requires is pinned to a version
// with its hashes in go.sum (the build verifies downloads against them), no
// replace directive points at a local or forked copy, and the action runs as
// a Docker container (no npm install, no Node.js at run time).
func TestSecuritySupplyChain(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	sum, err := os.ReadFile(filepath.Join("..", "go.sum"))
	require.NoError(t, err)
	assert.NotRegexp(t, `(?m)^\s*replace\b`, string(mod))
	req := regexp.MustCompile(`(?m)^\s*(?:require\s+)?([a-z0-9.\-]+\.[a-z]+/[^\s]+)\s+(v[0-9][^\s]*)`)
	matches := req.FindAllStringSubmatch(string(mod), -1)
	require.NotEmpty(t, matches)
	for _, m := range matches {
		assert.Contains(t, string(sum), m[1]+" "+m[2]+"/go.mod h1:", "go.sum pins %s %s", m[1], m[2])
	}
	action, err := os.ReadFile(filepath.Join("..", "action.yml"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\s+using:\s+'?docker'?\s*$`, string(action))
	assert.NotContains(t, string(action), "node")
}
