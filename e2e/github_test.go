package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// prNumber is the pull request of the @octokit/webhooks-examples payloads.
const prNumber = 2

// prHeadSHA is pull_request.head.sha in those payloads.
const prHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

// markerOf is the hidden first line of a Worker's sticky comment.
func markerOf(worker string) string {
	return "<!-- workers-deploy:sticky-comment worker=" + worker + " -->"
}

// withGitHub points a job at the GitHub stand-in.
func withGitHub(j job, gh *fakeGitHub) job {
	if j.Env == nil {
		j.Env = map[string]string{}
	}
	j.Env["GITHUB_API_URL"] = gh.URL
	return j
}

// prJob is a pull_request event (payload from testdata/events) on the fixture.
func prJob(t *testing.T, cf *cloudflare, gh *fakeGitHub, ws, payload string, inputs map[string]string) job {
	t.Helper()
	j := pushJob(t, cf, ws, inputs)
	j.Event = "pull_request"
	j.SHA = "1111111111111111111111111111111111111111" // the merge commit; the tag is the PR head
	j.Payload = filepath.Join(mustAbs(t, "../testdata/events"), payload)
	return withGitHub(j, gh)
}

func warnings(r *run) []string {
	var out []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "::warning") {
			out = append(out, l)
		}
	}
	return out
}

// assertNothingLeaked extends assertNoSecrets to what GitHub received.
func assertNothingLeaked(t *testing.T, gh *fakeGitHub, runs ...*run) {
	t.Helper()
	for _, r := range runs {
		assertNoSecrets(t, r)
	}
	all := gh.everything()
	assert.NotContains(t, all, testToken)
	assert.NotContains(t, all, testGitHubToken)
	gh.mu.Lock()
	defer gh.mu.Unlock()
	for h := range gh.auth {
		assert.Equal(t, "Bearer "+testGitHubToken, h, "only the GitHub token reaches GitHub")
	}
}

func TestCommentCreatedThenEditedBehind150Comments(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	gh.addComment(prNumber, "alice", "Looks good!")

	first := prJob(t, cf, gh, ws, "pull_request.00.opened.json", nil).exec(t, ctxFor(t))
	require.Equal(t, 0, first.Code, first.Stdout)
	assert.Empty(t, warnings(first), first.Stdout)
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 2)
	mine := comments[1]
	assert.Equal(t, actionsBot, mine.Author)
	assert.True(t, strings.HasPrefix(mine.Body, markerOf("shop")+"\n"), mine.Body)
	versionID := first.Outputs["version-id"]
	require.NotEmpty(t, versionID)
	assert.Contains(t, mine.Body, versionID)
	assert.Contains(t, mine.Body, prHeadSHA, "the tag is the PR head, not the merge commit")
	assert.Contains(t, mine.Body, "Update the README with new information.")
	assert.Contains(t, mine.Body, first.Outputs["preview-url"])
	assert.Contains(t, mine.Body, "`lib/util.mjs`")
	assert.Contains(t, mine.Body, "https://github.com/octo/shop/actions/runs/4242")
	assert.Equal(t, "https://github.com/octo/shop/pull/2#issuecomment-1002", first.Outputs["comment-url"])
	assert.Contains(t, first.Summary, versionID, "the summary is written too")

	// 150 comments later (one of them pastes the marker), a push updates the PR.
	for i := range 150 {
		body := "review comment"
		if i == 75 {
			body = markerOf("shop") + "\nforged by someone else"
		}
		gh.addComment(prNumber, "reviewer", body)
	}
	gh.requests()
	second := prJob(t, cf, gh, ws, "pull_request.22.synchronize.json", nil).exec(t, ctxFor(t))
	require.Equal(t, 0, second.Code, second.Stdout)
	assert.Empty(t, warnings(second), second.Stdout)
	comments = gh.commentsOf(prNumber)
	require.Len(t, comments, 152, "edited in place, not created")
	assert.Equal(t, mine.ID, comments[1].ID)
	assert.Contains(t, comments[1].Body, "reused: same tag and content", "the body was rewritten with this run's result")
	assert.Equal(t, "review comment", comments[2].Body)
	assert.Contains(t, comments[77].Body, "forged by someone else", "a comment by someone else is never edited")
	assert.Equal(t, first.Outputs["comment-url"], second.Outputs["comment-url"])

	reqs := gh.requests()
	var lists, patches int
	for _, q := range reqs {
		switch {
		case strings.HasPrefix(q, "GET /repos/octo/shop/issues/2/comments"):
			lists++
		case strings.HasPrefix(q, "PATCH /repos/octo/shop/issues/comments/"):
			patches++
		case strings.HasPrefix(q, "POST"):
			t.Errorf("unexpected create: %s", q)
		}
	}
	assert.Equal(t, 2, lists, "152 comments are two pages of 100: %v", reqs)
	assert.Equal(t, 1, patches)
	assertNothingLeaked(t, gh, first, second)

	// A rerun with nothing new rewrites nothing.
	third := prJob(t, cf, gh, ws, "pull_request.22.synchronize.json", nil).exec(t, ctxFor(t))
	require.Equal(t, 0, third.Code, third.Stdout)
	for _, q := range gh.requests() {
		assert.False(t, strings.HasPrefix(q, "PATCH") || strings.HasPrefix(q, "POST"), "unchanged body: %s", q)
	}
}

