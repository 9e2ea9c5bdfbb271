package cloudflare

import (
	"context"
	"fmt"
	"net/http"
)

// AccountSubdomain returns the account's workers.dev subdomain label (the
// "<sub>" of <sub>.workers.dev), or "" when the account has none (HTTP 404).
//
// API: GET /accounts/{account_id}/workers/subdomain (docs/workers-api.md §4).
func (c *Client) AccountSubdomain(ctx context.Context) (string, error) {
	var res struct {
		Subdomain string `json:"subdomain"`
	}
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "subdomain"),
		out:    &res,
	})
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to get the account's workers.dev subdomain: %w", err)
	}
	return res.Subdomain, nil
}
