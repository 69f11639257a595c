package messages_test

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

// FuzzDecodeGossip feeds any bytes to DecodeGossip: it must never panic, and
// a packet that decodes must survive an encode and a decode unchanged, or
// relaying it would change what it says. Unchanged is judged on the bytes
// re-encoded, where an absent and an empty byte field are the same.
func FuzzDecodeGossip(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := messages.DecodeGossip(b)
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", p, err)
		}
		back, err := messages.DecodeGossip(enc)
		if err != nil {
			t.Fatalf("cannot decode the encoding %x of %#v: %v", enc, p, err)
		}
		again, err := back.Encode()
		if err != nil || !bytes.Equal(enc, again) {
			t.Fatalf("round trip changed the packet:\n got %s\nwant %s", fuzzseed.Describe(back), fuzzseed.Describe(p))
		}
	})
}

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpus files in testdata/fuzz")

// TestSeedCorpus checks the committed seed corpus against the seeds, or
// rewrites it with -write-corpus.
func TestSeedCorpus(t *testing.T) {
	files := map[string]string{}
	for _, seeds := range []map[string][]byte{fuzzseed.Packets(), fuzzseed.PrivatePackets()} {
		for name, b := range seeds {
			files[name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		}
	}
	fuzzseed.SyncCorpus(t, filepath.Join("testdata", "fuzz", "FuzzDecodeGossip"), files, *writeCorpus)
}
