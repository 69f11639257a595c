package messages_test

import (
	"testing"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

func TestStatusEntriesCountsWithoutDecoding(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1024, 1025, 3000} {
		b := fuzzseed.StatusOfSize(t, n)
		if got, ok := messages.StatusEntries(b); !ok || got != n {
			t.Errorf("%d entries: counted %d (well-formed %v)", n, got, ok)
		}
		if _, ok := messages.StatusEntries(b[:len(b)-1]); ok && n > 0 {
			t.Errorf("%d entries, truncated: taken as well-formed", n)
		}
	}
	r, _ := fuzzseed.Rumor("A", 1, "hi").Encode()
	if got, ok := messages.StatusEntries(r); !ok || got != 0 {
		t.Errorf("a rumor: counted %d status entries (well-formed %v)", got, ok)
	}
}

// FuzzStatusEntries checks the count against the decoder: whatever status
// the decoder finds in some bytes, encoded as a Peerster sends it, the scan
// counts its entries exactly, so the cheap check drops no status a node
// would have kept. (On hostile bytes the two may disagree, as the decoder
// skips what it does not expect; such a packet is dropped either way.)
func FuzzStatusEntries(f *testing.F) {
	for _, seeds := range []map[string][]byte{fuzzseed.Packets(), fuzzseed.PrivatePackets()} {
		for _, b := range seeds {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := messages.DecodeGossip(b)
		if err != nil || p.Status == nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		n, ok := messages.StatusEntries(enc)
		if !ok || n != len(p.Status.Want) {
			t.Fatalf("status of %d entries encoded as %x: scan counted %d (well-formed %v)", len(p.Status.Want), enc, n, ok)
		}
	})
}
