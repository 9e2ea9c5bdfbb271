package bundle

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		change  func(t *testing.T, path string)
		wantErr string
	}{
		{name: "unchanged", change: func(*testing.T, string) {}},
		{name: "rewritten with another size", change: func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte("export const x = 22;\n"), 0o644))
		}, wantErr: "it now has 21 bytes instead of 20"},
		{name: "rewritten with the same size", change: func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte("export const y = 2;\n"), 0o644))
			later := time.Now().Add(2 * time.Second)
			require.NoError(t, os.Chtimes(p, later, later))
		}, wantErr: "it was modified after it was collected"},
		{name: "deleted", change: func(t *testing.T, p string) { require.NoError(t, os.Remove(p)) }, wantErr: "failed to read module file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"dist/index.js": "export const x = 2;\n"})
			b, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
			require.NoError(t, err)
			tc.change(t, filepath.Join(dir, "dist", "index.js"))
			err = b.Verify()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), `"dist/index.js"`)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, InputModules, ie.Input)
		})
	}
}
