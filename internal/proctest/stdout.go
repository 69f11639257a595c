package proctest

import (
	"bufio"
	"io"
	"strings"
	"sync"

	"github.com/peerster/Peerster/internal/stdoutline"
)

// HeadSize is how much of a node's stdout Stdout keeps verbatim (Head).
const HeadSize = 1 << 20

// RumorKey names one message of one origin.
type RumorKey struct {
	Origin string
	ID     uint64
}

// Stdout reads a gossiper's stdout as it prints it. It keeps the chat texts
// (of CLIENT MESSAGE and RUMOR lines), the first RUMOR line of each message
// and how many were printed, lines of no kind stdoutline.Parse knows, and
// the first HeadSize bytes verbatim; of the rest (STATUS, PEERS... lines) it
// only counts the bytes, so a node that prints megabytes costs the test
// little memory.
type Stdout struct {
	mu     sync.Mutex
	texts  map[string]bool
	rumors map[RumorKey]*rumorSeen
	chat   int // CLIENT MESSAGE and RUMOR lines
	// routes is the last next hop each DSDV line gave for an origin;
	// privates are the PRIVATE lines.
	routes   map[string]string
	privates []PrivateLine
	odd      []string // lines of no kind, the first 100
	head     strings.Builder
	bytes    int64
	done     chan struct{}
}

// rumorSeen is what a node printed for one origin/ID: its first RUMOR line
// and how many times it printed one.
type rumorSeen struct {
	line  string
	times int
}

func newStdout(r io.ReadCloser) *Stdout {
	s := &Stdout{texts: map[string]bool{}, rumors: map[RumorKey]*rumorSeen{}, routes: map[string]string{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer r.Close()
		br := bufio.NewReaderSize(r, 1<<20)
		for {
			line, err := br.ReadString('\n')
			if len(line) > 0 {
				s.add(line)
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// PrivateLine is one PRIVATE line a node printed.
type PrivateLine struct {
	Origin   string
	HopLimit uint64
	Text     string
}

// add takes one line, with its newline if it has one.
func (s *Stdout) add(raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if left := HeadSize - s.head.Len(); left > 0 {
		s.head.WriteString(raw[:min(left, len(raw))])
	}
	line := strings.TrimSuffix(raw, "\n")
	s.bytes += int64(len(line)) + 1
	parsed, err := stdoutline.Parse(line)
	if err != nil {
		s.noteOdd(line)
		return
	}
	switch l := parsed.(type) {
	case stdoutline.DSDV:
		s.routes[l.Origin] = l.NextHop
	case stdoutline.Private:
		s.privates = append(s.privates, PrivateLine{Origin: l.Origin, HopLimit: uint64(l.HopLimit), Text: l.Text})
	case stdoutline.ClientMessage:
		s.texts[l.Text] = true
		s.chat++
	case stdoutline.Rumor:
		k := RumorKey{l.Origin, uint64(l.ID)}
		if s.rumors[k] == nil {
			s.rumors[k] = &rumorSeen{line: line}
		}
		s.rumors[k].times++
		s.texts[l.Text] = true
		s.chat++
	}
}

func (s *Stdout) noteOdd(line string) {
	if len(s.odd) < 100 {
		s.odd = append(s.odd, line)
	}
}

// Has reports whether every one of texts was printed in a CLIENT MESSAGE or
// RUMOR line.
func (s *Stdout) Has(texts ...string) bool {
	return len(s.Missing(texts)) == 0
}

// Missing returns those of texts that no CLIENT MESSAGE or RUMOR line
// printed.
func (s *Stdout) Missing(texts []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m []string
	for _, x := range texts {
		if !s.texts[x] {
			m = append(m, x)
		}
	}
	return m
}

// Rumor returns the first RUMOR line printed for origin/id and how many
// were printed.
func (s *Stdout) Rumor(origin string, id uint64) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rumors[RumorKey{origin, id}]; r != nil {
		return r.line, r.times
	}
	return "", 0
}

// Rumors returns how many RUMOR lines were printed for each message.
func (s *Stdout) Rumors() map[RumorKey]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[RumorKey]int, len(s.rumors))
	for k, r := range s.rumors {
		m[k] = r.times
	}
	return m
}

// Routes returns, for each origin a DSDV line named, the next hop the last
// such line gave.
func (s *Stdout) Routes() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]string, len(s.routes))
	for o, hop := range s.routes {
		m[o] = hop
	}
	return m
}

// Privates returns the PRIVATE lines printed, in order.
func (s *Stdout) Privates() []PrivateLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PrivateLine(nil), s.privates...)
}

// Bytes is how many bytes were printed.
func (s *Stdout) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Odd returns the lines (the first 100) of no kind a node prints, or
// malformed: stdoutline.Parse refused them.
func (s *Stdout) Odd() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.odd...)
}

// Head returns what was printed, verbatim, up to HeadSize bytes.
func (s *Stdout) Head() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head.String()
}
