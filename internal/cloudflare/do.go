package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/retry"
)

const (
	// backoffBase and backoffCap shape the delay without a Retry-After header:
	// 500ms × 2^n, at most 10s, minus up to 25 % jitter. Shorter than the SDK's
	// 2s × 2^n (cap 30s) so that a run stays responsive.
	backoffBase   = 500 * time.Millisecond
	backoffCap    = 10 * time.Second
	backoffJitter = 0.25
	// maxResponseBytes bounds a response body. Get Version with modules can be
	// tens of MB (base64 of a bundle up to 64 MB uncompressed).
	maxResponseBytes = 256 << 20
	// settleInterval spaces the re-reads that look for a late write.
	settleInterval = time.Second
	// finalCheckBudget bounds the outcome check made after the last attempt of a
	// write failed ambiguously, when the call's own budget may already be spent.
	finalCheckBudget = 20 * time.Second
)

// bodySource produces a fresh request body for each attempt.
type bodySource interface {
	// open returns a new body. An error of the body's own source (a module that
	// cannot be read), as opposed to a network error while sending it, is
	// recorded in fail.
	open(fail *failRecorder) io.ReadCloser
}

// failRecorder keeps the first error of a body's source during one attempt.
type failRecorder struct {
	mu  sync.Mutex
	err error
}

func (f *failRecorder) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *failRecorder) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// jsonBody is a small request body held in memory.
type jsonBody []byte

func (b jsonBody) open(*failRecorder) io.ReadCloser {
	return io.NopCloser(bytes.NewReader(b))
}

// call describes one logical API call for do.
type call struct {
	method string
	path   string // escaped, relative to the base URL
	query  url.Values
	body   bodySource // nil: no body
	out    any        // where to decode the envelope's result; nil to ignore it
	info   *resultInfo

	// write marks a call that changes state: after an ambiguous failure it is
	// re-sent only when check says it was not applied.
	write bool
	// check looks for the effect of an earlier attempt of a write. It returns
	// true when the write was applied (and has filled in the result itself).
	// nil means the outcome cannot be checked, so the write is never re-sent
	// after an ambiguous failure.
	check func(ctx context.Context) (bool, error)

	// valid, when set, says what a decoded 2xx answer lacks that the caller
	// needs ("" when nothing): such an answer is not a result. For a write it
	// leaves the outcome unknown (resolved by check), a read is retried.
	valid func() string

	// raw decodes a 2xx body into out as it is, not as a v4 envelope (GraphQL
	// answers). Error statuses are still read as envelopes.
	raw bool
	// maxAttempts, when positive, lowers the client's maximum number of
	// attempts for this call.
	maxAttempts int
	// maxWait, when positive, is the longest wait the server may ask for
	// (Retry-After) before a retry; a longer one ends the call at once.
	maxWait time.Duration

	// header holds extra request headers (R2's cf-r2-jurisdiction).
	header http.Header
	// contentType replaces application/json as the body's Content-Type.
	contentType string
	// bearer, when set, is sent as the bearer token instead of the API token
	// (the asset upload authenticates with the upload-session JWT, §8).
	bearer string
}

