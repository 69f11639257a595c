package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// The tests of this file put our node next to "another implementation": a
// stand-in written here with nothing but the wire structs and a UDP socket,
// doing what the file-sharing note says other implementations do (answer
// one request at a time, say nothing about a hash they lack, download
// stop-and-wait or all at once). They judge our node by the bytes that
// cross and by what it prints.

// chunkSize is the protocol's chunk: every chunk of a file but the last has
// this many bytes.
const chunkSize = 8192

// specFile is a file cut as the file-sharing note fixes it, computed here
// from the note alone: its chunks, their hashes, the metafile (the hashes
// in order) and the metahash (the metafile's hash).
type specFile struct {
	data     []byte
	chunks   [][]byte
	hashes   [][32]byte
	metafile []byte
	meta     [32]byte
}

func newSpecFile(data []byte) *specFile {
	f := &specFile{data: data}
	for off := 0; off < len(data); off += chunkSize {
		c := data[off:min(off+chunkSize, len(data))]
		h := sha256.Sum256(c)
		f.chunks = append(f.chunks, c)
		f.hashes = append(f.hashes, h)
		f.metafile = append(f.metafile, h[:]...)
	}
	f.meta = sha256.Sum256(f.metafile)
	return f
}

func randomSpecFile(size int) *specFile {
	data := make([]byte, size)
	rand.Read(data)
	return newSpecFile(data)
}

func (f *specFile) metaHex() string { return hex.EncodeToString(f.meta[:]) }

// byHash returns the bytes of a hash of f (its metafile or a chunk), if it
// is one of f's.
func (f *specFile) byHash(h []byte) ([]byte, bool) {
	if bytes.Equal(h, f.meta[:]) {
		return f.metafile, true
	}
	for i := range f.hashes {
		if bytes.Equal(h, f.hashes[i][:]) {
			return f.chunks[i], true
		}
	}
	return nil, false
}

// checkDownloadLines checks what the spec makes node n print for its
// download saved as name from from, a file of chunks chunks: the metafile
// line once and first, one line for each chunk 1..chunks, each once and
// none other, and RECONSTRUCTED once, after them.
func checkDownloadLines(t *testing.T, n *proctest.Node, name, from string, chunks int) {
	t.Helper()
	for _, p := range downloadLineProblems(n.Out.Head(), name, from, chunks) {
		t.Errorf("%s: %s", n.Name, p)
	}
}

func downloadLineProblems(out, name, from string, chunks int) []string {
	var problems []string
	metaLine := "DOWNLOADING metafile of " + name + " from " + from
	chunkPrefix := "DOWNLOADING " + name + " chunk "
	metas, recs, metaAt, recAt, lastChunk := 0, 0, -1, -1, -1
	seen := map[int]int{}
	for i, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "DOWNLOADING metafile of "+name+" "):
			if l != metaLine {
				problems = append(problems, fmt.Sprintf("%q: not from %s", l, from))
			}
			metas++
			if metaAt < 0 {
				metaAt = i
			}
		case strings.HasPrefix(l, chunkPrefix):
			num, rest, _ := strings.Cut(strings.TrimPrefix(l, chunkPrefix), " ")
			k, err := strconv.Atoi(num)
			if err != nil || k < 1 || k > chunks || rest != "from "+from {
				problems = append(problems, fmt.Sprintf("%q: not a chunk 1..%d from %s", l, chunks, from))
				continue
			}
			seen[k]++
			lastChunk = i
			if metaAt < 0 {
				problems = append(problems, fmt.Sprintf("%q came before the metafile line", l))
			}
		case l == "RECONSTRUCTED file "+name:
			recs++
			recAt = i
		}
	}
	if metas != 1 {
		problems = append(problems, fmt.Sprintf("%q printed %d times, want once", metaLine, metas))
	}
	var missing, twice []int
	for k := 1; k <= chunks; k++ {
		switch {
		case seen[k] == 0:
			missing = append(missing, k)
		case seen[k] > 1:
			twice = append(twice, k)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d chunks have no DOWNLOADING line, e.g. %v", len(missing), chunks, missing[:min(5, len(missing))]))
	}
	if len(twice) > 0 {
		problems = append(problems, fmt.Sprintf("%d chunks have more than one DOWNLOADING line, e.g. %v", len(twice), twice[:min(5, len(twice))]))
	}
	if recs != 1 {
		problems = append(problems, fmt.Sprintf("RECONSTRUCTED file %s printed %d times, want once", name, recs))
	} else if recAt < lastChunk {
		problems = append(problems, "RECONSTRUCTED came before the last chunk line")
	}
	return problems
}

