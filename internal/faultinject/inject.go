package faultinject

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Injector holds injected faults and applies them to the requests of an http.Handler. The
// zero value is usable; set the fields before the first request. Safe for concurrent use.
type Injector struct {
	// Prefix is cut from the request path before matching Fault.Path (the API's base path,
	// e.g. "/client/v4"); a path outside it is matched whole.
	Prefix string
	// WriteStatus writes the answer of a Status fault whose Body is empty; the fault's
	// headers are set already, status is f.HTTPStatus(). Default: {"message":"<status text>"}.
	WriteStatus func(w http.ResponseWriter, f Fault, status int)
	// EmptyBody is the body of an Empty fault's 200 answer. Default: {}.
	EmptyBody string
	// Sleep waits for d or until ctx is done, returning ctx.Err() in the latter case. It
	// implements Latency and Late faults; tests may replace it. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	active  []*entry // faults with uses left, in insertion order
	entries []*entry // every fault added since the last Clear, for Unfired
}

type entry struct {
	f         Fault
	pattern   []string
	remaining int // meaningful only when f.Times > 0
	fired     int
}

// Add adds f after the faults already added. For each request the first fault (in insertion
// order) whose Method and Path match and that has uses left applies, and one use is consumed.
func (in *Injector) Add(f Fault) {
	f.Method = strings.ToUpper(f.Method)
	e := &entry{f: f, pattern: splitPath(f.Path), remaining: f.Times}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.active = append(in.active, e)
	in.entries = append(in.entries, e)
}

// Clear removes every fault.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.active, in.entries = nil, nil
}

// Unfired returns the faults with Times > 0 that have not applied to any request since they
// were added (and not cleared): a test that injects one expected a request that never came.
func (in *Injector) Unfired() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []Fault
	for _, e := range in.entries {
		if e.f.Times > 0 && e.fired == 0 {
			out = append(out, e.f)
		}
	}
	return out
}

// TB is the part of testing.TB that FailUnfired uses.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// FailUnfired makes t fail at its end for every fault with Times > 0 that never fired. The
// test helpers that give a test an Injector call it.
func (in *Injector) FailUnfired(t TB, who string) {
	t.Helper()
	t.Cleanup(func() {
		for _, f := range in.Unfired() {
			t.Errorf("%s: fault %q (Times %d) never fired: no request matched it", who, f.String(), f.Times)
		}
	})
}

// Take finds the first fault with uses left for a request with method and path (Prefix is
// cut from path first) and consumes one use of it.
func (in *Injector) Take(method, path string) (Fault, bool) {
	segs := splitPath(in.relative(path))
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, e := range in.active {
		if e.f.Method != "" && e.f.Method != method {
			continue
		}
		if !matchSegments(e.pattern, segs) {
			continue
		}
		e.fired++
		if e.f.Times > 0 {
			e.remaining--
			if e.remaining <= 0 {
				in.active = append(in.active[:i:i], in.active[i+1:]...)
			}
		}
		return e.f, true
	}
	return Fault{}, false
}

func (in *Injector) relative(p string) string {
	if in.Prefix == "" {
		return p
	}
	if p == in.Prefix {
		return "/"
	}
	if rest, ok := strings.CutPrefix(p, in.Prefix+"/"); ok {
		return "/" + rest
	}
	return p
}

// Wrap returns a handler that applies the faults in front of next.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.Serve(w, r, next, nil)
	})
}

