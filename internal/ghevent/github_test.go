package ghevent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPullRequestFieldsOfRealPayloads checks PRNumber and IsFork against the
// fields of every checked-in pull_request payload, read independently.
func TestPullRequestFieldsOfRealPayloads(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/events/pull_request.*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var raw struct {
				Number      int `json:"number"`
				PullRequest struct {
					Head struct {
						Repo *struct {
							FullName string `json:"full_name"`
						} `json:"repo"`
					} `json:"head"`
					Base struct {
						Repo struct {
							FullName string `json:"full_name"`
						} `json:"repo"`
					} `json:"base"`
				} `json:"pull_request"`
			}
			require.NoError(t, json.Unmarshal(data, &raw))
			for _, event := range []string{"pull_request", "pull_request_target"} {
				c, err := Load(envFrom(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": f}), os.ReadFile)
				require.NoError(t, err)
				assert.Equal(t, raw.Number, c.PRNumber())
				wantFork := raw.PullRequest.Head.Repo == nil || raw.PullRequest.Head.Repo.FullName != raw.PullRequest.Base.Repo.FullName
				assert.Equal(t, wantFork, c.IsFork())
				assert.Equal(t, event == "pull_request_target", c.IsPullRequestTarget())
			}
		})
	}
}

func TestForkDetection(t *testing.T) {
	t.Parallel()
	pr := func(head, base string) *Context {
		p, err := ParsePayload([]byte(`{"action":"opened","pull_request":{"number":3,"head":{"repo":` + head + `},"base":{"repo":` + base + `}}}`))
		require.NoError(t, err)
		return &Context{EventName: "pull_request", Payload: *p}
	}
	cases := []struct {
		name string
		c    *Context
		want bool
	}{
		{"same repo", pr(`{"full_name":"o/r"}`, `{"full_name":"o/r"}`), false},
		{"case differs", pr(`{"full_name":"O/R"}`, `{"full_name":"o/r"}`), false},
		{"fork", pr(`{"full_name":"x/r"}`, `{"full_name":"o/r"}`), true},
		{"deleted fork", pr(`null`, `{"full_name":"o/r"}`), true},
		{"push", &Context{EventName: "push"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.c.IsFork())
		})
	}
}

func TestOwnerRepo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in          string
		owner, repo string
		ok          bool
	}{{"octo/shop", "octo", "shop", true}, {"", "", "", false}, {"octo", "", "", false}, {"a/b/c", "", "", false}, {"/x", "", "", false}} {
		o, r, ok := (&Context{Repository: tc.in}).OwnerRepo()
		assert.Equal(t, []any{tc.owner, tc.repo, tc.ok}, []any{o, r, ok}, strings.TrimSpace(tc.in))
	}
}
