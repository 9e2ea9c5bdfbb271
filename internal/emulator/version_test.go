package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mod(name, ct, content string) map[string]any {
	return map[string]any{"name": name, "content_type": ct, "content_base64": b64(content)}
}

func TestCreateVersion_validation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	js := "application/javascript+module"
	withBindings := func(bs ...map[string]any) map[string]any { return versionBody(bs...) }
	many := func(n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"type": "plain_text", "name": fmt.Sprintf("V%d", i), "text": "x"})
		}
		return out
	}
	cases := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   int
	}{
		{name: "minimal", body: versionBody(), wantStatus: 200},
		{name: "malformed JSON", body: `{"modules":[`, wantStatus: 400, wantCode: 10026},
		{name: "modules not an array", body: `{"modules":{}}`, wantStatus: 400, wantCode: 10026},
		{name: "nothing to run", body: `{}`, wantStatus: 400, wantCode: 10021},
		{name: "module without name", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"content_type": js, "content_base64": ""}}}, wantStatus: 400, wantCode: 10021},
		{name: "module without content type", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"name": "a.js", "content_base64": ""}}}, wantStatus: 400, wantCode: 10021},
		{name: "module without content", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"name": "a.js", "content_type": js}}}, wantStatus: 400, wantCode: 10021},
		{name: "empty module content", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"name": "a.js", "content_type": js, "content_base64": ""}}}, wantStatus: 200},
		{name: "bad base64", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"name": "a.js", "content_type": js, "content_base64": "not base64!"}}}, wantStatus: 400, wantCode: 10021},
		{name: "unpadded base64", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{{"name": "a.js", "content_type": js, "content_base64": "YWI"}}}, wantStatus: 400, wantCode: 10021},
		{name: "duplicate module", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{mod("a.js", js, "1"), mod("a.js", js, "2")}}, wantStatus: 400, wantCode: 10021},
		{name: "missing main module", body: map[string]any{"modules": []map[string]any{mod("a.js", js, "1")}}, wantStatus: 400, wantCode: 10021},
		{name: "main module not in modules", body: map[string]any{"main_module": "b.js", "modules": []map[string]any{mod("a.js", js, "1")}}, wantStatus: 400, wantCode: 10021},
		{name: "unknown content type", body: map[string]any{"main_module": "a.js", "modules": []map[string]any{mod("a.js", "application/json", "{}")}}, wantStatus: 400, wantCode: 10021},
		{name: "text main module", body: map[string]any{"main_module": "a.txt", "modules": []map[string]any{mod("a.txt", "text/plain", "hi")}}, wantStatus: 400, wantCode: 10021},
		{name: "every content type", body: map[string]any{"main_module": "a.mjs", "modules": []map[string]any{
			mod("a.mjs", "application/javascript+module", "1"), mod("b.mjs", "text/javascript+module", "2"),
			mod("c.cjs", "application/javascript", "3"), mod("d.js", "text/javascript", "4"),
			mod("e.py", "text/x-python", "5"), mod("requirements.txt", "text/x-python-requirement", "6"),
			mod("f.wasm", "application/wasm", "7"), mod("g.txt", "text/plain", "8"),
			mod("h.bin", "application/octet-stream", "9"), mod("a.mjs.map", "application/source-map", "10"),
		}}, wantStatus: 200},
		{name: "bad compatibility date", body: func() any { b := versionBody(); b["compatibility_date"] = "2026-13-01"; return b }(), wantStatus: 400, wantCode: 10021},
		{name: "tag of 100 bytes", body: func() any {
			b := versionBody()
			b["annotations"] = map[string]any{"workers/tag": strings.Repeat("t", 100)}
			return b
		}(), wantStatus: 200},
		{name: "tag of 101 bytes", body: func() any {
			b := versionBody()
			b["annotations"] = map[string]any{"workers/tag": strings.Repeat("t", 101)}
			return b
		}(), wantStatus: 400, wantCode: 100102},
		{name: "tag not a string", body: func() any { b := versionBody(); b["annotations"] = map[string]any{"workers/tag": 5}; return b }(), wantStatus: 400, wantCode: 10021},
		{name: "unknown fields tolerated", body: func() any {
			b := versionBody()
			b["future"] = []int{1}
			b["annotations"] = map[string]any{"workers/alias": "x", "workers/triggered_by": "me"}
			return b
		}(), wantStatus: 200},
		{name: "deploy not a bool", body: versionBody(), wantStatus: 400, wantCode: 10004},
		{name: "unknown binding type", body: withBindings(map[string]any{"type": "telepathy", "name": "T"}), wantStatus: 400, wantCode: 100153},
		{name: "binding without type", body: withBindings(map[string]any{"name": "T"}), wantStatus: 400, wantCode: 10021},
		{name: "binding not an object", body: `{"main_module":"a.js","modules":[{"name":"a.js","content_type":"text/javascript","content_base64":""}],"bindings":[1]}`, wantStatus: 400, wantCode: 10021},
		{name: "binding without name", body: withBindings(map[string]any{"type": "ai"}), wantStatus: 400, wantCode: 10052},
		{name: "duplicate binding name", body: withBindings(map[string]any{"type": "ai", "name": "AI"}, map[string]any{"type": "browser", "name": "AI"}), wantStatus: 400, wantCode: 10053},
		{name: "binding name not an identifier", body: withBindings(map[string]any{"type": "ai", "name": "my-ai"}), wantStatus: 400, wantCode: 10021},
		{name: "binding name starting with digit", body: withBindings(map[string]any{"type": "ai", "name": "1AI"}), wantStatus: 400, wantCode: 10021},
		{name: "plain_text without text", body: withBindings(map[string]any{"type": "plain_text", "name": "P"}), wantStatus: 400, wantCode: 10021},
		{name: "plain_text empty text", body: withBindings(map[string]any{"type": "plain_text", "name": "P", "text": ""}), wantStatus: 200},
		{name: "plain_text too large", body: withBindings(map[string]any{"type": "plain_text", "name": "P", "text": strings.Repeat("x", 5121)}), wantStatus: 400, wantCode: 10054},
		{name: "129 text bindings", body: withBindings(many(129)...), wantStatus: 400, wantCode: 10055},
		{name: "128 text bindings", body: withBindings(many(128)...), wantStatus: 200},
		{name: "kv without namespace", body: withBindings(map[string]any{"type": "kv_namespace", "name": "KV"}), wantStatus: 400, wantCode: 10021},
		{name: "kv empty namespace", body: withBindings(map[string]any{"type": "kv_namespace", "name": "KV", "namespace_id": ""}), wantStatus: 400, wantCode: 10021},
		{name: "r2 bad jurisdiction", body: withBindings(map[string]any{"type": "r2_bucket", "name": "R2", "bucket_name": "b", "jurisdiction": "mars"}), wantStatus: 400, wantCode: 10021},
		{name: "d1 by deprecated id", body: withBindings(map[string]any{"type": "d1", "name": "DB", "id": "x"}), wantStatus: 200},
		{name: "d1 without id", body: withBindings(map[string]any{"type": "d1", "name": "DB"}), wantStatus: 400, wantCode: 10021},
		{name: "ratelimit without simple", body: withBindings(map[string]any{"type": "ratelimit", "name": "RL", "namespace_id": "1001"}), wantStatus: 400, wantCode: 10021},
		{name: "ratelimit fractional period", body: withBindings(map[string]any{"type": "ratelimit", "name": "RL", "namespace_id": "1001", "simple": map[string]any{"limit": 10, "period": 1.5}}), wantStatus: 400, wantCode: 10021},
		{name: "secret_key jwk without key", body: withBindings(map[string]any{"type": "secret_key", "name": "K", "algorithm": map[string]any{"name": "HMAC"}, "format": "jwk", "usages": []string{"sign"}}), wantStatus: 400, wantCode: 10021},
		{name: "secret_key bad usage", body: withBindings(map[string]any{"type": "secret_key", "name": "K", "algorithm": map[string]any{"name": "HMAC"}, "format": "raw", "usages": []string{"fly"}, "key_base64": "AA=="}), wantStatus: 400, wantCode: 10021},
		{name: "vpc_network with both ids", body: withBindings(map[string]any{"type": "vpc_network", "name": "N", "network_id": "cf1:network", "tunnel_id": "t"}), wantStatus: 400, wantCode: 10021},
		{name: "assets binding without assets", body: withBindings(map[string]any{"type": "assets", "name": "ASSETS"}), wantStatus: 400, wantCode: 10305},
		{name: "assets binding with assets", body: func() any {
			b := withBindings(map[string]any{"type": "assets", "name": "ASSETS"})
			b["assets"] = map[string]any{"jwt": e.completionToken(t, "w"), "config": map[string]any{"html_handling": "auto-trailing-slash"}}
			return b
		}(), wantStatus: 200},
		{name: "assets only", body: `{"assets":{"jwt":"` + e.completionToken(t, "w") + `"}}`, wantStatus: 200},
		{name: "inherit without previous version", body: withBindings(map[string]any{"type": "inherit", "name": "SECRET"}), wantStatus: 400, wantCode: 10021},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := acctPath + "/workers/workers/w/versions"
			if tc.name == "deploy not a bool" {
				path += "?deploy=maybe"
			}
			r := e.do(http.MethodPost, path, tc.body)
			if tc.wantStatus == 200 {
				r.ok(t, nil)
				return
			}
			r.failed(t, tc.wantStatus, tc.wantCode)
		})
	}
	t.Run("unknown worker", func(t *testing.T) {
		t.Parallel()
		e.do(http.MethodPost, acctPath+"/workers/workers/ghost/versions", versionBody()).failed(t, 404, 10007)
	})
}

