package wrangler

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindNamedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.toml", "b.json", "c.jsonc", "D.TOML", "e.yaml", "f"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644))
	}
	cases := []struct {
		name    string
		input   string
		want    string
		wantErr string
	}{
		{name: "toml", input: "a.toml", want: filepath.Join(dir, "a.toml")},
		{name: "json", input: "b.json", want: filepath.Join(dir, "b.json")},
		{name: "jsonc", input: "c.jsonc", want: filepath.Join(dir, "c.jsonc")},
		{name: "extension in upper case", input: "D.TOML", want: filepath.Join(dir, "D.TOML")},
		{name: "none", input: "none", want: ""},
		{name: "yaml refused", input: "e.yaml", wantErr: `input ` + "`config`" + ` is "e.yaml": a wrangler configuration is a .jsonc, .json or .toml file`},
		{name: "no extension refused", input: "f", wantErr: ".jsonc, .json or .toml"},
		{name: "missing", input: "missing.toml", wantErr: `failed to find the configuration "missing.toml"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Find(dir, tc.input)
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

func TestUnknownEnvIsTyped(t *testing.T) {
	t.Parallel()
	_, err := ParseEnv("wrangler.json", []byte(`{"name":"a","env":{"prod":{},"dev":{}}}`), "staging")
	var envErr *UnknownEnvError
	require.True(t, errors.As(err, &envErr), "got %v", err)
	assert.Equal(t, "staging", envErr.Env)
	assert.Equal(t, []string{"dev", "prod"}, envErr.Defined)
	assert.Equal(t, "input `wrangler-env` is \"staging\" but the configuration has no env.staging; it defines: dev, prod", err.Error())
}
