//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree builds root/ (the working directory) and outside/ beside it:
//
//	root/ok.txt            "hello"
//	root/sub/inner.txt     "inner"
//	root/link-in           -> sub/inner.txt
//	root/link-abs-in       -> <abs root>/ok.txt
//	root/link-out          -> ../outside/secret.txt
//	root/dirlink-out       -> ../outside        (a directory)
//	root/zero              -> /dev/zero
//	root/null              -> /dev/null
//	root/fifo              a named pipe
//	root/dangling          -> nowhere
//	root/loop1 <-> loop2
//	root/big.txt           101 bytes
//	outside/secret.txt     "SECRET"
func tree(t testing.TB) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	write := func(p, s string) { require.NoError(t, os.WriteFile(p, []byte(s), 0o644)) }
	write(filepath.Join(root, "ok.txt"), "hello")
	write(filepath.Join(root, "sub", "inner.txt"), "inner")
	write(filepath.Join(root, "big.txt"), strings.Repeat("x", 101))
	write(filepath.Join(outside, "secret.txt"), "SECRET")
	link := func(target, name string) { require.NoError(t, os.Symlink(target, filepath.Join(root, name))) }
	link("sub/inner.txt", "link-in")
	link(filepath.Join(root, "ok.txt"), "link-abs-in")
	link("../outside/secret.txt", "link-out")
	link("../outside", "dirlink-out")
	link("/dev/zero", "zero")
	link("/dev/null", "null")
	link("nowhere", "dangling")
	link("loop2", "loop1")
	link("loop1", "loop2")
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	return root, outside
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	root, outside := tree(t)
	cases := []struct {
		name, root, file string
		limit            int64
		want             string
		kind             error // errors.Is target; nil: success
		msg              string
	}{
		{name: "regular file", root: root, file: "ok.txt", limit: 100, want: "hello"},
		{name: "in a subdirectory", root: root, file: "sub/inner.txt", limit: 100, want: "inner"},
		{name: "absolute path inside", root: root, file: filepath.Join(root, "ok.txt"), limit: 100, want: "hello"},
		{name: "symlink inside", root: root, file: "link-in", limit: 100, want: "inner"},
		{name: "absolute symlink inside", root: root, file: "link-abs-in", limit: 100, want: "hello"},
		{name: "exactly the limit", root: root, file: "ok.txt", limit: 5, want: "hello"},
		{name: "over the limit", root: root, file: "big.txt", limit: 100, kind: ErrTooLarge, msg: "larger than 100 bytes"},
		{name: "symlink escaping", root: root, file: "link-out", limit: 100, kind: ErrOutsideRoot, msg: "outside"},
		{name: "through a directory symlink escaping", root: root, file: "dirlink-out/secret.txt", limit: 100, kind: ErrOutsideRoot},
		{name: "dotdot escaping", root: root, file: "../outside/secret.txt", limit: 100, kind: ErrOutsideRoot},
		{name: "absolute path outside", root: root, file: filepath.Join(outside, "secret.txt"), limit: 100, kind: ErrOutsideRoot},
		{name: "symlink to /dev/zero under a root", root: root, file: "zero", limit: 100, kind: ErrOutsideRoot},
		{name: "symlink to /dev/zero without a root", file: filepath.Join(root, "zero"), limit: 100, kind: ErrNotRegular, msg: "character device"},
		{name: "/dev/null without a root", file: "/dev/null", limit: 100, kind: ErrNotRegular, msg: "character device"},
		{name: "FIFO", root: root, file: "fifo", limit: 100, kind: ErrNotRegular, msg: "named pipe (FIFO)"},
		{name: "FIFO without a root", file: filepath.Join(root, "fifo"), limit: 100, kind: ErrNotRegular, msg: "named pipe (FIFO)"},
		{name: "directory", root: root, file: "sub", limit: 100, kind: ErrNotRegular, msg: "is a directory"},
		{name: "dangling symlink", root: root, file: "dangling", limit: 100, kind: fs.ErrNotExist, msg: "symbolic link to a file that does not exist"},
		{name: "missing", root: root, file: "missing.txt", limit: 100, kind: fs.ErrNotExist},
		{name: "symlink loop", root: root, file: "loop1", limit: 100, kind: ErrLoop},
		{name: "outside file without a root", file: filepath.Join(outside, "secret.txt"), limit: 100, want: "SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				defer close(done)
				got, err = ReadFile(tc.root, tc.file, tc.limit)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if tc.kind == nil {
				require.NoError(t, err)
				assert.Equal(t, tc.want, string(got))
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "SECRET", "no content quoted")
			assert.Nil(t, got)
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	root, _ := tree(t)
	real, info, err := Check(root, "link-in")
	require.NoError(t, err)
	assert.Equal(t, "inner.txt", filepath.Base(real))
	assert.Equal(t, int64(5), info.Size())
	_, _, err = Check(root, "fifo")
	assert.ErrorIs(t, err, ErrNotRegular)
	_, _, err = Check(root, "link-out")
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, ErrOutsideRoot, e.Kind)
}

// TestReadFileRootIsASymlink: a working directory reached through a symbolic
// link still contains its files.
func TestReadFileRootIsASymlink(t *testing.T) {
	t.Parallel()
	root, _ := tree(t)
	alias := filepath.Join(t.TempDir(), "alias")
	require.NoError(t, os.Symlink(root, alias))
	got, err := ReadFile(alias, "link-in", 100)
	require.NoError(t, err)
	assert.Equal(t, "inner", string(got))
	got, err = ReadFile(alias, filepath.Join(root, "ok.txt"), 100)
	require.NoError(t, err, "an absolute path through the real directory")
	assert.Equal(t, "hello", string(got))
}

func TestOpenRefusesWhatReadFileRefuses(t *testing.T) {
	t.Parallel()
	root, _ := tree(t)
	f, info, err := Open(root, "ok.txt")
	require.NoError(t, err)
	assert.True(t, info.Mode().IsRegular())
	require.NoError(t, f.Close())
	for _, name := range []string{"fifo", "link-out", "zero", "sub"} {
		_, _, err := Open(root, name)
		assert.Error(t, err, name)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "4 MiB", Size(4<<20))
	assert.Equal(t, "512 KiB", Size(512<<10))
	assert.Equal(t, "100 bytes", Size(100))
}

// FuzzReadFileStaysInRoot: whatever name is asked for under root, ReadFile
// never returns the content of the file outside it, never blocks on the FIFO
// or the device, and never returns more than the limit.
func FuzzReadFileStaysInRoot(f *testing.F) {
	for _, s := range []string{"ok.txt", "link-out", "../outside/secret.txt", "dirlink-out/secret.txt", "zero", "fifo",
		"sub/../ok.txt", "sub/../../outside/secret.txt", "/", "//outside", "link-in", "./././ok.txt", "big.txt", "\x00"} {
		f.Add(s)
	}
	root, outside := tree(f)
	f.Add(filepath.Join(outside, "secret.txt"))
	f.Add(filepath.Join(root, "..", "outside", "secret.txt"))
	f.Fuzz(func(t *testing.T, name string) {
		got, err := ReadFile(root, name, 100)
		if err != nil {
			return
		}
		assert.NotContains(t, string(got), "SECRET", name)
		assert.LessOrEqual(t, len(got), 100)
	})
}