// TestCreateVersion_allBindingTypes sends one valid binding of each of the 35 types.
func TestCreateVersion_allBindingTypes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	bindings := []map[string]any{
		{"type": "plain_text", "text": "v"},
		{"type": "secret_text", "text": "s"},
		{"type": "json", "json": map[string]any{"a": []int{1}}},
		{"type": "kv_namespace", "namespace_id": "ns"},
		{"type": "r2_bucket", "bucket_name": "b", "jurisdiction": "eu"},
		{"type": "d1", "database_id": "db"},
		{"type": "service", "service": "other", "entrypoint": "Ep"},
		{"type": "durable_object_namespace", "class_name": "Room"},
		{"type": "queue", "queue_name": "q"},
		{"type": "ai"},
		{"type": "assets"},
		{"type": "version_metadata"},
		{"type": "analytics_engine", "dataset": "d"},
		{"type": "browser"},
		{"type": "hyperdrive", "id": "h"},
		{"type": "images"},
		{"type": "media"},
		{"type": "mtls_certificate", "certificate_id": "c"},
		{"type": "pipelines", "pipeline": "p"},
		{"type": "ratelimit", "namespace_id": "1001", "simple": map[string]any{"limit": 100, "period": 60}},
		{"type": "secrets_store_secret", "store_id": "st", "secret_name": "sn"},
		{"type": "secret_key", "algorithm": map[string]any{"name": "HMAC", "hash": "SHA-256"}, "format": "raw", "usages": []string{"sign", "verify"}, "key_base64": "c2VjcmV0a2V5"},
		{"type": "send_email", "allowed_destination_addresses": []string{"a@example.com"}},
		{"type": "vectorize", "index_name": "i"},
		{"type": "workflow", "workflow_name": "wf"},
		{"type": "dispatch_namespace", "namespace": "dn", "outbound": map[string]any{"worker": map[string]any{"service": "o"}}},
		{"type": "flagship", "app_id": "app"},
		{"type": "ai_search", "instance_name": "in"},
		{"type": "ai_search_namespace", "namespace": "ns"},
		{"type": "vpc_service", "service_id": "svc"},
		{"type": "vpc_network", "network_id": "cf1:network"},
		{"type": "wasm_module", "part": "f.wasm"},
		{"type": "text_blob", "part": "g.txt"},
		{"type": "data_blob", "part": "h.bin"},
	}
	for i, b := range bindings {
		b["name"] = fmt.Sprintf("B%d", i)
	}
	// The 35th type, inherit, needs a previous version: it is tested in TestInheritBindings.
	require.Len(t, bindings, len(bindingSpecs)-1)
	body := versionBody(bindings...)
	body["assets"] = map[string]any{"jwt": e.completionToken(t, "w")}
	v := e.createVersion("w", body)
	require.Len(t, v.Bindings, len(bindings))
	for i, b := range v.Bindings {
		assert.Equal(t, bindings[i]["type"], b["type"])
	}
	assert.NotContains(t, v.Bindings[1], "text", "secret_text value is not echoed")
	assert.NotContains(t, v.Bindings[21], "key_base64", "secret_key material is not echoed")
	assert.Equal(t, "v", v.Bindings[0]["text"])
	assert.Equal(t, map[string]any{"limit": 100.0, "period": 60.0}, v.Bindings[19]["simple"])
}

