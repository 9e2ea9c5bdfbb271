package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testToken   = "test-token"
	acctPath    = "/accounts/" + testAccount
)

// testClock returns times one second apart, starting at a fixed instant.
type testClock struct{ n atomic.Int64 }

var clockStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func (c *testClock) Now() time.Time {
	return clockStart.Add(time.Duration(c.n.Add(1)) * time.Second)
}

// testEnv is an emulator behind httptest with a client that keeps every response body.
type testEnv struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	client *http.Client

	mu     sync.Mutex
	bodies []string
}

func newTestEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	if opts.Now == nil {
		opts.Now = (&testClock{}).Now
	}
	srv, err := New(opts)
	require.NoError(t, err)
	srv.FailUnfiredFaults(t)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// No keep-alive: a dropped connection must surface as an error, not a transparent retry.
	return &testEnv{t: t, srv: srv, ts: ts, client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}}
}

type testEnvelope struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Messages   []json.RawMessage `json:"messages"`
	Result     json.RawMessage   `json:"result"`
	ResultInfo *resultInfo       `json:"result_info"`
}

func (e testEnvelope) code() int {
	if len(e.Errors) == 0 {
		return 0
	}
	return e.Errors[0].Code
}

type response struct {
	status int
	header http.Header
	env    testEnvelope
	raw    string
}

// do sends method path (relative to BasePath) with body (nil, a string, or a value to JSON
// encode) and the test token, and decodes the envelope.
func (e *testEnv) do(method, path string, body any) response {
	e.t.Helper()
	return e.doAuth(method, path, body, "Bearer "+testToken)
}

func (e *testEnv) doAuth(method, path string, body any, auth string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.ts.URL+BasePath+path, rd)
	require.NoError(e.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	e.mu.Lock()
	e.bodies = append(e.bodies, string(raw))
	e.mu.Unlock()
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	require.NoError(e.t, json.Unmarshal(raw, &out.env), "body: %s", raw)
	require.Equal(e.t, "application/json", resp.Header.Get("Content-Type"))
	return out
}

// ok asserts a 200 success envelope and decodes result into v (when v is not nil).
func (r response) ok(t *testing.T, v any) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	require.True(t, r.env.Success, "body: %s", r.raw)
	require.NotNil(t, r.env.Errors, "errors must be [] not null: %s", r.raw)
	require.NotNil(t, r.env.Messages, "messages must be [] not null: %s", r.raw)
	if v != nil {
		require.NoError(t, json.Unmarshal(r.env.Result, v), "body: %s", r.raw)
	}
}

// failed asserts an error envelope with the status and first error code.
func (r response) failed(t *testing.T, status, code int) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.raw)
	require.False(t, r.env.Success, "body: %s", r.raw)
	require.NotEmpty(t, r.env.Errors, "body: %s", r.raw)
	require.Equal(t, code, r.env.code(), "body: %s", r.raw)
	require.Equal(t, "null", string(r.env.Result), "body: %s", r.raw)
}

type testWorker struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Logpush       bool              `json:"logpush"`
	Observability map[string]any    `json:"observability"`
	Subdomain     SubdomainSettings `json:"subdomain"`
	Tags          []string          `json:"tags"`
	TailConsumers []tailConsumer    `json:"tail_consumers"`
	References    map[string][]any  `json:"references"`
	CreatedOn     string            `json:"created_on"`
	UpdatedOn     string            `json:"updated_on"`
	DeployedOn    *string           `json:"deployed_on"`
}

type testVersion struct {
	ID                 string              `json:"id"`
	Number             int                 `json:"number"`
	CreatedOn          string              `json:"created_on"`
	URLs               []string            `json:"urls"`
	Annotations        map[string]string   `json:"annotations"`
	Bindings           []map[string]any    `json:"bindings"`
	CompatibilityDate  string              `json:"compatibility_date"`
	CompatibilityFlags []string            `json:"compatibility_flags"`
	MainModule         string              `json:"main_module"`
	Modules            []map[string]string `json:"modules"`
	Source             string              `json:"source"`
}

type testDeployment struct {
	ID          string              `json:"id"`
	CreatedOn   string              `json:"created_on"`
	Source      string              `json:"source"`
	Strategy    string              `json:"strategy"`
	Versions    []DeploymentVersion `json:"versions"`
	Annotations map[string]string   `json:"annotations"`
	AuthorEmail string              `json:"author_email"`
}

func (e *testEnv) createWorker(name string, extra map[string]any) testWorker {
	e.t.Helper()
	body := map[string]any{"name": name}
	for k, v := range extra {
		body[k] = v
	}
	var w testWorker
	e.do(http.MethodPost, acctPath+"/workers/workers", body).ok(e.t, &w)
	return w
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// versionBody is a minimal valid Create Version body with the given bindings.
func versionBody(bindings ...map[string]any) map[string]any {
	if bindings == nil {
		bindings = []map[string]any{}
	}
	return map[string]any{
		"main_module":        "index.js",
		"compatibility_date": "2026-04-01",
		"modules": []map[string]any{
			{"name": "index.js", "content_type": "application/javascript+module", "content_base64": b64("export default {}")},
		},
		"bindings": bindings,
	}
}

func (e *testEnv) createVersion(worker string, body map[string]any) testVersion {
	e.t.Helper()
	var v testVersion
	e.do(http.MethodPost, acctPath+"/workers/workers/"+worker+"/versions", body).ok(e.t, &v)
	return v
}

func (e *testEnv) deploy(worker string, split ...DeploymentVersion) testDeployment {
	e.t.Helper()
	var d testDeployment
	e.do(http.MethodPost, acctPath+"/workers/scripts/"+worker+"/deployments",
		map[string]any{"strategy": "percentage", "versions": split}).ok(e.t, &d)
	return d
}

func (e *testEnv) allBodies() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.bodies...)
}
