package cloudflare

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWorkers serves Create and Get Worker for one account.
type fakeWorkers struct {
	t      *testing.T
	mu     sync.Mutex
	exists bool
	posts  int
	gets   int
	bodies []string
	modes  []postMode
}

func (f *fakeWorkers) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/workers", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		mode := f.modes[min(f.posts, len(f.modes)-1)]
		f.posts++
		f.bodies = append(f.bodies, string(b))
		exists := f.exists
		if !exists && (mode == applyOK || mode == applyThenHangUp || mode == applyThen503) {
			f.exists = true
		}
		f.mu.Unlock()
		switch {
		case exists:
			writeError(w, 409, CodeWorkerAlreadyExists, `A Worker named "w" already exists`)
		case mode == applyOK:
			okWorker("w")(w, r)
		case mode == applyThenHangUp || mode == hangUpBeforeApply:
			hangUp(f.t, w)
		default:
			writeError(w, 503, 10013, "service unavailable")
		}
	})
	mux.HandleFunc("GET /accounts/acc/workers/workers/{name}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gets++
		exists := f.exists
		f.mu.Unlock()
		if !exists || r.PathValue("name") != "w" {
			writeError(w, 404, CodeWorkerNotFound, "This Worker does not exist on your account.")
			return
		}
		okWorker("w")(w, r)
	})
	return mux
}

func (f *fakeWorkers) stats() (posts, gets int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.gets
}

func TestCreateWorker(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		exists    bool
		modes     []postMode
		wantPosts int
		wantGets  int
	}{
		{name: "created", modes: []postMode{applyOK}, wantPosts: 1, wantGets: 0},
		{name: "409 10040: read by name", exists: true, modes: []postMode{applyOK}, wantPosts: 1, wantGets: 1},
		{name: "applied, then connection dropped: read by name", modes: []postMode{applyThenHangUp}, wantPosts: 1, wantGets: 1},
		{name: "503 not applied: checked, then re-sent", modes: []postMode{reply503, applyOK}, wantPosts: 2, wantGets: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeWorkers{t: t, exists: tc.exists, modes: tc.modes}
			c, rec, _ := newTestClient(t, fake.handler())

			got, err := c.CreateWorker(t.Context(), WorkerInput{Name: "w"})
			require.NoError(t, err)
			assert.Equal(t, "w", got.Name)
			assert.Equal(t, "0123456789abcdef0123456789abcdef", got.ID)
			posts, gets := fake.stats()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantGets, gets, "GETs")
			if tc.exists {
				assert.Contains(t, rec.Logs(), `worker "w" exists already (HTTP 409); reading it`)
			}
		})
	}
}

// TestCreateWorkerBodySendsRequiredFields: Cloudflare's schema requires tags, logpush,
// observability and tail_consumers in the body; unset ones are sent with the API's defaults.
func TestCreateWorkerBodySendsRequiredFields(t *testing.T) {
	t.Parallel()
	logpush := false
	cases := []struct {
		name string
		in   WorkerInput
		want string
	}{
		{name: "name only", in: WorkerInput{Name: "w"}, want: `{"name":"w","tags":[],"logpush":false,"observability":{"enabled":false,"head_sampling_rate":1},"tail_consumers":[]}`},
		{name: "all fields", in: WorkerInput{Name: "w", Subdomain: &SubdomainSettings{Enabled: true}, Tags: []string{"a"},
			Logpush: &logpush, Observability: json.RawMessage(`{"enabled":true}`)},
			want: `{"name":"w","subdomain":{"enabled":true,"previews_enabled":false},"tags":["a"],"logpush":false,"observability":{"enabled":true},"tail_consumers":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeWorkers{t: t, modes: []postMode{applyOK}}
			c, _, _ := newTestClient(t, fake.handler())
			_, err := c.CreateWorker(t.Context(), tc.in)
			require.NoError(t, err)
			require.Len(t, fake.bodies, 1)
			assert.JSONEq(t, tc.want, fake.bodies[0])
		})
	}
}

func TestGetWorker(t *testing.T) {
	t.Parallel()
	fake := &fakeWorkers{t: t, exists: true, modes: []postMode{applyOK}}
	c, _, _ := newTestClient(t, fake.handler())

	got, err := c.GetWorker(t.Context(), "w")
	require.NoError(t, err)
	assert.Equal(t, SubdomainSettings{Enabled: true}, got.Subdomain)
	assert.Nil(t, got.DeployedOn)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), got.CreatedOn)
	assert.JSONEq(t, `{"enabled":false}`, string(got.Observability))

	_, err = c.GetWorker(t.Context(), "missing")
	require.Error(t, err)
	assert.True(t, IsNotFound(err))
	assert.Contains(t, err.Error(), `failed to get worker "missing": GET /accounts/acc/workers/workers/missing: HTTP 404 Not Found: code 10007`)
}

func TestAccountSubdomain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		handler handlerFunc
		want    string
		wantErr bool
	}{
		{name: "set", handler: func(w http.ResponseWriter, _ *http.Request) { writeResult(w, map[string]any{"subdomain": "acme"}) }, want: "acme"},
		{name: "none", handler: apiError(404, 10007), want: ""},
		{name: "forbidden", handler: apiError(403, 10000), wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			mux.HandleFunc("GET /accounts/acc/workers/subdomain", tc.handler)
			c, _, _ := newTestClient(t, mux)
			got, err := c.AccountSubdomain(t.Context())
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
