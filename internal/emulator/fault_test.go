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
	// The request's record is completed after the late write is applied: wait for it too.
	require.Eventually(t, func() bool {
		reqs := e.srv.Requests()
		return len(reqs) == 1 && reqs[0].Fault == "late"
	}, 5*time.Second, 5*time.Millisecond, "recorded as a late fault: %+v", e.srv.Requests())
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
	assert.Empty(t, e.srv.Writes(), "a GET is not a write")
	e.do(http.MethodPost, acctPath+"/workers/workers", `{"name":"w"}`).ok(t, nil)
	writes := e.srv.Writes()
	require.Len(t, writes, 1)
	assert.Equal(t, "POST", writes[0].Method)
}