// checkSaved checks that n saved want's bytes as _Downloads/name.
func checkSaved(t *testing.T, n *proctest.Node, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(n.Dir, "_Downloads", name))
	if err != nil {
		t.Errorf("%s: %v", n.Name, err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s: _Downloads/%s is %d bytes, not the %d shared, or other bytes", n.Name, name, len(got), len(want))
	}
}

// awaitDownload waits until n has printed RECONSTRUCTED for its download
// saved as name from from, and returns how long that took; it fails the
// test at once if n gives the download up (it says so on stderr), with
// what it printed of it, or after within.
func awaitDownload(t *testing.T, n *proctest.Node, name, from string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	gaveUp := "download of " + name + " from " + from + " failed"
	for {
		out := n.Out.Head()
		if strings.Contains(out, "RECONSTRUCTED file "+name+"\n") {
			return time.Since(start)
		}
		failed := ""
		for _, l := range strings.Split(n.Stderr(), "\n") {
			if strings.Contains(l, gaveUp) {
				failed = l
			}
		}
		if failed != "" || time.Since(start) > within {
			chunks := strings.Count(out, "DOWNLOADING "+name+" chunk ")
			meta := strings.Count(out, "DOWNLOADING metafile of "+name+" ")
			if failed == "" {
				failed = fmt.Sprintf("no RECONSTRUCTED file %s within %v", name, within)
			}
			t.Fatalf("%s: %s (after %v; it printed %d metafile and %d chunk DOWNLOADING lines for it)",
				n.Name, failed, time.Since(start).Round(10*time.Millisecond), meta, chunks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// standIn is a Peerster of another implementation: a name and one UDP
// socket on loopback, next to one node of ours, which is its only peer.
type standIn struct {
	name string
	conn *net.UDPConn
	node *net.UDPAddr
}

func newStandIn(t *testing.T, name string) *standIn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// Room for a burst of replies, as far as the kernel lets a process
	// ask (net.core.rmem_max); what overflows is lost, as UDP loses it.
	_ = conn.SetReadBuffer(4 << 20)
	t.Cleanup(func() { conn.Close() })
	return &standIn{name: name, conn: conn}
}

func (s *standIn) addr() string { return s.conn.LocalAddr().String() }

// peer makes n the stand-in's peer, once n runs.
func (s *standIn) peer(t *testing.T, n *proctest.Node) {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp4", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	s.node = a
}

func (s *standIn) send(p *messages.GossipPacket) error {
	b, err := p.Encode()
	if err == nil {
		_, err = s.conn.WriteToUDP(b, s.node)
	}
	return err
}

// announce sends the node a route rumor of the stand-in: an empty rumor of
// its origin, numbered id. Taking it as new, the node makes the stand-in's
// address its next hop towards the stand-in's name, as a rumor of any
// implementation teaches.
func (s *standIn) announce(t *testing.T, id uint32) {
	t.Helper()
	if err := s.send(&messages.GossipPacket{Rumor: &messages.RumorMessage{Origin: s.name, ID: id}}); err != nil {
		t.Fatal(err)
	}
}

// announceUntilRouted announces the stand-in until n prints a route to it:
// the rumor, like any datagram, may come before n reads its socket.
func (s *standIn) announceUntilRouted(t *testing.T, n *proctest.Node) {
	t.Helper()
	s.announce(t, 1)
	testkit.Eventually(t, 5*time.Second, n.Name+" has a route to the stand-in "+s.name, func() bool {
		return n.Out.Routes()[s.name] == s.addr()
	})
}

// recv reads the next datagram from the node, skipping any other sender
// and what does not decode, until deadline.
func (s *standIn) recv(buf []byte, deadline time.Time) (*messages.GossipPacket, error) {
	for {
		if err := s.conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return nil, err
		}
		if s.node != nil && from.String() != s.node.String() {
			continue
		}
		p, err := messages.DecodeGossip(buf[:n])
		if err != nil {
			continue
		}
		if q := p.DataRequest; q != nil && q.Destination != s.name {
			// Like any implementation, it passes on a request for
			// another node, towards it: its only peer is our node.
			if q.HopLimit > 1 {
				fwd := *q
				fwd.HopLimit--
				if err := s.send(&messages.GossipPacket{DataRequest: &fwd}); err != nil {
					return nil, err
				}
			}
			continue
		}
		return p, nil
	}
}

// standInServer answers data requests from the files it holds, one at a
// time, in the order they come, and says nothing about a hash it lacks.
// It notes every request it gets. corrupt names chunks whose first reply
// it spoils (their bytes, not their hash), as a faulty peer or a damaged
// path would.
type standInServer struct {
	*standIn
	files   []*specFile
	corrupt map[[32]byte]bool

	mu       sync.Mutex
	requests map[[32]byte][]time.Time
	replies  int
	done     chan struct{}
}

func serveStandIn(t *testing.T, s *standIn, corrupt map[[32]byte]bool, files ...*specFile) *standInServer {
	srv := &standInServer{standIn: s, files: files, corrupt: corrupt, requests: map[[32]byte][]time.Time{}, done: make(chan struct{})}
	go srv.run()
	t.Cleanup(func() {
		s.conn.Close()
		<-srv.done
	})
	return srv
}

func (srv *standInServer) run() {
	defer close(srv.done)
	buf := make([]byte, messages.MaxPacketSize)
	for {
		p, err := srv.recv(buf, time.Time{})
		if err != nil {
			return // the socket was closed: the test is over
		}
		q := p.DataRequest
		if q == nil || q.Destination != srv.name || len(q.HashValue) != 32 {
			continue // gossip: this stand-in only serves files
		}
		var h [32]byte
		copy(h[:], q.HashValue)
		srv.mu.Lock()
		srv.requests[h] = append(srv.requests[h], time.Now())
		first := len(srv.requests[h]) == 1
		srv.mu.Unlock()
		var data []byte
		for _, f := range srv.files {
			if d, ok := f.byHash(q.HashValue); ok {
				data = d
			}
		}
		if data == nil {
			continue // unknown: no reply at all, as some implementations do
		}
		if first && srv.corrupt[h] {
			data = bytes.Clone(data)
			data[0] ^= 0xff
		}
		r := &messages.DataReply{Origin: srv.name, Destination: q.Origin, HopLimit: messages.DefaultHopLimit,
			HashValue: q.HashValue, Data: data}
		if srv.send(&messages.GossipPacket{DataReply: r}) == nil {
			srv.mu.Lock()
			srv.replies++
			srv.mu.Unlock()
		}
	}
}

// asked returns when the server got requests for h.
func (srv *standInServer) asked(h [32]byte) []time.Time {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]time.Time(nil), srv.requests[h]...)
}

