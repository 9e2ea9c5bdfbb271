package github

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeploymentStatusResentAfterALostAnswer: unlike a comment, a deployment
// status is re-sent after a network error (a duplicate status is harmless; a
// missing final one leaves the deployment in progress).
func TestDeploymentStatusResentAfterALostAnswer(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var mu sync.Mutex
	var states []string
	mux.HandleFunc("POST /repos/o/r/deployments/77/statuses", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		states = append(states, r.Method)
		n := len(states)
		mu.Unlock()
		if n == 1 {
			hj, ok := w.(http.Hijacker)
			require.True(t, ok)
			conn, _, err := hj.Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1,"state":"success"}`))
	})
	err := c.CreateDeploymentStatus(context.Background(), "o", "r", 77, DeploymentStatus{State: "success"})
	require.NoError(t, err)
	assert.Len(t, states, 2, "sent again after the connection was lost")
}

func TestRepeatablePost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v3/repos/o/r/deployments/77/statuses", true},
		{"POST", "/repos/o/r/deployments/77/statuses/", true},
		{"POST", "/repos/o/r/deployments", false},
		{"POST", "/repos/o/r/issues/7/comments", false},
		{"POST", "/repos/o/r/statuses/abc", false},
		{"GET", "/repos/o/r/deployments/77/statuses", false},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, "https://api.github.com"+tc.path, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.want, repeatablePost(req), "%s %s", tc.method, tc.path)
	}
}
