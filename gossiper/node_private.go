package gossiper

// PrivateStore is a Store that also keeps this node's private messages, sent
// and received; forwarded ones never reach it.
type PrivateStore interface {
	// AppendPrivate returns once entries are durable.
	AppendPrivate(entries []PrivateEntry) error
}

// RestorePrivate brings back the private messages an earlier run stored,
// oldest first. Call it before Run.
func (n *Node) RestorePrivate(entries []PrivateEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.core.RestorePrivate(entries)
}

// SendPrivate sends text to the node named dest and returns the message as
// kept. Its error wraps ErrNoRoute when this node knows no next hop towards
// dest.
func (n *Node) SendPrivate(dest, text string) (PrivateEntry, error) {
	var sent PrivateEntry
	err := ErrClosed
	n.do(func(c *Core) Output {
		out, e, serr := c.SendPrivate(dest, text, n.now())
		sent, err = e, serr
		return out
	})
	return sent, err
}

// Routes returns the next hop towards each origin, by origin.
func (n *Node) Routes() []Route {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Routes()
}

// PrivatesSince returns the private messages after the first k ever kept,
// and the count to ask from next time.
func (n *Node) PrivatesSince(k int) ([]PrivateEntry, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.PrivatesSince(k)
}