// resultInfo is the pagination block of list responses (docs/workers-api.md §3.4).
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// envelope is the JSON wrapper of every response (docs/workers-api.md §3.1, §3.2).
type envelope struct {
	Success    *bool           `json:"success"`
	Errors     []ErrorDetail   `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *resultInfo     `json:"result_info"`
}

// outcome is the result of one HTTP attempt, classified for the retry core:
// retry (transient), unknown (a write that may have been applied), late (no
// answer because the client stopped waiting: the server may still apply it
// after the first check), the wait the server asked for (Retry-After-Ms,
// Retry-After), and what failed for log lines ("HTTP 503").
type outcome = retry.Outcome

// policy is the client's retry configuration for the retry core.
func (c *Client) policy() retry.Policy {
	return retry.Policy{
		MaxAttempts:      c.maxAttempts,
		Budget:           c.budget,
		Backoff:          retry.Backoff{Base: backoffBase, Cap: backoffCap, Jitter: backoffJitter, Rand: c.rand},
		SettleWindow:     c.settleWindow,
		SettleInterval:   settleInterval,
		FinalCheckBudget: min(finalCheckBudget, c.attemptTimeout),
		Sleep:            c.sleep,
		Now:              c.now,
	}
}

// do runs c with retries; see the package documentation and docs/workers-api.md §2.1.
func (c *Client) do(ctx context.Context, cl *call) error {
	label := cl.method + " " + cl.path
	rc := retry.Call{
		Attempt:     func(ctx context.Context, deadline time.Time) outcome { return c.attempt(ctx, cl, deadline) },
		Check:       cl.check,
		MaxAttempts: cl.maxAttempts,
		MaxWait:     cl.maxWait,
		OnRetry: func(o outcome, next, most int, wait time.Duration) {
			c.logf("retrying %s after %s (attempt %d of %d, waiting %s)", label, o.What, next, most, roundDuration(wait))
		},
		OnSettle: func(window time.Duration) {
			c.logf("the earlier attempt of %s timed out: looking for its effect for up to %s before re-sending it", label, roundDuration(window))
		},
		OnResend: func() { c.logf("the earlier attempt of %s was not applied; re-sending it", label) },
	}
	p := c.policy()
	r := p.Run(ctx, rc)
	o := r.Last
	switch r.Stop {
	case retry.Succeeded:
		return nil
	case retry.Canceled:
		if o.Unknown {
			return fmt.Errorf("%w; %w", ErrUnknownOutcome, o.Err)
		}
		return o.Err
	case retry.NoCheck:
		c.logf("not re-sending %s after %s: its outcome is unknown and cannot be checked", label, o.What)
		return fmt.Errorf("%w (%s cannot be checked and was not re-sent): %w", ErrUnknownOutcome, label, o.Err)
	case retry.SleepFailed:
		if o.Unknown {
			return fmt.Errorf("%w; %w (while waiting to retry after: %w)", ErrUnknownOutcome, r.Err, o.Err)
		}
		return fmt.Errorf("%w (while waiting to retry after: %w)", r.Err, o.Err)
	case retry.CheckFailed:
		c.logf("could not check whether the earlier attempt of %s was applied: %v", label, c.redact(r.Err.Error()))
		return fmt.Errorf("%w (could not check whether it was: %v): %w", ErrUnknownOutcome, r.Err, o.Err)
	case retry.Applied:
		c.logf("the earlier attempt of %s had succeeded; not re-sending it", label)
		return nil
	}
	var reason string
	switch r.Stop {
	case retry.MaxAttempts:
		most := p.MaxAttempts
		if cl.maxAttempts > 0 {
			most = min(most, cl.maxAttempts)
		}
		reason = fmt.Sprintf("reached the maximum of %d attempts", most)
	case retry.WaitTooLong:
		reason = fmt.Sprintf("the API asked to wait %s before retrying, longer than the %s this call waits",
			roundDuration(o.Wait), roundDuration(cl.maxWait))
	case retry.WaitOverBudget:
		reason = fmt.Sprintf("the API asked to wait %s before retrying, more than the %s left of the retry budget",
			roundDuration(o.Wait), roundDuration(max(r.Remaining, 0)))
	case retry.BudgetSpent:
		reason = fmt.Sprintf("the retry budget of %s is spent", roundDuration(r.Budget))
	}
	err := o.Err
	if r.Attempts > 1 || reason != "" {
		if reason == "" {
			reason = "the error is not retryable"
		}
		err = fmt.Errorf("failed after %d attempts over %s (%s): %w", r.Attempts, roundDuration(r.Elapsed), reason, o.Err)
	}
	switch {
	case !r.Looked:
		return err
	case r.LookErr != nil:
		c.logf("could not check whether the last attempt of %s was applied: %v", label, c.redact(r.LookErr.Error()))
		return fmt.Errorf("%w (could not check whether it was: %v): %w", ErrUnknownOutcome, r.LookErr, err)
	case r.Applied:
		c.logf("the last attempt of %s had succeeded despite the error", label)
		return nil
	default:
		return err
	}
}

// attempt sends one HTTP request and classifies the result.
func (c *Client) attempt(ctx context.Context, cl *call, deadline time.Time) outcome {
	label := cl.method + " " + cl.path
	timeout := min(c.attemptTimeout, deadline.Sub(c.now()))
	if timeout <= 0 {
		return outcome{Err: fmt.Errorf("%s: the retry budget of %s is spent", label, roundDuration(c.budget))}
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// wrote records that the request headers went to the connection. From then
	// on a failure leaves a write's outcome unknown: a server may act on a
	// complete JSON body before the end of the chunked stream, so waiting for
	// the whole request to be written would not be a safe line. Before it
	// (dial or TLS failures), nothing was sent and re-sending is safe.
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	if cl.bearer != "" {
		actx = context.WithValue(actx, bearerKey{}, cl.bearer)
	}
	u := c.base.String() + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	req, err := http.NewRequestWithContext(actx, cl.method, u, nil)
	if err != nil {
		return outcome{Err: fmt.Errorf("failed to build request %s: %w", label, err)}
	}
	for k, vs := range cl.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	var fail failRecorder
	if cl.body != nil {
		req.Body = cl.body.open(&fail)
		// GetBody lets net/http replay the body on a redirect or on its own
		// reconnect: it re-opens the source instead of keeping a copy.
		req.GetBody = func() (io.ReadCloser, error) { return cl.body.open(&fail), nil }
		req.Header.Set("Content-Type", "application/json")
		if cl.contentType != "" {
			req.Header.Set("Content-Type", cl.contentType)
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return c.transportOutcome(ctx, actx, cl, label, timeout, err, fail.get(), wrote.Load())
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		// The request was answered, so a write may have been applied.
		return c.transportOutcome(ctx, actx, cl, label, timeout, err, nil, true)
	}
	if ferr := fail.get(); ferr != nil {
		// The server answered before the body was complete: report the module.
		return outcome{Err: ferr}
	}
	if len(body) > maxResponseBytes {
		return outcome{Err: fmt.Errorf("%s: the response is larger than %d MiB", label, maxResponseBytes>>20), Unknown: cl.write}
	}
	return c.responseOutcome(cl, res, body)
}

// transportOutcome classifies an error of the HTTP exchange itself. timeout
// is the attempt's own limit: the attempt timeout, or less when the retry
// budget had less left.
func (c *Client) transportOutcome(ctx, actx context.Context, cl *call, label string, timeout time.Duration, err, sourceErr error, wrote bool) outcome {
	unknown := cl.write && wrote
	switch {
	case sourceErr != nil:
		// A module could not be read: the server got a truncated body, which it
		// cannot apply, and trying again would fail the same way.
		return outcome{Err: sourceErr}
	case errors.Is(err, errCrossHostRedirect):
		return outcome{Err: fmt.Errorf("%s: %w", label, err)}
	case ctx.Err() != nil:
		return outcome{Err: fmt.Errorf("%s: %w", label, ctx.Err()), Unknown: unknown}
	case actx.Err() != nil:
		return outcome{
			Err:     fmt.Errorf("%s: the attempt timed out after %s: %w", label, roundDuration(timeout), context.DeadlineExceeded),
			Retry:   true,
			Unknown: unknown,
			Late:    unknown,
			What:    "a timeout",
		}
	default:
		return outcome{
			Err:     fmt.Errorf("%s: %w", label, c.cleanTransportError(err)),
			Retry:   true,
			Unknown: unknown,
			What:    "a connection error",
		}
	}
}

// cleanTransportError strips the *url.Error wrapper, whose text repeats the
// full URL, keeping the cause.
func (c *Client) cleanTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// responseOutcome decodes an HTTP response and decides whether to retry.
func (c *Client) responseOutcome(cl *call, res *http.Response, body []byte) outcome {
	var err error
	if cl.raw && res.StatusCode < 300 {
		err = c.decodeRaw(cl, res, body)
	} else {
		err = c.decodeResponse(cl.method, cl.path, res, body, cl.out, cl.info)
	}
	if err == nil && cl.valid != nil {
		if lack := cl.valid(); lack != "" {
			// A 2xx answer without what the caller needs is not a result: a
			// write's outcome is unknown (resolved by its check), a read is
			// tried again.
			return outcome{
				Err: &APIError{Method: cl.method, Path: cl.path, Status: res.StatusCode, RayID: res.Header.Get("cf-ray"),
					Excerpt: "the answer lacks " + lack},
				Retry:   true,
				Unknown: cl.write,
				What:    fmt.Sprintf("an HTTP %d answer without %s", res.StatusCode, lack),
			}
		}
	}
	if err == nil {
		return outcome{}
	}
	o := outcome{Err: err, What: fmt.Sprintf("HTTP %d", res.StatusCode)}
	var ae *APIError
	isAPI := errors.As(err, &ae)
	status := res.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		// Assumption: a 429 is a rate-limit rejection before any processing, so
		// even a write may be sent again as is.
		o.Retry = true
	case status == http.StatusRequestTimeout:
		// 408: the server timed out waiting for the request, so it did not act on it.
		o.Retry = true
	case status == http.StatusConflict && isAPI && ae.HasCode(CodeConcurrentModification):
		// 10035: rejected because of a concurrent change; retry after a short wait.
		o.Retry = true
	case status >= 500:
		o.Retry = true
		o.Unknown = cl.write
	case status < 300:
		// A 2xx whose body could not be decoded, or success:false. For a write
		// the change may have been made (so it is checked before a re-send); a
		// read of a REST envelope that could not be decoded is tried again (a
		// success:false is an answer, not a garbled one).
		o.Unknown = cl.write
		o.Retry = !cl.raw && isAPI && len(ae.Errors) == 0
	}
	// x-should-retry overrides the status, as in Cloudflare's SDK.
	switch strings.ToLower(res.Header.Get("x-should-retry")) {
	case "true":
		o.Retry = true
	case "false":
		o.Retry = false
	}
	if o.Retry {
		o.Wait, o.HasWait = retry.After(res.Header, c.now())
	}
	return o
}

// decodeResponse decodes the envelope of a response into out and info. It
// returns an *APIError for an error status, success:false, or a body that is
// not a JSON envelope.
func (c *Client) decodeResponse(method, path string, res *http.Response, body []byte, out any, info *resultInfo) error {
	apiErr := func() *APIError {
		return &APIError{Method: method, Path: path, Status: res.StatusCode, RayID: res.Header.Get("cf-ray")}
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		e := apiErr()
		e.Excerpt = c.excerpt(body)
		if e.Excerpt == "" {
			e.Excerpt = "(empty)"
		}
		return e
	}
	if res.StatusCode >= 300 || (env.Success != nil && !*env.Success) {
		e := apiErr()
		for _, d := range env.Errors {
			d.Message = c.redact(d.Message)
			e.Errors = append(e.Errors, d)
		}
		if len(e.Errors) == 0 {
			e.Excerpt = c.excerpt(body)
		}
		return e
	}
	if info != nil && env.ResultInfo != nil {
		*info = *env.ResultInfo
	}
	if out != nil && len(env.Result) > 0 && string(env.Result) != "null" {
		if err := json.Unmarshal(env.Result, out); err != nil {
			e := apiErr()
			e.Excerpt = "the result could not be decoded: " + err.Error()
			return e
		}
	}
	return nil
}

// decodeRaw decodes a 2xx body that is not a v4 envelope into cl.out.
func (c *Client) decodeRaw(cl *call, res *http.Response, body []byte) error {
	if err := json.Unmarshal(body, cl.out); err != nil {
		return &APIError{Method: cl.method, Path: cl.path, Status: res.StatusCode, RayID: res.Header.Get("cf-ray"),
			Excerpt: "the answer could not be decoded: " + err.Error()}
	}
	return nil
}

// roundDuration makes durations readable in messages.
func roundDuration(d time.Duration) time.Duration { return retry.Round(d) }
