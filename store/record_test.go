package store

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

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
	want := rumors([]gossiper.Entry{
		{Origin: "nodeA", ID: 1, Text: "Hello", Received: time.Unix(1, 0)},
		{Origin: "nodeB", ID: 2, Text: ""},
	})
	l := openWant(t, dir, &logs, want)
	if strings.Contains(logs.String(), "WARN") {
		t.Fatalf("opening an old log warned: %q", logs.String())
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, file) {
		t.Fatal("Open changed an old log")
	}
	more := privates(samplePrivates()[:1])
	if err := appendSteps(l, more); err != nil {
		t.Fatal(err)
	}
	l.Close()
	openWant(t, dir, nil, append(want, more...))
}

// A record of a kind this version does not know is treated as damage, as
// before private records existed: the log is cut there and the rest kept
// aside.
func TestUnknownKindIsCut(t *testing.T) {
	dir := t.TempDir()
	want := mixed()[:2]
	path, _ := writeSteps(t, dir, want)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(rawRecord([]byte{3, 'f', 'u', 't', 'u', 'r', 'e'}))
	f.Close()
	var logs bytes.Buffer
	openWant(t, dir, &logs, want)
	wantCut(t, &logs, path, "unknown record kind 3")
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

// Every kind's decoder, and decodeRecord, refuse a record cut short or with
// bytes after it.
func TestCodecsRejectGarbage(t *testing.T) {
	for _, c := range []struct {
		kind   string
		good   []byte
		decode func([]byte) error
	}{
		{"entry", encodeEntry(gossiper.Entry{Origin: "a", ID: 1, Text: "b"}),
			func(b []byte) error { _, err := decodeEntry(b); return err }},
		{"private", encodePrivate(gossiper.PrivateEntry{Origin: "a", Destination: "b", Text: "c", HopLimit: 10, Sent: true}),
			func(b []byte) error { _, err := decodePrivate(b); return err }},
	} {
		for _, decode := range []func([]byte) error{c.decode, func(b []byte) error { _, err := decodeRecord(b); return err }} {
			if err := decode(c.good); err != nil {
				t.Fatalf("%s: a good record refused: %v", c.kind, err)
			}
			for i := 0; i < len(c.good); i++ {
				if decode(c.good[:i]) == nil {
					t.Fatalf("%s: a record cut to %d bytes accepted", c.kind, i)
				}
			}
			if decode(append(c.good, 0)) == nil {
				t.Fatalf("%s: trailing bytes accepted", c.kind)
			}
		}
	}
	odd := encodePrivate(gossiper.PrivateEntry{Origin: "a", Destination: "b"})
	odd[1] = 0x02
	if _, err := decodePrivate(odd); err == nil {
		t.Fatal("decodePrivate accepted unknown flags")
	}
}
