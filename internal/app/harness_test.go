package app

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// The in-process tests run Run through its Env the way main does, with the
// runner's conventions (INPUT_* with hyphens kept, GITHUB_*, the output and
// summary files), against the emulator on loopback.
const (
	testToken       = "app-token-0123456789abcdefSECRET"
	testAccount     = "abcdefabcdefabcdefabcdefabcdef12"
	pushSHA         = "0000000000000000000000000000000000c0ffee"
	testGitHubToken = "ghs_appGitHubTokenValue"
)

// emulated is an emulator served on loopback for one test.
type emulated struct {
	*emulator.Server
	URL string
}

func newEmulated(t testing.TB) *emulated {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Token: testToken, AccountID: testAccount, Subdomain: "acme"})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &emulated{Server: srv, URL: ts.URL + "/client/v4"}
}

// gitHub is a stand-in for GitHub's API that records every request and
// answers 404: enough for runs that must not write to GitHub.
type gitHub struct {
	URL   string
	mu    sync.Mutex
	calls []string
}

func newGitHub(t testing.TB) *gitHub {
	t.Helper()
	g := &gitHub{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+r.URL.Path)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
	}))
	t.Cleanup(ts.Close)
	g.URL = ts.URL
	return g
}

func (g *gitHub) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

// job is the runner environment of one step.
type job struct {
	Workspace string
	Event     string // event name
	Payload   string // path of the payload file; "" for none
	SHA       string
	Inputs    map[string]string // kebab-case names, as in action.yml
	Env       map[string]string // extra variables
	Args      []string
	// Outside runs without GITHUB_ACTIONS and without the runner's files.
	Outside bool
	// Clock and HTTPClient are passed in Env (nil: the wall clock, the
	// clients' own).
	Clock      rollout.Clock
	HTTPClient *http.Client
}

// result is what one Run left behind.
type result struct {
	Code    int
	Stdout  string
	Outputs map[string]string
	Summary string
}

// errors returns the ::error:: lines of the run, with the workflow-command
// escapes undone.
func (r *result) errors() []string {
	var out []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "::error") {
			out = append(out, strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(l))
		}
	}
	return out
}

// pushJob is a push event on ws against cf, with the inputs the runner fills
// in from action.yml's defaults.
func pushJob(t testing.TB, cf *emulated, ws string, in map[string]string) job {
	t.Helper()
	all := map[string]string{}
	for _, d := range inputs.RunnerDefaults(func(string) string { return testGitHubToken }) {
		all[d.Name] = d.Value
	}
	for k, v := range map[string]string{
		"api-token": testToken, "account-id": testAccount, "api-url": cf.URL,
		"worker": "shop", "compatibility-date": "2025-09-01",
	} {
		all[k] = v
	}
	for k, v := range in {
		all[k] = v
	}
	return job{Workspace: ws, Event: "push", SHA: pushSHA, Payload: event(t, "push.04.created.json"), Inputs: all,
		Env: map[string]string{}}
}

// prJob is the pull_request event of payload on ws, reporting to gh.
func prJob(t testing.TB, cf *emulated, gh *gitHub, ws, payload string, in map[string]string) job {
	t.Helper()
	j := pushJob(t, cf, ws, in)
	j.Event, j.SHA, j.Payload = "pull_request", "1111111111111111111111111111111111111111", event(t, payload)
	j.Env["GITHUB_API_URL"] = gh.URL
	return j
}

func event(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", name))
	require.NoError(t, err)
	return p
}

// run calls Run with j's environment and reads the runner's files.
func (j job) run(t testing.TB, ctx context.Context) *result {
	t.Helper()
	dir := t.TempDir()
	outFile, sumFile := filepath.Join(dir, "set_output"), filepath.Join(dir, "step_summary")
	vars := map[string]string{"HOME": dir}
	if !j.Outside {
		for k, v := range map[string]string{
			"GITHUB_ACTIONS": "true", "CI": "true",
			"GITHUB_WORKSPACE": j.Workspace, "GITHUB_EVENT_NAME": j.Event, "GITHUB_SHA": j.SHA,
			"GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "octo/shop",
			"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
			"GITHUB_OUTPUT": outFile, "GITHUB_STEP_SUMMARY": sumFile,
		} {
			vars[k] = v
		}
		require.NoError(t, os.WriteFile(outFile, nil, 0o644))
		require.NoError(t, os.WriteFile(sumFile, nil, 0o644))
		if j.Payload != "" {
			vars["GITHUB_EVENT_PATH"] = j.Payload
		}
	}
	for k, v := range j.Inputs {
		// The runner upper-cases input names and keeps hyphens.
		vars["INPUT_"+strings.ToUpper(k)] = v
	}
	for k, v := range j.Env {
		vars[k] = v
	}
	var stdout bytes.Buffer
	code := Run(ctx, Env{
		Args:       j.Args,
		Getenv:     func(k string) string { return vars[k] },
		Stdout:     &stdout,
		ReadFile:   ghevent.ReadPayload,
		Getwd:      func() (string, error) { return j.Workspace, nil },
		Clock:      j.Clock,
		HTTPClient: j.HTTPClient,
	})
	r := &result{Code: code, Stdout: stdout.String()}
	if !j.Outside {
		r.Outputs = parseOutputs(t, outFile)
		s, err := os.ReadFile(sumFile)
		require.NoError(t, err)
		r.Summary = string(s)
	}
	return r
}

// parseOutputs reads a GITHUB_OUTPUT file (name<<DELIM / value / DELIM).
func parseOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		require.True(t, ok, "unexpected line in GITHUB_OUTPUT: %q", sc.Text())
		var val []string
		for sc.Scan() && sc.Text() != delim {
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	require.NoError(t, sc.Err())
	return out
}

// workspace copies a fixture Worker from testdata/workers into a temp dir.
func workspace(t testing.TB, fixture string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "workers", fixture)
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	// os.CopyFS keeps only the permission bits it can read; make the copy writable.
	require.NoError(t, filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}))
	return dst
}

// write puts data at dir/rel (slash-separated), creating directories.
func write(t testing.TB, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a rollout.Clock on which every wait ends at once and moves
// the time forward by its length: a minute of retries passes in no time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// seedBaseline deploys a first version (tag "base") and returns its ID.
func seedBaseline(t testing.TB, cf *emulated, ws string) string {
	t.Helper()
	r := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "base"}).run(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	return r.Outputs["version-id"]
}

// staged are the inputs of a short three-stage rollout.
func staged(extra map[string]string) map[string]string {
	in := map[string]string{"deploy": "true", "stages": "10%@300ms, 50%@300ms, 100%", "health-check-interval": "100ms"}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

// assertNoSecrets checks that the API and GitHub tokens appear nowhere but in
// the ::add-mask:: commands, and that those came before any other line.
func assertNoSecrets(t *testing.T, r *result) {
	t.Helper()
	seenOther := false
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "::add-mask::") {
			assert.False(t, seenOther, "::add-mask:: must come before any other output: %q", l)
			continue
		}
		if l != "" {
			seenOther = true
		}
		assert.NotContains(t, l, testToken)
		assert.NotContains(t, l, testGitHubToken)
	}
	for name, v := range r.Outputs {
		assert.NotContains(t, v, testToken, "output %s", name)
		assert.NotContains(t, v, testGitHubToken, "output %s", name)
	}
	assert.NotContains(t, r.Summary, testToken)
	assert.NotContains(t, r.Summary, testGitHubToken)
}
