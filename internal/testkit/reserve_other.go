//go:build !unix

package testkit

import "io"

// reserve has no lock to take where flock is missing: a port free a moment
// ago is all a single test process needs.
func reserve(port int) (io.Closer, bool) { return io.NopCloser(nil), true }
