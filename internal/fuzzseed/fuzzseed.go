// Package fuzzseed makes the datagrams that seed the fuzz tests of messages
// and gossiper: well-formed packets of every kind, the edge cases the
// protocol rules care about, and broken bytes. Tests write them to
// testdata/fuzz when asked to, so the corpus can be regenerated.
package fuzzseed

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerster/Peerster/messages"
)

// History is the history a fuzzed node starts with; several seeds are
// written against it (the next ID, a duplicate, a gap, a status in sync).
var History = []messages.RumorMessage{
	{Origin: "A", ID: 1, Text: "one"},
	{Origin: "A", ID: 2, Text: "two"},
	{Origin: "self", ID: 1, Text: "mine"},
	{Origin: "A", ID: 3, Text: "three"},
	{Origin: "B", ID: 1, Text: ""},
}

// SelfAddr is the fuzzed node's own address; Peers are the ones it knows.
const SelfAddr = "127.0.0.1:5000"

// Peers are the fuzzed node's bootstrap peers.
var Peers = []string{"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"}

// Packets returns the seed datagrams by file name. They are all small: the
// fuzzer minimizes every new input it finds, and inputs mutated from a seed of
// tens of kilobytes take it up to a minute each. Packets over the size caps
// are unit tests of the gossiper instead.
func Packets() map[string][]byte {
	seeds := map[string][]byte{}
	add := adder(seeds)
	addRumors(add)
	addStatuses(add)
	addOthers(add)
	addBroken(seeds)
	return seeds
}

// adder returns a function that stores a packet's wire bytes in seeds under
// its name.
func adder(seeds map[string][]byte) func(string, *messages.GossipPacket) {
	return func(name string, p *messages.GossipPacket) {
		b, err := p.Encode()
		if err != nil {
			panic(fmt.Sprintf("seed %s: %v", name, err))
		}
		seeds[name] = b
	}
}

func addRumors(add func(string, *messages.GossipPacket)) {
	rumor := Rumor
	add("rumor-handout", rumor("Alice", 23, "Hi"))
	add("rumor-new-origin", rumor("C", 1, "hello"))
	add("rumor-next-id", rumor("A", 4, "four"))
	add("rumor-duplicate", rumor("A", 2, "two"))
	add("rumor-gap", rumor("A", 9, "nine"))
	add("rumor-own-origin-ahead", rumor("self", 5, "did I say that?"))
	add("rumor-empty-text", rumor("B", 2, ""))
	add("rumor-id-zero", rumor("C", 0, "zero"))
	add("rumor-id-max", rumor("C", 1<<32-1, "max"))
	add("rumor-empty-origin", rumor("", 1, "nobody"))
	add("rumor-newline", rumor("C", 1, "line one\nline two\r\n"))
	add("rumor-space-in-origin", rumor("two words", 1, "x"))
	add("rumor-long-origin", rumor(strings.Repeat("o", 257), 1, "x"))
	add("rumor-longest-origin", rumor(strings.Repeat("o", 256), 1, "x"))
	add("rumor-invalid-utf8", rumor("\xff\xfe", 1, "\xc3\x28"))
}

