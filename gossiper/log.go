package gossiper

import (
	"cmp"
	"slices"
	"time"
)

// The chat log is what the user reads: every chat message the node took, in
// the order it took them, each numbered by Seq. It has a memory budget of
// its own (see budgets). Past it, the node forgets the oldest half of the
// messages of the origin that weighs most, when one stands out (a stranger
// flooding large messages), and otherwise the oldest eighth of the log, as
// a chat scrolls old messages away; until the log is under seven eighths of
// its budget. Forgotten messages stay on disk with -data.
const (
	// logEntryCost is what an entry weighs beside its text and origin.
	logEntryCost = 96
	// standOut is the share of the log's budget one origin must hold to
	// be forgotten first.
	standOut = 16
)

func logWeight(e Entry) int { return len(e.Text) + len(e.Origin) + logEntryCost }

// appendLog adds a chat message to the log.
func (c *Core) appendLog(origin string, id uint32, text string, forged bool, now time.Time) {
	c.logSeq++
	e := Entry{Origin: origin, ID: id, Text: text, Received: now, Seq: c.logSeq, Forged: forged}
	c.log = append(c.log, e)
	w := logWeight(e)
	c.logBytes += w
	c.logWeights[origin] += w
	if c.logBytes > c.budgets.log {
		c.forgetLog()
	}
}

func (c *Core) forgetLog() {
	for c.logBytes > c.budgets.log/8*7 && len(c.log) > 0 {
		heaviest, weight := "", 0
		for o, w := range c.logWeights {
			if w > weight || (w == weight && o < heaviest) {
				heaviest, weight = o, w
			}
		}
		var drop func(i int, e Entry) bool
		if weight > c.budgets.log/standOut {
			half, seen := (c.count(heaviest)+1)/2, 0
			drop = func(_ int, e Entry) bool {
				if e.Origin != heaviest || seen == half {
					return false
				}
				seen++
				return true
			}
		} else {
			eighth := max(len(c.log)/8, 1)
			drop = func(i int, _ Entry) bool { return i < eighth }
		}
		kept := c.log[:0]
		for i, e := range c.log {
			if drop(i, e) {
				w := logWeight(e)
				c.logBytes -= w
				if c.logWeights[e.Origin] -= w; c.logWeights[e.Origin] == 0 {
					delete(c.logWeights, e.Origin)
				}
				c.stats.Forgotten["log"]++
				continue
			}
			kept = append(kept, e)
		}
		clear(c.log[len(kept):])
		c.log = kept
	}
}

// count is how many entries of origin the log holds.
func (c *Core) count(origin string) int {
	n := 0
	for _, e := range c.log {
		if e.Origin == origin {
			n++
		}
	}
	return n
}

// Log returns the whole chat log, oldest first. Only tests read it whole;
// the page reads it a page at a time.
func (c *Core) Log() []Entry { return slices.Clone(c.log) }

// LogAfter returns, oldest first, the chat messages accepted after the one
// numbered seq (0: from the first), at most limit of them and, beyond the
// first, at most maxBytes of origin and text; more tells whether later ones
// remain.
func (c *Core) LogAfter(seq uint64, limit, maxBytes int) (entries []Entry, more bool) {
	i, _ := slices.BinarySearchFunc(c.log, seq+1, bySeq)
	j, size := i, 0
	for j < len(c.log) && j-i < limit {
		size += entryBytes(c.log[j])
		if j > i && size > maxBytes {
			break
		}
		j++
	}
	return slices.Clone(c.log[i:j]), j < len(c.log)
}

// LogBefore returns, oldest first, the newest chat messages accepted before
// the one numbered seq (0: the newest of all), within the same bounds as
// LogAfter; more tells whether older ones remain.
func (c *Core) LogBefore(seq uint64, limit, maxBytes int) (entries []Entry, more bool) {
	j := len(c.log)
	if seq > 0 {
		j, _ = slices.BinarySearchFunc(c.log, seq, bySeq)
	}
	i, size := j, 0
	for i > 0 && j-i < limit {
		size += entryBytes(c.log[i-1])
		if i < j && size > maxBytes {
			break
		}
		i--
	}
	return slices.Clone(c.log[i:j]), i > 0
}

func bySeq(e Entry, seq uint64) int { return cmp.Compare(e.Seq, seq) }

// LastSeq is the Seq of the newest chat message, 0 before the first.
func (c *Core) LastSeq() uint64 { return c.logSeq }

// entryBytes is what a log entry weighs in a page.
func entryBytes(e Entry) int { return len(e.Origin) + len(e.Text) }
