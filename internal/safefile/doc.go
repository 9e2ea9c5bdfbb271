// Package safefile reads files that a repository controls (the wrangler
// configuration, .assetsignore) or that the runner names (the event payload)
// without letting a hostile file hang or exhaust the process: only regular
// files are opened (never a FIFO, a device or a socket, which could block
// forever or never end), every read is capped, and, under a root, symbolic
// links are followed only when they resolve inside it.
package safefile
