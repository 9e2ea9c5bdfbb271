package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// hostileChanges names bindings and flags the way a repository could:
// Markdown, HTML, mentions and links must come out inert.
func hostileChanges() *pipeline.Changes {
	return &pipeline.Changes{
		ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 7,
		Bindings: []pipeline.BindingChange{
			{Name: "API_TOKEN", Change: "added", Type: "secret_text"},
			{Name: "CACHE", Change: "changed", Type: "r2_bucket", OldType: "kv_namespace"},
			{Name: "KV", Change: "changed", Type: "kv_namespace", Fields: []string{"namespace_id"}},
			{Name: "MODE", Change: "changed", Type: "plain_text", Fields: []string{"text"}},
			{Name: "OLD_DB", Change: "removed", OldType: "d1"},
			{Name: "X`</details><img src=x>|@octocat", Change: "added", Type: "plain_text"},
		},
		CompatibilityDateFrom: "2025-01-01", CompatibilityDateTo: "2025-09-01",
		FlagsAdded: []string{"nodejs_compat"}, FlagsRemoved: []string{"`x`|<b>"},
		ModulesFrom: 2, ModulesTo: 3, BytesFrom: 3 << 10, BytesTo: 3<<20 + 2089, SizesKnown: true,
		Assets:     &pipeline.AssetChanges{Files: 120, NewOrChanged: 3},
		Migrations: &pipeline.PendingMigrations{FromTag: "v1", ToTag: "v3", Steps: 2},
	}
}

var codeSpan = regexp.MustCompile("`[^`\n]*`")

func TestChangeSummaryGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		changes *pipeline.Changes
		maxRows int
	}{
		{"changes.md", hostileChanges(), 0},
		{"changes-cut.md", hostileChanges(), 2},
		{"changes-first-deploy.md", &pipeline.Changes{NoProduction: true}, 0},
		{"changes-unavailable.md", &pipeline.Changes{Unavailable: "production could not be read (see the log)"}, 0},
		{"changes-unchanged.md", &pipeline.Changes{
			ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 7,
			ModulesTo: 1, BytesTo: 41, Assets: &pipeline.AssetChanges{Files: 4, NewOrChanged: -1},
		}, 0},
		{"changes-smaller.md", &pipeline.Changes{
			ProductionVersionID: "00000000-0000-4000-8000-000000000002", ProductionVersionNumber: 7,
			ModulesFrom: 3, ModulesTo: 3, BytesFrom: 5000, BytesTo: 4000, SizesKnown: true,
			Migrations: &pipeline.PendingMigrations{ToTag: "v1", Steps: 1},
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ChangeSummary(tc.changes, tc.maxRows)
			golden(t, tc.name, got)
			// Untrusted text stays inside code spans, where GitHub renders
			// it literally: no HTML, mention or link outside them.
			outside := codeSpan.ReplaceAllString(got, "")
			assert.NotContains(t, outside, "<img")
			assert.NotContains(t, outside, "<b>")
			assert.NotContains(t, outside, "@octocat")
			assert.Equal(t, 0, strings.Count(outside, "`"), "no code span left open")
		})
	}
}

func TestChangeSummaryInSummary(t *testing.T) {
	t.Parallel()
	assert.Empty(t, ChangeSummary(nil, 0))
	res := &pipeline.Result{WorkerName: "shop", Tag: "t", MainModule: "index.mjs", Changes: &pipeline.Changes{NoProduction: true}}
	assert.True(t, strings.Contains(Summary(res, ""), "#### Changes against production"))
}
