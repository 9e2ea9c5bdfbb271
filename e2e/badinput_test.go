package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badRow is one row of TestBadInput.
type badRow struct {
	name string
	// fixture is the Worker under testdata/workers; "" means esm-multi.
	fixture string
	// inputs override pushJob's (the runner's INPUT_* variables).
	inputs map[string]string
	// env are extra process variables (CLOUDFLARE_*, the variables `secrets` names).
	env map[string]string
	// args are command-line flags.
	args []string
	// setup changes the workspace before the run (hostile files, configuration).
	setup func(t *testing.T, ws string)
	// seed deploys a first version (tag "base") before the run; the seed's
	// requests are forgotten, so the run itself must still write nothing.
	seed bool
	// prepare runs after seed with the emulator, and returns inputs that
	// depend on the seeded state (e.g. a version ID).
	prepare func(t *testing.T, cf *cloudflare, ws string) map[string]string
	// pr runs the row as a pull_request event (comment and GitHub Deployment
	// on), where a bad input must not write a comment either.
	pr bool
	// want are substrings of the one ::error:: line; the first names the
	// input (or the file).
	want []string
	// secret is a value that must not appear anywhere in the output.
	secret string
}

// TestBadInput runs the built binary on a few bad inputs: the command line,
// the process environment, a pull request and hostile files. Every row fails
// with exit 1, exactly one ::error:: that names the input or file, no write
// request to Cloudflare and none to GitHub. Every input's invalid forms are
// rows of app.TestRunBadInput, which runs the action in-process.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := []badRow{
		// The command line and the process environment as the runner passes them.
		{name: "args: unknown flag", args: []string{"--wroker=shop"}, want: []string{"wroker", "unknown flag", "valid flags"}},
		{name: "args: positional argument", args: []string{"shop"}, want: []string{"shop", "--name=value"}},
		{name: "api-token: missing input, blank env", inputs: map[string]string{"api-token": ""}, env: map[string]string{"CLOUDFLARE_API_TOKEN": "   "}, want: []string{"api-token", "CLOUDFLARE_API_TOKEN"}},
		{name: "secrets: listed twice", inputs: map[string]string{"secrets": "KEY\nKEY"}, env: map[string]string{"KEY": "s3cr3t-value"}, want: []string{"secrets", "KEY", "twice"}, secret: "s3cr3t-value"},
		// A pull request against the GitHub stand-in: no comment, no GitHub Deployment.
		{name: "modules: no module matched", inputs: map[string]string{"modules": "build/**"}, want: []string{"modules", "build/**"}, pr: true},
		// Files the binary reads from a real working directory.
		{
			name: "files: symlink escaping the working directory",
			setup: func(t *testing.T, ws string) {
				outside := filepath.Join(t.TempDir(), "secret.js")
				require.NoError(t, os.WriteFile(outside, []byte("export default {}"), 0o644))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "dist", "evil.js")))
			},
			want: []string{"dist/evil.js", "escapes the working directory"}, pr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runBadRow(t, tc)
		})
	}
}

// runBadRow runs one row against a fresh emulator and GitHub stand-in.
func runBadRow(t *testing.T, tc badRow) {
	t.Helper()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	gh.login = actionsBot
	fixture := tc.fixture
	if fixture == "" {
		fixture = "esm-multi"
	}
	ws := workspace(t, fixture)
	// Every row reports to GitHub as much as it can: a bad input must still
	// write nothing there.
	in := map[string]string{"github-deployment": "true", "comment": "true"}
	if tc.seed {
		seedBaseline(t, cf, ws)
	}
	if tc.prepare != nil {
		for k, v := range tc.prepare(t, cf, ws) {
			in[k] = v
		}
	}
	cf.ResetRequests()
	gh.requests()
	if tc.setup != nil {
		tc.setup(t, ws)
	}
	for k, v := range tc.inputs {
		in[k] = v
	}
	var j job
	if tc.pr {
		j = prJob(t, cf, gh, ws, "pull_request.00.opened.json", in)
	} else {
		j = withGitHub(pushJob(t, cf, ws, in), gh)
	}
	for k, v := range tc.env {
		j.Env[k] = v
	}
	j.Args = tc.args
	r := j.exec(t, ctxFor(t))

	assert.Equal(t, 1, r.Code, r.Stdout)
	errs := r.errors()
	require.Len(t, errs, 1, "exactly one ::error:: annotation:\n%s", r.Stdout)
	msg := unescapeAnnotation(errs[0])
	t.Log(msg)
	for _, w := range tc.want {
		assert.Contains(t, msg, w)
	}
	assert.Empty(t, cf.Writes(), "no write request may be sent to Cloudflare")
	for _, call := range gh.requests() {
		assert.True(t, strings.HasPrefix(call, "GET "), "no write request may be sent to GitHub: %s", call)
	}
	assertNoSecrets(t, r)
	if tc.secret != "" {
		for _, l := range strings.Split(r.Stdout, "\n") {
			if !strings.HasPrefix(l, "::add-mask::") {
				assert.NotContains(t, l, tc.secret)
			}
		}
		assert.NotContains(t, r.Summary, tc.secret)
	}
}
