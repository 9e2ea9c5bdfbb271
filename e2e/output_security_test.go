package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ownCommands are the workflow commands the action writes itself.
var ownCommands = map[string]bool{"add-mask": true, "debug": true, "notice": true, "warning": true, "error": true, "group": true, "endgroup": true}

// assertNoForeignCommand checks every line of stdout as the runner reads it
// (split on \n and \r; leading white space trimmed; "::name" at the start,
// or the older "##[name" anywhere): only the action's own commands, each
// written by the action at the start of its line.
func assertNoForeignCommand(t *testing.T, stdout string) {
	t.Helper()
	lines := strings.FieldsFunc(stdout, func(r rune) bool { return r == '\n' || r == '\r' })
	require.NotEmpty(t, lines)
	for _, l := range lines {
		assert.NotContains(t, l, "##[", "the runner's older command syntax: %q", l)
		rest := strings.TrimLeftFunc(l, unicode.IsSpace)
		after, ok := strings.CutPrefix(rest, "::")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(after, "::")
		name, _, _ = strings.Cut(name, " ")
		assert.True(t, ownCommands[name] && rest == l, "a workflow command from untrusted text: %q", l)
		if name == "add-mask" {
			assert.NotContains(t, l, "spoof", "a mask from untrusted text: %q", l)
		}
	}
}

// TestSecurityHostileModuleNamesPrintNoCommand: module files named like
// workflow commands (no control character, so they are valid names) are
// listed in the log without the runner reading any line as a command; the
// deploy goes on and the summary lists them.
func TestSecurityHostileModuleNamesPrintNoCommand(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	names := []string{"::stop-commands::spooftoken.js", "::add-mask::spoofmask.js", "##[add-mask]spoofold.js", " ::error title=Deploy failed::spoofed.js"}
	listed := []string{"stop-commands::spooftoken.js", "add-mask::spoofmask.js", "add-mask]spoofold.js", "error title=Deploy failed::spoofed.js"}
	for _, n := range names {
		write(t, ws, "dist/"+n, []byte("export const x = 1;\n"))
	}
	r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assertNoForeignCommand(t, r.Stdout)
	for _, n := range listed {
		assert.Contains(t, r.Stdout, n, "the module is listed")
	}
	assert.Contains(t, r.Summary, "stop-commands")
	assertNoSecrets(t, r)
}

// TestSecurityControlCharacterModuleNameRefused: a module file whose name
// holds a line break or a bare carriage return before "::" is bad input
// naming the file, before any write; no line of the log is a command but the
// one ::error.
func TestSecurityControlCharacterModuleNameRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a\n::error title=Deploy failed::spoofed\n.js", "b\r::add-mask::spoofmask.js", "c\x1b[2K::stop-commands::spooftoken.js"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			write(t, ws, "dist/"+name, []byte("export const x = 1;\n"))
			r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
			require.Equal(t, 1, r.Code, r.Stdout)
			require.Len(t, r.errors(), 1, r.Stdout)
			msg := r.errorTexts()[0]
			assert.Contains(t, msg, "control character")
			assert.Contains(t, msg, `input "modules"`)
			assert.Contains(t, msg, strings.Trim(fmt.Sprintf("%q", "dist/"+name), `"`), "the file is named, quoted")
			assert.Empty(t, cf.Writes(), "nothing was written")
			assertNoForeignCommand(t, r.Stdout)
		})
	}
}

// rewritingProxy forwards to target and lets rewrite change answers.
func rewritingProxy(t *testing.T, target string, rewrite func(r *http.Request, body []byte) []byte) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	path := u.Path
	u.Path = ""
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Header.Del("Accept-Encoding")
	}}
	rp.ModifyResponse = func(res *http.Response) error {
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		_ = res.Body.Close()
		body = rewrite(res.Request, body)
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL + path
}

