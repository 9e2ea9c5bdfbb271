package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/retry"
)

// defaultRetryPolicy is how the client retries, through the retry core: at
// most 5 attempts, a backoff of 500ms doubling up to 8s, and a budget of 30s
// of waiting per request: reporting must not hold a finished job for long
// (the deploy result stands either way).
func defaultRetryPolicy() retry.Policy {
	return retry.Policy{
		MaxAttempts: 5,
		Budget:      30 * time.Second,
		WaitsOnly:   true,
		Backoff:     retry.Backoff{Base: 500 * time.Millisecond, Cap: 8 * time.Second},
		Sleep:       retry.Sleep,
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
// message), network errors and 2xx answers it cannot use (ErrBadAnswer, see
// checkAnswer), with exponential backoff within a time budget. Every other
// 4xx is returned at once.
//
// A create (any POST but a deployment status, see repeatablePost) is never
// re-sent blindly after a failure that may have come after GitHub applied it
// (a network error once the request may have been sent, a 5xx, or an
// unusable 2xx answer): the
// outcomeCheck of the request's createCall (withCreate) looks for the result
// first, and only when it finds none is the request sent again. A create
// without a check is not re-sent after such a failure. Rate limits are
// rejections before any processing: those are re-sent as they are.
type retryTransport struct {
	next   http.RoundTripper
	policy retry.Policy
}

// outcomeCheck looks for the result of a create whose outcome is unknown.
// applied means it found it (the closure keeps what it found); an error means
// the lookup itself failed.
type outcomeCheck func(ctx context.Context) (applied bool, err error)

// createCall links one create call of the Client to the transport.
type createCall struct {
	// check looks for the result; nil when nothing can.
	check outcomeCheck
	// err is how the transport ended the call when its outcome was unknown
	// (an error wrapping ErrUnknownOutcome, or errApplied). go-github answers
	// every transport error with ctx.Err() once ctx is done, which would
	// lose it (see result).
	err error
}

type callKey struct{}

// withCreate attaches a createCall with check (nil: nothing can look) to
// the requests made with the returned context.
func withCreate(ctx context.Context, check outcomeCheck) (context.Context, *createCall) {
	call := &createCall{check: check}
	return context.WithValue(ctx, callKey{}, call), call
}

// result is the error of the call: the transport's own when it ended the
// call with an unknown outcome or found the result, else err (go-github's).
func (c *createCall) result(err error) error {
	if err != nil && c.err != nil {
		return c.err
	}
	return err
}

// errApplied is returned by the transport when an outcome check found the
// result of an earlier attempt: the caller returns what the check found.
var errApplied = errors.New("an earlier attempt of the request had been applied")

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// create: a POST whose failure may leave its outcome unknown. The GETs
	// of a check carry the createCall too, but are no creates.
	create := req.Method == http.MethodPost && !repeatablePost(req)
	call, _ := req.Context().Value(callKey{}).(*createCall)
	if !create || call == nil {
		return t.roundTrip(req, create, nil)
	}
	resp, err := t.roundTrip(req, create, call.check)
	if errors.Is(err, ErrUnknownOutcome) || errors.Is(err, errApplied) {
		call.err = err
	}
	return resp, err
}

// roundTrip sends req with retries; check is the create's outcomeCheck.
// The retry core decides when to retry and looks before a re-send; this
// classifies GitHub's answers and turns the core's result into an answer.
func (t *retryTransport) roundTrip(req *http.Request, create bool, check outcomeCheck) (*http.Response, error) {
	ctx := req.Context()
	var (
		resp    *http.Response // the last answer
		err     error          // the last transport error (or ErrBadAnswer)
		limited bool           // the last answer is a rate limit
		n       int
	)
	attempt := func(context.Context, time.Time) retry.Outcome {
		n++
		resp, err, limited = nil, nil, false
		r := req
		if n > 1 && req.Body != nil && req.GetBody != nil {
			body, berr := req.GetBody()
			if berr != nil {
				err = berr
				return retry.Outcome{Err: berr}
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err = t.next.RoundTrip(r)
		if err == nil {
			if berr := checkAnswer(req.Method, resp); berr != nil {
				// Cut off, not JSON, or without the id: like a broken
				// connection, the write may or may not have been applied.
				resp, err = nil, berr
			}
		}
		switch {
		case err != nil:
			return retry.Outcome{Err: err, Retry: true, Unknown: create}
		case resp.StatusCode >= 500:
			// A 5xx may come after the write was applied (a proxy timing
			// out, a crash after the commit). Retry-After lengthens the
			// backoff, never shortens it.
			o := retry.Outcome{Err: failure(resp, nil), Retry: true, Unknown: create, Floor: true}
			o.Wait, o.HasWait = retry.After(resp.Header, time.Now())
			return o
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
			if wait, ok := rateLimitWait(resp); ok {
				limited = true
				return retry.Outcome{Err: failure(resp, nil), Retry: true, Wait: wait, HasWait: true}
			}
		}
		return retry.Outcome{} // an answer to pass on as it is
	}
	call := retry.Call{
		Attempt: attempt,
		Check:   check,
		OnRetry: func(retry.Outcome, int, int, time.Duration) {
			if resp != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
			}
		},
	}
	r := t.policy.Run(ctx, call)
	o := r.Last
	switch r.Stop {
	case retry.Succeeded:
		return resp, nil
	case retry.Canceled:
		if err == nil && (!o.Unknown || check != nil) {
			// A retryable answer: the wait before the retry ends at once.
			return sleepFailed(o, ctx.Err())
		}
		return unlooked(ctx, o, resp, err)
	case retry.NoCheck:
		return unlooked(ctx, o, resp, err)
	case retry.SleepFailed:
		return sleepFailed(o, r.Err)
	case retry.CheckFailed:
		return nil, fmt.Errorf("%w (could not check whether it was: %v): %w", ErrUnknownOutcome, r.Err, o.Err)
	case retry.Applied:
		return nil, errApplied
	}
	// The core stopped retrying: not retryable, out of attempts or budget.
	if limited {
		// Tells wrap that this 403 is a rate limit, not a permission.
		resp.Header.Set(rateLimitedHeader, "true")
	}
	switch {
	case !o.Unknown:
		return resp, err
	case !r.Looked:
		return unlooked(ctx, o, resp, err)
	case r.LookErr != nil:
		if resp != nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("%w (could not check whether it was: %v): %w", ErrUnknownOutcome, r.LookErr, o.Err)
	case r.Applied:
		if resp != nil {
			resp.Body.Close()
		}
		return nil, errApplied
	}
	// Looked: not applied, so the failure is just what it says.
	return resp, err
}

// sleepFailed ends a call whose wait before a retry was cut short by serr.
func sleepFailed(o retry.Outcome, serr error) (*http.Response, error) {
	if o.Unknown {
		return nil, fmt.Errorf("%w (not re-sent: %w): %w", ErrUnknownOutcome, serr, o.Err)
	}
	return nil, serr
}

// unlooked ends a call whose last attempt was not looked up: nothing can
// check it, or the caller gave up. A 5xx answer is returned as it is; a
// create that failed otherwise has an unknown outcome.
func unlooked(ctx context.Context, o retry.Outcome, resp *http.Response, err error) (*http.Response, error) {
	if !o.Unknown || err == nil {
		return resp, err
	}
	why := "nothing can check it"
	if ctx.Err() != nil {
		why = ctx.Err().Error()
	}
	return nil, fmt.Errorf("%w (not re-sent: %s): %w", ErrUnknownOutcome, why, err)
}

// failure describes a failed attempt: its network error or its HTTP status.
func failure(resp *http.Response, err error) error {
	if err != nil || resp == nil {
		return err
	}
	return fmt.Errorf("HTTP %s", resp.Status)
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

// ErrBadAnswer is wrapped by the error for a 2xx answer the client cannot
// use: cut off, not JSON, or (for a write) without the id of what it wrote. A
// write answered so has an unknown outcome: a create is looked up before any
// re-send (see CreateComment, CreateDeployment), a deployment status and an
// edit are re-sent, and a read is retried.
var ErrBadAnswer = errors.New("GitHub's answer is unusable")

// maxAnswerBytes bounds how much of a write's answer is read: a comment is at
// most 65,536 characters, and the rest of the object is small.
const maxAnswerBytes = 4 << 20

// checkAnswer vets a 2xx answer before go-github decodes it, because
// go-github takes an empty body as an empty object (a deployment with ID 0)
// and its decode error, for a cut-off body, says nothing about the write.
// The answer of a write (POST, PATCH) is read whole (up to maxAnswerBytes)
// and must be a JSON object with a positive integer id, which every object
// the client creates or edits has; the body is then put back. The body of a
// read must not be empty (go-github would take it for an empty list).
func checkAnswer(method string, resp *http.Response) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	switch method {
	case http.MethodPost, http.MethodPatch:
	case http.MethodGet:
		resp.Body = &nonEmptyBody{ReadCloser: resp.Body}
		return nil
	default:
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	resp.Body.Close()
	bad := func(why string) error {
		return fmt.Errorf("%w: GitHub answered HTTP %s but %s", ErrBadAnswer, resp.Status, why)
	}
	switch {
	case err != nil:
		return bad(fmt.Sprintf("the answer was cut off (%v)", err))
	case len(data) > maxAnswerBytes:
		return bad("the answer is larger than 4 MiB")
	}
	if why := answerProblem(data); why != "" {
		return bad(why)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return nil
}

// answerProblem says what is wrong with the answer to a write, or "".
func answerProblem(data []byte) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "the answer is empty"
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return "the answer is not a JSON object (cut off?)"
	}
	id, err := strconv.ParseInt(string(obj["id"]), 10, 64)
	if err != nil || id <= 0 {
		return "the answer has no id"
	}
	return ""
}

// nonEmptyBody fails a read that ends before any byte: an empty answer to a
// read is not an empty list.
type nonEmptyBody struct {
	io.ReadCloser
	n int
}

func (b *nonEmptyBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += n
	if errors.Is(err, io.EOF) && b.n == 0 {
		return n, fmt.Errorf("%w: the answer is empty", ErrBadAnswer)
	}
	return n, err
}

// rateLimitWait says whether a 403/429 is a rate limit and how long to wait.
// A 403 that is none of these is a permission problem: never retried.
func rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if ra, ok := retry.After(resp.Header, time.Now()); ok {
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
