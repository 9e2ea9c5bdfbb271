package bundle

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(tb, err)
	return b
}

func TestModuleOpen(t *testing.T) {
	t.Parallel()

	original := string(randomBytes(t, 200<<10)) // larger than one read, so checks span reads
	cases := []struct {
		name    string
		change  func(t *testing.T, path string)
		wantErr []string
	}{
		{name: "unchanged, read twice (retry)"},
		{
			name: "same size, different bytes",
			change: func(t *testing.T, path string) {
				b := []byte(original)
				b[len(b)/2] ^= 0xff
				require.NoError(t, os.WriteFile(path, b, 0o644))
			},
			wantErr: []string{`"dist/blob.bin"`, "SHA-256 differs"},
		},
		{
			name: "grown",
			change: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path, []byte(original+"more"), 0o644))
			},
			wantErr: []string{`"dist/blob.bin"`, "more than 204800 bytes"},
		},
		{
			name:    "truncated",
			change:  func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, []byte(original[:10]), 0o644)) },
			wantErr: []string{`"dist/blob.bin"`, "10 bytes instead of 204800"},
		},
		{
			name:    "deleted",
			change:  func(t *testing.T, path string) { require.NoError(t, os.Remove(path)) },
			wantErr: []string{`"dist/blob.bin"`, "failed to open"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"dist/index.js": "export default {}", "dist/blob.bin": original})
			b, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
			require.NoError(t, err)
			require.Equal(t, "blob.bin", b.Modules[0].Name)
			m := b.Modules[0]

			if tc.change != nil {
				tc.change(t, filepath.Join(dir, "dist", "blob.bin"))
			}
			for range 2 { // a retry opens the module again
				r, err := m.Open()
				if err == nil {
					var got []byte
					got, err = io.ReadAll(r)
					require.NoError(t, r.Close())
					if err == nil {
						assert.Equal(t, original, string(got))
					}
				}
				if tc.wantErr == nil {
					require.NoError(t, err)
					continue
				}
				require.Error(t, err)
				if tc.name != "deleted" {
					requireInputError(t, err, InputModules, ErrModuleChanged)
				}
				for _, s := range tc.wantErr {
					assert.Contains(t, err.Error(), s)
				}
			}
		})
	}
}

func TestModuleOpenErrorIsSticky(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"dist/index.js": "abc"})
	b, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dist", "index.js"), []byte("abd"), 0o644))
	r, err := b.Modules[0].Open()
	require.NoError(t, err)
	defer r.Close()
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, ErrModuleChanged)
	n, err := r.Read(make([]byte, 8))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrModuleChanged, "later reads keep failing instead of reporting io.EOF")
}
