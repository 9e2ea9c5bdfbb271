package cloudflare

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secBase is the API base URL of the transport-level tests below: nothing
// leaves the process, the transport answers every request itself.
const secBase = "https://api.example.test/client/v4"

// seenRequest is what a transport saw of one request.
type seenRequest struct {
	Method, URL, Auth string
}

// fakeTransport records every request and answers it with answer.
type fakeTransport struct {
	mu     sync.Mutex
	seen   []seenRequest
	answer func(r *http.Request) (status int, header http.Header, body string)
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{Method: r.Method, URL: r.URL.String(), Auth: r.Header.Get("Authorization")})
	f.mu.Unlock()
	status, h, body := f.answer(r)
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func (f *fakeTransport) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func newSecClient(t *testing.T, ft *fakeTransport) *Client {
	t.Helper()
	c, err := New(secBase, testToken, testAccount,
		WithHTTPClient(&http.Client{Transport: ft}),
		WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		WithMaxAttempts(2), WithRand(func() float64 { return 0 }))
	require.NoError(t, err)
	return c
}

// TestSecurityRedirectsNeverCarryCredentials: a redirect from the API host to
// another host, another port or plain http is refused before any request is
// sent there, for REST calls, GraphQL and the asset upload (whose bearer is
// the upload JWT). TestRedirects covers a same-host redirect that keeps the
// token.
func TestSecurityRedirectsNeverCarryCredentials(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name string
		path string // the API path (below /client/v4) that answers with the redirect
		call func(c *Client) error
	}{
		{"get worker", "/accounts/acc/workers/workers/w", func(c *Client) error {
			_, err := c.GetWorker(context.Background(), "w")
			return err
		}},
		{"graphql", "/graphql", func(c *Client) error {
			_, err := c.WorkerInvocations(context.Background(), "w", []string{"v"}, time.Unix(0, 0), time.Unix(60, 0))
			return err
		}},
		{"asset upload", "/accounts/acc/workers/assets/upload", func(c *Client) error {
			_, err := c.UploadAssets(context.Background(), "upload-jwt-S3CRET", []AssetFile{{Hash: "h", Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader("x")), nil
			}}})
			return err
		}},
	}
	targets := []struct{ name, location string }{
		{"another host", "https://evil.example.com/client/v4/x"},
		{"another port", "https://api.example.test:8443/client/v4/x"},
		{"plain http on the same host", "http://api.example.test/client/v4/x"},
	}
	for _, cl := range calls {
		for _, tg := range targets {
			t.Run(cl.name+"/"+tg.name, func(t *testing.T) {
				t.Parallel()
				ft := &fakeTransport{answer: func(r *http.Request) (int, http.Header, string) {
					if r.URL.Host == "api.example.test" && r.URL.Scheme == "https" && r.URL.Path == "/client/v4"+cl.path {
						return http.StatusTemporaryRedirect, http.Header{"Location": {tg.location}}, ""
					}
					return 200, nil, `{"success":true,"result":{}}`
				}}
				err := cl.call(newSecClient(t, ft))
				require.Error(t, err)
				assert.NotContains(t, err.Error(), testToken)
				assert.NotContains(t, err.Error(), "S3CRET")
				for _, r := range ft.requests() {
					assert.True(t, strings.HasPrefix(r.URL, secBase+"/"), "request to %s", r.URL)
				}
			})
		}
	}
}

// TestSecurityUploadJWTOnlyToUploadEndpoint: the asset upload JWT is the
// bearer of the upload call only; every other call, before and after, carries
// the API token, and no request carries a credential in its URL.
func TestSecurityUploadJWTOnlyToUploadEndpoint(t *testing.T) {
	t.Parallel()
	ft := &fakeTransport{answer: func(r *http.Request) (int, http.Header, string) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/assets-upload-session"):
			return 200, nil, `{"success":true,"result":{"jwt":"upload-jwt-value","buckets":[["h"]]}}`
		case strings.HasSuffix(r.URL.Path, "/workers/assets/upload"):
			return 201, nil, `{"success":true,"result":{"jwt":"completion-jwt-value"}}`
		}
		return 200, nil, `{"success":true,"result":{"id":"w","name":"w"}}`
	}}
	c := newSecClient(t, ft)
	ctx := context.Background()
	_, err := c.GetWorker(ctx, "w")
	require.NoError(t, err)
	s, err := c.CreateAssetUploadSession(ctx, "w", map[string]AssetManifestEntry{"/a.txt": {Hash: "h", Size: 1}})
	require.NoError(t, err)
	done, err := c.UploadAssets(ctx, s.JWT, []AssetFile{{Hash: "h", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}})
	require.NoError(t, err)
	assert.Equal(t, "completion-jwt-value", done)
	_, err = c.GetWorker(ctx, "w")
	require.NoError(t, err)

	seen := ft.requests()
	require.Len(t, seen, 4)
	for _, r := range seen {
		assert.True(t, strings.HasPrefix(r.URL, secBase+"/"), r.URL)
		assert.NotContains(t, r.URL, "jwt-value")
		assert.NotContains(t, r.URL, testToken)
		if strings.Contains(r.URL, "/workers/assets/upload") {
			assert.Equal(t, "Bearer upload-jwt-value", r.Auth, "the upload authenticates with the session JWT")
			continue
		}
		assert.Equal(t, "Bearer "+testToken, r.Auth, "%s %s", r.Method, r.URL)
	}
}

// TestSecurityUnparsableBaseURLNotEchoed: an api-url that does not parse but
// carries "user:password@" is not repeated in the error.
func TestSecurityUnparsableBaseURLNotEchoed(t *testing.T) {
	t.Parallel()
	_, err := New("https://user:hunter2@host/%zz", "token", "0123456789abcdef0123456789abcdef")
	if err == nil {
		t.Fatal("an unparsable URL was accepted")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the error repeats the credential: %v", err)
	}
}
