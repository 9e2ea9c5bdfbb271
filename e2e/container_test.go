package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContainerImage builds the image from the Dockerfile with podman (its
// `build` stage replaced by host-built files, docs/container-image.md) and
// runs it the way the runner starts a container action: workspace, workflow and
// file-command folders mounted, inputs and context as environment variables.
func TestContainerImage(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("WORKERS_DEPLOY_REQUIRE_CONTAINER") == "1" {
			t.Fatal("podman is required (WORKERS_DEPLOY_REQUIRE_CONTAINER=1) but not on PATH")
		}
		t.Skip("podman not on PATH; .ci/run installs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Host-built stage `build`: the static binary and the CA bundle.
	stage := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(stage, "out", "etc", "ssl", "certs"), 0o755))
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(stage, "out", "workers-deploy"), "../cmd/workers-deploy")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(stage, "out", "etc", "ssl", "certs", "ca-certificates.crt"), ca, 0o644))

	conf := filepath.Join(t.TempDir(), "containers.conf")
	// Setting RLIMIT_NOFILE is not permitted on these machines.
	require.NoError(t, os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644))
	podman := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "podman", args...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		return cmd.CombinedOutput()
	}
	image := "localhost/workers-deploy-e2e:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	out, err = podman("build", "--build-context", "build="+stage, "-t", image, "-f", "../Dockerfile", "..")
	require.NoError(t, err, "podman build:\n%s", out)
	t.Cleanup(func() { _, _ = podman("rmi", "-f", image) })

	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	workflow := t.TempDir()
	event, err := os.ReadFile("../testdata/events/push.04.created.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(workflow, "event.json"), event, 0o644))
	files := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(files, "set_output_1"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(files, "step_summary_1"), nil, 0o644))

	args := []string{"--runtime", "runc", "run", "--rm", "--network", "host",
		"--workdir", "/github/workspace",
		"-v", ws + ":/github/workspace",
		"-v", workflow + ":/github/workflow",
		"-v", files + ":/github/file_commands",
		"-e", "GITHUB_ACTIONS=true", "-e", "CI=true",
		"-e", "GITHUB_WORKSPACE=/github/workspace",
		"-e", "GITHUB_EVENT_NAME=push",
		"-e", "GITHUB_EVENT_PATH=/github/workflow/event.json",
		"-e", "GITHUB_SHA=" + pushSHA,
		"-e", "GITHUB_REPOSITORY=octo/shop", "-e", "GITHUB_RUN_ID=1",
		"-e", "GITHUB_OUTPUT=/github/file_commands/set_output_1",
		"-e", "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_1",
	}
	for k, v := range map[string]string{
		"api-token": testToken, "account-id": testAccount, "api-url": cf.URL, "worker": "shop",
		"compatibility-date": "2025-09-01", "modules": "dist/**", "deploy": "true", "create-worker": "true",
		"working-directory": ".", "stages": "100%", "dry-run": "false",
	} {
		args = append(args, "-e", "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	args = append(args, image)
	out, err = podman(args...)
	require.NoError(t, err, "podman run:\n%s", out)
	assertNoSecrets(t, &run{Stdout: string(out)})

	outputs := parseOutputs(t, filepath.Join(files, "set_output_1"))
	versions := cf.Versions("shop")
	require.Len(t, versions, 1)
	assert.Equal(t, versions[0].ID, outputs["version-id"])
	assert.Equal(t, "100", outputs["deployed-percentage"])
	summary, err := os.ReadFile(filepath.Join(files, "step_summary_1"))
	require.NoError(t, err)
	assert.Contains(t, string(summary), versions[0].ID)
}
