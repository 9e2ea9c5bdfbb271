package emulator

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

// rawPost sends a POST and returns the transport error, if any, and the status.
func (e *testEnv) rawPost(t *testing.T, path, body string) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+BasePath+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestFault_status(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantCode   int
		wantHeader map[string]string
	}{
		{name: "503 default code", fault: Fault{Status: 503}, wantStatus: 503, wantCode: 10002},
		{name: "429 with retry headers", fault: Fault{Status: 429, RetryAfter: "1", RetryAfterMs: "250"}, wantStatus: 429, wantCode: 971,
			wantHeader: map[string]string{"Retry-After": "1", "Retry-After-Ms": "250"}},
		{name: "409 concurrent modification", fault: Fault{Status: 409}, wantStatus: 409, wantCode: 10035},
		{name: "explicit code and should-retry", fault: Fault{Status: 400, Code: 10021, ShouldRetry: "true"}, wantStatus: 400, wantCode: 10021,
			wantHeader: map[string]string{"X-Should-Retry": "true"}},
		{name: "zero status means 500", fault: Fault{}, wantStatus: 500, wantCode: 10002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, Options{})
			tc.fault.Path = "/accounts/*/workers/workers"
			e.srv.InjectFault(tc.fault)
			r := e.do(http.MethodPost, acctPath+"/workers/workers", `{"name":"w"}`)
			r.failed(t, tc.wantStatus, tc.wantCode)
			for k, v := range tc.wantHeader {
				assert.Equal(t, v, r.header.Get(k), k)
			}
			assert.Empty(t, e.srv.Workers(), "a status fault does not apply the request")
			reqs := e.srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tc.wantStatus, reqs[0].Status)
			assert.Equal(t, "status", reqs[0].Fault)
		})
	}
}

func TestFault_timesAndOrder(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.srv.InjectFault(Fault{Method: "get", Path: "/accounts/**", Status: 503, Times: 2})
	e.srv.InjectFault(Fault{Method: "GET", Path: "/accounts/*/workers/workers", Status: 429, Times: 1})
	e.srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Status: 502})

	list := acctPath + "/workers/workers"
	e.do(http.MethodGet, list, nil).failed(t, 503, 10002)
	e.do(http.MethodGet, list, nil).failed(t, 503, 10002)
	e.do(http.MethodGet, list, nil).failed(t, 429, 971)
	e.do(http.MethodGet, list, nil).ok(t, nil)
	e.do(http.MethodPost, list, `{"name":"w"}`).ok(t, nil) // method and path must both match
	for range 3 {
		e.do(http.MethodPost, list+"/w/versions", versionBody()).failed(t, 502, 10002) // Times 0: every time
	}
	e.srv.ClearFaults()
	e.do(http.MethodPost, list+"/w/versions", versionBody()).ok(t, nil)

	var got []int
	for _, r := range e.srv.Requests() {
		got = append(got, r.Status)
	}
	assert.Equal(t, []int{503, 503, 429, 200, 200, 502, 502, 502, 200}, got)
}

func TestFault_concurrentTimes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.srv.InjectFault(Fault{Path: "/accounts/**", Status: 503, Times: 5})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
	)
	for range 20 {
		wg.Go(func() {
			r := e.do(http.MethodGet, acctPath+"/workers/workers", nil)
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{503: 5, 200: 15}, counts)
}

func TestFault_drop(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers", Kind: FaultDrop, Times: 1})
	_, err := e.rawPost(t, acctPath+"/workers/workers", `{"name":"dropped"}`)
	require.Error(t, err, "the client gets no response")
	assert.Empty(t, e.srv.Workers(), "a dropped request is not applied")

	status, err := e.rawPost(t, acctPath+"/workers/workers", `{"name":"dropped"}`)
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Len(t, e.srv.Workers(), 1)

	reqs := e.srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, RequestRecord{Method: "POST", Path: BasePath + acctPath + "/workers/workers", Status: 0, Fault: "drop", At: reqs[0].At}, reqs[0])
	assert.Equal(t, 200, reqs[1].Status)
	assert.Empty(t, reqs[1].Fault)
}

func TestFault_lostResponse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	e.srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Kind: FaultLostResponse, Times: 1})
	buf := `{"main_module":"a.js","modules":[{"name":"a.js","content_type":"application/javascript+module","content_base64":""}]}`
	_, err := e.rawPost(t, acctPath+"/workers/workers/w/versions", buf)
	require.Error(t, err)
	assert.ErrorIs(t, err, io.EOF)
	assert.Len(t, e.srv.Versions("w"), 1, "a lost response still applies the request")

	_, err = e.rawPost(t, acctPath+"/workers/workers/w/versions", buf)
	require.NoError(t, err)
	vs := e.srv.Versions("w")
	require.Len(t, vs, 2)
	assert.Equal(t, 2, vs[1].Number)
	reqs := e.srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "lost", reqs[1].Fault)
	assert.Equal(t, 0, reqs[1].Status)
}

