package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// fakeAPI records calls behind a mutex; it keeps versions in memory.
type fakeAPI struct {
	mu          sync.Mutex
	calls       []string
	workers     map[string]*cloudflare.Worker // by name
	versions    []*cloudflare.Version
	deployments []cloudflare.Deployment
	getErr      error
	// lastInput is the last CreateVersion body; assetHashes the stored assets.
	lastInput   cloudflare.VersionInput
	assetHashes map[string]bool
	// migrationTag is the Workers' migration tag by name; d1, kv and r2 the
	// account's resources (name or title → ID; r2: jurisdiction/name).
	migrationTag map[string]string
	d1, kv       map[string]string
	r2           map[string]bool
	// listsWithoutBindings makes the tag lookup's listing leave out every
	// version's `bindings` key, as a listing that does not carry them would.
	listsWithoutBindings bool
}

var _ API = (*fakeAPI)(nil)

func (f *fakeAPI) record(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

func (f *fakeAPI) GetWorker(_ context.Context, idOrName string) (*cloudflare.Worker, error) {
	f.record("GetWorker " + idOrName)
	if f.getErr != nil {
		return nil, f.getErr
	}
	for _, w := range f.workers {
		if w.Name == idOrName || w.ID == idOrName {
			return w, nil
		}
	}
	return nil, &cloudflare.APIError{Method: "GET", Path: "/w", Status: 404, Errors: []cloudflare.ErrorDetail{{Code: 10007, Message: "not found"}}}
}

func (f *fakeAPI) CreateWorker(_ context.Context, in cloudflare.WorkerInput) (*cloudflare.Worker, error) {
	f.record("CreateWorker " + in.Name)
	w := &cloudflare.Worker{ID: fmt.Sprintf("%032x", len(f.workers)+1), Name: in.Name}
	if f.workers == nil {
		f.workers = map[string]*cloudflare.Worker{}
	}
	f.workers[in.Name] = w
	return w, nil
}

func (f *fakeAPI) FindVersionsByTag(_ context.Context, _, tag string) (*cloudflare.TagLookup, error) {
	f.record("FindVersionByTag " + tag)
	l := &cloudflare.TagLookup{}
	for _, v := range f.versions {
		seen := *v
		seen.Modules = nil
		if f.listsWithoutBindings {
			seen.Bindings = nil
		}
		l.Seen = append(l.Seen, seen)
		l.Highest = max(l.Highest, v.Number)
		if v.Annotations["workers/tag"] == tag {
			c := *v
			c.Modules = nil
			l.Versions = append(l.Versions, c)
		}
	}
	return l, nil
}

func (f *fakeAPI) GetVersion(_ context.Context, _, id string, include bool) (*cloudflare.Version, error) {
	f.record(fmt.Sprintf("GetVersion %s %v", id, include))
	for _, v := range f.versions {
		if v.ID == id {
			return v, nil
		}
	}
	return nil, errors.New("no such version")
}

func (f *fakeAPI) ListVersions(_ context.Context, _ string, page, perPage int) ([]cloudflare.Version, error) {
	f.record(fmt.Sprintf("ListVersions %d", page))
	var out []cloudflare.Version
	for i := len(f.versions) - 1; i >= 0; i-- { // newest first
		c := *f.versions[i]
		c.Modules = nil
		out = append(out, c)
	}
	start := min((page-1)*perPage, len(out))
	return out[start:min(start+perPage, len(out))], nil
}

func (f *fakeAPI) CreateVersion(_ context.Context, _ string, in cloudflare.VersionInput) (*cloudflare.Version, error) {
	f.record("CreateVersion")
	v := &cloudflare.Version{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(f.versions)+1), Number: len(f.versions) + 1,
		Annotations: in.Annotations, MainModule: in.MainModule, CompatibilityDate: in.CompatibilityDate, CompatibilityFlags: in.CompatibilityFlags,
		Bindings: storedBindings(in.Bindings)}
	f.lastInput = in
	for _, m := range in.Modules {
		rc, err := m.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		v.Modules = append(v.Modules, cloudflare.ModuleContent{Name: m.Name, ContentType: m.ContentType, Content: b})
	}
	f.versions = append(f.versions, v)
	return v, nil
}

func (f *fakeAPI) CreateAssetUploadSession(_ context.Context, name string, m map[string]cloudflare.AssetManifestEntry) (*cloudflare.AssetUploadSession, error) {
	f.record("CreateAssetUploadSession " + name)
	var missing []string
	for _, e := range m {
		if !f.assetHashes[e.Hash] {
			missing = append(missing, e.Hash)
		}
	}
	if len(missing) == 0 {
		return &cloudflare.AssetUploadSession{JWT: "completion"}, nil
	}
	return &cloudflare.AssetUploadSession{JWT: "upload", Buckets: [][]string{missing}}, nil
}

func (f *fakeAPI) UploadAssets(_ context.Context, jwt string, files []cloudflare.AssetFile) (string, error) {
	f.record(fmt.Sprintf("UploadAssets %s %d", jwt, len(files)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.assetHashes == nil {
		f.assetHashes = map[string]bool{}
	}
	for _, a := range files {
		f.assetHashes[a.Hash] = true
	}
	return "completion", nil
}

func (f *fakeAPI) ListDeployments(context.Context, string) ([]cloudflare.Deployment, error) {
	f.record("ListDeployments")
	return f.deployments, nil
}

func (f *fakeAPI) CreateDeployment(_ context.Context, _ string, vs []cloudflare.DeploymentVersion, _ string, _ bool) (*cloudflare.Deployment, error) {
	f.record("CreateDeployment")
	d := cloudflare.Deployment{ID: fmt.Sprintf("d%d", len(f.deployments)+1), Versions: vs}
	f.deployments = append([]cloudflare.Deployment{d}, f.deployments...)
	return &d, nil
}

type nopLog struct{}

func (nopLog) Infof(string, ...any)    {}
func (nopLog) Noticef(string, ...any)  {}
func (nopLog) Warningf(string, ...any) {}
func (nopLog) Debugf(string, ...any)   {}
func (nopLog) Group(string)            {}
func (nopLog) EndGroup()               {}

func fixture(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/workers/esm-multi")
	require.NoError(t, err)
	return dir
}

func config(t *testing.T, mod func(*inputs.Config)) *inputs.Config {
	c := &inputs.Config{APIToken: "t", AccountID: "a", Worker: "shop", CreateWorker: true, WorkingDirectory: fixture(t),
		ConfigFile: "none", Modules: "dist/**", CompatibilityDate: "2025-09-01", Tag: "v1"}
	if mod != nil {
		mod(c)
	}
	return c
}

func deps(api API) Deps {
	return Deps{API: api, Log: nopLog{}, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
}

func TestRunCreatesThenReuses(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	res, err := Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.True(t, res.WorkerCreated)
	assert.False(t, res.VersionReused)
	assert.Equal(t, []string{"GetWorker shop", "CreateWorker shop", "FindVersionByTag v1", "CreateVersion"}, api.calls)

	api.calls = nil
	res, err = Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.True(t, res.VersionReused)
	assert.Equal(t, api.versions[0].ID, res.VersionID)
	assert.NotContains(t, api.calls, "CreateVersion")
}

func TestRunTagConflict(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	_, err := Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
	require.NoError(t, err)

	cases := []struct {
		name   string
		mutate func(v *cloudflare.Version)
		want   string
	}{
		{"module bytes", func(v *cloudflare.Version) { v.Modules[0].Content = []byte("other") }, "modules differ"},
		{"compat date", func(v *cloudflare.Version) { v.CompatibilityDate = "2024-01-01" }, "compatibility date is 2024-01-01"},
		{"compat flags", func(v *cloudflare.Version) { v.CompatibilityFlags = []string{"nodejs_compat"} }, "compatibility flags"},
		{"main module", func(v *cloudflare.Version) { v.MainModule = "legacy.cjs" }, "modules differ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orig := *api.versions[0]
			orig.Modules = append([]cloudflare.ModuleContent(nil), orig.Modules...)
			tc.mutate(&orig)
			local := &fakeAPI{workers: api.workers, versions: []*cloudflare.Version{&orig}}
			_, err := Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(local))
			require.ErrorIs(t, err, ErrTagConflict)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, local.calls, "CreateVersion")
		})
	}
}

