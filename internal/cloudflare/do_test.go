package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type handlerFunc = func(w http.ResponseWriter, r *http.Request)

func TestRetryAfterHeaders(t *testing.T) {
	t.Parallel()
	clockStart := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{name: "Retry-After seconds", headers: []string{"Retry-After", "3"}, want: 3 * time.Second},
		{name: "Retry-After float seconds", headers: []string{"Retry-After", "0.25"}, want: 250 * time.Millisecond},
		{name: "Retry-After-Ms wins over Retry-After", headers: []string{"Retry-After-Ms", "1500.5", "Retry-After", "9"}, want: 1500500 * time.Microsecond},
		{name: "Retry-After HTTP date", headers: []string{"Retry-After", clockStart.Add(4 * time.Second).Format(http.TimeFormat)}, want: 4 * time.Second},
		{name: "Retry-After date in the past", headers: []string{"Retry-After", clockStart.Add(-time.Hour).Format(http.TimeFormat)}, want: 0},
		{name: "negative Retry-After-Ms", headers: []string{"Retry-After-Ms", "-5"}, want: 0},
		{name: "unparsable header falls back to backoff", headers: []string{"Retry-After", "soon"}, want: 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seq := &sequence{steps: []handlerFunc{status(http.StatusTooManyRequests, tc.headers...), okWorker("w")}}
			clock := &fakeClock{t: clockStart}
			c, rec, _ := newTestClient(t, seq, withNow(clock.now))
			rec.clock = clock

			got, err := c.GetWorker(t.Context(), "w")
			require.NoError(t, err)
			assert.Equal(t, "w", got.Name)
			assert.Equal(t, []time.Duration{tc.want}, rec.Sleeps())
			assert.Equal(t, 2, seq.count())
			assert.Equal(t, 2, c.Requests())
		})
	}
}

func TestBackoffOn503(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{name: "no jitter", rand: 0, want: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "full jitter takes off 25 percent", rand: 0.999999, want: []time.Duration{375 * time.Millisecond, 750 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seq := &sequence{steps: []handlerFunc{status(503), status(503), okWorker("w")}}
			c, rec, _ := newTestClient(t, seq, WithRand(func() float64 { return tc.rand }))

			_, err := c.GetWorker(t.Context(), "w")
			require.NoError(t, err)
			assert.Equal(t, 3, seq.count())
			got := rec.Sleeps()
			require.Len(t, got, len(tc.want))
			for i := range got {
				assert.InDelta(t, tc.want[i], got[i], float64(time.Millisecond), "sleep %d", i)
			}
			logs := rec.Logs()
			require.NotEmpty(t, logs)
			assert.Contains(t, logs[0], "retrying GET /accounts/acc/workers/workers/w after HTTP 503 (attempt 2 of 8, waiting ")
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	c := &Client{rand: func() float64 { return 0 }}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for n, w := range want {
		assert.Equal(t, w, c.policy().Backoff.Delay(n), "retry %d", n)
	}
	assert.Equal(t, 10*time.Second, c.policy().Backoff.Delay(70), "no overflow for large n")
}

func TestRetriedStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		first handlerFunc
	}{
		{name: "409 concurrent modification 10035", first: apiError(409, CodeConcurrentModification)},
		{name: "408", first: status(408)},
		{name: "429", first: status(429)},
		{name: "500", first: status(500)},
		{name: "502", first: status(502)},
		{name: "504", first: status(504)},
		{name: "400 with x-should-retry true", first: status(400, "x-should-retry", "true")},
		{name: "connection dropped", first: func(w http.ResponseWriter, _ *http.Request) { hangUp(t, w) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seq := &sequence{steps: []handlerFunc{tc.first, okWorker("w")}}
			c, rec, _ := newTestClient(t, seq)

			_, err := c.GetWorker(t.Context(), "w")
			require.NoError(t, err)
			assert.Equal(t, 2, seq.count())
			assert.Len(t, rec.Sleeps(), 1)
		})
	}
}

func TestNotRetriedStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		first    handlerFunc
		wantCode int
	}{
		{name: "400", first: apiError(400, 10021), wantCode: 400},
		{name: "401", first: apiError(401, 10000), wantCode: 401},
		{name: "403", first: apiError(403, 10000), wantCode: 403},
		{name: "404", first: apiError(404, CodeWorkerNotFound), wantCode: 404},
		{name: "409 other than 10035", first: apiError(409, CodeWorkerAlreadyExists), wantCode: 409},
		{name: "503 with x-should-retry false", first: status(503, "x-should-retry", "false"), wantCode: 503},
		{name: "200 with success false", first: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, map[string]any{"success": false, "errors": []any{map[string]any{"code": 10021, "message": "bad"}}, "result": nil})
		}, wantCode: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seq := &sequence{steps: []handlerFunc{tc.first, okWorker("w")}}
			c, rec, _ := newTestClient(t, seq)

			_, err := c.GetWorker(t.Context(), "w")
			require.Error(t, err)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.wantCode, ae.Status)
			assert.Equal(t, 1, seq.count())
			assert.Empty(t, rec.Sleeps())
			assert.NotContains(t, err.Error(), "attempts", "a single attempt is reported as is")
		})
	}
}

func TestRetryBudgetSpent(t *testing.T) {
	t.Parallel()
	seq := &sequence{steps: []handlerFunc{status(503)}}
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	c, rec, _ := newTestClient(t, seq, withNow(clock.now), WithRetryBudget(5*time.Second))
	rec.clock = clock

	_, err := c.GetWorker(t.Context(), "w")
	// Waits 0.5s, 1s, 2s (3.5s in all); the next 4s wait does not fit in the 1.5s left.
	require.EqualError(t, err, `failed to get worker "w": failed after 4 attempts over 3.5s (the retry budget of 5s is spent): `+
		`GET /accounts/acc/workers/workers/w: HTTP 503 Service Unavailable: code 10013: Service Unavailable`)
	assert.Equal(t, 4, seq.count())
	var ae *APIError
	assert.ErrorAs(t, err, &ae, "the last cause stays reachable")
}

func TestMaxAttempts(t *testing.T) {
	t.Parallel()
	seq := &sequence{steps: []handlerFunc{status(500)}}
	c, _, _ := newTestClient(t, seq, WithMaxAttempts(3))

	_, err := c.GetWorker(t.Context(), "w")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed after 3 attempts over ")
	assert.Contains(t, err.Error(), "(reached the maximum of 3 attempts)")
	assert.Equal(t, 3, seq.count())
}

func TestRetryAfterLongerThanBudget(t *testing.T) {
	t.Parallel()
	seq := &sequence{steps: []handlerFunc{status(429, "Retry-After", "120"), okWorker("w")}}
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	c, rec, _ := newTestClient(t, seq, withNow(clock.now), WithRetryBudget(90*time.Second))
	rec.clock = clock

	_, err := c.GetWorker(t.Context(), "w")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the API asked to wait 2m0s before retrying, more than the 1m30s left of the retry budget")
	assert.Equal(t, 1, seq.count())
	assert.Empty(t, rec.Sleeps())
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	slow := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	seq := &sequence{steps: []handlerFunc{slow, okWorker("w")}}
	c, rec, _ := newTestClient(t, seq, WithAttemptTimeout(100*time.Millisecond))

	_, err := c.GetWorker(t.Context(), "w")
	require.NoError(t, err)
	// At least the slow attempt and one answered; on a loaded machine an answered attempt
	// may itself exceed the 100 ms and be retried once more.
	assert.GreaterOrEqual(t, seq.count(), 2)
	logs := rec.Logs()
	require.NotEmpty(t, logs)
	assert.Contains(t, logs[0], "after a timeout")
}

// TestAttemptTimeoutMessageNamesActualLimit: an attempt cut short by the
// retry budget says how long it really had, not the attempt timeout.
func TestAttemptTimeoutMessageNamesActualLimit(t *testing.T) {
	t.Parallel()
	slow := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	seq := &sequence{steps: []handlerFunc{slow}}
	c, _, _ := newTestClient(t, seq, WithAttemptTimeout(10*time.Second), WithRetryBudget(200*time.Millisecond))

	_, err := c.GetWorker(t.Context(), "w")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the attempt timed out after ")
	assert.NotContains(t, err.Error(), "timed out after 10s")
}

func TestCallerCancellationStopsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	seq := &sequence{steps: []handlerFunc{func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	}}}
	c, _, _ := newTestClient(t, seq)

	_, err := c.GetWorker(ctx, "w")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, seq.count())
}

func TestSleepCancelled(t *testing.T) {
	t.Parallel()
	seq := &sequence{steps: []handlerFunc{status(503)}}
	c, _, _ := newTestClient(t, seq, WithSleep(func(context.Context, time.Duration) error { return context.Canceled }))

	_, err := c.GetWorker(t.Context(), "w")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "HTTP 503", "the cause that led to the wait is kept")
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	html := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("proxy error ", 60) + "</body></html>"
	cases := []struct {
		name    string
		handler handlerFunc
		want    *APIError
		wantErr string
	}{
		{
			name: "JSON error envelope with ray ID",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("cf-ray", "8f1d2c3b4a5e6f70-AMS")
				writeJSON(w, 404, map[string]any{"success": false, "result": nil, "messages": []any{},
					"errors": []any{map[string]any{"code": 10007, "message": "This Worker does not exist on your account."},
						map[string]any{"code": 10013, "message": "second"}}})
			},
			want: &APIError{Method: "GET", Path: "/accounts/acc/workers/workers/w", Status: 404, RayID: "8f1d2c3b4a5e6f70-AMS",
				Errors: []ErrorDetail{{Code: 10007, Message: "This Worker does not exist on your account."}, {Code: 10013, Message: "second"}}},
			wantErr: `GET /accounts/acc/workers/workers/w: HTTP 404 Not Found: code 10007: This Worker does not exist on your account.; code 10013: second (cf-ray 8f1d2c3b4a5e6f70-AMS)`,
		},
		{
			name: "HTML from a proxy",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("x-should-retry", "false")
				w.WriteHeader(502)
				_, _ = w.Write([]byte(html))
			},
			want: &APIError{Method: "GET", Path: "/accounts/acc/workers/workers/w", Status: 502, Excerpt: excerpt([]byte(html))},
		},
		{
			name: "200 that is not JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("OK"))
			},
			want:    &APIError{Method: "GET", Path: "/accounts/acc/workers/workers/w", Status: 200, Excerpt: "OK"},
			wantErr: `GET /accounts/acc/workers/workers/w: HTTP 200 OK: unexpected response body "OK"`,
		},
		{
			name: "empty error body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(403)
			},
			want: &APIError{Method: "GET", Path: "/accounts/acc/workers/workers/w", Status: 403, Excerpt: "(empty)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, _ := newTestClient(t, &sequence{steps: []handlerFunc{tc.handler}})

			_, err := c.GetWorker(t.Context(), "w")
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.want, ae)
			assert.LessOrEqual(t, len(ae.Excerpt), maxExcerpt)
			if tc.wantErr != "" {
				assert.EqualError(t, ae, tc.wantErr)
			}
		})
	}
}

func TestIsNotFound(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{name: "404", err: &APIError{Status: 404}, want: true},
		{name: "10007 with another status", err: &APIError{Status: 400, Errors: []ErrorDetail{{Code: 10007}}}, want: true},
		{name: "10071", err: &APIError{Status: 400, Errors: []ErrorDetail{{Code: 10071}}}, want: true},
		{name: "10090", err: &APIError{Status: 400, Errors: []ErrorDetail{{Code: 10090}}}, want: true},
		{name: "wrapped", err: errors.Join(errors.New("x"), &APIError{Status: 404}), want: true},
		{name: "400", err: &APIError{Status: 400, Errors: []ErrorDetail{{Code: 10021}}}, want: false},
		{name: "not an API error", err: errors.New("boom"), want: false},
		{name: "nil", err: nil, want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, IsNotFound(tc.err))
		})
	}
}

func TestExcerptKeepsValidUTF8(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("é", 150)) // 300 bytes of 2-byte characters
	got := excerpt(body)
	assert.LessOrEqual(t, len(got), maxExcerpt)
	assert.NotContains(t, got, "\uFFFD")
}
