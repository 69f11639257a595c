package gossiper

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// maxUDPPayload is the largest datagram IPv4 can carry; a packet that
// encodes longer cannot be sent at all.
const maxUDPPayload = 65507

// fuzzSources are the addresses a fuzzed datagram may come from: the known
// peers, a stranger, and the node's own address (a spoofed loop).
var fuzzSources = append(slices.Clone(fuzzseed.Peers), "127.0.0.1:6000", fuzzseed.SelfAddr)

// fuzzNode is a Core with a few peers and some history, and the bookkeeping
// that checks every Output it returns.
type fuzzNode struct {
	t    *testing.T
	core *Core
	// received and sent are the bytes that came from, and went to, each
	// address: no unproven address is sent more than its budget allows.
	received, sent map[string]int
	// next is the next ID each origin must get, from everything the Core
	// has accepted (restored or reported in Output.Accepted); texts holds
	// those messages in ID order.
	next  map[string]uint32
	texts map[string][]string
	now   time.Time
}

const fuzzName = "self"

func newFuzzNode(t *testing.T, simple bool) *fuzzNode {
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Peers, cfg.Simple = fuzzName, fuzzseed.SelfAddr, fuzzseed.Peers, simple
	n := &fuzzNode{
		t:        t,
		core:     NewCore(cfg, rand.New(rand.NewPCG(4, 38))),
		received: map[string]int{},
		sent:     map[string]int{},
		next:     map[string]uint32{},
		texts:    map[string][]string{},
		now:      time.Date(2018, 10, 14, 23, 59, 0, 0, time.UTC),
	}
	var entries []Entry
	for _, r := range fuzzseed.History {
		entries = append(entries, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: n.now})
	}
	if skipped := n.core.Restore(entries); skipped != 0 {
		t.Fatalf("Restore skipped %d of the seed history", skipped)
	}
	for _, e := range entries {
		n.record(e)
	}
	// One shared file of one chunk, which seeds ask for.
	chunk := fuzzseed.HeldChunkHash()
	n.core.ShareFile(SharedFile{Name: "held", MetaHash: sha256.Sum256(chunk[:]), Metafile: chunk[:], Size: int64(len(fuzzseed.HeldChunk))})
	return n
}

func (n *fuzzNode) record(e Entry) {
	n.t.Helper()
	if n.next[e.Origin] == 0 {
		n.next[e.Origin] = 1
	}
	if e.ID != n.next[e.Origin] {
		n.t.Fatalf("accepted %s/%d, but that origin's next ID is %d", e.Origin, e.ID, n.next[e.Origin])
	}
	n.next[e.Origin]++
	n.texts[e.Origin] = append(n.texts[e.Origin], e.Text)
}

// holds says whether the node has accepted message id of origin with text.
func (n *fuzzNode) holds(origin string, id uint32, text string) bool {
	held := n.texts[origin]
	return id > 0 && int(id) <= len(held) && held[id-1] == text
}

