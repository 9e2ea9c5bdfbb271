package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew_options(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "zero value", opts: Options{}},
		{name: "account", opts: Options{AccountID: testAccount}},
		{name: "upper-case account", opts: Options{AccountID: strings.ToUpper(testAccount)}},
		{name: "short account", opts: Options{AccountID: "abc"}, wantErr: `failed to create emulator: account ID "abc" is not 32 hexadecimal characters`},
		{name: "custom subdomain", opts: Options{Subdomain: "my-team"}},
		{name: "bad subdomain", opts: Options{Subdomain: "My_Team"}, wantErr: `failed to create emulator: subdomain "My_Team" is not a DNS label (lowercase letters, digits and inner dashes, at most 63 characters)`},
		{name: "negative latency", opts: Options{Latency: -time.Second}, wantErr: "failed to create emulator: latency -1s is negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tc.opts)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, s)
		})
	}
}

func TestAuthAndAccount(t *testing.T) {
	t.Parallel()
	other := "ffffffffffffffffffffffffffffffff"
	cases := []struct {
		name       string
		opts       Options
		account    string
		auth       string
		wantStatus int
		wantCode   int
	}{
		{name: "any token accepted", opts: Options{}, account: testAccount, auth: "Bearer whatever", wantStatus: 200},
		{name: "lower-case scheme", opts: Options{}, account: testAccount, auth: "bearer whatever", wantStatus: 200},
		{name: "no header", opts: Options{}, account: testAccount, auth: "", wantStatus: 403, wantCode: 10000},
		{name: "empty bearer", opts: Options{}, account: testAccount, auth: "Bearer ", wantStatus: 403, wantCode: 10000},
		{name: "basic scheme", opts: Options{}, account: testAccount, auth: "Basic dXNlcjpwYXNz", wantStatus: 403, wantCode: 10000},
		{name: "configured token", opts: Options{Token: testToken}, account: testAccount, auth: "Bearer " + testToken, wantStatus: 200},
		{name: "wrong token", opts: Options{Token: testToken}, account: testAccount, auth: "Bearer nope", wantStatus: 403, wantCode: 10000},
		{name: "token prefix", opts: Options{Token: testToken}, account: testAccount, auth: "Bearer test", wantStatus: 403, wantCode: 10000},
		{name: "configured account", opts: Options{AccountID: testAccount}, account: testAccount, auth: "Bearer x", wantStatus: 200},
		{name: "other account", opts: Options{AccountID: testAccount}, account: other, auth: "Bearer x", wantStatus: 403, wantCode: 10000},
		{name: "malformed account", opts: Options{}, account: "not-an-account", auth: "Bearer x", wantStatus: 400, wantCode: 7003},
		{name: "upper-case account", opts: Options{}, account: strings.ToUpper(other), auth: "Bearer x", wantStatus: 200},
		{name: "auth checked before account", opts: Options{AccountID: testAccount}, account: other, auth: "", wantStatus: 403, wantCode: 10000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tc.opts)
			r := e.doAuth(http.MethodGet, "/accounts/"+tc.account+"/workers/workers", nil, tc.auth)
			if tc.wantStatus == 200 {
				r.ok(t, nil)
				return
			}
			r.failed(t, tc.wantStatus, tc.wantCode)
			assert.NotContains(t, r.raw, "whatever")
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	t.Run("unknown route", func(t *testing.T) {
		t.Parallel()
		e.do(http.MethodGet, acctPath+"/workers/nothing", nil).failed(t, 404, 7000)
	})
	t.Run("outside base path", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/accounts/"+testAccount+"/workers/workers", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("wrong method", func(t *testing.T) {
		t.Parallel()
		r := e.do(http.MethodPut, acctPath+"/workers/workers", "{}")
		r.failed(t, http.StatusMethodNotAllowed, 7001)
		assert.Equal(t, "GET, POST", r.header.Get("Allow"))
	})
	t.Run("trailing slash tolerated", func(t *testing.T) {
		t.Parallel()
		e.do(http.MethodGet, acctPath+"/workers/workers/", nil).ok(t, nil)
	})
}

