package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// storedBindings is what the API returns for sent bindings: secret values
// and inherit bindings resolved are not echoed (the fake keeps inherit as is).
func storedBindings(in []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(in))
	for _, raw := range in {
		var b map[string]any
		_ = json.Unmarshal(raw, &b)
		if b["type"] == "secret_text" {
			delete(b, "text")
		}
		if b["type"] == "inherit" {
			b = map[string]any{"name": b["name"], "type": "secret_text"}
		}
		r, _ := json.Marshal(b)
		out = append(out, r)
	}
	return out
}

// projectDir copies the esm-multi fixture and adds files.
func projectDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src := fixture(t)
	require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestRunBindingsFromConfigAndInputs(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, map[string]string{"wrangler.jsonc": `{
  "name": "shop", "compatibility_date": "2025-09-01",
  "vars": {"API_BASE": "https://api.example.com", "MODE": "config"},
  "kv_namespaces": [{"binding": "CACHE", "id": "kv1"}],
  "tags": ["t1"], "observability": {"enabled": true}, "workers_dev": false,
}`})
	vars, err := bindings.ParseVars("MODE=input")
	require.NoError(t, err)
	secret, err := bindings.Secret("TOKEN", "s3cr3t-value")
	require.NoError(t, err)
	api := &fakeAPI{}
	cfg := config(t, func(c *inputs.Config) {
		c.Worker, c.ConfigFile, c.WorkingDirectory, c.CompatibilityDate = "", "", dir, ""
		c.Project.Vars, c.Project.Secrets, c.Project.KeepSecrets = vars, []bindings.Binding{secret}, true
	})
	res, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	var got []map[string]any
	for _, raw := range api.lastInput.Bindings {
		var b map[string]any
		require.NoError(t, json.Unmarshal(raw, &b))
		got = append(got, b)
	}
	assert.Equal(t, []map[string]any{
		{"name": "API_BASE", "type": "plain_text", "text": "https://api.example.com"},
		{"name": "CACHE", "type": "kv_namespace", "namespace_id": "kv1"},
		{"name": "MODE", "type": "plain_text", "text": "input"},
		{"name": "TOKEN", "type": "secret_text", "text": "s3cr3t-value"},
	}, got)
	assert.Equal(t, []BindingInfo{{"API_BASE", "plain_text"}, {"CACHE", "kv_namespace"}, {"MODE", "plain_text"}, {"TOKEN", "secret_text"}}, res.Bindings)

	// A rerun with the same bindings reuses the version; a changed var is a conflict.
	api.calls = nil
	res, err = Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.True(t, res.VersionReused)
	vars2, _ := bindings.ParseVars("MODE=other")
	cfg.Project.Vars = vars2
	_, err = Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.ErrorIs(t, err, ErrTagConflict)
	assert.Contains(t, err.Error(), `binding "MODE" (plain_text) has another text`)
	assert.NotContains(t, err.Error(), "s3cr3t-value")
}

func TestRunWorkerSettingsOnCreationOnly(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, map[string]string{"wrangler.toml": "name = \"shop\"\ncompatibility_date = \"2025-09-01\"\nworkers_dev = false\nlogpush = true\ntags = [\"a\"]\n[observability]\nenabled = true\n"})
	api := &createRecorder{fakeAPI: &fakeAPI{}}
	cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
	_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	require.Len(t, api.created, 1)
	in := api.created[0]
	assert.Equal(t, &cloudflare.SubdomainSettings{Enabled: false, PreviewsEnabled: false}, in.Subdomain)
	assert.Equal(t, []string{"a"}, in.Tags)
	require.NotNil(t, in.Logpush)
	assert.True(t, *in.Logpush)
	assert.JSONEq(t, `{"enabled":true}`, string(in.Observability))
}

type createRecorder struct {
	*fakeAPI
	created []cloudflare.WorkerInput
}

func (c *createRecorder) CreateWorker(ctx context.Context, in cloudflare.WorkerInput) (*cloudflare.Worker, error) {
	c.created = append(c.created, in)
	return c.fakeAPI.CreateWorker(ctx, in)
}

