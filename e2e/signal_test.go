package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

// TestSignalsEndCleanly stops a node that keeps its history on disk with
// SIGINT (Ctrl-C in a terminal) and with SIGTERM (a service manager): it must
// exit 0 with every message it printed, its own and a peer's, in its log.
func TestSignalsEndCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "A-data")
			a := proctest.Loopback(t, "A", "-data="+data)
			b := proctest.Loopback(t, "B")
			a.WithPeers(b)
			b.WithPeers(a)
			a.Start(t)
			b.Start(t)
			texts := []string{"A-1", "B-1", "A-2", "B-2"} // checkStore wants <origin>-<ID>
			for i, text := range texts {
				if i%2 == 0 {
					a.Post(text)
				} else {
					b.Post(text)
				}
			}
			testkit.Eventually(t, 20*time.Second, "A prints all four messages", func() bool { return a.Out.Has(texts...) })
			if st := a.Kill(sig); st.ExitCode() != 0 {
				t.Fatalf("A exited with %v on %v, want status 0", st, sig)
			}
			checkStore(t, data, texts)
		})
	}
}
