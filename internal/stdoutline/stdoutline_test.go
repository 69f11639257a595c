package stdoutline

import (
	"reflect"
	"strings"
	"testing"

	"github.com/peerster/Peerster/messages"
)

// specLines are lines as the handout and its notes write them, with what
// they read as: the one place the tests spell the format out.
var specLines = []struct {
	line string
	want Line
}{
	{"CLIENT MESSAGE Hello", ClientMessage{"Hello"}},
	{"CLIENT MESSAGE hello  world ", ClientMessage{"hello  world "}},
	{"CLIENT MESSAGE ", ClientMessage{""}},
	{"SIMPLE MESSAGE origin E from 127.0.0.1:5004 contents hi there", SimpleMessage{"E", "127.0.0.1:5004", "hi there"}},
	{"RUMOR origin Bob from 127.0.0.1:5001 ID 1 contents Hello", Rumor{"Bob", "127.0.0.1:5001", 1, "Hello"}},
	{"RUMOR origin A from 127.0.0.1:5001 ID 3 contents a contents b", Rumor{"A", "127.0.0.1:5001", 3, "a contents b"}},
	{"RUMOR origin A from 127.0.0.1:5001 ID 4294967295 contents ", Rumor{"A", "127.0.0.1:5001", 4294967295, ""}},
	{`RUMOR origin A from [::1]:5001 ID 2 contents two\nlines \x1b[2J \u202e`, Rumor{"A", "[::1]:5001", 2, `two\nlines \x1b[2J \u202e`}},
	{"PEERS 127.0.0.1:5001", Peers{[]string{"127.0.0.1:5001"}}},
	{"PEERS 127.0.0.1:5001,127.0.0.1:5002", Peers{[]string{"127.0.0.1:5001", "127.0.0.1:5002"}}},
	{"PEERS", Peers{}},
	{"MONGERING with 127.0.0.1:5001", Mongering{"127.0.0.1:5001"}},
	{"STATUS from 127.0.0.1:5001 peer Bob nextID 2", Status{"127.0.0.1:5001", []Want{{"Bob", 2}}}},
	{"STATUS from 127.0.0.1:5001 peer E nextID 3 peer B nextID 1", Status{"127.0.0.1:5001", []Want{{"E", 3}, {"B", 1}}}},
	{"STATUS from 127.0.0.1:5001", Status{From: "127.0.0.1:5001"}},
	{"IN SYNC WITH 127.0.0.1:5001", InSync{"127.0.0.1:5001"}},
	{"FLIPPED COIN sending rumor to 127.0.0.1:5002", FlippedCoin{"127.0.0.1:5002"}},
	{"DSDV Bob 127.0.0.1:5001", DSDV{"Bob", "127.0.0.1:5001"}},
	{"PRIVATE origin Bob hop-limit 10 contents Hello you", Private{"Bob", 10, "Hello you"}},
	{"PRIVATE origin Bob hop-limit 0 contents ", Private{"Bob", 0, ""}},
	{"DOWNLOADING metafile of new.txt from A", DownloadingMetafile{"new.txt", "A"}},
	{"DOWNLOADING metafile of a from b.txt from A", DownloadingMetafile{"a from b.txt", "A"}},
	{"DOWNLOADING new.txt chunk 3 from A", DownloadingChunk{"new.txt", 3, "A"}},
	{"DOWNLOADING my file from x chunk 2.txt chunk 12 from A", DownloadingChunk{"my file from x chunk 2.txt", 12, "A"}},
	{"RECONSTRUCTED file new.txt", Reconstructed{"new.txt"}},
	{"RECONSTRUCTED file my new file", Reconstructed{"my new file"}},
}

func TestParseSpecLines(t *testing.T) {
	for _, c := range specLines {
		got, err := Parse(c.line)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", c.line, got, err, c.want)
		}
		if s := c.want.String(); s != c.line {
			t.Errorf("%#v prints %q, want %q", c.want, s, c.line)
		}
	}
}

func TestParseRefusesOtherLines(t *testing.T) {
	for _, line := range []string{
		"", "level=INFO msg=hello", "CLIENT MESSAGE", "CLIENT MESSAGEhello",
		"CLIENT MESSAGE \x1b[2J", "CLIENT MESSAGE tab\there", "CLIENT MESSAGE \xff",
		"SIMPLE MESSAGE origin E contents hi",
		"RUMOR origin A from 127.0.0.1:1 ID x contents c", "RUMOR origin A from 127.0.0.1:1 ID 03 contents c",
		"RUMOR origin A from 127.0.0.1:1 ID +3 contents c", "RUMOR origin A from 127.0.0.1:1 ID 4294967296 contents c",
		"RUMOR origin A from 127.0.0.1:1 ID 3", "RUMOR origin  from 127.0.0.1:1 ID 3 contents c",
		"PEERSX", "PEERS ", "PEERS a,,b", "PEERS a, b",
		"MONGERING with ", "MONGERING with a b", "IN SYNC WITH", "FLIPPED COIN sending rumor to",
		"STATUS from a peer B", "STATUS from a ", "STATUS from a peer B nextID -1", "STATUS from  peer B nextID 1",
		"DSDV A", "DSDV A B C", "DSDV  B",
		"PRIVATE origin A hop-limit -1 contents x", "PRIVATE origin A contents x",
		"DOWNLOADING x from A", "DOWNLOADING x chunk 0x1 from A", "DOWNLOADING x chunk 1 from A B",
		"DOWNLOADING metafile of x from ", "RECONSTRUCTED file",
	} {
		if l, err := Parse(line); err == nil {
			t.Errorf("Parse(%q) = %#v, want an error", line, l)
		}
	}
}