func TestCreateVersion_result(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("plain", nil)
	e.createWorker("previews", map[string]any{"subdomain": map[string]any{"previews_enabled": true}})

	body := versionBody(map[string]any{"type": "plain_text", "name": "GREETING", "text": "hi"})
	body["compatibility_flags"] = []string{"nodejs_compat"}
	body["limits"] = map[string]any{"cpu_ms": 50}
	body["placement"] = map[string]any{"mode": "smart"}
	// 999 ASCII bytes, then "é" (2 bytes): cutting at 1000 bytes would split it.
	body["annotations"] = map[string]any{"workers/message": strings.Repeat("m", 999) + "é and more", "workers/tag": "sha-1"}

	r := e.do(http.MethodPost, acctPath+"/workers/workers/plain/versions", body)
	var v1 testVersion
	r.ok(t, &v1)
	assert.Regexp(t, uuidRe, v1.ID)
	assert.Equal(t, byte('4'), v1.ID[14], "UUID version 4")
	assert.Equal(t, 1, v1.Number)
	assert.Equal(t, []string{}, v1.URLs, "previews disabled: no URL")
	assert.Equal(t, "api", v1.Source)
	assert.Equal(t, "index.js", v1.MainModule)
	assert.Equal(t, "2026-04-01", v1.CompatibilityDate)
	assert.Equal(t, []string{"nodejs_compat"}, v1.CompatibilityFlags)
	assert.Nil(t, v1.Modules, "modules are only returned by Get with include=modules")
	assert.Equal(t, map[string]string{
		"workers/message":      strings.Repeat("m", 999),
		"workers/tag":          "sha-1",
		"workers/triggered_by": "upload",
	}, v1.Annotations)
	assert.Contains(t, r.raw, `"limits":{"cpu_ms":50}`)
	assert.Contains(t, r.raw, `"placement":{"mode":"smart"}`)
	_, err := time.Parse(time.RFC3339, v1.CreatedOn)
	require.NoError(t, err)

	v2 := e.createVersion("plain", versionBody())
	assert.Equal(t, 2, v2.Number)
	v3 := e.createVersion("previews", versionBody())
	assert.Equal(t, 1, v3.Number, "numbers count per Worker")
	assert.Equal(t, []string{"https://" + v3.ID[:8] + "-previews.emulator.workers.dev"}, v3.URLs)

	assert.Empty(t, e.srv.Deployments("plain"), "creating a version never deploys")
	states := e.srv.Versions("plain")
	require.Len(t, states, 2)
	assert.Equal(t, []ModuleState{{Name: "index.js", ContentType: "application/javascript+module", Content: []byte("export default {}")}}, states[0].Modules)
	assert.Equal(t, "hi", states[0].Bindings[0]["text"])
}

