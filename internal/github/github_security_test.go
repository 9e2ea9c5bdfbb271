package github

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingTransport answers every request itself and records the URL and
// Authorization header of each, so that tests can see where the token went
// without any network.
type recordingTransport struct {
	mu     sync.Mutex
	seen   []string // "URL Authorization"
	answer func(r *http.Request) *http.Response
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.seen = append(rt.seen, r.URL.String()+" "+r.Header.Get("Authorization"))
	rt.mu.Unlock()
	res := rt.answer(r)
	res.Request = r
	return res, nil
}

func (rt *recordingTransport) requests() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.seen...)
}

func redirectTo(loc string) *http.Response {
	return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {loc}}, Body: io.NopCloser(strings.NewReader(""))}
}

func okUser() *http.Response {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"login":"octocat"}`))}
}

// TestSecurityTokenNeverFollowsRedirectElsewhere: a redirect from
// GITHUB_API_URL to another host, another port or plain http on the same host
// is refused before the token is sent there; a redirect within the API host
// keeps working.
func TestSecurityTokenNeverFollowsRedirectElsewhere(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, location string
		refused        bool
	}{
		{name: "another host", location: "https://evil.example.com/api/v3/user", refused: true},
		{name: "another port", location: "https://ghe.example.com:8443/api/v3/user", refused: true},
		{name: "downgrade to plain http on the same host", location: "http://ghe.example.com/api/v3/user", refused: true},
		{name: "same host and scheme", location: "https://ghe.example.com/api/v3/users/me", refused: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &recordingTransport{answer: func(r *http.Request) *http.Response {
				if r.URL.Path == "/api/v3/user" && r.URL.Host == "ghe.example.com" && r.URL.Scheme == "https" {
					return redirectTo(tc.location)
				}
				return okUser()
			}}
			c, err := New("https://ghe.example.com/api/v3", testToken, WithHTTPClient(&http.Client{Transport: rt}), WithSleep((&sleeps{}).sleep))
			require.NoError(t, err)
			login, err := c.Viewer(t.Context())
			seen := rt.requests()
			if tc.refused {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), testToken)
				require.Len(t, seen, 1, "only the API host was contacted: %v", seen)
				assert.True(t, strings.HasPrefix(seen[0], "https://ghe.example.com/api/v3/user "), seen[0])
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "octocat", login)
			require.Len(t, seen, 2)
			assert.Equal(t, tc.location+" Bearer "+testToken, seen[1], "the token stays with the API host")
		})
	}
}

// TestSecurityTokenOnlyToAPIURL: every request of every call goes to
// GITHUB_API_URL's host with the token, and the token is never in a URL.
func TestSecurityTokenOnlyToAPIURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		assert.NotContains(t, r.URL.String(), testToken)
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v3/user":
			_, _ = io.WriteString(w, `{"login":"octocat"}`)
		case strings.HasSuffix(r.URL.Path, "/comments") && r.Method == http.MethodGet:
			_, _ = io.WriteString(w, `[]`)
		case strings.HasSuffix(r.URL.Path, "/deployments"):
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"id":7}`)
		default:
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"id":8}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/api/v3", testToken)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = c.Viewer(ctx)
	require.NoError(t, err)
	_, err = c.ListComments(ctx, "o", "r", 1)
	require.NoError(t, err)
	_, err = c.CreateComment(ctx, "o", "r", 1, "hi", nil)
	require.NoError(t, err)
	d, err := c.CreateDeployment(ctx, "o", "r", DeploymentRequest{Ref: "abc", Environment: "preview"})
	require.NoError(t, err)
	require.NoError(t, c.CreateDeploymentStatus(ctx, "o", "r", d.ID, DeploymentStatus{State: "success"}))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hosts, 5)
	for _, h := range hosts {
		assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), h)
	}
}

// TestSecurityPlainHTTPOnlyToLoopback: GITHUB_API_URL over plain http is
// refused unless the host is loopback, before any request.
func TestSecurityPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url string
		ok        bool
	}{
		{"https", "https://api.github.com", true},
		{"ghes https", "https://ghe.example.com/api/v3", true},
		{"http 127.0.0.1", "http://127.0.0.1:8080/api/v3", true},
		{"http ::1", "http://[::1]:8080/api/v3", true},
		{"http localhost", "http://localhost:8080/api/v3", true},
		{"http elsewhere", "http://ghe.example.com/api/v3", false},
		{"http private address", "http://10.0.0.1/api/v3", false},
		{"http name that starts like loopback", "http://127.0.0.1.nip.io/api/v3", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.url, testToken)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "plain http")
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}
