package cloudflare

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesBaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		baseURL  string
		wantBase string
		wantErr  string
	}{
		{name: "cloudflare", baseURL: "https://api.cloudflare.com/client/v4", wantBase: "https://api.cloudflare.com/client/v4"},
		{name: "trailing slash trimmed", baseURL: "https://api.cloudflare.com/client/v4/", wantBase: "https://api.cloudflare.com/client/v4"},
		{name: "http on 127.0.0.1", baseURL: "http://127.0.0.1:8787/client/v4", wantBase: "http://127.0.0.1:8787/client/v4"},
		{name: "http on 127.1.2.3", baseURL: "http://127.1.2.3/client/v4", wantBase: "http://127.1.2.3/client/v4"},
		{name: "http on ::1", baseURL: "http://[::1]:8787/client/v4", wantBase: "http://[::1]:8787/client/v4"},
		{name: "http on localhost", baseURL: "http://LocalHost:8787/client/v4", wantBase: "http://LocalHost:8787/client/v4"},
		{name: "http on a remote host", baseURL: "http://api.cloudflare.com/client/v4",
			wantErr: `invalid api-url "http://api.cloudflare.com/client/v4": plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost) because the API token would be sent unencrypted; use https`},
		{name: "http on a private address", baseURL: "http://10.0.0.1/client/v4", wantErr: "plain http is only allowed for loopback hosts"},
		{name: "localhost lookalike", baseURL: "http://localhost.example.com/", wantErr: "plain http is only allowed for loopback hosts"},
		{name: "empty", baseURL: "", wantErr: "invalid api-url: it is empty; use https://api.cloudflare.com/client/v4"},
		{name: "garbage", baseURL: "::not a url", wantErr: `invalid api-url "::not a url": it is not a URL`},
		{name: "no scheme", baseURL: "api.cloudflare.com/client/v4", wantErr: "the scheme must be https"},
		{name: "ftp", baseURL: "ftp://api.cloudflare.com/", wantErr: "the scheme must be https"},
		{name: "no host", baseURL: "https:///client/v4", wantErr: "it has no host"},
		{name: "query", baseURL: "https://api.cloudflare.com/client/v4?x=1", wantErr: "it must not have a query or fragment"},
		{name: "credentials", baseURL: "https://user:hunter2@api.cloudflare.com/client/v4", wantErr: "it must not contain a user name or password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.baseURL, testToken, testAccount)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantBase, c.base.String())
		})
	}
}

func TestNewValidatesCredentialsAndOptions(t *testing.T) {
	t.Parallel()
	const base = "https://api.cloudflare.com/client/v4"
	cases := []struct {
		name      string
		token     string
		accountID string
		opts      []Option
		wantErr   string
	}{
		{name: "empty token", token: "", accountID: "a", wantErr: ErrNoToken.Error()},
		{name: "token with newline", token: "S3CRET\nvalue", accountID: "a", wantErr: "invalid api-token: it contains whitespace or control characters"},
		{name: "empty account", token: testToken, accountID: "", wantErr: "invalid account-id: it is empty"},
		{name: "account with slash", token: testToken, accountID: "a/b", wantErr: `invalid account-id "a/b"`},
		{name: "zero budget", token: testToken, accountID: "a", opts: []Option{WithRetryBudget(0)}, wantErr: "invalid retry budget 0s"},
		{name: "zero attempt timeout", token: testToken, accountID: "a", opts: []Option{WithAttemptTimeout(0)}, wantErr: "invalid attempt timeout 0s"},
		{name: "zero attempts", token: testToken, accountID: "a", opts: []Option{WithMaxAttempts(0)}, wantErr: "invalid maximum number of attempts 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(base, tc.token, tc.accountID, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.NotContains(t, err.Error(), "S3CRET")
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		okWorker("w")(w, r)
	})
	c, _, _ := newTestClient(t, h, WithUserAgent("workers-deploy/1.2.3"))

	_, err := c.GetWorker(t.Context(), "w")
	require.NoError(t, err)
	_, err = c.CreateWorker(t.Context(), WorkerInput{Name: "w"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, hdr := range got {
		assert.Equal(t, "Bearer "+testToken, hdr.Get("Authorization"))
		assert.Equal(t, "application/json", hdr.Get("Accept"))
		assert.Equal(t, "workers-deploy/1.2.3", hdr.Get("User-Agent"))
	}
	assert.Empty(t, got[0].Get("Content-Type"), "no body, no Content-Type")
	assert.Equal(t, "application/json", got[1].Get("Content-Type"))
	assert.Equal(t, 2, c.Requests())
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	t.Parallel()
	var gotPath string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		writeResult(w, map[string]any{"deployments": []any{}})
	})
	c, _, _ := newTestClient(t, h)
	_, err := c.ListDeployments(t.Context(), "a/b?c#d")
	require.NoError(t, err)
	assert.Equal(t, "/accounts/acc/workers/scripts/a%2Fb%3Fc%23d/deployments", gotPath)
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var otherHits atomic.Int32
	var otherAuth atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		otherAuth.Store(r.Header.Get("Authorization"))
		okWorker("w")(w, r)
	}))
	t.Cleanup(other.Close)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/acc/workers/workers/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/client/v4/accounts/acc/workers/workers/w", http.StatusFound)
	})
	mux.HandleFunc("GET /accounts/acc/workers/workers/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/client/v4/accounts/acc/workers/workers/w", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /accounts/acc/workers/workers/w", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeError(w, 403, 10000, "Authentication error")
			return
		}
		okWorker("w")(w, r)
	})
	c, rec, _ := newTestClient(t, mux)

	_, err := c.GetWorker(t.Context(), "away")
	require.Error(t, err)
	assert.ErrorIs(t, err, errCrossHostRedirect)
	assert.Zero(t, otherHits.Load(), "the other host is never contacted")
	assert.Empty(t, rec.Sleeps(), "not retried")

	got, err := c.GetWorker(t.Context(), "moved")
	require.NoError(t, err, "a same-host redirect keeps the credentials")
	assert.Equal(t, "w", got.Name)
}

