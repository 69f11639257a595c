package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/messages"
)

func sampleEntries() []gossiper.Entry {
	t0 := time.Date(2018, 9, 21, 13, 15, 0, 123456789, time.UTC)
	return []gossiper.Entry{
		{Origin: "nodeA", ID: 1, Text: "Hello", Received: t0},
		{Origin: "nodeB", ID: 1, Text: "", Received: t0.Add(time.Second)}, // empty rumors are history too
		{Origin: "nodeA", ID: 2, Text: "multi\nline ünïcödé", Received: t0.Add(2 * time.Second)},
		{Origin: strings.Repeat("n", messages.MaxNameBytes), ID: 1, Text: strings.Repeat("x", messages.MaxTextBytes)},
		{Origin: "nodeA", ID: 4294967295, Text: "max id", Received: t0.Add(-time.Hour)},
	}
}

func samplePrivates() []gossiper.PrivateEntry {
	t0 := time.Date(2018, 10, 5, 9, 30, 0, 987654321, time.UTC)
	return []gossiper.PrivateEntry{
		{Origin: "nodeA", Destination: "nodeC", Text: "hi C", HopLimit: 10, Sent: true, At: t0},
		{Origin: "nodeC", Destination: "nodeA", Text: "hi A\nünïcödé", HopLimit: 9, At: t0.Add(time.Second)},
		{Origin: "nodeA", Destination: "nodeC", Text: "", HopLimit: 0, Sent: true}, // no time, no limit
		{Origin: strings.Repeat("o", messages.MaxNameBytes), Destination: strings.Repeat("d", messages.MaxNameBytes),
			Text: strings.Repeat("x", messages.MaxTextBytes), HopLimit: 4294967295, At: t0.Add(-time.Hour)},
	}
}

// step is one record of a log: a rumor or a private message.
type step struct {
	entry   *gossiper.Entry
	private *gossiper.PrivateEntry
}

// kinds are the logs that every test of writing and reading runs over: the
// two kinds of record alone, and interleaved as a node that chats and
// writes privately stores them. Their first three records are short, for
// the tests that cut a log at every byte of a record.
var kinds = []struct {
	name    string
	records func() []step
}{
	{"rumors", func() []step { return rumors(sampleEntries()) }},
	{"private", func() []step { return privates(samplePrivates()) }},
	{"mixed", mixed},
}

func rumors(es []gossiper.Entry) []step {
	var steps []step
	for i := range es {
		steps = append(steps, step{entry: &es[i]})
	}
	return steps
}

func privates(ps []gossiper.PrivateEntry) []step {
	var steps []step
	for i := range ps {
		steps = append(steps, step{private: &ps[i]})
	}
	return steps
}

// mixed interleaves private messages and rumors, p r p r ..., then the
// rest.
func mixed() []step {
	es, ps := rumors(sampleEntries()), privates(samplePrivates())
	var steps []step
	for i := 0; i < max(len(es), len(ps)); i++ {
		if i < len(ps) {
			steps = append(steps, ps[i])
		}
		if i < len(es) {
			steps = append(steps, es[i])
		}
	}
	return steps
}

func split(steps []step) (es []gossiper.Entry, ps []gossiper.PrivateEntry) {
	for _, s := range steps {
		if s.entry != nil {
			es = append(es, *s.entry)
		} else {
			ps = append(ps, *s.private)
		}
	}
	return es, ps
}

// appendSteps appends steps as a node does: each run of one kind in one
// call, which keeps all of it or none.
func appendSteps(l *Log, steps []step) error {
	for len(steps) > 0 {
		n := 1
		for n < len(steps) && (steps[n].entry != nil) == (steps[0].entry != nil) {
			n++
		}
		es, ps := split(steps[:n])
		var err error
		if es != nil {
			err = l.Append(es)
		} else {
			err = l.AppendPrivate(ps)
		}
		if err != nil {
			return err
		}
		steps = steps[n:]
	}
	return nil
}

