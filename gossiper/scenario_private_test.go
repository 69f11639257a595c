package gossiper

// The scenarios' private messages and routes: private, route and
// unreachable (testdata/scenarios/README). The private packet part is read
// with the other packets, in scenario_recv_test.go.

import (
	"errors"
	"fmt"
)

// private sends a private message of the local user.
func (s *scenario) private(args []token) (result, error) {
	var r result
	if len(args) != 2 {
		return r, errors.New("private takes a destination and a text")
	}
	r.out, _, r.err = s.core.SendPrivate(args[0].s, args[1].s, s.now)
	return r, nil
}

// route is the route-rumor timer (-rtimer).
func (s *scenario) route(args []token) (result, error) {
	if len(args) != 0 {
		return result{}, errors.New("route takes no arguments")
	}
	return result{out: s.core.RouteRumor(s.now)}, nil
}

// unreachable is the network's report that a datagram sent to the address
// found no socket there.
func (s *scenario) unreachable(args []token) (result, error) {
	if len(args) != 1 {
		return result{}, errors.New("unreachable takes an address")
	}
	return result{out: s.core.Unreachable([]string{args[0].s}, s.now)}, nil
}

// privateText renders a private message the node keeps, in keep lines and
// show private.
func privateText(e PrivateEntry) string {
	dir := "from"
	if e.Sent {
		dir = "to"
	}
	return fmt.Sprintf("%s %s %s->%s hop=%d %s", dir, word(e.With()), word(e.Origin), word(e.Destination), e.HopLimit, quote(e.Text))
}
