package faultinject

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInjector_kinds runs each fault kind in front of a handler that counts the requests it
// applies and answers 201 {"id":7,"name":"x"}.
func TestInjector_kinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		fault       Fault
		writeStatus func(http.ResponseWriter, Fault, int)
		wantErr     bool // the client gets no answer
		wantStatus  int
		wantBody    string
		wantHeader  map[string]string
		wantApplied int64
		wantFault   string
	}{
		{name: "no match", fault: Fault{Method: "GET", Path: "/x", Kind: Status, Status: 503},
			wantStatus: 201, wantBody: `{"id":7,"name":"x"}`, wantApplied: 1},
		{name: "status, default body", fault: Fault{Path: "/api/things", Status: 503, RetryAfter: "1", RetryAfterMs: "20", ShouldRetry: "false"},
			wantStatus: 503, wantBody: `{"message":"Service Unavailable"}`, wantFault: "status",
			wantHeader: map[string]string{"Retry-After": "1", "Retry-After-Ms": "20", "X-Should-Retry": "false"}},
		{name: "status, own body", fault: Fault{Path: "/api/*", Status: 403, Body: `{"message":"slow down"}`},
			wantStatus: 403, wantBody: `{"message":"slow down"}`, wantFault: "status"},
		{name: "status, out of range is 500", fault: Fault{Path: "/**", Status: 200},
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`, wantFault: "status"},
		{name: "status, the injector's body", fault: Fault{Path: "/**", Status: 429, Code: 971},
			writeStatus: func(w http.ResponseWriter, f Fault, status int) {
				w.WriteHeader(status)
				fmt.Fprintf(w, "code %d", f.Code)
			},
			wantStatus: 429, wantBody: "code 971", wantFault: "status"},
		{name: "drop", fault: Fault{Kind: Drop}, wantErr: true, wantFault: "drop"},
		{name: "lost", fault: Fault{Kind: LostResponse}, wantErr: true, wantApplied: 1, wantFault: "lost"},
		{name: "empty", fault: Fault{Kind: Empty}, wantStatus: 200, wantBody: `{}`, wantApplied: 1, wantFault: "empty"},
		{name: "garbled cut", fault: Fault{Kind: Garbled, Garble: GarbleCut}, wantStatus: 201, wantBody: `{"id":7,"`, wantApplied: 1, wantFault: "garbled:cut"},
		{name: "garbled no-id", fault: Fault{Kind: Garbled, Garble: GarbleNoID}, wantStatus: 201, wantBody: `{"name":"x"}`, wantApplied: 1, wantFault: "garbled:no-id"},
		{name: "garbled empty", fault: Fault{Kind: Garbled, Garble: GarbleEmpty}, wantStatus: 201, wantBody: ``, wantApplied: 1, wantFault: "garbled:empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var applied atomic.Int64
			in := &Injector{Prefix: "/base", WriteStatus: tc.writeStatus}
			in.Add(tc.fault)
			type report struct {
				status int
				fault  string
			}
			reports := make(chan report, 1)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				in.Serve(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					applied.Add(1)
					w.WriteHeader(201)
					_, _ = io.WriteString(w, `{"id":7,"name":"x"}`)
				}), func(status int, fault string) { reports <- report{status, fault} })
			}))
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			res, err := client.Post(ts.URL+"/base/api/things", "application/json", strings.NewReader(`{}`))
			var got report
			if tc.wantErr {
				require.Error(t, err)
				got = <-reports
				assert.Equal(t, 0, got.status)
			} else {
				require.NoError(t, err)
				body, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				assert.Equal(t, tc.wantStatus, res.StatusCode)
				assert.Equal(t, tc.wantBody, strings.TrimSpace(string(body)))
				for k, v := range tc.wantHeader {
					assert.Equal(t, v, res.Header.Get(k), k)
				}
				got = <-reports
				assert.Equal(t, tc.wantStatus, got.status, "reported status")
			}
			assert.Equal(t, tc.wantApplied, applied.Load(), "requests applied")
			assert.Equal(t, tc.wantFault, got.fault, "reported fault")
		})
	}
}

func TestInjector_timesAndPrefix(t *testing.T) {
	t.Parallel()
	in := &Injector{Prefix: "/client/v4"}
	in.Add(Fault{Method: "post", Path: "/a/*", Times: 2, Status: 503})
	in.Add(Fault{Path: "/a/**", Status: 502})
	take := func(method, path string) int {
		f, ok := in.Take(method, path)
		if !ok {
			return 0
		}
		return f.Status
	}
	assert.Equal(t, 502, take("GET", "/client/v4/a/x"), "method does not match the first")
	assert.Equal(t, 503, take("POST", "/client/v4/a/x"))
	assert.Equal(t, 503, take("POST", "/client/v4/a/x/"))
	assert.Equal(t, 502, take("POST", "/client/v4/a/x"), "the first is used up")
	assert.Equal(t, 502, take("POST", "/client/v4/a"), "** matches nothing more")
	assert.Equal(t, 0, take("POST", "/client/v4x/a"), "outside the prefix the path is matched whole")
	assert.Equal(t, 0, take("POST", "/b"))
	in.Clear()
	assert.Equal(t, 0, take("POST", "/client/v4/a/x"))
}

type fakeTB struct {
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }

func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestInjector_failUnfired: a test whose fault with Times > 0 never fired fails at its end;
// one that fired (even short of Times) and one with Times 0 do not.
func TestInjector_failUnfired(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{}
	in := &Injector{}
	in.FailUnfired(tb, "fake API")
	in.Add(Fault{Method: "POST", Path: "/never", Times: 1, Status: 503})
	in.Add(Fault{Method: "GET", Path: "/once", Times: 3, Status: 503})
	in.Add(Fault{Path: "/always", Status: 500})
	_, ok := in.Take("GET", "/once")
	require.True(t, ok)
	assert.Equal(t, []Fault{{Method: "POST", Path: "/never", Times: 1, Status: 503}}, in.Unfired())
	tb.end()
	assert.Equal(t, []string{`fake API: fault "POST /never kind=status status=503 times=1" (Times 1) never fired: no request matched it`}, tb.errors)

	cleared := &fakeTB{}
	in2 := &Injector{}
	in2.FailUnfired(cleared, "fake API")
	in2.Add(Fault{Path: "/never", Times: 1, Status: 503})
	in2.Clear()
	cleared.end()
	assert.Empty(t, cleared.errors, "a cleared fault is not reported")
}
