package github

import (
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v62/github"
)

// ErrUnknownOutcome is wrapped by the error of a create (POST) that may or
// may not have been applied by GitHub, when looking for the result (see
// CreateComment and CreateDeployment) could not settle it: the lookup after a
// broken connection or a 5xx failed, or the connection broke and nothing can
// look (no marker or nonce, or the call's context ended). Such a request is
// never re-sent blindly. (A 5xx on a create that nothing can look up is
// returned as that answer's *APIError, not re-sent.)
var ErrUnknownOutcome = errors.New("the request may or may not have been applied by GitHub")

// APIError is a failed GitHub API call. Status is 0 when no HTTP answer came
// (network error, cancelled context). It never holds the token.
type APIError struct {
	Method, Path string
	Status       int
	// Message is GitHub's error message, e.g. "Resource not accessible by integration".
	Message string
	// RateLimited is true for primary and secondary rate limits.
	RateLimited bool
	Err         error
}

func (e *APIError) Error() string {
	switch {
	case e.Status != 0 && e.Message != "":
		return fmt.Sprintf("GitHub API %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("GitHub API %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("GitHub API %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *APIError) Unwrap() error { return e.Err }

// IsPermission reports whether err says the token may not do this: 401, 403
// that is not a rate limit, or 404 (GitHub answers 404 instead of 403 when
// the token cannot see the repository). These are expected on fork pull
// requests and read-only tokens, and are never retried.
func IsPermission(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || e.RateLimited {
		return false
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound
}

// wrap turns a go-github error into an *APIError.
func wrap(method, path string, err error) error {
	e := &APIError{Method: method, Path: path, Err: err}
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rl):
		e.RateLimited, e.Message = true, rl.Message
		e.Status = statusOf(rl.Response, http.StatusForbidden)
	case errors.As(err, &abuse):
		e.RateLimited, e.Message = true, abuse.Message
		e.Status = statusOf(abuse.Response, http.StatusForbidden)
	case errors.As(err, &er):
		e.Message = er.Message
		e.Status = statusOf(er.Response, 0)
		e.RateLimited = e.Status == http.StatusTooManyRequests ||
			(er.Response != nil && er.Response.Header.Get(rateLimitedHeader) == "true")
	}
	return e
}

func statusOf(r *http.Response, def int) int {
	if r == nil {
		return def
	}
	return r.StatusCode
}
