package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testPreview struct {
	ID         string   `json:"id"`
	Slug       string   `json:"slug"`
	Name       string   `json:"name"`
	Tags       []string `json:"tags"`
	URLs       []string `json:"urls"`
	DeployedOn *string  `json:"deployed_on"`
}

type testPreviewDeployment struct {
	testVersion
	Env         map[string]map[string]any `json:"env"`
	AuthorEmail string                    `json:"author_email"`
}

func previewsPath(worker string) string { return acctPath + "/workers/workers/" + worker + "/previews" }

func (e *testEnv) createPreview(worker, name string) testPreview {
	e.t.Helper()
	var p testPreview
	e.do(http.MethodPost, previewsPath(worker), map[string]any{"name": name}).ok(e.t, &p)
	return p
}

func TestPreviewCRUD(t *testing.T) {
	e := newTestEnv(t, Options{Token: testToken})
	w := e.createWorker("shop", map[string]any{"subdomain": map[string]any{"enabled": true, "previews_enabled": true}})

	p := e.createPreview("shop", "feature/My-Branch")
	assert.Regexp(t, `^[0-9a-f]{32}$`, p.ID)
	assert.Equal(t, "feature-my-branch", p.Slug)
	assert.Equal(t, []string{"https://feature-my-branch-shop.emulator.workers.dev"}, p.URLs)
	assert.Nil(t, p.DeployedOn)

	// By Worker ID or name; by Preview ID, slug or URL-encoded name.
	for _, ref := range []string{p.ID, p.Slug, url.PathEscape(p.Name)} {
		for _, wref := range []string{w.ID, "shop"} {
			var got testPreview
			e.do(http.MethodGet, previewsPath(wref)+"/"+ref, nil).ok(t, &got)
			assert.Equal(t, p.ID, got.ID, ref)
		}
	}
	e.do(http.MethodPost, previewsPath("shop"), map[string]any{"name": "feature/My-Branch"}).failed(t, http.StatusConflict, 10040)
	e.do(http.MethodPost, previewsPath("shop"), map[string]any{"name": "-bad"}).failed(t, http.StatusBadRequest, 10021)
	e.do(http.MethodPost, previewsPath("shop"), map[string]any{}).failed(t, http.StatusBadRequest, 10005)
	e.do(http.MethodPost, previewsPath("nope"), map[string]any{"name": "x"}).failed(t, http.StatusNotFound, 10007)
	e.do(http.MethodGet, previewsPath("shop")+"/missing", nil).failed(t, http.StatusNotFound, 10007)

	var edited testPreview
	e.do(http.MethodPatch, previewsPath("shop")+"/"+p.Slug, map[string]any{"tags": []string{"a"}}).ok(t, &edited)
	assert.Equal(t, []string{"a"}, edited.Tags)
	assert.Equal(t, p.Name, edited.Name)
	e.do(http.MethodPut, previewsPath("shop")+"/"+p.Slug, map[string]any{"name": "renamed"}).ok(t, &edited)
	assert.Equal(t, []string{}, edited.Tags, "PUT resets omitted fields")
	assert.Equal(t, p.Slug, edited.Slug, "the slug is immutable")

	e.do(http.MethodDelete, previewsPath("shop")+"/"+p.ID, nil).ok(t, nil)
	e.do(http.MethodDelete, previewsPath("shop")+"/"+p.ID, nil).failed(t, http.StatusNotFound, 10007)
	assert.Empty(t, e.srv.Previews("shop"))
}

func TestPreviewWorkerNameLimit(t *testing.T) {
	e := newTestEnv(t, Options{Token: testToken})
	long := strings.Repeat("a", 55)
	e.createWorker(long, nil)
	e.do(http.MethodPost, previewsPath(long), map[string]any{"name": "pr-1"}).failed(t, http.StatusBadRequest, 100315)
	e.createWorker(long[:54], nil)
	e.createPreview(long[:54], "pr-1")
}

