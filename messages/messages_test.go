package messages

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// The hex strings are the library's own output for the handout's examples;
// any change to a struct's field order or types changes them.
func TestGoldenEncoding(t *testing.T) {
	cases := []struct {
		name string
		pkt  GossipPacket
		hex  string
	}{
		{"rumor", GossipPacket{Rumor: &RumorMessage{Origin: "Alice", ID: 23, Text: "Hi"}}, "120d0a05416c69636510171a024869"},
		{"status", GossipPacket{Status: &StatusPacket{Want: []PeerStatus{{"Alice", 4}}}}, "1a0b0a090a05416c6963651004"},
		{"simple", GossipPacket{Simple: &SimpleMessage{OriginalName: "A", RelayPeerAddr: "127.0.0.9:5", Contents: "x"}}, "0a130a0141120b3132372e302e302e393a351a0178"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.pkt.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != c.hex {
				t.Fatalf("encoding = %s, want %s", got, c.hex)
			}
			back, err := DecodeGossip(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, c.pkt) {
				t.Fatalf("round trip = %+v, want %+v", back, c.pkt)
			}
		})
	}
}

func TestClientMessageEncoding(t *testing.T) {
	b, err := (&Message{Text: "Hello"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "0a0548656c6c6f"; got != want {
		t.Fatalf("encoding = %s, want %s", got, want)
	}
	m, err := DecodeMessage(b)
	if err != nil || m.Text != "Hello" {
		t.Fatalf("decode = %+v, %v", m, err)
	}
}
