package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const changesSecret = "changes-s3cret-VALUE-7"

// changesProduction is the configuration production was deployed with.
const changesProduction = `{
  "name": "shop",
  "compatibility_date": "2025-09-01",
  "vars": {"STAGE": "production", "PROD_ONLY": "yes"},
  "kv_namespaces": [{"binding": "CACHE", "id": "0123456789abcdef0123456789abcdef"}]
}`

// changesPR is the pull request's configuration: a var changed, one removed,
// one added, a newer compatibility date and a new flag.
const changesPR = `{
  "name": "shop",
  "compatibility_date": "2025-10-01",
  "compatibility_flags": ["nodejs_compat"],
  "vars": {"STAGE": "staging-value-not-shown", "NEW_VAR": "x"},
  "kv_namespaces": [{"binding": "CACHE", "id": "0123456789abcdef0123456789abcdef"}]
}`

// changeSummary returns the change summary section of a rendered report.
func changeSummary(t *testing.T, body string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, "#### Changes against production\n")
	require.True(t, ok, "no change summary in:\n%s", body)
	section, _, _ := strings.Cut(after, "<details>")
	return section
}

// deployProduction deploys ws to production with the API_KEY secret.
func deployProduction(t *testing.T, cf *cloudflare, ws string) {
	t.Helper()
	j := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "prod", "compatibility-date": "", "secrets": "API_KEY"})
	if j.Env == nil {
		j.Env = map[string]string{}
	}
	j.Env["API_KEY"] = changesSecret
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
}

// TestChangeSummaryVersionsMode: a pull request in versions mode against a
// Worker with production deployed shows what the commit changes, in the sticky
// comment and the job summary, within the PR budget of 5 requests.
func TestChangeSummaryVersionsMode(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, changesProduction)
	deployProduction(t, cf, ws)

	write(t, ws, "wrangler.jsonc", []byte(changesPR))
	greeting := filepath.Join(ws, "dist", "greeting.txt")
	old, err := os.ReadFile(greeting)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(greeting, append(old, strings.Repeat("x", 1000)...), 0o644))
	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"compatibility-date": "", "secrets": "PR_TOKEN"})
	j.Env["PR_TOKEN"] = changesSecret
	cf.ResetRequests()
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	reqs := cf.Requests()
	assert.LessOrEqual(t, len(reqs), 5, "PR run with a change summary: %v", describe(reqs))
	t.Logf("requests for a PR run with a change summary: %d: %v", len(reqs), describe(reqs))
	assertNothingLeaked(t, gh, r)

	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1)
	for where, body := range map[string]string{"comment": comments[0].Body, "summary": r.Summary} {
		s := changeSummary(t, body)
		assert.Contains(t, s, "Compared with version `", where)
		assert.Contains(t, s, "(#1)", where)
		assert.Contains(t, s, "`NEW_VAR` added (`plain_text`)", where)
		assert.Contains(t, s, "`PROD_ONLY` removed (was `plain_text`)", where)
		assert.Contains(t, s, "`STAGE` (`plain_text`) changed: value", where)
		assert.Contains(t, s, "`PR_TOKEN` added (`secret_text`)", where)
		assert.NotContains(t, s, "API_KEY", "%s: production's secret is carried (keep-secrets), not removed", where)
		assert.NotContains(t, s, "CACHE", "%s: an unchanged binding is not listed", where)
		assert.NotContains(t, s, "staging-value-not-shown", "%s: values are never shown", where)
		assert.NotContains(t, s, changesSecret, where)
		assert.Contains(t, s, "**Compatibility date:** 2025-09-01 → 2025-10-01", where)
		assert.Contains(t, s, "**Compatibility flags:** added `nodejs_compat`", where)
		assert.Regexp(t, regexp.MustCompile(`\*\*Modules:\*\* (\d+) → (\d+) \(±0\), [0-9.]+ (B|KiB) → [0-9.]+ KiB \(\+1000 B\)`), s, where)
		assert.Contains(t, s, "**Durable Object migrations pending:** none", where)
	}

	// The `result` output carries the same summary, without values.
	doc := r.Outputs["result"]
	rec := parseRecord(t, doc)
	require.NotNil(t, rec.Changes)
	c := rec.Changes
	assert.False(t, c.NoProduction)
	assert.Empty(t, c.Unavailable)
	assert.Equal(t, cf.Versions("shop")[0].ID, c.ProductionVersionID)
	assert.Equal(t, 1, c.ProductionVersionNumber)
	assert.Equal(t, map[string]string{
		"NEW_VAR":   "added plain_text",
		"PROD_ONLY": "removed  plain_text",
		"STAGE":     "changed plain_text  text",
		"PR_TOKEN":  "added secret_text",
	}, c.bindingChanges())
	assert.Equal(t, "2025-09-01", c.CompatibilityDateFrom)
	assert.Equal(t, "2025-10-01", c.CompatibilityDateTo)
	assert.Equal(t, []string{"nodejs_compat"}, c.FlagsAdded)
	assert.Empty(t, c.FlagsRemoved)
	assert.True(t, c.SizesKnown)
	assert.Equal(t, c.ModulesFrom, c.ModulesTo)
	assert.Equal(t, int64(1000), c.BytesTo-c.BytesFrom)
	assert.Nil(t, c.PendingMigrations)
	assert.NotContains(t, doc, "staging-value-not-shown", "values are never in the record")
	assert.NotContains(t, doc, changesSecret)
}