func TestCreateVersion_previewURLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    Options
		want    string
		wantAny bool
	}{
		{name: "default subdomain", opts: Options{}, want: "emulator", wantAny: true},
		{name: "custom subdomain", opts: Options{Subdomain: "team"}, want: "team", wantAny: true},
		{name: "no subdomain", opts: Options{NoSubdomain: true}, wantAny: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tc.opts)
			e.createWorker("site", map[string]any{"subdomain": map[string]any{"previews_enabled": true}})
			v := e.createVersion("site", versionBody())
			if !tc.wantAny {
				assert.Equal(t, []string{}, v.URLs)
				return
			}
			assert.Equal(t, []string{fmt.Sprintf("https://%s-site.%s.workers.dev", v.ID[:8], tc.want)}, v.URLs)
		})
	}
}

func TestCreateVersion_deploy(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	var v testVersion
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions?deploy=true", versionBody()).ok(t, &v)
	ds := e.srv.Deployments("w")
	require.Len(t, ds, 1)
	assert.Equal(t, []DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, ds[0].Versions)
	assert.Equal(t, "percentage", ds[0].Strategy)
	ws := e.srv.Workers()
	require.Len(t, ws, 1)
	assert.Equal(t, ds[0].CreatedOn, ws[0].DeployedOn)

	var w testWorker
	e.do(http.MethodGet, acctPath+"/workers/workers/w", nil).ok(t, &w)
	require.NotNil(t, w.DeployedOn)
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions?deploy=false", versionBody()).ok(t, nil)
	assert.Len(t, e.srv.Deployments("w"), 1)
}

