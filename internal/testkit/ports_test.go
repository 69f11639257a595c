package testkit

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// TestMain lets the test run this binary as another test process that
// tries to reserve a port.
func TestMain(m *testing.M) {
	if p := os.Getenv("TESTKIT_RESERVE"); p != "" {
		port, _ := strconv.Atoi(p)
		if _, ok := reserve(port); !ok {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The ports a test got are free again for later tests once it ends: a
// long run of many tests does not run out of them.
func TestFreePortsComeBackWhenTheTestEnds(t *testing.T) {
	lo, hi := pickRange()
	for range 3 * (hi - lo) / 50 {
		t.Run("", func(t *testing.T) { FreeBlock(t, "udp", 50) })
	}
	if len(given) != 0 {
		t.Errorf("%d ports still reserved after their tests ended", len(given))
	}
}

func TestFreePortsAreDistinctAndBelowTheEphemeralRange(t *testing.T) {
	lo, hi := pickRange()
	seen := map[int]bool{}
	for i := range 200 {
		network := []string{"udp", "tcp4", "udp4", "tcp"}[i%4]
		p := FreePort(t, network)
		if seen[p] || p < lo || p >= hi {
			t.Fatalf("FreePort(%s) = %d: seen before %v, range %d-%d", network, p, seen[p], lo, hi-1)
		}
		seen[p] = true
	}
	base := FreeBlock(t, "udp", 10)
	for p := base; p < base+10; p++ {
		if seen[p] || !free(true, p) {
			t.Fatalf("FreeBlock gave %d-%d, and %d was given before or is taken", base, base+9, p)
		}
	}
}

// Another test process cannot get a port this one holds, and can once it
// is released.
func TestReservedPortsAreRespectedByOtherProcesses(t *testing.T) {
	var port int
	t.Run("held", func(t *testing.T) {
		port = FreePort(t, "udp")
		if code := reserveInChild(t, port); code != 3 {
			t.Errorf("another process reserved port %d this one holds (exit %d, want 3)", port, code)
		}
	})
	if code := reserveInChild(t, port); code != 0 {
		t.Errorf("another process could not reserve port %d once released (exit %d, want 0)", port, code)
	}
}

func reserveInChild(t *testing.T, port int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESTKIT_RESERVE="+strconv.Itoa(port))
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
