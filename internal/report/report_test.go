package report

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/esbundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./internal/report -update` to create %s", path)
	assert.Equal(t, string(want), got, "(+got, -want) golden %s", path)
}

func modules() []pipeline.Module {
	return []pipeline.Module{
		{Name: "add.wasm", ContentType: "application/wasm", Size: 41},
		{Name: "index.mjs", ContentType: "application/javascript+module", Size: 2048},
		{Name: "lib/util.mjs", ContentType: "application/javascript+module", Size: 3 << 20},
	}
}

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		res  *pipeline.Result
	}{
		{"created.md", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop", WorkerCreated: true,
			Tag: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Message: "Fix <script>alert(1)</script> | @octocat ping [x](javascript:1)",
			MainModule: "index.mjs", Modules: modules(), RawBytes: 3<<20 + 2089, GzipBytes: 1 << 20,
			CompatibilityDate: "2025-09-01", CompatibilityFlags: []string{"nodejs_compat"},
			VersionID: "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 3,
			PreviewURL: "https://182bd5e5-shop.acme.workers.dev",
		}},
		{"deployed.md", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop",
			Tag: "v1", MainModule: "index.mjs", Modules: modules()[:2], RawBytes: 2089, GzipBytes: 900,
			CompatibilityDate: "2025-09-01",
			VersionID:         "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 4, VersionReused: true,
			Deployed: true, DeploymentID: "5f1e2d3c-0000-4000-8000-000000000001", DeployedPercentage: 100,
			PreviousVersionID: "00000000-0000-4000-8000-000000000002",
		}},
		{"dryrun.md", &pipeline.Result{
			DryRun: true, WorkerName: "shop", Tag: "content-0123456789abcdef",
			MainModule: "index.mjs", Modules: modules()[:1], RawBytes: 41, GzipBytes: 60, CompatibilityDate: "2025-09-01",
		}},
		{"bundled.md", &pipeline.Result{
			DryRun: true, WorkerName: "shop", Tag: "content-0123456789abcdef",
			MainModule: "index.js", Modules: modules()[:1], RawBytes: 41, GzipBytes: 60, CompatibilityDate: "2025-09-01",
			Bundled: &pipeline.Bundled{Entry: "src/index.ts", Main: "index.js", Reason: "the entry src/index.ts is a source file",
				Summary: esbundle.Summary{Inputs: 12, Packages: []string{"hono", "@cloudflare/unenv-preset"}, Polyfilled: []string{"node:os"}}},
		}},
		{"skipped.md", &pipeline.Result{Skipped: "this push deletes refs/heads/feature: nothing to deploy"}},
		{"rolledback.md", &pipeline.Result{
			WorkerID: "0123456789abcdef0123456789abcdef", WorkerName: "shop",
			Tag: "v2", Message: "@here ~~gone~~ $$x$$ \\| end", MainModule: "index.mjs", Modules: modules()[1:2], RawBytes: 2048, GzipBytes: 900,
			CompatibilityDate: "2025-09-01",
			VersionID:         "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", VersionNumber: 5,
			Deployed: true, DeploymentID: "5f1e2d3c-0000-4000-8000-000000000003", DeployedPercentage: 0, RolledBack: true,
			PreviousVersionID: "00000000-0000-4000-8000-000000000002",
			Bindings:          []pipeline.BindingInfo{{Name: "KV", Type: "kv_namespace"}, {Name: "API_KEY", Type: "secret_text"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden(t, tc.name, Summary(tc.res, "https://github.com/octo/shop/actions/runs/42"))
		})
	}
}

func TestRenderFailure(t *testing.T) {
	t.Parallel()
	res := &pipeline.Result{WorkerName: "w", Tag: "t", MainModule: "m.js"}
	got := Render(res, Details{Failure: "failed to deploy <b>x</b> @team"})
	assert.Contains(t, got, "\n**Failed:** failed to deploy &lt;b&gt;x&lt;/b&gt; @\u200bteam\n")
	assert.Equal(t, Summary(res, "u"), Render(res, Details{RunURL: "u"}), "the summary is Render without a failure")
}

func TestRenderCutsBindings(t *testing.T) {
	t.Parallel()
	res := &pipeline.Result{WorkerName: "w", Tag: "t"}
	for i := range 30 {
		res.Bindings = append(res.Bindings, pipeline.BindingInfo{Name: fmt.Sprintf("B%d", i), Type: "plain_text"})
	}
	got := Render(res, Details{MaxRows: 10})
	assert.Contains(t, got, "| … 20 more (cut to keep the report short) | |")
	assert.Contains(t, got, "`B9`")
	assert.NotContains(t, got, "`B10`")
}

func TestSummaryManyModulesIsCut(t *testing.T) {
	t.Parallel()
	res := &pipeline.Result{WorkerName: "w", Tag: "t", MainModule: "m0.js"}
	for i := range 450 {
		res.Modules = append(res.Modules, pipeline.Module{Name: fmt.Sprintf("m%d.js", i), ContentType: "application/javascript+module", Size: 1})
	}
	s := Summary(res, "")
	assert.Contains(t, s, "… 250 more")
	assert.NotContains(t, s, "`m449.js`")
}

func TestEscapeUntrustedText(t *testing.T) {
	t.Parallel()
	got := EscapeText("<img src=x onerror=alert(1)> | @team **bold** [l](u)\nsecond line")
	assert.NotContains(t, got, "<img")
	assert.NotContains(t, got, " | ")
	assert.NotContains(t, got, "@team")
	assert.NotContains(t, got, "\n")
	assert.NotContains(t, got, "[l](u)")
	for _, url := range []string{"https://evil.example/x", "HTTP://EVIL.example", "ftp://evil.example", "www.evil.example", "WWW.Evil.example"} {
		got := EscapeText("see " + url + " now")
		assert.NotContains(t, strings.ToLower(got), "://evil", "scheme and domain are apart: %q", got)
		assert.NotContains(t, strings.ToLower(got), "www.evil", "www. is broken: %q", got)
		assert.Equal(t, "see "+url+" now", strings.ReplaceAll(got, "\u200d", ""), "the text reads the same")
	}
	assert.Equal(t, "bad \uFFFD bytes", EscapeText("bad \xff\xfe bytes"))
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	got := Outputs(&pipeline.Result{WorkerID: "w", WorkerName: "n", VersionID: "v", VersionNumber: 2, Deployed: true, DeployedPercentage: 100, DeploymentID: "d"})
	m := map[string]string{}
	for _, o := range got {
		m[o.Name] = o.Value
	}
	assert.Equal(t, map[string]string{
		"worker-id": "w", "worker-name": "n", "version-id": "v", "version-number": "2", "version-reused": "false",
		"preview-url": "", "deployment-id": "d", "deployed-percentage": "100", "previous-version-id": "",
		"rolled-back": "false", "comment-url": "", "commit-url": "", "preview-id": "", "preview-deployment-id": "",
	}, m)
	assert.Len(t, got, 14, "every output but `result` (a later feature)")
}

func TestAdvice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"bad token", fmt.Errorf("failed to look up Worker: %w", &cloudflare.APIError{Method: "GET", Path: "/x", Status: 403, Errors: []cloudflare.ErrorDetail{{Code: 10000, Message: "Authentication error"}}}), "Workers Scripts: Edit"},
		{"outage", &cloudflare.APIError{Method: "GET", Path: "/x", Status: 503}, "rerun the job later"},
		{"validation", &cloudflare.APIError{Method: "POST", Path: "/x", Status: 400, Errors: []cloudflare.ErrorDetail{{Code: 10021, Message: "Uncaught SyntaxError"}}}, "main-module"},
		{"invalid access token", &cloudflare.APIError{Method: "GET", Path: "/x", Status: 400, Errors: []cloudflare.ErrorDetail{{Code: 9109, Message: "Invalid access token"}}}, "did not accept the API token"},
		{"too large", &cloudflare.APIError{Method: "PUT", Path: "/x", Status: 400, Errors: []cloudflare.ErrorDetail{{Code: 10027, Message: "exceeds the size limit"}}}, "over the account's size limit"},
		{"input", &inputs.Error{Input: "tag", Err: errors.New("too long")}, "input `tag`: too long"},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), "cancelled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Contains(t, Advice(tc.err), tc.want)
		})
	}
}

// TestAdviceNamesCloudflareCodes: the package compares Cloudflare error codes
// through the named constants of package cloudflare, never bare numbers.
func TestAdviceNamesCloudflareCodes(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	calls := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "HasCode" && len(c.Args) == 1 {
					calls++
					_, bare := c.Args[0].(*ast.BasicLit)
					assert.False(t, bare, "%s: HasCode with a bare number; use a cloudflare.Code* constant", path)
				}
			}
			return true
		})
	}
	assert.Positive(t, calls, "the scan found the HasCode calls")
}