// check asserts what must hold of any Output, whatever came in.
func (n *fuzzNode) check(step string, out Output) {
	n.t.Helper()
	for _, e := range out.Accepted {
		n.record(e)
	}
	// Parse also refuses a line that holds what a terminal would act on.
	for _, l := range out.Lines {
		if _, err := stdoutline.Parse(l); err != nil {
			n.t.Fatalf("%s: %v", step, err)
		}
	}
	for _, s := range out.Serve {
		wire := messages.EmbeddedSize(messages.DataReplySize(s.Reply, s.Size))
		if s.To == fuzzseed.SelfAddr || wire > maxUDPPayload {
			n.t.Fatalf("%s: serves %d bytes to %s", step, wire, s.To)
		}
		if !n.core.proven(s.To) {
			n.sent[s.To] += wire
			if limit := amplification*n.received[s.To] + addressAllowance; n.sent[s.To] > limit {
				n.t.Fatalf("%s: served %d bytes to %s, which has not proven its address and sent %d", step, n.sent[s.To], s.To, n.received[s.To])
			}
		}
	}
	for _, s := range out.Sends {
		if s.To == fuzzseed.SelfAddr {
			n.t.Fatalf("%s: sends %s to its own address", step, fuzzseed.Describe(s.Packet))
		}
		p := s.Packet
		set := 0
		for _, b := range []bool{p.Simple != nil, p.Rumor != nil, p.Status != nil, p.Private != nil, p.DataRequest != nil, p.DataReply != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			n.t.Fatalf("%s: sends a packet with %d fields set: %s", step, set, fuzzseed.Describe(p))
		}
		b, err := p.Encode()
		if err != nil {
			n.t.Fatalf("%s: cannot encode %s: %v", step, fuzzseed.Describe(p), err)
		}
		if len(b) > maxUDPPayload {
			n.t.Fatalf("%s: sends %d bytes to %s, more than one datagram holds", step, len(b), s.To)
		}
		if !n.core.proven(s.To) {
			n.sent[s.To] += len(b)
			if limit := amplification*n.received[s.To] + addressAllowance; n.sent[s.To] > limit {
				n.t.Fatalf("%s: sent %d bytes to %s, which has not proven its address and sent %d", step, n.sent[s.To], s.To, n.received[s.To])
			}
		}
		if q := p.DataRequest; q != nil && q.Origin == fuzzName && q.Destination == fuzzName && !bytes.Equal(q.HashValue, n.core.probeHash(s.To)) {
			n.t.Fatalf("%s: sends %s a request to itself that is not the address's probe", step, s.To)
		}
		// A node only ever gossips rumors it holds, word for word.
		if r := p.Rumor; r != nil {
			if !n.holds(r.Origin, r.ID, r.Text) {
				n.t.Fatalf("%s: gossips %s/%d %q, which it does not hold", step, r.Origin, r.ID, r.Text)
			}
		}
	}
	for _, tm := range out.Timers {
		if tm.After <= 0 {
			n.t.Fatalf("%s: timer %+v fires at once", step, tm)
		}
	}
}

// finish asserts what must hold of the node's state at the end.
func (n *fuzzNode) finish() {
	n.t.Helper()
	last := map[string]uint32{}
	seen := map[Posted]bool{}
	for _, e := range n.core.Log() {
		k := Posted{e.Origin, e.ID}
		if seen[k] {
			n.t.Fatalf("log holds %s/%d twice", e.Origin, e.ID)
		}
		seen[k] = true
		if e.ID <= last[e.Origin] {
			n.t.Fatalf("log holds %s/%d after %s/%d", e.Origin, e.ID, e.Origin, last[e.Origin])
		}
		last[e.Origin] = e.ID
		if e.Text == "" || !n.holds(e.Origin, e.ID, e.Text) {
			n.t.Fatalf("log holds %s/%d %q, which was never accepted", e.Origin, e.ID, e.Text)
		}
	}
	for _, ps := range n.core.Status() {
		if ps.NextID != n.next[ps.Identifier] {
			n.t.Fatalf("status says %s nextID %d; accepted IDs run to %d", ps.Identifier, ps.NextID, n.next[ps.Identifier]-1)
		}
	}
	c := n.core
	if c.textBytes > c.budgets.texts || c.logBytes > c.budgets.log || c.window.bytes > c.budgets.window {
		n.t.Fatalf("over budget: texts %d of %d, log %d of %d, window %d of %d",
			c.textBytes, c.budgets.texts, c.logBytes, c.budgets.log, c.window.bytes, c.budgets.window)
	}
}

func (n *fuzzNode) datagram(from string, b []byte) []Timer {
	n.t.Helper()
	n.received[from] += len(b)
	out := n.core.Datagram(from, b, n.now)
	n.check("datagram from "+from, out)
	return out.Timers
}