func addStatuses(add func(string, *messages.GossipPacket)) {
	status := Status
	add("status-handout", status("Alice", 4))
	add("status-empty", status())
	add("status-in-sync", status("A", 4, "self", 2, "B", 2))
	add("status-behind", status("A", 1))
	add("status-ahead", status("A", 4, "self", 2, "B", 2, "D", 3))
	add("status-own-origin-ahead", status("self", 7))
	add("status-next-id-zero", status("A", 0, "B", 0))
	add("status-duplicate-identifier", status("A", 2, "A", 9, "A", 1))
	add("status-empty-identifier", status("", 5))
	many := make([]any, 0, 2*40)
	for i := range 40 {
		many = append(many, fmt.Sprintf("o%d", i), i)
	}
	add("status-40-entries", status(many...))
	// Issue 9: a claim about the node's own origin far past what it holds
	// (it once muted the node), and a status of long names close to one
	// datagram (a node keeps only the origins its status lists whole).
	add("status-own-origin-claim", status("self", 1000))
	long := make([]any, 0, 2*270)
	for i := range 270 {
		long = append(long, fmt.Sprintf("o%d-%s", i, strings.Repeat("x", 200)), 2)
	}
	add("status-long-origins", status(long...))
	// Issue 14: a status proving its address (and one with a wrong
	// token), a name that would forge a line, a text that would drive a
	// terminal, a rumor of the node's own name (impersonation), one far
	// ahead (the window) and one of the largest size (the budgets).
	proof := status("A", 2)
	proof.Status.Proof = &messages.AddressProof{Ask: 7, Echo: 1}
	add("status-with-proof", proof)
	add("rumor-forging-name", Rumor("B from 127.0.0.1:5002 ID 7 contents", 1, "x"))
	add("rumor-terminal-escapes", Rumor("A", 4, "\x1b]0;owned\x07\x1b[2J"))
	add("rumor-own-name", Rumor("self", 2, "forged"))
	add("rumor-far-ahead", Rumor("W", 4000, "w"))
	add("rumor-largest", Rumor("Z", 1, strings.Repeat("z", messages.MaxTextBytes)))
	add("private-huge-hop-limit", &messages.GossipPacket{Private: &messages.PrivateMessage{Origin: "S", Text: "loop", Destination: "B", HopLimit: 1<<32 - 1}})
}

func addOthers(add func(string, *messages.GossipPacket)) {
	simple := Simple
	add("simple-handout", simple("A", "127.0.0.9:5", "x"))
	add("simple-relay-is-self", simple("A", SelfAddr, "loop"))
	add("simple-relay-unparsable", simple("A", "not an address", "x"))
	add("simple-newline", simple("A", "127.0.0.1:5002", "a\nb"))
	add("simple-empty-origin", simple("", "127.0.0.1:5002", "x"))

	r := &messages.RumorMessage{Origin: "A", ID: 4, Text: "four"}
	s := &messages.StatusPacket{Want: []messages.PeerStatus{{Identifier: "A", NextID: 1}}}
	m := &messages.SimpleMessage{OriginalName: "A", RelayPeerAddr: "127.0.0.1:5002", Contents: "x"}
	add("several-rumor-status", &messages.GossipPacket{Rumor: r, Status: s})
	add("several-simple-rumor", &messages.GossipPacket{Simple: m, Rumor: r})
	add("several-all-three", &messages.GossipPacket{Simple: m, Rumor: r, Status: s})
	add("no-field-set", &messages.GossipPacket{})
	add("rumor-zero-value", &messages.GossipPacket{Rumor: &messages.RumorMessage{}})
}

// addBroken adds bytes that are not well-formed packets.
func addBroken(seeds map[string][]byte) {
	seeds["empty"] = []byte{}
	handout := seeds["rumor-handout"]
	seeds["truncated-rumor"] = handout[:len(handout)/2]
	seeds["truncated-status"] = seeds["status-handout"][:5]
	seeds["wrong-wire-type"] = []byte{0x10, 0x01}                     // field 2 (Rumor) as a varint
	seeds["huge-length"] = []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f} // length past the end
	seeds["unknown-field"] = append([]byte{0x7a, 0x01, 0x00}, handout...)
	seeds["negative-id"] = []byte{0x12, 0x0e, 0x0a, 0x01, 0x43, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x00}
	rng := rand.New(rand.NewPCG(438, 2018))
	for i, n := range []int{1, 16, 512} {
		g := make([]byte, n)
		for j := range g {
			g[j] = byte(rng.Uint32())
		}
		seeds[fmt.Sprintf("garbage-%d", i)] = g
	}
}