func TestPreviewListPagingOrderFilter(t *testing.T) {
	e := newTestEnv(t, Options{Token: testToken})
	e.createWorker("shop", nil)
	for _, n := range []string{"pr-1", "pr-2", "main", "pr-3"} {
		e.createPreview("shop", n)
	}
	e.do(http.MethodPost, previewsPath("shop")+"/main/deployments", versionBody()).ok(t, nil)

	list := func(q string) ([]string, *resultInfo) {
		t.Helper()
		var ps []testPreview
		r := e.do(http.MethodGet, previewsPath("shop")+q, nil)
		r.ok(t, &ps)
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		return names, r.env.ResultInfo
	}
	names, info := list("")
	assert.Equal(t, "main", names[0], "default order: deployed_on desc, deployed first")
	assert.Equal(t, 4, info.TotalCount)
	assert.Equal(t, 10, info.PerPage)
	names, _ = list("?order_by=name&order=asc&per_page=2&page=2")
	assert.Equal(t, []string{"pr-2", "pr-3"}, names)
	names, _ = list("?name=pr&order_by=created_on&order=asc")
	assert.Equal(t, []string{"pr-1", "pr-2", "pr-3"}, names)
	names, _ = list("?slug=mai")
	assert.Equal(t, []string{"main"}, names)
	e.do(http.MethodGet, previewsPath("shop")+"?per_page=101", nil).failed(t, http.StatusBadRequest, 10004)
	e.do(http.MethodGet, previewsPath("shop")+"?order_by=size", nil).failed(t, http.StatusBadRequest, 10004)
}

func TestPreviewDeployments(t *testing.T) {
	e := newTestEnv(t, Options{Token: testToken})
	e.createWorker("shop", map[string]any{
		"subdomain":            map[string]any{"enabled": true, "previews_enabled": true},
		"previews_base_config": map[string]any{"env": map[string]any{"BASE": map[string]any{"type": "plain_text", "text": "from-base"}}},
	})
	p := e.createPreview("shop", "pr-1")
	dpath := previewsPath("shop") + "/pr-1/deployments"

	// No bindings and no env: the Preview starts from the Worker's previews_base_config.
	body := versionBody()
	delete(body, "bindings")
	var d1 testPreviewDeployment
	e.do(http.MethodPost, dpath, body).ok(t, &d1)
	assert.Equal(t, 1, d1.Number)
	assert.Equal(t, "from-base", d1.Env["BASE"]["text"])
	assert.Equal(t, []string{"https://" + d1.ID[:8] + "-pr-1-shop.emulator.workers.dev"}, d1.URLs)

	// env keyed by name; a secret's value is never returned; CI annotations are kept.
	body = versionBody()
	delete(body, "bindings")
	body["env"] = map[string]any{"GREETING": map[string]any{"type": "plain_text", "text": "hi"}, "KEY": map[string]any{"type": "secret_text", "text": "s3cret"}}
	body["annotations"] = map[string]any{"workers/tag": "sha-2", "workers/commit_sha": "abc", "workers/pull_request_number": "1", "other": "ignored"}
	var d2 testPreviewDeployment
	r := e.do(http.MethodPost, dpath, body)
	r.ok(t, &d2)
	assert.NotContains(t, r.raw, "s3cret")
	assert.Len(t, d2.Bindings, 2)
	assert.Equal(t, "hi", d2.Env["GREETING"]["text"])
	assert.Equal(t, map[string]string{"workers/tag": "sha-2", "workers/commit_sha": "abc", "workers/pull_request_number": "1", "workers/triggered_by": "create_preview_deployment_api"}, d2.Annotations)

	both := versionBody()
	both["env"] = map[string]any{}
	both["env"] = map[string]any{"A": map[string]any{"type": "plain_text", "text": "x"}}
	e.do(http.MethodPost, dpath, both).failed(t, http.StatusBadRequest, 10021)

	// PATCH latest merge-patches the latest deployment into a new one.
	var d3 testPreviewDeployment
	e.do(http.MethodPatch, dpath+"/latest", map[string]any{"compatibility_date": "2026-09-09", "annotations": map[string]any{"workers/tag": nil}}).ok(t, &d3)
	assert.Equal(t, 3, d3.Number)
	assert.Equal(t, "2026-09-09", d3.CompatibilityDate)
	assert.Equal(t, "hi", d3.Env["GREETING"]["text"])
	assert.NotContains(t, d3.Annotations, "workers/tag")
	states := e.srv.Previews("shop")
	require.Len(t, states, 1)
	require.Len(t, states[0].Deployments, 3)
	assert.Equal(t, "KEY", states[0].Deployments[2].Bindings[1]["name"])
	assert.Equal(t, "s3cret", states[0].Deployments[2].Bindings[1]["text"], "the patched deployment keeps the secret")

	var list []testPreviewDeployment
	r = e.do(http.MethodGet, dpath+"?per_page=2", nil)
	r.ok(t, &list)
	assert.Equal(t, []int{3, 2}, []int{list[0].Number, list[1].Number})
	assert.Equal(t, 3, r.env.ResultInfo.TotalCount)

	var got testPreviewDeployment
	e.do(http.MethodGet, dpath+"/"+d2.ID[:8]+"?include=modules", nil).ok(t, &got)
	assert.Equal(t, d2.ID, got.ID)
	assert.Len(t, got.Modules, 1)
	e.do(http.MethodGet, dpath+"/latest", nil).ok(t, &got)
	assert.Equal(t, d3.ID, got.ID)
	e.do(http.MethodDelete, dpath+"/"+d1.ID, nil).ok(t, nil)
	e.do(http.MethodGet, dpath+"/"+d1.ID, nil).failed(t, http.StatusNotFound, 10007)

	var after testPreview
	e.do(http.MethodGet, previewsPath("shop")+"/"+p.ID, nil).ok(t, &after)
	assert.NotNil(t, after.DeployedOn)
	// Nothing of this touched the Worker's versions or deployments.
	assert.Empty(t, e.srv.Versions("shop"))
	assert.Empty(t, e.srv.Deployments("shop"))
}