// quietLogger returns a logger that writes to buf, so tests can read the
// warnings Open gives.
func quietLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func mustOpen(t *testing.T, dir string, logs *bytes.Buffer) (*Log, []gossiper.Entry) {
	t.Helper()
	if logs == nil {
		logs = &bytes.Buffer{}
	}
	l, entries, err := Open(dir, quietLogger(logs))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l, entries
}

// openWant opens the log in dir and fails the test unless it gives back
// want, rumors and private messages alike (which it takes).
func openWant(t *testing.T, dir string, logs *bytes.Buffer, want []step) *Log {
	t.Helper()
	l, got := mustOpen(t, dir, logs)
	wantE, wantP := split(want)
	equal(t, "entry", got, wantE, func(g, w gossiper.Entry) bool {
		return g.Origin == w.Origin && g.ID == w.ID && g.Text == w.Text && g.Received.Equal(w.Received)
	})
	equal(t, "private entry", l.TakePrivate(), wantP, func(g, w gossiper.PrivateEntry) bool {
		return g.Origin == w.Origin && g.Destination == w.Destination && g.Text == w.Text &&
			g.HopLimit == w.HopLimit && g.Sent == w.Sent && g.At.Equal(w.At)
	})
	return l
}

func equal[T any](t *testing.T, what string, got, want []T, same func(g, w T) bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d %ss, want %d", len(got), what, len(want))
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("%s %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// writeSteps makes a log of steps, one record a call, and returns its path
// and the offset at which each record starts.
func writeSteps(t *testing.T, dir string, steps []step) (string, []int64) {
	t.Helper()
	l, _ := mustOpen(t, dir, nil)
	path := filepath.Join(dir, FileName)
	var starts []int64
	for _, s := range steps {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, fi.Size())
		if err := appendSteps(l, []step{s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, starts
}

// wantCut fails the test unless Open warned, giving reason, and kept what
// it cut in one side file.
func wantCut(t *testing.T, logs *bytes.Buffer, path, reason string) {
	t.Helper()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), reason) {
		t.Fatalf("no warning saying %q in %q", reason, logs.String())
	}
	if sides, _ := filepath.Glob(path + ".damaged-*"); len(sides) != 1 {
		t.Fatalf("side files = %v, want one", sides)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data", "nested") // Open makes missing folders
			l := openWant(t, dir, nil, nil)
			want := k.records()
			if err := appendSteps(l, want[:2]); err != nil {
				t.Fatal(err)
			}
			for _, s := range want[2:] {
				if err := appendSteps(l, []step{s}); err != nil {
					t.Fatal(err)
				}
			}
			if err := errors.Join(l.Append(nil), l.AppendPrivate(nil)); err != nil {
				t.Fatalf("appending nothing: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openWant(t, dir, nil, want)
			if p := l.TakePrivate(); p != nil {
				t.Fatalf("second TakePrivate = %d entries, want nil", len(p))
			}
			// What is appended goes after what is there, and TakePrivate
			// does not hand it over: the node has it already.
			more := want[:2]
			if err := appendSteps(l, more); err != nil {
				t.Fatal(err)
			}
			if p := l.TakePrivate(); p != nil {
				t.Fatalf("TakePrivate after appending = %d entries, want nil", len(p))
			}
			l.Close()
			openWant(t, dir, nil, slices.Concat(want, more))
		})
	}
}

func TestReopenAndAppend(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			records := k.records()
			var want []step
			for round := range 5 {
				l := openWant(t, dir, nil, want)
				batch := []step{records[2*round%len(records)], records[(2*round+1)%len(records)]}
				if err := appendSteps(l, batch); err != nil {
					t.Fatal(err)
				}
				want = append(want, batch...)
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if err := appendSteps(l, batch); !errors.Is(err, ErrClosed) {
					t.Fatalf("appending after Close = %v, want ErrClosed", err)
				}
			}
		})
	}
}

