package messages

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a node accepts, sized so that a rumor or a private message
// always fits one UDP datagram: 65,507 bytes is the largest IPv4 UDP payload,
// a rumor adds at most MaxNameBytes plus a dozen bytes of framing to its
// text, a private message twice MaxNameBytes plus some two dozen bytes.
const (
	MaxTextBytes  = 60000
	MaxNameBytes  = 256
	MaxPacketSize = 65536
)

// DefaultHopLimit is the HopLimit a private message starts with, the value
// other Peerster implementations use: a message to a direct neighbour
// arrives with 10, and one can cross at most nine nodes on its way.
const DefaultHopLimit = 10

// ValidateName says what is wrong with a name, or returns nil. Names are
// printed in space-separated stdout lines that graders and users read
// field by field, so a name holds no white space, which would let it forge
// fields ("B from 127.0.0.1:5001 ID 7"), and no character that drives or
// reorders a terminal (see Unprintable). Every entry checks names with it:
// the flags, the client, the page, and every name that arrives on the wire.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("name is empty")
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("name is %d bytes, more than %d", len(name), MaxNameBytes)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	if i := strings.IndexFunc(name, unicode.IsSpace); i >= 0 {
		return fmt.Errorf("name %q contains white space", name)
	}
	if i := strings.IndexFunc(name, Unprintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("name %q contains the control character %U", name, r)
	}
	return nil
}

// Unprintable reports whether r must not reach a terminal as it is: the
// C0 and C1 controls and DEL (escape sequences, bells, carriage returns),
// the line and paragraph separators, and the bidirectional controls, which
// make a line read in another order than it was written.
func Unprintable(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Printable returns s as it may be written on one stdout line: every
// character Unprintable holds, and every byte that is not UTF-8, written
// escaped as Go writes it (\n, \x1b, \u202e, \xff). Ordinary text, tabs
// aside, comes back unchanged.
func Printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !Unprintable(r):
			b.WriteString(s[i : i+size])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// ValidateText says what is wrong with a chat message's text, or returns nil.
func ValidateText(text string) error {
	if text == "" {
		return fmt.Errorf("message is empty")
	}
	if len(text) > MaxTextBytes {
		return fmt.Errorf("message is %d bytes, more than the limit of %d", len(text), MaxTextBytes)
	}
	return nil
}

// ValidatePrivate says what is wrong with a private message a node received,
// or returns nil: both names as ValidateName wants them, the text at most
// MaxTextBytes. A hop limit of 0 cannot arrive, since the node before would
// have dropped the message. The ID is not checked: it carries nothing, and
// other implementations may not leave it 0.
func ValidatePrivate(p *PrivateMessage) error {
	for _, n := range []struct{ field, name string }{{"origin", p.Origin}, {"destination", p.Destination}} {
		if err := ValidateName(n.name); err != nil {
			return fmt.Errorf("%s: %w", n.field, err)
		}
	}
	if len(p.Text) > MaxTextBytes {
		return fmt.Errorf("text is %d bytes, more than the limit of %d", len(p.Text), MaxTextBytes)
	}
	if p.HopLimit == 0 {
		return fmt.Errorf("hop limit is 0")
	}
	return nil
}

// ParseAddr checks that s is a literal "ip:port" with a port in 1..65535 and
// returns it in the canonical form used in peer lists and stdout lines.
func ParseAddr(s string) (string, error) {
	ap, err := netip.ParseAddrPort(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not an ip:port address", s)
	}
	if ap.Port() == 0 {
		return "", fmt.Errorf("%q has port 0; a port must be 1-65535", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
}

// MaxDataBytes is the most a DataReply carries: a chunk, or a metafile of
// 256 hashes, both 8 KiB.
const MaxDataBytes = 8192

// HashBytes is the size of a SHA-256, the only hash the protocol uses.
const HashBytes = 32

// ValidateDataRequest says what is wrong with a data request a node
// received, or returns nil.
func ValidateDataRequest(q *DataRequest) error {
	return validateRouted(q.Origin, q.Destination, q.HopLimit, q.HashValue)
}

// ValidateDataReply says what is wrong with a data reply a node received,
// or returns nil. Its Data is checked against HashValue only by the node
// that asked: a node on the way passes it on.
func ValidateDataReply(r *DataReply) error {
	if err := validateRouted(r.Origin, r.Destination, r.HopLimit, r.HashValue); err != nil {
		return err
	}
	if len(r.Data) > MaxDataBytes {
		return fmt.Errorf("data is %d bytes, more than the %d of a chunk or a metafile", len(r.Data), MaxDataBytes)
	}
	return nil
}

func validateRouted(origin, destination string, hopLimit uint32, hash []byte) error {
	for _, n := range []struct{ field, name string }{{"origin", origin}, {"destination", destination}} {
		if err := ValidateName(n.name); err != nil {
			return fmt.Errorf("%s: %w", n.field, err)
		}
	}
	if len(hash) != HashBytes {
		return fmt.Errorf("hash is %d bytes, not the %d of a SHA-256", len(hash), HashBytes)
	}
	if hopLimit == 0 {
		return fmt.Errorf("hop limit is 0")
	}
	return nil
}
