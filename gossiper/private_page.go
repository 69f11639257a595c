package gossiper

// NumberedPrivate is a private message kept for the user with its Seq: its
// place, from 1, in the order this node kept private messages. A Seq is never
// reused while the node runs, so it is a cursor for reading them a page at a
// time; the oldest are forgotten past maxPrivateKept, and their numbers with
// them.
type NumberedPrivate struct {
	PrivateEntry
	Seq uint64
}

// privateWeight is what a private message weighs in a page.
func privateWeight(e PrivateEntry) int { return len(e.Origin) + len(e.Destination) + len(e.Text) }

// PrivatesAfter returns, oldest first, the private messages kept after the
// one numbered seq (0: from the first), at most limit of them and, beyond the
// first, at most maxBytes of origin, destination and text; more tells whether
// later ones remain.
func (c *Core) PrivatesAfter(seq uint64, limit, maxBytes int) (entries []NumberedPrivate, more bool) {
	base := uint64(c.privateBase)
	i := 0
	if seq > base {
		i = int(min(seq-base, uint64(len(c.privates))))
	}
	size := 0
	for j := i; j < len(c.privates) && j-i < limit; j++ {
		size += privateWeight(c.privates[j])
		if j > i && size > maxBytes {
			break
		}
		entries = append(entries, NumberedPrivate{PrivateEntry: c.privates[j], Seq: base + uint64(j) + 1})
	}
	return entries, i+len(entries) < len(c.privates)
}

// PrivatesBefore returns, oldest first, the newest private messages kept
// before the one numbered seq (0: the newest of all) and, unless with is
// empty, of the conversation with that name only, within the bounds of
// PrivatesAfter; more tells whether older ones of that conversation remain.
// It reads back from seq rather than copying the conversation, so that a
// page costs its own size whatever the node keeps.
func (c *Core) PrivatesBefore(seq uint64, with string, limit, maxBytes int) (entries []NumberedPrivate, more bool) {
	base := uint64(c.privateBase)
	j := len(c.privates)
	if seq > 0 {
		j = int(min(max(seq, base+1)-base-1, uint64(len(c.privates))))
	}
	size := 0
	i := j - 1
	for ; i >= 0 && len(entries) < limit; i-- {
		e := c.privates[i]
		if with != "" && e.With() != with {
			continue
		}
		size += privateWeight(e)
		if len(entries) > 0 && size > maxBytes {
			break
		}
		entries = append(entries, NumberedPrivate{PrivateEntry: e, Seq: base + uint64(i) + 1})
	}
	for ; i >= 0; i-- {
		if with == "" || c.privates[i].With() == with {
			more = true
			break
		}
	}
	for a, b := 0, len(entries)-1; a < b; a, b = a+1, b-1 {
		entries[a], entries[b] = entries[b], entries[a]
	}
	return entries, more
}
