// Package cloudflare is a small REST client for the parts of Cloudflare's
// resource-oriented Workers API that workers-deploy uses: Workers, Versions,
// Deployments and the account's workers.dev subdomain.
//
// It is written on net/http and encoding/json only, so that the action binary
// stays small; Cloudflare's Go SDK is used in tests elsewhere, never here.
//
// Every call goes through the retry core (internal/retry, docs/retries.md)
// with a total time budget; this package classifies the answers. Reads are
// retried plainly. Writes whose outcome is unknown after a failure (a dropped
// connection after the request was sent, an attempt timeout, a 5xx) are never
// re-sent blindly: the client first looks for the effect of the earlier attempt
// (a version with the same workers/tag, the intended deployment at the head of
// the list, the Worker by name) and only re-sends when there is none. When that
// cannot be decided the error wraps ErrUnknownOutcome.
//
// Module bodies are streamed: CreateVersion encodes the JSON request while it
// is sent, reading each module through ModuleUpload.Open once per attempt, so a
// bundle is never held in memory whole.
package cloudflare
