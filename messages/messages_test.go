package messages

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.dedis.ch/protobuf"
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
		{"private", GossipPacket{Private: &PrivateMessage{Origin: "Alice", ID: 0, Text: "Hi", Destination: "Bob", HopLimit: 10}}, privateHex},
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

// privateHex was written by hand from the protobuf rules, not taken from the
// library: a tag is field<<3 | wire type, 2 for bytes and 0 for a varint,
// and the encoder writes every field, zero ones too.
var (
	privateMessageHex = strings.Join([]string{
		"0a", "05", hex.EncodeToString([]byte("Alice")), // 1 Origin
		"10", "00", // 2 ID 0
		"1a", "02", hex.EncodeToString([]byte("Hi")), // 3 Text
		"22", "03", hex.EncodeToString([]byte("Bob")), // 4 Destination
		"28", "0a", // 5 HopLimit 10
	}, "")
	privateHex = "22" + "14" + privateMessageHex // field 4 (Private), 20 bytes
)

// TestGoldenPrivateMessage pins a PrivateMessage's own bytes, as a packet
// embeds them.
func TestGoldenPrivateMessage(t *testing.T) {
	pm := PrivateMessage{Origin: "Alice", ID: 0, Text: "Hi", Destination: "Bob", HopLimit: 10}
	b, err := protobuf.Encode(&pm)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != privateMessageHex {
		t.Fatalf("encoding = %s, want %s", got, privateMessageHex)
	}
	var back PrivateMessage
	if err := protobuf.Decode(b, &back); err != nil || back != pm {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, pm)
	}
}

// hw1Packet is GossipPacket as a node that predates private messages has it.
type hw1Packet struct {
	Simple *SimpleMessage
	Rumor  *RumorMessage
	Status *StatusPacket
}

// A node that predates private messages decodes one as a packet with no
// field set, which it drops; a node of today does the same with fields past
// file transfer's 5 and 6 (the course's later steps use 7 and 8).
func TestUnknownFieldDecodesAsEmpty(t *testing.T) {
	b, err := hex.DecodeString(privateHex)
	if err != nil {
		t.Fatal(err)
	}
	var old hw1Packet
	if err := decode(b, &old); err != nil {
		t.Fatalf("a HW1 node fails on a private packet: %v", err)
	}
	if old != (hw1Packet{}) {
		t.Fatalf("a HW1 node decodes a private packet as %+v, want no field set", old)
	}
	for _, b := range [][]byte{
		{0x3a, 0x03, 0x0a, 0x01, 0x41}, // field 7 holding a message
		{0x42, 0x00},                   // field 8, empty
	} {
		p, err := DecodeGossip(b)
		if err != nil {
			t.Fatalf("%x: %v", b, err)
		}
		if *p != (GossipPacket{}) {
			t.Fatalf("%x decodes as %+v, want no field set", b, p)
		}
	}
}

// hw1Message is Message as a client or gossiper that predates Destination
// has it.
type hw1Message struct {
	Text string
}

