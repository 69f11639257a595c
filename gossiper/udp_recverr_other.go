//go:build !linux

package gossiper

import "net"

// Elsewhere than on Linux a node learns nothing of unreachable peers: it
// relies on the protocol's timers alone.
func reportUnreachable(*net.UDPConn, bool) {}

func unreachable(*net.UDPConn) []string { return nil }
