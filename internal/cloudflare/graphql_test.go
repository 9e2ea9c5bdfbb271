package cloudflare

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerInvocations(t *testing.T) {
	t.Parallel()
	var got struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	var auth string
	api := &sequence{steps: []func(http.ResponseWriter, *http.Request){
		status(503),
		func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization")
			assert.Equal(t, "/graphql", r.URL.Path, "served under the base URL")
			writeJSON(w, 200, map[string]any{"data": map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{
				"workersInvocationsAdaptive": []any{
					map[string]any{"dimensions": map[string]any{"scriptVersion": "new", "status": "success"}, "sum": map[string]any{"requests": 90, "errors": 0}},
					map[string]any{"dimensions": map[string]any{"scriptVersion": "new", "status": "scriptThrewException"}, "sum": map[string]any{"requests": 10, "errors": 10}},
					map[string]any{"dimensions": map[string]any{"scriptVersion": "old", "status": "success"}, "sum": map[string]any{"requests": 900, "errors": 0}},
				}}}}}, "errors": nil})
		},
	}}
	decode := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api.count() == 1 {
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		}
		api.ServeHTTP(w, r)
	})
	c, rec, _ := newTestClient(t, decode)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := c.WorkerInvocations(t.Context(), "shop", []string{"new", "old", "idle"}, since, since.Add(5*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, map[string]VersionInvocations{
		"new":  {VersionID: "new", Requests: 100, Errors: 10},
		"old":  {VersionID: "old", Requests: 900},
		"idle": {VersionID: "idle"},
	}, res)
	assert.Equal(t, "Bearer "+testToken, auth)
	assert.Contains(t, got.Query, "workersInvocationsAdaptive")
	assert.Contains(t, got.Query, "scriptVersion_in: $versions")
	assert.Equal(t, map[string]any{"accountTag": testAccount, "script": "shop", "versions": []any{"new", "old", "idle"},
		"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:05:00Z"}, got.Variables)
	assert.Len(t, rec.Sleeps(), 1, "one retry after the 503")
}

func TestWorkerInvocationsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		handler  func(http.ResponseWriter, *http.Request)
		want     string
		attempts int
	}{
		{"graphql errors", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, map[string]any{"data": nil, "errors": []any{map[string]any{"message": "not authorized for " + testToken}}})
		}, "answered with errors: not authorized for [REDACTED]", 1},
		{"forbidden envelope", func(w http.ResponseWriter, _ *http.Request) { writeError(w, 403, 10000, "Authentication error") }, "10000", 1},
		{"no data", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]any{}) }, "the answer has no data", 1},
		{"not json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }, "could not be decoded", 1},
		{"5xx every time", status(502), "failed after 3 attempts", 3},
		// The shared retry loop: x-should-retry overrides the status here too.
		{"5xx with x-should-retry false", status(503, "x-should-retry", "false"), "HTTP 503", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := &sequence{steps: []func(http.ResponseWriter, *http.Request){tc.handler}}
			c, _, _ := newTestClient(t, api)
			_, err := c.WorkerInvocations(t.Context(), "shop", []string{"v"}, time.Now(), time.Now())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testToken)
			assert.Equal(t, tc.attempts, api.count())
		})
	}
}

// TestWorkerInvocationsHonoursRetryAfter: a rate-limited query waits as long
// as the API asks (found by the e2e fault matrix, which saw retries 0.4 s
// after a 429 with Retry-After: 1), and gives up at once when it asks for
// more than backoffCap.
func TestWorkerInvocationsHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"data": map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{
			"workersInvocationsAdaptive": []any{}}}}}})
	}
	api := &sequence{steps: []func(http.ResponseWriter, *http.Request){
		status(429, "Retry-After", "1"), status(503, "Retry-After-Ms", "1500"), ok,
	}}
	c, rec, _ := newTestClient(t, api)
	now := time.Now()
	_, err := c.WorkerInvocations(t.Context(), "shop", []string{"v"}, now, now)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 1500 * time.Millisecond}, rec.Sleeps())

	long := &sequence{steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "60"), ok}}
	c, rec, _ = newTestClient(t, long)
	_, err = c.WorkerInvocations(t.Context(), "shop", []string{"v"}, now, now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "asked to wait 1m0s")
	assert.Empty(t, rec.Sleeps())
	assert.Equal(t, 1, long.count())
}
