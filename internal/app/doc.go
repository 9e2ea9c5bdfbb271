// Package app wires one invocation of the workers-deploy binary: inputs, event
// context, the Cloudflare client (or the embedded emulator for `api-url:
// local`), the pipeline, and the report. main passes in the process's
// environment, arguments and output; nothing here reads them directly.
package app
