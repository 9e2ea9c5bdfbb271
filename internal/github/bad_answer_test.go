package github

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeploymentStatusBadAnswerIsResent: a status POST answered 201 but cut
// off, empty or without an id may or may not have been recorded; a status
// only appends to the deployment's log, so it is sent again until an answer
// is usable (a duplicate entry is harmless; giving up left the deployment
// in_progress for good). When every answer is unusable the error says so.
func TestDeploymentStatusBadAnswerIsResent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		faults    []string
		wantPosts int
		wantErr   bool
	}{
		{name: "cut off once", faults: []string{"cut"}, wantPosts: 2},
		{name: "connection closed mid-body once", faults: []string{"cut-conn"}, wantPosts: 2},
		{name: "without an id once", faults: []string{"no-id"}, wantPosts: 2},
		{name: "empty twice", faults: []string{"empty", "empty"}, wantPosts: 3},
		{name: "always cut off", faults: []string{"cut", "cut", "cut", "cut", "cut", "cut"}, wantPosts: 5, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var mu sync.Mutex
			var recorded []string
			posts := 0
			mux.HandleFunc("POST /repos/o/r/deployments/500/statuses", func(w http.ResponseWriter, r *http.Request) {
				var in map[string]any
				require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
				mu.Lock()
				recorded = append(recorded, in["state"].(string))
				i := posts
				posts++
				out := map[string]any{"id": len(recorded), "state": in["state"]}
				mu.Unlock()
				fault := ""
				if i < len(tc.faults) {
					fault = tc.faults[i]
				}
				writeGarbled(t, w, fault, out)
			})
			err := c.CreateDeploymentStatus(context.Background(), "o", "r", 500, DeploymentStatus{State: "success", Description: "done"})
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.wantPosts, posts)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrBadAnswer)
				assert.Contains(t, err.Error(), "GitHub answered HTTP 201 Created but the answer is not a JSON object")
				assert.False(t, IsPermission(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "success", recorded[len(recorded)-1])
		})
	}
}

// TestNoRequestForDeploymentZero: a deployment ID of 0 (an answer without an
// id) is never posted to: GitHub's 404 would read as a missing permission.
func TestNoRequestForDeploymentZero(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		status(404, nil, `{"message":"Not Found"}`)(w)
	})
	err := c.CreateDeploymentStatus(context.Background(), "o", "r", 0, DeploymentStatus{State: "in_progress"})
	require.Error(t, err)
	assert.False(t, IsPermission(err), "not a permission problem: %v", err)
	assert.Contains(t, err.Error(), "deployment id 0")
}

// TestBadListAnswers: a listing with a comment without an id, or an empty
// body, is an error (ErrBadAnswer), not an empty or unusable list: the
// lookup of a create must not conclude "not there" from it.
func TestBadListAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
	}{
		{"comment without an id", `[{"body":"<!-- m -->\nx","user":{"login":"github-actions[bot]"}}]`},
		{"empty body", ``},
		{"cut off", `[{"id":1,"body":"x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("GET /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
				status(200, nil, tc.body)(w)
			})
			_, err := c.ListComments(context.Background(), "o", "r", 7)
			require.Error(t, err)
			assert.False(t, IsPermission(err))
			if tc.name != "cut off" {
				assert.ErrorIs(t, err, ErrBadAnswer)
			}
		})
	}
	t.Run("a create whose lookup lists garbage is not re-sent", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		posts := 0
		var mu sync.Mutex
		mux.HandleFunc("POST /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			posts++
			mu.Unlock()
			status(201, nil, `{"id":`)(w)
		})
		mux.HandleFunc("GET /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) { status(200, nil, "")(w) })
		_, err := c.CreateDeployment(context.Background(), "o", "r", DeploymentRequest{Ref: "main", Environment: "preview", Nonce: "n1"})
		require.ErrorIs(t, err, ErrUnknownOutcome)
		mu.Lock()
		assert.Equal(t, 1, posts)
		mu.Unlock()
	})
}

func TestAnswerProblem(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, want string }{
		{`{"id":5,"body":"x"}`, ""},
		{` {"id": 12345678901} `, ""},
		{``, "the answer is empty"},
		{`   `, "the answer is empty"},
		{`{"id":5`, "the answer is not a JSON object (cut off?)"},
		{`[{"id":5}]`, "the answer is not a JSON object (cut off?)"},
		{`{"id":5}{"id":6}`, "the answer is not a JSON object (cut off?)"},
		{`{}`, "the answer has no id"},
		{`{"id":0}`, "the answer has no id"},
		{`{"id":-3}`, "the answer has no id"},
		{`{"id":"5"}`, "the answer has no id"},
		{`{"id":5.5}`, "the answer has no id"},
		{`{"id":null}`, "the answer has no id"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, answerProblem([]byte(tc.body)), tc.body)
	}
}

// FuzzAnswerProblem: an answer passes only when it is one JSON object whose
// id is a positive integer.
func FuzzAnswerProblem(f *testing.F) {
	for _, s := range []string{`{"id":5}`, `{"id":5`, ``, `{}`, `{"id":"5"}`, `{"id":1e3}`, `{"id":5,"id":0}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if answerProblem([]byte(body)) != "" {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &obj); err != nil {
			t.Fatalf("passed a body that is not a JSON object: %q", body)
		}
		id, err := strconv.ParseInt(string(obj["id"]), 10, 64)
		if err != nil || id <= 0 {
			t.Fatalf("passed an answer without a positive id: %q", body)
		}
	})
}
