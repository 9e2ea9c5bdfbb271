package emulator

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/workers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newSDK returns Cloudflare's own Go SDK pointed at a fresh emulator.
func newSDK(t *testing.T, opts Options, extra ...option.RequestOption) (*cloudflare.Client, *Server) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = (&testClock{}).Now
	}
	srv, err := New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	all := append([]option.RequestOption{
		option.WithBaseURL(ts.URL + BasePath),
		option.WithAPIToken(testToken),
		option.WithMaxRetries(0),
		option.WithHTTPClient(ts.Client()),
	}, extra...)
	return cloudflare.NewClient(all...), srv
}

func TestSDK_workflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, srv := newSDK(t, Options{Token: testToken, AccountID: testAccount})
	acct := cloudflare.F(testAccount)

	// Create a Worker.
	w, err := client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{
		AccountID: acct,
		Worker: workers.WorkerParam{
			Name:      cloudflare.F("sdk-worker"),
			Subdomain: cloudflare.F(workers.WorkerSubdomainParam{PreviewsEnabled: cloudflare.F(true)}),
			Tags:      cloudflare.F([]string{"owner:sdk"}),
		},
	})
	require.NoError(t, err)
	assert.Regexp(t, hex32Re, w.ID)
	assert.Equal(t, "sdk-worker", w.Name)
	assert.True(t, w.Subdomain.PreviewsEnabled)
	assert.Equal(t, []string{"owner:sdk"}, w.Tags)
	assert.True(t, w.DeployedOn.IsZero(), "deployed_on is null")
	assert.False(t, w.CreatedOn.IsZero())

	got, err := client.Workers.Beta.Workers.Get(ctx, w.ID, workers.BetaWorkerGetParams{AccountID: acct})
	require.NoError(t, err)
	assert.Equal(t, w.ID, got.ID)

	// List Workers over more than one page; the auto-pager must terminate.
	for i := range 4 {
		_, err := client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{
			AccountID: acct,
			Worker:    workers.WorkerParam{Name: cloudflare.F(fmt.Sprintf("extra-%d", i))},
		})
		require.NoError(t, err)
	}
	pager := client.Workers.Beta.Workers.ListAutoPaging(ctx, workers.BetaWorkerListParams{
		AccountID: acct,
		PerPage:   cloudflare.F(int64(2)),
		OrderBy:   cloudflare.F(workers.BetaWorkerListParamsOrderByName),
	})
	var names []string
	for pager.Next() {
		names = append(names, pager.Current().Name)
		require.Less(t, len(names), 100, "the auto-pager does not terminate")
	}
	require.NoError(t, pager.Err())
	assert.Equal(t, []string{"extra-0", "extra-1", "extra-2", "extra-3", "sdk-worker"}, names)

	// Create a version with modules and bindings.
	code := "export default { fetch() { return new Response('hi') } }"
	v1, err := client.Workers.Beta.Workers.Versions.New(ctx, w.ID, workers.BetaWorkerVersionNewParams{
		AccountID: acct,
		Version: workers.VersionParam{
			MainModule:         cloudflare.F("index.js"),
			CompatibilityDate:  cloudflare.F("2026-04-01"),
			CompatibilityFlags: cloudflare.F([]string{"nodejs_compat"}),
			Modules: cloudflare.F([]workers.VersionModuleParam{
				{Name: cloudflare.F("index.js"), ContentType: cloudflare.F("application/javascript+module"), ContentBase64: cloudflare.F(base64.StdEncoding.EncodeToString([]byte(code)))},
				{Name: cloudflare.F("index.js.map"), ContentType: cloudflare.F("application/source-map"), ContentBase64: cloudflare.F(base64.StdEncoding.EncodeToString([]byte("{}")))},
			}),
			Bindings: cloudflare.F([]workers.VersionBindingsUnionParam{
				workers.VersionBindingsWorkersBindingKindPlainTextParam{Name: cloudflare.F("GREETING"), Text: cloudflare.F("hello"), Type: cloudflare.F(workers.VersionBindingsWorkersBindingKindPlainTextTypePlainText)},
				workers.VersionBindingsWorkersBindingKindSecretTextParam{Name: cloudflare.F("TOKEN"), Text: cloudflare.F("sdk-secret"), Type: cloudflare.F(workers.VersionBindingsWorkersBindingKindSecretTextTypeSecretText)},
			}),
			Annotations: cloudflare.F(workers.VersionAnnotationsParam{WorkersTag: cloudflare.F("commit-1"), WorkersMessage: cloudflare.F("first")}),
		},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), v1.Number)
	assert.Equal(t, "commit-1", v1.Annotations.WorkersTag)
	assert.Equal(t, "upload", v1.Annotations.WorkersTriggeredBy)
	assert.Equal(t, []string{"https://" + v1.ID[:8] + "-sdk-worker.emulator.workers.dev"}, v1.URLs)
	require.Len(t, v1.Bindings, 2)
	assert.Equal(t, "GREETING", v1.Bindings[0].Name)
	assert.Equal(t, "hello", v1.Bindings[0].Text)
	assert.Equal(t, "TOKEN", v1.Bindings[1].Name)
	assert.Empty(t, v1.Bindings[1].Text, "secret values are never echoed")
	assert.NotContains(t, v1.JSON.RawJSON(), "sdk-secret")

	stored := srv.Versions(w.ID)
	require.Len(t, stored, 1)
	assert.Equal(t, code, string(stored[0].Modules[0].Content), "the SDK's content_base64 decodes to the original code")
	assert.Equal(t, "sdk-secret", stored[0].Bindings[1]["text"])

	// Get with include=modules.
	full, err := client.Workers.Beta.Workers.Versions.Get(ctx, w.ID, v1.ID[:8], workers.BetaWorkerVersionGetParams{
		AccountID: acct,
		Include:   cloudflare.F(workers.BetaWorkerVersionGetParamsIncludeModules),
	})
	require.NoError(t, err)
	assert.Equal(t, v1.ID, full.ID)
	require.Len(t, full.Modules, 2)
	assert.Equal(t, "index.js", full.Modules[0].Name)
	decoded, err := base64.StdEncoding.DecodeString(full.Modules[0].ContentBase64)
	require.NoError(t, err)
	assert.Equal(t, code, string(decoded))
	bare, err := client.Workers.Beta.Workers.Versions.Get(ctx, w.ID, "latest", workers.BetaWorkerVersionGetParams{AccountID: acct})
	require.NoError(t, err)
	assert.Empty(t, bare.Modules)

	// A second version that keeps the secret with an inherit binding.
	v2, err := client.Workers.Beta.Workers.Versions.New(ctx, "sdk-worker", workers.BetaWorkerVersionNewParams{
		AccountID: acct,
		Version: workers.VersionParam{
			MainModule: cloudflare.F("index.js"),
			Modules: cloudflare.F([]workers.VersionModuleParam{
				{Name: cloudflare.F("index.js"), ContentType: cloudflare.F("application/javascript+module"), ContentBase64: cloudflare.F(base64.StdEncoding.EncodeToString([]byte(code)))},
			}),
			Bindings: cloudflare.F([]workers.VersionBindingsUnionParam{
				workers.VersionBindingsWorkersBindingKindInheritParam{Name: cloudflare.F("TOKEN"), Type: cloudflare.F(workers.VersionBindingsWorkersBindingKindInheritTypeInherit)},
			}),
		},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), v2.Number)
	require.Len(t, v2.Bindings, 1)
	assert.Equal(t, workers.VersionBindingsTypeSecretText, v2.Bindings[0].Type)

	versions := client.Workers.Beta.Workers.Versions.ListAutoPaging(ctx, w.ID, workers.BetaWorkerVersionListParams{AccountID: acct, PerPage: cloudflare.F(int64(1))})
	var ids []string
	for versions.Next() {
		ids = append(ids, versions.Current().ID)
		require.Less(t, len(ids), 100, "the auto-pager does not terminate")
	}
	require.NoError(t, versions.Err())
	assert.Equal(t, []string{v2.ID, v1.ID}, ids, "newest first")

	// Deploy a split, then 100 %.
	split, err := client.Workers.Scripts.Deployments.New(ctx, w.Name, workers.ScriptDeploymentNewParams{
		AccountID: acct,
		Deployment: workers.DeploymentParam{
			Strategy: cloudflare.F(workers.DeploymentStrategyPercentage),
			Versions: cloudflare.F([]workers.DeploymentVersionParam{
				{VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(10.0)},
				{VersionID: cloudflare.F(v1.ID), Percentage: cloudflare.F(90.0)},
			}),
			Annotations: cloudflare.F(workers.DeploymentAnnotationsParam{WorkersMessage: cloudflare.F("canary")}),
		},
		Force: cloudflare.F(false),
	})
	require.NoError(t, err)
	assert.Equal(t, workers.DeploymentStrategyPercentage, split.Strategy)
	assert.Equal(t, "canary", split.Annotations.WorkersMessage)
	assert.Equal(t, AuthorEmail, split.AuthorEmail)
	full100, err := client.Workers.Scripts.Deployments.New(ctx, w.Name, workers.ScriptDeploymentNewParams{
		AccountID: acct,
		Deployment: workers.DeploymentParam{
			Strategy: cloudflare.F(workers.DeploymentStrategyPercentage),
			Versions: cloudflare.F([]workers.DeploymentVersionParam{{VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(100.0)}}),
		},
	})
	require.NoError(t, err)

	list, err := client.Workers.Scripts.Deployments.List(ctx, w.Name, workers.ScriptDeploymentListParams{AccountID: acct})
	require.NoError(t, err)
	require.Len(t, list.Deployments, 2)
	assert.Equal(t, full100.ID, list.Deployments[0].ID, "the first deployment is the active one")
	assert.Equal(t, []workers.DeploymentVersion{{VersionID: v2.ID, Percentage: 100}}, []workers.DeploymentVersion{{VersionID: list.Deployments[0].Versions[0].VersionID, Percentage: list.Deployments[0].Versions[0].Percentage}})
	assert.Equal(t, split.ID, list.Deployments[1].ID)

	one, err := client.Workers.Scripts.Deployments.Get(ctx, w.Name, split.ID, workers.ScriptDeploymentGetParams{AccountID: acct})
	require.NoError(t, err)
	assert.Equal(t, split.ID, one.ID)

	after, err := client.Workers.Beta.Workers.Get(ctx, "sdk-worker", workers.BetaWorkerGetParams{AccountID: acct})
	require.NoError(t, err)
	assert.Equal(t, full100.CreatedOn, after.DeployedOn)

	sub, err := client.Workers.Subdomains.Get(ctx, workers.SubdomainGetParams{AccountID: acct})
	require.NoError(t, err)
	assert.Equal(t, "emulator", sub.Subdomain)
	ss, err := client.Workers.Scripts.Subdomain.New(ctx, w.Name, workers.ScriptSubdomainNewParams{AccountID: acct, Enabled: cloudflare.F(true)})
	require.NoError(t, err)
	assert.True(t, ss.Enabled)
	assert.True(t, ss.PreviewsEnabled)

	// Deleting: the active deployment cannot go, an old one can; old versions can go.
	_, err = client.Workers.Scripts.Deployments.Delete(ctx, w.Name, full100.ID, workers.ScriptDeploymentDeleteParams{AccountID: acct})
	requireAPIError(t, err, 404, 10338)
	_, err = client.Workers.Scripts.Deployments.Delete(ctx, w.Name, split.ID, workers.ScriptDeploymentDeleteParams{AccountID: acct})
	require.NoError(t, err)
	_, err = client.Workers.Beta.Workers.Versions.Delete(ctx, w.ID, v1.ID, workers.BetaWorkerVersionDeleteParams{AccountID: acct})
	require.NoError(t, err)

	_, err = client.Workers.Beta.Workers.Edit(ctx, w.ID, workers.BetaWorkerEditParams{AccountID: acct, Worker: workers.WorkerParam{Logpush: cloudflare.F(true)}})
	require.NoError(t, err)
	_, err = client.Workers.Beta.Workers.Delete(ctx, w.ID, workers.BetaWorkerDeleteParams{AccountID: acct})
	require.NoError(t, err)
	assert.Len(t, srv.Workers(), 4)
}

