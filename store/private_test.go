package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/messages"
)

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

func equalPrivates(t *testing.T, got, want []gossiper.PrivateEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d private entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Origin != w.Origin || g.Destination != w.Destination || g.Text != w.Text ||
			g.HopLimit != w.HopLimit || g.Sent != w.Sent || !g.At.Equal(w.At) {
			t.Fatalf("private entry %d = %+v, want %+v", i, g, w)
		}
	}
}

// step is one record of a mixed log: a rumor or a private message.
type step struct {
	entry   *gossiper.Entry
	private *gossiper.PrivateEntry
}

// mixed interleaves rumors and private messages: r p r p ... and the rest.
func mixed() []step {
	es, ps := sampleEntries(), samplePrivates()
	var steps []step
	for i := 0; i < max(len(es), len(ps)); i++ {
		if i < len(es) {
			steps = append(steps, step{entry: &es[i]})
		}
		if i < len(ps) {
			steps = append(steps, step{private: &ps[i]})
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

func appendStep(t *testing.T, l *Log, s step) {
	t.Helper()
	var err error
	if s.entry != nil {
		err = l.Append([]gossiper.Entry{*s.entry})
	} else {
		err = l.AppendPrivate([]gossiper.PrivateEntry{*s.private})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// writeMixed makes a log of steps, one record each, and returns its path and
// the offset at which each record starts.
func writeMixed(t *testing.T, dir string, steps []step) (string, []int64) {
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
		appendStep(t, l, s)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, starts
}

func TestPrivateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	steps := mixed()
	writeMixed(t, dir, steps)
	wantE, wantP := split(steps)

	l, got := mustOpen(t, dir, nil)
	equalEntries(t, got, wantE)
	equalPrivates(t, l.TakePrivate(), wantP)
	if p := l.TakePrivate(); p != nil {
		t.Fatalf("second TakePrivate = %d entries, want nil", len(p))
	}
	// A batch goes in whole, after what is there, and only shows at the
	// next Open.
	more := samplePrivates()[:2]
	if err := l.AppendPrivate(more); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendPrivate(nil); err != nil {
		t.Fatalf("AppendPrivate(nil) = %v", err)
	}
	l.Close()
	l, got = mustOpen(t, dir, nil)
	equalEntries(t, got, wantE)
	equalPrivates(t, l.TakePrivate(), append(wantP, more...))
}

// A crash in the middle of a private record loses that record only, as for
// a rumor, and the log goes on from there.
func TestPrivateTornTail(t *testing.T) {
	steps := mixed()[:4] // rumor, private, rumor, private
	path, starts := writeMixed(t, t.TempDir(), steps)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantE, wantP := split(steps)
	last := starts[len(starts)-1]
	for cut := last + 1; cut < int64(len(full)); cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		l, got := mustOpen(t, dir, &logs)
		equalEntries(t, got, wantE)
		equalPrivates(t, l.TakePrivate(), wantP[:len(wantP)-1])
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "torn") {
			t.Fatalf("cut at %d: no warning about a torn record in %q", cut, logs.String())
		}
		if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Size() != last {
			t.Fatalf("cut at %d: log is %d bytes after Open, want %d", cut, fi.Size(), last)
		}
		if err := l.AppendPrivate(wantP[len(wantP)-1:]); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, got = mustOpen(t, dir, nil)
		equalEntries(t, got, wantE)
		equalPrivates(t, l.TakePrivate(), wantP)
	}
}

// A flipped bit in a private record cuts the log there, rumors after it
// included, and keeps what was cut aside.
func TestCorruptPrivateRecord(t *testing.T) {
	steps := mixed()[:5]
	dir := t.TempDir()
	path, starts := writeMixed(t, dir, steps)
	full, _ := os.ReadFile(path)
	full[starts[1]+headerSize+3] ^= 0x01 // in the hop limit of the first private record
	os.WriteFile(path, full, 0o600)
	var logs bytes.Buffer
	l, got := mustOpen(t, dir, &logs)
	wantE, _ := split(steps[:1])
	equalEntries(t, got, wantE)
	if p := l.TakePrivate(); len(p) != 0 {
		t.Fatalf("kept %d private entries from a log damaged at the first", len(p))
	}
	if !strings.Contains(logs.String(), "checksum") {
		t.Fatalf("no warning about the checksum in %q", logs.String())
	}
	if sides, _ := filepath.Glob(path + ".damaged-*"); len(sides) != 1 {
		t.Fatalf("side files = %v, want one", sides)
	}
}

// record frames payload as the log does, without the code under test.
func rawRecord(payload []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	return append(b, payload...)
}

// A log written before private messages existed, byte for byte as that
// version wrote it, still opens, holds no private message, and takes them
// from then on.
func TestOldLogWithOnlyEntriesOpens(t *testing.T) {
	file := []byte("PEERSTER-LOG-v1\n")
	// Entry nodeA/1 "Hello" received at 1 s past the epoch; entry nodeB/2
	// "" with no time.
	file = append(file, rawRecord([]byte{
		1,          // kind
		1, 0, 0, 0, // ID
		0x00, 0xca, 0x9a, 0x3b, 0, 0, 0, 0, // received: 1e9 ns
		5, 'n', 'o', 'd', 'e', 'A',
		5, 'H', 'e', 'l', 'l', 'o',
	})...)
	file = append(file, rawRecord([]byte{
		1,
		2, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		5, 'n', 'o', 'd', 'e', 'B',
		0,
	})...)
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l, got := mustOpen(t, dir, &logs)
	wantE := []gossiper.Entry{
		{Origin: "nodeA", ID: 1, Text: "Hello", Received: time.Unix(1, 0)},
		{Origin: "nodeB", ID: 2, Text: ""},
	}
	equalEntries(t, got, wantE)
	if p := l.TakePrivate(); len(p) != 0 {
		t.Fatalf("an old log gave %d private entries", len(p))
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Fatalf("opening an old log warned: %q", logs.String())
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, file) {
		t.Fatal("Open changed an old log")
	}
	wantP := samplePrivates()[:1]
	if err := l.AppendPrivate(wantP); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, got = mustOpen(t, dir, nil)
	equalEntries(t, got, wantE)
	equalPrivates(t, l.TakePrivate(), wantP)
}

// A record of a kind this version does not know is treated as damage, as
// before private records existed: the log is cut there and the rest kept
// aside.
func TestUnknownKindIsCut(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeMixed(t, dir, mixed()[:2])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(rawRecord([]byte{3, 'f', 'u', 't', 'u', 'r', 'e'}))
	f.Close()
	var logs bytes.Buffer
	l, got := mustOpen(t, dir, &logs)
	wantE, wantP := split(mixed()[:2])
	equalEntries(t, got, wantE)
	equalPrivates(t, l.TakePrivate(), wantP)
	if !strings.Contains(logs.String(), "unknown record kind 3") {
		t.Fatalf("no warning naming the unknown kind in %q", logs.String())
	}
	if sides, _ := filepath.Glob(path + ".damaged-*"); len(sides) != 1 {
		t.Fatalf("side files = %v, want one", sides)
	}
}

func TestAppendPrivateAfterClose(t *testing.T) {
	l, _ := mustOpen(t, t.TempDir(), nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendPrivate(samplePrivates()[:1]); !errors.Is(err, ErrClosed) {
		t.Fatalf("AppendPrivate after Close = %v, want ErrClosed", err)
	}
}

// The private record's layout, pinned: a change here breaks every log
// already written.
func TestPrivateRecordFormat(t *testing.T) {
	got := encodePrivate(gossiper.PrivateEntry{Origin: "A", Destination: "BC", Text: "hi", HopLimit: 0x0102, Sent: true,
		At: time.Unix(0, 0x0807060504030201)})
	want := []byte{
		2,          // kind
		1,          // flags: sent
		2, 1, 0, 0, // hop limit
		1, 2, 3, 4, 5, 6, 7, 8, // at
		1, 'A',
		2, 'B', 'C',
		2, 'h', 'i',
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodePrivate = % x\nwant            % x", got, want)
	}
}

func TestPrivateCodecRejectsGarbage(t *testing.T) {
	good := encodePrivate(gossiper.PrivateEntry{Origin: "a", Destination: "b", Text: "c", HopLimit: 10, Sent: true})
	for i := 0; i < len(good); i++ {
		if _, err := decodePrivate(good[:i]); err == nil {
			t.Fatalf("decodePrivate accepted a record cut to %d bytes", i)
		}
	}
	if _, err := decodePrivate(append(good, 0)); err == nil {
		t.Fatal("decodePrivate accepted trailing bytes")
	}
	odd := bytes.Clone(good)
	odd[1] = 0x02
	if _, err := decodePrivate(odd); err == nil {
		t.Fatal("decodePrivate accepted unknown flags")
	}
	if _, err := decodeRecord(encodeEntry(gossiper.Entry{Origin: "a", ID: 1})); err != nil {
		t.Fatalf("decodeRecord refused an entry: %v", err)
	}
	if _, err := decodeRecord(nil); err == nil {
		t.Fatal("decodeRecord accepted an empty payload")
	}
}
