package inputs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityPlainHTTPOnlyToLoopback: api-url (and CLOUDFLARE_API_BASE_URL,
// which goes through the same check) and health-check-url accept plain
// http:// only for a loopback host; names that merely look local, private
// addresses and the unspecified address are refused, as are credentials in
// the URL (they would be printed).
func TestSecurityPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url string
		ok        bool
	}{
		{"https anywhere", "https://api.example.com/client/v4", true},
		{"http 127.0.0.1", "http://127.0.0.1:8787/x", true},
		{"http 127.255.0.9", "http://127.255.0.9/x", true},
		{"http ::1", "http://[::1]:8787/x", true},
		{"http localhost", "http://localhost:8787/x", true},
		{"http LOCALHOST", "http://LOCALHOST:8787/x", true},
		{"http public name", "http://api.example.com/x", false},
		{"http private address", "http://192.168.1.10/x", false},
		{"http unspecified address", "http://0.0.0.0:8787/x", false},
		{"http name that starts like loopback", "http://127.0.0.1.nip.io/x", false},
		{"http name that ends like localhost", "http://evil.localhost.example.com/x", false},
		{"credentials", "https://user:hunter2@api.example.com/x", false},
		// A URL that does not parse is echoed in the error: without its user info.
		{"credentials in a URL that does not parse", "https://user:hunter2@api.example.com/%zz", false},
		{"credentials without a scheme", "user:hunter2@api.example.com", false},
		{"credentials with no host", "https://user:hunter2@/x", false},
		{"other scheme", "ws://127.0.0.1/x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, apiErr := CheckAPIURL(tc.url)
			_, healthErr := checkHealthURL(tc.url)
			if tc.ok {
				assert.NoError(t, apiErr)
				assert.NoError(t, healthErr)
				return
			}
			require.Error(t, apiErr)
			require.Error(t, healthErr)
			assert.NotContains(t, apiErr.Error(), "hunter2")
			assert.NotContains(t, healthErr.Error(), "hunter2")
		})
	}
}

// TestSecurityEnvAPIBaseURLIsChecked: CLOUDFLARE_API_BASE_URL gets the same
// check as the api-url input.
func TestSecurityEnvAPIBaseURLIsChecked(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CLOUDFLARE_API_BASE_URL": "http://api.example.com/client/v4"}
	src, err := NewSource([]string{"--api-token", "t0k3n", "--account-id", "0123456789abcdef0123456789abcdef", "--worker", "w"},
		func(k string) string { return env[k] })
	require.NoError(t, err)
	_, err = Load(src, LoadOptions{Workspace: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api-url")
	assert.Contains(t, err.Error(), "only allowed to a loopback host")
	assert.NotContains(t, err.Error(), "t0k3n")
}