func TestFault_latency(t *testing.T) {
	t.Parallel()
	t.Run("injected sleep", func(t *testing.T) {
		t.Parallel()
		var (
			mu    sync.Mutex
			slept []time.Duration
		)
		sleep := func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
			return nil
		}
		e := newTestEnv(t, Options{Latency: 3 * time.Millisecond, Sleep: sleep})
		e.srv.InjectFault(Fault{Method: "GET", Path: "/accounts/*/workers/**", Kind: FaultLatency, Latency: 2 * time.Second, Times: 1})
		e.do(http.MethodGet, acctPath+"/workers/workers", nil).ok(t, nil)
		e.do(http.MethodGet, acctPath+"/workers/workers", nil).ok(t, nil)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []time.Duration{3 * time.Millisecond, 2 * time.Second, 3 * time.Millisecond}, slept)
		reqs := e.srv.Requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, "latency", reqs[0].Fault)
		assert.Equal(t, 200, reqs[0].Status)
		assert.Empty(t, reqs[1].Fault)
	})
	t.Run("real sleep serves afterwards", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t, Options{})
		e.srv.InjectFault(Fault{Path: "/**", Kind: FaultLatency, Latency: 30 * time.Millisecond})
		start := time.Now()
		e.do(http.MethodPost, acctPath+"/workers/workers", `{"name":"slow"}`).ok(t, nil)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
		assert.Len(t, e.srv.Workers(), 1)
	})
	t.Run("client gives up", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t, Options{})
		e.srv.InjectFault(Fault{Path: "/**", Kind: FaultLatency, Latency: time.Minute})
		e.client.Timeout = 50 * time.Millisecond
		_, err := e.rawPost(t, acctPath+"/workers/workers", `{"name":"never"}`)
		require.Error(t, err)
		require.Eventually(t, func() bool {
			reqs := e.srv.Requests()
			return len(reqs) == 1 && reqs[0].Fault == "latency" && reqs[0].Status == 0
		}, 5*time.Second, 5*time.Millisecond)
		assert.Empty(t, e.srv.Workers(), "the request was not served")
	})
}

func TestFault_late(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers", Kind: FaultLate, Latency: 200 * time.Millisecond, Times: 1})
	e.client.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := e.rawPost(t, acctPath+"/workers/workers", `{"name":"late"}`)
	require.Error(t, err, "the request is held until the client gives up")
	assert.Empty(t, e.srv.Workers(), "not applied when the client gives up")
	require.Eventually(t, func() bool { return len(e.srv.Workers()) == 1 }, 5*time.Second, 5*time.Millisecond,
		"applied after the client gave up")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "timeout plus the delay")
	reqs := e.srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "late", reqs[0].Fault)
}

