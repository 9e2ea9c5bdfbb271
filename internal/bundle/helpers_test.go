package bundle

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash paths relative to root → contents) below root.
func writeTree(tb testing.TB, root string, files map[string]string) {
	tb.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(tb, os.WriteFile(p, []byte(content), 0o644))
	}
}

// symlink creates link (relative to root) pointing at target (used verbatim).
func symlink(tb testing.TB, root, target, link string) {
	tb.Helper()
	p := filepath.Join(root, filepath.FromSlash(link))
	require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(tb, os.Symlink(target, p))
}

// names returns module name → RelPath.
func names(b *Bundle) map[string]string {
	out := map[string]string{}
	for _, m := range b.Modules {
		out[m.Name] = m.RelPath
	}
	return out
}

// requireInputError asserts err is an *InputError for input, classified by kind, whose message
// contains every string in want.
func requireInputError(t *testing.T, err error, input string, kind error, want ...string) {
	t.Helper()
	require.Error(t, err)
	var ie *InputError
	require.True(t, errors.As(err, &ie), "error %q is not an *InputError", err)
	assert.Equal(t, input, ie.Input, "input of error %q", err)
	if kind != nil {
		assert.ErrorIs(t, err, kind)
	}
	for _, s := range want {
		assert.Contains(t, err.Error(), s)
	}
}

// independentDigests recomputes, from the files on disk, what Collect should report.
func independentDigests(t *testing.T, b *Bundle) (raw, gz int64) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, m := range b.Modules {
		data, err := os.ReadFile(m.Path)
		require.NoError(t, err)
		assert.Equal(t, sha256.Sum256(data), m.SHA256, "sha256 of %s", m.Name)
		assert.Equal(t, int64(len(data)), m.Size, "size of %s", m.Name)
		raw += int64(len(data))
		_, err = zw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return raw, int64(buf.Len())
}
