package gossiper

import "time"

// origin is what a node keeps of one origin its status lists: the texts of
// its messages, to send to peers that lack them.
type origin struct {
	name string
	// base counts the messages that are counted in the status but no
	// longer held: forgotten under the memory budget, or, for an origin
	// that was evicted and came back, before it left.
	base  uint32
	texts []string // the texts of base+1, base+2, ...
	// weight is what texts charge the texts' budget.
	weight int
	// chats counts its chat messages taken (route rumors carry none).
	chats int
	// owner is who brought its first message: the source address if it
	// was proven then, unprovenOwner if not, restoredOwner for one read
	// from the data folder, "" for this node's own.
	owner string
	// heard is when it last brought a message.
	heard time.Time
}

func (o *origin) next() uint32 { return o.base + uint32(len(o.texts)) + 1 }

// text returns the text of message id, if the node holds it.
func (o *origin) text(id uint32) (string, bool) {
	if id <= o.base || id >= o.next() {
		return "", false
	}
	return o.texts[id-o.base-1], true
}

// textCost is what one held text weighs beside its bytes: the slot in texts.
const textCost = 16

// The room: a node lists in its status every origin it keeps, and a status
// travels in one datagram, so it keeps at most MaxOrigins origins whose
// entries fit maxStatusBytes. Strangers can invent origins without end, so
// when the room is full a new origin takes the place of one kept, chosen on
// purpose:
//
//   - The room is shared fairly between whoever brought the origins: a
//     source that holds less than an even share of it takes the place of
//     one of the source that holds the most; a source at or above its share
//     only replaces its own. Addresses that have not proven themselves
//     (sources.go) share one owner, so a stranger gains nothing by sending
//     from many addresses, and they may bring newOriginsPerSource new
//     origins a second each, newOriginsUnproven all together.
//   - Within the source, the origin that carried no chat goes before one
//     that did, and the one not heard from for longest before the others.
//   - This node's own names are never evicted.
//
// An evicted origin leaves a tombstone with its next ID: its older rumors,
// which peers still offer, are dropped without an answer (an answer would
// make them offer it again and again), and it comes back, if there is room,
// with the next new one, the ones before counted as forgotten.
const (
	// unprovenOwner owns the origins that addresses without proof brought,
	// restoredOwner those read back from the data folder.
	unprovenOwner = "(unproven)"
	restoredOwner = "(restored)"
	// newOriginsPerSource and newOriginsUnproven are the rates (a second,
	// with bursts of twice that) at which unproven addresses may bring new
	// origins, each and together.
	newOriginsPerSource = 16
	newOriginsUnproven  = 64
	// maxTombstones caps the evicted origins remembered.
	maxTombstones = 4096
)

// listed returns the origin of that name the status lists, or nil.
func (c *Core) listed(name string) *origin { return c.byName[name] }

// next is the next ID of name: past what the node holds or counts of it.
func (c *Core) next(name string) uint32 {
	if o := c.byName[name]; o != nil {
		return o.next()
	}
	if n, ok := c.tombstones[name]; ok {
		return n
	}
	return 1
}

// protected reports whether name is this node's own, which it never
// evicts or forgets first.
func (c *Core) protected(name string) bool { return name == c.name || c.ownNames[name] }

// ownerOf is who brings an origin first heard from the peer at from.
func (c *Core) ownerOf(from string) string {
	if c.proven(from) {
		return from
	}
	return unprovenOwner
}

// fits reports whether the room has space for name without evicting.
// Room for this node's own name is kept aside until it has messages.
func (c *Core) fits(name string) string {
	origins, bytes := len(c.origins)+1, c.statusBytes+statusEntryBytes(name)
	if c.byName[c.name] == nil && name != c.name {
		origins, bytes = origins+1, bytes+statusEntryBytes(c.name)
	}
	switch {
	case origins > MaxOrigins:
		return "too-many-origins"
	case bytes > maxStatusBytes:
		return "status-full"
	}
	return ""
}

