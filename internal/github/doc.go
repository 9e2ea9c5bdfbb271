// Package github is the action's small window onto GitHub's REST API: the
// sticky pull-request comment (list, create, edit issue comments), the token's
// identity, and GitHub Deployments with their statuses. It hides go-github
// (v62) behind domain verbs that return this package's own structs, retries
// transient failures (5xx, secondary rate limits) in a time-bounded
// RoundTripper, and turns API failures into *APIError values that callers
// branch on (permission problems versus everything else).
package github