// PrivatePackets returns the seed datagrams of private messages, and of the
// file transfer's fields 5 and 6 that no node decodes yet, by file name. They
// are apart from Packets because the gossiper's committed corpus is made from
// Packets: whoever makes the gossiper handle private messages moves them in
// there and rewrites both corpora.
func PrivatePackets() map[string][]byte {
	seeds := map[string][]byte{}
	add := adder(seeds)
	const hops = messages.DefaultHopLimit
	add("private-handout", Private("Alice", 0, "Hi", "Bob", hops))
	add("private-for-self", Private("A", 0, "for you", "self", hops))
	add("private-to-forward", Private("A", 0, "pass it on", "B", 5))
	add("private-last-hop", Private("A", 0, "last hop", "B", 1))
	add("private-last-hop-for-self", Private("A", 0, "just in time", "self", 1))
	add("private-hop-limit-zero", Private("A", 0, "too far", "self", 0))
	add("private-hop-limit-max", Private("A", 0, "far", "B", 1<<32-1))
	add("private-no-route", Private("A", 0, "nowhere", "Z", hops))
	add("private-from-self", Private("self", 0, "echo", "A", hops))
	add("private-to-self-from-self", Private("self", 0, "loop", "self", hops))
	add("private-id-nonzero", Private("A", 7, "numbered", "self", hops))
	add("private-empty-text", Private("A", 0, "", "self", hops))
	add("private-empty-origin", Private("", 0, "nobody", "self", hops))
	add("private-empty-destination", Private("A", 0, "to nobody", "", hops))
	add("private-space-in-destination", Private("A", 0, "x", "two words", hops))
	add("private-long-destination", Private("A", 0, "x", strings.Repeat("d", 257), hops))
	add("private-newline", Private("A", 0, "line one\nline two\r\n", "self", hops))
	add("private-zero-value", &messages.GossipPacket{Private: &messages.PrivateMessage{}})
	r := &messages.RumorMessage{Origin: "A", ID: 4, Text: "four"}
	s := &messages.StatusPacket{Want: []messages.PeerStatus{{Identifier: "A", NextID: 1}}}
	m := &messages.SimpleMessage{OriginalName: "A", RelayPeerAddr: "127.0.0.1:5002", Contents: "x"}
	pm := Private("A", 0, "hi", "self", hops).Private
	add("several-rumor-private", &messages.GossipPacket{Rumor: r, Private: pm})
	add("several-all-four", &messages.GossipPacket{Simple: m, Rumor: r, Status: s, Private: pm})
	handout := seeds["private-handout"]
	seeds["truncated-private"] = handout[:len(handout)/2]
	seeds["wrong-wire-type-private"] = []byte{0x20, 0x01} // field 4 (Private) as a varint
	seeds["data-request-field-5"] = []byte{0x2a, 0x03, 0x0a, 0x01, 0x41}
	seeds["data-reply-field-6"] = []byte{0x32, 0x00}
	hash := make([]byte, messages.HashBytes)
	add("data-request", &messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "A", Destination: "self", HopLimit: 10, HashValue: hash}})
	add("data-reply", &messages.GossipPacket{DataReply: &messages.DataReply{Origin: "A", Destination: "self", HopLimit: 10, HashValue: hash, Data: []byte("chunk")}})
	add("data-reply-empty", &messages.GossipPacket{DataReply: &messages.DataReply{Origin: "A", Destination: "self", HopLimit: 10, HashValue: hash}})
	add("data-request-huge-hop-limit", &messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "A", Destination: "B", HopLimit: 1<<32 - 1, HashValue: hash}})
	held := HeldChunkHash()
	add("data-request-held", &messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "A", Destination: "self", HopLimit: 10, HashValue: held[:]}})
	add("data-request-held-from-stranger", &messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "stranger", Destination: "self", HopLimit: 10, HashValue: held[:]}})
	add("data-request-own-probe", &messages.GossipPacket{DataRequest: &messages.DataRequest{Origin: "self", Destination: "self", HopLimit: 3, HashValue: hash}})
	add("data-reply-held", &messages.GossipPacket{DataReply: &messages.DataReply{Origin: "A", Destination: "self", HopLimit: 10, HashValue: held[:], Data: []byte(HeldChunk)}})
	return seeds
}

