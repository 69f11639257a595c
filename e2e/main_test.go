package e2e

import (
	"os"
	"testing"

	"github.com/peerster/Peerster/internal/proctest"
)

// TestMain runs the tests through proctest, which builds the gossiper and the
// client the first time a test starts a node, and removes them at the end.
func TestMain(m *testing.M) { os.Exit(proctest.Main(m)) }