func TestFault_empty(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers", Kind: FaultEmpty, Times: 1})
	r := e.do(http.MethodPost, acctPath+"/workers/workers", `{"name":"w"}`)
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"success":true,"errors":[],"messages":[],"result":{}}`, r.raw)
	assert.Len(t, e.srv.Workers(), 1, "the request was applied")
	reqs := e.srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "empty", reqs[0].Fault)
}

func TestRequests_record(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.do(http.MethodGet, acctPath+"/workers/workers?page=2&per_page=5", nil).ok(t, nil)
	e.doAuth(http.MethodGet, acctPath+"/workers/workers", nil, "")
	reqs := e.srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, BasePath+acctPath+"/workers/workers", reqs[0].Path)
	assert.Equal(t, "page=2&per_page=5", reqs[0].RawQuery)
	assert.Equal(t, 200, reqs[0].Status)
	assert.True(t, reqs[0].At.After(clockStart))
	assert.Equal(t, 403, reqs[1].Status)
	reqs[0].Status = 999
	assert.Equal(t, 200, e.srv.Requests()[0].Status, "Requests returns a copy")
	e.srv.ResetRequests()
	assert.Empty(t, e.srv.Requests())
	e.do(http.MethodGet, acctPath+"/workers/workers", nil).ok(t, nil)
	assert.Len(t, e.srv.Requests(), 1)
}

func TestMatchFaultPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		path    string
		want    bool
	}{
		{name: "empty pattern matches all", pattern: "", path: "/accounts/a/workers", want: true},
		{name: "double star matches all", pattern: "/**", path: "/accounts/a/workers", want: true},
		{name: "double star matches root", pattern: "/**", path: "/", want: true},
		{name: "exact", pattern: "/accounts/a/workers", path: "/accounts/a/workers", want: true},
		{name: "star one segment", pattern: "/accounts/*/workers", path: "/accounts/a/workers", want: true},
		{name: "star not two segments", pattern: "/accounts/*/workers", path: "/accounts/a/b/workers", want: false},
		{name: "shorter path", pattern: "/accounts/*/workers/workers/*/versions", path: "/accounts/a/workers/workers/w", want: false},
		{name: "longer path", pattern: "/accounts/*/workers/workers", path: "/accounts/a/workers/workers/w", want: false},
		{name: "trailing double star matches nothing more", pattern: "/accounts/*/workers/**", path: "/accounts/a/workers", want: true},
		{name: "trailing double star matches rest", pattern: "/accounts/*/workers/**", path: "/accounts/a/workers/workers/w/versions", want: true},
		{name: "literal mismatch", pattern: "/accounts/*/workers/scripts/**", path: "/accounts/a/workers/workers/w", want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, matchFaultPath(splitPattern(tc.pattern), splitPattern(tc.path)))
		})
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		spec    string
		want    Fault
		wantErr string
	}{
		{name: "status with method", spec: "POST /accounts/*/workers/workers/*/versions status=503 times=2",
			want: Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Kind: FaultStatus, Status: 503, Times: 2}},
		{name: "latency", spec: "GET /accounts/** kind=latency latency=2s",
			want: Fault{Method: "GET", Path: "/accounts/**", Kind: FaultLatency, Latency: 2 * time.Second}},
		{name: "latency implied", spec: "/** latency=150ms", want: Fault{Path: "/**", Kind: FaultLatency, Latency: 150 * time.Millisecond}},
		{name: "lost", spec: "post /accounts/** kind=lost times=1", want: Fault{Method: "POST", Path: "/accounts/**", Kind: FaultLostResponse, Times: 1}},
		{name: "lost-response alias", spec: "/** kind=lost-response", want: Fault{Path: "/**", Kind: FaultLostResponse}},
		{name: "drop any method", spec: "* /accounts/*/workers/workers kind=drop", want: Fault{Path: "/accounts/*/workers/workers", Kind: FaultDrop}},
		{name: "ANY method", spec: "ANY /** kind=drop", want: Fault{Path: "/**", Kind: FaultDrop}},
		{name: "late", spec: "POST /accounts/*/workers/scripts/*/deployments kind=late latency=1s times=1",
			want: Fault{Method: "POST", Path: "/accounts/*/workers/scripts/*/deployments", Kind: FaultLate, Latency: time.Second, Times: 1}},
		{name: "empty answer", spec: "POST /** kind=empty", want: Fault{Method: "POST", Path: "/**", Kind: FaultEmpty}},
		{name: "retry headers", spec: "  /accounts/**   status=429  retry-after=1 retry-after-ms=1500 should-retry=true code=971 ",
			want: Fault{Path: "/accounts/**", Kind: FaultStatus, Status: 429, RetryAfter: "1", RetryAfterMs: "1500", ShouldRetry: "true", Code: 971}},
		{name: "empty", spec: "   ", wantErr: `failed to parse fault "   ": it is empty, want "[METHOD] /path [key=value]..."`},
		{name: "no path", spec: "POST status=503", wantErr: `failed to parse fault "POST status=503": missing path pattern starting with "/", e.g. /accounts/*/workers/**`},
		{name: "bad method", spec: "P0ST /** status=503", wantErr: `failed to parse fault "P0ST /** status=503": method "P0ST" is not an HTTP method`},
		{name: "no action", spec: "GET /accounts/**", wantErr: `failed to parse fault "GET /accounts/**": say what to do with kind=status|drop|lost|latency|late|empty or status=N`},
		{name: "unknown key", spec: "/** status=503 color=red", wantErr: `failed to parse fault "/** status=503 color=red": unknown key "color" (known: kind, status, code, times, retry-after, retry-after-ms, should-retry, latency)`},
		{name: "duplicate key", spec: "/** status=503 status=502", wantErr: `failed to parse fault "/** status=503 status=502": key "status" given twice`},
		{name: "not key=value", spec: "/** status", wantErr: `failed to parse fault "/** status": "status" is not key=value`},
		{name: "empty value", spec: "/** status=", wantErr: `failed to parse fault "/** status=": "status=" is not key=value`},
		{name: "status out of range", spec: "/** status=200", wantErr: `failed to parse fault "/** status=200": invalid status "200": want 400 to 599`},
		{name: "status not a number", spec: "/** status=bad", wantErr: `failed to parse fault "/** status=bad": invalid status "bad": want an integer`},
		{name: "negative times", spec: "/** status=503 times=-1", wantErr: `failed to parse fault "/** status=503 times=-1": invalid times "-1": want 0 to 2147483647`},
		{name: "bad kind", spec: "/** kind=explode", wantErr: `failed to parse fault "/** kind=explode": invalid kind "explode": want status, drop, lost, latency, late or empty`},
		{name: "bad latency", spec: "/** latency=soon", wantErr: `failed to parse fault "/** latency=soon": invalid latency "soon": time: invalid duration "soon"`},
		{name: "zero latency", spec: "/** latency=0s", wantErr: `failed to parse fault "/** latency=0s": invalid latency "0s": want a positive duration`},
		{name: "bad should-retry", spec: "/** status=503 should-retry=maybe", wantErr: `failed to parse fault "/** status=503 should-retry=maybe": invalid should-retry "maybe": want true or false`},
		{name: "control character in header", spec: "/** status=429 retry-after=1\x00", wantErr: `failed to parse fault "/** status=429 retry-after=1\x00": invalid retry-after "1\x00": want printable ASCII`},
		{name: "status on drop", spec: "/** kind=drop status=503", wantErr: `failed to parse fault "/** kind=drop status=503": key "status" does not apply to kind drop`},
		{name: "latency on status", spec: "/** status=503 latency=1s", wantErr: `failed to parse fault "/** status=503 latency=1s": key "latency" does not apply to kind status`},
		{name: "kind late without latency", spec: "/** kind=late", wantErr: `failed to parse fault "/** kind=late": kind late needs latency=D, e.g. latency=2s`},
		{name: "status on empty", spec: "/** kind=empty status=503", wantErr: `failed to parse fault "/** kind=empty status=503": key "status" does not apply to kind empty`},
		{name: "kind status without status", spec: "/** kind=status", wantErr: `failed to parse fault "/** kind=status": kind status needs status=N (400-599)`},
		{name: "kind latency without latency", spec: "/** kind=latency", wantErr: `failed to parse fault "/** kind=latency": kind latency needs latency=D, e.g. latency=2s`},
		{name: "root only", spec: "/ status=503", wantErr: `failed to parse fault "/ status=503": path "/" matches only the API root; use /** to match every path`},
		{name: "empty segment", spec: "/accounts//workers status=503", wantErr: `failed to parse fault "/accounts//workers status=503": path "/accounts//workers" has an empty segment`},
		{name: "inner double star", spec: "/accounts/**/versions status=503", wantErr: `failed to parse fault "/accounts/**/versions status=503": path "/accounts/**/versions" uses ** before the last segment`},
		{name: "partial wildcard", spec: "/accounts/ab*/workers status=503", wantErr: `failed to parse fault "/accounts/ab*/workers status=503": path "/accounts/ab*/workers": a wildcard must be a whole segment (* or **)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFault(tc.spec)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := ParseFault(got.String())
			require.NoError(t, err, "String() output %q parses", got.String())
			assert.Equal(t, got, again)
		})
	}
}

func TestFaultKind_String(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "status", FaultStatus.String())
	assert.Equal(t, "drop", FaultDrop.String())
	assert.Equal(t, "lost", FaultLostResponse.String())
	assert.Equal(t, "latency", FaultLatency.String())
	assert.Equal(t, "late", FaultLate.String())
	assert.Equal(t, "empty", FaultEmpty.String())
	assert.Equal(t, "FaultKind(9)", FaultKind(9).String())
	assert.Equal(t, "/** kind=status status=503", Fault{Status: 503}.String())
}

func FuzzParseFault(f *testing.F) {
	for _, seed := range []string{
		"POST /accounts/*/workers/workers/*/versions status=503 times=2",
		"GET /accounts/** kind=latency latency=2s",
		"POST /accounts/** kind=lost",
		"/** status=429 retry-after=1 retry-after-ms=10 should-retry=false code=971",
		"* /accounts/*/workers/scripts/*/deployments kind=drop times=3",
		"POST /accounts/*/workers/scripts/*/deployments kind=late latency=500ms times=1",
		"GET /accounts/** kind=empty",
		"/ status=503",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseFault(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "failed to parse fault ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if !strings.HasPrefix(got.Path, "/") {
			t.Fatalf("path %q does not start with /", got.Path)
		}
		if got.Kind == FaultStatus && (got.Status < 400 || got.Status > 599) {
			t.Fatalf("status %d out of range", got.Status)
		}
		if got.Times < 0 || got.Latency < 0 {
			t.Fatalf("negative times or latency in %+v", got)
		}
		for _, h := range []string{got.RetryAfter, got.RetryAfterMs, got.ShouldRetry} {
			if strings.ContainsAny(h, "\r\n\x00 ") {
				t.Fatalf("header value %q can inject", h)
			}
		}
		again, err := ParseFault(got.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", got.String(), spec, err)
		}
		if again != got {
			t.Fatalf("round trip of %q: got %+v, want %+v", spec, again, got)
		}
	})
}
