package cloudflare

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

const emuAccount = "0123456789abcdef0123456789abcdef"

// emuClient is a client of a fresh emulator with the given faults.
func emuClient(t *testing.T, faults ...emulator.Fault) (*Client, *emulator.Server) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Faults: faults})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := New(ts.URL+emulator.BasePath, testToken, emuAccount,
		WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	require.NoError(t, err)
	return c, srv
}

// posts counts the POSTs to a path suffix the emulator received.
func posts(srv *emulator.Server, suffix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestResourcesFindAndCreate(t *testing.T) {
	t.Parallel()
	c, _ := emuClient(t)
	ctx := t.Context()

	db, err := c.FindD1Database(ctx, "shop")
	require.NoError(t, err)
	assert.Nil(t, db)
	created, err := c.CreateD1Database(ctx, "shop")
	require.NoError(t, err)
	_, err = c.CreateD1Database(ctx, "shop-archive") // a name that contains "shop"
	require.NoError(t, err)
	db, err = c.FindD1Database(ctx, "shop")
	require.NoError(t, err)
	require.NotNil(t, db)
	assert.Equal(t, created.UUID, db.UUID, "the exact name, not a substring match")

	ns, err := c.FindKVNamespace(ctx, "shop-cache")
	require.NoError(t, err)
	assert.Nil(t, ns)
	kv, err := c.CreateKVNamespace(ctx, "shop-cache")
	require.NoError(t, err)
	ns, err = c.FindKVNamespace(ctx, "shop-cache")
	require.NoError(t, err)
	assert.Equal(t, kv.ID, ns.ID)

	ok, err := c.R2BucketExists(ctx, "files", "eu")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, c.CreateR2Bucket(ctx, "files", "eu"))
	ok, err = c.R2BucketExists(ctx, "files", "eu")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c.R2BucketExists(ctx, "files", "")
	require.NoError(t, err)
	assert.False(t, ok, "a bucket lives in its jurisdiction")
	require.NoError(t, c.CreateR2Bucket(ctx, "files", "eu"), "an existing bucket counts as created")
}

// TestResourceCreateUnknownOutcome: a create whose response is lost is looked
// up by name before anything is re-sent, so nothing is created twice.
func TestResourceCreateUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path   string
		create func(c *Client) error
		suffix string
	}{
		{"/accounts/*/d1/database", func(c *Client) error { _, err := c.CreateD1Database(t.Context(), "db"); return err }, "/d1/database"},
		{"/accounts/*/storage/kv/namespaces", func(c *Client) error { _, err := c.CreateKVNamespace(t.Context(), "kv"); return err }, "/kv/namespaces"},
		{"/accounts/*/r2/buckets", func(c *Client) error { return c.CreateR2Bucket(t.Context(), "bucket", "") }, "/r2/buckets"},
	} {
		t.Run(tc.suffix, func(t *testing.T) {
			t.Parallel()
			c, srv := emuClient(t, emulator.Fault{Method: "POST", Path: tc.path, Times: 1, Kind: emulator.FaultLostResponse})
			require.NoError(t, tc.create(c))
			assert.Equal(t, 1, posts(srv, tc.suffix), "created once, found by name after the lost response")
		})
	}
}

func TestScriptMigrationTag(t *testing.T) {
	t.Parallel()
	c, _ := emuClient(t)
	ctx := t.Context()
	tag, err := c.ScriptMigrationTag(ctx, "chat")
	require.NoError(t, err)
	assert.Empty(t, tag, "no Worker, no tag")

	w, err := c.CreateWorker(ctx, WorkerInput{Name: "chat"})
	require.NoError(t, err)
	v, err := c.CreateVersion(ctx, w.ID, VersionInput{
		MainModule: "index.js", CompatibilityDate: "2025-09-01",
		Modules:    []ModuleUpload{{Name: "index.js", ContentType: "application/javascript+module", Open: openString("export class Chat {}\nexport default {}")}},
		Migrations: []byte(`{"new_tag":"v1","steps":[{"new_sqlite_classes":["Chat"]}]}`),
		Placement:  []byte(`{"mode":"smart"}`), Limits: []byte(`{"cpu_ms":50}`), CacheOptions: []byte(`{"enabled":true}`),
	})
	require.NoError(t, err)
	tag, err = c.ScriptMigrationTag(ctx, "chat")
	require.NoError(t, err)
	assert.Empty(t, tag, "migrations apply when the version is deployed")

	_, err = c.CreateDeployment(ctx, "chat", []DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, "", false)
	require.NoError(t, err)
	tag, err = c.ScriptMigrationTag(ctx, "chat")
	require.NoError(t, err)
	assert.Equal(t, "v1", tag)

	got, err := c.GetVersion(ctx, w.ID, v.ID, false)
	require.NoError(t, err)
	assert.Equal(t, "v1", got.MigrationTag)
	assert.JSONEq(t, `{"mode":"smart"}`, string(got.Placement))
	assert.JSONEq(t, `{"cpu_ms":50}`, string(got.Limits))
	assert.JSONEq(t, `{"enabled":true}`, string(got.CacheOptions))

	// A stale old_tag is refused.
	_, err = c.CreateVersion(ctx, w.ID, VersionInput{
		MainModule: "index.js", CompatibilityDate: "2025-09-01",
		Modules:    []ModuleUpload{{Name: "index.js", ContentType: "application/javascript+module", Open: openString("export default {}")}},
		Migrations: []byte(`{"new_tag":"v2","steps":[{"deleted_classes":["Chat"]}]}`),
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "old_tag")
}

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}