func TestAuthOnlyForAPIHost(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	inner := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen.Store(r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"success":true,"result":{}}`)), Header: http.Header{}, Request: r}, nil
	})
	c, err := New("https://api.cloudflare.com/client/v4", testToken, testAccount, WithHTTPClient(&http.Client{Transport: inner}))
	require.NoError(t, err)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://evil.example.com/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer something")
	res, err := c.hc.Transport.RoundTrip(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, "", seen.Load(), "no credentials for another host")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWriteNotSentIsRetriedPlainly(t *testing.T) {
	t.Parallel()
	// A port with nothing listening: the connection fails before any byte is
	// sent, so even a write without a tag may be re-sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	rec := &recorder{}
	c, err := New("http://"+addr+"/client/v4", testToken, testAccount,
		WithSleep(rec.sleep), WithRand(func() float64 { return 0 }), WithLogger(rec.logf), WithMaxAttempts(2))
	require.NoError(t, err)

	_, err = c.CreateVersion(t.Context(), "w", VersionInput{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrUnknownOutcome)
	assert.Equal(t, 2, c.Requests())
	assert.Contains(t, err.Error(), "failed after 2 attempts")
}

// TestTokenNeverLeaks runs failure paths against a server that echoes the
// Authorization header everywhere it can, and scans every error and log line.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(status int, html bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			if html {
				w.WriteHeader(status)
				_, _ = w.Write([]byte("<html>" + auth + "</html>"))
				return
			}
			writeError(w, status, 10000, "bad token "+auth)
		}
	}
	cases := []struct {
		name string
		h    handlerFunc
	}{
		{name: "JSON error echoing the header", h: echo(403, false)},
		{name: "HTML error echoing the header", h: echo(502, true)},
		{name: "retried 503 echoing the header", h: echo(503, false)},
		{name: "dropped connection", h: func(w http.ResponseWriter, _ *http.Request) { hangUp(t, w) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, rec, _ := newTestClient(t, &sequence{steps: []handlerFunc{tc.h}}, WithMaxAttempts(2))
			var errs []error
			_, err := c.GetWorker(t.Context(), "w")
			errs = append(errs, err)
			_, err = c.CreateWorker(t.Context(), WorkerInput{Name: "w"})
			errs = append(errs, err)
			_, err = c.CreateVersion(t.Context(), "w", versionInput("t", ModuleUpload{Name: "a.js",
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("x"))), nil }}))
			errs = append(errs, err)
			_, err = c.CreateDeployment(t.Context(), "w", split, "m", false)
			errs = append(errs, err)
			for _, err := range errs {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), testToken)
				assert.NotContains(t, err.Error(), "S3CRET")
			}
			for _, line := range rec.Logs() {
				assert.NotContains(t, line, "S3CRET")
			}
		})
	}
}