func TestListVersions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	e.createWorker("empty", nil)
	var ids []string
	for range 25 {
		ids = append(ids, e.createVersion("w", versionBody()).ID)
	}
	list := func(t *testing.T, worker, query string) ([]testVersion, resultInfo) {
		t.Helper()
		var vs []testVersion
		r := e.do(http.MethodGet, acctPath+"/workers/workers/"+worker+"/versions"+query, nil)
		r.ok(t, &vs)
		require.NotNil(t, r.env.ResultInfo)
		require.NotNil(t, vs)
		return vs, *r.env.ResultInfo
	}
	t.Run("default page is 20, newest first", func(t *testing.T) {
		t.Parallel()
		vs, info := list(t, "w", "")
		require.Len(t, vs, 20)
		assert.Equal(t, ids[24], vs[0].ID)
		assert.Equal(t, 25, vs[0].Number)
		assert.Equal(t, resultInfo{Page: 1, PerPage: 20, Count: 20, TotalCount: 25, TotalPages: 2}, info)
		for _, v := range vs {
			assert.Nil(t, v.Modules)
		}
	})
	t.Run("last page then empty", func(t *testing.T) {
		t.Parallel()
		vs, info := list(t, "w", "?page=2")
		require.Len(t, vs, 5)
		assert.Equal(t, ids[0], vs[4].ID)
		assert.Equal(t, 5, info.Count)
		vs, info = list(t, "w", "?page=3")
		assert.Empty(t, vs)
		assert.Equal(t, resultInfo{Page: 3, PerPage: 20, Count: 0, TotalCount: 25, TotalPages: 2}, info)
	})
	t.Run("no versions", func(t *testing.T) {
		t.Parallel()
		vs, info := list(t, "empty", "")
		assert.Empty(t, vs)
		assert.Equal(t, resultInfo{Page: 1, PerPage: 20, Count: 0, TotalCount: 0, TotalPages: 0}, info)
	})
	t.Run("unknown worker", func(t *testing.T) {
		t.Parallel()
		e.do(http.MethodGet, acctPath+"/workers/workers/ghost/versions", nil).failed(t, 404, 10007)
	})
}

func TestGetVersion(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	w := e.createWorker("w", nil)
	body := versionBody()
	body["modules"] = []map[string]any{
		mod("index.js", "application/javascript+module", "import './lib.js'"),
		mod("lib.js", "application/javascript+module", "export const x = 1"),
	}
	v1 := e.createVersion("w", body)
	v2 := e.createVersion("w", versionBody())
	get := func(ref, query string) response {
		return e.do(http.MethodGet, acctPath+"/workers/workers/"+w.ID+"/versions/"+ref+query, nil)
	}
	cases := []struct {
		name   string
		ref    string
		wantID string
		code   int
	}{
		{name: "full id", ref: v1.ID, wantID: v1.ID},
		{name: "upper-case id", ref: strings.ToUpper(v1.ID), wantID: v1.ID},
		{name: "8-character prefix", ref: v1.ID[:8], wantID: v1.ID},
		{name: "longer prefix", ref: v1.ID[:13], wantID: v1.ID},
		{name: "latest", ref: "latest", wantID: v2.ID},
		{name: "7-character prefix", ref: v1.ID[:7], code: 10071},
		{name: "unknown uuid", ref: "00000000-0000-4000-8000-000000000000", code: 10071},
		{name: "unknown prefix", ref: "zzzzzzzz", code: 10071},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := get(tc.ref, "")
			if tc.code != 0 {
				r.failed(t, 404, tc.code)
				return
			}
			var got testVersion
			r.ok(t, &got)
			assert.Equal(t, tc.wantID, got.ID)
			assert.Nil(t, got.Modules)
		})
	}
	t.Run("include modules", func(t *testing.T) {
		t.Parallel()
		var got testVersion
		get(v1.ID, "?include=modules").ok(t, &got)
		assert.Equal(t, []map[string]string{
			{"name": "index.js", "content_type": "application/javascript+module", "content_base64": b64("import './lib.js'")},
			{"name": "lib.js", "content_type": "application/javascript+module", "content_base64": b64("export const x = 1")},
		}, got.Modules)
	})
	t.Run("unknown worker", func(t *testing.T) {
		t.Parallel()
		e.do(http.MethodGet, acctPath+"/workers/workers/ghost/versions/latest", nil).failed(t, 404, 10007)
	})
}

