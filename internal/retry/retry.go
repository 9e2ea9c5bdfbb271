// Package retry is the retry core shared by the API clients (cloudflare,
// github): exponential backoff with jitter, the server's Retry-After-Ms and
// Retry-After headers, a time budget, attempt bookkeeping, and the lookup of
// a write whose outcome is unknown before it is sent again (with a settle
// window for writes the server may still apply after the client stopped
// waiting).
//
// The core does not know HTTP status codes or error bodies: each client
// sends one attempt and classifies it into an Outcome (what is transient,
// what may have been applied, what the server asked to wait). The core
// decides whether and when to try again and returns a Result that says why
// it stopped; the client turns that into its own error.
package retry

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sleep waits for d or until ctx ends, whichever comes first; it returns
// ctx.Err() when ctx ended. A non-positive d returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MaxAfter is the longest delay After returns: longer than any budget, so a
// huge header value ends the retries instead of overflowing.
const MaxAfter = 24 * time.Hour

// After returns the delay a response asks for before a retry:
// Retry-After-Ms (milliseconds, a decimal number) first, then Retry-After
// (seconds, a decimal number, or an HTTP date, taken relative to now).
// Negative delays become 0 and delays longer than MaxAfter become MaxAfter;
// ok is false when neither header holds a usable value.
func After(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
			return floatDuration(f, time.Millisecond), true
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
			return floatDuration(f, time.Second), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return min(max(t.Sub(now), 0), MaxAfter), true
		}
	}
	return 0, false
}

// floatDuration converts f units to a Duration without overflow, clamping
// negatives to 0 and huge values to MaxAfter.
func floatDuration(f float64, unit time.Duration) time.Duration {
	d := f * float64(unit)
	switch {
	case d <= 0:
		return 0
	case d >= float64(MaxAfter):
		return MaxAfter
	}
	return time.Duration(d)
}

// Backoff is the delay before a retry when the server asked for none:
// Base × 2^n, at most Cap, minus up to Jitter (a fraction, 0 to 1) of it.
type Backoff struct {
	Base, Cap time.Duration
	// Jitter is the largest fraction taken off a delay, so that clients that
	// failed together do not retry together. 0 means none.
	Jitter float64
	// Rand returns a number in [0, 1); nil means no jitter. Out-of-range
	// values count as 0.
	Rand func() float64
}

// Delay returns the delay before retry n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 0; i < n && d > 0 && d < b.Cap; i++ {
		d *= 2
	}
	d = min(d, b.Cap)
	if b.Jitter <= 0 || b.Rand == nil {
		return d
	}
	r := b.Rand()
	if r < 0 || r >= 1 || math.IsNaN(r) {
		r = 0
	}
	return d - time.Duration(float64(d)*min(b.Jitter, 1)*r)
}

// Round makes a duration readable in messages.
func Round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}
