package messages

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// Limits on what a node accepts, sized so that a rumor always fits one UDP
// datagram: 65,507 bytes is the largest IPv4 UDP payload, and a rumor adds at
// most MaxNameBytes plus a dozen bytes of framing to its text.
const (
	MaxTextBytes  = 60000
	MaxNameBytes  = 256
	MaxPacketSize = 65536
)

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