// TestDownloadFromAnotherImplementation: our node downloads a file from a
// stand-in that answers one request at a time, through its UDP socket and
// the route its route rumor gave. The stand-in spoils its first reply for
// chunk 3: our node drops it (its hash does not match) and asks again. The
// file arrives whole, with the spec's lines. A download of a metahash the
// stand-in does not hold gets no reply at all: our node asks again every
// 500 ms (no round trip of that download is known), and prints its metafile
// line once.
func TestDownloadFromAnotherImplementation(t *testing.T) {
	n := proctest.Loopback(t, "Ours")
	n.Start(t)
	s := newStandIn(t, "Other")
	s.peer(t, n)
	f := randomSpecFile(100*chunkSize + 123)
	unknown := randomSpecFile(10)
	srv := serveStandIn(t, s, map[[32]byte]bool{f.hashes[2]: true}, f)
	s.announceUntilRouted(t, n)

	// The unknown file first: its requests go on while the real one downloads.
	if _, errOut, code := n.Client("-file=nothing.bin", "-dest=Other", "-request="+unknown.metaHex()); code != 0 {
		t.Fatalf("download of an unknown file: exit %d: %s", code, errOut)
	}
	start := time.Now()
	if _, errOut, code := n.Client("-file=got.bin", "-dest=Other", "-request="+f.metaHex()); code != 0 {
		t.Fatalf("download: exit %d: %s", code, errOut)
	}
	took := awaitDownload(t, n, "got.bin", "Other", 10*time.Second)
	t.Logf("%d bytes (%d chunks) from a one-at-a-time stand-in in %v (from the client's start %v)",
		len(f.data), len(f.chunks), took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	checkSaved(t, n, "got.bin", f.data)
	checkDownloadLines(t, n, "got.bin", "Other", len(f.chunks))
	if asks := srv.asked(f.hashes[2]); len(asks) != 2 {
		t.Errorf("chunk 3, spoiled the first time, was asked for %d times, want 2", len(asks))
	}
	for i, h := range f.hashes {
		if asks := srv.asked(h); i != 2 && len(asks) != 1 {
			t.Errorf("chunk %d was asked for %d times on a lossless link, want once", i+1, len(asks))
		}
	}

	// No reply to the unknown metahash: asked again after about 500 ms,
	// as no round trip to the stand-in is known for that download yet.
	testkit.Eventually(t, 10*time.Second, "our node asks again for the metafile the stand-in never answered", func() bool {
		return len(srv.asked(unknown.meta)) >= 3
	})
	asks := srv.asked(unknown.meta)
	for i := 1; i < 3; i++ {
		if gap := asks[i].Sub(asks[i-1]); gap < 450*time.Millisecond || gap > 2*time.Second {
			t.Errorf("the unanswered request was sent again after %v, want 500 ms", gap)
		}
	}
	if c := strings.Count(n.Out.Head(), "DOWNLOADING metafile of nothing.bin from Other\n"); c != 1 {
		t.Errorf("the metafile line of the unanswered download was printed %d times, want once", c)
	}
	if strings.Contains(n.Out.Head(), "RECONSTRUCTED file nothing.bin") {
		t.Error("a file nobody sent was reconstructed")
	}
}

// standInDownload has the stand-in download the file of metahash meta from
// the node named dest: the metafile, then every chunk, either one at a
// time (each request waits for its reply, or is sent again after rto) or
// all at once (then every chunk still missing after rto, again). It checks
// every reply against its hash and returns the file and how many requests
// it sent.
func standInDownload(s *standIn, dest string, meta [32]byte, allAtOnce bool, rto time.Duration, within time.Duration) ([]byte, int, error) {
	deadline := time.Now().Add(within)
	buf := make([]byte, messages.MaxPacketSize)
	sent := 0
	ask := func(h []byte) error {
		sent++
		return s.send(&messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: s.name, Destination: dest,
			HopLimit: messages.DefaultHopLimit, HashValue: h}})
	}
	// fetch asks for each hash of want (by index) until its reply came.
	fetch := func(want [][]byte, batch int) ([][]byte, error) {
		got := make([][]byte, len(want))
		left := len(want)
		for left > 0 {
			var asked []int
			for i := range want {
				if got[i] == nil && len(asked) < batch {
					if err := ask(want[i]); err != nil {
						return nil, err
					}
					asked = append(asked, i)
				}
			}
			round := time.Now().Add(rto)
			for pending := len(asked); pending > 0; {
				p, err := s.recv(buf, minTime(round, deadline))
				if errors.Is(err, os.ErrDeadlineExceeded) {
					if time.Now().After(deadline) {
						return nil, fmt.Errorf("%d of %d items still missing after %v", left, len(want), within)
					}
					break // the round is over: ask again for what is missing
				}
				if err != nil {
					return nil, err
				}
				r := p.DataReply
				if r == nil || r.Origin != dest || r.Destination != s.name {
					continue
				}
				for _, i := range asked {
					if got[i] == nil && bytes.Equal(r.HashValue, want[i]) {
						if sum := sha256.Sum256(r.Data); !bytes.Equal(sum[:], want[i]) {
							return nil, fmt.Errorf("the reply for item %d of %d (%x) carries %d bytes of another hash", i+1, len(want), want[i][:4], len(r.Data))
						}
						// The decoder's slices point into buf, which the
						// next read overwrites.
						got[i] = bytes.Clone(r.Data)
						left--
						pending--
					}
				}
			}
		}
		return got, nil
	}
	mf, err := fetch([][]byte{meta[:]}, 1)
	if err != nil {
		return nil, sent, fmt.Errorf("metafile: %w", err)
	}
	metafile := mf[0]
	if len(metafile) == 0 || len(metafile)%32 != 0 {
		return nil, sent, fmt.Errorf("a metafile of %d bytes", len(metafile))
	}
	var want [][]byte
	for off := 0; off < len(metafile); off += 32 {
		want = append(want, metafile[off:off+32])
	}
	batch := 1
	if allAtOnce {
		batch = len(want)
	}
	chunks, err := fetch(want, batch)
	if err != nil {
		return nil, sent, fmt.Errorf("chunks: %w", err)
	}
	return bytes.Join(chunks, nil), sent, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// TestServeAnotherImplementation: a stand-in downloads a file our node