// TestChangeSummaryFirstDeploy: without production (a Worker this run
// creates), the summary says so.
func TestChangeSummaryFirstDeploy(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1)
	for _, body := range []string{comments[0].Body, r.Summary} {
		assert.Contains(t, changeSummary(t, body), "No production yet: the Worker has no live deployment")
	}
	rec := parseRecord(t, r.Outputs["result"])
	require.NotNil(t, rec.Changes)
	assert.True(t, rec.Changes.NoProduction)
	assert.Empty(t, rec.Changes.ProductionVersionID)
}

// TestChangeSummaryPreviewsMode: in previews mode the Preview's bindings come
// from the previews block only, so production's other bindings show as
// removed; before production exists the summary says so, at no request.
func TestChangeSummaryPreviewsMode(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	shaA, shaB := strings.Repeat("a", 40), strings.Repeat("b", 40)

	// No production yet: the Worker is created by the run.
	r, reqs := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", shaA, ""), map[string]string{"comment": "true"})
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.LessOrEqual(t, len(reqs), maxPreviewRequests, "first commit: %v", describe(reqs))
	assert.Contains(t, changeSummary(t, r.Summary), "No production yet")

	// Production deployed from the top level of the same configuration.
	deployProduction(t, cf, ws)

	r, reqs = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.22.synchronize.json", shaB, ""), map[string]string{"comment": "true"})
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.LessOrEqual(t, len(reqs), maxPreviewRequests, "a commit with production live: %v", describe(reqs))
	t.Logf("requests, previews mode with production live: %d: %v", len(reqs), describe(reqs))
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1, "the sticky comment is edited in place")
	for where, body := range map[string]string{"comment": comments[0].Body, "summary": r.Summary} {
		s := changeSummary(t, body)
		assert.Contains(t, s, "Compared with version `", where)
		assert.Contains(t, s, "`CACHE` removed (was `kv_namespace`)", where)
		assert.Contains(t, s, "`PROD_ONLY` removed (was `plain_text`)", where)
		assert.Contains(t, s, "`STAGE` (`plain_text`) changed: value", where)
		assert.NotContains(t, s, "API_KEY", "%s: the same secret by name is unchanged", where)
		assert.NotContains(t, s, previewSecret, where)
		assert.NotContains(t, s, changesSecret, where)
		assert.Contains(t, s, "**Compatibility date:** unchanged", where)
		assert.Contains(t, s, "**Compatibility flags:** added `nodejs_compat`", where)
		assert.Regexp(t, `\*\*Modules:\*\* (\d+) → (\d+) \(±0\), .* \(±0 B\)`, s, where)
	}
	rec := parseRecord(t, r.Outputs["result"])
	assert.Equal(t, "previews", rec.Mode)
	require.NotNil(t, rec.Changes)
	assert.Equal(t, cf.Versions("shop")[0].ID, rec.Changes.ProductionVersionID)
	changed := rec.Changes.bindingChanges()
	assert.Equal(t, "removed  kv_namespace", changed["CACHE"])
	assert.Equal(t, "changed plain_text  text", changed["STAGE"])
	assert.NotContains(t, changed, "API_KEY")
	assert.Empty(t, rec.Changes.CompatibilityDateFrom, "unchanged")
	assert.Equal(t, []string{"nodejs_compat"}, rec.Changes.FlagsAdded)
	assert.Equal(t, rec.Changes.BytesFrom, rec.Changes.BytesTo)
	assert.NotContains(t, r.Outputs["result"], previewSecret)
	assert.Empty(t, cf.Versions("shop")[1:], "the PR run made no production version")
}
