package inputs

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestNewSourceFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		want    map[string]string
		wantErr string
	}{
		{name: "equals form", args: []string{"--worker=shop"}, want: map[string]string{"worker": "shop"}},
		{name: "space form", args: []string{"--worker", "shop"}, want: map[string]string{"worker": "shop"}},
		{name: "single dash", args: []string{"-worker", "shop"}, want: map[string]string{"worker": "shop"}},
		{name: "bare boolean is true", args: []string{"--deploy", "--worker", "w"}, want: map[string]string{"deploy": "true", "worker": "w"}},
		{name: "boolean with value", args: []string{"--deploy", "false"}, want: map[string]string{"deploy": "false"}},
		{name: "flag wins over INPUT_", args: []string{"--worker=a"}, env: map[string]string{"INPUT_WORKER": "b"}, want: map[string]string{"worker": "a"}},
		{name: "INPUT_ with hyphen kept", env: map[string]string{"INPUT_API-URL": " local \n"}, want: map[string]string{"api-url": "local"}},
		{name: "unknown flag lists names", args: []string{"--wroker=x"}, wantErr: "unknown flag --wroker; valid flags: account-id"},
		{name: "missing value", args: []string{"--worker"}, wantErr: "flag --worker needs a value"},
		{name: "positional argument", args: []string{"deploy"}, wantErr: `unexpected argument "deploy"`},
		{name: "twice", args: []string{"--tag=a", "--tag=b"}, wantErr: "given twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := NewSource(tc.args, env(tc.env))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			for k, want := range tc.want {
				got, ok := src.Lookup(k)
				assert.True(t, ok, k)
				assert.Equal(t, want, got, k)
			}
		})
	}
	_, err := NewSource([]string{"--help"}, nil)
	assert.ErrorIs(t, err, ErrHelp)
}

func load(t *testing.T, m map[string]string) (*Config, error) {
	t.Helper()
	src, err := NewSource(nil, env(m))
	require.NoError(t, err)
	return Load(src, LoadOptions{Workspace: "/ws", Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }})
}

func TestLoadDefaultsAndFallbacks(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"CLOUDFLARE_API_TOKEN": "tok", "CLOUDFLARE_ACCOUNT_ID": "0123456789abcdef0123456789abcdef",
		"INPUT_WORKING-DIRECTORY": "apps/shop", "INPUT_COMPATIBILITY-FLAGS": "nodejs_compat,\n no_global_navigator",
		"INPUT_MESSAGE": strings.Repeat("é", 600),
	})
	require.NoError(t, err)
	assert.Equal(t, "tok", c.APIToken)
	assert.Equal(t, DefaultAPIURL, c.APIURL)
	assert.Equal(t, "/ws/apps/shop", c.WorkingDirectory)
	assert.Empty(t, c.Modules, "not set: the upload model decides (the entry's folder, or dist/**)")
	assert.True(t, c.CreateWorker)
	assert.False(t, c.Deploy)
	assert.Equal(t, []string{"nodejs_compat", "no_global_navigator"}, c.CompatibilityFlags)
	assert.LessOrEqual(t, len(c.Message), MaxMessageBytes)
	assert.True(t, utf8.ValidString(c.Message))

	c, err = load(t, map[string]string{"INPUT_API-URL": "LOCAL"})
	require.NoError(t, err, "local mode needs no credentials")
	assert.True(t, c.Local)

	c, err = load(t, map[string]string{"CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:8787/client/v4/", "INPUT_API-TOKEN": "t", "INPUT_ACCOUNT-ID": "0123456789abcdef0123456789abcdef"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8787/client/v4", c.APIURL)
}

func TestLoadReportsAllErrorsTogether(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{"INPUT_WORKER": "Bad Name", "INPUT_COMPATIBILITY-DATE": "2025-13-01", "INPUT_DEPLOY": "maybe"})
	require.Error(t, err)
	var names []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ie *Error
		require.True(t, errors.As(e, &ie), "%v", e)
		names = append(names, ie.Input)
	}
	assert.ElementsMatch(t, []string{"api-token", "account-id", "worker", "compatibility-date", "deploy"}, names)
}

func TestCheckAPIURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, wantErr string
	}{
		{in: "https://api.cloudflare.com/client/v4/", want: "https://api.cloudflare.com/client/v4"},
		{in: "http://localhost:8787/client/v4", want: "http://localhost:8787/client/v4"},
		{in: "http://[::1]:1/x", want: "http://[::1]:1/x"},
		{in: "http://127.9.9.9/x", want: "http://127.9.9.9/x"},
		{in: "http://api.example.com/client/v4", wantErr: "only allowed to a loopback host"},
		{in: "http://10.0.0.1/x", wantErr: "only allowed to a loopback host"},
		{in: "ftp://x/y", wantErr: "scheme"},
		{in: "https://user:pw@x/y", wantErr: "credentials"},
		{in: "api.cloudflare.com", wantErr: "not an absolute URL"},
		{in: "https://x/y?token=1", wantErr: "query"},
		{in: "https://x/y?", wantErr: "query"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := CheckAPIURL(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "pw", "never echo credentials")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	assert.NoError(t, CheckCompatibilityDate("2026-06-02", now), "one day of slack for time zones")
	assert.Error(t, CheckCompatibilityDate("2026-06-03", now))
	assert.Error(t, CheckCompatibilityDate("2024-02-30", now))
	assert.Error(t, CheckCompatibilityDate("2020-12-31", now))
	assert.Error(t, CheckCompatibilityDate("01/02/2025", now))

	assert.NoError(t, CheckWorkerName("my_worker-2"))
	assert.NoError(t, CheckWorkerName("0123456789abcdef0123456789abcdef"))
	assert.Error(t, CheckWorkerName("-a"))
	assert.Error(t, CheckWorkerName("a-"))
	assert.Error(t, CheckWorkerName("Shop"))
	assert.Error(t, CheckWorkerName(strings.Repeat("a", 64)))

	assert.NoError(t, CheckTag(strings.Repeat("t", 100)))
	assert.Error(t, CheckTag(strings.Repeat("t", 101)))
	assert.Error(t, CheckTag("a\nb"))
}

func TestTruncateUTF8(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ab", TruncateUTF8("ab", 5))
	assert.Equal(t, "a", TruncateUTF8("aé", 2), "a cut rune is dropped")
	assert.Equal(t, "", TruncateUTF8("€", 2))
	assert.Equal(t, "€", TruncateUTF8("€€", 4))
}

func FuzzNewSource(f *testing.F) {
	f.Add("--worker=shop\x00--deploy\x00--tag\x00v1")
	f.Add("--api-url\x00local")
	f.Add("-x")
	f.Fuzz(func(t *testing.T, joined string) {
		src, err := NewSource(strings.Split(joined, "\x00"), nil)
		if err != nil {
			return
		}
		for _, n := range Names() {
			v, _ := src.Lookup(n)
			if v != strings.TrimSpace(v) {
				t.Fatalf("untrimmed value %q", v)
			}
		}
	})
}

func FuzzTruncateUTF8(f *testing.F) {
	f.Add("héllo wörld", 3)
	f.Add("\xff\xfe", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 4096 {
			return
		}
		got := TruncateUTF8(s, n)
		if len(got) > n && len(s) > n {
			t.Fatalf("len %d > %d", len(got), n)
		}
		if !strings.HasPrefix(s, got) {
			t.Fatalf("%q is not a prefix of %q", got, s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("cut a valid string into an invalid one: %q", got)
		}
	})
}

func FuzzCheckAPIURL(f *testing.F) {
	f.Add("https://api.cloudflare.com/client/v4")
	f.Add("http://127.0.0.1:8787/client/v4")
	f.Add("http://evil.example/")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CheckAPIURL(s)
		if err != nil {
			return
		}
		if strings.HasPrefix(got, "http://") {
			// Plain HTTP must never leave loopback.
			host := strings.TrimPrefix(got, "http://")
			host, _, _ = strings.Cut(host, "/")
			if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
				host = h
			}
			host = strings.Trim(strings.Split(host, "]")[0], "[")
			if !IsLoopbackHost(host) {
				t.Fatalf("plain http allowed to %q (%q)", host, got)
			}
		}
	})
}

// TestEmptyTokenOneMessage: the inputs and the Cloudflare client say the same
// thing about a missing API token.
func TestEmptyTokenOneMessage(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{"INPUT_WORKER": "shop", "INPUT_ACCOUNT-ID": "0123456789abcdef0123456789abcdef", "INPUT_API-TOKEN": "  "})
	require.Error(t, err)
	assert.ErrorIs(t, err, cloudflare.ErrNoToken)
	_, clientErr := cloudflare.New(DefaultAPIURL, "", "0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, clientErr, cloudflare.ErrNoToken)
	assert.Contains(t, err.Error(), clientErr.Error())
}
