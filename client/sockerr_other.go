//go:build !unix

package main

import "net"

// pendingError: only Unix systems are asked for a socket's pending error.
func pendingError(net.Conn) error { return nil }
