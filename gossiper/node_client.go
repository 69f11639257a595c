package gossiper

import (
	"bytes"
	"net"
	"time"

	"github.com/peerster/Peerster/messages"
)

// Our client marks every message it sends with messages.ClientMark and
// waits for the gossiper's answer, a ClientReply: sent (the chat message's
// origin and ID, or the private message's next hop) or refused (why). A
// message without the mark, from another implementation's client or an
// older one, gets no answer but to a file command, as before.

// clientMessage carries out a chat or private message from our client and
// answers it, once its lines are printed and its packets sent.
func (n *Node) clientMessage(conn net.PacketConn, from net.Addr, m *messages.Message) {
	r := n.takeClientMessage(m)
	if r.Error != "" {
		n.log.Warn("client message refused", "from", from.String(), "err", r.Error)
	}
	answerClient(conn, from, &r)
}

// takeClientMessage hands m to the Core, as ClientDatagram does, and says
// what came of it.
func (n *Node) takeClientMessage(m *messages.Message) messages.ClientReply {
	r := messages.ClientReply{Error: ErrClosed.Error()}
	n.do(func(c *Core) Output {
		now := n.now()
		var out Output
		var err error
		r = messages.ClientReply{}
		if m.Destination != "" {
			out, _, err = c.SendPrivate(m.Destination, m.Text, now)
			r.NextHop = privateHop(out)
		} else {
			var p Posted
			out, p, err = c.Client(m.Text, now)
			// A post waiting for the node's earlier messages (recovery.go)
			// has no ID yet, as in simple mode, which numbers none.
			r.Origin, r.ID, r.Queued = p.Origin, p.ID, p.ID == 0 && !n.cfg.Simple
		}
		if err != nil {
			c.drop("client-invalid")
			r = messages.ClientReply{Error: err.Error()}
		}
		return out
	})
	return r
}

// privateHop is the address the private message of out goes to.
func privateHop(out Output) string {
	for _, s := range out.Sends {
		if s.Packet.Private != nil {
			return s.To
		}
	}
	return ""
}

// answerClient sends r to the client at from through the UI port.
func answerClient(conn net.PacketConn, from net.Addr, r *messages.ClientReply) {
	if b, err := r.Encode(); err == nil {
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.WriteTo(b, from)
	}
}

// clientMark is how every datagram of our client ends: its Client field is
// last, and a string's bytes end its field.
var clientMark = []byte(messages.ClientMark)

// answerMisdirected answers b, a datagram the gossip port dropped, if it is
// a message of our client given the gossip port instead of the UI port:
// the client then says so and fails, instead of waiting for an answer and
// taking the silence for a gossiper of another implementation. Real gossip
// never gets here, and a dropped datagram costs a look at its last bytes
// unless it ends with the mark. Only loopback addresses are answered, as
// only a client on this machine sends to them, and the answer is never
// larger than b (it holds GossipPort alone), so that no one can make the
// node send an address more than they sent in its name; the Core's rate
// per address applies, since a datagram it refused for it is not answered.
func (n *Node) answerMisdirected(from string, b []byte) {
	if !bytes.HasSuffix(b, clientMark) || !isLoopback(from) {
		return
	}
	m, err := messages.DecodeMessage(b)
	if err != nil || m.Client != messages.ClientMark {
		return
	}
	answer, err := (&messages.ClientReply{GossipPort: true}).Encode()
	if err != nil || len(answer) > len(b) {
		return
	}
	if err := n.tr.WriteTo(answer, from); err != nil {
		n.log.Debug("answering a client on the gossip port failed", "to", from, "err", err)
		return
	}
	n.log.Debug("a client sent its message to the gossip port; told it to give the UI port", "from", from)
}

// isLoopback reports whether addr, "ip:port", is on a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