// TestPreviewDeploymentMigrations: a Preview keeps its own Durable Object migration tag;
// migrations apply on top of it with the same old_tag precondition as versions, a deployment
// without migrations keeps the tag, and a PATCH of latest does not apply them again.
func TestPreviewDeploymentMigrations(t *testing.T) {
	e := newTestEnv(t, Options{Token: testToken})
	e.createWorker("shop", nil)
	e.createPreview("shop", "pr-1")
	dpath := previewsPath("shop") + "/pr-1/deployments"
	withMigrations := func(m map[string]any) map[string]any {
		b := versionBody()
		b["migrations"] = m
		return b
	}
	type tagged struct {
		MigrationTag string `json:"migration_tag"`
	}
	var d tagged
	e.do(http.MethodPost, dpath, withMigrations(map[string]any{"new_tag": "v1", "steps": []any{map[string]any{"new_sqlite_classes": []string{"Counter"}}}})).ok(t, &d)
	assert.Equal(t, "v1", d.MigrationTag)
	e.do(http.MethodPost, dpath, versionBody()).ok(t, &d)
	assert.Equal(t, "v1", d.MigrationTag, "no migrations: the tag stays")
	e.do(http.MethodPost, dpath, withMigrations(map[string]any{"new_tag": "v2", "steps": []any{}})).failed(t, http.StatusBadRequest, 10079)
	e.do(http.MethodPost, dpath, withMigrations(map[string]any{"old_tag": "v1", "new_tag": "v2", "steps": []any{}})).ok(t, &d)
	assert.Equal(t, "v2", d.MigrationTag)
	e.do(http.MethodPatch, dpath+"/latest", map[string]any{"compatibility_date": "2026-09-09"}).ok(t, &d)
	assert.Equal(t, "v2", d.MigrationTag, "a patched copy does not migrate again")
	// Another Preview of the same Worker starts without a tag.
	e.createPreview("shop", "pr-2")
	e.do(http.MethodPost, previewsPath("shop")+"/pr-2/deployments", withMigrations(map[string]any{"new_tag": "v1", "steps": []any{}})).ok(t, &d)
	assert.Equal(t, "v1", d.MigrationTag)
}
