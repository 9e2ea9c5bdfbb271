package inputs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEnvironmentFor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		input  string
		deploy bool
		want   string
	}{
		{"deploy default", "", true, "production"},
		{"upload default", "", false, "preview"},
		{"input wins", "staging", true, "staging"},
		{"input wins on upload", "pr-preview", false, "pr-preview"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, GitHubConfig{Environment: tc.input}.EnvironmentFor(tc.deploy))
		})
	}
}

func TestCheckEnvironment(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, wantErr string }{
		{"empty is the default", "", ""},
		{"plain", "production", ""},
		{"unicode", "prévisualisation / PR", ""},
		{"too long", strings.Repeat("é", 256), "longer than 255"},
		{"newline", "prod\nx", "line break"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.wantErr == "", checkEnvironment(tc.in) == "")
			if tc.wantErr != "" {
				assert.Contains(t, checkEnvironment(tc.in), tc.wantErr)
			}
		})
	}
}

func FuzzCheckEnvironment(f *testing.F) {
	f.Add("production")
	f.Add("a\x00b")
	f.Fuzz(func(t *testing.T, s string) {
		if checkEnvironment(s) == "" && (len([]rune(s)) > MaxEnvironmentName || strings.ContainsAny(s, "\n\r")) {
			t.Fatalf("accepted %q", s)
		}
	})
}
