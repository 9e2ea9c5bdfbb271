package gates

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

const version = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"

func TestHealth(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var headers []string
	statusFor := map[string]int{"/ok": 204, "/down": 503, "/redirect-ok": 200}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get(OverrideHeader))
		mu.Unlock()
		switch r.URL.Path {
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		case "/moved":
			http.Redirect(w, r, "/redirect-ok", http.StatusFound)
			return
		}
		w.WriteHeader(statusFor[r.URL.Path])
	}))
	t.Cleanup(ts.Close)
	// Only /slow runs into its timeout; the others get a generous one, so that a loaded
	// machine cannot turn their answer into a timeout.
	cases := []struct {
		path, want string
		timeout    time.Duration
	}{
		{"/ok", "", 5 * time.Second},
		{"/moved", "", 5 * time.Second},
		{"/down", "GET " + ts.URL + "/down: HTTP 503", 5 * time.Second},
		{"/slow", "GET " + ts.URL + "/slow: no answer within 50ms", 50 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			err := NewHealth(ts.URL+tc.path, "shop", version, ts.Client(), tc.timeout).Check(context.Background())
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.EqualError(t, err, tc.want)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		err := NewHealth(url, "shop", version, nil, time.Second).Check(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GET "+url+": ")
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range headers {
			assert.Equal(t, `shop="`+version+`"`, h)
		}
	})
}

type fakeInvocations struct {
	got []string
	err error
}

func (f *fakeInvocations) WorkerInvocations(_ context.Context, script string, versions []string, _, _ time.Time) (map[string]cloudflare.VersionInvocations, error) {
	f.got = append([]string{script}, versions...)
	if f.err != nil {
		return nil, f.err
	}
	return map[string]cloudflare.VersionInvocations{version: {VersionID: version, Requests: 200, Errors: 3}}, nil
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	api := &fakeInvocations{}
	m, err := NewErrorRate(api, "shop", version).Measure(context.Background(), time.Now(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(200), m.Requests)
	assert.Equal(t, int64(3), m.Errors)
	assert.Equal(t, []string{"shop", version}, api.got)

	api.err = errors.New("HTTP 403")
	_, err = NewErrorRate(api, "shop", version).Measure(context.Background(), time.Now(), time.Now())
	assert.EqualError(t, err, "HTTP 403")
}
