// Package wrangler reads a Worker's wrangler configuration (wrangler.jsonc,
// wrangler.json or wrangler.toml): name, main, compatibility settings,
// bindings, static assets and the Worker-level settings applied when a Worker
// is created. It selects a named environment (`env.<name>`) with wrangler's
// inheritance rules, and lists the keys it does not apply.
package wrangler
