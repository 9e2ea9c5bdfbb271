// Package emulator is an in-memory emulator of the Cloudflare Workers API surface that
// workers-deploy uses: the resource-oriented (beta) Workers and Versions endpoints, the legacy
// per-script Deployments and subdomain endpoints, the account workers.dev subdomain, the account's
// script list (with each Worker's Durable Object migration tag), and the D1 database, KV namespace
// and R2 bucket endpoints that find and create resources by name (names and IDs only, no data).
//
// A [Server] is an [http.Handler] that serves the API under [BasePath] ("/client/v4"), with the
// envelopes, status codes, error codes and pagination described in docs/workers-api.md, so
// that Cloudflare's own Go SDK (github.com/cloudflare/cloudflare-go/v6) works against it
// unchanged: point the SDK at "http://host:port/client/v4".
//
// Beyond the API itself the Server offers:
//   - fault injection ([Server.InjectFault], [ParseFault]): error statuses with Retry-After
//     headers, dropped connections, responses lost after the request was applied, and latency;
//   - inspection for tests ([Server.Requests], [Server.Workers], [Server.Versions],
//     [Server.Deployments]), which returns copies, including secret values that the API itself
//     never echoes;
//   - [Serve] and [Start] to run it on a listener, as cmd/workers-emulator and the action's
//     `api-url: local` mode do.
//
// Behaviour that docs/workers-api.md marks as inferred or conflicting is implemented one way
// and commented at the place where the choice is made.
package emulator