func TestResolveVersion_ambiguousPrefix(t *testing.T) {
	t.Parallel()
	w := &worker{versions: []*version{
		{id: "abcdef01-0000-4000-8000-000000000001"},
		{id: "abcdef01-0000-4000-8000-000000000002"},
	}}
	_, rep := resolveVersion(w, "abcdef01")
	require.NotNil(t, rep)
	assert.Equal(t, http.StatusBadRequest, rep.status)
	assert.Equal(t, 10021, rep.env.Errors[0].Code)
	v, rep := resolveVersion(w, "abcdef01-0000-4000-8000-0000000000")
	require.NotNil(t, rep, "still ambiguous")
	assert.Nil(t, v)
	v, rep = resolveVersion(w, "abcdef01-0000-4000-8000-000000000002")
	require.Nil(t, rep)
	assert.Equal(t, w.versions[1], v)
}

func TestDeleteVersion(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	v1 := e.createVersion("w", versionBody())
	v2 := e.createVersion("w", versionBody())
	v3 := e.createVersion("w", versionBody())
	e.deploy("w", DeploymentVersion{VersionID: v2.ID, Percentage: 100})
	del := func(ref string) response {
		return e.do(http.MethodDelete, acctPath+"/workers/workers/w/versions/"+ref, nil)
	}
	del(v3.ID).failed(t, 400, 10339)
	del("latest").failed(t, 400, 10339)
	del(v2.ID).failed(t, 400, 10339)
	r := del(v1.ID[:8])
	r.ok(t, nil)
	assert.Equal(t, "null", string(r.env.Result))
	del(v1.ID).failed(t, 404, 10071)
	e.do(http.MethodGet, acctPath+"/workers/workers/w/versions/"+v1.ID, nil).failed(t, 404, 10071)
	states := e.srv.Versions("w")
	require.Len(t, states, 2)
	assert.Equal(t, []int{2, 3}, []int{states[0].Number, states[1].Number})
	// Numbers are never reused.
	assert.Equal(t, 4, e.createVersion("w", versionBody()).Number)
}