func TestRunDeploy(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	res, err := Run(context.Background(), config(t, func(c *inputs.Config) { c.Deploy = true }), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, "d1", res.DeploymentID)
	assert.Equal(t, float64(100), res.DeployedPercentage)

	// Rerun: the version already serves 100%, so no second deployment.
	api.calls = nil
	res, err = Run(context.Background(), config(t, func(c *inputs.Config) { c.Deploy = true }), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.NotContains(t, api.calls, "CreateDeployment")
	assert.Equal(t, "", res.DeploymentID)
	assert.Equal(t, float64(100), res.DeployedPercentage)
	assert.Len(t, api.deployments, 1)
}

func TestRunWorkerResolution(t *testing.T) {
	t.Parallel()
	id := "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name    string
		mod     func(*inputs.Config)
		api     *fakeAPI
		wantErr string
	}{
		{"missing id is not created", func(c *inputs.Config) { c.Worker = id }, &fakeAPI{}, "no Worker has ID " + id},
		{"create-worker false", func(c *inputs.Config) { c.CreateWorker = false }, &fakeAPI{}, "`create-worker` is false"},
		{"lookup error", nil, &fakeAPI{getErr: &cloudflare.APIError{Method: "GET", Path: "/w", Status: 500}}, `failed to look up Worker "shop"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(context.Background(), config(t, tc.mod), &ghevent.Context{}, deps(tc.api))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.NotContains(t, tc.api.calls, "CreateWorker "+id)
			assert.NotContains(t, tc.api.calls, "CreateVersion")
		})
	}
}

func TestRunDryRun(t *testing.T) {
	t.Parallel()
	// Without credentials: no API at all.
	res, err := Run(context.Background(), config(t, func(c *inputs.Config) { c.DryRun = true }), &ghevent.Context{}, Deps{Log: nopLog{}})
	require.NoError(t, err)
	assert.True(t, res.DryRun)
	assert.Len(t, res.Modules, 5, "the source map is left out without upload-source-maps")

	// With credentials: reads only.
	api := &fakeAPI{}
	_, err = Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	api.calls = nil
	res, err = Run(context.Background(), config(t, func(c *inputs.Config) { c.DryRun = true; c.Deploy = true }), &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.True(t, res.VersionReused)
	for _, c := range api.calls {
		assert.NotRegexp(t, "^Create", c)
	}
}

func TestRunSkipsClosedPR(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	ev := &ghevent.Context{EventName: "pull_request", Payload: ghevent.Payload{Action: "closed", PR: &ghevent.PullRequest{Number: 7}}}
	res, err := Run(context.Background(), config(t, nil), ev, deps(api))
	require.NoError(t, err)
	assert.Contains(t, res.Skipped, "#7 was closed")
	assert.Empty(t, api.calls)
}

// noticeLog records notices.
type noticeLog struct {
	nopLog
	mu      sync.Mutex
	notices []string
}

func (l *noticeLog) Noticef(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notices = append(l.notices, fmt.Sprintf(format, args...))
}

func TestRunDryRunReportsLikeARealRun(t *testing.T) {
	t.Parallel()
	t.Run("tag conflict says what to do", func(t *testing.T) {
		t.Parallel()
		api := &fakeAPI{}
		_, err := Run(context.Background(), config(t, nil), &ghevent.Context{}, deps(api))
		require.NoError(t, err)
		api.versions[0].CompatibilityDate = "2024-01-01"
		api.calls = nil
		_, err = Run(context.Background(), config(t, func(c *inputs.Config) { c.DryRun = true }), &ghevent.Context{}, deps(api))
		require.ErrorIs(t, err, ErrTagConflict)
		assert.Contains(t, err.Error(), "compatibility date is 2024-01-01")
		assert.Contains(t, err.Error(), "set the `tag` input to a new value")
		for _, c := range api.calls {
			assert.NotRegexp(t, "^Create", c)
		}
	})
	t.Run("missing Worker ID is not created", func(t *testing.T) {
		t.Parallel()
		id := "0123456789abcdef0123456789abcdef"
		log := &noticeLog{}
		d := deps(&fakeAPI{})
		d.Log = log
		_, err := Run(context.Background(), config(t, func(c *inputs.Config) { c.DryRun, c.Worker = true, id }), &ghevent.Context{}, d)
		require.NoError(t, err)
		assert.Contains(t, log.notices, fmt.Sprintf("dry run: Worker %q does not exist; a real run would fail: no Worker has this ID (a Worker is created only by name)", id))
	})
}
