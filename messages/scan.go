package messages

import "encoding/binary"

// StatusEntries counts, without decoding the packet, the entries of the
// status a gossip packet's bytes carry: the protobuf wire form of field 3
// (Status) and, inside it, field 1 (Want). Decoding a status reflects on
// every entry, so a node under a flood spends most of its time on oversized
// ones; counting first lets it drop them for the price of a scan. ok is false
// when the bytes are not a well-formed protobuf message, which the decoder
// then refuses on its own.
func StatusEntries(b []byte) (n int, ok bool) {
	for len(b) > 0 {
		field, body, rest, ok := nextField(b)
		if !ok {
			return 0, false
		}
		if field == 3<<3|2 {
			for len(body) > 0 {
				f, _, r, ok := nextField(body)
				if !ok {
					return 0, false
				}
				if f == 1<<3|2 {
					n++
				}
				body = r
			}
		}
		b = rest
	}
	return n, true
}

// nextField splits the first field off protobuf bytes: its tag (field number
// and wire type), its payload when length-delimited, and what follows.
func nextField(b []byte) (tag uint64, body, rest []byte, ok bool) {
	tag, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, nil, false
	}
	b = b[k:]
	switch tag & 7 {
	case 0:
		if _, k = binary.Uvarint(b); k <= 0 {
			return 0, nil, nil, false
		}
		return tag, nil, b[k:], true
	case 1:
		if len(b) < 8 {
			return 0, nil, nil, false
		}
		return tag, nil, b[8:], true
	case 2:
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return 0, nil, nil, false
		}
		return tag, b[k : k+int(size)], b[k+int(size):], true
	case 5:
		if len(b) < 4 {
			return 0, nil, nil, false
		}
		return tag, nil, b[4:], true
	}
	return 0, nil, nil, false
}