func TestCommentPerWorkerOnOnePR(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	for _, worker := range []string{"shop", "shop-admin", "shop"} {
		r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"worker": worker}).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.NotEmpty(t, r.Outputs["comment-url"])
	}
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 2, "one comment per Worker")
	assert.True(t, strings.HasPrefix(comments[0].Body, markerOf("shop")+"\n"))
	assert.True(t, strings.HasPrefix(comments[1].Body, markerOf("shop-admin")+"\n"))
	assert.Contains(t, comments[0].Body, "reused", "the third run edited the first Worker's comment")
}

func TestCommentWithPersonalTokenIdentity(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	gh.login = "Deploy-Bot"
	ws := workspace(t, "esm-multi")
	// An Actions-bot comment with the marker is not this token's.
	gh.addComment(prNumber, actionsBot, markerOf("shop")+"\nfrom another workflow")
	for range 2 {
		r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", nil).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
	}
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 2)
	assert.Contains(t, comments[0].Body, "from another workflow")
	assert.Equal(t, "Deploy-Bot", comments[1].Author)
}

func TestCommentReadOnlyTokenWarns(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	gh.readOnly = true
	ws := workspace(t, "esm-multi")
	r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"github-deployment": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, "reporting never breaks a good deploy: %s", r.Stdout)
	w := warnings(r)
	require.Len(t, w, 2, r.Stdout)
	assert.Contains(t, w[0], "permissions: deployments: write")
	assert.Contains(t, w[1], "permissions: pull-requests: write")
	assert.Contains(t, w[1], "Resource not accessible by integration")
	assert.Empty(t, r.errors())
	assert.Empty(t, gh.commentsOf(prNumber))
	assert.Empty(t, r.Outputs["comment-url"])
	assert.NotEmpty(t, r.Outputs["version-id"], "outputs stand")
	assert.Contains(t, r.Summary, r.Outputs["version-id"], "the summary stands")
	assertNothingLeaked(t, gh, r)
}

func TestGitHubNothingWrittenOnRefDeletionOrClosedPR(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, event, payload string }{
		{"branch deleted", "push", "push.01.deleted.json"},
		{"tag deleted", "push", "push.02.deleted.json"},
		{"PR closed", "pull_request", "pull_request.03.closed.json"},
		{"PR closed, target", "pull_request_target", "pull_request.04.closed.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			gh := newFakeGitHub(t)
			ws := workspace(t, "esm-multi")
			j := prJob(t, cf, gh, ws, tc.payload, map[string]string{"github-deployment": "true", "deploy": "true"})
			j.Event = tc.event
			r := j.exec(t, ctxFor(t))
			require.Equal(t, 0, r.Code, r.Stdout)
			assert.Contains(t, r.Stdout, "::notice::")
			assert.Empty(t, gh.requests(), "nothing sent to GitHub")
			// A closed pull request deletes its Preview (delete-preview); with none,
			// nothing changes, and its comment is not touched (a deleted Preview's
			// closed note: previews_closed_test.go).
			for _, w := range cf.Writes() {
				assert.Equal(t, "DELETE", w.Method)
				assert.True(t, strings.HasSuffix(w.Path, "/workers/workers/shop/previews/pr-2"), w.Path)
				assert.Equal(t, 404, w.Status, "there was no Preview to delete")
			}
			if !strings.HasPrefix(tc.payload, "pull_request") {
				assert.Empty(t, cf.Writes(), "nothing written to Cloudflare")
			}
			assert.Empty(t, r.Outputs["comment-url"])
		})
	}
}

