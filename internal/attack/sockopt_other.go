//go:build !linux

package attack

import "net"

func growReadBuffer(conn *net.UDPConn, n int) { _ = conn.SetReadBuffer(n) }
