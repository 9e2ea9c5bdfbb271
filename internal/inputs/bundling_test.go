package inputs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadBundle(t *testing.T) {
	cases := []struct {
		args []string
		want BundleMode
		err  string
	}{
		{nil, BundleAuto, ""},
		{[]string{"--bundle", "true"}, BundleAlways, ""},
		{[]string{"--bundle", "FALSE"}, BundleNever, ""},
		{[]string{"--bundle", " auto "}, BundleAuto, ""},
		{[]string{"--bundle", "esbuild"}, BundleAuto, "input `bundle`: \"esbuild\" is not a bundle mode: use auto, true or false"},
	}
	for _, tc := range cases {
		c, err := loadRollout(t, tc.args...)
		if tc.err != "" {
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.Bundle, "%v", tc.args)
	}
}
