// Package loopback decides which hosts may be reached over plain HTTP: only
// this machine (localhost and loopback addresses), where an emulator or a test
// server runs. Every client and input check that carries a credential uses
// it, so the rule cannot drift between them.
package loopback

import (
	"net"
	"strings"
)

// IsHost reports whether host (a URL's Hostname(), without port or brackets)
// is localhost, in any case, or a loopback IP such as 127.0.0.1 or ::1.
// Names that merely resolve to loopback (127.0.0.1.nip.io) are not: DNS
// could point them anywhere.
func IsHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
