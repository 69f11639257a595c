package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// The first byte of every record's payload says what it holds.
const (
	// kindEntry tags a record holding one gossiper.Entry, a rumor.
	kindEntry = 1
	// kindPrivate tags a record holding one gossiper.PrivateEntry, a
	// private message this node sent or received.
	kindPrivate = 2
)

// privateSent is the bit of a private record's flags byte that says this
// node sent the message; the other bits are 0.
const privateSent = 1 << 0

// record is one decoded record: exactly one of its fields is set.
type record struct {
	entry   *gossiper.Entry
	private *gossiper.PrivateEntry
}

// decodeRecord decodes a payload of any kind this version knows; any other
// kind is an error, and load treats it as damage.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, errors.New("empty record")
	}
	switch b[0] {
	case kindEntry:
		e, err := decodeEntry(b)
		return record{entry: &e}, err
	case kindPrivate:
		p, err := decodePrivate(b)
		return record{private: &p}, err
	}
	return record{}, fmt.Errorf("unknown record kind %d", b[0])
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

// fromUnixNano undoes unixNano.
func fromUnixNano(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(v))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader takes a record's fields off its front, in order.
type reader struct {
	rest []byte
	ok   bool
}

func (r *reader) str() string {
	n, k := binary.Uvarint(r.rest)
	if k <= 0 || n > uint64(len(r.rest)-k) {
		r.ok = false
		return ""
	}
	s := string(r.rest[k : k+int(n)])
	r.rest = r.rest[k+int(n):]
	return s
}

// done says every field was there and nothing follows them.
func (r *reader) done() bool { return r.ok && len(r.rest) == 0 }

// The payload of an entry record:
//
//	kind      1 byte (kindEntry)
//	ID        4 bytes, little endian
//	received  8 bytes, Unix nanoseconds (0: none), little endian
//	origin    uvarint length, bytes
//	text      uvarint length, bytes
func encodeEntry(e gossiper.Entry) []byte {
	b := make([]byte, 0, 1+4+8+2*binary.MaxVarintLen64+len(e.Origin)+len(e.Text))
	b = append(b, kindEntry)
	b = binary.LittleEndian.AppendUint32(b, e.ID)
	b = binary.LittleEndian.AppendUint64(b, unixNano(e.Received))
	b = appendString(b, e.Origin)
	return appendString(b, e.Text)
}

func decodeEntry(b []byte) (gossiper.Entry, error) {
	if len(b) < 13 || b[0] != kindEntry {
		return gossiper.Entry{}, errors.New("not an entry record")
	}
	e := gossiper.Entry{
		ID:       binary.LittleEndian.Uint32(b[1:5]),
		Received: fromUnixNano(binary.LittleEndian.Uint64(b[5:13])),
	}
	r := reader{rest: b[13:], ok: true}
	e.Origin = r.str()
	e.Text = r.str()
	if !r.done() {
		return gossiper.Entry{}, errors.New("malformed entry record")
	}
	return e, nil
}

// The payload of a private record:
//
//	kind         1 byte (kindPrivate)
//	flags        1 byte: bit 0 set if this node sent it (Sent)
//	hop limit    4 bytes, little endian
//	at           8 bytes, Unix nanoseconds (0: none), little endian
//	origin       uvarint length, bytes
//	destination  uvarint length, bytes
//	text         uvarint length, bytes
func encodePrivate(p gossiper.PrivateEntry) []byte {
	b := make([]byte, 0, 1+1+4+8+3*binary.MaxVarintLen64+len(p.Origin)+len(p.Destination)+len(p.Text))
	var flags byte
	if p.Sent {
		flags |= privateSent
	}
	b = append(b, kindPrivate, flags)
	b = binary.LittleEndian.AppendUint32(b, p.HopLimit)
	b = binary.LittleEndian.AppendUint64(b, unixNano(p.At))
	b = appendString(b, p.Origin)
	b = appendString(b, p.Destination)
	return appendString(b, p.Text)
}

func decodePrivate(b []byte) (gossiper.PrivateEntry, error) {
	if len(b) < 14 || b[0] != kindPrivate {
		return gossiper.PrivateEntry{}, errors.New("not a private record")
	}
	if b[1]&^privateSent != 0 {
		return gossiper.PrivateEntry{}, fmt.Errorf("private record with unknown flags %#x", b[1])
	}
	p := gossiper.PrivateEntry{
		Sent:     b[1]&privateSent != 0,
		HopLimit: binary.LittleEndian.Uint32(b[2:6]),
		At:       fromUnixNano(binary.LittleEndian.Uint64(b[6:14])),
	}
	r := reader{rest: b[14:], ok: true}
	p.Origin = r.str()
	p.Destination = r.str()
	p.Text = r.str()
	if !r.done() {
		return gossiper.PrivateEntry{}, errors.New("malformed private record")
	}
	return p, nil
}
