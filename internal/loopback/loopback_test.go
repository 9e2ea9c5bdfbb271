package loopback

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsHost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LOCALHOST", true}, {"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true},
		{"", false}, {"0.0.0.0", false}, {"10.0.0.1", false}, {"127.0.0.1.nip.io", false}, {"localhost.example.com", false},
		{"[::1]", false}, {"api.cloudflare.com", false},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, IsHost(tc.host))
		})
	}
}
