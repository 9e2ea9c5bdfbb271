// Package bundle turns the action's `modules` input (doublestar globs relative to the
// working directory) into the list of Worker modules to upload with a Version.
//
// Collect walks only below each include pattern's static base directory, never visits
// node_modules, .git or hidden directories below that base, names each module by its path
// relative to the base (so relative imports keep resolving as they did in the build output),
// assigns content types by wrangler's extension conventions, resolves the entry module,
// and measures the gzip size against Cloudflare's bundle limit. Files are read in module-name
// order, one at a time, nothing held in memory: once for SHA-256 and the import check, then,
// when the import check passes (a module set that must be bundled first is never compressed),
// once more for the gzip size.
// Module.Open re-reads a file for the upload and fails with ErrModuleChanged when its bytes
// no longer match what Collect recorded.
//
// All errors about bad input are wrapped in an *InputError naming the action input they
// belong to, so the top level can print one `::error::` annotation that names it.
package bundle
