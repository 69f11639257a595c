//go:build !unix

package store

import "os"

// lockFile does nothing where flock(2) is missing; running two nodes on one
// folder is then the user's mistake to avoid.
func lockFile(*os.File) (func() error, error) { return func() error { return nil }, nil }
