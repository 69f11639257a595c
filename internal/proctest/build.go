package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The binaries, built on first use into a folder Main removes.
var (
	buildMu  sync.Mutex
	inMain   bool
	built    bool
	buildDir string
	buildErr error
)

// Main runs the package's tests and then removes the binaries, if a test
// built them; it returns the exit status for os.Exit.
func Main(m *testing.M) int {
	buildMu.Lock()
	inMain = true
	buildMu.Unlock()
	code := m.Run()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}

// Binaries returns the paths of the gossiper and the client, which it builds
// on its first call in the test process. They are built without -race even
// when the tests run with it: the race detector is for the test process, and
// a node's memory is measured as users would run it.
func Binaries(tb testing.TB) (gossiper, client string) {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if !inMain {
		tb.Fatal("proctest: the package's TestMain must run its tests with proctest.Main")
	}
	if !built {
		built = true
		buildErr = build()
	}
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "gossiper"), filepath.Join(buildDir, "client")
}

func build() error {
	dir, err := os.MkdirTemp("", "peerster-bin-")
	if err != nil {
		return err
	}
	buildDir = dir
	for name, pkg := range map[string]string{
		"gossiper": "github.com/peerster/Peerster",
		"client":   "github.com/peerster/Peerster/client",
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("proctest: building the %s: %v\n%s", name, err, out)
		}
	}
	return nil
}
