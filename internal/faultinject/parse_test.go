package faultinject

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
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
			assert.Equal(t, tc.want, Match(tc.pattern, tc.path))
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		spec    string
		want    Fault
		wantErr string
	}{
		{name: "status with method", spec: "POST /accounts/*/workers/workers/*/versions status=503 times=2",
			want: Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Kind: Status, Status: 503, Times: 2}},
		{name: "latency", spec: "GET /accounts/** kind=latency latency=2s",
			want: Fault{Method: "GET", Path: "/accounts/**", Kind: Latency, Latency: 2 * time.Second}},
		{name: "latency implied", spec: "/** latency=150ms", want: Fault{Path: "/**", Kind: Latency, Latency: 150 * time.Millisecond}},
		{name: "lost", spec: "post /accounts/** kind=lost times=1", want: Fault{Method: "POST", Path: "/accounts/**", Kind: LostResponse, Times: 1}},
		{name: "lost-response alias", spec: "/** kind=lost-response", want: Fault{Path: "/**", Kind: LostResponse}},
		{name: "drop any method", spec: "* /accounts/*/workers/workers kind=drop", want: Fault{Path: "/accounts/*/workers/workers", Kind: Drop}},
		{name: "ANY method", spec: "ANY /** kind=drop", want: Fault{Path: "/**", Kind: Drop}},
		{name: "late", spec: "POST /accounts/*/workers/scripts/*/deployments kind=late latency=1s times=1",
			want: Fault{Method: "POST", Path: "/accounts/*/workers/scripts/*/deployments", Kind: Late, Latency: time.Second, Times: 1}},
		{name: "empty answer", spec: "POST /** kind=empty", want: Fault{Method: "POST", Path: "/**", Kind: Empty}},
		{name: "retry headers", spec: "  /accounts/**   status=429  retry-after=1 retry-after-ms=1500 should-retry=true code=971 ",
			want: Fault{Path: "/accounts/**", Kind: Status, Status: 429, RetryAfter: "1", RetryAfterMs: "1500", ShouldRetry: "true", Code: 971}},
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
			got, err := Parse(tc.spec)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := Parse(got.String())
			require.NoError(t, err, "String() output %q parses", got.String())
			assert.Equal(t, got, again)
		})
	}
}

func TestKind_String(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "status", Status.String())
	assert.Equal(t, "drop", Drop.String())
	assert.Equal(t, "lost", LostResponse.String())
	assert.Equal(t, "latency", Latency.String())
	assert.Equal(t, "late", Late.String())
	assert.Equal(t, "empty", Empty.String())
	assert.Equal(t, "Kind(9)", Kind(9).String())
	assert.Equal(t, "/** kind=status status=503", Fault{Status: 503}.String())
}

func FuzzParse(f *testing.F) {
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
		got, err := Parse(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "failed to parse fault ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if !strings.HasPrefix(got.Path, "/") {
			t.Fatalf("path %q does not start with /", got.Path)
		}
		if got.Kind == Status && (got.Status < 400 || got.Status > 599) {
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
		again, err := Parse(got.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", got.String(), spec, err)
		}
		if again != got {
			t.Fatalf("round trip of %q: got %+v, want %+v", spec, again, got)
		}
	})
}
