// Package github is the action's small window onto GitHub's REST API: the
// sticky pull-request comment (list, create, edit issue comments), the token's
// identity, and GitHub Deployments with their statuses. It hides go-github
// (v62) behind domain verbs that return this package's own structs, retries
// transient failures (5xx, secondary rate limits, network errors) in a
// RoundTripper that classifies answers for the retry core (internal/retry,
// docs/retries.md), and turns API failures into *APIError values that callers
// branch on (permission problems versus everything else).
//
// Creates (a comment, a deployment) are never re-sent blindly after a failure
// that may have come after GitHub applied them (a broken connection, a 5xx):
// the client first looks for the result (the caller's comment by marker and
// identity, the deployment by the nonce in its payload) and re-sends only when
// it is not there. A failed lookup, or a broken connection on a create that
// nothing can look up, ends the call with ErrUnknownOutcome. Deployment
// statuses are re-sent like any other request: a duplicate is harmless.
package github