// FuzzNodePacket feeds any bytes, as a datagram from a peer, a stranger or
// the node's own address, to a Core that already has peers and history, then
// delivers it again, fires the timers it armed and ticks anti-entropy. The
// first byte picks the source (low bits) and simple mode (top bit). No input
// may make the node panic, send to itself, send a packet with other than one
// field or too big for a datagram, print a broken line, or break the
// sequence of IDs in its history. With bit 0x40 of the first byte the user
// renames the node before the last post, which must then go out at once
// under the fresh name, whatever the packets claimed of the old one.
func FuzzNodePacket(f *testing.F) {
	f.Fuzz(func(t *testing.T, sel byte, b []byte) {
		n := newFuzzNode(t, sel&0x80 != 0)
		from := fuzzSources[int(sel&0x3f)%len(fuzzSources)]
		timers := n.datagram(from, b)
		n.now = n.now.Add(10 * time.Millisecond)
		timers = append(timers, n.datagram(from, b)...) // a duplicate
		other := fuzzSources[(int(sel&0x3f)+1)%len(fuzzSources)]
		timers = append(timers, n.datagram(other, b)...)

		// Fire the timers in order, and the ones they arm, a bounded
		// number of times; a tick between rounds sends anti-entropy.
		for round := 0; round < 3 && len(timers) > 0; round++ {
			sort.SliceStable(timers, func(i, j int) bool { return timers[i].After < timers[j].After })
			var armed []Timer
			for _, tm := range timers {
				out := n.core.Timeout(tm, n.now.Add(tm.After))
				n.check(fmt.Sprintf("timeout %+v", tm), out)
				armed = append(armed, out.Timers...)
			}
			n.now = n.now.Add(time.Second)
			out := n.core.Tick(n.now)
			n.check("tick", out)
			timers = append(armed, out.Timers...)
		}

		renamed := sel&0x40 != 0
		if renamed {
			if err := n.core.SetName("renamed"); err != nil {
				t.Fatalf("rename refused: %v", err)
			}
		}
		// The node's own sequence goes on from what it holds, at once or,
		// while a claim about its origin is open, within maxHold.
		out, posted, err := n.core.Client("after the fuzz", n.now)
		if err != nil {
			t.Fatalf("client message refused: %v", err)
		}
		n.check("client message", out)
		if renamed && !n.core.cfg.Simple && posted.ID == 0 {
			t.Fatalf("the first post under a fresh name was held back")
		}
		for tries := 0; posted.ID == 0 && !n.core.cfg.Simple && tries < 3; tries++ {
			if n.core.claim == nil {
				t.Fatalf("own message held back with no claim open")
			}
			tm := Timer{Kind: TimerRecover, Peer: n.core.claim.origin, Seq: n.core.claim.timerSeq}
			n.now = n.now.Add(maxHold)
			out := n.core.Timeout(tm, n.now)
			n.check("recover timeout", out)
			for _, e := range out.Accepted {
				if e.Origin == posted.Origin && e.Text == "after the fuzz" {
					posted.ID = e.ID
				}
			}
		}
		if !n.core.cfg.Simple && !n.holds(posted.Origin, posted.ID, "after the fuzz") {
			t.Fatalf("own message got ID %d, which the node does not hold", posted.ID)
		}
		n.finish()
	})
}

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpus files in testdata/fuzz")

// TestSeedCorpus checks the committed seed corpus against the seeds, or
// rewrites it with -write-corpus: every seed packet from a known peer, and
// the ones that matter most also from a stranger, from the node itself and
// in simple mode.
func TestSeedCorpus(t *testing.T) {
	files := map[string]string{}
	add := func(name string, sel byte, b []byte) {
		files[name] = fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", sel, b)
	}
	packets := fuzzseed.Packets()
	for name, b := range packets {
		add(name, 0, b)
	}
	for name, b := range fuzzseed.PrivatePackets() {
		add(name, 0, b)
	}
	for _, name := range []string{"rumor-new-origin", "status-behind", "simple-handout", "several-all-three"} {
		add(name+"-from-stranger", 3, packets[name])
		add(name+"-from-self", 4, packets[name])
		add(name+"-simple-mode", 0x80, packets[name])
	}
	// Issue 9: a stranger's claim about the node's own origin, alone and
	// followed by a rename (defects 1 and 2).
	add("status-own-origin-claim-from-stranger", 3, packets["status-own-origin-claim"])
	add("status-own-origin-claim-then-rename", 0x40|3, packets["status-own-origin-claim"])
	// Issue 14: the attacks' packets from a stranger.
	for _, name := range []string{"status-with-proof", "rumor-forging-name", "rumor-terminal-escapes", "rumor-own-name", "rumor-far-ahead", "rumor-largest", "private-huge-hop-limit", "status-empty"} {
		add(name+"-from-stranger", 3, packets[name])
	}
	fuzzseed.SyncCorpus(t, filepath.Join("testdata", "fuzz", "FuzzNodePacket"), files, *writeCorpus)
}