func TestCreateWorker_validation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("taken", nil)
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   int
	}{
		{name: "malformed JSON", body: `{"name":`, wantStatus: 400, wantCode: 10026},
		{name: "empty body", body: ``, wantStatus: 400, wantCode: 10026},
		{name: "array body", body: `[]`, wantStatus: 400, wantCode: 10026},
		{name: "wrong type", body: `{"name":"ok","logpush":"yes"}`, wantStatus: 400, wantCode: 10026},
		{name: "missing name", body: `{}`, wantStatus: 400, wantCode: 10005},
		{name: "empty name", body: `{"name":""}`, wantStatus: 400, wantCode: 10005},
		{name: "upper case", body: `{"name":"MyWorker"}`, wantStatus: 400, wantCode: 10016},
		{name: "leading dash", body: `{"name":"-worker"}`, wantStatus: 400, wantCode: 10016},
		{name: "dot", body: `{"name":"my.worker"}`, wantStatus: 400, wantCode: 10016},
		{name: "64 characters", body: `{"name":"` + strings.Repeat("a", 64) + `"}`, wantStatus: 400, wantCode: 10016},
		{name: "63 characters", body: `{"name":"` + strings.Repeat("a", 63) + `"}`, wantStatus: 200},
		{name: "leading underscore and digits", body: `{"name":"_9-lives_"}`, wantStatus: 200},
		{name: "name conflict", body: `{"name":"taken"}`, wantStatus: 409, wantCode: 10040},
		{name: "unknown fields tolerated", body: `{"name":"tolerant","future_field":{"x":1},"references":{}}`, wantStatus: 200},
		{name: "nine tags", body: `{"name":"tags9","tags":["a","b","c","d","e","f","g","h","i"]}`, wantStatus: 403, wantCode: 100103},
		{name: "tag with comma", body: `{"name":"tagc","tags":["a,b"]}`, wantStatus: 400, wantCode: 10021},
		{name: "tag too long", body: `{"name":"tagl","tags":["` + strings.Repeat("t", 1025) + `"]}`, wantStatus: 400, wantCode: 100102},
		{name: "tail consumer without name", body: `{"name":"tc","tail_consumers":[{}]}`, wantStatus: 400, wantCode: 10021},
		{name: "sampling rate above 1", body: `{"name":"obs1","observability":{"head_sampling_rate":2}}`, wantStatus: 400, wantCode: 10021},
		{name: "logs not an object", body: `{"name":"obs2","observability":{"logs":true}}`, wantStatus: 400, wantCode: 10021},
		{name: "bad propagation policy", body: `{"name":"obs3","observability":{"traces":{"propagation_policy":"always"}}}`, wantStatus: 400, wantCode: 10021},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(http.MethodPost, acctPath+"/workers/workers", tc.body)
			if tc.wantStatus == 200 {
				r.ok(t, nil)
				return
			}
			r.failed(t, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestCreateWorker_defaults(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	r := e.do(http.MethodPost, acctPath+"/workers/workers", `{"name":"fresh"}`)
	r.ok(t, nil)
	// The raw JSON pins the exact wire shape, including nulls and empty arrays.
	assert.Regexp(t, `"id":"[0-9a-f]{32}"`, r.raw)
	assert.Contains(t, r.raw, `"subdomain":{"enabled":false,"previews_enabled":false}`)
	assert.Contains(t, r.raw, `"tags":[]`)
	assert.Contains(t, r.raw, `"tail_consumers":[]`)
	assert.Contains(t, r.raw, `"references":{"dispatch_namespace_outbounds":[],"domains":[],"durable_objects":[],"queues":[],"workers":[]}`)
	assert.Contains(t, r.raw, `"deployed_on":null`)
	assert.Contains(t, r.raw, `"logpush":false`)
	assert.Contains(t, r.raw, `"observability":{"enabled":false,"head_sampling_rate":1,"logs":{"destinations":[],"enabled":false,"head_sampling_rate":1,"invocation_logs":true,"persist":true}}`)
	var w testWorker
	r.ok(t, &w)
	created, err := time.Parse(time.RFC3339, w.CreatedOn)
	require.NoError(t, err)
	assert.True(t, created.After(clockStart), "created_on %s comes from the injected clock", w.CreatedOn)
	assert.Equal(t, w.CreatedOn, w.UpdatedOn)
	assert.Nil(t, r.env.ResultInfo)
}

func TestWorker_getUpdateEditDelete(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	w := e.createWorker("alpha", map[string]any{
		"logpush":       true,
		"tags":          []string{"team:a"},
		"subdomain":     map[string]any{"enabled": true},
		"observability": map[string]any{"enabled": true, "logs": map[string]any{"invocation_logs": false}},
	})
	e.createWorker("beta", nil)
	assert.True(t, w.Logpush)
	assert.Equal(t, SubdomainSettings{Enabled: true}, w.Subdomain)
	assert.Equal(t, true, w.Observability["enabled"])
	assert.Equal(t, map[string]any{"destinations": []any{}, "enabled": false, "head_sampling_rate": 1.0, "invocation_logs": false, "persist": true}, w.Observability["logs"], "nested objects merge with the defaults")

	t.Run("get by ID and by name", func(t *testing.T) {
		var byID, byName testWorker
		e.do(http.MethodGet, acctPath+"/workers/workers/"+w.ID, nil).ok(t, &byID)
		e.do(http.MethodGet, acctPath+"/workers/workers/alpha", nil).ok(t, &byName)
		assert.Equal(t, byID, byName)
		assert.Equal(t, "alpha", byID.Name)
		e.do(http.MethodGet, acctPath+"/workers/workers/missing", nil).failed(t, 404, 10007)
		e.do(http.MethodGet, acctPath+"/workers/workers/ffffffffffffffffffffffffffffffff", nil).failed(t, 404, 10007)
	})

	t.Run("patch merges", func(t *testing.T) {
		var got testWorker
		e.do(http.MethodPatch, acctPath+"/workers/workers/"+w.ID, `{"tags":["team:b"],"subdomain":{"previews_enabled":true}}`).ok(t, &got)
		assert.True(t, got.Logpush, "omitted fields stay")
		assert.Equal(t, []string{"team:b"}, got.Tags)
		assert.Equal(t, SubdomainSettings{Enabled: true, PreviewsEnabled: true}, got.Subdomain)
		assert.Equal(t, true, got.Observability["enabled"])
		assert.NotEqual(t, w.UpdatedOn, got.UpdatedOn)
		assert.Equal(t, w.CreatedOn, got.CreatedOn)
	})

	t.Run("patch rename conflict", func(t *testing.T) {
		e.do(http.MethodPatch, acctPath+"/workers/workers/alpha", `{"name":"beta"}`).failed(t, 409, 10040)
		e.do(http.MethodPatch, acctPath+"/workers/workers/alpha", `{"name":"Bad Name"}`).failed(t, 400, 10016)
		e.do(http.MethodPatch, acctPath+"/workers/workers/alpha", `{"name":`).failed(t, 400, 10026)
	})

	t.Run("put replaces", func(t *testing.T) {
		var got testWorker
		e.do(http.MethodPut, acctPath+"/workers/workers/alpha", `{"name":"alpha-2"}`).ok(t, &got)
		assert.Equal(t, w.ID, got.ID)
		assert.Equal(t, "alpha-2", got.Name)
		assert.False(t, got.Logpush, "omitted fields reset")
		assert.Equal(t, []string{}, got.Tags)
		assert.Equal(t, SubdomainSettings{}, got.Subdomain)
		assert.Equal(t, false, got.Observability["enabled"])
		e.do(http.MethodGet, acctPath+"/workers/workers/alpha", nil).failed(t, 404, 10007)
		e.do(http.MethodGet, acctPath+"/workers/workers/alpha-2", nil).ok(t, nil)
		e.do(http.MethodPut, acctPath+"/workers/workers/alpha-2", `{}`).failed(t, 400, 10005)
		e.do(http.MethodPut, acctPath+"/workers/workers/alpha-2", `{"name":"beta"}`).failed(t, 409, 10040)
		e.do(http.MethodPut, acctPath+"/workers/workers/nope", `{"name":"nope"}`).failed(t, 404, 10007)
	})

	t.Run("delete cascades", func(t *testing.T) {
		e.createVersion("alpha-2", versionBody())
		r := e.do(http.MethodDelete, acctPath+"/workers/workers/"+w.ID, nil)
		r.ok(t, nil)
		assert.Equal(t, "null", string(r.env.Result))
		e.do(http.MethodDelete, acctPath+"/workers/workers/"+w.ID, nil).failed(t, 404, 10007)
		again := e.createWorker("alpha-2", nil)
		assert.NotEqual(t, w.ID, again.ID)
		assert.Empty(t, e.srv.Versions("alpha-2"), "versions went with the deleted Worker")
	})
}

func TestWorker_accountsAreSeparate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("same", nil)
	other := "/accounts/ffffffffffffffffffffffffffffffff/workers/workers"
	e.do(http.MethodGet, other+"/same", nil).failed(t, 404, 10007)
	e.do(http.MethodPost, other, `{"name":"same"}`).ok(t, nil)
	ws := e.srv.Workers()
	require.Len(t, ws, 2)
	assert.Equal(t, testAccount, ws[0].AccountID)
	assert.Equal(t, "ffffffffffffffffffffffffffffffff", ws[1].AccountID)
}

func TestListWorkers_pagination(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	names := []string{"echo", "alpha", "delta", "charlie", "bravo"}
	for _, n := range names {
		e.createWorker(n, nil)
	}
	list := func(t *testing.T, query string) ([]string, *resultInfo) {
		t.Helper()
		var ws []testWorker
		r := e.do(http.MethodGet, acctPath+"/workers/workers"+query, nil)
		r.ok(t, &ws)
		require.NotNil(t, r.env.ResultInfo, "list responses carry result_info")
		require.NotNil(t, ws, "result is [] not null")
		var got []string
		for _, w := range ws {
			got = append(got, w.Name)
		}
		return got, r.env.ResultInfo
	}

	cases := []struct {
		name     string
		query    string
		want     []string
		wantInfo resultInfo
	}{
		{name: "defaults: creation order", query: "", want: names, wantInfo: resultInfo{Page: 1, PerPage: 20, Count: 5, TotalCount: 5, TotalPages: 1}},
		{name: "page 1", query: "?per_page=2", want: []string{"echo", "alpha"}, wantInfo: resultInfo{Page: 1, PerPage: 2, Count: 2, TotalCount: 5, TotalPages: 3}},
		{name: "page 3", query: "?per_page=2&page=3", want: []string{"bravo"}, wantInfo: resultInfo{Page: 3, PerPage: 2, Count: 1, TotalCount: 5, TotalPages: 3}},
		{name: "past the end is empty", query: "?per_page=2&page=4", want: nil, wantInfo: resultInfo{Page: 4, PerPage: 2, Count: 0, TotalCount: 5, TotalPages: 3}},
		{name: "huge page", query: "?per_page=100&page=9223372036854775807", want: nil, wantInfo: resultInfo{Page: 9223372036854775807, PerPage: 100, Count: 0, TotalCount: 5, TotalPages: 1}},
		{name: "per_page capped", query: "?per_page=1000", want: names, wantInfo: resultInfo{Page: 1, PerPage: 100, Count: 5, TotalCount: 5, TotalPages: 1}},
		{name: "by name", query: "?order_by=name", want: []string{"alpha", "bravo", "charlie", "delta", "echo"}, wantInfo: resultInfo{Page: 1, PerPage: 20, Count: 5, TotalCount: 5, TotalPages: 1}},
		{name: "by name desc", query: "?order_by=name&order=desc&per_page=2", want: []string{"echo", "delta"}, wantInfo: resultInfo{Page: 1, PerPage: 2, Count: 2, TotalCount: 5, TotalPages: 3}},
		{name: "created desc", query: "?order=desc", want: []string{"bravo", "charlie", "delta", "alpha", "echo"}, wantInfo: resultInfo{Page: 1, PerPage: 20, Count: 5, TotalCount: 5, TotalPages: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, info := list(t, tc.query)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantInfo, *info)
		})
	}

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"?page=x", "?per_page=1.5", "?order=up", "?order_by=size"} {
			e.do(http.MethodGet, acctPath+"/workers/workers"+q, nil).failed(t, 400, 10004)
		}
	})

	t.Run("walking pages ends with an empty page", func(t *testing.T) {
		t.Parallel()
		var all []string
		for page := 1; page < 10; page++ {
			got, _ := list(t, fmt.Sprintf("?per_page=2&page=%d", page))
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
		}
		assert.Equal(t, names, all)
	})
}

func TestListWorkers_byDeployedOn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("never", nil)
	e.createWorker("later", nil)
	e.createWorker("first", nil)
	for _, n := range []string{"first", "later"} {
		v := e.createVersion(n, versionBody())
		e.deploy(n, DeploymentVersion{VersionID: v.ID, Percentage: 100})
	}
	var ws []testWorker
	e.do(http.MethodGet, acctPath+"/workers/workers?order_by=deployed_on", nil).ok(t, &ws)
	require.Len(t, ws, 3)
	assert.Equal(t, []string{"never", "first", "later"}, []string{ws[0].Name, ws[1].Name, ws[2].Name})
	assert.Nil(t, ws[0].DeployedOn)
	require.NotNil(t, ws[1].DeployedOn)
	assert.Regexp(t, regexp.MustCompile(`^2026-05-01T12:00:\d\dZ$`), *ws[1].DeployedOn)
}
