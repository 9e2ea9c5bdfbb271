//go:build unix

package safefile

import "syscall"

// openFlags: O_NONBLOCK so that opening a FIFO (swapped in after the check)
// returns at once instead of waiting for a writer, and O_NOFOLLOW so that the
// resolved path's last component cannot have become a symbolic link. Neither
// changes how a regular file is read.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOFOLLOW
