package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
)

// deliveries records, for a fixed set of message texts, when each node of
// a ring printed each of them: CLIENT MESSAGE at the origin, RUMOR
// elsewhere. The nodes' stdout readers write it concurrently, each its own
// node's row, without a lock; the command reads it as they go.
type deliveries struct {
	index map[string]int // text -> message number; read-only once made
	nodes int
	at    []atomic.Int64 // [node*len(index)+message]: Unix ns of the first print, 0 if none
	count []atomic.Int64 // [node]: messages printed so far
}

func newDeliveries(texts []string, nodes int) *deliveries {
	d := &deliveries{index: make(map[string]int, len(texts)), nodes: nodes,
		at: make([]atomic.Int64, nodes*len(texts)), count: make([]atomic.Int64, nodes)}
	for i, t := range texts {
		d.index[t] = i
	}
	return d
}

func (d *deliveries) messages() int { return len(d.index) }

// record notes that node printed text at t, unless it is not one of the
// texts or the node printed it before.
func (d *deliveries) record(node int, text string, t time.Time) {
	m, ok := d.index[text]
	if !ok {
		return
	}
	if d.at[node*len(d.index)+m].CompareAndSwap(0, t.UnixNano()) {
		d.count[node].Add(1)
	}
}

// when is when node printed message m, or the zero time.
func (d *deliveries) when(node, m int) time.Time {
	ns := d.at[node*len(d.index)+m].Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// printed is how many (message, node) pairs have been printed.
func (d *deliveries) printed() int64 {
	var n int64
	for i := range d.count {
		n += d.count[i].Load()
	}
	return n
}

// complete reports whether every node has printed every message.
func (d *deliveries) complete() bool {
	return d.printed() == int64(d.nodes*len(d.index))
}

// lastPrint is when the last node printed message m, and whether every
// node has.
func (d *deliveries) lastPrint(m int) (time.Time, bool) {
	var last time.Time
	for node := range d.nodes {
		t := d.when(node, m)
		if t.IsZero() {
			return time.Time{}, false
		}
		if t.After(last) {
			last = t
		}
	}
	return last, true
}

// stdoutReader drains one node's stdout: it time-stamps each line as it
// reads it and hands the chat lines to deliveries. It does little else, so
// that it keeps up with the node, which blocks once its pipe is full.
type stdoutReader struct {
	lines, bytes atomic.Int64
	err          error // a line too long for the buffer; set before done closes
	done         chan struct{}
}

// maxLine is the longest stdout line read whole. A longer one ends the
// scan; the rest of the output is then drained unread.
const maxLine = 16 << 20

func readStdout(r io.ReadCloser, node int, d *deliveries) *stdoutReader {
	s := &stdoutReader{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), maxLine)
		for sc.Scan() {
			now := time.Now()
			line := sc.Bytes()
			s.lines.Add(1)
			s.bytes.Add(int64(len(line)) + 1)
			if d == nil {
				continue
			}
			if text, ok := stdoutline.ChatText(line); ok {
				d.record(node, text, now)
			}
		}
		if s.err = sc.Err(); s.err != nil {
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	return s
}

// wait returns once the node's stdout has been read to its end.
func (s *stdoutReader) wait() { <-s.done }

// lastDelivery is when the last print of any message happened, or the
// zero time.
func (d *deliveries) lastDelivery() time.Time {
	var last int64
	for i := range d.at {
		last = max(last, d.at[i].Load())
	}
	if last == 0 {
		return time.Time{}
	}
	return time.Unix(0, last)
}

// missing describes what has not been printed: how many messages each
// node lacks, and the first few (message, node) pairs, with texts[m]
// naming message m.
func (d *deliveries) missing(texts []string, names []string) string {
	var b strings.Builder
	var pairs []string
	for node := range d.nodes {
		lack := 0
		for m := range texts {
			if d.when(node, m).IsZero() {
				lack++
				if len(pairs) < 5 {
					pairs = append(pairs, fmt.Sprintf("%q on %s", texts[m], names[node]))
				}
			}
		}
		if lack > 0 {
			fmt.Fprintf(&b, "%s lacks %d; ", names[node], lack)
		}
	}
	if len(pairs) > 0 {
		fmt.Fprintf(&b, "e.g. %s", strings.Join(pairs, ", "))
	}
	return b.String()
}
