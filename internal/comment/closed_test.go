package comment

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

func TestRenderClosed(t *testing.T) {
	t.Parallel()
	res := &pipeline.Result{WorkerName: "shop", Skipped: "pull request #2 was closed: nothing to deploy",
		Preview: &pipeline.PreviewInfo{Name: "pr-2", Deleted: true}}
	got := RenderClosed("shop", res, 2, "https://github.com/octo/shop/actions/runs/4242/attempts/1")
	golden(t, "closed-note.md", got)
	first, rest, _ := strings.Cut(got, "\n")
	assert.Equal(t, Marker("shop"), first)
	assert.NotContains(t, rest, "<!--", "untrusted text cannot forge a marker")
	assert.NotContains(t, rest, "https://pr-2", "no Preview URL: it no longer serves")
	assert.Less(t, len(got), 1000, "a short note")
}

func TestClose(t *testing.T) {
	t.Parallel()
	forbidden := &github.APIError{Method: "GET", Path: "/user", Status: 403, Message: "Resource not accessible by integration"}
	target := Target{Owner: "octo", Repo: "shop", Number: 7}
	mine := Marker("shop") + "\nthe preview report"
	note := Marker("shop") + "\nclosed"
	cases := []struct {
		name       string
		api        *fakeAPI
		wantAction string
		wantBody   string // of comment 1 afterwards; "" leaves it unchecked
		wantErr    string
		wantCalls  []string
	}{
		{
			name:      "no comment: none is created, one request",
			api:       &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 9, Body: "LGTM", Author: "octocat"}}},
			wantCalls: []string{"list octo/shop#7"},
		},
		{
			name:       "the sticky comment is edited to the note",
			api:        &fakeAPI{login: "github-actions", comments: []github.Comment{{ID: 1, Body: mine, Author: "github-actions[bot]"}}},
			wantAction: "updated", wantBody: note,
			wantCalls: []string{"list octo/shop#7", "viewer", "update 1"},
		},
		{
			name:       "GITHUB_TOKEN: GET /user is refused, the bot is assumed",
			api:        &fakeAPI{ViewerErr: forbidden, comments: []github.Comment{{ID: 1, Body: mine, Author: "github-actions[bot]"}}},
			wantAction: "updated", wantBody: note,
			wantCalls: []string{"list octo/shop#7", "viewer", "update 1"},
		},
		{
			name:       "already the note: unchanged",
			api:        &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 1, Body: note, Author: "github-actions[bot]"}}},
			wantAction: "unchanged", wantBody: note,
			wantCalls: []string{"list octo/shop#7", "viewer"},
		},
		{
			name:      "someone else's comment with the marker is left alone",
			api:       &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 1, Body: mine, Author: "mallory"}}},
			wantBody:  mine,
			wantCalls: []string{"list octo/shop#7", "viewer"},
		},
		{
			name:      "another Worker's comment is left alone",
			api:       &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 1, Body: Marker("shop-admin") + "\nx", Author: "github-actions[bot]"}}},
			wantCalls: []string{"list octo/shop#7"},
		},
		{
			name:      "the list fails",
			api:       &fakeAPI{ListErr: &github.APIError{Method: "GET", Path: "/x", Status: 502}},
			wantErr:   "failed to list the comments of pull request #7",
			wantCalls: []string{"list octo/shop#7"},
		},
		{
			name:      "the edit is refused (read-only token)",
			api:       &fakeAPI{login: "github-actions[bot]", comments: []github.Comment{{ID: 1, Body: mine, Author: "github-actions[bot]"}}, UpdateErr: &github.APIError{Method: "PATCH", Path: "/x", Status: 403}},
			wantErr:   "failed to update comment 1 on pull request #7",
			wantCalls: []string{"list octo/shop#7", "viewer", "update 1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := len(tc.api.comments)
			out, err := Close(context.Background(), tc.api, target, "shop", note)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantAction, out.Action)
			assert.Equal(t, tc.wantCalls, tc.api.calls)
			assert.Len(t, tc.api.comments, before, "never creates")
			assert.NotContains(t, strings.Join(tc.api.calls, " "), "create")
			for _, c := range tc.api.comments {
				if c.ID == 1 && tc.wantBody != "" {
					assert.Equal(t, tc.wantBody, c.Body)
				}
			}
		})
	}
}
