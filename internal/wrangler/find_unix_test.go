//go:build unix

package wrangler

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

// TestFindRefusesHostileFiles: a configuration that is a named pipe, a
// device, or a symbolic link leaving the working directory is refused by
// Find, before anything reads it, with an error naming the file and never
// quoting the target's content.
func TestFindRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	const secret = "TOKEN=s3cr3t-from-outside"
	outside := filepath.Join(t.TempDir(), "passwd.toml")
	require.NoError(t, os.WriteFile(outside, []byte(secret+"\nname = [broken\n"), 0o644))
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		input string
		want  []string
	}{
		{name: "FIFO found automatically", input: "",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "wrangler.jsonc"), 0o644))
			},
			want: []string{`"wrangler.jsonc"`, "named pipe (FIFO)", "input `config`"}},
		{name: "FIFO named", input: "wrangler.toml",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "wrangler.toml"), 0o644))
			},
			want: []string{`"wrangler.toml"`, "named pipe (FIFO)", "input `config`"}},
		{name: "symlink to /dev/zero", input: "",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "wrangler.jsonc")))
			},
			want: []string{`"wrangler.jsonc"`, `"/dev/zero"`, "outside"}},
		{name: "symlink to a file outside", input: "",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, "wrangler.toml")))
			},
			want: []string{`"wrangler.toml"`, "outside"}},
		{name: "named symlink to /proc/self/environ", input: "env.json",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Symlink("/proc/self/environ", filepath.Join(dir, "env.json")))
			},
			want: []string{`"env.json"`, "outside", "input `config`"}},
		{name: "absolute path outside", input: outside, setup: func(*testing.T, string) {},
			want: []string{outside, "outside", "input `config`"}},
		{name: "dotdot outside", input: "rel", setup: func(*testing.T, string) {},
			want: []string{"outside", "input `config`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.setup(t, dir)
			input := tc.input
			if input == "rel" {
				rel, err := filepath.Rel(dir, outside)
				require.NoError(t, err)
				input = rel
			}
			done := make(chan struct{})
			var err error
			go func() { defer close(done); _, err = Find(dir, input) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Find blocked")
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

// TestFindFollowsLinksInside: a link to a configuration elsewhere in the
// working directory (a monorepo sharing one file) is fine.
func TestFindFollowsLinksInside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "configs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "configs", "w.jsonc"), []byte(`{"name":"shop"}`), 0o644))
	require.NoError(t, os.Symlink("configs/w.jsonc", filepath.Join(dir, "wrangler.jsonc")))
	p, err := Find(dir, "")
	require.NoError(t, err)
	c, err := Load(p, Reader(dir))
	require.NoError(t, err)
	assert.Equal(t, "shop", c.Name)
}

// TestReaderCapsTheRead: a configuration larger than MaxConfigBytes is
// refused without reading it all.
func TestReaderCapsTheRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "wrangler.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"name":"`+strings.Repeat("a", MaxConfigBytes)+`"}`), 0o644))
	_, err := Load(p, Reader(dir))
	require.ErrorIs(t, err, safefile.ErrTooLarge)
	assert.Contains(t, err.Error(), "larger than 4 MiB")
}
