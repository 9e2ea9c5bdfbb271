package cloudflare

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrUnknownOutcome is wrapped by errors of writes that may or may not have
// been applied by Cloudflare (the connection dropped after the request was
// sent, the attempt timed out, or the API answered 5xx) when the client could
// not find out which. Check the Worker's versions or deployments before trying again.
var ErrUnknownOutcome = errors.New("the request may or may not have been applied by Cloudflare")

// ErrNoToken is the one message for a missing API token, used by the inputs
// and by New.
var ErrNoToken = errors.New("no Cloudflare API token: set the `api-token` input (from a secret) or CLOUDFLARE_API_TOKEN; the token needs Workers Scripts: Edit. To try the action without an account use `api-url: local`")

// Error codes of the Workers API that the client branches on
// (docs/workers-api.md §3.3).
const (
	// CodeAuthentication (HTTP 403): the token is missing, invalid, or has no
	// access to the account.
	CodeAuthentication = 10000
	// CodeInvalidAccessToken: the API's general code for a token it cannot
	// accept.
	CodeInvalidAccessToken = 9109
	// CodeValidation (HTTP 400): the version failed validation (a syntax
	// error, a missing export, a bad binding, startup limits).
	CodeValidation = 10021
	// CodeTooLarge (HTTP 400): the Worker is over the account's size limit
	// (measured after compression).
	CodeTooLarge = 10027
	// CodeWorkerNotFound (HTTP 404): the Worker does not exist.
	CodeWorkerNotFound = 10007
	// CodeConcurrentModification (HTTP 409): a concurrent change; retry after a short wait.
	CodeConcurrentModification = 10035
	// CodeWorkerAlreadyExists (HTTP 409): a Worker with that name exists.
	CodeWorkerAlreadyExists = 10040
	// CodeVersionNotFound (HTTP 404): the version does not exist.
	CodeVersionNotFound = 10071
	// CodeWorkerNotFoundLegacyEnv: the Worker (a legacy environment) does not exist.
	CodeWorkerNotFoundLegacyEnv = 10090
)

// maxExcerpt is the largest part of a non-JSON response body kept in an APIError, in bytes.
const maxExcerpt = 200

// ErrorDetail is one entry of the errors array of a Cloudflare API response.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// APIError is an error response of the Cloudflare API: a status >= 400, or a
// 2xx whose envelope says success:false or cannot be decoded.
type APIError struct {
	// Method is the HTTP method of the request.
	Method string
	// Path is the API path relative to the base URL, without the query string.
	Path string
	// Status is the HTTP status code.
	Status int
	// Errors are the entries of the envelope's errors array.
	Errors []ErrorDetail
	// RayID is the cf-ray response header, if any: quote it to Cloudflare support.
	RayID string
	// Excerpt is the start of a body that was not a JSON envelope (at most 200 bytes).
	Excerpt string
}

// Error gives the method, path, status, codes and messages. It never contains
// the request body or headers.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	for i, d := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "code %d: %s", d.Code, d.Message)
	}
	if len(e.Errors) == 0 && e.Excerpt != "" {
		fmt.Fprintf(&b, ": unexpected response body %q", e.Excerpt)
	}
	if e.RayID != "" {
		fmt.Fprintf(&b, " (cf-ray %s)", e.RayID)
	}
	return b.String()
}

// HasCode reports whether the response carried the Cloudflare error code code.
func (e *APIError) HasCode(code int) bool {
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// IsNotFound reports whether err is an APIError for a missing resource: HTTP
// 404, or the codes for an unknown Worker (10007, 10090) or version (10071).
func IsNotFound(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status == http.StatusNotFound || ae.HasCode(CodeWorkerNotFound) ||
		ae.HasCode(CodeVersionNotFound) || ae.HasCode(CodeWorkerNotFoundLegacyEnv)
}

// excerpt returns at most maxExcerpt bytes of body as valid UTF-8 on one line.
func excerpt(body []byte) string {
	// Invalid bytes become U+FFFD (3 bytes each), so look at a little more
	// than needed and cut after cleaning.
	if len(body) > 4*maxExcerpt {
		body = body[:4*maxExcerpt]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut-- // do not split a character
	}
	return s[:cut]
}
