//go:build unix

package ghevent

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

// TestReadPayloadRefusesHostileFiles: GITHUB_EVENT_PATH naming a named pipe,
// a device (directly or through a link) or a file over MaxPayloadBytes is an
// error at once, never a hang or an endless read; a regular file is read.
func TestReadPayloadRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "event.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "event-zero.json")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(`{"x":"`+strings.Repeat("a", MaxPayloadBytes)+`"}`), 0o644))
	ok := filepath.Join(dir, "event.json")
	require.NoError(t, os.WriteFile(ok, []byte(`{"pull_request":{"number":7}}`), 0o644))
	cases := []struct {
		name, path string
		kind       error
	}{
		{"FIFO", fifo, safefile.ErrNotRegular},
		{"symlink to /dev/zero", zero, safefile.ErrNotRegular},
		{"device", "/dev/zero", safefile.ErrNotRegular},
		{"over the limit", big, safefile.ErrTooLarge},
		{"regular", ok, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": tc.path}
			done := make(chan struct{})
			var c *Context
			var err error
			go func() {
				defer close(done)
				c, err = Load(func(k string) string { return env[k] }, ReadPayload)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Load blocked")
			}
			if tc.kind == nil {
				require.NoError(t, err)
				assert.Equal(t, 7, c.PRNumber())
				return
			}
			require.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), "GITHUB_EVENT_PATH")
		})
	}
}
