//go:build unix

package assets

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/safefile"
)

// TestBuildRefusesHostileIgnoreFile: an .assetsignore that is a named pipe,
// a link to a device or out of the assets directory, a dangling link, or
// larger than MaxIgnoreBytes stops the build at once with an error naming
// it; one linked inside the assets directory is read.
func TestBuildRefusesHostileIgnoreFile(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "rules")
	require.NoError(t, os.WriteFile(outside, []byte("SECRET-RULES\n"), 0o644))
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		kind  error
		want  string
	}{
		{name: "FIFO", kind: safefile.ErrNotRegular, want: "named pipe (FIFO)",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, syscall.Mkfifo(filepath.Join(dir, IgnoreFile), 0o644))
			}},
		{name: "symlink to /dev/zero", kind: safefile.ErrOutsideRoot, want: `"/dev/zero"`,
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, IgnoreFile)))
			}},
		{name: "symlink outside", kind: safefile.ErrOutsideRoot, want: "outside",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, IgnoreFile)))
			}},
		{name: "dangling symlink", want: "does not exist",
			setup: func(t *testing.T, dir string) { require.NoError(t, os.Symlink("gone", filepath.Join(dir, IgnoreFile))) }},
		{name: "directory", kind: safefile.ErrNotRegular, want: "directory",
			setup: func(t *testing.T, dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, IgnoreFile), 0o755)) }},
		{name: "too large", kind: safefile.ErrTooLarge, want: "larger than 1 MiB",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, IgnoreFile), []byte(strings.Repeat("#\n", MaxIgnoreBytes/2+1)), 0o644))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"index.html": "<p>hi</p>"})
			tc.setup(t, dir)
			done := make(chan struct{})
			var err error
			go func() { defer close(done); _, err = Build(dir) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Build blocked")
			}
			require.Error(t, err)
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			}
			assert.Contains(t, err.Error(), IgnoreFile)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "SECRET")
		})
	}
	t.Run("symlink inside is read", func(t *testing.T) {
		t.Parallel()
		dir := writeTree(t, map[string]string{"index.html": "<p>hi</p>", "x.map": "{}", "conf/ignore": "*.map\n"})
		require.NoError(t, os.Symlink("conf/ignore", filepath.Join(dir, IgnoreFile)))
		m, err := Build(dir)
		require.NoError(t, err)
		assert.Equal(t, 1, m.Ignored)
	})
}
