package ghdeploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/github"
)

// deployServer is a loopback stand-in for GitHub Deployments whose first
// deployment POST breaks in one way (fault: "reset" closes the connection
// before applying it, "lost" applies it and then closes, "502-late" applies
// it and answers 502, "cut" applies it and answers 201 with half the JSON,
// "no-id" applies it and answers 201 without the id); failLookup answers the deployments listing with 403.
type deployServer struct {
	fault      string
	failLookup bool
	// statusFault garbles the answer to the first status POST, which is
	// recorded: "cut" (half the JSON).
	statusFault string
	statusPosts int

	mu          sync.Mutex
	posts       int
	lookups     []string
	deployments []map[string]any
	statuses    map[int][]string
}

func (s *deployServer) start(t *testing.T) *github.Client {
	t.Helper()
	s.statuses = map[int][]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v3/repos/octo/shop/deployments", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		s.mu.Lock()
		s.posts++
		fault := ""
		if s.posts == 1 {
			fault = s.fault
		}
		var d map[string]any
		if fault != "reset" {
			d = map[string]any{"id": 300 + len(s.deployments), "sha": in["ref"], "ref": in["ref"], "task": in["task"],
				"environment": in["environment"], "payload": in["payload"]}
			s.deployments = append(s.deployments, d)
		}
		s.mu.Unlock()
		switch fault {
		case "reset", "lost":
			hj, ok := w.(http.Hijacker)
			require.True(t, ok)
			conn, _, err := hj.Hijack()
			require.NoError(t, err)
			conn.Close()
		case "502-late":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"message":"Server Error"}`)
		case "cut":
			data, _ := json.Marshal(d)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(data[:len(data)/2])
		case "no-id":
			answer := map[string]any{}
			for k, v := range d {
				if k != "id" {
					answer[k] = v
				}
			}
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(answer)
		default:
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(d)
		}
	})
	mux.HandleFunc("GET /api/v3/repos/octo/shop/deployments", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lookups = append(s.lookups, r.URL.RawQuery)
		if s.failLookup {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
			return
		}
		// Newest first; an earlier attempt's deployment of the same commit
		// is there too and must not be taken.
		out := []map[string]any{}
		for i := len(s.deployments) - 1; i >= 0; i-- {
			out = append(out, s.deployments[i])
		}
		out = append(out, map[string]any{"id": 299, "payload": map[string]any{"nonce": Nonce("shop", "4242", "1", "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")}})
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /api/v3/repos/octo/shop/deployments/{id}/statuses", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		var id int
		_, err := fmt.Sscan(r.PathValue("id"), &id)
		require.NoError(t, err)
		s.mu.Lock()
		s.statuses[id] = append(s.statuses[id], fmt.Sprint(in["state"]))
		s.statusPosts++
		garble := s.statusPosts == 1 && s.statusFault == "cut"
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		if garble {
			fmt.Fprint(w, `{"id":`)
			return
		}
		fmt.Fprint(w, `{"id":1}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	noSleep := func(context.Context, time.Duration) error { return nil }
	c, err := github.New(srv.URL+"/api/v3", "ghs_deployOutcomeTest", github.WithSleep(noSleep))
	require.NoError(t, err)
	return c
}

// TestTrackerResolvesAnUnknownCreate runs the Tracker with the real client
// while the deployment POST breaks: the deployment is found by its nonce or
// re-sent once, and ends in success; a failed lookup is an error (a warning
// for the caller), never a second deployment.
func TestTrackerResolvesAnUnknownCreate(t *testing.T) {
	t.Parallel()
	const sha = "1111111111111111111111111111111111111111"
	cases := []struct {
		name        string
		srv         *deployServer
		wantPosts   int
		wantCreated int
		wantErr     string
		// wantStatuses defaults to in_progress, success.
		wantStatuses []string
		noLookup     bool
	}{
		{name: "lost answer: found by its nonce, not re-sent", srv: &deployServer{fault: "lost"}, wantPosts: 1, wantCreated: 1},
		{name: "reset: not found, re-sent once", srv: &deployServer{fault: "reset"}, wantPosts: 2, wantCreated: 1},
		{name: "502 after the write: found, not re-sent", srv: &deployServer{fault: "502-late"}, wantPosts: 1, wantCreated: 1},
		{name: "201 cut off: found by its nonce, not re-sent", srv: &deployServer{fault: "cut"}, wantPosts: 1, wantCreated: 1},
		{name: "201 without an id: found by its nonce, not re-sent", srv: &deployServer{fault: "no-id"}, wantPosts: 1, wantCreated: 1},
		{name: "status answer cut off: re-sent, ends in success", srv: &deployServer{statusFault: "cut"}, wantPosts: 1, wantCreated: 1,
			wantStatuses: []string{"in_progress", "in_progress", "success"}, noLookup: true},
		{
			name: "lookup fails after a lost answer: an error, no second deployment", srv: &deployServer{fault: "lost", failLookup: true},
			wantPosts: 1, wantCreated: 1, wantErr: "could not check whether it was",
		},
		{
			name: "lookup fails after a reset: an error, nothing re-sent", srv: &deployServer{fault: "reset", failLookup: true},
			wantPosts: 1, wantCreated: 0, wantErr: "could not check whether it was",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := tc.srv.start(t)
			tr := Start(context.Background(), client, Options{Owner: "octo", Repo: "shop", Ref: sha, Environment: "production", RunID: "4242", RunAttempt: "2"})
			res := result()
			tr.VersionReady(res)
			res.Deployed, res.DeployedPercentage = true, 100
			out, err := tr.Finish(context.Background(), res, nil, "")
			s := tc.srv
			s.mu.Lock()
			defer s.mu.Unlock()
			assert.Equal(t, tc.wantPosts, s.posts, "deployment POSTs")
			assert.Len(t, s.deployments, tc.wantCreated, "deployments created")
			if tc.noLookup {
				assert.Empty(t, s.lookups)
			} else if assert.Len(t, s.lookups, 1, "one lookup") {
				assert.Equal(t, "environment=production&per_page=100&sha="+sha+"&task=deploy", s.lookups[0])
			}
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `failed to create a GitHub Deployment for environment "production"`)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.ErrorIs(t, err, github.ErrUnknownOutcome)
				assert.NotContains(t, err.Error(), "ghs_deployOutcomeTest")
				assert.Empty(t, s.statuses, "no status without a known deployment")
				return
			}
			require.NoError(t, err)
			require.Len(t, s.deployments, 1)
			id := s.deployments[0]["id"].(int)
			assert.Equal(t, Outcome{ID: int64(id), State: "success"}, out)
			want := tc.wantStatuses
			if want == nil {
				want = []string{"in_progress", "success"}
			}
			assert.Equal(t, map[int][]string{id: want}, s.statuses, "statuses go to the one deployment, ending in success")
			payload := s.deployments[0]["payload"].(map[string]any)
			assert.Equal(t, "shop/4242/2/"+res.VersionID, payload[github.PayloadNonce])
		})
	}
}

func TestNonce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, worker, runID, attempt, version, want string
	}{
		{name: "in a run", worker: "shop", runID: "4242", attempt: "3", version: "v1", want: "shop/4242/3/v1"},
		{name: "no attempt is the first", worker: "shop", runID: "4242", version: "v1", want: "shop/4242/1/v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Nonce(tc.worker, tc.runID, tc.attempt, tc.version))
		})
	}
	a, b := Nonce("shop", "", "", "v1"), Nonce("shop", "", "", "v1")
	assert.NotEqual(t, a, b, "outside Actions each nonce is random")
	assert.True(t, strings.HasPrefix(a, "shop/local-"), a)
	assert.True(t, strings.HasSuffix(a, "/1/v1"), a)
}
