package gossiper

// PrivatesAfter returns, oldest first, the private messages kept after the
// one numbered seq (0: from the first), at most limit of them and, beyond the
// first, at most maxBytes of origin, destination and text; more tells whether
// later ones remain.
func (n *Node) PrivatesAfter(seq uint64, limit, maxBytes int) (entries []NumberedPrivate, more bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.PrivatesAfter(seq, limit, maxBytes)
}

// PrivatesBefore returns, oldest first, the newest private messages kept
// before the one numbered seq (0: the newest of all), of the conversation
// with that name unless with is empty, within the bounds of PrivatesAfter;
// more tells whether older ones of that conversation remain.
func (n *Node) PrivatesBefore(seq uint64, with string, limit, maxBytes int) (entries []NumberedPrivate, more bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.PrivatesBefore(seq, with, limit, maxBytes)
}
