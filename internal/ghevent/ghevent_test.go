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

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestRealPayloads runs every checked-in @octokit/webhooks-examples payload
// through Load and checks the defaults against fields read independently with a
// generic JSON decode.
func TestRealPayloads(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/events/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 38)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			event := strings.Split(filepath.Base(f), ".")[0]
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(data, &raw))

			c, err := Load(envFrom(map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": f,
				"GITHUB_SHA": "ffffffffffffffffffffffffffffffffffffffff", "GITHUB_REF": "refs/heads/main",
			}), os.ReadFile)
			require.NoError(t, err)

			switch event {
			case "pull_request":
				pr := raw["pull_request"].(map[string]any)
				head := pr["head"].(map[string]any)
				assert.True(t, c.IsPullRequest())
				assert.Equal(t, head["sha"], c.DefaultTag(), "PR tag is the head SHA, not the merge commit")
				assert.Equal(t, pr["title"], c.DefaultMessage())
				if raw["action"] == "closed" {
					assert.Contains(t, c.SkipReason(), "closed")
				} else {
					assert.Empty(t, c.SkipReason())
				}
			case "push":
				assert.Equal(t, "ffffffffffffffffffffffffffffffffffffffff", c.DefaultTag())
				if raw["deleted"] == true {
					assert.Contains(t, c.SkipReason(), "deletes")
				} else {
					assert.Empty(t, c.SkipReason())
					hc := raw["head_commit"].(map[string]any)
					subject := strings.TrimSpace(strings.Split(hc["message"].(string), "\n")[0])
					assert.Equal(t, subject, c.DefaultMessage())
				}
			case "workflow_dispatch":
				assert.Equal(t, "ffffffffffffffffffffffffffffffffffffffff", c.DefaultTag())
				assert.Empty(t, c.SkipReason())
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	notFound := func(string) ([]byte, error) { return nil, os.ErrNotExist }
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c *Context)
	}{
		{
			name: "outside actions, no payload",
			env:  map[string]string{},
			check: func(t *testing.T, c *Context) {
				assert.False(t, c.InActions)
				assert.Equal(t, "https://github.com", c.ServerURL)
				assert.Equal(t, "https://api.github.com", c.APIURL)
				assert.Empty(t, c.DefaultTag())
				assert.Empty(t, c.RunURL())
			},
		},
		{
			name: "enterprise server URLs honoured",
			env: map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
				"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"},
			check: func(t *testing.T, c *Context) {
				assert.Equal(t, "https://ghe.example.com/api/v3", c.APIURL)
				assert.Equal(t, "https://ghe.example.com/o/r/actions/runs/42/attempts/2", c.RunURL())
			},
		},
		{
			name:    "missing payload in actions is an error",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": "/nope.json"},
			wantErr: `failed to read the event payload "/nope.json" (GITHUB_EVENT_PATH)`,
		},
		{
			name:    "API URL with user and password refused",
			env:     map[string]string{"GITHUB_API_URL": "https://octo-user:hunter2pass@ghe.example.com/api/v3"},
			wantErr: "GITHUB_API_URL has a user name or password in it",
		},
		{
			name:    "API URL with a user name only refused",
			env:     map[string]string{"GITHUB_API_URL": "https://octo-user@ghe.example.com"},
			wantErr: "refused",
		},
		{
			name:    "malformed API URL with user info refused",
			env:     map[string]string{"GITHUB_API_URL": "https://octo-user:hunter2 pass@ghe.example.com:x/"},
			wantErr: "refused",
		},
		{
			name: "an @ in the path is not user info",
			env:  map[string]string{"GITHUB_API_URL": "https://ghe.example.com/api/@v3"},
			check: func(t *testing.T, c *Context) {
				assert.Equal(t, "https://ghe.example.com/api/@v3", c.APIURL)
			},
		},
		{
			name: "missing payload outside actions is ignored",
			env:  map[string]string{"GITHUB_EVENT_PATH": "/nope.json", "GITHUB_SHA": "abc"},
			check: func(t *testing.T, c *Context) {
				assert.Equal(t, "abc", c.DefaultTag())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(envFrom(tc.env), notFound)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				// Nothing of a credential is echoed.
				assert.NotContains(t, err.Error(), "octo-user")
				assert.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func FuzzParsePayload(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/events/*.json")
	for _, p := range files[:min(len(files), 6)] {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"pull_request":{"head":{"sha":"x"},"title":"t"},"action":"closed"}`))
	f.Add([]byte(`{"deleted":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePayload(data)
		if err != nil {
			return
		}
		for _, name := range []string{"push", "pull_request", "pull_request_target", "workflow_dispatch", "schedule"} {
			c := &Context{EventName: name, SHA: "s", Payload: *p}
			_ = c.SkipReason()
			_ = c.DefaultMessage()
			if c.DefaultTag() == "" {
				t.Fatalf("no tag although GITHUB_SHA is set for %s", name)
			}
		}
	})
}