// shares, a 2 MiB one, first stop-and-wait (one request, its reply, the
// next), then with every chunk request sent at once, and gets the bytes
// our node shared, each reply checked against its hash; our node prints no
// download line for serving. A request for a hash our node does not hold
// gets a reply with no data, so the asker can stop waiting. The stand-in is
// not one of our node's -peers: our node is its peer, as in a grader's
// ring, where each node knows only the next. It never sends back the
// address proof of a status; it proves its address by passing on the probe
// our node sends it, as any implementation passes on a data request.
func TestServeAnotherImplementation(t *testing.T) {
	s := newStandIn(t, "Other")
	n := proctest.Loopback(t, "Ours")
	n.Start(t)
	s.peer(t, n)
	s.announceUntilRouted(t, n)
	data, meta := shareFile(t, n, "shared.bin", 2<<20)
	var mh [32]byte
	hex.Decode(mh[:], []byte(meta))

	for _, allAtOnce := range []bool{false, true} {
		how := "stop-and-wait"
		if allAtOnce {
			how = "all at once"
		}
		start := time.Now()
		got, sent, err := standInDownload(s, "Ours", mh, allAtOnce, 500*time.Millisecond, 20*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: got %d bytes, not the %d shared, or other bytes", how, len(got), len(data))
		}
		t.Logf("%s: 2 MiB in %v, %d requests for %d items", how, time.Since(start).Round(time.Millisecond), sent, 257)
	}

	// A hash our node does not hold: a reply, with no data.
	bogus := sha256.Sum256([]byte("no such chunk"))
	if err := s.send(&messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "Other", Destination: "Ours",
		HopLimit: messages.DefaultHopLimit, HashValue: bogus[:]}}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, messages.MaxPacketSize)
	deadline := time.Now().Add(2 * time.Second)
	for {
		p, err := s.recv(buf, deadline)
		if err != nil {
			t.Fatalf("no reply to a request for a hash our node does not hold within 2 s: %v", err)
		}
		if r := p.DataReply; r != nil && bytes.Equal(r.HashValue, bogus[:]) {
			if len(r.Data) != 0 {
				t.Errorf("the reply for an unknown hash carries %d bytes", len(r.Data))
			}
			break
		}
	}
	if out := n.Out.Head(); strings.Contains(out, "DOWNLOADING") || strings.Contains(out, "RECONSTRUCTED") {
		t.Error("our node printed download lines for serving a file")
	}
}

