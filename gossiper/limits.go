package gossiper

// Bounds on what hostile input can make a node keep. Together with the caps
// on text and name sizes they bound a node's memory whatever arrives; see
// the README's "Limits".
const (
	// MaxOrigins caps the origins a node keeps history for; rumors of
	// further origins are dropped.
	MaxOrigins = 1024
	// MaxStatusEntries caps the origins a status may carry.
	MaxStatusEntries = MaxOrigins
	// maxSources caps the per-source rate limiters kept at once.
	maxSources = 4096
	// maxSimpleRemembered caps the simple messages remembered for the
	// once-a-minute forwarding rule.
	maxSimpleRemembered = 10000
	// maxStatusBytes keeps a status inside one datagram however long the
	// origins' names are.
	maxStatusBytes = 60000
)

// statusEntryBytes bounds what one origin adds to an encoded status: its
// name, two tags, two lengths and a varint ID.
func statusEntryBytes(origin string) int { return len(origin) + 16 }

// admits says why a rumor of origin cannot be kept, or "" if it can. The
// wire carries a status in one datagram, and a status that left origins out
// would make every peer offer their messages again and again, so a node
// keeps only the origins its status can list whole. Room for this node's
// own name is kept aside until it has messages.
func (c *Core) admits(origin string) string {
	if _, known := c.texts[origin]; known {
		return ""
	}
	origins, bytes := len(c.origins)+1, c.statusBytes+statusEntryBytes(origin)
	if _, own := c.texts[c.name]; !own && origin != c.name {
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
