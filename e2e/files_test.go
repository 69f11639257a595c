package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

// shareFile writes size random bytes to node's shared folder as name and
// shares them with the client, returning the bytes and the metahash it
// printed.
func shareFile(t *testing.T, n *proctest.Node, name string, size int) ([]byte, string) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(n.Dir, "_SharedFiles", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := n.Client("-file=" + name)
	if code != 0 {
		t.Fatalf("sharing %s on %s: exit %d: %s", name, n.Name, code, errOut)
	}
	meta, _, _ := strings.Cut(out, " ")
	if len(meta) != 64 {
		t.Fatalf("sharing %s printed %q, not a metahash", name, out)
	}
	return data, meta
}

// A file shared at one end of a line A - B - C is downloaded at the other,
// through B: C prints the spec's lines and saves the same bytes, and the
// downloaded file is shared in turn.
func TestDownloadThroughAHop(t *testing.T) {
	a := proctest.Loopback(t, "A", "-rtimer=1")
	b := proctest.Loopback(t, "B", "-rtimer=1")
	c := proctest.Loopback(t, "C", "-rtimer=1")
	startLine(t, a, b, c)
	testkit.Eventually(t, 5*time.Second, "C has a route to A", func() bool { return c.Out.Routes()["A"] != "" })
	data, meta := shareFile(t, a, "report.bin", 2<<20)

	start := time.Now()
	if _, errOut, code := c.Client("-file=copy.bin", "-dest=A", "-request="+meta); code != 0 {
		t.Fatalf("download: exit %d: %s", code, errOut)
	}
	saved := filepath.Join(c.Dir, "_Downloads", "copy.bin")
	took := testkit.Eventually(t, 10*time.Second, "C reconstructs the file", func() bool {
		return strings.Contains(c.Out.Head(), "RECONSTRUCTED file copy.bin")
	})
	t.Logf("2 MiB across 2 hops in %v (from the client's start %v)", took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	got, err := os.ReadFile(saved)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the saved file is %d bytes (%v), equal %v", len(got), err, bytes.Equal(got, data))
	}
	out := c.Out.Head()
	if !strings.Contains(out, "DOWNLOADING metafile of copy.bin from A\n") || !strings.Contains(out, "DOWNLOADING copy.bin chunk 256 from A\n") {
		t.Errorf("C's lines lack the metafile's or the last chunk's DOWNLOADING line")
	}
	if strings.Contains(b.Out.Head(), "DOWNLOADING") {
		t.Error("B, on the way, printed a DOWNLOADING line")
	}

	// C shares what it downloaded: B can get it from C.
	if _, errOut, code := b.Client("-file=again.bin", "-dest=C", "-request="+meta); code != 0 {
		t.Fatalf("download from C: exit %d: %s", code, errOut)
	}
	testkit.Eventually(t, 10*time.Second, "B reconstructs the file from C", func() bool {
		return strings.Contains(b.Out.Head(), "RECONSTRUCTED file again.bin")
	})
}

// Refusals reach the user: a file that is not there, one too big, a name
// that would leave the folder, a bad metahash, no route.
func TestFileCommandRefusals(t *testing.T) {
	a := proctest.Loopback(t, "A")
	a.Start(t)
	big := make([]byte, 2<<20+1)
	if err := os.WriteFile(filepath.Join(a.Dir, "_SharedFiles", "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"-file=missing.bin"}, 1, "missing.bin"},
		{[]string{"-file=big.bin"}, 1, "2 MiB"},
		{[]string{"-file=../secret"}, 1, "/"},
		{[]string{"-file=x", "-dest=B", "-request=abc"}, 2, "metahash"},
		{[]string{"-file=x", "-dest=Nobody", "-request=" + strings.Repeat("ab", 32)}, 1, "no route"},
	} {
		_, errOut, code := a.Client(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q said", tc.args, code, errOut, tc.code, tc.says)
		}
	}
}
