package app

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/console"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/redact"
)

func forkPR(event string) *ghevent.Context {
	p, _ := ghevent.ParsePayload([]byte(`{"action":"opened","pull_request":{"number":3,"head":{"repo":{"full_name":"fork/r"}},"base":{"repo":{"full_name":"o/r"}}}}`))
	return &ghevent.Context{EventName: event, Payload: *p}
}

func TestWarn(t *testing.T) {
	t.Parallel()
	forbidden := &github.APIError{Method: "POST", Path: "/repos/o/r/issues/3/comments", Status: 403, Message: "Resource not accessible by integration"}
	cases := []struct {
		name       string
		ev         *ghevent.Context
		err        error
		want       []string
		wantAbsent []string
	}{
		{"fork pull_request", forkPR("pull_request"), forbidden,
			[]string{"::warning::could not write the pull-request comment: GitHub API POST", "`permissions: pull-requests: write`", "comes from a fork", "workflow_run"}, nil},
		{"pull_request_target", forkPR("pull_request_target"), forbidden,
			[]string{"`permissions: pull-requests: write`"}, []string{"fork"}},
		{"not a permission problem", forkPR("pull_request"), &github.APIError{Method: "GET", Path: "/x", Status: 502},
			[]string{"502 Bad Gateway", "job summary has the full report"}, []string{"permissions:"}},
		{"unknown outcome says where to look", forkPR("pull_request"), &github.APIError{Method: "POST", Path: "/repos/o/r/issues/3/comments", Err: fmt.Errorf("%w (could not check whether it was: timeout): EOF", github.ErrUnknownOutcome)},
			[]string{"may or may not have been applied", "nothing was re-sent", "the pull request may already show the comment"}, []string{"permissions:"}},
		{"token in an error is redacted", &ghevent.Context{}, errors.New("echo ghs_secretToken123 and cf-token-abcdef"),
			[]string{"echo *** and ***"}, []string{"ghs_secretToken123", "cf-token-abcdef"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			g := &githubReporter{action: console.New(&out, true, false), ev: tc.ev, red: redact.New("cf-token-abcdef", "ghs_secretToken123")}
			g.warn("could not write the pull-request comment", tc.err, "pull-requests: write")
			got := out.String()
			assert.Equal(t, 1, strings.Count(got, "::warning::"), got)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, w := range tc.wantAbsent {
				assert.NotContains(t, got, w)
			}
		})
	}
}

func TestRedactKeepsLocalToken(t *testing.T) {
	t.Parallel()
	g := &githubReporter{red: redactor(&inputs.Config{Local: true, APIToken: "local"}, []string{"local"}, []string{"s3cr3t-value"})}
	assert.Equal(t, "local run, ***", g.redact("local run, s3cr3t-value"))
}
