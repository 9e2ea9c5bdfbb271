package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// TestGitHubGarbledAnswers: GitHub (or a proxy in front of it) applies a
// write but answers 2xx with a body cut in half, without the id, or empty.
// The outcome is unknown: the comment and the GitHub Deployment are found
// again by marker and author or by the nonce in the payload (never created
// twice, never taken as ID 0), a status is sent again, and the run ends as
// if nothing had happened: one sticky comment, one GitHub Deployment whose
// last status is success, no warning. Before, a cut status answer left the
// deployment in_progress with a warning, a cut create answer was not looked
// up, and an answer without an id sent every status to deployment 0, whose
// 404 was reported as a missing permission.
func TestGitHubGarbledAnswers(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name, method, path string
		// lookup is the GET that must come between the garbled create and
		// anything else done with it; "" for a status (re-sent instead).
		lookup string
	}{
		{name: "create comment", method: "POST", path: "/repos/*/*/issues/*/comments", lookup: "/repos/*/*/issues/*/comments"},
		{name: "create deployment", method: "POST", path: "/repos/*/*/deployments", lookup: "/repos/*/*/deployments"},
		{name: "create deployment status", method: "POST", path: "/repos/*/*/deployments/*/statuses"},
	}
	for _, c := range calls {
		for _, how := range []string{"cut", "no-id", "empty"} {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				m := newMatrixEnv(t)
				j := scPR.setup(t, m)
				m.gh.inject(faultinject.Fault{Method: c.method, Path: c.path, Times: 1, Kind: faultinject.Garbled, Garble: how})
				r := j.exec(t, ctxFor(t))
				log := requestLog(m.cf, m.gh)
				require.Equal(t, 0, r.Code, "%s\nrequests:\n%s", r.Stdout, log)
				assert.Empty(t, r.errors())
				assert.Empty(t, warnings(r), "%s\nrequests:\n%s", r.Stdout, log)

				// The fault fired once, on the intended request; what came next.
				recs := m.gh.records()
				posts, garbled, lookedUp, resent := 0, 0, false, false
				for i, q := range recs {
					path := strings.TrimPrefix(q.Path, "/api/v3")
					switch {
					case q.Method == c.method && faultinject.Match(c.path, path):
						posts++
						if q.Fault != "" {
							garbled++
							resent = i+1 < len(recs) && recs[i+1].Method == q.Method && recs[i+1].Path == q.Path
						}
					case c.lookup != "" && posts > 0 && q.Method == "GET" && faultinject.Match(c.lookup, path):
						lookedUp = true
					}
				}
				require.Equal(t, 1, garbled, "the answer was garbled once:\n%s", log)
				if c.lookup != "" {
					assert.True(t, lookedUp, "the create was looked up after the garbled answer:\n%s", log)
					assert.Equal(t, 1, posts, "applied, found by the lookup, not re-sent:\n%s", log)
				} else {
					assert.True(t, resent, "the status was sent again at once:\n%s", log)
				}
				var newID string
				for _, v := range m.cf.Versions("shop") {
					if v.Annotations["workers/tag"] == prHeadSHA {
						newID = v.ID
					}
				}
				require.NotEmpty(t, newID)
				assertOneComment(t, m, newID)
				assertGitHubDeploymentSucceeded(t, m, newID)
				for _, q := range m.gh.records() {
					assert.NotContains(t, q.Path, "/deployments/0/", "no request to deployment 0:\n%s", log)
				}
				assertNothingLeaked(t, m.gh, r)
			})
		}
	}
}