// requireAPIError asserts err is the SDK's *cloudflare.Error with the status and first code.
func requireAPIError(t *testing.T, err error, status int, code int64) {
	t.Helper()
	require.Error(t, err)
	var apiErr *cloudflare.Error
	require.True(t, errors.As(err, &apiErr), "error %v is a *cloudflare.Error", err)
	assert.Equal(t, status, apiErr.StatusCode)
	require.NotEmpty(t, apiErr.Errors)
	assert.Equal(t, code, apiErr.Errors[0].Code)
}

func TestSDK_errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, _ := newSDK(t, Options{Token: testToken})
	acct := cloudflare.F(testAccount)

	_, err := client.Workers.Beta.Workers.Get(ctx, "missing", workers.BetaWorkerGetParams{AccountID: acct})
	requireAPIError(t, err, 404, 10007)

	_, err = client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{AccountID: acct, Worker: workers.WorkerParam{Name: cloudflare.F("Bad Name")}})
	requireAPIError(t, err, 400, 10016)

	_, err = client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{AccountID: acct, Worker: workers.WorkerParam{Name: cloudflare.F("dup")}})
	require.NoError(t, err)
	_, err = client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{AccountID: acct, Worker: workers.WorkerParam{Name: cloudflare.F("dup")}})
	requireAPIError(t, err, 409, 10040)

	_, err = client.Workers.Beta.Workers.Versions.Get(ctx, "dup", "latest", workers.BetaWorkerVersionGetParams{AccountID: acct})
	requireAPIError(t, err, 404, 10071)

	_, err = client.Workers.Scripts.Deployments.New(ctx, "dup", workers.ScriptDeploymentNewParams{
		AccountID: acct,
		Deployment: workers.DeploymentParam{
			Strategy: cloudflare.F(workers.DeploymentStrategyPercentage),
			Versions: cloudflare.F([]workers.DeploymentVersionParam{{VersionID: cloudflare.F("00000000-0000-4000-8000-000000000000"), Percentage: cloudflare.F(50.0)}}),
		},
	})
	requireAPIError(t, err, 400, 10210)

	wrongToken, _ := newSDK(t, Options{Token: testToken}, option.WithAPIToken("not-the-token"))
	_, err = wrongToken.Workers.Beta.Workers.Get(ctx, "dup", workers.BetaWorkerGetParams{AccountID: acct})
	requireAPIError(t, err, 403, 10000)
	assert.NotContains(t, err.Error(), "not-the-token")
}

// TestSDK_retries checks that the SDK's retry loop honours the emulator's injected
// Retry-After-Ms and recovers, and that x-should-retry: false stops it.
func TestSDK_retries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, srv := newSDK(t, Options{}, option.WithMaxRetries(3))
	acct := cloudflare.F(testAccount)

	srv.InjectFault(Fault{Method: "POST", Path: "/accounts/*/workers/workers", Status: 503, RetryAfterMs: "1", Times: 2})
	start := time.Now()
	w, err := client.Workers.Beta.Workers.New(ctx, workers.BetaWorkerNewParams{AccountID: acct, Worker: workers.WorkerParam{Name: cloudflare.F("retried")}})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "Retry-After-Ms replaces the 2 s backoff")
	assert.Equal(t, "retried", w.Name)
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	assert.Equal(t, []int{503, 503, 200}, statuses)

	srv.ResetRequests()
	srv.InjectFault(Fault{Method: "GET", Path: "/**", Status: 503, ShouldRetry: "false", Times: 1})
	_, err = client.Workers.Beta.Workers.Get(ctx, w.ID, workers.BetaWorkerGetParams{AccountID: acct})
	requireAPIError(t, err, 503, 10002)
	assert.Len(t, srv.Requests(), 1)
}
