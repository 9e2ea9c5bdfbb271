package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestReleasePinsTheImageDigest runs the `pin` job's script of
// .github/workflows/release.yml for real, offline: in a throwaway git
// repository holding this action.yml, with a local bare repository as origin.
// The released tag and the major tag must point at a commit whose action.yml
// runs the pushed image by digest, while the source commit keeps
// `image: 'Dockerfile'` (what `main` uses for `uses: ./`).
func TestReleasePinsTheImageDigest(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "release.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	script := ""
	for _, s := range wf.Jobs["pin"].Steps {
		if strings.Contains(s.Run, "action.yml") {
			script = s.Run
		}
	}
	require.NotEmpty(t, script, "the pin job's script")
	actionYML, err := os.ReadFile(filepath.Join("..", "action.yml"))
	require.NoError(t, err)
	require.Contains(t, string(actionYML), "\n  image: 'Dockerfile'\n", "main runs the Dockerfile")

	dir := t.TempDir()
	origin, work := filepath.Join(dir, "origin.git"), filepath.Join(dir, "work")
	env := append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	git := func(cwd string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = cwd, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git(dir, "init", "-q", "--bare", origin)
	git(dir, "init", "-q", work)
	require.NoError(t, os.WriteFile(filepath.Join(work, "action.yml"), actionYML, 0o644))
	git(work, "add", "action.yml")
	git(work, "commit", "-qm", "source")
	source := git(work, "rev-parse", "HEAD")
	git(work, "tag", "v1.4.2")
	git(work, "remote", "add", "origin", origin)
	git(work, "push", "-q", "origin", "HEAD:refs/heads/main", "refs/tags/v1.4.2")

	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = work
	cmd.Env = append(env, "DIGEST="+digest, "TAG=v1.4.2", "GITHUB_REPOSITORY=Octo-Org/Workers-Deploy")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "pin script: %s", out)

	released := git(origin, "rev-parse", "refs/tags/v1.4.2^{commit}")
	assert.NotEqual(t, source, released, "the tag moved to the release commit")
	assert.Equal(t, released, git(origin, "rev-parse", "refs/tags/v1^{commit}"), "the major tag follows")
	assert.Equal(t, source, git(origin, "rev-parse", "refs/heads/main"), "main is untouched")
	pinned := git(origin, "show", released+":action.yml")
	assert.Contains(t, pinned+"\n", "\n  image: 'docker://ghcr.io/octo-org/workers-deploy@"+digest+"'\n")
	assert.NotContains(t, pinned, "Dockerfile")
	var meta map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(pinned), &meta), "the pinned action.yml is still valid YAML")
	assert.Equal(t, "docker", meta["runs"].(map[string]any)["using"])
	assert.Equal(t, source, git(origin, "rev-parse", released+"^"), "the release commit sits on the source commit")
}
