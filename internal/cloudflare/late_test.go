package cloudflare

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// newEmulatorClient returns a client with real sleeps talking to a fresh
// emulator, and the emulator.
func newEmulatorClient(t *testing.T, opts ...Option) (*Client, *emulator.Server, *recorder) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Token: testToken, AccountID: emuAccount})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	rec := &recorder{}
	all := append([]Option{WithHTTPClient(ts.Client()), WithRand(func() float64 { return 0 }), WithLogger(rec.logf)}, opts...)
	c, err := New(ts.URL+"/client/v4", testToken, emuAccount, all...)
	require.NoError(t, err)
	return c, srv, rec
}

func emuVersionInput(tag string) VersionInput {
	return VersionInput{
		MainModule: "index.js",
		Modules: []ModuleUpload{{Name: "index.js", ContentType: "application/javascript+module", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("export default {fetch(){return new Response('hi')}}")), nil
		}}},
		CompatibilityDate: "2025-01-01",
		Annotations:       map[string]string{AnnotationTag: tag},
	}
}

// A version upload that the API applies after the attempt timed out must not
// be sent again while it is still in flight: the settle window finds it.
func TestCreateVersionLateWriteIsFoundNotResent(t *testing.T) {
	t.Parallel()
	c, srv, rec := newEmulatorClient(t, WithAttemptTimeout(300*time.Millisecond), WithSettleWindow(3*time.Second))
	w, err := c.CreateWorker(t.Context(), WorkerInput{Name: "shop"})
	require.NoError(t, err)
	srv.InjectFault(emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/versions", Kind: emulator.FaultLate,
		Latency: 800 * time.Millisecond, Times: 1})
	v, err := c.CreateVersion(t.Context(), w.ID, emuVersionInput("sha1"))
	require.NoError(t, err)
	vs := srv.Versions("shop")
	require.Len(t, vs, 1, "one version for the tag, not a second one sent while the first was held:\n%s", strings.Join(rec.Logs(), "\n"))
	assert.Equal(t, vs[0].ID, v.ID)
	assert.Contains(t, strings.Join(rec.Logs(), "\n"), "timed out: looking for its effect")
}

// A 2xx answer without the fields the action needs is not a result: a write
// is resolved by reading (found, not re-sent), a read is tried again.
func TestEmptyAnswers(t *testing.T) {
	t.Parallel()
	const (
		workers     = "/accounts/*/workers/workers"
		worker      = workers + "/*"
		versions    = worker + "/versions"
		version     = versions + "/*"
		deployments = "/accounts/*/workers/scripts/*/deployments"
	)
	cases := []struct {
		name, method, path string
		// call runs the call under test on a Worker "shop" with one version
		// (tag "sha1") deployed at 100%; it returns the ID it got.
		call func(t *testing.T, c *Client, w *Worker, v *Version) string
		// want is the ID the call must return; writes are applied exactly once.
		want func(srv *emulator.Server) string
		// writes counts the state changes the call must leave.
		count func(srv *emulator.Server) int
	}{
		{name: "worker get", method: "GET", path: worker,
			call: func(t *testing.T, c *Client, w *Worker, _ *Version) string {
				got, err := c.GetWorker(t.Context(), "shop")
				require.NoError(t, err)
				assert.Equal(t, "shop", got.Name)
				return got.ID
			},
			want: func(srv *emulator.Server) string { return srv.Workers()[0].ID }},
		{name: "worker create", method: "POST", path: workers,
			call: func(t *testing.T, c *Client, _ *Worker, _ *Version) string {
				got, err := c.CreateWorker(t.Context(), WorkerInput{Name: "cart"})
				require.NoError(t, err)
				assert.Equal(t, "cart", got.Name)
				return got.ID
			},
			want: func(srv *emulator.Server) string {
				for _, w := range srv.Workers() {
					if w.Name == "cart" {
						return w.ID
					}
				}
				return ""
			},
			count: func(srv *emulator.Server) int { return len(srv.Workers()) - 1 }},
		{name: "version create", method: "POST", path: versions,
			call: func(t *testing.T, c *Client, w *Worker, _ *Version) string {
				got, err := c.CreateVersion(t.Context(), w.ID, emuVersionInput("sha2"))
				require.NoError(t, err)
				return got.ID
			},
			want:  func(srv *emulator.Server) string { return srv.Versions("shop")[1].ID },
			count: func(srv *emulator.Server) int { return len(srv.Versions("shop")) - 1 }},
		{name: "version get", method: "GET", path: version,
			call: func(t *testing.T, c *Client, w *Worker, v *Version) string {
				got, err := c.GetVersion(t.Context(), w.ID, v.ID, false)
				require.NoError(t, err)
				return got.ID
			},
			want: func(srv *emulator.Server) string { return srv.Versions("shop")[0].ID }},
		{name: "deployments list", method: "GET", path: deployments,
			call: func(t *testing.T, c *Client, _ *Worker, _ *Version) string {
				ds, err := c.ListDeployments(t.Context(), "shop")
				require.NoError(t, err)
				require.Len(t, ds, 1, "the list, not an empty one")
				return ds[0].ID
			},
			want: func(srv *emulator.Server) string { return srv.Deployments("shop")[0].ID }},
		{name: "deployment create", method: "POST", path: deployments,
			call: func(t *testing.T, c *Client, _ *Worker, v *Version) string {
				d, err := c.CreateDeployment(t.Context(), "shop", []DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, "again", false)
				require.NoError(t, err)
				require.Len(t, d.Versions, 1)
				return d.ID
			},
			want:  func(srv *emulator.Server) string { return srv.Deployments("shop")[1].ID },
			count: func(srv *emulator.Server) int { return len(srv.Deployments("shop")) - 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, srv, rec := newEmulatorClient(t)
			w, err := c.CreateWorker(t.Context(), WorkerInput{Name: "shop"})
			require.NoError(t, err)
			v, err := c.CreateVersion(t.Context(), w.ID, emuVersionInput("sha1"))
			require.NoError(t, err)
			_, err = c.CreateDeployment(t.Context(), "shop", []DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, "", false)
			require.NoError(t, err)
			srv.InjectFault(emulator.Fault{Method: tc.method, Path: tc.path, Kind: emulator.FaultEmpty, Times: 1})
			got := tc.call(t, c, w, v)
			assert.NotEmpty(t, got)
			assert.Equal(t, tc.want(srv), got, strings.Join(rec.Logs(), "\n"))
			if tc.count != nil {
				assert.Equal(t, 1, tc.count(srv), "applied once, not re-sent:\n%s", strings.Join(rec.Logs(), "\n"))
			}
		})
	}
}
