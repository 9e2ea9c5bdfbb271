package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// ghProxy stands in front of fakeGitHub and injects the faults the fake
// cannot: a connection reset before the request is applied, a response lost
// after it was applied, and latency, besides status answers. It records every
// request and which fault it got, like the emulator's Requests.
type ghProxy struct {
	URL    string
	target *url.URL

	mu     sync.Mutex
	faults []*ghProxyFault
	log    []ghProxyRecord
}

// ghProxyFault applies to the first Times requests matching Method and Path
// (segments relative to /api/v3; "*" matches one segment).
type ghProxyFault struct {
	Method, Path string
	Times        int
	Kind         emulator.FaultKind
	Status       int
	RetryAfter   string
	Latency      time.Duration
	// Garble, when set, forwards the request (it is applied) and garbles
	// the answer instead of Kind: "cut" (the first half of the body),
	// "no-id" (the object without its id), "empty" (no body).
	Garble string
}

// ghProxyRecord is one request the proxy saw.
type ghProxyRecord struct {
	Method, Path string
	RawQuery     string
	Fault        string // emulator.FaultKind name, or ""
	At           time.Time
}

func newGHProxy(t *testing.T, gh *fakeGitHub) *ghProxy {
	t.Helper()
	target, err := url.Parse(gh.URL)
	require.NoError(t, err)
	p := &ghProxy{target: target}
	ts := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(ts.Close)
	p.URL = ts.URL + "/api/v3"
	return p
}

func (p *ghProxy) inject(f ghProxyFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

func (p *ghProxy) records() []ghProxyRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ghProxyRecord(nil), p.log...)
}

// take finds the first fault for the request and consumes one use.
func (p *ghProxy) take(method, path string) (ghProxyFault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rel := strings.TrimPrefix(path, "/api/v3")
	for _, f := range p.faults {
		if f.Times > 0 && f.Method == method && segmentsMatch(f.Path, rel) {
			f.Times--
			return *f, true
		}
	}
	return ghProxyFault{}, false
}

func (p *ghProxy) record(r *http.Request, fault string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, ghProxyRecord{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Fault: fault, At: time.Now()})
}

// segmentsMatch matches path against pattern segment by segment; "*" matches one segment.
func segmentsMatch(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	ss := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(ss) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != ss[i] {
			return false
		}
	}
	return true
}

func (p *ghProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f, ok := p.take(r.Method, r.URL.Path)
	if !ok {
		p.record(r, "")
		p.forward(w, r, body)
		return
	}
	if f.Garble != "" {
		p.record(r, "garble:"+f.Garble)
		garbled(w, func(w http.ResponseWriter) { p.forward(w, r, body) }, f.Garble)
		return
	}
	p.record(r, f.Kind.String())
	switch f.Kind {
	case emulator.FaultStatus:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, f.Status, map[string]any{"message": http.StatusText(f.Status)})
	case emulator.FaultDrop:
		hangUp(w)
	case emulator.FaultLostResponse:
		p.forward(&discardResponse{h: http.Header{}}, r, body)
		hangUp(w)
	case emulator.FaultLatency:
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
		p.forward(w, r, body)
	}
}

// forward sends the request on to the fake and copies the answer back.
func (p *ghProxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	u := *p.target
	u.Path = r.URL.Path
	u.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
}

// garbled serves the answer serve writes, garbled per how (see
// ghProxyFault.Garble), with the same status.
func garbled(w http.ResponseWriter, serve func(http.ResponseWriter), how string) {
	rec := httptest.NewRecorder()
	serve(rec)
	body := rec.Body.Bytes()
	switch how {
	case "cut":
		body = body[:len(body)/2]
	case "no-id":
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil {
			delete(obj, "id")
			body, _ = json.Marshal(obj)
		}
	case "empty":
		body = nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardResponse) WriteHeader(int)             {}

// versionsByTag counts the versions of worker per workers/tag annotation.
func versionsByTag(cf *cloudflare, worker string) map[string]int {
	out := map[string]int{}
	for _, v := range cf.Versions(worker) {
		out[v.Annotations["workers/tag"]]++
	}
	return out
}

// requestLog renders the emulator's and the proxy's requests for failure messages.
func requestLog(cf *cloudflare, gh *ghProxy) string {
	var b strings.Builder
	line := func(who, method, path, rawQuery, fault string) {
		b.WriteString("  " + who + " " + method + " " + path)
		if rawQuery != "" {
			b.WriteString("?" + rawQuery)
		}
		if fault != "" {
			b.WriteString("  [" + fault + "]")
		}
		b.WriteString("\n")
	}
	for _, q := range cf.Requests() {
		line("cf", q.Method, q.Path, q.RawQuery, q.Fault)
	}
	if gh != nil {
		for _, q := range gh.records() {
			line("gh", q.Method, q.Path, q.RawQuery, q.Fault)
		}
	}
	return b.String()
}
