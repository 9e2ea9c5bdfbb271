package wrangler

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		file    string
		data    string
		want    *Config
		wantErr string
	}{
		{
			name: "jsonc with comments and trailing commas",
			file: "wrangler.jsonc",
			data: `{
  // the Worker
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "shop", /* inline */
  "main": "dist/index.mjs",
  "compatibility_date": "2025-09-01",
  "compatibility_flags": ["nodejs_compat",],
  "routes": [{"pattern": "shop.example.com/*"}],
  "observability": {"enabled": true},
}`,
			want: &Config{Name: "shop", Main: "dist/index.mjs", CompatibilityDate: "2025-09-01",
				CompatibilityFlags: []string{"nodejs_compat"}, HasCompatibilityFlags: true, Ignored: []string{"observability", "routes"}},
		},
		{
			name: "equivalent toml",
			file: "wrangler.toml",
			data: "name = \"shop\"\nmain = \"dist/index.mjs\"\ncompatibility_date = \"2025-09-01\"\ncompatibility_flags = [\"nodejs_compat\"]\n\n[observability]\nenabled = true\n\n[[routes]]\npattern = \"shop.example.com/*\"\n",
			want: &Config{Name: "shop", Main: "dist/index.mjs", CompatibilityDate: "2025-09-01",
				CompatibilityFlags: []string{"nodejs_compat"}, HasCompatibilityFlags: true, Ignored: []string{"observability", "routes"}},
		},
		{
			name: "bindings are refused for now",
			file: "wrangler.json",
			data: `{"name":"a","kv_namespaces":[{"binding":"KV","id":"x"}],"vars":{"A":"b"}}`,
			want: &Config{Name: "a", Unsupported: []string{"kv_namespaces", "vars"}},
		},
		{name: "jsonc syntax error has line and column", file: "wrangler.jsonc", data: "{\n  \"name\": \"a\",,\n}", wantErr: "line 2, column 15"},
		{name: "toml syntax error has line and column", file: "wrangler.toml", data: "name = \"a\"\nmain = \n", wantErr: "line 2, column"},
		{name: "wrong type", file: "wrangler.json", data: `{"name": 3}`, wantErr: `key "name" must be a string`},
		{name: "not an object", file: "wrangler.json", data: `[1]`, wantErr: "top level must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.file, []byte(tc.data))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"w/wrangler.toml": {Data: []byte("name = \n")}}
	_, err := Load("w/wrangler.toml", fsys.ReadFile)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"w/wrangler.toml"`)
	assert.Contains(t, err.Error(), "line 1")
}

func FuzzParse(f *testing.F) {
	f.Add("wrangler.jsonc", `{"name":"a", // c
"main":"x.mjs",}`)
	f.Add("wrangler.toml", "name = \"a\"\n[env.staging]\nname = \"b\"\n")
	f.Add("wrangler.json", `{"compatibility_flags":["a","b"]}`)
	f.Fuzz(func(t *testing.T, name, data string) {
		c, err := Parse(name, []byte(data))
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