// A chat post is the same bytes as before Destination, both ways: an old
// client's post reaches a new gossiper as a post, and a new client's post is
// what an old gossiper always read.
func TestClientMessageWithoutDestinationIsUnchanged(t *testing.T) {
	old, err := protobuf.Encode(&hw1Message{Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&Message{Text: "Hello"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != hex.EncodeToString(old) {
		t.Fatalf("a post encodes as %x, before Destination as %x", b, old)
	}
	m, err := DecodeMessage(old)
	if err != nil || !reflect.DeepEqual(*m, Message{Text: "Hello"}) {
		t.Fatalf("an old client's post decodes as %+v, %v", m, err)
	}
}

func TestClientPrivateMessageEncoding(t *testing.T) {
	want := Message{Text: "Hello", Destination: "Bob"}
	b, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, w := hex.EncodeToString(b), "0a0548656c6c6f"+"1203426f62"; got != w {
		t.Fatalf("encoding = %s, want %s", got, w)
	}
	m, err := DecodeMessage(b)
	if err != nil || !reflect.DeepEqual(*m, want) {
		t.Fatalf("decode = %+v, %v", m, err)
	}
}

func TestValidatePrivate(t *testing.T) {
	ok := PrivateMessage{Origin: "A", Text: "hi", Destination: "B", HopLimit: DefaultHopLimit}
	for _, tc := range []struct {
		name  string
		edit  func(*PrivateMessage)
		valid bool
	}{
		{"as sent", func(*PrivateMessage) {}, true},
		{"last hop", func(p *PrivateMessage) { p.HopLimit = 1 }, true},
		{"numbered", func(p *PrivateMessage) { p.ID = 7 }, true},
		{"empty text", func(p *PrivateMessage) { p.Text = "" }, true},
		{"largest text", func(p *PrivateMessage) { p.Text = strings.Repeat("x", MaxTextBytes) }, true},
		{"space in origin", func(p *PrivateMessage) { p.Origin = "two words" }, false},
		{"escape in destination", func(p *PrivateMessage) { p.Destination = "B\x1b[2J" }, false},
		{"hop limit 0", func(p *PrivateMessage) { p.HopLimit = 0 }, false},
		{"no origin", func(p *PrivateMessage) { p.Origin = "" }, false},
		{"no destination", func(p *PrivateMessage) { p.Destination = "" }, false},
		{"long origin", func(p *PrivateMessage) { p.Origin = strings.Repeat("o", MaxNameBytes+1) }, false},
		{"long destination", func(p *PrivateMessage) { p.Destination = strings.Repeat("d", MaxNameBytes+1) }, false},
		{"text too long", func(p *PrivateMessage) { p.Text = strings.Repeat("x", MaxTextBytes+1) }, false},
	} {
		p := ok
		tc.edit(&p)
		if err := ValidatePrivate(&p); (err == nil) != tc.valid {
			t.Errorf("%s: ValidatePrivate = %v, want valid %v", tc.name, err, tc.valid)
		}
	}
}

// The largest private message a node accepts fits one UDP datagram.
func TestLargestPrivateFitsADatagram(t *testing.T) {
	name := strings.Repeat("n", MaxNameBytes)
	p := GossipPacket{Private: &PrivateMessage{Origin: name, ID: 1<<32 - 1, Text: strings.Repeat("x", MaxTextBytes), Destination: name, HopLimit: 1<<32 - 1}}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 65507 {
		t.Fatalf("the largest private packet is %d bytes, more than a UDP datagram holds", len(b))
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid bool
	}{
		{"Alice", true},
		{"élodie-2", true},
		{"节点", true},
		{"a\ufffdb", true}, // the replacement character itself is printable
		{strings.Repeat("n", MaxNameBytes), true},
		{"", false},
		{strings.Repeat("n", MaxNameBytes+1), false},
		{"B from 127.0.0.1:47071 ID 7 contents", false},
		{"tab\there", false},
		{"nbsp\u00a0here", false},
		{"esc\x1b[2J", false},
		{"bell\x07", false},
		{"del\x7f", false},
		{"csi\u009b2J", false},
		{"rtl\u202eevil", false},
		{"isolate\u2066x", false},
		{"line\u2028sep", false},
		{"bad\xffutf8", false},
	} {
		if err := ValidateName(tc.name); (err == nil) != tc.valid {
			t.Errorf("ValidateName(%q) = %v, want valid %v", tc.name, err, tc.valid)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Hello world":                        "Hello world",
		"Weather_is_clear!?":                 "Weather_is_clear!?",
		"back\\slash":                        "back\\slash",
		"été 节点 🙂":                           "été 节点 🙂",
		"two\nlines":                         `two\nlines`,
		"cr\rhere":                           `cr\rhere`,
		"tab\there":                          `tab\there`,
		"title\x1b]0;owned\x07 clear\x1b[2J": `title\x1b]0;owned\x07 clear\x1b[2J`,
		"del\x7f c1\u009b":                   `del\x7f c1\u009b`,
		"rtl\u202eevil":                      `rtl\u202eevil`,
		"bad\xff\xfebytes":                   `bad\xff\xfebytes`,
		"":                                   "",
	} {
		got := Printable(in)
		if got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		for _, b := range []byte(got) {
			if b < 0x20 || b == 0x7f {
				t.Errorf("Printable(%q) left the byte %#x", in, b)
			}
		}
		if !utf8.ValidString(got) {
			t.Errorf("Printable(%q) = %q is not UTF-8", in, got)
		}
	}
}

// A status between two nodes that have not yet shown each other their
// addresses carries a proof after the handout's field; without one, the
// bytes are the handout's (see TestGoldenEncoding).
func TestStatusProofEncoding(t *testing.T) {
	p := GossipPacket{Status: &StatusPacket{Want: []PeerStatus{{"Alice", 4}}, Proof: &AddressProof{Ask: 0x0102030405060708, Echo: 9}}}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = "1a1f" + "0a090a05416c6963651004" + "1212" + "090807060504030201" + "110900000000000000"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding = %s, want %s", got, want)
	}
	back, err := DecodeGossip(b)
	if err != nil || !reflect.DeepEqual(*back, p) {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	// A node that predates the proof decodes the status it carries and
	// skips the rest, as the library skips every unknown field.
	var old struct {
		Simple *SimpleMessage
		Rumor  *RumorMessage
		Status *struct{ Want []PeerStatus }
	}
	if err := protobuf.Decode(b, &old); err != nil || old.Status == nil || !reflect.DeepEqual(old.Status.Want, p.Status.Want) {
		t.Fatalf("an older node decodes %+v, %v", old.Status, err)
	}
}

// A rumor to an address that has not proven itself asks for the token after
// the handout's fields; a node that predates it decodes the rumor alone.
func TestRumorProofEncoding(t *testing.T) {
	p := GossipPacket{Rumor: &RumorMessage{Origin: "Alice", ID: 23, Text: "Hi", Proof: &AddressProof{Ask: 1}}}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = "1221" + "0a05416c6963651017" + "1a024869" + "2212" + "090100000000000000" + "110000000000000000"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding = %s, want %s", got, want)
	}
	var old struct {
		Simple *SimpleMessage
		Rumor  *struct {
			Origin string
			ID     uint32
			Text   string
		}
	}
	if err := protobuf.Decode(b, &old); err != nil || old.Rumor == nil || old.Rumor.Origin != "Alice" || old.Rumor.ID != 23 || old.Rumor.Text != "Hi" {
		t.Fatalf("an older node decodes %+v, %v", old.Rumor, err)
	}
}

func TestSizeIsEncodedLength(t *testing.T) {
	long := strings.Repeat("x", MaxTextBytes)
	name := strings.Repeat("n", MaxNameBytes)
	many := &StatusPacket{}
	for i := range 1000 {
		many.Want = append(many.Want, PeerStatus{Identifier: strings.Repeat("o", i%300), NextID: uint32(i) << (i % 25)})
	}
	for _, p := range []GossipPacket{
		{},
		{Rumor: &RumorMessage{}},
		{Rumor: &RumorMessage{Origin: "A", ID: 1, Text: "hi"}},
		{Rumor: &RumorMessage{Origin: name, ID: 1<<32 - 1, Text: long}},
		{Rumor: &RumorMessage{Origin: "A", ID: 200, Text: strings.Repeat("y", 127)}},
		{Rumor: &RumorMessage{Origin: "A", ID: 200, Text: strings.Repeat("y", 128)}},
		{Rumor: &RumorMessage{Origin: "A", ID: 1, Text: "hi", Proof: &AddressProof{Ask: 5}}},
		{Status: &StatusPacket{}},
		{Status: &StatusPacket{Want: []PeerStatus{{"Alice", 4}}}},
		{Status: &StatusPacket{Want: []PeerStatus{{"Alice", 4}}, Proof: &AddressProof{Ask: 1}}},
		{Status: many},
		{Status: &StatusPacket{Want: many.Want, Proof: &AddressProof{Ask: 1 << 63, Echo: 3}}},
		{Simple: &SimpleMessage{OriginalName: "A", RelayPeerAddr: "127.0.0.1:5000", Contents: long}},
		{Private: &PrivateMessage{Origin: name, Text: long, Destination: name, HopLimit: 1<<32 - 1}},
		{Private: &PrivateMessage{Origin: "A", ID: 7, Text: "", Destination: "B", HopLimit: 10}},
		{DataRequest: &DataRequest{Origin: "A", Destination: "B", HopLimit: 10, HashValue: make([]byte, 32)}},
		{DataReply: &DataReply{Origin: name, Destination: "B", HopLimit: 1, HashValue: make([]byte, 32), Data: make([]byte, MaxDataBytes)}},
		{DataReply: &DataReply{Origin: "A", Destination: "B", HopLimit: 10, HashValue: make([]byte, 32)}},
	} {
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if got := Size(&p); got != len(b) {
			t.Errorf("Size = %d, encoded %d bytes, for %s", got, len(b), describe(&p))
		}
	}
}

func describe(p *GossipPacket) string {
	switch {
	case p.Rumor != nil:
		return "a rumor of " + p.Rumor.Origin[:min(len(p.Rumor.Origin), 8)]
	case p.Status != nil:
		return "a status"
	case p.Simple != nil:
		return "a simple message"
	case p.Private != nil:
		return "a private message"
	}
	return "an empty packet"
}

// The file transfer's packets, written by hand from the protobuf rules as
// privateHex is: field 5 (DataRequest) and 6 (DataReply), every field
// written, the hash as bytes.
func TestGoldenDataPackets(t *testing.T) {
	hash := make([]byte, HashBytes)
	for i := range hash {
		hash[i] = byte(i + 1)
	}
	h := hex.EncodeToString(hash)
	for _, c := range []struct {
		name string
		pkt  GossipPacket
		hex  string
	}{
		{"request", GossipPacket{DataRequest: &DataRequest{Origin: "A", Destination: "B", HopLimit: 10, HashValue: hash}},
			"2a" + "2a" + "0a0141" + "120142" + "180a" + "2220" + h},
		{"reply", GossipPacket{DataReply: &DataReply{Origin: "B", Destination: "A", HopLimit: 10, HashValue: hash, Data: []byte("hi")}},
			"32" + "2e" + "0a0142" + "120141" + "180a" + "2220" + h + "2a026869"},
	} {
		b, err := c.pkt.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != c.hex {
			t.Errorf("%s: encoding = %s, want %s", c.name, got, c.hex)
		}
		back, err := DecodeGossip(b)
		if err != nil || !reflect.DeepEqual(*back, c.pkt) {
			t.Errorf("%s: round trip = %+v, %v", c.name, back, err)
		}
	}
}

func TestValidateDataPackets(t *testing.T) {
	hash := make([]byte, HashBytes)
	okQ := DataRequest{Origin: "A", Destination: "B", HopLimit: 10, HashValue: hash}
	okR := DataReply{Origin: "B", Destination: "A", HopLimit: 10, HashValue: hash, Data: make([]byte, MaxDataBytes)}
	if err := ValidateDataRequest(&okQ); err != nil {
		t.Errorf("a request as sent: %v", err)
	}
	if err := ValidateDataReply(&okR); err != nil {
		t.Errorf("a reply as sent: %v", err)
	}
	for name, q := range map[string]DataRequest{
		"short hash":   {Origin: "A", Destination: "B", HopLimit: 10, HashValue: hash[:31]},
		"no hash":      {Origin: "A", Destination: "B", HopLimit: 10},
		"hop limit 0":  {Origin: "A", Destination: "B", HashValue: hash},
		"bad origin":   {Origin: "A B", Destination: "B", HopLimit: 10, HashValue: hash},
		"no recipient": {Origin: "A", HopLimit: 10, HashValue: hash},
	} {
		if ValidateDataRequest(&q) == nil {
			t.Errorf("request with %s taken", name)
		}
	}
	big := okR
	big.Data = make([]byte, MaxDataBytes+1)
	if ValidateDataReply(&big) == nil {
		t.Error("a reply of more than a chunk taken")
	}
}

// A file command carries every field of Message; a post or a private
// message keeps the bytes it always had (see above).
func TestClientFileCommandEncoding(t *testing.T) {
	for _, want := range []Message{
		{File: "report.pdf"},
		{File: "copy.pdf", Destination: "Bob", Request: bytes.Repeat([]byte{0xab}, HashBytes)},
	} {
		b, err := want.Encode()
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeMessage(b)
		if err != nil || m.File != want.File || m.Destination != want.Destination || !bytes.Equal(m.Request, want.Request) {
			t.Fatalf("decode = %+v, %v; want %+v", m, err, want)
		}
	}
	r := ClientReply{Error: "no such file", MetaHash: []byte{1, 2}}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeClientReply(b)
	if err != nil || back.Error != r.Error || !bytes.Equal(back.MetaHash, r.MetaHash) {
		t.Fatalf("reply round trip = %+v, %v", back, err)
	}
}
