package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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

func equalEntries(t *testing.T, got, want []gossiper.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Origin != w.Origin || g.ID != w.ID || g.Text != w.Text || !g.Received.Equal(w.Received) {
			t.Fatalf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested") // Open makes missing folders
	l, got := mustOpen(t, dir, nil)
	if len(got) != 0 {
		t.Fatalf("new store holds %d entries", len(got))
	}
	want := sampleEntries()
	if err := l.Append(want[:2]); err != nil {
		t.Fatal(err)
	}
	for _, e := range want[2:] {
		if err := l.Append([]gossiper.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Append(nil); err != nil {
		t.Fatalf("Append(nil) = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, got = mustOpen(t, dir, nil)
	equalEntries(t, got, want)
}

func TestReopenAndAppend(t *testing.T) {
	dir := t.TempDir()
	var want []gossiper.Entry
	for round := range 5 {
		l, got := mustOpen(t, dir, nil)
		equalEntries(t, got, want)
		batch := []gossiper.Entry{
			{Origin: "a", ID: uint32(2*round + 1), Text: fmt.Sprint("round ", round)},
			{Origin: "a", ID: uint32(2*round + 2), Text: ""},
		}
		if err := l.Append(batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Append(batch); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Close = %v, want ErrClosed", err)
		}
	}
}

// writeLog makes a log holding entries and returns its path and the file
// offset at which each record starts.
func writeLog(t *testing.T, dir string, entries []gossiper.Entry) (string, []int64) {
	t.Helper()
	l, _ := mustOpen(t, dir, nil)
	path := filepath.Join(dir, FileName)
	var starts []int64
	for _, e := range entries {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, fi.Size())
		if err := l.Append([]gossiper.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, starts
}

// A crash can stop a write anywhere; every cut inside the last record must
// bring back all the records before it, and the log must go on from there.
func TestTornTail(t *testing.T) {
	want := sampleEntries()[:3]
	src := t.TempDir()
	path, starts := writeLog(t, src, want)
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
		l, got := mustOpen(t, dir, &logs)
		equalEntries(t, got, want[:len(want)-1])
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "torn") {
			t.Fatalf("cut at %d: no warning about a torn record in %q", cut, logs.String())
		}
		if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Size() != last {
			t.Fatalf("cut at %d: log is %d bytes after Open, want %d", cut, fi.Size(), last)
		}
		if err := l.Append(want[len(want)-1:]); err != nil {
			t.Fatal(err)
		}
		l.Close()
		_, got = mustOpen(t, dir, nil)
		equalEntries(t, got, want)
	}
}

// Zeros past the end are what some file systems show after a power cut.
func TestZeroFilledTail(t *testing.T) {
	want := sampleEntries()[:2]
	dir := t.TempDir()
	path, _ := writeLog(t, dir, want)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 4096))
	f.Close()
	_, got := mustOpen(t, dir, nil)
	equalEntries(t, got, want)
}

func TestCorruptRecord(t *testing.T) {
	want := sampleEntries()
	for bad := range want {
		t.Run(fmt.Sprint("record", bad), func(t *testing.T) {
			dir := t.TempDir()
			path, starts := writeLog(t, dir, want)
			full, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Flip one bit of the payload; the framing stays intact, so only
			// the checksum can tell.
			full[starts[bad]+headerSize+2] ^= 0x10
			if err := os.WriteFile(path, full, 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			l, got := mustOpen(t, dir, &logs)
			equalEntries(t, got, want[:bad])
			if !strings.Contains(logs.String(), "checksum") {
				t.Fatalf("no warning about the checksum in %q", logs.String())
			}
			// What was cut is kept aside, byte for byte.
			sides, _ := filepath.Glob(path + ".damaged-*")
			if len(sides) != 1 {
				t.Fatalf("side files = %v, want one", sides)
			}
			saved, _ := os.ReadFile(sides[0])
			if !bytes.Equal(saved, full[starts[bad]:]) {
				t.Fatalf("side file holds %d bytes, want the %d cut", len(saved), len(full)-int(starts[bad]))
			}
			if err := l.Append(want[bad:]); err != nil {
				t.Fatal(err)
			}
			l.Close()
			_, got = mustOpen(t, dir, nil)
			equalEntries(t, got, want)
		})
	}
}

func TestCorruptLength(t *testing.T) {
	want := sampleEntries()[:3]
	dir := t.TempDir()
	path, starts := writeLog(t, dir, want)
	full, _ := os.ReadFile(path)
	copy(full[starts[1]:], []byte{0xff, 0xff, 0xff, 0x7f}) // a length no record has
	os.WriteFile(path, full, 0o600)
	_, got := mustOpen(t, dir, nil)
	equalEntries(t, got, want[:1])
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
	l, got := mustOpen(t, dir, nil)
	if len(got) != 0 {
		t.Fatalf("got %d entries", len(got))
	}
	want := sampleEntries()[:1]
	if err := l.Append(want); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, got = mustOpen(t, dir, nil)
	equalEntries(t, got, want)
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

func TestEntryCodecRejectsGarbage(t *testing.T) {
	good := encodeEntry(gossiper.Entry{Origin: "a", ID: 1, Text: "b"})
	for i := 0; i < len(good); i++ {
		if _, err := decodeEntry(good[:i]); err == nil {
			t.Fatalf("decodeEntry accepted a record cut to %d bytes", i)
		}
	}
	if _, err := decodeEntry(append(good, 0)); err == nil {
		t.Fatal("decodeEntry accepted trailing bytes")
	}
}
