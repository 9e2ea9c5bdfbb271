package emulator

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRouting_notRouted: requests no route takes are answered in Cloudflare's envelope, 404
// code 7000 for an unknown path (also one that is not clean, which is not redirected) and 405
// code 7001 with Allow for a known path with another method.
func TestRouting_notRouted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	cases := []struct {
		name, method, path string
		wantStatus         int
		wantCode           int
		wantAllow          string
	}{
		{name: "unknown path", method: "GET", path: acctPath + "/workers/nothing", wantStatus: 404, wantCode: 7000},
		{name: "API root", method: "GET", path: "/", wantStatus: 404, wantCode: 7000},
		{name: "empty segment", method: "GET", path: acctPath + "//workers/workers", wantStatus: 404, wantCode: 7000},
		{name: "dot-dot segment", method: "GET", path: acctPath + "/workers/workers/../workers", wantStatus: 404, wantCode: 7000},
		{name: "too long", method: "GET", path: acctPath + "/workers/workers/w/versions/v/x", wantStatus: 404, wantCode: 7000},
		{name: "list with DELETE", method: "DELETE", path: acctPath + "/workers/workers", wantStatus: 405, wantCode: 7001, wantAllow: "GET, POST"},
		{name: "worker with POST", method: "POST", path: acctPath + "/workers/workers/w", wantStatus: 405, wantCode: 7001, wantAllow: "GET, PUT, PATCH, DELETE"},
		{name: "graphql with GET", method: "GET", path: "/graphql", wantStatus: 405, wantCode: 7001, wantAllow: "POST"},
		{name: "latest preview deployment with GET is a deployment ID", method: "GET", path: acctPath + "/workers/workers/w/previews/p/deployments/latest", wantStatus: 404, wantCode: 10007},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(tc.method, tc.path, nil)
			r.failed(t, tc.wantStatus, tc.wantCode)
			assert.Equal(t, tc.wantAllow, r.header.Get("Allow"))
			assert.NotNil(t, r.env.Messages)
			assert.Empty(t, r.env.Messages)
			assert.Equal(t, "null", string(r.env.Result))
		})
	}
	t.Run("envelope", func(t *testing.T) {
		t.Parallel()
		r := e.do("GET", acctPath+"/workers/nothing", nil)
		assert.JSONEq(t, `{"success":false,"errors":[{"code":7000,"message":"No route for that URI"}],"messages":[],"result":null}`, r.raw)
	})
	t.Run("HEAD is not GET", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodHead, e.ts.URL+BasePath+acctPath+"/workers/workers", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))
	})
}