func TestInheritBindings(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	secret := func(name, text string) map[string]any {
		return map[string]any{"type": "secret_text", "name": name, "text": text}
	}
	inherit := func(name string, kv ...string) map[string]any {
		b := map[string]any{"type": "inherit", "name": name}
		for i := 0; i+1 < len(kv); i += 2 {
			b[kv[i]] = kv[i+1]
		}
		return b
	}
	// Never deployed: inherit falls back to the newest version.
	v1 := e.createVersion("w", versionBody(secret("API_KEY", "key-1"), secret("OLD", "old-1")))
	v2 := e.createVersion("w", versionBody(inherit("API_KEY"), secret("OLD", "old-2")))
	e.deploy("w", DeploymentVersion{VersionID: v1.ID, Percentage: 100})
	// Deployed: inherit copies from the live version v1, not the newer v2.
	v3 := e.createVersion("w", versionBody(inherit("OLD"), inherit("RENAMED", "old_name", "API_KEY")))
	v4 := e.createVersion("w", versionBody(inherit("OLD", "version_id", v2.ID[:8])))
	v5 := e.createVersion("w", versionBody(inherit("OLD", "version_id", "latest")))
	// Split deployment: inherit copies from its newest version.
	e.deploy("w", DeploymentVersion{VersionID: v1.ID, Percentage: 90}, DeploymentVersion{VersionID: v4.ID, Percentage: 10})
	v6 := e.createVersion("w", versionBody(inherit("OLD")))

	values := func(v testVersion) map[string]any {
		for _, s := range e.srv.Versions("w") {
			if s.ID == v.ID {
				out := map[string]any{}
				for _, b := range s.Bindings {
					out[b["name"].(string)] = b["text"]
					assert.Equal(t, "secret_text", b["type"], "inherit is resolved to the source binding's type")
				}
				return out
			}
		}
		t.Fatalf("version %s not stored", v.ID)
		return nil
	}
	assert.Equal(t, map[string]any{"API_KEY": "key-1", "OLD": "old-2"}, values(v2))
	assert.Equal(t, map[string]any{"OLD": "old-1", "RENAMED": "key-1"}, values(v3))
	assert.Equal(t, map[string]any{"OLD": "old-2"}, values(v4))
	assert.Equal(t, map[string]any{"OLD": "old-2"}, values(v5), "latest is the newest version, v4, not the live v1")
	assert.Equal(t, map[string]any{"OLD": "old-2"}, values(v6))
	for _, b := range v3.Bindings {
		assert.NotContains(t, b, "text")
	}

	t.Run("unresolvable", func(t *testing.T) {
		t.Parallel()
		for _, b := range []map[string]any{
			inherit("MISSING"),
			inherit("OLD", "version_id", "00000000-0000-4000-8000-000000000000"),
			inherit("OLD", "old_name", "NOPE"),
		} {
			e.do(http.MethodPost, acctPath+"/workers/workers/w/versions", versionBody(b)).failed(t, 400, 10021)
		}
	})
}

func TestSecretsNeverEchoed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	const secretValue = "s3cr3t-value-that-must-not-leak"
	const keyMaterial = "a2V5LW1hdGVyaWFsLW11c3Qtbm90LWxlYWs="
	e.createWorker("w", map[string]any{"subdomain": map[string]any{"previews_enabled": true}})
	body := versionBody(
		map[string]any{"type": "secret_text", "name": "TOKEN", "text": secretValue},
		map[string]any{"type": "secret_key", "name": "KEY", "algorithm": map[string]any{"name": "HMAC"}, "format": "raw", "usages": []string{"sign"}, "key_base64": keyMaterial},
	)
	v1 := e.createVersion("w", body)
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions?deploy=true", versionBody(
		map[string]any{"type": "inherit", "name": "TOKEN"},
		map[string]any{"type": "inherit", "name": "KEY2", "old_name": "KEY", "version_id": v1.ID},
	)).ok(t, nil)
	e.do(http.MethodGet, acctPath+"/workers/workers/w/versions", nil).ok(t, nil)
	e.do(http.MethodGet, acctPath+"/workers/workers/w/versions/"+v1.ID+"?include=modules", nil).ok(t, nil)
	e.do(http.MethodGet, acctPath+"/workers/workers/w/versions/latest?include=modules", nil).ok(t, nil)
	e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments", nil).ok(t, nil)
	// Error paths that talk about the secret binding.
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions", versionBody(
		map[string]any{"type": "secret_text", "name": "TOKEN", "text": secretValue},
		map[string]any{"type": "secret_text", "name": "TOKEN", "text": secretValue},
	)).failed(t, 400, 10053)
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions", versionBody(
		map[string]any{"type": "secret_text", "name": "TOKEN", "text": strings.Repeat(secretValue, 200)},
	)).failed(t, 400, 10054)
	e.do(http.MethodPost, acctPath+"/workers/workers/w/versions", versionBody(
		map[string]any{"type": "secret_text", "name": "bad-name", "text": secretValue},
	)).failed(t, 400, 10021)

	bodies := e.allBodies()
	require.Len(t, bodies, 10)
	for _, b := range bodies {
		assert.NotContains(t, b, secretValue)
		assert.NotContains(t, b, keyMaterial)
	}
	// The secrets are stored, for assertions.
	states := e.srv.Versions("w")
	require.Len(t, states, 2)
	assert.Equal(t, secretValue, states[1].Bindings[0]["text"])
	assert.Equal(t, keyMaterial, states[1].Bindings[1]["key_base64"])
	assert.Equal(t, "KEY2", states[1].Bindings[1]["name"])
}

