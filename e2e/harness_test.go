package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

const (
	testToken   = "e2e-token-0123456789abcdefSECRET"
	testAccount = "abcdefabcdefabcdefabcdefabcdef12"
	pushSHA     = "0000000000000000000000000000000000c0ffee"
	// testGitHubToken is the github-token input of every job.
	testGitHubToken = "ghs_e2eGitHubTokenValue"
)

// binPath is the action binary built once by TestMain.
var binPath string

// coverDir is where a binary built with -cover writes its counters; "" when
// WORKERS_DEPLOY_COVERDIR is not set (no coverage).
var coverDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "workers-deploy-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "workers-deploy")
	args := []string{"build", "-o", binPath}
	// With WORKERS_DEPLOY_COVERDIR set, the binary is built with coverage and
	// every run writes its counters there (GOCOVERDIR, see job.environ), for
	// `go tool covdata` to merge with the unit tests' (.ci/run).
	if coverDir = os.Getenv("WORKERS_DEPLOY_COVERDIR"); coverDir != "" {
		if coverDir, err = filepath.Abs(coverDir); err == nil {
			err = os.MkdirAll(coverDir, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		args = append(args, "-cover", "-covermode=atomic", "-coverpkg=github.com/workers-deploy/workers-deploy/...")
	}
	build := exec.Command("go", append(args, "../cmd/workers-deploy")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "failed to build the action: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cloudflare is an emulator served on loopback for one test.
type cloudflare struct {
	*emulator.Server
	URL string
}

func newCloudflare(t testing.TB) *cloudflare {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Token: testToken, AccountID: testAccount, Subdomain: "acme"})
	require.NoError(t, err)
	srv.FailUnfiredFaults(t)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &cloudflare{Server: srv, URL: ts.URL + "/client/v4"}
}

// run is one invocation of the binary.
type run struct {
	Code    int
	Stdout  string
	Outputs map[string]string
	Summary string
}

// errors returns the ::error:: lines the run printed.
func (r *run) errors() []string {
	var out []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "::error") {
			out = append(out, l)
		}
	}
	return out
}

// errorTexts returns the ::error:: lines with the workflow-command escapes
// (%25, %0D, %0A) undone.
func (r *run) errorTexts() []string {
	var out []string
	for _, l := range r.errors() {
		out = append(out, unescapeAnnotation(l))
	}
	return out
}

// unescapeAnnotation undoes the workflow-command escaping of a message
// (%25, %0D, %0A), so tests can match the text a user sees.
func unescapeAnnotation(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(s)
}

// write puts data at dir/rel (slash-separated), creating directories.
func write(t testing.TB, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// assertNoSecrets checks that the API and GitHub tokens appear nowhere but in
// the ::add-mask:: commands (which the runner consumes and never shows), and
// that they were masked before any other line was printed.
func assertNoSecrets(t *testing.T, r *run) {
	t.Helper()
	lines := strings.Split(r.Stdout, "\n")
	seenOther := false
	for _, l := range lines {
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

// job describes the runner environment of one step.
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
}

// environ returns the process environment of j with the runner's
// conventions: INPUT_* (upper case, hyphens kept), GITHUB_*, and the
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files in dir, created empty (see
// readRunnerFiles). Outside leaves out GITHUB_* and the files. exec and start
// both use it, so a synchronous and an asynchronous run see the same runner.
func (j job) environ(t testing.TB, dir string) []string {
	t.Helper()
	outFile, sumFile := filepath.Join(dir, "set_output"), filepath.Join(dir, "step_summary")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if coverDir != "" {
		env = append(env, "GOCOVERDIR="+coverDir)
	}
	if !j.Outside {
		env = append(env,
			"GITHUB_ACTIONS=true", "CI=true",
			"GITHUB_WORKSPACE="+j.Workspace,
			"GITHUB_EVENT_NAME="+j.Event,
			"GITHUB_SHA="+j.SHA,
			"GITHUB_REF=refs/heads/main",
			"GITHUB_REPOSITORY=octo/shop",
			"GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1",
			"GITHUB_SERVER_URL=https://github.com", "GITHUB_API_URL=https://api.github.com",
			"GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+sumFile,
		)
		require.NoError(t, os.WriteFile(outFile, nil, 0o644))
		require.NoError(t, os.WriteFile(sumFile, nil, 0o644))
		if j.Payload != "" {
			env = append(env, "GITHUB_EVENT_PATH="+j.Payload)
		}
	}
	for k, v := range j.Inputs {
		// The runner upper-cases input names and keeps hyphens.
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	for k, v := range j.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// readRunnerFiles fills r's Outputs and Summary from the files environ set up
// in dir.
func readRunnerFiles(t testing.TB, dir string, r *run) {
	t.Helper()
	r.Outputs = parseOutputs(t, filepath.Join(dir, "set_output"))
	s, err := os.ReadFile(filepath.Join(dir, "step_summary"))
	require.NoError(t, err)
	r.Summary = string(s)
}

// exec runs the binary with the runner's conventions and parses its files.
func (j job) exec(t testing.TB, ctx context.Context) *run {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.CommandContext(ctx, binPath, j.Args...)
	cmd.Env = j.environ(t, tmp)
	cmd.Dir = j.Workspace
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stdout
	err := cmd.Run()
	r := &run{Stdout: stdout.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		t.Fatalf("failed to run the action: %v", err)
	}
	if !j.Outside {
		readRunnerFiles(t, tmp, r)
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
		line := sc.Text()
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			if k, v, ok := strings.Cut(line, "="); ok {
				out[k] = v
				continue
			}
			t.Fatalf("unexpected line in GITHUB_OUTPUT: %q", line)
		}
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
func workspace(t *testing.T, fixture string) string {
	t.Helper()
	dst := t.TempDir()
	copyDir(t, filepath.Join("..", "testdata", "workers", fixture), dst)
	return dst
}

// copyDir copies the tree src into dst, leaving out folders named in skip.
func copyDir(t *testing.T, src, dst string, skip ...string) {
	t.Helper()
	require.DirExists(t, src)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && rel != "." && slices.Contains(skip, d.Name()) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	require.NoError(t, err)
}

// pushJob is a push event on the fixture against cf.
func pushJob(t *testing.T, cf *cloudflare, ws string, inputs map[string]string) job {
	t.Helper()
	in := runnerDefaults(t)
	for k, v := range map[string]string{
		"api-token": testToken, "account-id": testAccount, "api-url": cf.URL,
		"worker": "shop", "compatibility-date": "2025-09-01",
	} {
		in[k] = v
	}
	for k, v := range inputs {
		in[k] = v
	}
	return job{
		Workspace: ws, Event: "push", SHA: pushSHA,
		Payload: filepath.Join(mustAbs(t, "../testdata/events"), "push.04.created.json"),
		Inputs:  in,
	}
}

// runnerDefaults are the inputs the runner fills in from action.yml's
// defaults (inputs.RunnerDefaults, which a test checks against action.yml),
// with testGitHubToken for `${{ github.token }}`.
func runnerDefaults(t testing.TB) map[string]string {
	t.Helper()
	in := map[string]string{}
	for _, d := range inputs.RunnerDefaults(func(expr string) string {
		if expr != "${{ github.token }}" {
			t.Fatalf("no value for the action.yml default %s", expr)
		}
		return testGitHubToken
	}) {
		in[d.Name] = d.Value
	}
	return in
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
