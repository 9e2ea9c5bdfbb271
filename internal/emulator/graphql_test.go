package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

func TestGraphQLInvocationsThroughTheClient(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Options{Token: testToken, AccountID: testAccount})
	env.srv.SetInvocations("shop", "AAAA", Invocations{Requests: 1000, Errors: 20})
	env.srv.SetInvocations("shop", AnyVersion, Invocations{Requests: 7})
	env.srv.SetInvocations("other", "aaaa", Invocations{Requests: 5, Errors: 9})
	c, err := cloudflare.New(env.ts.URL+BasePath, testToken, testAccount)
	require.NoError(t, err)
	now := time.Now()
	got, err := c.WorkerInvocations(t.Context(), "shop", []string{"aaaa", "bbbb"}, now.Add(-time.Minute), now)
	require.NoError(t, err)
	assert.Equal(t, map[string]cloudflare.VersionInvocations{
		"aaaa": {VersionID: "aaaa", Requests: 1000, Errors: 20},
		"bbbb": {VersionID: "bbbb", Requests: 7},
	}, got)

	got, err = c.WorkerInvocations(t.Context(), "other", []string{"aaaa"}, now, now)
	require.NoError(t, err)
	assert.Equal(t, cloudflare.VersionInvocations{VersionID: "aaaa", Requests: 5, Errors: 5}, got["aaaa"], "errors are clamped to requests")

	got, err = c.WorkerInvocations(t.Context(), "idle", []string{"aaaa"}, now, now)
	require.NoError(t, err)
	assert.Equal(t, cloudflare.VersionInvocations{VersionID: "aaaa"}, got["aaaa"])

	bad, err := cloudflare.New(env.ts.URL+BasePath, "wrong", testAccount)
	require.NoError(t, err)
	_, err = bad.WorkerInvocations(t.Context(), "shop", []string{"aaaa"}, now, now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "10000")

	other, err := cloudflare.New(env.ts.URL+BasePath, testToken, "fedcba9876543210fedcba9876543210")
	require.NoError(t, err)
	_, err = other.WorkerInvocations(t.Context(), "shop", []string{"aaaa"}, now, now)
	assert.ErrorContains(t, err, "not authorized for that account")
}

func TestGraphQLRejects(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, Options{})
	cases := []struct {
		name, body, want string
		status           int
	}{
		{"not json", "{", "failed to parse the request", 400},
		{"other query", `{"query":"{ viewer { zones { x } } }"}`, "serves only the workersInvocationsAdaptive query", 200},
		{"bad account", `{"query":"workersInvocationsAdaptive","variables":{"accountTag":"x","script":"s","since":"2026-01-01T00:00:00Z","until":"2026-01-01T00:00:00Z"}}`, "accountTag must be", 200},
		{"no script", `{"query":"workersInvocationsAdaptive","variables":{"accountTag":"` + testAccount + `"}}`, "script is required", 200},
		{"bad time", `{"query":"workersInvocationsAdaptive","variables":{"accountTag":"` + testAccount + `","script":"s","since":"yesterday","until":"2026-01-01T00:00:00Z"}}`, "since must be an RFC 3339 time", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, env.ts.URL+BasePath+"/graphql", bytes.NewBufferString(tc.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer x")
			res, err := env.client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			var ans struct {
				Data   any `json:"data"`
				Errors []struct {
					Message string `json:"message"`
				} `json:"errors"`
			}
			require.NoError(t, json.NewDecoder(res.Body).Decode(&ans))
			require.Len(t, ans.Errors, 1)
			assert.Contains(t, ans.Errors[0].Message, tc.want)
			assert.Nil(t, ans.Data)
		})
	}
}

func TestParseInvocations(t *testing.T) {
	t.Parallel()
	script, version, inv, err := ParseInvocations("shop=*:1000:5")
	require.NoError(t, err)
	assert.Equal(t, "shop", script)
	assert.Equal(t, AnyVersion, version)
	assert.Equal(t, Invocations{Requests: 1000, Errors: 5}, inv)
	for _, bad := range []string{"", "shop", "shop=*:1", "=v:1:1", "shop=v:x:1", "shop=v:1:2", "shop=v:-1:0", "shop=:1:0"} {
		_, _, _, err := ParseInvocations(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzParseInvocations(f *testing.F) {
	for _, s := range []string{"shop=*:1000:5", "a=b:0:0", "x=y:1:2", "=::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		script, version, inv, err := ParseInvocations(s)
		if err != nil {
			return
		}
		if script == "" || version == "" || inv.Requests < 0 || inv.Errors < 0 || inv.Errors > inv.Requests {
			t.Fatalf("%q parsed to %q %q %+v", s, script, version, inv)
		}
	})
}
