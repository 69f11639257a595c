package messages

// Size is the length of p's wire form, as Encode would write it, computed
// without encoding: a node checks its byte budgets before it decides to
// send, many times per datagram. TestSizeIsEncodedLength holds it to the
// encoder.
func Size(p *GossipPacket) int {
	n := 0
	if m := p.Simple; m != nil {
		n += embedded(stringField(m.OriginalName) + stringField(m.RelayPeerAddr) + stringField(m.Contents))
	}
	if r := p.Rumor; r != nil {
		n += embedded(rumorSize(r))
	}
	if s := p.Status; s != nil {
		n += embedded(statusSize(s))
	}
	if m := p.Private; m != nil {
		n += embedded(stringField(m.Origin) + uintField(uint64(m.ID)) + stringField(m.Text) +
			stringField(m.Destination) + uintField(uint64(m.HopLimit)))
	}
	if q := p.DataRequest; q != nil {
		n += embedded(stringField(q.Origin) + stringField(q.Destination) + uintField(uint64(q.HopLimit)) + bytesField(len(q.HashValue)))
	}
	if r := p.DataReply; r != nil {
		n += embedded(DataReplySize(r, len(r.Data)))
	}
	return n
}

// DataReplySize is what a reply with a Data of n bytes adds to a packet
// beside its own tag and length: a node knows what it will send before it
// reads the bytes from disk.
func DataReplySize(r *DataReply, n int) int {
	return stringField(r.Origin) + stringField(r.Destination) + uintField(uint64(r.HopLimit)) +
		bytesField(len(r.HashValue)) + bytesField(n)
}

// EmbeddedSize is what a field of n bytes adds to its packet: its tag,
// its length and the bytes.
func EmbeddedSize(n int) int { return embedded(n) }

func rumorSize(r *RumorMessage) int {
	n := stringField(r.Origin) + uintField(uint64(r.ID)) + stringField(r.Text)
	if r.Proof != nil {
		n += embedded(proofSize)
	}
	return n
}

// proofSize is an AddressProof's: two fixed 64-bit fields with their tags.
const proofSize = 2 * (1 + 8)

func statusSize(s *StatusPacket) int {
	n := 0
	for _, w := range s.Want {
		n += embedded(StatusEntrySize(w.Identifier, w.NextID))
	}
	if s.Proof != nil {
		n += embedded(proofSize)
	}
	return n
}

// StatusEntrySize is what an entry adds to a status, beside its own tag and
// length: the name and the ID, each with its tag.
func StatusEntrySize(origin string, next uint32) int {
	return stringField(origin) + uintField(uint64(next))
}

// The structs' field numbers stay below 16, so every tag is one byte.
func stringField(s string) int { return 1 + uvarintSize(uint64(len(s))) + len(s) }
func bytesField(n int) int     { return 1 + uvarintSize(uint64(n)) + n }
func uintField(v uint64) int   { return 1 + uvarintSize(v) }
func embedded(n int) int       { return 1 + uvarintSize(uint64(n)) + n }

func uvarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
