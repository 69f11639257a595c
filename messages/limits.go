package messages

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
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
// printed in space-separated stdout lines, so they may hold no white space.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("name is empty")
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("name is %d bytes, more than %d", len(name), MaxNameBytes)
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("name %q contains white space", name)
	}
	return nil
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
// or returns nil. It is as lenient as a node is with the rumors of other
// implementations: names need only be non-empty and at most MaxNameBytes
// (white space is the printer's problem), the text at most MaxTextBytes. A
// hop limit of 0 cannot arrive, since the node before would have dropped the
// message. The ID is not checked: it carries nothing, and other
// implementations may not leave it 0.
func ValidatePrivate(p *PrivateMessage) error {
	for _, n := range []struct{ field, name string }{{"origin", p.Origin}, {"destination", p.Destination}} {
		if n.name == "" {
			return fmt.Errorf("%s is empty", n.field)
		}
		if len(n.name) > MaxNameBytes {
			return fmt.Errorf("%s is %d bytes, more than %d", n.field, len(n.name), MaxNameBytes)
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
