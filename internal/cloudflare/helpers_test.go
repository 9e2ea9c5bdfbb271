package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testToken   = "tok-S3CRET-0123456789abcdef"
	testAccount = "acc"
)

// recorder collects what the client reports through the injected hooks.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	logs   []string
	// clock, when set, is advanced by every sleep (fake time for budget tests).
	clock *fakeClock
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	if r.clock != nil {
		r.clock.advance(d)
	}
	return ctx.Err()
}

func (r *recorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Sleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

func (r *recorder) Logs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// fakeClock is a manual clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// newTestClient starts a server that serves api under /client/v4 and returns
// a client for it whose sleeps and logs are recorded (jitter off).
func newTestClient(t testing.TB, api http.Handler, opts ...Option) (*Client, *recorder, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/client/v4/", http.StripPrefix("/client/v4", api))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	all := append([]Option{
		WithHTTPClient(srv.Client()),
		WithSleep(rec.sleep),
		WithRand(func() float64 { return 0 }),
		WithLogger(rec.logf),
	}, opts...)
	c, err := New(srv.URL+"/client/v4", testToken, testAccount, all...)
	require.NoError(t, err)
	return c, rec, srv
}

// writeResult writes a success envelope.
func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": result})
}

// writeError writes an error envelope with one error.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"success": false, "messages": []any{}, "result": nil,
		"errors": []any{map[string]any{"code": code, "message": msg}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// hangUp drops the connection without an answer.
func hangUp(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// sequence answers the n-th request (0-based) with steps[n], repeating the
// last step, and counts requests.
type sequence struct {
	mu    sync.Mutex
	n     int
	steps []func(w http.ResponseWriter, r *http.Request)
}

func (s *sequence) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	s.steps[i](w, r)
}

func (s *sequence) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func status(code int, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeError(w, code, 10013, http.StatusText(code))
	}
}

func apiError(code, cfCode int, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeError(w, code, cfCode, "error "+fmt.Sprint(cfCode))
	}
}

func okWorker(name string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeResult(w, map[string]any{"id": "0123456789abcdef0123456789abcdef", "name": name,
			"created_on": "2026-01-02T03:04:05Z", "updated_on": "2026-01-02T03:04:05Z", "deployed_on": nil,
			"tags": []string{}, "logpush": false, "subdomain": map[string]any{"enabled": true, "previews_enabled": false},
			"observability": map[string]any{"enabled": false}})
	}
}
