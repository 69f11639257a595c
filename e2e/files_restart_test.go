package e2e

import (
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// withData gives each node a -data folder of its own, beside the others in
// a temporary folder, and -rtimer=1 so that routes come within a second.
func withData(t *testing.T, names ...string) []*proctest.Node {
	root := t.TempDir()
	var nodes []*proctest.Node
	for _, name := range names {
		nodes = append(nodes, proctest.Loopback(t, name, "-data="+filepath.Join(root, name+"-data"), "-rtimer=1"))
	}
	return nodes
}

// TestFilesSurviveRestart runs A - B - C in a line, all with -data. A shares
// a file and is killed (SIGKILL: no chance to save anything then); once
// restarted it serves the file to C without being asked to share it again.
// C is killed in turn and restarted; the file it downloaded is still
// shared: B downloads it from C. Each download starts once the restarted
// server has a route back to the downloader.
func TestFilesSurviveRestart(t *testing.T) {
	nodes := withData(t, "A", "B", "C")
	a, b, c := nodes[0], nodes[1], nodes[2]
	startLine(t, a, b, c)
	data, meta := shareFile(t, a, "kept.bin", 200*chunkSize+7)
	chunks := 201

	a.Kill(syscall.SIGKILL)
	a2 := a.Again()
	a2.Start(t)
	// A restarts with no routes: until C's next route rumor reaches it, it
	// could not address its replies to C, and C would ask again only after
	// the spec's 5 s.
	awaitRoute(t, a2, "C")
	awaitRoute(t, c, "A")
	if _, errOut, code := c.Client("-file=fromA.bin", "-dest=A", "-request="+meta); code != 0 {
		t.Fatalf("download from the restarted A: exit %d: %s", code, errOut)
	}
	awaitDownload(t, c, "fromA.bin", "A", 10*time.Second)
	checkSaved(t, c, "fromA.bin", data)
	checkDownloadLines(t, c, "fromA.bin", "A", chunks)

	c.Kill(syscall.SIGKILL)
	c2 := c.Again()
	c2.Start(t)
	awaitRoute(t, c2, "B")
	awaitRoute(t, b, "C")
	if _, errOut, code := b.Client("-file=fromC.bin", "-dest=C", "-request="+meta); code != 0 {
		t.Fatalf("download from the restarted C: exit %d: %s", code, errOut)
	}
	awaitDownload(t, b, "fromC.bin", "C", 10*time.Second)
	checkSaved(t, b, "fromC.bin", data)
	checkDownloadLines(t, b, "fromC.bin", "C", chunks)
}

// gate relays every datagram between two nodes, D and S, that know each
// other only through it: D's peer is the gate's socket toD, S's its socket
// toS, and what comes in on one goes out of the other. It lets a set number
// of S's chunk replies through and drops the rest, so that a download stops
// part way however fast loopback is, and it notes which chunks D asks for.
type gate struct {
	toD, toS *net.UDPConn
	d, s     *net.UDPAddr
	index    map[[32]byte]int // chunk hash -> chunk number, from 1

	mu    sync.Mutex
	pass  int         // chunk replies still let through; < 0: all
	asked map[int]int // chunk number -> requests D sent, since resetAsked
	wg    sync.WaitGroup
}

func newGate(t *testing.T, d, s *proctest.Node, f *specFile) *gate {
	t.Helper()
	g := &gate{index: map[[32]byte]int{}, pass: -1, asked: map[int]int{}}
	for i, h := range f.hashes {
		g.index[h] = i + 1
	}
	var err error
	for _, c := range []**net.UDPConn{&g.toD, &g.toS} {
		if *c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if g.d, err = net.ResolveUDPAddr("udp4", d.Addr); err == nil {
		g.s, err = net.ResolveUDPAddr("udp4", s.Addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	d.Peers = append(d.Peers, g.toD.LocalAddr().String())
	s.Peers = append(s.Peers, g.toS.LocalAddr().String())
	g.wg.Add(2)
	go g.relay(g.toD, g.toS, g.s, g.fromD)
	go g.relay(g.toS, g.toD, g.d, g.fromS)
	t.Cleanup(func() {
		g.toD.Close()
		g.toS.Close()
		g.wg.Wait()
	})
	return g
}

// relay copies what in receives out of out to to, if keep lets it.
func (g *gate) relay(in, out *net.UDPConn, to *net.UDPAddr, keep func([]byte) bool) {
	defer g.wg.Done()
	buf := make([]byte, messages.MaxPacketSize)
	for {
		n, _, err := in.ReadFromUDP(buf)
		if err != nil {
			return // closed: the test is over
		}
		if keep(buf[:n]) {
			_, _ = out.WriteToUDP(buf[:n], to)
		}
	}
}

// fromD notes D's requests for chunks, and lets everything through.
func (g *gate) fromD(b []byte) bool {
	if p, err := messages.DecodeGossip(b); err == nil && p.DataRequest != nil {
		var h [32]byte
		copy(h[:], p.DataRequest.HashValue)
		if k := g.index[h]; k > 0 {
			g.mu.Lock()
			g.asked[k]++
			g.mu.Unlock()
		}
	}
	return true
}

// fromS lets S's chunk replies through while pass allows, and everything
// else.
func (g *gate) fromS(b []byte) bool {
	p, err := messages.DecodeGossip(b)
	if err != nil || p.DataReply == nil || len(p.DataReply.Data) == 0 {
		return true
	}
	var h [32]byte
	copy(h[:], p.DataReply.HashValue)
	if g.index[h] == 0 {
		return true // the metafile
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.pass < 0:
		return true
	case g.pass > 0:
		g.pass--
		return true
	}
	return false
}

func (g *gate) setPass(n int) {
	g.mu.Lock()
	g.pass = n
	g.mu.Unlock()
}

func (g *gate) resetAsked() {
	g.mu.Lock()
	clear(g.asked)
	g.mu.Unlock()
}

func (g *gate) askedFor() map[int]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[int]int{}
	for k, v := range g.asked {
		m[k] = v
	}
	return m
}

// partialChunks reads n's partial download (the one file in
// _Downloads/.partial) and returns the chunk numbers of f it holds whole,
// as a restart would find them.
func partialChunks(t *testing.T, n *proctest.Node, f *specFile) map[int]bool {
	t.Helper()
	dir := filepath.Join(n.Dir, "_Downloads", ".partial")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		return nil
	}
	held := map[int]bool{}
	for i, c := range f.chunks {
		off := i * chunkSize
		if off+len(c) <= len(b) && sha256.Sum256(b[off:off+len(c)]) == f.hashes[i] {
			held[i+1] = true
		}
	}
	return held
}

// TestInterruptedDownloadResumes: D, with -data, downloads a 2 MiB file
// from S through a gate that lets only 60 of S's chunk replies through. Once
// D holds those 60 in its partial file it is killed (SIGKILL), then
// restarted on the same folders with the gate open. It finishes the
// download without being asked again, from the chunks it held: it asks S
// only for the others and prints DOWNLOADING lines for them alone (and no
// metafile line: it kept the metafile), then RECONSTRUCTED once, and the
// file is byte for byte S's.
func TestInterruptedDownloadResumes(t *testing.T) {
	nodes := withData(t, "S", "D")
	s, d := nodes[0], nodes[1]
	f := randomSpecFile(2 << 20)
	g := newGate(t, d, s, f)
	const letThrough = 60
	g.setPass(letThrough)
	startAll(t, s, d)
	if err := os.WriteFile(filepath.Join(s.Dir, "_SharedFiles", "big.bin"), f.data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := s.Client("-file=big.bin"); code != 0 || !strings.HasPrefix(out, f.metaHex()) {
		t.Fatalf("sharing: exit %d, %q: %s", code, out, errOut)
	}
	awaitRoute(t, d, "S")
	if _, errOut, code := d.Client("-file=big.bin", "-dest=S", "-request="+f.metaHex()); code != 0 {
		t.Fatalf("download: exit %d: %s", code, errOut)
	}
	testkit.Eventually(t, 10*time.Second, fmt.Sprintf("D holds the %d chunks the gate let through", letThrough), func() bool {
		return len(partialChunks(t, d, f)) >= letThrough
	})
	d.Kill(syscall.SIGKILL)
	held := partialChunks(t, d, f)
	if len(held) == 0 || len(held) >= len(f.chunks) {
		t.Fatalf("D held %d of %d chunks when killed: the test needs some but not all", len(held), len(f.chunks))
	}
	if strings.Contains(d.Out.Head(), "RECONSTRUCTED") {
		t.Fatal("D reconstructed the file before it was killed")
	}

	g.resetAsked()
	g.setPass(-1)
	d2 := d.Again()
	restarted := time.Now()
	d2.Start(t)
	took := awaitDownload(t, d2, "big.bin", "S", 15*time.Second)
	t.Logf("D held %d of %d chunks when killed; after its restart the download ended %v later (%v after it listened)",
		len(held), len(f.chunks), time.Since(restarted).Round(10*time.Millisecond), took.Round(10*time.Millisecond))
	checkSaved(t, d2, "big.bin", f.data)

	out := d2.Out.Head()
	if strings.Contains(out, "DOWNLOADING metafile") {
		t.Error("the restarted D asked for the metafile again, which it kept")
	}
	var printed []int
	for _, l := range strings.Split(out, "\n") {
		var k int
		if _, err := fmt.Sscanf(l, "DOWNLOADING big.bin chunk %d from S", &k); err == nil {
			printed = append(printed, k)
		}
	}
	var wantPrinted []int
	for k := 1; k <= len(f.chunks); k++ {
		if !held[k] {
			wantPrinted = append(wantPrinted, k)
		}
	}
	slices.Sort(printed)
	if !slices.Equal(printed, wantPrinted) {
		t.Errorf("the restarted D printed DOWNLOADING lines for %d chunks (%s), want one for each of the %d it lacked",
			len(printed), summarizeInts(printed), len(wantPrinted))
	}
	for k, times := range g.askedFor() {
		if held[k] {
			t.Errorf("the restarted D asked S %d times for chunk %d, which it held", times, k)
		}
	}
	if c := strings.Count(out, "RECONSTRUCTED file big.bin\n"); c != 1 {
		t.Errorf("RECONSTRUCTED printed %d times", c)
	}
}

// summarizeInts writes sorted ks as ranges: "1-3 7 9-10".
func summarizeInts(ks []int) string {
	var parts []string
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(ks[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ks[i], ks[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}
