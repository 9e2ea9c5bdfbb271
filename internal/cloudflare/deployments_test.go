package cloudflare

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDeployments serves the deployments of the Worker "w", newest first.
type fakeDeployments struct {
	t           *testing.T
	mu          sync.Mutex
	deployments []map[string]any
	bodies      []map[string]any
	queries     []string
	posts       int
	lists       int
	modes       []postMode
}

func (f *fakeDeployments) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/scripts/w/deployments", f.create)
	mux.HandleFunc("GET /accounts/acc/workers/scripts/w/deployments", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.lists++
		writeResult(w, map[string]any{"deployments": f.deployments})
	})
	return mux
}

func (f *fakeDeployments) add(createdOn time.Time, versions any) map[string]any {
	d := map[string]any{
		"id": fmt.Sprintf("d%d", len(f.deployments)+1), "created_on": createdOn.UTC().Format(time.RFC3339Nano),
		"source": "api", "strategy": "percentage", "versions": versions,
		"annotations": map[string]any{"workers/triggered_by": "deployment"}, "author_email": "ci@example.com",
	}
	f.deployments = append([]map[string]any{d}, f.deployments...)
	return d
}

func (f *fakeDeployments) create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("decode deployment body: %v", err)
	}
	f.mu.Lock()
	mode := f.modes[min(f.posts, len(f.modes)-1)]
	f.posts++
	f.bodies = append(f.bodies, body)
	f.queries = append(f.queries, r.URL.RawQuery)
	var d map[string]any
	switch mode {
	case applyOK, applyThenHangUp, applyThen503:
		d = f.add(time.Now(), body["versions"])
	}
	f.mu.Unlock()
	switch mode {
	case applyOK:
		writeResult(w, d)
	case applyThenHangUp, hangUpBeforeApply:
		hangUp(f.t, w)
	case applyThen503, reply503:
		writeError(w, 503, 10013, "service unavailable")
	case reply429:
		writeError(w, 429, 10013, "rate limited")
	}
}

func (f *fakeDeployments) stats() (posts, lists, stored int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.lists, len(f.deployments)
}

var split = []DeploymentVersion{{VersionID: "new", Percentage: 10}, {VersionID: "old", Percentage: 90}}

func TestCreateDeployment(t *testing.T) {
	t.Parallel()
	fake := &fakeDeployments{t: t, modes: []postMode{applyOK}}
	c, _, _ := newTestClient(t, fake.handler())

	got, err := c.CreateDeployment(t.Context(), "w", split, "canary 10%", true)
	require.NoError(t, err)
	assert.Equal(t, "d1", got.ID)
	assert.Equal(t, split, got.Versions)
	assert.Equal(t, "ci@example.com", got.AuthorEmail)
	assert.Equal(t, "percentage", got.Strategy)
	require.Len(t, fake.bodies, 1)
	assert.Equal(t, map[string]any{
		"strategy": "percentage",
		"versions": []any{
			map[string]any{"version_id": "new", "percentage": 10.0},
			map[string]any{"version_id": "old", "percentage": 90.0},
		},
		"annotations": map[string]any{"workers/message": "canary 10%"},
	}, fake.bodies[0])
	assert.Equal(t, []string{"force=true"}, fake.queries)

	list, err := c.ListDeployments(t.Context(), "w")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, Annotations{"workers/triggered_by": "deployment"}, list[0].Annotations)
}

func TestCreateDeploymentWithoutMessageOrForce(t *testing.T) {
	t.Parallel()
	fake := &fakeDeployments{t: t, modes: []postMode{applyOK}}
	c, _, _ := newTestClient(t, fake.handler())

	_, err := c.CreateDeployment(t.Context(), "w", split[:1], "", false)
	require.NoError(t, err)
	assert.NotContains(t, fake.bodies[0], "annotations")
	assert.Equal(t, []string{""}, fake.queries)
}

func TestCreateDeploymentUnknownOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// existing is the live deployment before the call.
		existing  []DeploymentVersion
		existingT time.Duration // its age
		modes     []postMode
		wantPosts int
		wantLists int
		wantID    string
	}{
		{name: "applied, then 503: found at the head", existing: []DeploymentVersion{{VersionID: "old", Percentage: 100}},
			existingT: time.Hour, modes: []postMode{applyThen503}, wantPosts: 1, wantLists: 1, wantID: "d2"},
		{name: "applied, then connection dropped: found", existing: []DeploymentVersion{{VersionID: "old", Percentage: 100}},
			existingT: time.Hour, modes: []postMode{applyThenHangUp}, wantPosts: 1, wantLists: 1, wantID: "d2"},
		{name: "not applied: re-sent", existing: []DeploymentVersion{{VersionID: "old", Percentage: 100}},
			existingT: time.Hour, modes: []postMode{reply503, applyOK}, wantPosts: 2, wantLists: 1, wantID: "d2"},
		{name: "same split made before the call: re-sent", existing: split,
			existingT: time.Hour, modes: []postMode{hangUpBeforeApply, applyOK}, wantPosts: 2, wantLists: 1, wantID: "d2"},
		{name: "same split in other order within skew: taken", existing: []DeploymentVersion{split[1], split[0]},
			existingT: 10 * time.Second, modes: []postMode{hangUpBeforeApply}, wantPosts: 1, wantLists: 1, wantID: "d1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeDeployments{t: t, modes: tc.modes}
			fake.add(time.Now().Add(-tc.existingT), tc.existing)
			c, _, _ := newTestClient(t, fake.handler())

			got, err := c.CreateDeployment(t.Context(), "w", split, "", false)
			require.NoError(t, err)
			posts, lists, _ := fake.stats()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantLists, lists, "list calls")
			assert.Equal(t, tc.wantID, got.ID)
			assert.True(t, sameSplit(got.Versions, split))
		})
	}
}

func TestCreateDeploymentUnresolvable(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/scripts/w/deployments", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, 500, 10002, "internal error")
	})
	mux.HandleFunc("GET /accounts/acc/workers/scripts/w/deployments", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, 403, 10000, "authentication error")
	})
	c, _, _ := newTestClient(t, mux)

	_, err := c.CreateDeployment(t.Context(), "w", split, "", false)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnknownOutcome)
	assert.Contains(t, err.Error(), "HTTP 403")
	assert.Contains(t, err.Error(), "HTTP 500")
	assert.Equal(t, 2, c.Requests(), "one POST, one list; no blind re-send")
}

func TestSameSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		got, want []DeploymentVersion
		same      bool
	}{
		{name: "equal", got: split, want: split, same: true},
		{name: "reordered", got: []DeploymentVersion{split[1], split[0]}, want: split, same: true},
		{name: "rounded percentage", got: []DeploymentVersion{{"a", 33.3333}, {"b", 66.6667}}, want: []DeploymentVersion{{"a", 100.0 / 3}, {"b", 200.0 / 3}}, same: true},
		{name: "other percentage", got: []DeploymentVersion{{"new", 50}, {"old", 50}}, want: split, same: false},
		{name: "other version", got: []DeploymentVersion{{"new", 10}, {"older", 90}}, want: split, same: false},
		{name: "fewer versions", got: split[:1], want: split, same: false},
		{name: "duplicate entries", got: []DeploymentVersion{{"new", 10}, {"new", 10}}, want: split, same: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.same, sameSplit(tc.got, tc.want))
		})
	}
}