func TestDeploymentSuccessOnPush(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	j := withGitHub(pushJob(t, cf, ws, map[string]string{"deploy": "true", "github-deployment": "true"}), gh)
	j.Env["GITHUB_SERVER_URL"] = "https://ghe.example.com" // GitHub Enterprise Server
	r := j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, warnings(r), r.Stdout)

	deps := gh.deploymentsCopy()
	require.Len(t, deps, 1)
	d := deps[0]
	assert.Equal(t, map[string]any{
		"ref": pushSHA, "task": "deploy", "auto_merge": false, "required_contexts": []any{},
		"environment": "production", "transient_environment": false,
		"description": "Worker shop, version " + r.Outputs["version-id"][:8] + " (#1)",
		"payload": map[string]any{"worker": "shop", "version_id": r.Outputs["version-id"], "version_number": float64(1),
			"nonce": "shop/4242/1/" + r.Outputs["version-id"]},
	}, d.Request)
	require.GreaterOrEqual(t, len(d.Statuses), 2)
	for _, s := range d.Statuses[:len(d.Statuses)-1] {
		assert.Equal(t, "in_progress", s["state"])
	}
	last := d.Statuses[len(d.Statuses)-1]
	assert.Equal(t, "success", last["state"])
	assert.Equal(t, "https://shop.acme.workers.dev", last["environment_url"])
	for _, s := range d.Statuses {
		assert.Equal(t, "https://ghe.example.com/octo/shop/actions/runs/4242", s["log_url"])
		assert.LessOrEqual(t, len([]rune(s["description"].(string))), 140)
	}
	assert.Empty(t, r.Outputs["comment-url"], "no comment on push")
	assertNothingLeaked(t, gh, r)
}

func TestDeploymentPreviewOnPR(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	r := prJob(t, cf, gh, ws, "pull_request.22.synchronize.json", map[string]string{"github-deployment": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	deps := gh.deploymentsCopy()
	require.Len(t, deps, 1)
	assert.Equal(t, prHeadSHA, deps[0].Request["ref"])
	assert.Equal(t, "preview", deps[0].Request["environment"])
	assert.Equal(t, true, deps[0].Request["transient_environment"])
	assert.Equal(t, false, deps[0].Request["production_environment"])
	last := deps[0].Statuses[len(deps[0].Statuses)-1]
	assert.Equal(t, "success", last["state"])
	assert.Equal(t, r.Outputs["preview-url"], last["environment_url"])
	assert.NotEmpty(t, r.Outputs["comment-url"], "comment and deployment together")
}

func TestDeploymentFailureAfterFailedDeploy(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	cf.InjectFault(emulator.Fault{Method: "POST", Path: "/accounts/*/workers/scripts/*/deployments", Kind: emulator.FaultStatus, Status: 400, Code: 10210})
	r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"deploy": "true", "github-deployment": "true", "github-environment": "staging"}).exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	deps := gh.deploymentsCopy()
	require.Len(t, deps, 1)
	assert.Equal(t, "staging", deps[0].Request["environment"])
	assert.Equal(t, false, deps[0].Request["transient_environment"])
	last := deps[0].Statuses[len(deps[0].Statuses)-1]
	assert.Equal(t, "failure", last["state"])
	assert.Contains(t, last["description"], "failed to deploy")
	comments := gh.commentsOf(prNumber)
	require.Len(t, comments, 1, "the comment reports the failure too")
	assert.Contains(t, comments[0].Body, "**Failed:**")
	assertNothingLeaked(t, gh, r)
}

func TestGitHubRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	gh.inject(faultinject.Fault{Method: "GET", Path: "/repos/octo/shop/issues/2/comments", Times: 1, Status: 502, Body: `{"message":"Server Error"}`})
	gh.inject(faultinject.Fault{Method: "POST", Path: "/repos/octo/shop/issues/2/comments", Times: 1, Status: 403,
		RetryAfter: "1",
		Body:       `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
	gh.inject(faultinject.Fault{Method: "POST", Path: "/repos/octo/shop/deployments", Times: 1, Status: 429, RetryAfter: "0", Body: `{}`})
	ws := workspace(t, "esm-multi")
	r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", map[string]string{"github-deployment": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Empty(t, warnings(r), r.Stdout)
	assert.Len(t, gh.commentsOf(prNumber), 1)
	assert.Len(t, gh.deploymentsCopy(), 1)
	var posts int
	for _, q := range gh.requests() {
		if q == "POST /repos/octo/shop/issues/2/comments" {
			posts++
		}
	}
	assert.Equal(t, 2, posts, "the rate-limited create was retried once")
}

func TestGitHubServerErrorsDegradeToWarning(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	gh.inject(faultinject.Fault{Method: "GET", Path: "/repos/**", Status: 500, Body: `{"message":"Server Error"}`})
	ws := workspace(t, "esm-multi")
	r := prJob(t, cf, gh, ws, "pull_request.00.opened.json", nil).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	w := warnings(r)
	require.Len(t, w, 1, r.Stdout)
	assert.Contains(t, w[0], "500")
	assert.NotContains(t, w[0], "permissions:", "a server error is not a permission problem")
	assert.NotEmpty(t, r.Summary)
}

// TestDeploymentStatusPerStage: a staged rollout posts an
// in_progress status per stage and ends in success.
func TestDeploymentStatusPerStage(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := workspace(t, "esm-multi")
	first := withGitHub(pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "v1"}), gh).exec(t, ctxFor(t))
	require.Equal(t, 0, first.Code, first.Stdout)
	r := withGitHub(pushJob(t, cf, ws, map[string]string{"deploy": "true", "github-deployment": "true", "stages": "50%, 100%", "tag": "v2", "message": "second"}), gh).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	deps := gh.deploymentsCopy()
	require.Len(t, deps, 1)
	var got []string
	for _, s := range deps[0].Statuses {
		got = append(got, s["state"].(string)+": "+s["description"].(string))
	}
	assert.Contains(t, got, "in_progress: 50% — rolling out")
	assert.Contains(t, got, "in_progress: 100% — rolling out")
	assert.Equal(t, "success", deps[0].Statuses[len(deps[0].Statuses)-1]["state"], "%v", got)
	t.Logf("statuses: %q", got)
}

// TestDeploymentFailureAfterRollback: in a staged rollout a failing
// health check rolls back, and the GitHub Deployment ends in failure.
func TestDeploymentFailureAfterRollback(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	t.Cleanup(health.Close)
	ws := workspace(t, "esm-multi")
	first := withGitHub(pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "v1"}), gh).exec(t, ctxFor(t))
	require.Equal(t, 0, first.Code, first.Stdout)
	r := withGitHub(pushJob(t, cf, ws, map[string]string{
		"deploy": "true", "github-deployment": "true", "stages": "50%@1s, 100%", "tag": "v2",
		"health-check-url": health.URL, "health-check-interval": "200ms",
	}), gh).exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	assert.Equal(t, "true", r.Outputs["rolled-back"], r.Stdout)
	deps := gh.deploymentsCopy()
	require.Len(t, deps, 1)
	last := deps[0].Statuses[len(deps[0].Statuses)-1]
	assert.Equal(t, "failure", last["state"])
	assert.LessOrEqual(t, len([]rune(last["description"].(string))), 140)
	t.Logf("final status: %v", last)
	assertNothingLeaked(t, gh, r)
}
