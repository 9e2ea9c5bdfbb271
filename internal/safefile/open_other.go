//go:build !unix

package safefile

// openFlags: no portable non-blocking open; the checks before and after
// opening still refuse anything but a regular file.
const openFlags = 0
