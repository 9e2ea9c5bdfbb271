//go:build unix

package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outsideSecret is the content of a file outside the working directory that
// a hostile configuration points at; it must never be printed.
const outsideSecret = "OUTSIDE-FILE-CONTENT-0451"

// TestSecurityHostileFiles: a repository (or a runner file) that names a
// named pipe, a link to /dev/zero or a link out of the working directory as
// the wrangler configuration, .assetsignore or the event payload makes the
// run end at once with one ::error naming the file, exit 1, nothing sent to
// Cloudflare and nothing quoted from outside. Before, a FIFO blocked the run
// for good and /dev/zero grew the process to gigabytes.
func TestSecurityHostileFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// setup prepares ws (the working directory) and may change the job;
		// outside is a directory beside ws holding secret.toml. want are
		// parts of the ::error (`, outside "` is how a resolved path
		// outside the working directory is reported).
		setup func(t *testing.T, ws, outside string, j *job)
		want  []string
	}{
		{name: "wrangler.jsonc is a FIFO", want: []string{"config", "wrangler.jsonc", "named pipe (FIFO)"},
			setup: func(t *testing.T, ws, _ string, _ *job) { mkfifo(t, filepath.Join(ws, "wrangler.jsonc")) }},
		{name: "wrangler.jsonc links to /dev/zero", want: []string{"config", "wrangler.jsonc", "/dev/zero", `, outside "`},
			setup: func(t *testing.T, ws, _ string, _ *job) { symlink(t, "/dev/zero", filepath.Join(ws, "wrangler.jsonc")) }},
		{name: "wrangler.toml links to /proc/self/environ", want: []string{"config", "wrangler.toml", `, outside "`},
			setup: func(t *testing.T, ws, _ string, _ *job) {
				symlink(t, "/proc/self/environ", filepath.Join(ws, "wrangler.toml"))
			}},
		{name: "wrangler.toml links to a file outside", want: []string{"config", "wrangler.toml", `, outside "`},
			setup: func(t *testing.T, ws, outside string, _ *job) {
				symlink(t, filepath.Join(outside, "secret.toml"), filepath.Join(ws, "wrangler.toml"))
			}},
		{name: "config names a file outside", want: []string{"config", "secret.toml", `, outside "`},
			setup: func(t *testing.T, _, outside string, j *job) {
				j.Inputs["config"] = filepath.Join(outside, "secret.toml")
			}},
		{name: "config names a file outside by ..", want: []string{"config", "secret.toml", `, outside "`},
			setup: func(t *testing.T, _, _ string, j *job) { j.Inputs["config"] = "../elsewhere/secret.toml" }},
		{name: ".assetsignore is a FIFO", want: []string{".assetsignore", "named pipe (FIFO)"},
			setup: func(t *testing.T, ws, _ string, j *job) {
				write(t, ws, "public/index.html", []byte("<h1>hi</h1>"))
				mkfifo(t, filepath.Join(ws, "public", ".assetsignore"))
				j.Inputs["assets-directory"] = "public"
			}},
		{name: ".assetsignore links to /dev/zero", want: []string{".assetsignore", "/dev/zero", `, outside "`},
			setup: func(t *testing.T, ws, _ string, j *job) {
				write(t, ws, "public/index.html", []byte("<h1>hi</h1>"))
				symlink(t, "/dev/zero", filepath.Join(ws, "public", ".assetsignore"))
				j.Inputs["assets-directory"] = "public"
			}},
		{name: "event payload is a FIFO", want: []string{"GITHUB_EVENT_PATH", "named pipe (FIFO)"},
			setup: func(t *testing.T, _, outside string, j *job) {
				j.Payload = filepath.Join(outside, "event.json")
				mkfifo(t, j.Payload)
			}},
		{name: "event payload links to /dev/zero", want: []string{"GITHUB_EVENT_PATH", "character device"},
			setup: func(t *testing.T, _, outside string, j *job) {
				j.Payload = filepath.Join(outside, "event.json")
				symlink(t, "/dev/zero", j.Payload)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			root := t.TempDir()
			ws, outside := filepath.Join(root, "ws"), filepath.Join(root, "elsewhere")
			require.NoError(t, os.MkdirAll(outside, 0o755))
			// Parsed, the error would quote the binding name.
			write(t, outside, "secret.toml", []byte("[[kv_namespaces]]\nbinding = \""+outsideSecret+"\"\n"))
			write(t, ws, "dist/index.js", []byte("export default {fetch(){return new Response('ok')}}"))
			j := pushJob(t, cf, ws, nil)
			tc.setup(t, ws, outside, &j)
			start := time.Now()
			a := j.start(t)
			r := a.wait(t, 20*time.Second)
			took := time.Since(start)
			t.Logf("ended after %s", took)
			assert.Less(t, took, 10*time.Second, "the run ends within seconds")
			require.Equal(t, 1, r.Code, r.Stdout)
			require.Len(t, r.errors(), 1, r.Stdout)
			msg := r.errorTexts()[0]
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, r.Stdout, outsideSecret, "nothing quoted from outside the working directory")
			assert.NotContains(t, r.Stdout, "INPUT_", "nothing quoted from /proc/self/environ")
			assert.NotContains(t, r.Summary, outsideSecret)
			assert.Empty(t, cf.Writes(), "nothing was sent to Cloudflare")
			assertNoSecrets(t, r)
		})
	}
}

// TestSIGINTWhileConfigIsAFIFO: SIGINT sent while the action would read a
// FIFO configuration ends the run within seconds with an ::error (before, the
// read blocked in open(2) and the signal changed nothing).
func TestSIGINTWhileConfigIsAFIFO(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := t.TempDir()
	write(t, ws, "dist/index.js", []byte("export default {fetch(){return new Response('ok')}}"))
	mkfifo(t, filepath.Join(ws, "wrangler.jsonc"))
	a := pushJob(t, cf, ws, nil).start(t)
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		require.NoError(t, err)
	}
	r := a.wait(t, 10*time.Second)
	assert.Less(t, time.Since(sent), 5*time.Second, "the run ends within seconds of SIGINT")
	assert.NotEqual(t, 0, r.Code, r.Stdout)
	assert.Len(t, r.errors(), 1, r.Stdout)
	assert.Empty(t, cf.Writes())
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, syscall.Mkfifo(p, 0o644))
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.Symlink(target, p))
}
