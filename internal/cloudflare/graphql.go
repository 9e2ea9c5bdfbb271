package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// (docs/workers-api.md §13.2). `scriptVersion` is used by public clients and the
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
// API: POST {base}/graphql (docs/workers-api.md §13.2). GraphQL answers are
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

// graphql posts one GraphQL request through do and decodes the answer, which
// is not a v4 envelope, into out. A query changes nothing, so it is a read:
// network errors, 429 and 5xx are retried. A Retry-After (or Retry-After-Ms)
// replaces the backoff; one longer than backoffCap ends the retries, since the
// gate would rather fail fast than hold its stage for the rate limiter.
func (c *Client) graphql(ctx context.Context, body []byte, out any) error {
	return c.do(ctx, &call{
		method:      http.MethodPost,
		path:        "/graphql",
		body:        jsonBody(body),
		out:         out,
		raw:         true,
		maxAttempts: graphqlMaxAttempts,
		maxWait:     backoffCap,
	})
}
