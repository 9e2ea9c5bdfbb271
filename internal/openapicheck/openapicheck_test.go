package openapicheck

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const base = "http://127.0.0.1" + APIPrefix + "/accounts/0123456789abcdef0123456789abcdef"

func load(t *testing.T) *Checker {
	t.Helper()
	c, err := Default()
	require.NoError(t, err)
	require.Len(t, c.files, 7)
	return c
}

func request(t *testing.T, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

const workerCreate = `{"name":%q,"tags":[],"logpush":false,"observability":{"enabled":false},"tail_consumers":[],"subdomain":{"enabled":true}}`

// TestCheckRequest shows the checker both accepts what the schema allows (with the
// adjustments) and rejects what it does not: a checker that passes everything proves nothing.
func TestCheckRequest(t *testing.T) {
	c := load(t)
	tests := []struct {
		name, method, path, body string
		noAuth                   bool
		wantErr                  string
	}{
		{name: "worker create", method: "POST", path: "/workers/workers",
			body: strings.ReplaceAll(workerCreate, "%q", `"my-worker"`)},
		{name: "worker name pattern", method: "POST", path: "/workers/workers",
			body: strings.ReplaceAll(workerCreate, "%q", `"My Worker"`), wantErr: "pattern"},
		{name: "worker create without observability", method: "POST", path: "/workers/workers",
			body: `{"name":"w","tags":[],"logpush":false,"tail_consumers":[],"subdomain":{"enabled":true}}`, wantErr: "observability"},
		{name: "readOnly id not required in a request", method: "POST", path: "/workers/workers/w/versions",
			body: `{"main_module":"a.js","modules":[{"name":"a.js","content_type":"application/javascript+module","content_base64":"eA=="}]}`},
		{name: "json binding holds any JSON value", method: "POST", path: "/workers/workers/w/versions",
			body: `{"bindings":[{"type":"json","name":"A","json":[1,"x"]},{"type":"json","name":"B","json":"s"}]}`},
		{name: "unknown binding type", method: "POST", path: "/workers/workers/w/versions",
			body: `{"bindings":[{"type":"nonsense","name":"A"}]}`, wantErr: "bindings"},
		{name: "deployment percentage", method: "POST", path: "/workers/scripts/w/deployments",
			body: `{"strategy":"percentage","versions":[{"version_id":"6f1a0c2e-0a6e-4b43-9f6c-3c2f3b2f9e1a","percentage":200}]}`, wantErr: "percentage"},
		{name: "no bearer token", method: "GET", path: "/workers/subdomain", noAuth: true, wantErr: "security"},
		{name: "undocumented path", method: "GET", path: "/workers/nothing-here", wantErr: "not documented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, tt.method, tt.path, tt.body)
			if tt.noAuth {
				req.Header.Del("Authorization")
			}
			err := c.CheckRequest(req, []byte(tt.body))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestCheckResponse(t *testing.T) {
	c := load(t)
	const worker = `{"id":"0123456789abcdef0123456789abcdef","name":"w","tags":[],"logpush":false,"observability":{"enabled":false},"tail_consumers":[],"subdomain":{"enabled":true},"created_on":"2026-01-01T00:00:00Z","updated_on":"2026-01-01T00:00:00Z","deployed_on":null,"references":{"workers":[],"domains":[],"dispatch_namespace_outbounds":[],"durable_objects":[],"queues":[]}}`
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "worker", status: 200, body: `{"success":true,"errors":[],"messages":[],"result":` + worker + `}`},
		{name: "worker without id", status: 200, body: `{"success":true,"errors":[],"messages":[],"result":` + strings.Replace(worker, `"id":"0123456789abcdef0123456789abcdef",`, "", 1) + `}`, wantErr: "id"},
		{name: "failure envelope", status: 404, body: `{"success":false,"errors":[{"code":10007,"message":"not found"}],"messages":[],"result":null}`},
		{name: "failure without result", status: 404, body: `{"success":false,"errors":[{"code":10007,"message":"not found"}],"messages":[]}`, wantErr: "result"},
		{name: "undocumented status", status: 302, body: `{}`, wantErr: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, "GET", "/workers/workers/w", "")
			h := http.Header{"Content-Type": {"application/json"}}
			_, err := c.CheckResponse(req, nil, tt.status, h, []byte(tt.body))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