// Serve applies the first matching fault to the request, serving it with next where the
// fault says so (or when no fault matches). Then it calls report, when not nil, with the
// status the client got (0 when it got no answer: a dropped connection, a lost or late
// answer, a request cancelled during latency) and the kind of fault applied ("" for none);
// before a connection is dropped, so that a client seeing the drop finds the request
// reported.
func (in *Injector) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, report func(status int, fault string)) {
	if report == nil {
		report = func(int, string) {}
	}
	f, ok := in.Take(r.Method, r.URL.Path)
	if !ok {
		report(serveStatus(next, w, r), "")
		return
	}
	kind := f.Kind.String()
	switch f.Kind {
	case Latency:
		if err := in.sleep(r.Context(), f.Latency); err != nil {
			report(0, kind)
			return
		}
		report(serveStatus(next, w, r), kind)
	case Drop:
		// The request is not applied. Read its body first, so the client sees a clean EOF
		// rather than a reset that depends on timing.
		drainBody(r)
		report(0, kind)
		dropConnection(w)
	case LostResponse:
		next.ServeHTTP(&buffer{header: http.Header{}}, r)
		report(0, kind)
		dropConnection(w)
	case Late:
		// Hold the request until the client gives up on it, then apply it f.Latency later.
		// The client is gone by then: the answer is thrown away.
		select {
		case <-r.Context().Done():
		case <-time.After(lateHoldCap):
		}
		_ = in.sleep(context.Background(), f.Latency)
		next.ServeHTTP(&buffer{header: http.Header{}}, r.WithContext(context.WithoutCancel(r.Context())))
		report(0, kind)
	case Empty:
		next.ServeHTTP(&buffer{header: http.Header{}}, r)
		body := in.EmptyBody
		if body == "" {
			body = "{}"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
		report(http.StatusOK, kind)
	case Garbled:
		rec := &buffer{header: http.Header{}}
		next.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.statusOr200())
		_, _ = w.Write(garble(rec.body.Bytes(), f.Garble))
		report(rec.statusOr200(), kind+":"+f.Garble)
	default: // Status
		status := f.HTTPStatus()
		h := w.Header()
		for k, v := range map[string]string{"Retry-After": f.RetryAfter, "Retry-After-Ms": f.RetryAfterMs, "X-Should-Retry": f.ShouldRetry} {
			if v != "" {
				h.Set(k, v)
			}
		}
		switch {
		case f.Body != "":
			h.Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(f.Body))
		case in.WriteStatus != nil:
			in.WriteStatus(w, f, status)
		default:
			body, _ := json.Marshal(map[string]string{"message": http.StatusText(status)})
			h.Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
		report(status, kind)
	}
}

func (in *Injector) sleep(ctx context.Context, d time.Duration) error {
	if in.Sleep != nil {
		return in.Sleep(ctx, d)
	}
	return SleepContext(ctx, d)
}

// SleepContext waits for d or until ctx is done, returning ctx.Err() in the latter case.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// garble returns body garbled per how (see Fault.Garble).
func garble(body []byte, how string) []byte {
	switch how {
	case GarbleCut:
		return body[:len(body)/2]
	case GarbleNoID:
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil {
			delete(obj, "id")
			body, _ = json.Marshal(obj)
		}
		return body
	case GarbleEmpty:
		return nil
	}
	panic(fmt.Sprintf("faultinject: unknown Garble %q, want %q, %q or %q", how, GarbleCut, GarbleNoID, GarbleEmpty))
}

// serveStatus serves r with next and returns the status it wrote (200 when it wrote
// nothing explicit).
func serveStatus(next http.Handler, w http.ResponseWriter, r *http.Request) int {
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	if sw.status == 0 {
		return http.StatusOK
	}
	return sw.status
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func drainBody(r *http.Request) {
	if r.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
	}
}

// dropConnection closes the client connection without writing a response. It needs an
// http.Hijacker (HTTP/1.x servers, including httptest); otherwise it aborts the handler with
// http.ErrAbortHandler, which makes net/http reset the stream.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// buffer is a ResponseWriter that keeps the answer instead of sending it.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffer) Header() http.Header { return b.header }
func (b *buffer) Write(p []byte) (int, error) {
	return b.body.Write(p)
}
func (b *buffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *buffer) statusOr200() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Match reports whether path matches the pattern (as in Fault.Path): "*" matches one
// segment, a final "**" any rest; an empty pattern matches everything.
func Match(pattern, path string) bool {
	return matchSegments(splitPath(pattern), splitPath(path))
}

func matchSegments(pattern, segs []string) bool {
	if len(pattern) == 0 {
		return true
	}
	for i, p := range pattern {
		if p == "**" && i == len(pattern)-1 {
			return true
		}
		if i >= len(segs) {
			return false
		}
		if p != "*" && p != segs[i] {
			return false
		}
	}
	return len(segs) == len(pattern)
}