// TestChatText checks that ChatText reads chat lines as Parse does and
// other lines not at all.
func TestChatText(t *testing.T) {
	for _, c := range specLines {
		text, ok := ChatText([]byte(c.line))
		want := ""
		switch l := c.want.(type) {
		case ClientMessage:
			want = l.Text
		case Rumor:
			want = l.Text
		default:
			if ok {
				t.Errorf("ChatText(%q) = %q, true; it is no chat line", c.line, text)
			}
			continue
		}
		if !ok || text != want {
			t.Errorf("ChatText(%q) = %q, %v; want %q, true", c.line, text, ok, want)
		}
	}
	for _, line := range []string{"CLIENT MESSAGEhello", "CLIENT MESSAGE \x1b[2J", "RUMOR origin A from 127.0.0.1:1 ID 3", "RUMOR origin A from 127.0.0.1:1 ID x contents c"} {
		if text, ok := ChatText([]byte(line)); ok {
			t.Errorf("ChatText(%q) = %q, true; want false", line, text)
		}
	}
}

// TestStringEscapes checks that what a peer or a user chose reaches stdout
// escaped, and is read back as printed.
func TestStringEscapes(t *testing.T) {
	raw := "bell\a, CR\r, LF\n, ESC\x1b[2J, RLO\u202e, bad byte \xff, tab\t, backslash \\n"
	printed := messages.Printable(raw)
	for _, c := range []struct{ raw, printed Line }{
		{ClientMessage{raw}, ClientMessage{printed}},
		{SimpleMessage{"O\n", "127.0.0.1:1", raw}, SimpleMessage{`O\n`, "127.0.0.1:1", printed}},
		{Rumor{"O\x1b", "127.0.0.1:1", 7, raw}, Rumor{`O\x1b`, "127.0.0.1:1", 7, printed}},
		{Status{"127.0.0.1:1", []Want{{"O\r", 2}}}, Status{"127.0.0.1:1", []Want{{`O\r`, 2}}}},
		{DSDV{"O\u2028", "127.0.0.1:1"}, DSDV{`O\u2028`, "127.0.0.1:1"}},
		{Private{"O\xff", 3, raw}, Private{`O\xff`, 3, printed}},
	} {
		line := c.raw.String()
		if strings.ContainsAny(line, "\a\r\n\x1b\u202e\xff\t") {
			t.Errorf("%#v prints %q", c.raw, line)
		}
		got, err := Parse(line)
		if err != nil || !reflect.DeepEqual(got, c.printed) {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", line, got, err, c.printed)
		}
	}
}

// FuzzParse checks that a line Parse reads prints as itself: Parse loses
// nothing, and never reads a line two ways that print differently. And
// ChatText reads what Parse reads as a chat line, and nothing else.
func FuzzParse(f *testing.F) {
	for _, c := range specLines {
		f.Add(c.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, err := Parse(line)
		want, chat := "", false
		switch l := l.(type) {
		case ClientMessage:
			want, chat = l.Text, true
		case Rumor:
			want, chat = l.Text, true
		}
		if text, ok := ChatText([]byte(line)); ok != chat || text != want {
			t.Fatalf("ChatText(%q) = %q, %v; Parse read %#v", line, text, ok, l)
		}
		if err == nil && l.String() != line {
			t.Fatalf("Parse(%q) = %#v, which prints %q", line, l, l.String())
		}
	})
}

// FuzzRoundTrip prints lines of every kind from arbitrary fields and reads
// them back: Parse(x.String()) is x with its texts and names as printed.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Bob", "127.0.0.1:5001", uint32(1), "hello world", "new file.txt")
	f.Add("A", "[::1]:1", uint32(0), "", "x")
	f.Add("O\x1b", "a", uint32(4294967295), "two\nlines \\n", "")
	f.Add("métro", "b", uint32(10), "\u202e ligne", "metafile of x")
	f.Fuzz(func(t *testing.T, name, addr string, n uint32, text, file string) {
		name, addr = word(name), word(messages.Printable(addr))
		// The chunk line of such a file reads as a metafile line (see Parse).
		if strings.HasPrefix(file+" ", "metafile of ") || messages.Printable(file) != file {
			file = "f " + word(messages.Printable(file))
		}
		shown, shownName := messages.Printable(text), messages.Printable(name)
		for _, c := range []struct{ line, want Line }{
			{ClientMessage{text}, ClientMessage{shown}},
			{SimpleMessage{name, addr, text}, SimpleMessage{shownName, addr, shown}},
			{Rumor{name, addr, n, text}, Rumor{shownName, addr, n, shown}},
			{Mongering{addr}, Mongering{addr}},
			{Status{addr, []Want{{name, n}, {"B", n / 2}}}, Status{addr, []Want{{shownName, n}, {"B", n / 2}}}},
			{FlippedCoin{addr}, FlippedCoin{addr}},
			{InSync{addr}, InSync{addr}},
			{Peers{[]string{addr, "127.0.0.1:2"}}, Peers{[]string{addr, "127.0.0.1:2"}}},
			{DSDV{name, addr}, DSDV{shownName, addr}},
			{Private{name, n, text}, Private{shownName, n, shown}},
			{DownloadingMetafile{file, name}, DownloadingMetafile{file, shownName}},
			{DownloadingChunk{file, int(n), name}, DownloadingChunk{file, int(n), shownName}},
			{Reconstructed{file}, Reconstructed{file}},
		} {
			got, err := Parse(c.line.String())
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", c.line.String(), got, err, c.want)
			}
		}
	})
}

// word makes s one word of a line: not empty, and without a space or a
// comma (which would split a PEERS line).
func word(s string) string {
	s = strings.NewReplacer(" ", "_", ",", ";").Replace(s)
	if s == "" {
		return "w"
	}
	return s
}
