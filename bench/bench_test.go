package main

import (
	"bytes"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEachLocalPort(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
		"11904: 0100007F:B3BB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 89261 2 00000000b26db96c 0\n" +
		" 1905: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 89262 2 00000000e89ac64a 0\n" +
		"  12: 00000000000000000000000001000000:1f90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n" +
		"bad line\n"
	var got []int
	eachLocalPort([]byte(table), func(p int) { got = append(got, p) })
	if want := []int{46011, 68, 8080}; !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}
}

func TestUDPTableSeesABoundPort(t *testing.T) {
	table, err := openUDPTable()
	if err != nil {
		t.Skip(err)
	}
	defer table.Close()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	for range 2 { // the second read starts again from the top
		if bound, err := table.allBound([]int{port}); err != nil || !bound {
			t.Fatalf("port %d bound but not seen: %v", port, err)
		}
	}
	c.Close()
	if bound, err := table.allBound([]int{port}); err != nil || bound {
		t.Errorf("port %d closed but seen: %v", port, err)
	}
}

func TestSummarize(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	if s := summarize(ms(5, 1, 3)); s.min != ms(1)[0] || s.median != ms(3)[0] || s.max != ms(5)[0] || s.n != 3 {
		t.Errorf("odd count: %+v", s)
	}
	if s := summarize(ms(4, 1, 2, 3)); s.median != 2500*time.Microsecond {
		t.Errorf("even count: median %v, want 2.5ms", s.median)
	}
	if s := summarize(nil); s.n != 0 {
		t.Errorf("no samples: %+v", s)
	}
	if m := medianInt([]int64{7, 1, 3, 5}); m != 4 {
		t.Errorf("medianInt %d", m)
	}
}

func TestMinorFaultsOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip(err)
	}
	if n := minorFaults(os.Getpid()); n <= 0 {
		t.Errorf("minor faults %d", n)
	}
}

func TestDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"nope"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "startup") {
		t.Errorf("unknown command: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := dispatch([]string{"help", "startup"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-n int") {
		t.Errorf("help startup: exit %d, %q", code, out.String())
	}
	errOut.Reset()
	if code := dispatch([]string{"startup", "-n", "0"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-n must") {
		t.Errorf("startup -n 0: exit %d, %q", code, errOut.String())
	}
}

// TestStartupRuns runs the startup command once for each program, building
// both as a user's run does.
func TestStartupRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gossiper")
	}
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip(err)
	}
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"startup", "-n", "1", "-warmup", "0", "-v"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"cores ", "minimal", "Peerster", "ratio of medians Peerster/minimal: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	t.Log(out.String())
}
