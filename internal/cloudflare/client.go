package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/loopback"
	"github.com/workers-deploy/workers-deploy/internal/retry"
)

// Defaults for the retry behaviour of one call. The SDK's own defaults (11
// attempts, up to about 3.5 minutes, see docs/workers-api.md §2.1) are too
// slow for a deploy step that must react to cancellation within seconds.
const (
	// DefaultRetryBudget is the total time one call may take, retries included.
	DefaultRetryBudget = 90 * time.Second
	// DefaultAttemptTimeout bounds a single HTTP attempt (a large version upload
	// over a slow runner link must still fit).
	DefaultAttemptTimeout = 60 * time.Second
	// DefaultMaxAttempts is the number of HTTP attempts of one call, the first included.
	DefaultMaxAttempts = 8
	// DefaultSettleWindow is how long the effect of a write whose attempt timed
	// out is looked for before the write is sent again: the API may still be
	// working on the request the client gave up on (docs/faults.md).
	DefaultSettleWindow = 10 * time.Second
	// DefaultUserAgent is sent unless WithUserAgent sets another value.
	DefaultUserAgent = "workers-deploy/dev"
)

// maxRedirects mirrors net/http's default limit, which a custom CheckRedirect replaces.
const maxRedirects = 10

// Client calls the Cloudflare REST API for one account. It is safe for
// concurrent use. Create it with New.
type Client struct {
	base      *url.URL
	accountID string
	token     string

	hc             *http.Client
	budget         time.Duration
	attemptTimeout time.Duration
	settleWindow   time.Duration
	maxAttempts    int
	sleep          func(ctx context.Context, d time.Duration) error
	rand           func() float64
	logf           func(format string, args ...any)
	userAgent      string
	now            func() time.Time

	requests atomic.Int64
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send requests through hc. The Client uses a
// shallow copy: it wraps hc's Transport (http.DefaultTransport when nil) to add
// the credentials and replaces CheckRedirect to refuse cross-host redirects.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithRetryBudget sets the total time one call may take, retries, waits and
// outcome checks included (default 90s).
func WithRetryBudget(d time.Duration) Option { return func(c *Client) { c.budget = d } }

// WithAttemptTimeout sets the time limit of a single HTTP attempt (default 60s).
// Each attempt gets min(this, the remaining budget).
func WithAttemptTimeout(d time.Duration) Option { return func(c *Client) { c.attemptTimeout = d } }

// WithSettleWindow sets how long the effect of a write whose attempt timed out
// is looked for (re-read about every second) before the write is sent again
// (default 10s). The window comes out of the call's budget.
func WithSettleWindow(d time.Duration) Option { return func(c *Client) { c.settleWindow = d } }

// WithMaxAttempts sets the maximum number of HTTP attempts of one call, the
// first one included (default 8).
func WithMaxAttempts(n int) Option { return func(c *Client) { c.maxAttempts = n } }

// WithSleep replaces the function that waits between attempts; tests use it to
// record delays instead of sleeping. It must return ctx.Err() when ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithRand replaces the source of jitter: a function returning a number in
// [0, 1). Tests pass a constant.
func WithRand(r func() float64) Option {
	return func(c *Client) {
		if r != nil {
			c.rand = r
		}
	}
}

// WithLogger sets a function that receives debug lines (retries, outcome
// checks). Lines never contain the token or request bodies.
func WithLogger(logf func(format string, args ...any)) Option {
	return func(c *Client) {
		if logf != nil {
			c.logf = logf
		}
	}
}

// WithUserAgent sets the User-Agent header, normally "workers-deploy/<version>".
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// withNow replaces the clock used for the retry budget and Retry-After dates (tests).
func withNow(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithNow replaces the clock used for the retry budget and Retry-After dates;
// with WithSleep it lets a caller's test run the retries on a fake clock.
func WithNow(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// New returns a Client for the API at baseURL (for example
// "https://api.cloudflare.com/client/v4") acting on the account accountID with
// the API token token. baseURL must use https, except for loopback hosts
// (127.0.0.0/8, ::1, localhost) where plain http is allowed.
func New(baseURL, token, accountID string, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, ErrNoToken
	}
	if !validToken(token) {
		// Never echo the token: say only what is wrong with it.
		return nil, errors.New("invalid api-token: it contains whitespace or control characters; copy the token again without line breaks or spaces")
	}
	if accountID == "" {
		return nil, errors.New("invalid account-id: it is empty; set the account-id input or CLOUDFLARE_ACCOUNT_ID")
	}
	if strings.ContainsAny(accountID, "/?#% \t\r\n") {
		return nil, fmt.Errorf("invalid account-id %q: it must be the 32-character hex account ID from the Cloudflare dashboard", accountID)
	}
	c := &Client{
		base:           base,
		accountID:      accountID,
		token:          token,
		hc:             &http.Client{},
		budget:         DefaultRetryBudget,
		attemptTimeout: DefaultAttemptTimeout,
		settleWindow:   DefaultSettleWindow,
		maxAttempts:    DefaultMaxAttempts,
		sleep:          retry.Sleep,
		rand:           rand.Float64,
		logf:           func(string, ...any) {},
		userAgent:      DefaultUserAgent,
		now:            time.Now,
	}
	for _, opt := range opts {
		opt(c)
	}
	switch {
	case c.budget <= 0:
		return nil, fmt.Errorf("invalid retry budget %s: it must be positive", c.budget)
	case c.attemptTimeout <= 0:
		return nil, fmt.Errorf("invalid attempt timeout %s: it must be positive", c.attemptTimeout)
	case c.settleWindow < 0:
		return nil, fmt.Errorf("invalid settle window %s: it must not be negative", c.settleWindow)
	case c.maxAttempts < 1:
		return nil, fmt.Errorf("invalid maximum number of attempts %d: it must be at least 1", c.maxAttempts)
	}
	hc := *c.hc
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	hc.Transport = &authTransport{client: c, base: inner}
	hc.CheckRedirect = c.checkRedirect
	c.hc = &hc
	return c, nil
}

// Requests returns the number of HTTP requests the Client has sent so far,
// retries and redirects included.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// AccountID returns the account the Client acts on.
func (c *Client) AccountID() string { return c.accountID }

// parseBaseURL validates the api-url input.
func parseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("invalid api-url: it is empty; use https://api.cloudflare.com/client/v4")
	}
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			// A URL that does not parse may still carry "user:password@": never echo it.
			return nil, errors.New("invalid api-url: it is not a URL (not shown: it may contain a credential); use the form https://api.cloudflare.com/client/v4")
		}
		return nil, fmt.Errorf("invalid api-url %q: it is not a URL; use the form https://api.cloudflare.com/client/v4", raw)
	}
	if u.User != nil {
		// The URL might carry a credential: do not print it.
		return nil, fmt.Errorf("invalid api-url %q: it must not contain a user name or password; pass credentials with api-token", u.Redacted())
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("invalid api-url %q: the scheme must be https (http only for loopback hosts)", raw)
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("invalid api-url %q: it has no host; use the form https://api.cloudflare.com/client/v4", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("invalid api-url %q: it must not have a query or fragment", raw)
	}
	if u.Scheme == "http" && !loopback.IsHost(u.Hostname()) {
		return nil, fmt.Errorf("invalid api-url %q: plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost) because the API token would be sent unencrypted; use https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// validToken reports whether token can be sent in an HTTP header as is.
func validToken(token string) bool {
	for i := 0; i < len(token); i++ {
		if b := token[i]; b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

// authTransport adds the headers common to every request, the credentials
// among them, in one place. It adds the token only for the API's own host.
type authTransport struct {
	client *Client
	base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.client.requests.Add(1)
	r := req.Clone(req.Context())
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", t.client.userAgent)
	if sameHost(r.URL, t.client.base) {
		tok := t.client.token
		if b, ok := r.Context().Value(bearerKey{}).(string); ok && b != "" {
			tok = b // a call-specific credential (asset upload JWT) replaces the API token
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	} else {
		r.Header.Del("Authorization")
	}
	return t.base.RoundTrip(r)
}

// errCrossHostRedirect is returned through CheckRedirect so that the token
// never follows a redirect to another host.
var errCrossHostRedirect = errors.New("refused a redirect to another host")

// checkRedirect allows redirects within the API host only.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if !sameHost(req.URL, c.base) {
		return fmt.Errorf("%w %q; check api-url", errCrossHostRedirect, req.URL.Host)
	}
	return nil
}

// sameHost compares scheme, host and port, the way the token's audience is defined.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// accountPath returns the escaped API path /accounts/{account}/<segments…>.
// Each segment is escaped with url.PathEscape.
func (c *Client) accountPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/accounts/")
	b.WriteString(url.PathEscape(c.accountID))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// redact removes the token from text that came from elsewhere (error bodies).
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[REDACTED]")
}

// excerpt returns the start of a response body for an error message, with
// the token redacted before the body is cut, so that no part of it survives.
// Only the first 64 KiB are looked at: a token beyond that cannot move into
// the 200-byte excerpt.
func (c *Client) excerpt(body []byte) string {
	if len(body) > 64<<10 {
		body = body[:64<<10]
	}
	return excerpt([]byte(c.redact(string(body))))
}