// Private is a packet carrying one private message; the arguments are in
// the order of its fields.
func Private(origin string, id uint32, text, destination string, hopLimit uint32) *messages.GossipPacket {
	return &messages.GossipPacket{Private: &messages.PrivateMessage{Origin: origin, ID: id, Text: text, Destination: destination, HopLimit: hopLimit}}
}

// Rumor is a packet carrying one rumor.
func Rumor(origin string, id uint32, text string) *messages.GossipPacket {
	return &messages.GossipPacket{Rumor: &messages.RumorMessage{Origin: origin, ID: id, Text: text}}
}

// Status is a packet carrying a status; pairs alternate an origin (string)
// and its next ID (int).
func Status(pairs ...any) *messages.GossipPacket {
	s := &messages.StatusPacket{}
	for i := 0; i < len(pairs); i += 2 {
		s.Want = append(s.Want, messages.PeerStatus{Identifier: pairs[i].(string), NextID: uint32(pairs[i+1].(int))})
	}
	return &messages.GossipPacket{Status: s}
}

// Simple is a packet carrying a simple message.
func Simple(origin, relay, text string) *messages.GossipPacket {
	return &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: origin, RelayPeerAddr: relay, Contents: text}}
}

// StatusOfSize is the wire form of a status of n entries, origin0 to
// origin(n-1).
func StatusOfSize(tb testing.TB, n int) []byte {
	tb.Helper()
	s := &messages.StatusPacket{}
	for i := range n {
		s.Want = append(s.Want, messages.PeerStatus{Identifier: fmt.Sprint("origin", i), NextID: uint32(i + 1)})
	}
	b, err := (&messages.GossipPacket{Status: s}).Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// SyncCorpus keeps a fuzz target's committed seed corpus in dir equal to
// files (file name to contents): with write it writes them, else it fails tb
// for each file that is missing or differs, so that a change to the seeds
// cannot go unnoticed while CI runs the old ones.
func SyncCorpus(tb testing.TB, dir string, files map[string]string, write bool) {
	tb.Helper()
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for name, want := range files {
		path := filepath.Join(dir, name)
		if write {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			tb.Errorf("seed %s is missing or out of date (%v); rewrite the corpus with go test -run SeedCorpus -write-corpus", path, err)
		}
	}
}

// Describe shows a packet's fields in a fuzz target's failure message.
func Describe(p *messages.GossipPacket) string {
	var b strings.Builder
	if p.Simple != nil {
		fmt.Fprintf(&b, "Simple:%+v ", *p.Simple)
	}
	if p.Rumor != nil {
		fmt.Fprintf(&b, "Rumor:%+v ", *p.Rumor)
	}
	if p.Status != nil {
		fmt.Fprintf(&b, "Status:%#v ", p.Status.Want)
	}
	if p.Private != nil {
		fmt.Fprintf(&b, "Private:%+v ", *p.Private)
	}
	if q := p.DataRequest; q != nil {
		fmt.Fprintf(&b, "DataRequest:{%s->%s hop %d hash %x} ", q.Origin, q.Destination, q.HopLimit, q.HashValue)
	}
	if r := p.DataReply; r != nil {
		fmt.Fprintf(&b, "DataReply:{%s->%s hop %d hash %x, %d bytes} ", r.Origin, r.Destination, r.HopLimit, r.HashValue, len(r.Data))
	}
	return b.String()
}

// HeldChunk is the one chunk of the file a fuzzed node shares, so that
// requests for it reach the code that serves.
const HeldChunk = "chunk"

// HeldChunkHash is HeldChunk's hash, which seeds ask for.
func HeldChunkHash() [32]byte { return sha256.Sum256([]byte(HeldChunk)) }
