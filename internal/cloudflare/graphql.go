package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// graphqlMaxAttempts bounds the attempts of one analytics query. A gate
// queries again at its next interval, so a long retry would only delay it.
const graphqlMaxAttempts = 3

// InvocationsQuery is the GraphQL query WorkerInvocations sends: invocations
// of one Worker's versions in a time window, one row per version and status
// (cloudflare-api.md §13.2). `scriptVersion` is used by public clients and the
// dashboard but not documented on a Cloudflare docs page (*inferred*).
const InvocationsQuery = `query WorkerVersionHealth($accountTag: string!, $script: string!, $versions: [string!], $since: Time!, $until: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      workersInvocationsAdaptive(
        limit: 10000
        filter: { scriptName: $script, scriptVersion_in: $versions, datetime_geq: $since, datetime_leq: $until }
      ) {
        dimensions { scriptVersion status }
        sum { requests errors }
      }
    }
  }
}`

// VersionInvocations is one version's invocations in a time window.
type VersionInvocations struct {
	// VersionID is the version's UUID.
	VersionID string
	// Requests is the number of invocations (an estimate when sampled).
	Requests int64
	// Errors is the number of failed invocations (exceptions, exceeded
	// limits, internal errors; a Worker that returns a 500 is not an error here).
	Errors int64
}

// GraphQLError is an answer of the GraphQL API with an `errors` array.
type GraphQLError struct {
	// Messages are the errors' messages.
	Messages []string
}

func (e *GraphQLError) Error() string {
	return "the GraphQL analytics API answered with errors: " + strings.Join(e.Messages, "; ")
}

// invocationsResponse is the part of the answer WorkerInvocations reads.
type invocationsResponse struct {
	Data *struct {
		Viewer struct {
			Accounts []struct {
				Rows []struct {
					Dimensions struct {
						ScriptVersion string `json:"scriptVersion"`
						Status        string `json:"status"`
					} `json:"dimensions"`
					Sum struct {
						Requests float64 `json:"requests"`
						Errors   float64 `json:"errors"`
					} `json:"sum"`
				} `json:"workersInvocationsAdaptive"`
			} `json:"accounts"`
		} `json:"viewer"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// WorkerInvocations sums a Worker's requests and errors per version over the
// window [since, until], from the GraphQL Analytics API (dataset
// workersInvocationsAdaptive). Every version asked for is in the result, with
// zero counts when it had no traffic. The token needs Account Analytics: Read.
// Analytics lag by a few minutes, so a window that ends now may be incomplete.
//
// API: POST {base}/graphql (cloudflare-api.md §13.2). GraphQL answers are
// not v4 envelopes: errors come in a top-level `errors` array, often with 200.
func (c *Client) WorkerInvocations(ctx context.Context, script string, versions []string, since, until time.Time) (map[string]VersionInvocations, error) {
	if script == "" || len(versions) == 0 {
		return nil, errors.New("failed to query invocations: the worker name and at least one version are required")
	}
	body, err := json.Marshal(map[string]any{
		"query": InvocationsQuery,
		"variables": map[string]any{
			"accountTag": c.accountID,
			"script":     script,
			"versions":   versions,
			"since":      since.UTC().Format(time.RFC3339),
			"until":      until.UTC().Format(time.RFC3339),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to query invocations of worker %q: %w", script, err)
	}
	var res invocationsResponse
	if err := c.graphql(ctx, body, &res); err != nil {
		return nil, fmt.Errorf("failed to query invocations of worker %q: %w", script, err)
	}
	if len(res.Errors) > 0 {
		ge := &GraphQLError{}
		for _, e := range res.Errors {
			ge.Messages = append(ge.Messages, c.redact(e.Message))
		}
		return nil, fmt.Errorf("failed to query invocations of worker %q: %w", script, ge)
	}
	if res.Data == nil {
		return nil, fmt.Errorf("failed to query invocations of worker %q: the answer has no data", script)
	}
	out := make(map[string]VersionInvocations, len(versions))
	for _, v := range versions {
		out[v] = VersionInvocations{VersionID: v}
	}
	for _, acct := range res.Data.Viewer.Accounts {
		for _, row := range acct.Rows {
			v := out[row.Dimensions.ScriptVersion]
			v.VersionID = row.Dimensions.ScriptVersion
			v.Requests += int64(math.Round(row.Sum.Requests))
			v.Errors += int64(math.Round(row.Sum.Errors))
			out[v.VersionID] = v
		}
	}
	return out, nil
}

// graphql posts one GraphQL request and decodes the answer into out,
// retrying network errors, 429 and 5xx (a query changes nothing). A
// Retry-After (or Retry-After-Ms) on a retryable answer replaces the backoff;
// one longer than backoffCap ends the retries, since the gate would rather
// fail fast than hold its stage for the rate limiter.
func (c *Client) graphql(ctx context.Context, body []byte, out any) error {
	const path = "/graphql"
	var last error
	var wait time.Duration
	hasWait := false
	for attempt := 1; attempt <= min(graphqlMaxAttempts, c.maxAttempts); attempt++ {
		if attempt > 1 {
			d := c.backoff(attempt - 2)
			if hasWait {
				if wait > backoffCap {
					return fmt.Errorf("failed after %d attempts (the API asked to wait %s before retrying): %w", attempt-1, roundDuration(wait), last)
				}
				d = wait
			}
			c.logf("retrying POST %s after %v (attempt %d, waiting %s)", path, last, attempt, roundDuration(d))
			if err := c.sleep(ctx, d); err != nil {
				return fmt.Errorf("%w (while waiting to retry after: %w)", err, last)
			}
		}
		retry, hint, err := c.graphqlAttempt(ctx, path, body, out)
		if err == nil || !retry {
			return err
		}
		last = err
		wait, hasWait = hint, hint >= 0
	}
	return fmt.Errorf("failed after %d attempts: %w", min(graphqlMaxAttempts, c.maxAttempts), last)
}

// graphqlAttempt sends one query. wait is the delay a retryable answer asked
// for (Retry-After-Ms, Retry-After), or -1 when it named none.
func (c *Client) graphqlAttempt(ctx context.Context, path string, body []byte, out any) (retry bool, wait time.Duration, err error) {
	wait = -1
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return false, wait, fmt.Errorf("failed to build request POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, wait, fmt.Errorf("POST %s: %w", path, ctx.Err())
		}
		return true, wait, fmt.Errorf("POST %s: %w", path, c.cleanTransportError(err))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return ctx.Err() == nil, wait, fmt.Errorf("POST %s: failed to read the answer: %w", path, err)
	}
	if res.StatusCode >= 300 {
		// Errors before GraphQL (authentication, rate limits) may come as v4 envelopes.
		if derr := c.decodeResponse(http.MethodPost, path, res, data, nil, nil); derr != nil {
			err = derr
		} else {
			err = &APIError{Method: http.MethodPost, Path: path, Status: res.StatusCode, Excerpt: c.excerpt(data)}
		}
		retry = res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500
		if d, ok := parseRetryAfter(res.Header, c.now()); retry && ok {
			wait = d
		}
		return retry, wait, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, wait, &APIError{Method: http.MethodPost, Path: path, Status: res.StatusCode, Excerpt: "the answer could not be decoded: " + err.Error()}
	}
	return false, wait, nil
}
