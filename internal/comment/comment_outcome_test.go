package comment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/github"
)

// prServer is a loopback stand-in for one pull request's comments that breaks
// the first comment POST in one way (fault) and can fail every listing after
// the first (the lookup after an unknown outcome).
type prServer struct {
	// fault of the first POST: "reset" (closed before it is applied), "lost"
	// (applied, then closed), "502-late" (applied, then 502).
	fault string
	// failLookup answers every listing but the first with 403.
	failLookup bool

	mu       sync.Mutex
	comments []map[string]any
	posts    int
	lists    int
}

func (s *prServer) start(t *testing.T) *github.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/user", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
	})
	mux.HandleFunc("GET /api/v3/repos/octo/shop/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lists++
		if s.failLookup && s.lists > 1 {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(s.comments)
	})
	mux.HandleFunc("POST /api/v3/repos/octo/shop/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		s.mu.Lock()
		s.posts++
		fault := ""
		if s.posts == 1 {
			fault = s.fault
		}
		var c map[string]any
		if fault != "reset" {
			c = map[string]any{"id": 900 + len(s.comments), "body": in["body"], "html_url": fmt.Sprintf("https://github.com/octo/shop/pull/7#issuecomment-%d", 900+len(s.comments)),
				"user": map[string]any{"login": "github-actions[bot]", "type": "Bot"}}
			s.comments = append(s.comments, c)
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
		default:
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(c)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	noSleep := func(context.Context, time.Duration) error { return nil }
	c, err := github.New(srv.URL+"/api/v3", "ghs_commentOutcomeTest", github.WithSleep(noSleep))
	require.NoError(t, err)
	return c
}

// TestUpsertResolvesAnUnknownCreate runs Upsert with the real client against
// a pull request whose comment POST breaks: the create is looked up, never
// blindly re-sent, and never leaves two sticky comments.
func TestUpsertResolvesAnUnknownCreate(t *testing.T) {
	t.Parallel()
	pasted := map[string]any{"id": 1, "body": Marker("shop") + "\npasted", "user": map[string]any{"login": "mallory", "type": "User"}}
	cases := []struct {
		name       string
		srv        *prServer
		seed       []map[string]any
		wantPosts  int
		wantLists  int
		wantSticky int
		wantErr    string
	}{
		{name: "lost answer: found, not re-sent", srv: &prServer{fault: "lost"}, wantPosts: 1, wantLists: 2, wantSticky: 1},
		{name: "reset: not found, re-sent once", srv: &prServer{fault: "reset"}, wantPosts: 2, wantLists: 2, wantSticky: 1},
		{name: "reset: a pasted marker by someone else is not taken", srv: &prServer{fault: "reset"}, seed: []map[string]any{pasted}, wantPosts: 2, wantLists: 2, wantSticky: 1},
		{name: "502 after the write: found, not re-sent", srv: &prServer{fault: "502-late"}, wantPosts: 1, wantLists: 2, wantSticky: 1},
		{
			name: "lookup fails after a lost answer: an error, not a duplicate", srv: &prServer{fault: "lost", failLookup: true},
			wantPosts: 1, wantLists: 2, wantSticky: 1,
			wantErr: "failed to create a comment on pull request #7: GitHub API POST /repos/octo/shop/issues/7/comments",
		},
		{
			name: "lookup fails after a reset: an error, nothing re-sent", srv: &prServer{fault: "reset", failLookup: true},
			wantPosts: 1, wantLists: 2, wantSticky: 0,
			wantErr: "could not check whether it was",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.srv.comments = tc.seed
			client := tc.srv.start(t)
			body := Marker("shop") + "\nversion 1"
			out, err := Upsert(context.Background(), client, Target{Owner: "octo", Repo: "shop", Number: 7}, "shop", body)
			tc.srv.mu.Lock()
			posts, lists := tc.srv.posts, tc.srv.lists
			var sticky []map[string]any
			for _, c := range tc.srv.comments {
				if c["user"].(map[string]any)["login"] == "github-actions[bot]" {
					sticky = append(sticky, c)
				}
			}
			tc.srv.mu.Unlock()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantLists, lists, "listings (Upsert's, then the lookup)")
			assert.Len(t, sticky, tc.wantSticky, "sticky comments")
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.ErrorIs(t, err, github.ErrUnknownOutcome)
				assert.NotContains(t, err.Error(), "ghs_commentOutcomeTest")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "created", out.Action)
			require.Len(t, sticky, 1)
			assert.Equal(t, body, sticky[0]["body"])
			assert.Equal(t, sticky[0]["html_url"], out.URL)
		})
	}
}
