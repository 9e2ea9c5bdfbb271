package e2e

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInput: every row fails with exit 1, one ::error:: that names the
// input or file, and no write request to Cloudflare.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inputs map[string]string
		setup  func(t *testing.T, ws string)
		// want are substrings of the one ::error:: line.
		want []string
	}{
		{name: "no module matched", inputs: map[string]string{"modules": "build/**"}, want: []string{"modules", "build/**"}},
		{name: "invalid glob", inputs: map[string]string{"modules": "dist/[a"}, want: []string{"modules", "dist/[a"}},
		{name: "unknown main module", inputs: map[string]string{"main-module": "nope.mjs"}, want: []string{"main-module", "nope.mjs"}},
		{name: "glob escaping the working directory", inputs: map[string]string{"modules": "../**"}, want: []string{"modules", "../**"}},
		{
			name: "symlink escaping the working directory",
			setup: func(t *testing.T, ws string) {
				outside := filepath.Join(t.TempDir(), "secret.js")
				require.NoError(t, os.WriteFile(outside, []byte("export default {}"), 0o644))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "dist", "evil.js")))
			},
			want: []string{"evil.js", "working directory"},
		},
		{
			name:  "file type with no content type",
			setup: func(t *testing.T, ws string) { write(t, ws, "dist/README.md", []byte("# hi")) },
			want:  []string{"README.md"},
		},
		{
			name: "bundle over 10 MiB compressed",
			setup: func(t *testing.T, ws string) {
				b := make([]byte, 11<<20)
				_, _ = rand.Read(b)
				write(t, ws, "dist/big.bin", b)
			},
			want: []string{"MiB", "10"},
		},
		{name: "invalid worker name", inputs: map[string]string{"worker": "Shop!"}, want: []string{"worker", "Shop!"}},
		{name: "impossible compatibility date", inputs: map[string]string{"compatibility-date": "2025-02-30"}, want: []string{"compatibility-date", "2025-02-30"}},
		{name: "future compatibility date", inputs: map[string]string{"compatibility-date": "2999-01-01"}, want: []string{"compatibility-date", "future"}},
		{name: "tag over 100 bytes", inputs: map[string]string{"tag": strings.Repeat("t", 101)}, want: []string{"tag", "100"}},
		{name: "plain http to a remote host", inputs: map[string]string{"api-url": "http://api.example.com/client/v4"}, want: []string{"api-url", "loopback"}},
		{name: "missing token", inputs: map[string]string{"api-token": ""}, want: []string{"api-token", "CLOUDFLARE_API_TOKEN"}},
		{name: "missing account", inputs: map[string]string{"account-id": ""}, want: []string{"account-id", "CLOUDFLARE_ACCOUNT_ID"}},
		{name: "malformed account", inputs: map[string]string{"account-id": "acme"}, want: []string{"account-id", "32"}},
		{name: "bad boolean", inputs: map[string]string{"deploy": "yes"}, want: []string{"deploy", "true or false"}},
		{name: "stages without deploy", inputs: map[string]string{"stages": "10%@1m, 100%"}, want: []string{"stages", "deploy"}},
		{name: "stages not ending at 100%", inputs: map[string]string{"deploy": "true", "stages": "10%, 50%"}, want: []string{"stages", "100"}},
		{name: "stages not increasing", inputs: map[string]string{"deploy": "true", "stages": "50%, 10%, 100%"}, want: []string{"stages", "10%"}},
		{
			name: "wrangler config with a malformed binding",
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[[kv_namespaces]]\nbinding = \"KV\"\n"))
			},
			want: []string{"config", "wrangler.toml", "kv_namespaces[0]", "`id` is required"},
		},
		{
			name:  "broken wrangler config",
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.jsonc", []byte("{\n  \"name\": \"shop\",,\n}")) },
			want:  []string{"config", "wrangler.jsonc", "line 2, column"},
		},
		{
			name:  "empty module",
			setup: func(t *testing.T, ws string) { write(t, ws, "dist/empty.mjs", nil) },
			want:  []string{"empty.mjs"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			if tc.setup != nil {
				tc.setup(t, ws)
			}
			r := pushJob(t, cf, ws, tc.inputs).exec(t, ctxFor(t))
			assert.Equal(t, 1, r.Code, r.Stdout)
			errs := r.errors()
			require.Len(t, errs, 1, "exactly one ::error:: annotation:\n%s", r.Stdout)
			for _, w := range tc.want {
				assert.Contains(t, errs[0], w)
			}
			assert.Empty(t, cf.writes(), "no write request may be sent")
			assertNoSecrets(t, r)
		})
	}
}

func write(t *testing.T, ws, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(ws, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}
