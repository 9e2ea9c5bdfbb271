package gates

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityHealthCheckCarriesNoCredentials: a health check sends only the
// version-override header and Cache-Control (plus Go's User-Agent and
// Accept-Encoding, and Referer on a followed redirect): no Authorization, no
// cookie, nothing of the API token, also when the health URL redirects to
// another host.
func TestSecurityHealthCheckCarriesNoCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(w, r)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(w, r)
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.URL+"/healthz", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(health.Close)

	for _, path := range []string{"/healthz", "/away"} {
		// nil client: what the pipeline does when no client is injected.
		require.NoError(t, NewHealth(health.URL+path, "shop", version, nil, time.Second).Check(context.Background()))
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 3, "two checks, one of them redirected")
	for _, h := range got {
		var names []string
		for k := range h {
			if k != "Referer" { // Go names the health URL itself when following its redirect
				names = append(names, k)
			}
		}
		sort.Strings(names)
		assert.Equal(t, []string{"Accept-Encoding", "Cache-Control", OverrideHeader, "User-Agent"}, names)
		assert.Empty(t, h.Get("Authorization"))
		assert.Equal(t, `shop="`+version+`"`, h.Get(OverrideHeader))
	}
}
