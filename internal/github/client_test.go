package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testToken   = "ghs_unitTestTokenValue"
	baseURLPath = "/api/v3" // a path prefix catches absolute endpoint paths (GHES layout)
)

// sleeps records the waits of the retry transport without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// setup follows go-github v62's github_test.go: a mux under a path prefix,
// and a fallback that fails requests outside it.
func setup(t *testing.T) (*Client, *http.ServeMux, *sleeps) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, authCheck(t, mux)))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the API base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	sl := &sleeps{}
	c, err := New(srv.URL+baseURLPath, testToken, WithSleep(sl.sleep), WithUserAgent("workers-deploy/test"))
	require.NoError(t, err)
	return c, mux, sl
}

func authCheck(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		next.ServeHTTP(w, r)
	})
}

func TestNewRejectsUnsafeURLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url, token, wantErr string
	}{
		{"plain http elsewhere", "http://ghe.example.com/api/v3", "t", "plain http"},
		{"not a URL", "ghe.example.com", "t", "not an absolute URL"},
		{"ftp", "ftp://x.example.com", "t", "must use https"},
		{"no token", "https://api.github.com", " ", "no GitHub token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.url, tc.token)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.NotContains(t, err.Error(), testToken)
		})
	}
	_, err := New("http://127.0.0.1:1/api/v3", "t")
	assert.NoError(t, err, "loopback http is allowed for tests")
}

func TestListCommentsPagesThroughAll(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	const total = 250
	var pages []string
	var mu sync.Mutex
	mux.HandleFunc("GET /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pages = append(pages, r.URL.RawQuery)
		mu.Unlock()
		assert.Equal(t, "100", r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		var out []map[string]any
		for i := (page - 1) * 100; i < min(page*100, total); i++ {
			out = append(out, map[string]any{"id": i + 1, "body": fmt.Sprintf("c%d", i+1), "html_url": "u", "user": map[string]any{"login": "bob", "type": "User"}})
		}
		if page*100 < total {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s/repos/o/r/issues/7/comments?per_page=100&page=%d>; rel="next"`, r.Host, baseURLPath, page+1))
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	got, err := c.ListComments(context.Background(), "o", "r", 7)
	require.NoError(t, err)
	require.Len(t, got, total)
	assert.Equal(t, Comment{ID: 250, Body: "c250", HTMLURL: "u", Author: "bob", AuthorType: "User"}, got[249])
	assert.Len(t, pages, 3)
}

func TestCreateAndUpdateComment(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		assert.Equal(t, map[string]any{"body": "hello"}, in)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":9,"body":"hello","html_url":"https://github.com/o/r/pull/7#issuecomment-9","user":{"login":"github-actions[bot]","type":"Bot"}}`)
	})
	mux.HandleFunc("PATCH /repos/o/r/issues/comments/9", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		assert.Equal(t, map[string]any{"body": "again"}, in)
		fmt.Fprint(w, `{"id":9,"body":"again","html_url":"https://github.com/o/r/pull/7#issuecomment-9"}`)
	})
	got, err := c.CreateComment(context.Background(), "o", "r", 7, "hello", nil)
	require.NoError(t, err)
	assert.Equal(t, Comment{ID: 9, Body: "hello", HTMLURL: "https://github.com/o/r/pull/7#issuecomment-9", Author: "github-actions[bot]", AuthorType: "Bot"}, got)
	got, err = c.UpdateComment(context.Background(), "o", "r", 9, "again")
	require.NoError(t, err)
	assert.Equal(t, "again", got.Body)
}

func TestDeploymentRequestFields(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var dep, status map[string]any
	mux.HandleFunc("POST /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&dep))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":77,"url":"https://api.github.com/repos/o/r/deployments/77"}`)
	})
	mux.HandleFunc("POST /repos/o/r/deployments/77/statuses", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&status))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":1,"state":"success"}`)
	})
	no := false
	d, err := c.CreateDeployment(context.Background(), "o", "r", DeploymentRequest{
		Ref: "abc", Environment: "preview", Description: "d", Transient: true, Production: &no,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(77), d.ID)
	assert.Equal(t, map[string]any{
		"ref": "abc", "task": "deploy", "auto_merge": false, "required_contexts": []any{},
		"environment": "preview", "description": "d", "transient_environment": true, "production_environment": false,
	}, dep)

	long := ""
	for range 30 {
		long += "abcdé—"
	}
	require.NoError(t, c.CreateDeploymentStatus(context.Background(), "o", "r", 77, DeploymentStatus{
		State: "success", Description: long, LogURL: "https://github.com/o/r/actions/runs/1", EnvironmentURL: "https://shop.acme.workers.dev",
	}))
	assert.Equal(t, "success", status["state"])
	assert.Equal(t, "https://github.com/o/r/actions/runs/1", status["log_url"])
	assert.Equal(t, "https://shop.acme.workers.dev", status["environment_url"])
	assert.Len(t, []rune(status["description"].(string)), MaxStatusDescription)
}

func TestRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// answers are served in order; the last repeats.
		answers       []func(w http.ResponseWriter)
		wantCalls     int
		wantErr       bool
		wantPerm      bool
		wantLimited   bool
		wantMinSleeps []time.Duration
	}{
		{
			name:      "5xx then success",
			answers:   []func(http.ResponseWriter){status(502, nil, ""), status(503, nil, ""), ok},
			wantCalls: 3, wantMinSleeps: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name:      "403 permission is not retried",
			answers:   []func(http.ResponseWriter){status(403, nil, `{"message":"Resource not accessible by integration"}`)},
			wantCalls: 1, wantErr: true, wantPerm: true,
		},
		{
			name:      "404 is not retried",
			answers:   []func(http.ResponseWriter){status(404, nil, `{"message":"Not Found"}`)},
			wantCalls: 1, wantErr: true, wantPerm: true,
		},
		{
			name:      "422 is not retried",
			answers:   []func(http.ResponseWriter){status(422, nil, `{"message":"Validation Failed"}`)},
			wantCalls: 1, wantErr: true,
		},
		{
			name:      "secondary limit with retry-after",
			answers:   []func(http.ResponseWriter){status(403, map[string]string{"Retry-After": "3"}, `{"message":"You have exceeded a secondary rate limit"}`), ok},
			wantCalls: 2, wantMinSleeps: []time.Duration{3 * time.Second},
		},
		{
			name:      "429 with retry-after",
			answers:   []func(http.ResponseWriter){status(429, map[string]string{"Retry-After": "1"}, `{}`), ok},
			wantCalls: 2, wantMinSleeps: []time.Duration{time.Second},
		},
		{
			name:      "secondary limit message without headers waits a minute: over budget",
			answers:   []func(http.ResponseWriter){status(403, nil, `{"message":"You have exceeded a secondary rate limit. Please wait."}`)},
			wantCalls: 1, wantErr: true, wantLimited: true,
		},
		{
			name:      "retry-after beyond the budget gives up at once",
			answers:   []func(http.ResponseWriter){status(403, map[string]string{"Retry-After": "3600"}, `{"message":"slow down"}`)},
			wantCalls: 1, wantErr: true, wantLimited: true,
		},
		{
			name:      "persistent 500 stops after the attempts",
			answers:   []func(http.ResponseWriter){status(500, nil, `{"message":"boom"}`)},
			wantCalls: 5, wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, sl := setup(t)
			var mu sync.Mutex
			calls := 0
			mux.HandleFunc("PATCH /repos/o/r/issues/comments/1", func(w http.ResponseWriter, r *http.Request) {
				var in map[string]any
				assert.NoError(t, json.NewDecoder(r.Body).Decode(&in), "the body is re-sent on every attempt")
				assert.Equal(t, "b", in["body"])
				mu.Lock()
				i := min(calls, len(tc.answers)-1)
				calls++
				mu.Unlock()
				tc.answers[i](w)
			})
			_, err := c.UpdateComment(context.Background(), "o", "r", 1, "b")
			assert.Equal(t, tc.wantCalls, calls)
			if !tc.wantErr {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, tc.wantPerm, IsPermission(err), "IsPermission(%v)", err)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.wantLimited, apiErr.RateLimited)
				assert.NotContains(t, err.Error(), testToken)
			}
			got := sl.got()
			require.Len(t, got, len(tc.wantMinSleeps)+max(0, tc.wantCalls-1-len(tc.wantMinSleeps)))
			for i, w := range tc.wantMinSleeps {
				assert.GreaterOrEqual(t, got[i], w)
			}
			var total time.Duration
			for _, d := range got {
				total += d
			}
			assert.LessOrEqual(t, total, defaultRetryPolicy().Budget)
		})
	}
}

func TestPostIsNotResentAfterALostAnswer(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	var mu sync.Mutex
	mux.HandleFunc("POST /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		hj, ok := w.(http.Hijacker)
		require.True(t, ok)
		conn, _, err := hj.Hijack()
		require.NoError(t, err)
		conn.Close()
	})
	_, err := c.CreateComment(context.Background(), "o", "r", 7, "x", nil)
	require.Error(t, err)
	assert.Equal(t, 1, calls, "a lost POST answer may have created the comment: without a way to look, no resend")
	assert.False(t, IsPermission(err))
	assert.ErrorIs(t, err, ErrUnknownOutcome)
}

func TestViewerForbiddenIsPermission(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		status(403, nil, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user"}`)(w)
	})
	_, err := c.Viewer(context.Background())
	require.Error(t, err)
	assert.True(t, IsPermission(err))
	assert.EqualError(t, err, "GitHub API GET /user: 403 Resource not accessible by integration")
}

func ok(w http.ResponseWriter) { fmt.Fprint(w, `{"id":1,"body":"b"}`) }

func status(code int, headers map[string]string, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}