// TestSecurityAPIStringsCannotAddOutputsOrCommands: a Worker name from the
// API's answer that carries line breaks, a workflow command and the fixed
// delimiter of go-githubactions' output file neither prints a command nor
// adds a step output.
func TestSecurityAPIStringsCannotAddOutputsOrCommands(t *testing.T) {
	t.Parallel()
	emu := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	const evilName = "shop\n::error title=Deploy failed::spoofed\n_GitHubActionsFileCommandDelimeter_\ninjected=yes\ninjected2<<EOF\nyes\nEOF"
	nameJSON, _ := json.Marshal(evilName)
	base := rewritingProxy(t, emu.URL, func(r *http.Request, body []byte) []byte {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/workers/workers/shop"):
			return bytes.Replace(body, []byte(`"name":"shop"`), []byte(`"name":`+string(nameJSON)), 1)
		}
		return body
	})
	seed := pushJob(t, emu, ws, map[string]string{"tag": "seed"}).exec(t, ctxFor(t)) // the Worker exists
	require.Equal(t, 0, seed.Code, seed.Stdout)
	cf := &cloudflare{Server: emu.Server, URL: base}
	r := pushJob(t, cf, ws, nil).exec(t, ctxFor(t))
	assertNoForeignCommand(t, r.Stdout)
	want := []string{"worker-id", "worker-name", "version-id", "version-number", "version-reused", "preview-url", "deployment-id",
		"deployed-percentage", "previous-version-id", "rolled-back", "comment-url", "commit-url", "preview-id", "preview-deployment-id", "result"}
	got := make([]string, 0, len(r.Outputs))
	for k := range r.Outputs {
		got = append(got, k)
	}
	assert.ElementsMatch(t, want, got, "no output added by an API string:\n%s", r.Stdout)
	assert.Equal(t, evilName, r.Outputs["worker-name"], "the value is written whole")
	assert.True(t, utf8.ValidString(r.Summary))
	var rec struct{ Worker struct{ Name string } }
	require.NoError(t, json.Unmarshal([]byte(r.Outputs["result"]), &rec), "the record is one JSON document")
	assert.Equal(t, evilName, rec.Worker.Name, "the record carries the name whole, JSON-escaped")
}

// TestSecuritySecretsRedactedInEscapedForms: an API error that echoes a
// secret value JSON-escaped (\u003c, \", \\, \t), URL-encoded and in base64
// shows none of those forms in the ::error, the job summary, the outputs or
// the PR comment, and each form is registered with ::add-mask::.
func TestSecuritySecretsRedactedInEscapedForms(t *testing.T) {
	t.Parallel()
	const secret = "p<a>ss&w\"o\\rd\tX9 z/+?é"
	emu := newCloudflare(t)
	cfProxy := newRecordingProxy(t, emu.URL)
	cf := &cloudflare{Server: emu.Server, URL: cfProxy.URL + "/client/v4"}
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	jsonHTML, _ := json.Marshal(secret)
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(secret))
	forms := map[string]string{
		"json":        strings.Trim(string(jsonHTML), `"`),
		"json plain":  strings.Trim(strings.TrimSpace(plain.String()), `"`),
		"query":       url.QueryEscape(secret),
		"path":        url.PathEscape(secret),
		"base64":      base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64url":   base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"base64 tail": base64.StdEncoding.EncodeToString([]byte("k=" + secret))[4:20],
	}
	cfProxy.mu.Lock()
	cfProxy.intercept = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/versions") {
			return false
		}
		msg := fmt.Sprintf("binding APP_SECRET rejected: {\"text\":%s} plain %s q=%s p=%s b=%s u=%s k=%s",
			jsonHTML, strings.TrimSpace(plain.String()), forms["query"], forms["path"], forms["base64"], forms["base64url"],
			base64.StdEncoding.EncodeToString([]byte("k="+secret)))
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "result": nil, "messages": []any{},
			"errors": []any{map[string]any{"code": 10021, "message": msg}}})
		return true
	}
	cfProxy.mu.Unlock()
	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"secrets": "APP_SECRET", "comment": "true"})
	j.Env["APP_SECRET"] = secret
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	errText := r.errorTexts()[0]
	assert.Contains(t, errText, "binding APP_SECRET rejected", "the echo reached the error")
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1)
	masks := map[string]bool{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
			masks[unescapeAnnotation(v)] = true
		}
	}
	for name, f := range forms {
		for where, text := range map[string]string{"::error": errText, "summary": r.Summary, "comment": comments[0].Body} {
			assert.NotContains(t, text, f, "%s form in the %s", name, where)
		}
		for k, v := range r.Outputs {
			assert.NotContains(t, v, f, "%s form in output %s", name, k)
		}
		if name != "base64 tail" {
			assert.True(t, masks[f], "%s form is masked: %q", name, f)
		}
	}
	assert.Contains(t, errText, "***")
}