func TestRunKeepSecrets(t *testing.T) {
	t.Parallel()
	secret, err := bindings.Secret("TOKEN", "v1")
	require.NoError(t, err)
	api := &fakeAPI{}
	first := config(t, func(c *inputs.Config) {
		c.Project.Secrets = []bindings.Binding{secret}
		c.Deploy = true
		c.Project.KeepSecrets = true
	})
	_, err = Run(context.Background(), first, &ghevent.Context{}, deps(api))
	require.NoError(t, err)

	cases := []struct {
		name string
		keep bool
		want []string
	}{
		{"kept", true, []string{`{"name":"TOKEN","type":"inherit","version_id":"` + api.versions[0].ID + `"}`}},
		{"dropped", false, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			local := &fakeAPI{workers: api.workers, versions: append([]*cloudflare.Version(nil), api.versions...), deployments: api.deployments}
			cfg := config(t, func(c *inputs.Config) { c.Tag = "v2-" + tc.name; c.Project.KeepSecrets = tc.keep })
			res, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(local))
			require.NoError(t, err)
			got := []string{}
			for _, b := range local.lastInput.Bindings {
				got = append(got, string(b))
			}
			assert.Equal(t, tc.want, got)
			if tc.keep {
				assert.Equal(t, []BindingInfo{{"TOKEN", "inherit"}}, res.Bindings)
			}
		})
	}
}

// TestRunKeepSecretsFromTheListing: the live version's secrets come from the
// tag lookup's listing when it carried the version's bindings (one request
// less per deploy), and from a read of the version when it did not.
func TestRunKeepSecretsFromTheListing(t *testing.T) {
	t.Parallel()
	secret, err := bindings.Secret("TOKEN", "v1")
	require.NoError(t, err)
	api := &fakeAPI{}
	first := config(t, func(c *inputs.Config) {
		c.Project.Secrets = []bindings.Binding{secret}
		c.Deploy = true
		c.Project.KeepSecrets = true
	})
	_, err = Run(context.Background(), first, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	liveID := api.versions[0].ID

	for _, withoutBindings := range []bool{false, true} {
		t.Run(fmt.Sprintf("listing without bindings=%v", withoutBindings), func(t *testing.T) {
			t.Parallel()
			local := &fakeAPI{workers: api.workers, versions: append([]*cloudflare.Version(nil), api.versions...),
				deployments: api.deployments, listsWithoutBindings: withoutBindings}
			cfg := config(t, func(c *inputs.Config) { c.Tag = "v2"; c.Project.KeepSecrets = true; c.Deploy = true })
			_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(local))
			require.NoError(t, err)
			require.Len(t, local.lastInput.Bindings, 1)
			assert.JSONEq(t, `{"name":"TOKEN","type":"inherit","version_id":"`+liveID+`"}`, string(local.lastInput.Bindings[0]))
			read := slices.Contains(local.calls, fmt.Sprintf("GetVersion %s false", liveID))
			assert.Equal(t, withoutBindings, read, "the live version is read only when the listing lacked its bindings: %v", local.calls)
		})
	}
}

func TestRunAssetsUploadedOnce(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, map[string]string{
		"wrangler.json":        `{"name":"site","compatibility_date":"2025-09-01","assets":{"directory":"public","binding":"ASSETS","not_found_handling":"404-page"}}`,
		"public/index.html":    "<h1>hi</h1>",
		"public/app.css":       "body{}",
		"public/.assetsignore": "*.map\n",
		"public/app.js.map":    "{}",
	})
	api := &fakeAPI{}
	cfg := config(t, func(c *inputs.Config) { c.Worker, c.ConfigFile, c.WorkingDirectory = "", "", dir })
	res, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, 2, res.AssetsUploaded)
	assert.Contains(t, api.calls, "UploadAssets upload 2")
	assert.JSONEq(t, `{"jwt":"completion","config":{"not_found_handling":"404-page"}}`, string(api.lastInput.Assets))
	assert.Contains(t, res.Bindings, BindingInfo{"ASSETS", "assets"})

	// Same assets under a new tag: the session has nothing to upload.
	api.calls = nil
	cfg.Tag = "v2"
	res, err = Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
	require.NoError(t, err)
	assert.Equal(t, 0, res.AssetsUploaded)
	for _, c := range api.calls {
		assert.False(t, strings.HasPrefix(c, "UploadAssets"), c)
	}
}

