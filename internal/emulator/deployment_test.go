package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateDeployment_validation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	e.createWorker("other", nil)
	a := e.createVersion("w", versionBody()).ID
	b := e.createVersion("w", versionBody()).ID
	c := e.createVersion("w", versionBody()).ID
	foreign := e.createVersion("other", versionBody()).ID
	split := func(kv ...any) map[string]any {
		var vs []map[string]any
		for i := 0; i+1 < len(kv); i += 2 {
			vs = append(vs, map[string]any{"version_id": kv[i], "percentage": kv[i+1]})
		}
		return map[string]any{"strategy": "percentage", "versions": vs}
	}
	cases := []struct {
		name       string
		worker     string
		query      string
		body       any
		wantStatus int
		wantCode   int
	}{
		{name: "one version", body: split(a, 100), wantStatus: 200},
		{name: "two versions", body: split(a, 90, b, 10), wantStatus: 200},
		{name: "fractional within tolerance", body: split(a, 33.3333, b, 66.6667), wantStatus: 200},
		{name: "sum off by 0.0005", body: split(a, 50.0005, b, 50), wantStatus: 200},
		{name: "upper-case version id", body: split(strings.ToUpper(a), 100), wantStatus: 200},
		{name: "force accepted", query: "?force=true", body: split(a, 100), wantStatus: 200},
		{name: "annotations", body: map[string]any{"strategy": "percentage", "versions": []map[string]any{{"version_id": a, "percentage": 100}}, "annotations": map[string]any{"workers/message": "hello"}}, wantStatus: 200},
		{name: "force not a bool", query: "?force=perhaps", body: split(a, 100), wantStatus: 400, wantCode: 10004},
		{name: "malformed JSON", body: `{"strategy":`, wantStatus: 400, wantCode: 10026},
		{name: "percentage as string", body: `{"strategy":"percentage","versions":[{"version_id":"` + a + `","percentage":"100"}]}`, wantStatus: 400, wantCode: 10026},
		{name: "no strategy", body: map[string]any{"versions": []map[string]any{{"version_id": a, "percentage": 100}}}, wantStatus: 400, wantCode: 10210},
		{name: "other strategy", body: map[string]any{"strategy": "immediate", "versions": []map[string]any{{"version_id": a, "percentage": 100}}}, wantStatus: 400, wantCode: 10210},
		{name: "no versions", body: split(), wantStatus: 400, wantCode: 10210},
		{name: "three versions", body: split(a, 50, b, 25, c, 25), wantStatus: 400, wantCode: 10210},
		{name: "same version twice", body: split(a, 50, a, 50), wantStatus: 400, wantCode: 10210},
		{name: "missing version id", body: `{"strategy":"percentage","versions":[{"percentage":100}]}`, wantStatus: 400, wantCode: 10210},
		{name: "missing percentage", body: `{"strategy":"percentage","versions":[{"version_id":"` + a + `"}]}`, wantStatus: 400, wantCode: 10210},
		{name: "zero percent", body: split(a, 100, b, 0), wantStatus: 400, wantCode: 10210},
		{name: "negative percent", body: split(a, 110, b, -10), wantStatus: 400, wantCode: 10210},
		{name: "above 100", body: split(a, 100.5), wantStatus: 400, wantCode: 10210},
		{name: "sum below 100", body: split(a, 60, b, 39.9), wantStatus: 400, wantCode: 10210},
		{name: "sum off by 0.002", body: split(a, 50.002, b, 50), wantStatus: 400, wantCode: 10210},
		{name: "unknown version", body: split("00000000-0000-4000-8000-000000000000", 100), wantStatus: 404, wantCode: 10071},
		{name: "version of another worker", body: split(a, 50, foreign, 50), wantStatus: 404, wantCode: 10071},
		{name: "unknown worker", worker: "ghost", body: split(a, 100), wantStatus: 404, wantCode: 10007},
		{name: "worker id is not a script name", worker: "ID", body: split(a, 100), wantStatus: 404, wantCode: 10007},
	}
	workerID := e.srv.Workers()[0].ID
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			worker := tc.worker
			switch worker {
			case "":
				worker = "w"
			case "ID":
				worker = workerID
			}
			r := e.do(http.MethodPost, acctPath+"/workers/scripts/"+worker+"/deployments"+tc.query, tc.body)
			if tc.wantStatus == 200 {
				r.ok(t, nil)
				return
			}
			r.failed(t, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestDeployments_lifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("w", nil)
	v1 := e.createVersion("w", versionBody())
	v2 := e.createVersion("w", versionBody())

	var w testWorker
	e.do(http.MethodGet, acctPath+"/workers/workers/w", nil).ok(t, &w)
	assert.Nil(t, w.DeployedOn)
	var empty struct {
		Deployments []testDeployment `json:"deployments"`
	}
	e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments", nil).ok(t, &empty)
	assert.NotNil(t, empty.Deployments, "deployments is [] not null")
	assert.Empty(t, empty.Deployments)

	d1 := e.deploy("w", DeploymentVersion{VersionID: v1.ID, Percentage: 100})
	var d2 testDeployment
	e.do(http.MethodPost, acctPath+"/workers/scripts/w/deployments", map[string]any{
		"strategy":    "percentage",
		"versions":    []DeploymentVersion{{VersionID: v2.ID, Percentage: 10}, {VersionID: v1.ID, Percentage: 90}},
		"annotations": map[string]any{"workers/message": strings.Repeat("ü", 600), "workers/triggered_by": "ignored"},
	}).ok(t, &d2)

	assert.Regexp(t, uuidRe, d2.ID)
	assert.Equal(t, "api", d2.Source)
	assert.Equal(t, "percentage", d2.Strategy)
	assert.Equal(t, AuthorEmail, d2.AuthorEmail)
	assert.Equal(t, []DeploymentVersion{{VersionID: v2.ID, Percentage: 10}, {VersionID: v1.ID, Percentage: 90}}, d2.Versions)
	assert.Equal(t, "deployment", d2.Annotations["workers/triggered_by"])
	assert.Equal(t, strings.Repeat("ü", 500), d2.Annotations["workers/message"], "message cut to 1000 bytes")

	e.do(http.MethodGet, acctPath+"/workers/workers/w", nil).ok(t, &w)
	require.NotNil(t, w.DeployedOn)
	assert.Equal(t, d2.CreatedOn, *w.DeployedOn)

	var list struct {
		Deployments []testDeployment `json:"deployments"`
	}
	r := e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments", nil)
	r.ok(t, &list)
	assert.Nil(t, r.env.ResultInfo, "the deployments list is not paginated")
	require.Len(t, list.Deployments, 2)
	assert.Equal(t, []string{d2.ID, d1.ID}, []string{list.Deployments[0].ID, list.Deployments[1].ID}, "newest first")

	var got testDeployment
	e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments/"+d1.ID, nil).ok(t, &got)
	assert.Equal(t, d1, got)
	e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments/00000000-0000-4000-8000-000000000000", nil).failed(t, 404, 10336)
	e.do(http.MethodGet, acctPath+"/workers/scripts/ghost/deployments/"+d1.ID, nil).failed(t, 404, 10007)

	e.do(http.MethodDelete, acctPath+"/workers/scripts/w/deployments/"+d2.ID, nil).failed(t, 404, 10338)
	del := e.do(http.MethodDelete, acctPath+"/workers/scripts/w/deployments/"+d1.ID, nil)
	del.ok(t, nil)
	assert.Equal(t, "null", string(del.env.Result))
	e.do(http.MethodDelete, acctPath+"/workers/scripts/w/deployments/"+d1.ID, nil).failed(t, 404, 10336)
	e.do(http.MethodGet, acctPath+"/workers/scripts/w/deployments/"+d1.ID, nil).failed(t, 404, 10336)

	states := e.srv.Deployments("w")
	require.Len(t, states, 1)
	assert.Equal(t, d2.ID, states[0].ID)
	assert.Nil(t, e.srv.Deployments("ghost"))
}

