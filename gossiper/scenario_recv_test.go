package gossiper

// The scenarios' packets: recv, which reads one, and the rendering of the
// packets the node sends, in the same syntax (testdata/scenarios/README).
// The data request and reply parts are in scenario_files_test.go.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

// recv hands the node a datagram from an address.
func (s *scenario) recv(args []token) (result, error) {
	var r result
	if len(args) < 2 {
		return r, errors.New("recv takes an address and a packet")
	}
	// The token the node asks of an address is a hash of its secret and
	// the address: a transcript writes echo=token, not the number.
	for i, a := range args {
		if a.s == "echo=token" && !a.quoted {
			args[i].s = fmt.Sprintf("echo=%d", s.core.sources.get(args[0].s, s.core, s.now).token)
		}
	}
	b, err := s.datagram(args[1:])
	if err != nil {
		return r, err
	}
	r.out = s.core.Datagram(args[0].s, b, s.now)
	return r, nil
}

// datagram builds the bytes of a recv command's packet: raw bytes, a status
// of a given size, an empty packet, or parts that each set one field.
func (s *scenario) datagram(args []token) ([]byte, error) {
	switch {
	case args[0].s == "bytes" && !args[0].quoted:
		return rawBytes(args[1:])
	case len(args) == 2 && args[0].s == "status" && strings.HasPrefix(args[1].s, "size="):
		n, err := strconv.Atoi(strings.TrimPrefix(args[1].s, "size="))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad status size %q", args[1].s)
		}
		return fuzzseed.StatusOfSize(s.t, n), nil
	case len(args) == 1 && args[0].s == "empty" && !args[0].quoted:
		return (&messages.GossipPacket{}).Encode()
	}
	p := &messages.GossipPacket{}
	for len(args) > 0 {
		kind := args[0]
		parse := packetPart(kind.s)
		if kind.quoted || parse == nil {
			return nil, fmt.Errorf("expected rumor, status, simple, private, datarequest or datareply, got %q", kind.s)
		}
		rest, err := parse(s, p, args[1:])
		if err != nil {
			return nil, err
		}
		args = rest
	}
	return p.Encode()
}

// partParser sets the field of p that one part of a packet names, from the
// words after its keyword, and returns the words it left.
type partParser func(s *scenario, p *messages.GossipPacket, args []token) ([]token, error)

// packetPart is the parser of a part's keyword, nil for a word that starts
// no part.
func packetPart(kind string) partParser {
	switch kind {
	case "rumor":
		return rumorPart
	case "status":
		return statusPart
	case "simple":
		return simplePart
	case "private":
		return privatePart
	case "datarequest", "datareply":
		return func(s *scenario, p *messages.GossipPacket, args []token) ([]token, error) {
			return s.dataPart(p, kind, args)
		}
	}
	return nil
}

// isPart says a word starts a part: where the words of a part with no
// fixed length end.
func isPart(s string) bool { return packetPart(s) != nil }

// rumorPart parses origin/ID "text".
func rumorPart(_ *scenario, p *messages.GossipPacket, args []token) ([]token, error) {
	if len(args) < 2 || p.Rumor != nil {
		return nil, errors.New("a packet holds one rumor: origin/ID and a text")
	}
	i := strings.LastIndexByte(args[0].s, '/')
	id, err := strconv.ParseUint(args[0].s[i+1:], 10, 32)
	if i < 0 || err != nil {
		return nil, fmt.Errorf("bad rumor origin/ID %q", args[0].s)
	}
	p.Rumor = fuzzseed.Rumor(args[0].s[:i], uint32(id), args[1].s).Rumor
	return args[2:], nil
}

// statusPart parses origin:nextID pairs, and ask=N and echo=N for the
// status's proof, up to the next part.
func statusPart(_ *scenario, p *messages.GossipPacket, args []token) ([]token, error) {
	if p.Status != nil {
		return nil, errors.New("a packet holds one status")
	}
	var pairs []any
	var proof messages.AddressProof
	for ; len(args) > 0 && (args[0].quoted || !isPart(args[0].s)); args = args[1:] {
		ok, err := proofWord(args[0], &proof)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		i := strings.LastIndexByte(args[0].s, ':')
		next, err := strconv.ParseUint(args[0].s[i+1:], 10, 32)
		if i < 0 || err != nil {
			return nil, fmt.Errorf("bad status entry %q", args[0].s)
		}
		pairs = append(pairs, args[0].s[:i], int(next))
	}
	p.Status = fuzzseed.Status(pairs...).Status
	if proof != (messages.AddressProof{}) {
		p.Status.Proof = &proof
	}
	return args, nil
}

// proofWord reads ask=N or echo=N into proof; ok is false for another word.
func proofWord(a token, proof *messages.AddressProof) (ok bool, err error) {
	k, v, found := strings.Cut(a.s, "=")
	if !found || a.quoted || (k != "ask" && k != "echo") {
		return false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return true, fmt.Errorf("bad %s token %q", k, v)
	}
	if k == "ask" {
		proof.Ask = protobuf.Ufixed64(n)
	} else {
		proof.Echo = protobuf.Ufixed64(n)
	}
	return true, nil
}

