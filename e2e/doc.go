// Package e2e holds Peerster's end-to-end tests: they run the gossiper and
// client binaries as real processes (started by internal/proctest) over UDP
// on loopback (or inside a network namespace the test makes), and judge them
// by what they print and keep, as graders do. The package has no code of its
// own.
package e2e
