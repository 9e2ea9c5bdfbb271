// Package esbundle bundles a Worker's entry module in-process with esbuild's Go API, with the
// options wrangler uses for `wrangler deploy`: ES module output for workerd (export
// conditions workerd, worker, browser; target es2024), `cloudflare:*` external, Node.js
// built-ins external (or polyfilled with unenv) under nodejs_compat, module rules that turn
// .wasm/.txt/.html/.sql/.bin imports into additional modules named `<sha1>-<file name>`, and
// the configuration's define, alias, minify, keep_names and tsconfig.
//
// The result is held in memory: the bundled main module, the additional modules, and an
// optional source map module, ready to be uploaded with a Version. Nothing is written to disk.
// docs/bundling.md describes the rules this package follows and where they come from.
package esbundle
