// Package gates implements the rollout's gates: an HTTP health check that
// reaches the new version through Cloudflare's version-override header, and
// an error-rate measurement from Cloudflare's GraphQL analytics. Both satisfy
// the interfaces of package rollout.
package gates
