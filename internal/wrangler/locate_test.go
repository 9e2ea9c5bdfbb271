package wrangler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    map[string]string
		input    string
		want     string // relative to the directory, "" for none
		redirect bool
		err      string
	}{
		{"root configuration", map[string]string{"wrangler.jsonc": "{}"}, "", "wrangler.jsonc", false, ""},
		{"the redirect wins over the root configuration", map[string]string{
			"wrangler.jsonc": "{}", ".wrangler/deploy/config.json": `{"configPath":"../../build/server/wrangler.json","auxiliaryWorkers":[]}`,
			"build/server/wrangler.json": "{}",
		}, "", "build/server/wrangler.json", true, ""},
		{"the redirect without a root configuration", map[string]string{
			".wrangler/deploy/config.json": `{"configPath":"../../.output/server/wrangler.json"}`, ".output/server/wrangler.json": "{}",
		}, "", ".output/server/wrangler.json", true, ""},
		{"input config is not redirected", map[string]string{
			"other.toml": "", ".wrangler/deploy/config.json": `{"configPath":"../../x.json"}`,
		}, "other.toml", "other.toml", false, ""},
		{"input none", map[string]string{".wrangler/deploy/config.json": `{"configPath":"../../x.json"}`}, "none", "", false, ""},
		{"a redirect to a missing file", map[string]string{".wrangler/deploy/config.json": `{"configPath":"../../gone.json"}`}, "", "", false, "cannot be read"},
		{"a redirect without configPath", map[string]string{".wrangler/deploy/config.json": `{}`}, "", "", false, "no `configPath`"},
		{"a redirect that is no JSON", map[string]string{".wrangler/deploy/config.json": `x`}, "", "", false, "not a JSON object"},
		{"a redirect to another kind of file", map[string]string{".wrangler/deploy/config.json": `{"configPath":"../../a.yaml"}`, "a.yaml": ""}, "", "", false, "not a .json"},
		{"nothing", map[string]string{"x": ""}, "", "", false, "no wrangler configuration found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			}
			loc, err := Locate(dir, tt.input, os.ReadFile)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			want := ""
			if tt.want != "" {
				want = filepath.Join(dir, filepath.FromSlash(tt.want))
			}
			assert.Equal(t, want, loc.Path)
			assert.Equal(t, tt.redirect, loc.RedirectedBy != "")
		})
	}
}

func TestParseUploadKeysAndQuietNotice(t *testing.T) {
	t.Parallel()
	c, err := Parse("wrangler.json", []byte(`{
  "configPath": "/x/wrangler.jsonc", "userConfigPath": "/x", "topLevelName": "a", "legacy_env": true,
  "definedEnvironments": [], "no_bundle": true, "dev": {"ip": "localhost"}, "jsx_factory": "React.createElement",
  "rules": [{"type": "ESModule", "globs": ["**/*.js"], "fallthrough": true}], "upload_source_maps": true,
  "migrations": [], "triggers": {}, "queues": {"producers": [], "consumers": []}, "logfwdr": {"bindings": []},
  "cloudchamber": {}, "routes": ["example.com/*"], "queues2": null
}`))
	require.NoError(t, err)
	assert.Equal(t, []Rule{{Type: "ESModule", Globs: []string{"**/*.js"}, Fallthrough: func() *bool { b := true; return &b }()}}, c.Rules)
	require.NotNil(t, c.UploadSourceMaps)
	assert.True(t, *c.UploadSourceMaps)
	assert.Equal(t, []string{"routes"}, c.Ignored)
}

func TestParseSite(t *testing.T) {
	t.Parallel()
	c, err := Parse("wrangler.toml", []byte("name = \"a\"\n[site]\nbucket = \"./public\"\n"))
	require.NoError(t, err)
	assert.True(t, c.Site)
}
