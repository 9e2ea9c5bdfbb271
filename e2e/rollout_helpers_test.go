package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// healthEndpoint is a local health endpoint on loopback that records the
// version-override header of each check.
type healthEndpoint struct {
	*httptest.Server
	mu      sync.Mutex
	headers []string
	status  int
	// onCheck, when set, runs on each check (before answering).
	onCheck func(n int)
}

func newHealth(t *testing.T, status int) *healthEndpoint {
	t.Helper()
	h := &healthEndpoint{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.headers = append(h.headers, r.Header.Get("Cloudflare-Workers-Version-Overrides"))
		n, hook, status := len(h.headers), h.onCheck, h.status
		h.mu.Unlock()
		if hook != nil {
			hook(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *healthEndpoint) Headers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.headers...)
}

// split is a traffic split for deployAs.
type split map[string]float64

// deployAs creates a deployment through the API as someone else would (the
// dashboard, wrangler): the action did not write it.
func (c *cloudflare) deployAs(t *testing.T, worker string, s split) string {
	t.Helper()
	type dv struct {
		VersionID  string  `json:"version_id"`
		Percentage float64 `json:"percentage"`
	}
	body := map[string]any{"strategy": "percentage", "versions": []dv{}}
	for id, p := range s {
		body["versions"] = append(body["versions"].([]dv), dv{id, p})
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, c.URL+"/accounts/"+testAccount+"/workers/scripts/"+worker+"/deployments", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out struct {
		Success bool `json:"success"`
		Result  struct {
			ID string `json:"id"`
		} `json:"result"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.True(t, out.Success, "foreign deployment refused")
	return out.Result.ID
}

// live returns the live deployment of worker.
func (c *cloudflare) live(t *testing.T, worker string) emulator.DeploymentState {
	t.Helper()
	ds := c.Deployments(worker)
	require.NotEmpty(t, ds)
	return ds[len(ds)-1]
}

// deploymentWrites counts POSTs to the deployments endpoint.
func (c *cloudflare) deploymentWrites() int {
	n := 0
	for _, r := range c.Writes() {
		if strings.HasSuffix(r.Path, "/deployments") {
			n++
		}
	}
	return n
}

// asyncRun is the binary running in the background, for signal tests.
type asyncRun struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	outDir  string
	outside bool
	done    chan struct{}
	code    int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// start runs j like exec does (the same environment, from job.environ),
// without waiting for it: for the runs that need a signal. The cleanup kills
// a run the test did not wait for.
func (j job) start(t *testing.T) *asyncRun {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(binPath, j.Args...)
	cmd.Env, cmd.Dir = j.environ(t, tmp), j.Workspace
	a := &asyncRun{cmd: cmd, out: &syncBuffer{}, outDir: tmp, outside: j.Outside, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.out, a.out
	require.NoError(t, cmd.Start())
	go func() {
		defer close(a.done)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			a.code = ee.ExitCode()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			_ = cmd.Process.Kill()
			<-a.done
		}
	})
	return a
}

func (a *asyncRun) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, a.cmd.Process.Signal(sig))
}

// wait waits for the exit and returns the run as exec would.
func (a *asyncRun) wait(t *testing.T, timeout time.Duration) *run {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(timeout):
		t.Fatalf("the action did not exit within %s:\n%s", timeout, a.out.String())
	}
	r := &run{Code: a.code, Stdout: a.out.String()}
	if !a.outside {
		readRunnerFiles(t, a.outDir, r)
	}
	return r
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
