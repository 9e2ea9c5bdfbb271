package retry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/github"
)

// recordSleeps returns a sleep that records its waits without waiting, and
// a function that returns them.
func recordSleeps() (func(context.Context, time.Duration) error, func() []time.Duration) {
	var mu sync.Mutex
	var waits []time.Duration
	return func(_ context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return nil
		}, func() []time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return waits
		}
}

// TestClientsHonourRetryAfterAlike sends one rate-limited read through each
// client, with the same headers, and checks that both wait what the headers
// ask: both read them through the core's After, so a client that parses
// Retry-After (or ignores Retry-After-Ms) on its own again fails here.
func TestClientsHonourRetryAfterAlike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{name: "Retry-After-Ms", headers: map[string]string{"Retry-After-Ms": "1500"}, want: 1500 * time.Millisecond},
		{name: "fractional Retry-After-Ms", headers: map[string]string{"Retry-After-Ms": "0.5"}, want: 500 * time.Microsecond},
		{name: "Retry-After-Ms wins", headers: map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, want: 250 * time.Millisecond},
		{name: "Retry-After seconds", headers: map[string]string{"Retry-After": "2"}, want: 2 * time.Second},
		{name: "fractional Retry-After", headers: map[string]string{"Retry-After": "1.5"}, want: 1500 * time.Millisecond},
		{name: "negative Retry-After", headers: map[string]string{"Retry-After": "-3"}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			seen := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.URL.Path]++
				n := seen[r.URL.Path]
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n == 1 {
					for k, v := range tc.headers {
						w.Header().Set(k, v)
					}
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, `{"success":false,"errors":[{"code":971,"message":"slow down"}],"messages":[],"result":null}`)
					return
				}
				switch r.URL.Path {
				case "/client/v4/accounts/acc/workers/subdomain":
					fmt.Fprint(w, `{"success":true,"errors":[],"messages":[],"result":{"subdomain":"sub"}}`)
				case "/api/v3/user":
					fmt.Fprint(w, `{"login":"octocat","id":1}`)
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)

			cfSleep, cfSleeps := recordSleeps()
			cf, err := cloudflare.New(srv.URL+"/client/v4", "token", "acc",
				cloudflare.WithHTTPClient(srv.Client()), cloudflare.WithSleep(cfSleep),
				cloudflare.WithRand(func() float64 { return 0.5 }))
			require.NoError(t, err)
			sub, err := cf.AccountSubdomain(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "sub", sub)

			ghSleep, ghSleeps := recordSleeps()
			gh, err := github.New(srv.URL+"/api/v3", "token", github.WithHTTPClient(srv.Client()), github.WithSleep(ghSleep))
			require.NoError(t, err)
			login, err := gh.Viewer(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "octocat", login)

			assert.Equal(t, []time.Duration{tc.want}, cfSleeps(), "Cloudflare client")
			assert.Equal(t, []time.Duration{tc.want}, ghSleeps(), "GitHub client")
		})
	}
}
