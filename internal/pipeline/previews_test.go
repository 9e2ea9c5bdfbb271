package pipeline

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

func TestPreviewName(t *testing.T) {
	t.Parallel()
	pr := &ghevent.Context{EventName: "pull_request", Payload: ghevent.Payload{Action: "opened", PR: &ghevent.PullRequest{Number: 42}}}
	push := &ghevent.Context{EventName: "push"}
	cases := []struct {
		name     string
		ev       *ghevent.Context
		mode     string
		explicit string
		hasBlock bool
		want     string
	}{
		{name: "auto with block", ev: pr, mode: inputs.PreviewAuto, hasBlock: true, want: "pr-42"},
		{name: "auto without block", ev: pr, mode: inputs.PreviewAuto},
		{name: "previews without block", ev: pr, mode: inputs.PreviewPreviews, want: "pr-42"},
		{name: "versions with block", ev: pr, mode: inputs.PreviewVersions, hasBlock: true},
		{name: "push, block, no name", ev: push, mode: inputs.PreviewAuto, hasBlock: true},
		{name: "push with preview-name", ev: push, mode: inputs.PreviewAuto, explicit: "feature/x", want: "feature/x"},
		{name: "preview-name wins on a PR", ev: pr, mode: inputs.PreviewVersions, explicit: "shared", want: "shared"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := &inputs.Config{Preview: inputs.PreviewConfig{Mode: tc.mode, Name: tc.explicit}}
			assert.Equal(t, tc.want, previewName(cfg, tc.ev, tc.hasBlock))
		})
	}
}

func TestPreviewAnnotationsWithinLimits(t *testing.T) {
	t.Parallel()
	ev := &ghevent.Context{EventName: "pull_request", SHA: strings.Repeat("m", 40), Repository: "octo/shop", ServerURL: "https://github.com",
		Payload: ghevent.Payload{PR: &ghevent.PullRequest{Number: 7, Title: strings.Repeat("é", 400), HTMLURL: "https://github.com/octo/shop/pull/7"}}}
	ev.Payload.PR.Head.SHA = strings.Repeat("h", 40)
	a := previewAnnotations(ev, &Result{Tag: "t", Message: "m"})
	assert.Equal(t, strings.Repeat("h", 40), a["workers/commit_sha"], "the PR head, not the merge commit")
	assert.Equal(t, "7", a["workers/pull_request_number"])
	assert.LessOrEqual(t, len(a["workers/pull_request_title"]), 512)
	assert.Equal(t, "https://github.com/octo/shop", a["workers/repository_url"])
	assert.Equal(t, "t", a["workers/tag"])
}