// TestSecurityAPIURLWithUserInfoRefused: GITHUB_API_URL with a user name
// and password is refused before anything is written, without printing it.
func TestSecurityAPIURLWithUserInfoRefused(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	u, err := url.Parse(gh.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("octo-spoofuser", "hunter2pass")
	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"comment": "true", "github-deployment": "true"})
	j.Env["GITHUB_API_URL"] = u.String()
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "GITHUB_API_URL has a user name or password")
	assert.NotContains(t, r.Stdout, "octo-spoofuser")
	assert.NotContains(t, r.Stdout, "hunter2pass")
	assert.Empty(t, cf.Writes(), "nothing was written")
	assert.Empty(t, gh.requests(), "GitHub was not called")
}

// TestSecuritySummaryValidUTF8: a `message` with invalid UTF-8 reaches the
// job summary with U+FFFD in place of the bad bytes.
func TestSecuritySummaryValidUTF8(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	r := pushJob(t, cf, ws, map[string]string{"message": "fix \xff\xfe the https://evil.example bug"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.True(t, utf8.ValidString(r.Summary), "the summary is valid UTF-8")
	assert.Contains(t, r.Summary, "fix \uFFFD the")
	assert.NotContains(t, r.Summary, "https://evil.example", "a bare URL is not linked")
	assert.True(t, utf8.ValidString(r.Stdout))
}

// TestReportingAfterCancellationIsBounded: with a GitHub API that never
// answers, SIGINT during the reporting ends the run within the grace period,
// and the outputs and the job summary were written before GitHub was called.
func TestReportingAfterCancellationIsBounded(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ghProxy := newRecordingProxy(t, gh.URL)
	ghProxy.mu.Lock()
	ghProxy.intercept = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		select { // a GitHub that hangs
		case <-r.Context().Done():
		case <-time.After(3 * time.Minute):
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	ghProxy.mu.Unlock()
	ws := workspace(t, "esm-multi")
	// The comment is the first call to GitHub: it comes after the deploy.
	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"comment": "true", "github-deployment": "false"})
	j.Env["GITHUB_API_URL"] = ghProxy.URL
	run := j.start(t)
	waitFor(t, 60*time.Second, "a request to GitHub", func() bool { return len(ghProxy.requests()) > 0 })
	sent := time.Now()
	run.signal(t, syscall.SIGINT)
	r := run.wait(t, 9*time.Second)
	took := time.Since(sent)
	t.Logf("exited %s after SIGINT", took)
	assert.Less(t, took, 7*time.Second)
	assert.NotEmpty(t, r.Outputs["version-id"], r.Stdout)
	assert.Contains(t, r.Outputs, "comment-url")
	assert.Contains(t, r.Summary, "workers-deploy")
	assert.NotEmpty(t, warnings(r), "the reporting failure is a warning")
}

// TestSIGPIPEMidRolloutFinishes: stdout closed mid-rollout (the log reader
// gone) does not kill the process: it finishes the rollout and exits on its
// own, and the live deployment is not left split.
func TestSIGPIPEMidRolloutFinishes(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	base := seedBaseline(t, cf, ws)
	health := newHealth(t, 200)
	j := pushJob(t, cf, ws, map[string]string{"deploy": "true", "stages": "10%@2s, 100%", "health-check-interval": "100ms",
		"health-check-url": health.URL})
	tmp := t.TempDir()
	cmd := exec.Command(binPath)
	cmd.Env, cmd.Dir = j.environ(t, tmp), j.Workspace
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	require.NoError(t, cmd.Start())
	require.NoError(t, pw.Close())
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The baseline, then the 10% stage: the 2s hold is running.
	waitFor(t, 30*time.Second, "the 10% stage", func() bool { return len(cf.Deployments("shop")) == 2 })
	require.NoError(t, pr.Close()) // the reader is gone: every later write is EPIPE
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the action did not exit")
	}
	ws2, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.False(t, ws2.Signaled(), "killed by %v (stderr %q)", ws2.Signal(), stderr.String())
	assert.NoError(t, err, "exit code 0: the rollout finished")
	live := splitOf(cf.live(t, "shop"))
	assert.Len(t, live, 1, "not left split: %v", live)
	assert.NotContains(t, live, base)
	out := parseOutputs(t, filepath.Join(tmp, "set_output"))
	assert.Equal(t, "100", out["deployed-percentage"])
}