// A crash can stop a write anywhere; every cut inside the last record must
// bring back all the records before it, and the log must go on from there.
func TestTornTail(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			want := k.records()[:3]
			path, starts := writeSteps(t, t.TempDir(), want)
			full, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			last := starts[len(starts)-1]
			for cut := last + 1; cut < int64(len(full)); cut++ {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, FileName), full[:cut], 0o600); err != nil {
					t.Fatal(err)
				}
				var logs bytes.Buffer
				l := openWant(t, dir, &logs, want[:len(want)-1])
				wantCut(t, &logs, filepath.Join(dir, FileName), "torn")
				if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Size() != last {
					t.Fatalf("cut at %d: log is %d bytes after Open, want %d", cut, fi.Size(), last)
				}
				if err := appendSteps(l, want[len(want)-1:]); err != nil {
					t.Fatal(err)
				}
				l.Close()
				openWant(t, dir, nil, want)
			}
		})
	}
}

// A flipped bit in any record cuts the log there, whatever kinds come
// after it, and keeps what was cut aside.
func TestCorruptRecord(t *testing.T) {
	for _, k := range kinds {
		want := k.records()
		for bad := range want {
			t.Run(fmt.Sprint(k.name, "/record", bad), func(t *testing.T) {
				dir := t.TempDir()
				path, starts := writeSteps(t, dir, want)
				full, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Flip one bit of the payload; the framing stays intact, so
				// only the checksum can tell.
				full[starts[bad]+headerSize+2] ^= 0x10
				if err := os.WriteFile(path, full, 0o600); err != nil {
					t.Fatal(err)
				}
				var logs bytes.Buffer
				l := openWant(t, dir, &logs, want[:bad])
				wantCut(t, &logs, path, "checksum")
				sides, _ := filepath.Glob(path + ".damaged-*")
				if saved, _ := os.ReadFile(sides[0]); !bytes.Equal(saved, full[starts[bad]:]) {
					t.Fatalf("side file holds %d bytes, want the %d cut", len(saved), len(full)-int(starts[bad]))
				}
				if err := appendSteps(l, want[bad:]); err != nil {
					t.Fatal(err)
				}
				l.Close()
				openWant(t, dir, nil, want)
			})
		}
	}
}

// Zeros past the end are what some file systems show after a power cut.
func TestZeroFilledTail(t *testing.T) {
	want := mixed()[:3]
	dir := t.TempDir()
	path, _ := writeSteps(t, dir, want)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 4096))
	f.Close()
	openWant(t, dir, nil, want)
}

func TestCorruptLength(t *testing.T) {
	want := mixed()[:3]
	dir := t.TempDir()
	path, starts := writeSteps(t, dir, want)
	full, _ := os.ReadFile(path)
	copy(full[starts[1]:], []byte{0xff, 0xff, 0xff, 0x7f}) // a length no record has
	os.WriteFile(path, full, 0o600)
	openWant(t, dir, nil, want[:1])
}

func TestNotALog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	content := []byte("some file the user keeps here, not ours\n")
	os.WriteFile(path, content, 0o600)
	if _, _, err := Open(dir, quietLogger(&bytes.Buffer{})); err == nil {
		t.Fatal("Open accepted a file without the header")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Fatal("Open changed a file that is not a log")
	}
}

func TestTornHeader(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(magic[:5]), 0o600)
	l := openWant(t, dir, nil, nil)
	want := mixed()[:2]
	if err := appendSteps(l, want); err != nil {
		t.Fatal(err)
	}
	l.Close()
	openWant(t, dir, nil, want)
}

func TestOneProcessPerFolder(t *testing.T) {
	dir := t.TempDir()
	l, _ := mustOpen(t, dir, nil)
	if _, _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open = %v, want an in-use error", err)
	}
	l.Close()
	l2, _ := mustOpen(t, dir, nil)
	l2.Close()
}