// admit lists name, brought by owner (from, the peer, for unprovenOwner),
// making room if it must. It returns the origin, or the reason it was
// refused.
func (c *Core) admit(name, owner, from string, now time.Time) (*origin, string) {
	if owner == unprovenOwner {
		r := c.sources.get(from, c, now)
		if !r.newOrigins.available(1, newOriginsPerSource, now) ||
			!c.newUnproven.available(1, newOriginsUnproven, now) {
			return nil, "origin-rate"
		}
	}
	for reason := c.fits(name); reason != ""; reason = c.fits(name) {
		victim := c.victim(owner)
		if victim == nil {
			return nil, reason
		}
		c.evict(victim)
	}
	if owner == unprovenOwner {
		c.sources.get(from, c, now).newOrigins.take(1, newOriginsPerSource, now)
		c.newUnproven.take(1, newOriginsUnproven, now)
	}
	o := &origin{name: name, owner: owner, heard: now}
	if n, gone := c.tombstones[name]; gone {
		o.base = n - 1
		delete(c.tombstones, name)
	}
	c.origins = append(c.origins, o)
	c.byName[name] = o
	c.statusBytes += statusEntryBytes(name)
	c.owners[owner]++
	return o, ""
}

// victim chooses the origin a newcomer brought by owner replaces, or nil
// when there is none it may replace.
func (c *Core) victim(owner string) *origin {
	from := owner
	if owner == "" || c.owners[owner] < len(c.origins)/max(len(c.owners), 1) {
		// This node's own, or below an even share: the source that holds
		// the most gives way.
		most := -1
		for o, n := range c.owners {
			if o != "" && (n > most || (n == most && o < from)) {
				from, most = o, n
			}
		}
	}
	var v *origin
	for _, o := range c.origins {
		if o.owner != from || c.protected(o.name) || (c.claim != nil && c.claim.origin == o.name) {
			continue
		}
		if v == nil || lessValuable(o, v) {
			v = o
		}
	}
	return v
}

// lessValuable orders origins for eviction: no chat before chat, then the
// one heard from longest ago.
func lessValuable(a, b *origin) bool {
	if (a.chats > 0) != (b.chats > 0) {
		return a.chats == 0
	}
	return a.heard.Before(b.heard)
}

// evict takes o out of the room and leaves its tombstone. Its chat
// messages stay in the log: the user keeps seeing them.
func (c *Core) evict(o *origin) {
	for i, x := range c.origins {
		if x == o {
			c.origins = append(c.origins[:i], c.origins[i+1:]...)
			break
		}
	}
	delete(c.byName, o.name)
	c.statusBytes -= statusEntryBytes(o.name)
	if c.owners[o.owner]--; c.owners[o.owner] == 0 {
		delete(c.owners, o.owner)
	}
	c.textBytes -= o.weight
	delete(c.routes, o.name)
	c.stats.OriginsEvicted++
	if len(c.tombstones) >= maxTombstones {
		oldest := c.tombstoneOrder[0]
		c.tombstoneOrder = c.tombstoneOrder[1:]
		delete(c.tombstones, oldest)
	}
	c.tombstones[o.name] = o.next()
	c.tombstoneOrder = append(c.tombstoneOrder, o.name)
}

// hold adds the text of o's next message to what the node holds, and
// forgets the oldest texts of the heaviest origins when they pass their
// budget.
func (c *Core) hold(o *origin, text string, now time.Time) {
	o.texts = append(o.texts, text)
	w := len(text) + textCost
	o.weight += w
	c.textBytes += w
	o.heard = now
	if text != "" {
		o.chats++
	}
	if c.textBytes > c.budgets.texts {
		c.forgetTexts()
	}
}

// forgetTexts brings the texts held under seven eighths of their budget by
// forgetting, again and again, the oldest half of the texts of the origin
// that weighs most. A stranger who floods one origin with large messages
// loses them first; ordinary chat, light, is the last to go. This node's
// own messages go only when nothing else is left: it is the one node sure
// to have them. Peers that lack forgotten messages get them from others.
func (c *Core) forgetTexts() {
	for c.textBytes > c.budgets.texts/8*7 {
		var heaviest *origin
		for _, o := range c.origins {
			if len(o.texts) == 0 {
				continue
			}
			if heaviest == nil || c.protected(heaviest.name) && !c.protected(o.name) ||
				c.protected(heaviest.name) == c.protected(o.name) && o.weight > heaviest.weight {
				heaviest = o
			}
		}
		if heaviest == nil {
			return
		}
		n := (len(heaviest.texts) + 1) / 2
		for _, t := range heaviest.texts[:n] {
			heaviest.weight -= len(t) + textCost
			c.textBytes -= len(t) + textCost
		}
		heaviest.texts = append([]string(nil), heaviest.texts[n:]...)
		heaviest.base += uint32(n)
		c.stats.Forgotten["texts"] += uint64(n)
	}
}

// statusEntryBytes bounds what one origin adds to an encoded status: its
// name, two tags, two lengths and a varint ID.
func statusEntryBytes(origin string) int { return len(origin) + 16 }
