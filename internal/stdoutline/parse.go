package stdoutline

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/peerster/Peerster/messages"
)

// Parse reads line, without its newline, as the kind of line it is. It
// fails on a line of no kind, or one that holds what messages.Printable
// escapes, which no node prints.
//
// A file name may hold spaces, so a few lines read two ways: the metafile
// line of "x chunk 1" is the chunk line of "metafile of x", and Parse reads
// it as a metafile line. (Whatever ends in " from NAME" after "DOWNLOADING
// metafile of " is a metafile line.)
func Parse(line string) (Line, error) {
	if messages.Printable(line) != line {
		return nil, fmt.Errorf("stdoutline: %q holds what a terminal would act on", line)
	}
	s := scanner{rest: line}
	if l := s.line(); !s.bad && s.rest == "" {
		return l, nil
	}
	return nil, fmt.Errorf("stdoutline: %q is no line a node prints", line)
}

// line reads a line by its kind's fixed start. Each kind is one case, and
// calls no function through a variable, so that the scanner stays on the
// stack: proctest parses every line a node prints, megabytes in a flood.
func (s *scanner) line() Line {
	switch {
	case s.cut(clientMessageStart):
		return s.clientMessage()
	case s.cut("SIMPLE MESSAGE origin "):
		return SimpleMessage{Origin: s.word(), From: s.after(" from ").word(), Text: s.after(" contents ").text()}
	case s.cut(rumorStart):
		return s.rumor()
	case s.cut("MONGERING with "):
		return Mongering{To: s.word()}
	case s.cut("STATUS from "):
		return parseStatus(s)
	case s.cut("FLIPPED COIN sending rumor to "):
		return FlippedCoin{To: s.word()}
	case s.cut("IN SYNC WITH "):
		return InSync{With: s.word()}
	case s.cut("PEERS"):
		return parsePeers(s)
	case s.cut("DSDV "):
		return DSDV{Origin: s.word(), NextHop: s.after(" ").word()}
	case s.cut("PRIVATE origin "):
		return Private{Origin: s.word(), HopLimit: s.after(" hop-limit ").number(), Text: s.after(" contents ").text()}
	case s.cut("DOWNLOADING metafile of "):
		from := s.last(" from ")
		return DownloadingMetafile{File: s.text(), From: from}
	case s.cut("DOWNLOADING "):
		return parseDownloadingChunk(s)
	case s.cut("RECONSTRUCTED file "):
		return Reconstructed{File: s.text()}
	}
	s.bad = true
	return nil
}

// ChatText returns the text of a line that shows a node has a chat
// message, as Parse reads it: CLIENT MESSAGE at its origin, RUMOR
// elsewhere. It takes the bytes a reader scanned and copies only a chat
// line, so that a reader that wants no other kind (the benchmarks) pays
// little for the lines a node prints most, which may be 16 KB long.
func ChatText(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte(clientMessageStart)) && !bytes.HasPrefix(line, []byte(rumorStart)) {
		return "", false
	}
	str := string(line)
	s := scanner{rest: str}
	var text string
	if s.cut(clientMessageStart) {
		text = s.clientMessage().Text
	} else if s.cut(rumorStart) {
		text = s.rumor().Text
	}
	if s.bad || s.rest != "" || messages.Printable(str) != str {
		return "", false
	}
	return text, true
}

func (s *scanner) clientMessage() ClientMessage { return ClientMessage{Text: s.text()} }

func (s *scanner) rumor() Rumor {
	return Rumor{Origin: s.word(), From: s.after(" from ").word(), ID: s.after(" ID ").number(), Text: s.after(" contents ").text()}
}

func parseStatus(s *scanner) Line {
	l := Status{From: s.word()}
	if s.rest != "" {
		l.Wants = make([]Want, 0, strings.Count(s.rest, " peer "))
	}
	for s.rest != "" && !s.bad {
		l.Wants = append(l.Wants, Want{Origin: s.after(" peer ").word(), NextID: s.after(" nextID ").number()})
	}
	return l
}

func parsePeers(s *scanner) Line {
	if s.rest == "" {
		return Peers{}
	}
	addrs := strings.Split(s.after(" ").text(), ",")
	for _, a := range addrs {
		s.check(isWord(a))
	}
	return Peers{Addrs: addrs}
}

func parseDownloadingChunk(s *scanner) Line {
	from := s.last(" from ")
	chunk, ok := parseNumber(s.last(" chunk "))
	s.check(ok)
	return DownloadingChunk{File: s.text(), Chunk: int(chunk), From: from}
}

// scanner reads a line's fields after its kind's prefix, from the left with
// word, number, after and text, from the right with last. The first field
// that is not there sets bad, after which what it reads is of no account.
type scanner struct {
	rest string
	bad  bool
}

func (s *scanner) check(ok bool) {
	if !ok {
		s.bad = true
	}
}

// word takes a name or an address: the rest up to the next space, which
// may not be empty.
func (s *scanner) word() string {
	i := strings.IndexByte(s.rest, ' ')
	if i < 0 {
		i = len(s.rest)
	}
	w := s.rest[:i]
	s.check(w != "")
	s.rest = s.rest[i:]
	return w
}

// number takes a word that is a number as String writes it.
func (s *scanner) number() uint32 {
	n, ok := parseNumber(s.word())
	s.check(ok)
	return n
}

// cut takes prefix if the rest starts with it, and reports whether it did.
func (s *scanner) cut(prefix string) bool {
	rest, ok := strings.CutPrefix(s.rest, prefix)
	if ok {
		s.rest = rest
	}
	return ok
}

// after takes sep, which must come next, and returns s to read on.
func (s *scanner) after(sep string) *scanner {
	rest, ok := strings.CutPrefix(s.rest, sep)
	s.check(ok)
	s.rest = rest
	return s
}

// text takes the rest of the line, however much of it there is.
func (s *scanner) text() string {
	t := s.rest
	s.rest = ""
	return t
}

// last takes off the end a word and sep before it, at sep's last place,
// and returns the word.
func (s *scanner) last(sep string) string {
	i := strings.LastIndex(s.rest, sep)
	if i < 0 {
		s.bad = true
		return ""
	}
	w := s.rest[i+len(sep):]
	s.check(isWord(w))
	s.rest = s.rest[:i]
	return w
}

func isWord(w string) bool { return w != "" && !strings.Contains(w, " ") }

// parseNumber reads w as String writes a number: decimal, without sign or
// leading zeros, so that a line read and printed again is the same line.
func parseNumber(w string) (uint32, bool) {
	n, err := strconv.ParseUint(w, 10, 32)
	return uint32(n), err == nil && (len(w) == 1 || w[0] != '0')
}