func TestTruncateUTF8(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "exact", in: "abc", n: 3, want: "abc"},
		{name: "ascii cut", in: "abcdef", n: 3, want: "abc"},
		{name: "inside two-byte rune", in: "aé", n: 2, want: "a"},
		{name: "inside four-byte rune", in: "ab😀", n: 5, want: "ab"},
		{name: "after rune", in: "é😀", n: 2, want: "é"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, truncateUTF8(tc.in, tc.n))
		})
	}
}

func TestVersionsInspection_copies(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	e.createVersion("w", versionBody(map[string]any{"type": "json", "name": "CFG", "json": map[string]any{"a": "b"}}))
	got := e.srv.Versions("w")
	got[0].Bindings[0]["json"].(map[string]any)["a"] = "changed"
	got[0].Modules[0].Content[0] = 'X'
	again := e.srv.Versions("w")
	assert.Equal(t, "b", again[0].Bindings[0]["json"].(map[string]any)["a"])
	assert.Equal(t, "export default {}", string(again[0].Modules[0].Content))
	raw, err := json.Marshal(again[0].Bindings[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"json","name":"CFG","json":{"a":"b"}}`, string(raw))
	assert.Nil(t, e.srv.Versions("ghost"))
}

func TestCreateVersion_assetsTokenNotEchoed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("site", nil)
	body := versionBody(map[string]any{"type": "assets", "name": "ASSETS"})
	tok := e.completionToken(t, "site")
	body["assets"] = map[string]any{"jwt": tok, "config": map[string]any{"not_found_handling": "single-page-application"}}
	r := e.do(http.MethodPost, acctPath+"/workers/workers/site/versions", body)
	r.ok(t, nil)
	assert.Contains(t, r.raw, `"assets":{"config":{"not_found_handling":"single-page-application"}}`)
	assert.NotContains(t, r.raw, tok)
	body["assets"] = map[string]any{"jwt": "t", "config": "spa"}
	e.do(http.MethodPost, acctPath+"/workers/workers/site/versions", body).failed(t, 400, 10021)
}

// TestResolveByID: the one resolver of version and preview deployment IDs.
func TestResolveByID(t *testing.T) {
	t.Parallel()
	ids := []string{
		"aaaaaaaa-0000-4000-8000-000000000001",
		"aaaaaaaa-1111-4000-8000-000000000002",
		"bbbbbbbb-0000-4000-8000-000000000003",
	}
	notFound := func(ref string) *reply { return validationError("not found %s", ref) }
	cases := []struct {
		ref, want string
		fails     bool
	}{
		{ref: "latest", want: ids[2]},
		{ref: "LATEST", want: ids[2]},
		{ref: ids[1], want: ids[1]},
		{ref: strings.ToUpper(ids[0]), want: ids[0]},
		{ref: "bbbbbbbb", want: ids[2]},
		{ref: "aaaaaaaa-1", want: ids[1]},
		{ref: "aaaaaaaa", fails: true}, // ambiguous
		{ref: "bbbbbbb", fails: true},  // shorter than 8
		{ref: "cccccccc", fails: true},
		{ref: "cccccccc-0000-4000-8000-000000000009", fails: true},
	}
	for _, tc := range cases {
		got, rep := resolveByID(ids, func(s string) string { return s }, tc.ref, "Version", notFound)
		if tc.fails {
			assert.NotNil(t, rep, tc.ref)
			continue
		}
		assert.Nil(t, rep, tc.ref)
		assert.Equal(t, tc.want, got, tc.ref)
	}
	_, rep := resolveByID(nil, func(s string) string { return s }, "latest", "Version", notFound)
	assert.NotNil(t, rep, "latest of none")
}