func TestRunBadProjectInputFailsBeforeWrites(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		mod   func(*inputs.Config)
		want  string
		// input is the *inputs.Error's Input: the input the user must change.
		input string
	}{
		{name: "broken config", files: map[string]string{"wrangler.jsonc": "{\n  \"name\": \"a\",,\n}"}, want: "line 2, column 15", input: "config"},
		{name: "config not jsonc, json or toml", files: map[string]string{"wrangler.yaml": "name: a\n"}, mod: func(c *inputs.Config) { c.ConfigFile = "wrangler.yaml" }, want: ".jsonc, .json or .toml", input: "config"},
		{name: "unknown env", files: map[string]string{"wrangler.json": `{"name":"a","env":{"x":{}}}`}, mod: func(c *inputs.Config) { c.WranglerEnv = "y" }, want: "wrangler.json: input `wrangler-env` is \"y\" but the configuration has no env.y; it defines: x", input: "wrangler-env"},
		{name: "env without config", mod: func(c *inputs.Config) { c.ConfigFile = "none"; c.WranglerEnv = "y" }, want: "needs a wrangler configuration", input: "wrangler-env"},
		{name: "input vs input", mod: func(c *inputs.Config) {
			v, _ := bindings.ParseVars("A=1")
			s, _ := bindings.Secret("A", "x")
			c.Project.Vars, c.Project.Secrets = v, []bindings.Binding{s}
		}, want: "given by both input `vars` and input `secrets`", input: "secrets"},
		{name: "bindings vs vars", mod: func(c *inputs.Config) {
			b, _ := bindings.ParseBindings(`[{"type":"plain_text","name":"A","text":"1"}]`)
			v, _ := bindings.ParseVars("A=1")
			c.Project.Bindings, c.Project.Vars = b, v
		}, want: "given by both input `bindings` and input `vars`", input: "vars"},
		{name: "assets binding without directory", files: map[string]string{"wrangler.json": `{"name":"a","assets":{"binding":"ASSETS"}}`}, want: "assets.directory", input: "config"},
		{name: "missing assets directory", mod: func(c *inputs.Config) { c.Project.AssetsDirectory = "nope" }, want: "assets directory", input: "assets-directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := projectDir(t, tc.files)
			api := &fakeAPI{}
			cfg := config(t, func(c *inputs.Config) {
				c.WorkingDirectory, c.ConfigFile = dir, ""
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			_, err := Run(context.Background(), cfg, &ghevent.Context{}, deps(api))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var inErr *inputs.Error
			require.ErrorAs(t, err, &inErr)
			assert.Equal(t, tc.input, inErr.Input)
			assert.Empty(t, api.calls)
		})
	}
}

func TestCompareBindings(t *testing.T) {
	t.Parallel()
	kv, _ := bindings.New("KV", "kv_namespace", map[string]any{"namespace_id": "1"})
	sec, _ := bindings.Secret("S", "value")
	cases := []struct {
		name   string
		stored []string
		want   []bindings.Binding
		keep   bool
		diff   string
	}{
		{name: "same, api adds keys", stored: []string{`{"name":"KV","type":"kv_namespace","namespace_id":"1","extra":true}`, `{"name":"S","type":"secret_text"}`}, want: []bindings.Binding{kv, sec}},
		{name: "other id", stored: []string{`{"name":"KV","type":"kv_namespace","namespace_id":"2"}`}, want: []bindings.Binding{kv}, diff: `"KV" (kv_namespace) has another namespace_id`},
		{name: "missing", stored: nil, want: []bindings.Binding{kv}, diff: `no binding "KV"`},
		{name: "other type", stored: []string{`{"name":"KV","type":"r2_bucket","bucket_name":"b"}`}, want: []bindings.Binding{kv}, diff: "of type r2_bucket"},
		{name: "extra carried secret with keep", stored: []string{`{"name":"OLD","type":"secret_text"}`}, keep: true},
		{name: "extra secret without keep", stored: []string{`{"name":"OLD","type":"secret_text"}`}, diff: `binding "OLD", which this run does not send`},
		{name: "extra var", stored: []string{`{"name":"V","type":"plain_text","text":"x"}`}, keep: true, diff: `binding "V"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stored []json.RawMessage
			for _, s := range tc.stored {
				stored = append(stored, json.RawMessage(s))
			}
			got := compareBindings(stored, tc.want, tc.keep)
			if tc.diff == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.diff)
			assert.NotContains(t, got, "value")
		})
	}
}