func TestSubdomains(t *testing.T) {
	t.Parallel()
	t.Run("account subdomain", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			opts Options
			want string
		}{
			{name: "default", opts: Options{}, want: "emulator"},
			{name: "custom", opts: Options{Subdomain: "acme"}, want: "acme"},
			{name: "none", opts: Options{NoSubdomain: true}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				e := newTestEnv(t, tc.opts)
				r := e.do(http.MethodGet, acctPath+"/workers/subdomain", nil)
				if tc.want == "" {
					r.failed(t, 404, 10007)
					return
				}
				var got map[string]string
				r.ok(t, &got)
				assert.Equal(t, map[string]string{"subdomain": tc.want}, got)
			})
		}
	})

	t.Run("worker subdomain", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t, Options{})
		e.createWorker("w", nil)
		path := acctPath + "/workers/scripts/w/subdomain"
		var got SubdomainSettings
		e.do(http.MethodGet, path, nil).ok(t, &got)
		assert.Equal(t, SubdomainSettings{}, got)

		e.do(http.MethodPost, path, `{"enabled":true,"previews_enabled":true}`).ok(t, &got)
		assert.Equal(t, SubdomainSettings{Enabled: true, PreviewsEnabled: true}, got)
		v := e.createVersion("w", versionBody())
		assert.Len(t, v.URLs, 1, "previews now enabled")

		e.do(http.MethodPost, path, `{"enabled":false}`).ok(t, &got)
		assert.Equal(t, SubdomainSettings{PreviewsEnabled: true}, got, "omitted previews_enabled stays")
		e.do(http.MethodPost, path, `{"previews_enabled":false}`).failed(t, 400, 10021)
		e.do(http.MethodPost, path, `{"enabled":`).failed(t, 400, 10026)

		var w testWorker
		e.do(http.MethodGet, acctPath+"/workers/workers/w", nil).ok(t, &w)
		assert.Equal(t, SubdomainSettings{PreviewsEnabled: true}, w.Subdomain)

		e.do(http.MethodDelete, path, nil).ok(t, &got)
		assert.Equal(t, SubdomainSettings{}, got)
		var after testVersion
		e.do(http.MethodGet, acctPath+"/workers/workers/w/versions/"+v.ID, nil).ok(t, &after)
		assert.Equal(t, []string{}, after.URLs, "preview URLs follow the current settings")

		e.do(http.MethodGet, acctPath+"/workers/scripts/ghost/subdomain", nil).failed(t, 404, 10007)
		e.do(http.MethodPost, acctPath+"/workers/scripts/ghost/subdomain", `{"enabled":true}`).failed(t, 404, 10007)
		e.do(http.MethodDelete, acctPath+"/workers/scripts/ghost/subdomain", nil).failed(t, 404, 10007)
	})
}
