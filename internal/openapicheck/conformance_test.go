package openapicheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/openapicheck"
)

const (
	account = "0123456789abcdef0123456789abcdef"
	token   = "conformance-token"
)

// newChecked starts the emulator and returns a real client whose traffic is validated.
func newChecked(t *testing.T) (*cloudflare.Client, *openapicheck.Transport, string) {
	t.Helper()
	checker, err := openapicheck.Default()
	require.NoError(t, err)
	emu, err := emulator.New(emulator.Options{Token: token, AccountID: account})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	tr := &openapicheck.Transport{Checker: checker, Base: srv.Client().Transport}
	c, err := cloudflare.New(srv.URL+emulator.BasePath, token, account,
		cloudflare.WithHTTPClient(&http.Client{Transport: tr}), cloudflare.WithMaxAttempts(1))
	require.NoError(t, err)
	return c, tr, srv.URL + emulator.BasePath
}

func module(name, content string) cloudflare.ModuleUpload {
	return cloudflare.ModuleUpload{Name: name, ContentType: "application/javascript+module",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
}

// actionBindings are bindings of every kind the action sends, as it sends them.
func actionBindings() []json.RawMessage {
	var out []json.RawMessage
	for _, b := range []string{
		`{"type":"plain_text","name":"GREETING","text":"hello"}`,
		`{"type":"secret_text","name":"API_KEY","text":"s3cret"}`,
		`{"type":"json","name":"CONFIG","json":{"a":1}}`,
		`{"type":"json","name":"LIST","json":[1,2,3]}`,
		`{"type":"json","name":"NUMBER","json":42}`,
		`{"type":"kv_namespace","name":"KV","namespace_id":"0123456789abcdef0123456789abcdef"}`,
		`{"type":"r2_bucket","name":"BUCKET","bucket_name":"my-bucket","jurisdiction":"eu"}`,
		`{"type":"d1","name":"DB","database_id":"6f1a0c2e-0a6e-4b43-9f6c-3c2f3b2f9e1a"}`,
		`{"type":"service","name":"AUTH","service":"auth-worker","entrypoint":"Auth"}`,
		`{"type":"assets","name":"ASSETS"}`,
	} {
		out = append(out, json.RawMessage(b))
	}
	return out
}

// TestClientAndEmulatorConformToSchema runs every call the action makes with the real client
// against the emulator and validates each request and response against the published schema.
func TestClientAndEmulatorConformToSchema(t *testing.T) {
	c, tr, baseURL := newChecked(t)
	ctx := context.Background()

	sub, err := c.AccountSubdomain(ctx)
	require.NoError(t, err)
	require.Equal(t, emulator.DefaultSubdomain, sub)

	_, err = c.GetWorker(ctx, "conformance")
	require.True(t, cloudflare.IsNotFound(err), "%v", err)

	in := cloudflare.WorkerInput{Name: "conformance", Subdomain: &cloudflare.SubdomainSettings{Enabled: true, PreviewsEnabled: true}}
	w, err := c.CreateWorker(ctx, in)
	require.NoError(t, err)
	// A second create meets 409 and reads the Worker.
	_, err = c.CreateWorker(ctx, in)
	require.NoError(t, err)

	session, err := c.CreateAssetUploadSession(ctx, w.Name, map[string]cloudflare.AssetManifestEntry{
		"/index.html": {Hash: "0123456789abcdef0123456789abcdef", Size: 5},
	})
	require.NoError(t, err)
	jwt := session.JWT
	for _, bucket := range session.Buckets {
		var files []cloudflare.AssetFile
		for _, h := range bucket {
			files = append(files, cloudflare.AssetFile{Hash: h, ContentType: "text/html",
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("hello"))), nil }})
		}
		done, err := c.UploadAssets(ctx, session.JWT, files)
		require.NoError(t, err)
		if done != "" {
			jwt = done
		}
	}

	v, err := c.CreateVersion(ctx, w.ID, cloudflare.VersionInput{
		MainModule:         "index.js",
		Modules:            []cloudflare.ModuleUpload{module("index.js", "export default {}"), module("lib.js", "export const x = 1")},
		CompatibilityDate:  "2026-09-01",
		CompatibilityFlags: []string{"nodejs_compat"},
		Bindings:           actionBindings(),
		Annotations:        map[string]string{cloudflare.AnnotationTag: "sha-1", cloudflare.AnnotationMessage: "first"},
		Assets:             json.RawMessage(`{"jwt":"` + jwt + `","config":{"html_handling":"auto-trailing-slash","not_found_handling":"single-page-application","run_worker_first":false}}`),
	})
	require.NoError(t, err)

	_, err = c.ListVersions(ctx, w.ID, 1, 10)
	require.NoError(t, err)
	found, err := c.FindVersionByTag(ctx, w.ID, "sha-1")
	require.NoError(t, err)
	require.Equal(t, v.ID, found.ID)
	_, err = c.GetVersion(ctx, w.ID, v.ID, true)
	require.NoError(t, err)
	_, err = c.GetVersion(ctx, w.ID, "00000000-0000-4000-8000-000000000000", false)
	require.True(t, cloudflare.IsNotFound(err), "%v", err)

	_, err = c.ListDeployments(ctx, w.Name)
	require.NoError(t, err)
	_, err = c.CreateDeployment(ctx, w.Name, []cloudflare.DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, "deploy", false)
	require.NoError(t, err)
	_, err = c.ListDeployments(ctx, w.Name)
	require.NoError(t, err)

	// Previews: the calls the previews mode makes.
	p, err := c.CreatePreview(ctx, w.Name, cloudflare.PreviewInput{Name: "pr-7"})
	require.NoError(t, err)
	require.Equal(t, "pr-7", p.Slug)
	require.NotEmpty(t, p.URLs)
	_, err = c.CreatePreview(ctx, w.Name, cloudflare.PreviewInput{Name: "pr-7"}) // 409, then read
	require.NoError(t, err)
	branch, err := c.CreatePreview(ctx, w.ID, cloudflare.PreviewInput{Name: "feature/x", Tags: []string{"branch"}, TailConsumers: []string{"tail"}, Observability: json.RawMessage(`{"enabled":true,"head_sampling_rate":0.5}`)})
	require.NoError(t, err)
	got, err := c.GetPreview(ctx, w.Name, "feature/x") // by URL-encoded name
	require.NoError(t, err)
	require.Equal(t, branch.ID, got.ID)
	_, err = c.GetPreview(ctx, w.Name, "missing")
	require.True(t, cloudflare.IsNotFound(err), "%v", err)
	pd, err := c.CreatePreviewDeployment(ctx, w.Name, p.Slug, cloudflare.PreviewDeploymentInput{
		MainModule:         "index.js",
		Modules:            []cloudflare.ModuleUpload{module("index.js", "export default {}")},
		CompatibilityDate:  "2026-09-01",
		CompatibilityFlags: []string{"nodejs_compat"},
		Bindings:           actionBindings()[:9], // no assets binding: this deployment has no assets
		Annotations: map[string]string{
			cloudflare.AnnotationTag: "sha-1", cloudflare.AnnotationMessage: "first",
			cloudflare.AnnotationCommitSHA: strings.Repeat("a", 40), cloudflare.AnnotationPullRequestNumber: "7",
			cloudflare.AnnotationPullRequestTitle: "Add things", cloudflare.AnnotationPullRequestURL: "https://github.com/o/r/pull/7",
			cloudflare.AnnotationRepositoryURL: "https://github.com/o/r",
		},
		Limits: json.RawMessage(`{"cpu_ms":50}`),
	})
	require.NoError(t, err)
	require.NotEmpty(t, pd.URLs)
	foundPD, err := c.FindPreviewDeploymentByTag(ctx, w.Name, p.ID, "sha-1")
	require.NoError(t, err)
	require.Equal(t, pd.ID, foundPD.ID)

	// Emulator endpoints the action does not call, checked with plain requests.
	raw := &http.Client{Transport: tr}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/previews?per_page=1&page=2&order_by=name&order=asc", ""},
		{"GET", "/previews?slug=pr", ""},
		{"GET", "/previews/pr-7/deployments?per_page=5", ""},
		{"GET", "/previews/pr-7/deployments/latest?include=modules", ""},
		{"GET", "/previews/pr-7/deployments/" + pd.ID[:8], ""},
		{"PATCH", "/previews/pr-7/deployments/latest", `{"compatibility_flags":[]}`},
		{"PATCH", "/previews/feature-x", `{"name":"feature/x","tags":["branch"],"logpush":false,"observability":{"enabled":false},"tail_consumers":[]}`},
		{"PUT", "/previews/feature-x", `{"name":"feature/x","tags":[],"logpush":false,"observability":{"enabled":false},"tail_consumers":[]}`},
		{"DELETE", "/previews/pr-7/deployments/" + pd.ID, ""},
		{"GET", "/previews/pr-7/deployments/" + pd.ID, ""}, // 404 envelope
	} {
		req, err := http.NewRequest(r.method, baseURL+"/accounts/"+account+"/workers/workers/"+w.Name+r.path, strings.NewReader(r.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		if r.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := raw.Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
	}

	deleted, err := c.DeletePreview(ctx, w.Name, "pr-7")
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = c.DeletePreview(ctx, w.Name, "pr-7")
	require.NoError(t, err)
	require.False(t, deleted)

	assertConforms(t, tr, []string{
		"GET /accounts/{account_id}/workers/workers/{worker_id}/previews",
		"POST /accounts/{account_id}/workers/workers/{worker_id}/previews",
		"GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}",
		"PATCH /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}",
		"PUT /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}",
		"DELETE /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}",
		"GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments",
		"POST /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments",
		"PATCH /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/latest",
		"GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/{deployment_id}",
		"DELETE /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/{deployment_id}",
		"GET /accounts/{account_id}/workers/subdomain",
		"GET /accounts/{account_id}/workers/workers/{worker_id}",
		"POST /accounts/{account_id}/workers/workers",
		"POST /accounts/{account_id}/workers/scripts/{script_name}/assets-upload-session",
		"POST /accounts/{account_id}/workers/assets/upload",
		"POST /accounts/{account_id}/workers/workers/{worker_id}/versions",
		"GET /accounts/{account_id}/workers/workers/{worker_id}/versions",
		"GET /accounts/{account_id}/workers/workers/{worker_id}/versions/{version_id}",
		"GET /accounts/{account_id}/workers/scripts/{script_name}/deployments",
		"POST /accounts/{account_id}/workers/scripts/{script_name}/deployments",
	})
}

// assertConforms fails on any validation error and on an expected operation never exercised.
func assertConforms(t *testing.T, tr *openapicheck.Transport, want []string) {
	t.Helper()
	for _, e := range tr.Errors() {
		t.Error(e)
	}
	var seen []string
	for _, e := range tr.Exchanges() {
		seen = append(seen, e.Operation)
	}
	for _, op := range want {
		if !slices.Contains(seen, op) {
			t.Errorf("operation %s was not exercised (seen: %v)", op, seen)
		}
	}
}
