package app

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCase is one row of TestRun: a job against a fresh emulator, whose
// stdout, outputs and exit code are compared with testdata/runs/<name>.golden.
type runCase struct {
	name string
	// fixture is the Worker under testdata/workers; "" means esm-multi.
	fixture string
	inputs  map[string]string
	env     map[string]string
	args    []string
	outside bool
	// seed deploys a first version (tag "base") before the run.
	seed bool
	// faults are injected into the emulator before the run.
	faults []emulator.Fault
	// check asserts more than the golden (what the emulator holds).
	check func(t *testing.T, cf *emulated, r *result, clock *fakeClock)
}

// TestRun runs the action in-process, through Env, on a fake clock, and
// compares what a user sees with the golden files (-update rewrites them).
func TestRun(t *testing.T) {
	t.Parallel()
	cases := []runCase{
		{
			name: "push-upload",
			check: func(t *testing.T, cf *emulated, r *result, _ *fakeClock) {
				require.Len(t, cf.Versions("shop"), 1)
				assert.Equal(t, cf.Versions("shop")[0].ID, r.Outputs["version-id"])
			},
		},
		{
			name:   "push-deploy",
			inputs: map[string]string{"deploy": "true"},
			check: func(t *testing.T, cf *emulated, r *result, _ *fakeClock) {
				assert.Equal(t, "100", r.Outputs["deployed-percentage"])
			},
		},
		{
			name:   "push-staged-rollout",
			seed:   true,
			inputs: map[string]string{"deploy": "true", "stages": "10%@5m, 50%@10m, 100%"},
			check: func(t *testing.T, cf *emulated, r *result, clock *fakeClock) {
				assert.Equal(t, "100", r.Outputs["deployed-percentage"])
				assert.GreaterOrEqual(t, clock.Now().Sub(newFakeClock().Now()), 15*time.Minute, "the holds passed on the fake clock")
			},
		},
		{
			name:   "dry-run-offline",
			inputs: map[string]string{"dry-run": "true", "api-token": "", "account-id": ""},
			check: func(t *testing.T, cf *emulated, _ *result, _ *fakeClock) {
				assert.Empty(t, cf.Requests(), "an offline plan sends nothing")
			},
		},
		{name: "help", args: []string{"--help"}, outside: true},
		{name: "outside-unknown-flag", args: []string{"--wroker=shop"}, outside: true},
		{
			// Every request answers 503: the client gives up after 8 attempts
			// within its 90 s budget, with one error and nothing written.
			name:   "persistent-outage",
			inputs: map[string]string{"deploy": "true"},
			faults: []emulator.Fault{{Path: "/**", Kind: emulator.FaultStatus, Status: 503}},
			check: func(t *testing.T, cf *emulated, r *result, clock *fakeClock) {
				errs := r.errors()
				require.Len(t, errs, 1, r.Stdout)
				assert.Contains(t, errs[0], "503")
				assert.Contains(t, errs[0], "8 attempts")
				assert.Empty(t, cf.Writes(), "nothing is written while every read fails")
				assert.Empty(t, cf.Workers())
				require.NotEmpty(t, cf.Requests(), "the run reached the API")
				for _, q := range cf.Requests() {
					assert.Equal(t, "status", q.Fault, "every request got the 503: %s %s", q.Method, q.Path)
				}
				waited := clock.Now().Sub(newFakeClock().Now())
				t.Logf("persistent 503: gave up after %s on the fake clock", waited)
				assert.Greater(t, waited, 20*time.Second, "the retries waited (backoff)")
				assert.Less(t, waited, 90*time.Second, "within the budget")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newEmulated(t)
			for _, f := range tc.faults {
				cf.InjectFault(f)
			}
			fixture := tc.fixture
			if fixture == "" {
				fixture = "esm-multi"
			}
			ws := workspace(t, fixture)
			if tc.seed {
				seed := pushJob(t, cf, ws, map[string]string{"deploy": "true", "tag": "base"})
				seed.Clock = newFakeClock()
				r := seed.run(t, ctxFor(t))
				require.Equal(t, 0, r.Code, r.Stdout)
				cf.ResetRequests()
			}
			j := pushJob(t, cf, ws, tc.inputs)
			for k, v := range tc.env {
				j.Env[k] = v
			}
			j.Args, j.Outside = tc.args, tc.outside
			if tc.outside {
				j.Inputs = nil
			}
			clock := newFakeClock()
			sent := &countingTransport{}
			j.Clock, j.HTTPClient = clock, &http.Client{Transport: sent}
			r := j.run(t, ctxFor(t))
			assert.Equal(t, len(cf.Requests()), sent.count(), "every request to the API goes through Env.HTTPClient")
			got := renderRun(r, map[string]string{ws: "$WORKSPACE", cf.URL: "$API"})
			golden(t, filepath.Join("testdata", "runs", tc.name+".golden"), got)
			if tc.check != nil {
				tc.check(t, cf, r, clock)
			}
			assertNoSecrets(t, r)
		})
	}
}

// countingTransport counts the requests sent through it.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count() int { return int(c.n.Load()) }

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	hexRE  = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	// shortRE is the 8-hex version prefix of a preview URL (<prefix>-shop.acme.workers.dev).
	shortRE    = regexp.MustCompile(`\b[0-9a-f]{8}-shop\b`)
	durationRE = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m)\b`)
)

// renderRun is the golden text of a run: exit code, stdout and outputs, with
// paths and URLs replaced by names, and IDs by numbered placeholders in the
// order they first appear (so equal IDs stay equal).
func renderRun(r *result, names map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n-- stdout --\n%s", r.Code, r.Stdout)
	if r.Outputs != nil {
		b.WriteString("-- outputs --\n")
		keys := make([]string, 0, len(r.Outputs))
		for k := range r.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, r.Outputs[k])
		}
	}
	s := b.String()
	// Longest first: a URL may contain a shorter one.
	olds := make([]string, 0, len(names))
	for k := range names {
		olds = append(olds, k)
	}
	sort.Slice(olds, func(i, j int) bool { return len(olds[i]) > len(olds[j]) })
	for _, k := range olds {
		s = strings.ReplaceAll(s, k, names[k])
	}
	ids := map[string]string{}
	number := func(prefix string) func(string) string {
		return func(id string) string {
			if p, ok := ids[id]; ok {
				return p
			}
			ids[id] = fmt.Sprintf("<%s%d>", prefix, len(ids)+1)
			return ids[id]
		}
	}
	s = uuidRE.ReplaceAllStringFunc(s, number("uuid"))
	s = hexRE.ReplaceAllStringFunc(s, number("id"))
	s = shortRE.ReplaceAllStringFunc(s, func(m string) string { return number("prefix")(m[:8]) + "-shop" })
	return durationRE.ReplaceAllString(s, "<duration>")
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got, "%s differs; run with -update if the change is intended", path)
}
