package github

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryPolicy decides how transient failures are retried.
type retryPolicy struct {
	// attempts is the most tries of one request.
	attempts int
	// base is the first backoff; it doubles up to maxBackoff.
	base, maxBackoff time.Duration
	// budget bounds the total waiting per request: reporting must not hold a
	// finished job for long (the deploy result stands either way).
	budget time.Duration
	sleep  func(context.Context, time.Duration) error
}

func defaultRetryPolicy() retryPolicy {
	return retryPolicy{attempts: 5, base: 500 * time.Millisecond, maxBackoff: 8 * time.Second, budget: 30 * time.Second, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// secondaryMinWait is GitHub's advice for a secondary rate limit that comes
// without Retry-After: wait at least a minute
// (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
const secondaryMinWait = time.Minute

// rateLimitedHeader marks a rate-limited answer the transport gave up on.
const rateLimitedHeader = "X-Workers-Deploy-Rate-Limited"

// retryTransport retries 5xx answers, secondary rate limits (403/429 with
// Retry-After, x-ratelimit-remaining: 0, or a "secondary rate limit"
// message) and network errors of idempotent requests, with exponential
// backoff within a time budget. Every other 4xx is returned at once.
type retryTransport struct {
	next   http.RoundTripper
	policy retryPolicy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.policy
	var waited time.Duration
	backoff := p.base
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.next.RoundTrip(r)
		wait, retry, limited := backoff, false, false
		switch {
		case err != nil:
			// A POST whose answer was lost may have been applied: resending
			// could write a second comment. Everything else is idempotent, and
			// so is a deployment status in effect (see repeatablePost).
			retry = (req.Method != http.MethodPost || repeatablePost(req)) && req.Context().Err() == nil
		case resp.StatusCode >= 500:
			retry = true
			if ra, ok := retryAfter(resp); ok {
				wait = max(wait, ra)
			}
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
			var ok bool
			if wait, ok = rateLimitWait(resp); ok {
				retry, limited = true, true
			}
		}
		if !retry || attempt >= p.attempts || waited+wait > p.budget {
			if limited {
				// Tells wrap that this 403 is a rate limit, not a permission.
				resp.Header.Set(rateLimitedHeader, "true")
			}
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if serr := p.sleep(req.Context(), wait); serr != nil {
			return nil, serr
		}
		waited += wait
		backoff = min(backoff*2, p.maxBackoff)
	}
}

// repeatablePost reports whether req is a POST that may be re-sent after a
// network error although it may have been applied: a deployment status
// (POST .../deployments/{id}/statuses) only appends to the deployment's log,
// where the latest entry wins, so a duplicate is harmless, whereas giving up
// would leave the GitHub Deployment in_progress for good (found by the e2e
// fault matrix: a reset on one status POST stopped every later status).
func repeatablePost(req *http.Request) bool {
	segs := strings.Split(strings.TrimSuffix(req.URL.Path, "/"), "/")
	n := len(segs)
	return req.Method == http.MethodPost && n >= 3 && segs[n-1] == "statuses" && segs[n-3] == "deployments"
}

// rateLimitWait says whether a 403/429 is a rate limit and how long to wait.
// A 403 that is none of these is a permission problem: never retried.
func rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if ra, ok := retryAfter(resp); ok {
		return ra, true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return max(time.Until(time.Unix(reset, 0)), time.Second), true
		}
		return secondaryMinWait, true
	}
	// Peek at the body for the secondary-limit message, then put it back.
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if strings.Contains(strings.ToLower(string(data)), "secondary rate limit") {
		return secondaryMinWait, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return secondaryMinWait, true
	}
	return 0, false
}

// retryAfter reads Retry-After in seconds (GitHub never sends the date form;
// it is accepted anyway).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 && s < 1<<20 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}
