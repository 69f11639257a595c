package gossiper

// What an event did, rendered for a scenario's output
// (testdata/scenarios/README), and the words and strings in it.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// result is what one event did.
type result struct {
	out    Output
	draws  []string
	counts tally
	err    error
	posted *Posted // what Client reported posting
	clock  string  // the clock after the event, if it moved
}

// tally is what an event changed in the node's counters.
type tally struct {
	dropped, forgotten                       map[string]uint64
	duplicates, outOfOrder, evicted, refused uint64
}

// tallyOf is what the counters went up by from before to after.
func tallyOf(before, after Stats) tally {
	t := tally{dropped: map[string]uint64{}, forgotten: map[string]uint64{}}
	for k, v := range after.Dropped {
		if d := v - before.Dropped[k]; d > 0 {
			t.dropped[k] = d
		}
	}
	for k, v := range after.Forgotten {
		if d := v - before.Forgotten[k]; d > 0 {
			t.forgotten[k] = d
		}
	}
	t.duplicates = after.Duplicates - before.Duplicates
	t.outOfOrder = after.OutOfOrder - before.OutOfOrder
	t.evicted = after.OriginsEvicted - before.OriginsEvicted
	t.refused = after.Refused - before.Refused
	return t
}

func (t *tally) add(u tally) {
	if t.dropped == nil {
		t.dropped, t.forgotten = map[string]uint64{}, map[string]uint64{}
	}
	for k, v := range u.dropped {
		t.dropped[k] += v
	}
	for k, v := range u.forgotten {
		t.forgotten[k] += v
	}
	t.duplicates += u.duplicates
	t.outOfOrder += u.outOfOrder
	t.evicted += u.evicted
	t.refused += u.refused
}

func (t tally) lines() []string {
	n := func(v uint64) string {
		if v == 1 {
			return ""
		}
		return fmt.Sprintf(" (%d)", v)
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(t.dropped)) {
		lines = append(lines, "drop "+k+n(t.dropped[k]))
	}
	for _, c := range []struct {
		what string
		v    uint64
	}{{"duplicate", t.duplicates}, {"out-of-order", t.outOfOrder}, {"evicted", t.evicted}, {"refused", t.refused}} {
		if c.v > 0 {
			lines = append(lines, "count "+c.what+n(c.v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.forgotten)) {
		lines = append(lines, "count forgotten-"+k+n(t.forgotten[k]))
	}
	return lines
}

func (s *scenario) render(r result) string {
	var lines []string
	lines = append(lines, r.out.Lines...)
	lines = append(lines, r.draws...)
	for _, e := range r.out.Accepted {
		lines = append(lines, fmt.Sprintf("store %s/%d %s", word(e.Origin), e.ID, quote(e.Text)))
	}
	if r.posted != nil {
		lines = append(lines, fmt.Sprintf("posted %s/%d", word(r.posted.Origin), r.posted.ID))
	}
	for _, e := range r.out.Private {
		lines = append(lines, "keep "+privateText(e))
	}
	for _, snd := range r.out.Sends {
		lines = append(lines, "send "+snd.To+" "+s.packet(snd.Packet))
	}
	lines = append(lines, s.fileLines(r.out)...)
	for _, tm := range r.out.Timers {
		lines = append(lines, fmt.Sprintf("timer #%d %s %s %s", tm.Seq, tm.Kind, s.timerPeer(tm), tm.After))
	}
	lines = append(lines, r.counts.lines()...)
	for _, w := range r.out.Warnings {
		lines = append(lines, "warn "+w)
	}
	if r.err != nil {
		lines = append(lines, "error "+r.err.Error())
	}
	if r.clock != "" {
		lines = append(lines, "clock "+r.clock)
	}
	return strings.Join(lines, "\n")
}

// word renders a name bare when it is plain, quoted otherwise.
func word(s string) string {
	if s == "" || len(s) > 64 {
		return quote(s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_:", c)) {
			return quote(s)
		}
	}
	return s
}

// quote renders a string Go-quoted, a long run of one byte that ends it as
// "x"*N after the rest: "o1-""x"*200.
func quote(s string) string {
	if len(s) <= 64 {
		return strconv.Quote(s)
	}
	last := s[len(s)-1]
	run := len(s) - len(strings.TrimRight(s, string(last)))
	if run <= 64 {
		return strconv.Quote(s)
	}
	head := ""
	if run < len(s) {
		head = strconv.Quote(s[:len(s)-run])
	}
	return head + strconv.Quote(string(last)) + "*" + strconv.Itoa(run)
}
