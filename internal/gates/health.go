package gates

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// OverrideHeader forces a request to a version of a Worker, whatever the
// split, as long as the version is in the live deployment (docs/workers-api.md
// §7.2, §13.1).
const OverrideHeader = "Cloudflare-Workers-Version-Overrides"

// DefaultCheckTimeout bounds one health check when Health.Timeout is 0.
const DefaultCheckTimeout = 10 * time.Second

// Health is the health-check gate: one GET of URL per check, sent to the new
// version with the override header. A non-2xx answer, a timeout or a
// connection error is a failed check. Create it with NewHealth.
type Health struct {
	url, header string
	client      *http.Client
	timeout     time.Duration
}

var _ rollout.HealthChecker = (*Health)(nil)

// NewHealth returns the gate for url and the Worker's version. client nil
// means a new http.Client; timeout 0 means DefaultCheckTimeout. The client
// never carries the Cloudflare API token.
func NewHealth(url, worker, versionID string, client *http.Client, timeout time.Duration) *Health {
	if client == nil {
		client = &http.Client{}
	}
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	return &Health{url: url, header: OverrideValue(worker, versionID), client: client, timeout: timeout}
}

// OverrideValue is the override header's value for one Worker and version:
// an RFC 8941 dictionary entry, `<worker>="<version-id>"`.
func OverrideValue(worker, versionID string) string {
	return worker + "=" + strconv.Quote(versionID)
}

// Check runs one health check.
func (h *Health) Check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, h.url, nil)
	if err != nil {
		return fmt.Errorf("failed to build the health check of %s: %w", h.url, err)
	}
	req.Header.Set(OverrideHeader, h.header)
	req.Header.Set("Cache-Control", "no-cache")
	res, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no answer within %s", h.url, h.timeout)
		}
		return fmt.Errorf("GET %s: %w", h.url, unwrapURL(err))
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("GET %s: HTTP %d", h.url, res.StatusCode)
	}
	return nil
}

// unwrapURL drops *url.Error's repetition of the method and URL.
func unwrapURL(err error) error {
	if u, ok := errors.AsType[*url.Error](err); ok && u.Err != nil {
		return u.Err
	}
	return err
}
