package cloudflare_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

const previewAccount = "0123456789abcdef0123456789abcdef"

func previewClient(t *testing.T, faults ...emulator.Fault) (*cloudflare.Client, *emulator.Server) {
	t.Helper()
	emu, err := emulator.New(emulator.Options{AccountID: previewAccount, Faults: faults})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := cloudflare.New(srv.URL+emulator.BasePath, "tok", previewAccount,
		cloudflare.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		cloudflare.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	require.NoError(t, err)
	_, err = c.CreateWorker(t.Context(), cloudflare.WorkerInput{Name: "shop", Subdomain: &cloudflare.SubdomainSettings{Enabled: true, PreviewsEnabled: true}})
	require.NoError(t, err)
	return c, emu
}

func previewInput(tag string) cloudflare.PreviewDeploymentInput {
	return cloudflare.PreviewDeploymentInput{
		MainModule: "index.js",
		Modules: []cloudflare.ModuleUpload{{Name: "index.js", ContentType: "application/javascript+module",
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("export default {}")), nil }}},
		Annotations: map[string]string{cloudflare.AnnotationTag: tag},
	}
}

// TestPreviewCreatesResolveUnknownOutcomes: a create whose answer is lost is looked up before
// anything is re-sent, so there is exactly one Preview and one deployment.
func TestPreviewCreatesResolveUnknownOutcomes(t *testing.T) {
	c, emu := previewClient(t,
		emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/previews", Times: 1, Kind: emulator.FaultLostResponse},
		emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/previews/*/deployments", Times: 1, Kind: emulator.FaultLostResponse},
		emulator.Fault{Method: "DELETE", Path: "/accounts/*/workers/workers/*/previews/*", Times: 1, Kind: emulator.FaultLostResponse},
	)
	p, err := c.CreatePreview(t.Context(), "shop", cloudflare.PreviewInput{Name: "pr-1"})
	require.NoError(t, err)
	assert.Equal(t, "pr-1", p.Name)
	d, err := c.CreatePreviewDeployment(t.Context(), "shop", "pr-1", previewInput("sha-1"))
	require.NoError(t, err)
	assert.Equal(t, "sha-1", d.Tag())
	states := emu.Previews("shop")
	require.Len(t, states, 1)
	assert.Len(t, states[0].Deployments, 1)

	deleted, err := c.DeletePreview(t.Context(), "shop", "pr-1")
	require.NoError(t, err)
	assert.True(t, deleted)
	assert.Empty(t, emu.Previews("shop"))
}

func TestPreviewDeploymentWithoutTagIsNotResent(t *testing.T) {
	c, emu := previewClient(t,
		emulator.Fault{Method: "POST", Path: "/accounts/*/workers/workers/*/previews/*/deployments", Times: 1, Kind: emulator.FaultLostResponse})
	_, err := c.CreatePreview(t.Context(), "shop", cloudflare.PreviewInput{Name: "pr-1"})
	require.NoError(t, err)
	_, err = c.CreatePreviewDeployment(t.Context(), "shop", "pr-1", previewInput(""))
	require.ErrorIs(t, err, cloudflare.ErrUnknownOutcome)
	assert.Len(t, emu.Previews("shop")[0].Deployments, 1)
}

func TestFindPreviewDeploymentByTagPages(t *testing.T) {
	c, _ := previewClient(t)
	_, err := c.CreatePreview(t.Context(), "shop", cloudflare.PreviewInput{Name: "pr-1"})
	require.NoError(t, err)
	for _, tag := range []string{"a", "b", "c"} {
		_, err := c.CreatePreviewDeployment(t.Context(), "shop", "pr-1", previewInput(tag))
		require.NoError(t, err)
	}
	got, err := c.FindPreviewDeploymentByTag(t.Context(), "shop", "pr-1", "a")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, 1, got.Number)
	got, err = c.FindPreviewDeploymentByTag(t.Context(), "shop", "pr-1", "zzz")
	require.NoError(t, err)
	assert.Nil(t, got)
	got, err = c.FindPreviewDeploymentByTag(t.Context(), "shop", "no-such-preview", "a")
	require.NoError(t, err)
	assert.Nil(t, got)
}

// TestPreviewEmptyAnswers: a 2xx answer without the fields the action needs
// (an empty result) to a Preview read or create is an unknown outcome, resolved
// by reading: the run gets the real Preview and deployment, and nothing is
// created twice.
func TestPreviewEmptyAnswers(t *testing.T) {
	const previews = "/accounts/*/workers/workers/*/previews"
	c, emu := previewClient(t,
		emulator.Fault{Method: "POST", Path: previews, Times: 1, Kind: emulator.FaultEmpty},
		emulator.Fault{Method: "GET", Path: previews + "/*", Times: 1, Kind: emulator.FaultEmpty},
		emulator.Fault{Method: "POST", Path: previews + "/*/deployments", Times: 1, Kind: emulator.FaultEmpty},
	)
	p, err := c.CreatePreview(t.Context(), "shop", cloudflare.PreviewInput{Name: "pr-1"})
	require.NoError(t, err)
	assert.NotEmpty(t, p.ID)
	assert.Equal(t, "pr-1", p.Name)
	got, err := c.GetPreview(t.Context(), "shop", "pr-1")
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)
	d, err := c.CreatePreviewDeployment(t.Context(), "shop", "pr-1", previewInput("sha-1"))
	require.NoError(t, err)
	assert.NotEmpty(t, d.ID)
	assert.Equal(t, "sha-1", d.Tag())
	states := emu.Previews("shop")
	require.Len(t, states, 1)
	require.Len(t, states[0].Deployments, 1)
	assert.Equal(t, states[0].Deployments[0].ID, d.ID)
}
