package app

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

func prEvent(t *testing.T, event, action string) *ghevent.Context {
	t.Helper()
	p, err := ghevent.ParsePayload([]byte(`{"action":"` + action + `","pull_request":{"number":2,"head":{"repo":{"full_name":"o/r"}},"base":{"repo":{"full_name":"o/r"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return &ghevent.Context{EventName: event, Payload: *p}
}

// TestClosedNoteWanted is the decision table of the closed note: the sticky
// comment is edited only when this run deleted the pull request's Preview.
func TestClosedNoteWanted(t *testing.T) {
	t.Parallel()
	deleted := func() *pipeline.Result {
		return &pipeline.Result{WorkerName: "shop", Skipped: "pull request #2 was closed: nothing to deploy",
			Preview: &pipeline.PreviewInfo{Name: "pr-2", Deleted: true}}
	}
	noPreview := deleted()
	noPreview.Preview.Deleted = false
	kept := deleted()
	kept.Preview = nil // delete-preview: false
	noWorker := deleted()
	noWorker.WorkerName = ""
	on := func() *inputs.Config { c := &inputs.Config{}; c.GitHub.Comment = true; return c }
	off := &inputs.Config{}
	dry := on()
	dry.DryRun = true
	cases := []struct {
		name   string
		cfg    *inputs.Config
		ev     *ghevent.Context
		res    *pipeline.Result
		runErr error
		want   bool
	}{
		{"closed, Preview deleted", on(), prEvent(t, "pull_request", "closed"), deleted(), nil, true},
		{"closed on pull_request_target, Preview deleted", on(), prEvent(t, "pull_request_target", "closed"), deleted(), nil, true},
		{"closed, no Preview to delete", on(), prEvent(t, "pull_request", "closed"), noPreview, nil, false},
		{"closed, delete-preview: false", on(), prEvent(t, "pull_request", "closed"), kept, nil, false},
		{"closed, comment: false", off, prEvent(t, "pull_request", "closed"), deleted(), nil, false},
		{"closed, dry run", dry, prEvent(t, "pull_request", "closed"), deleted(), nil, false},
		{"closed, the delete failed", on(), prEvent(t, "pull_request", "closed"), deleted(), errors.New("503"), false},
		{"closed, no Worker name", on(), prEvent(t, "pull_request", "closed"), noWorker, nil, false},
		{"opened", on(), prEvent(t, "pull_request", "opened"), deleted(), nil, false},
		{"push", on(), &ghevent.Context{EventName: "push"}, deleted(), nil, false},
		{"no result", on(), prEvent(t, "pull_request", "closed"), nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, closedNoteWanted(tc.cfg, tc.ev, tc.res, tc.runErr))
		})
	}
}
