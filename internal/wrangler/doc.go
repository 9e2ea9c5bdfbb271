// Package wrangler reads a Worker's wrangler configuration (wrangler.jsonc,
// wrangler.json or wrangler.toml) for the settings the action applies: name,
// main, compatibility date and flags. It lists the keys it does not apply.
package wrangler