// simplePart parses [origin=B] [relay=ADDR] "text".
func simplePart(_ *scenario, p *messages.GossipPacket, args []token) ([]token, error) {
	if p.Simple != nil {
		return nil, errors.New("a packet holds one simple message")
	}
	var origin, relay string
fields:
	for ; len(args) > 0; args = args[1:] {
		k, v, ok := strings.Cut(args[0].s, "=")
		switch {
		case ok && !args[0].quoted && k == "origin":
			origin = v
		case ok && !args[0].quoted && k == "relay":
			relay = v
		default:
			break fields
		}
	}
	if len(args) == 0 {
		return nil, errors.New("a simple message needs a text")
	}
	p.Simple = fuzzseed.Simple(origin, relay, args[0].s).Simple
	return args[1:], nil
}

// privatePart parses origin=A dest=B hop=10 [id=N] "text".
func privatePart(_ *scenario, p *messages.GossipPacket, args []token) ([]token, error) {
	if p.Private != nil {
		return nil, errors.New("a packet holds one private message")
	}
	pm := &messages.PrivateMessage{}
	for ; len(args) > 0 && !args[0].quoted; args = args[1:] {
		k, v, ok := strings.Cut(args[0].s, "=")
		if !ok {
			break
		}
		switch k {
		case "origin":
			pm.Origin = v
		case "dest":
			pm.Destination = v
		case "hop", "id":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("bad %s %q", k, v)
			}
			if k == "hop" {
				pm.HopLimit = uint32(n)
			} else {
				pm.ID = uint32(n)
			}
		default:
			return nil, fmt.Errorf("unknown private field %q", k)
		}
	}
	if len(args) == 0 {
		return nil, errors.New("a private message needs a text")
	}
	pm.Text = args[0].s
	p.Private = pm
	return args[1:], nil
}

// rawBytes reads hex words, each maybe a chunk*N.
func rawBytes(args []token) ([]byte, error) {
	var b []byte
	for _, a := range args {
		chunk, reps, err := repeated(a.s)
		if err != nil {
			return nil, err
		}
		h, err := hexBytes(chunk)
		if err != nil {
			return nil, err
		}
		for range reps {
			b = append(b, h...)
		}
	}
	return b, nil
}

// repeated splits "chunk*N" into the chunk and N (1 without a star).
func repeated(s string) (string, int, error) {
	chunk, n, ok := strings.Cut(s, "*")
	if !ok {
		return s, 1, nil
	}
	reps, err := strconv.Atoi(n)
	if err != nil || reps < 0 {
		return "", 0, fmt.Errorf("bad repeat count in %q", s)
	}
	return chunk, reps, nil
}

func hexBytes(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("odd number of hex digits in %q", s)
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad hex %q", s)
		}
		b[i] = byte(v)
	}
	return b, nil
}

// packet renders a packet in the syntax recv reads.
func (s *scenario) packet(p *messages.GossipPacket) string {
	var parts []string
	if m := p.Simple; m != nil {
		parts = append(parts, fmt.Sprintf("simple origin=%s relay=%s %s", word(m.OriginalName), word(m.RelayPeerAddr), quote(m.Contents)))
	}
	if r := p.Rumor; r != nil {
		parts = append(parts, fmt.Sprintf("rumor %s/%d %s", word(r.Origin), r.ID, quote(r.Text))+proofText(r.Proof))
	}
	if st := p.Status; st != nil {
		parts = append(parts, statusText(st.Want)+proofText(st.Proof))
	}
	if m := p.Private; m != nil {
		part := fmt.Sprintf("private origin=%s dest=%s hop=%d", word(m.Origin), word(m.Destination), m.HopLimit)
		if m.ID != 0 {
			part += fmt.Sprintf(" id=%d", m.ID)
		}
		parts = append(parts, part+" "+quote(m.Text))
	}
	parts = append(parts, s.dataParts(p)...)
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, " ")
}

// proofText renders a proof: "ask" when it asks for a token (its value is
// the node's secret), and the token it sends back.
func proofText(pr *messages.AddressProof) string {
	s := ""
	if pr != nil && pr.Ask != 0 {
		s += " ask"
	}
	if pr != nil && pr.Echo != 0 {
		s += fmt.Sprintf(" echo=%d", pr.Echo)
	}
	return s
}

// statusText renders a status; one of more than 16 entries shows the first
// four and the last, and how many there are.
func statusText(want []messages.PeerStatus) string {
	var b strings.Builder
	b.WriteString("status")
	for i, w := range want {
		if len(want) > 16 && i >= 4 && i < len(want)-1 {
			if i == 4 {
				b.WriteString(" ...")
			}
			continue
		}
		fmt.Fprintf(&b, " %s:%d", word(w.Identifier), w.NextID)
	}
	if len(want) > 16 {
		fmt.Fprintf(&b, " (%d entries)", len(want))
	}
	return b.String()
}
