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
func newChecked(t *testing.T) (*cloudflare.Client, *openapicheck.Transport) {
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
	return c, tr
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
	c, tr := newChecked(t)
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

	assertConforms(t, tr, []string{
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