// TestDownloadThroughOurNode: a stand-in downloads a file through our
// node: stand-in -> Ours1 -> Ours2, the file shared on Ours2. Ours1 and
// Ours2 know only each other (-peers); the stand-in is nobody's peer and
// sends everything to Ours1, the only node it knows, which learns its name
// from its route rumor and mongers the route on to Ours2. Ours1 passes the
// stand-in's requests on to Ours2 and Ours2's replies back to the
// stand-in; the first reply (the 8 KiB metafile) does not fit what the
// stand-in's unproven address has earned, so Ours1 drops it and probes the
// address, the stand-in passes the probe back as it passes on any request
// for another node, and Ours1 forwards the rest. The stand-in gets the
// whole file, every reply checked against its hash, within 20 s; Ours1's
// /metrics show the refused reply and the address proven by a probe.
func TestDownloadThroughOurNode(t *testing.T) {
	s := newStandIn(t, "Other")
	ours1 := proctest.Loopback(t, "Ours1", "-rtimer=1")
	ours2 := proctest.Loopback(t, "Ours2", "-rtimer=1")
	startLine(t, ours1, ours2)
	s.peer(t, ours1)
	testkit.Eventually(t, 5*time.Second, "Ours1 has a route to Ours2", func() bool { return ours1.Out.Routes()["Ours2"] == ours2.Addr })
	s.announceUntilRouted(t, ours1)
	testkit.Eventually(t, 10*time.Second, "Ours2 has a route to the stand-in through Ours1", func() bool {
		return ours2.Out.Routes()["Other"] == ours1.Addr
	})
	data, meta := shareFile(t, ours2, "shared.bin", 2<<20)
	var mh [32]byte
	hex.Decode(mh[:], []byte(meta))
	items := len(data)/chunkSize + 1 // the chunks and the metafile

	start := time.Now()
	got, sent, err := standInDownload(s, "Ours2", mh, false, 500*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatalf("through Ours1: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("through Ours1: got %d bytes, not the %d shared, or other bytes", len(got), len(data))
	}
	t.Logf("stop-and-wait through Ours1: 2 MiB in %v, %d requests for %d items", time.Since(start).Round(time.Millisecond), sent, items)
	if sent <= items {
		t.Errorf("the stand-in sent %d requests for %d items: none was asked again, yet the first reply cannot fit an unproven address's budget", sent, items)
	}

	m := metricSamples(t, ours1)
	t.Logf("Ours1: %v replies refused for the budget, %v probes sent, %v addresses proven by one, %v data packets forwarded",
		m[`peerster_packets_dropped_total{reason="send-budget"}`], m[`peerster_address_probes_total{event="sent"}`],
		m[`peerster_address_probes_total{event="proven"}`], m[`peerster_data_packets_total{event="forwarded"}`])
	for _, c := range []struct {
		sample  string
		atLeast float64
	}{
		{`peerster_packets_dropped_total{reason="send-budget"}`, 1},
		{`peerster_address_probes_total{event="sent"}`, 1},
		{`peerster_address_probes_total{event="proven"}`, 1},
		// Every request and every reply, once at least.
		{`peerster_data_packets_total{event="forwarded"}`, float64(2 * items)},
	} {
		if v, ok := m[c.sample]; !ok || v < c.atLeast {
			t.Errorf("Ours1: %s is %v (present %v), want at least %v", c.sample, v, ok, c.atLeast)
		}
	}
	if v := metricSamples(t, ours2)[`peerster_data_packets_total{event="served"}`]; v < float64(items) {
		t.Errorf("Ours2 served %v data replies, want at least %d", v, items)
	}
	for _, n := range []*proctest.Node{ours1, ours2} {
		if out := n.Out.Head(); strings.Contains(out, "DOWNLOADING") || strings.Contains(out, "RECONSTRUCTED") {
			t.Errorf("%s, which downloads nothing, printed a download line", n.Name)
		}
	}
}
