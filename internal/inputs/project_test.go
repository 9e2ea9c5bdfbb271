package inputs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadProject(t *testing.T) {
	t.Parallel()
	base := map[string]string{"INPUT_API-TOKEN": "tok", "INPUT_ACCOUNT-ID": "0123456789abcdef0123456789abcdef"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c *Config)
		wantErr []string
	}{
		{name: "defaults", env: with(), check: func(t *testing.T, c *Config) {
			assert.True(t, c.Project.KeepSecrets)
			assert.Empty(t, c.Project.Bindings)
		}},
		{name: "all inputs", env: with("INPUT_WRANGLER-ENV", "staging", "INPUT_KEEP-SECRETS", "false",
			"INPUT_BINDINGS", "- {type: ai, name: AI}", "INPUT_VARS", "A=1", "INPUT_SECRETS", "TOKEN\nOTHER", "TOKEN", "t0k", "OTHER", "o",
			"INPUT_ASSETS-DIRECTORY", "public"), check: func(t *testing.T, c *Config) {
			assert.Equal(t, "staging", c.WranglerEnv)
			assert.False(t, c.Project.KeepSecrets)
			require.Len(t, c.Project.Bindings, 1)
			require.Len(t, c.Project.Vars, 1)
			require.Len(t, c.Project.Secrets, 2)
			assert.Equal(t, "secret_text", c.Project.Secrets[0].Type)
			assert.Equal(t, "public", c.Project.AssetsDirectory)
		}},
		{name: "unset secret", env: with("INPUT_SECRETS", "MISSING"), wantErr: []string{"secrets", "MISSING is unset or empty"}},
		{name: "value instead of name", env: with("INPUT_SECRETS", "sk-live-abc"), wantErr: []string{"secrets", "entry 1"}},
		{name: "bad bindings", env: with("INPUT_BINDINGS", "{not: a list}"), wantErr: []string{"bindings"}},
		{name: "bad vars", env: with("INPUT_VARS", "my-var: x"), wantErr: []string{"vars", "my-var"}},
		{name: "bad env name", env: with("INPUT_WRANGLER-ENV", "a b"), wantErr: []string{"wrangler-env"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tc.env)
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				assert.NotContains(t, err.Error(), "sk-live", "a pasted value is never echoed")
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestSecretValues(t *testing.T) {
	t.Parallel()
	src, err := NewSource([]string{"--secrets", "A, B\nC"}, env(map[string]string{"A": "one", "B": "line1\nline2", "C": " "}))
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "line1\nline2", "line1", "line2"}, SecretValues(src))
}
