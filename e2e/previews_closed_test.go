package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedNote is how the sticky comment reads once the pull request was closed and its
// Preview deleted (internal/comment/testdata/closed-note.md).
const closedNote = "Pull request #2 was closed and its Preview `pr-2` deleted"

// requestKinds shortens "METHOD /repos/o/r/issues/2/comments" to what the request did,
// for budgets that do not depend on the repository's name.
func requestKinds(reqs []string) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		switch {
		case r == "GET /user":
			out = append(out, "user")
		case strings.HasPrefix(r, "GET ") && strings.HasSuffix(r, "/issues/2/comments"):
			out = append(out, "list")
		case strings.HasPrefix(r, "POST ") && strings.HasSuffix(r, "/issues/2/comments"):
			out = append(out, "create")
		case strings.HasPrefix(r, "PATCH ") && strings.Contains(r, "/issues/comments/"):
			out = append(out, "edit")
		default:
			out = append(out, r)
		}
	}
	return out
}

// TestPreviewsClosedEditsTheComment: opened writes the sticky comment with the Preview's
// URLs; closed deletes the Preview and edits that same comment to the closed note, with
// one comments list, the token's identity and one edit.
func TestPreviewsClosedEditsTheComment(t *testing.T) {
	t.Parallel()
	cf, gh, ws := previewsWorkspace(t, previewsConfig)
	sha := strings.Repeat("a", 40)
	on := map[string]string{"comment": "true"}

	r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", sha, ""), on)
	require.Equal(t, 0, r.Code, r.Stdout)
	cs := gh.commentsOf(2)
	require.Len(t, cs, 1, "opened: the sticky comment is created")
	assert.Contains(t, cs[0].Body, "https://pr-2-shop.acme.workers.dev")
	require.Len(t, cf.Previews("shop"), 1)
	gh.requests()

	r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.03.closed.json", sha, ""), on)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, warnings(r), r.Stdout)
	assert.Empty(t, cf.Previews("shop"), "closed: the Preview is gone")
	assert.Equal(t, []string{"list", "user", "edit"}, requestKinds(gh.requests()), "GitHub requests on closed")
	after := gh.commentsOf(2)
	require.Len(t, after, 1, "the same comment, edited in place")
	assert.Equal(t, cs[0].ID, after[0].ID)
	assert.Contains(t, after[0].Body, closedNote)
	assert.NotContains(t, after[0].Body, "workers.dev", "no URL that no longer serves")
	assert.True(t, strings.HasPrefix(after[0].Body, "<!-- workers-deploy:sticky-comment worker=shop -->\n"), after[0].Body)
	assert.Contains(t, r.Outputs["comment-url"], "#issuecomment-")
	parseRecord(t, r.Outputs["result"]) // valid against the schema
	var rec struct {
		URLs struct {
			CommentURL string `json:"comment_url"`
		} `json:"urls"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Outputs["result"]), &rec))
	assert.Equal(t, r.Outputs["comment-url"], rec.URLs.CommentURL, "the run record has the edited comment")
	assertNothingLeaked(t, gh, r)

	// A second closed finds no Preview: the comment is not touched, nothing is sent.
	r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.03.closed.json", sha, ""), on)
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, gh.requests(), "no Preview deleted: the comment is left as it is")
	assert.Equal(t, after, gh.commentsOf(2))
}

// TestPreviewsClosedComments covers the closed runs that must not write a comment, and a
// read-only token.
func TestPreviewsClosedComments(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("b", 40)
	cases := []struct {
		name string
		// openComment writes the sticky comment on opened.
		openComment bool
		closeInputs map[string]string
		readOnly    bool
		wantKinds   []string
		wantWarning string
	}{
		{name: "no comment before: none is created", closeInputs: map[string]string{"comment": "true"}, wantKinds: []string{"list"}},
		{name: "comment: false leaves the comment", openComment: true, closeInputs: map[string]string{"comment": "false"}},
		{name: "delete-preview: false leaves the comment", openComment: true, closeInputs: map[string]string{"comment": "true", "delete-preview": "false"}},
		{name: "read-only token: a warning", openComment: true, closeInputs: map[string]string{"comment": "true"}, readOnly: true,
			wantKinds: []string{"list", "user", "edit"}, wantWarning: "could not mark the pull-request comment as closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf, gh, ws := previewsWorkspace(t, previewsConfig)
			r, _ := previewRun(t, cf, gh, ws, prPayload(t, "pull_request.00.opened.json", sha, ""), map[string]string{"comment": boolInput(tc.openComment)})
			require.Equal(t, 0, r.Code, r.Stdout)
			require.Len(t, cf.Previews("shop"), 1)
			before := gh.commentsOf(2)
			gh.requests()
			gh.mu.Lock()
			gh.readOnly = tc.readOnly
			gh.mu.Unlock()

			r, _ = previewRun(t, cf, gh, ws, prPayload(t, "pull_request.03.closed.json", sha, ""), tc.closeInputs)
			require.Equal(t, 0, r.Code, r.Stdout)
			if tc.closeInputs["delete-preview"] == "false" {
				assert.Len(t, cf.Previews("shop"), 1)
			} else {
				assert.Empty(t, cf.Previews("shop"))
			}
			got := requestKinds(gh.requests())
			if len(tc.wantKinds) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.wantKinds, got)
			}
			assert.Equal(t, before, gh.commentsOf(2), "no comment created or changed")
			if tc.wantWarning != "" {
				w := warnings(r)
				require.Len(t, w, 1, r.Stdout)
				assert.Contains(t, w[0], tc.wantWarning)
				assert.Contains(t, w[0], "pull-requests: write")
			} else {
				assert.Empty(t, warnings(r), r.Stdout)
			}
			assert.Empty(t, r.Outputs["comment-url"])
		})
	}
}

func boolInput(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
