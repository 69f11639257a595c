// Package store keeps a node's chat history on disk, so that it survives a
// crash or a restart: the rumors it accepted, and the private messages it
// sent or received (never those it only forwarded).
//
// The history only ever grows, one accepted rumor or private message at a
// time, and is read back whole at start, so it is kept as an append-only log:
// one file of records, each framed by its length and a CRC-32C of its
// contents, fsync'ed before the node acts on what it stored. A record's first
// byte says what it holds, a rumor or a private message, and both kinds share
// the one file in the order they were written. The vector clock and the
// node's own next ID follow from the rumors, so nothing else is written.
//
// A crash can leave a record half written at the end of the file. Open keeps
// every record up to the first one that is torn or fails its checksum, saves
// the bytes after it to a side file and cuts the log there. A record of a
// kind this version does not know counts as damaged too: an older binary
// that meets a private record cuts the log there (and saves the rest aside).
package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// FileName is the log's name inside the data folder.
const FileName = "history.log"

// magic opens every log file; a file that starts otherwise is not ours, and
// Open refuses it rather than cutting it to nothing.
const magic = "PEERSTER-LOG-v1\n"

const (
	headerSize = 8 // length and CRC, 4 bytes each, little endian
	// maxRecord bounds the length field: a record holds at most a name and
	// a text of the sizes gossiper accepts, so anything longer is garbage
	// and must not make Open allocate it.
	maxRecord = 1 << 20
)

// crcTable is made on first use: a node without -data never needs it, and
// start-up stays short.
var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// ErrClosed is returned by Append and AppendPrivate after Close.
var ErrClosed = errors.New("store is closed")

// Log is an open history log. Its methods are safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	f      *os.File
	unlock func() error
	size   int64 // end of the last complete record
	broken error // set when a failed write could not be undone
	// private holds the private messages load read, until TakePrivate.
	private []gossiper.PrivateEntry
}

// Open opens the log in dir, creating dir and the log if they do not exist,
// and returns the rumor entries it holds, oldest first; TakePrivate hands
// over the private messages it holds. A torn or corrupt tail is cut off with
// a warning to logger (slog.Default() if nil). Only one process may have a
// folder open at a time.
func Open(dir string, logger *slog.Logger) (*Log, []gossiper.Entry, error) {
	var entries []gossiper.Entry
	var private []gossiper.PrivateEntry
	l, err := Replay(dir, logger,
		func(e gossiper.Entry) { entries = append(entries, e) },
		func(p gossiper.PrivateEntry) { private = append(private, p) })
	if err != nil {
		return nil, nil, err
	}
	l.private = private
	return l, entries, nil
}

// Replay opens the log in dir as Open does, but hands each record to rumor
// or private as it reads it, oldest first, and keeps none: a node restores
// a log of any size within its memory budget, forgetting as it goes.
func Replay(dir string, logger *slog.Logger, rumor func(gossiper.Entry), private func(gossiper.PrivateEntry)) (*Log, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	l := &Log{f: f, unlock: unlock}
	if err := l.load(path, dir, logger, rumor, private); err != nil {
		l.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return l, nil
}

// load reads the records, cuts a bad tail and leaves the file offset at
// the end, ready to append.
func (l *Log) load(path, dir string, logger *slog.Logger, rumor func(gossiper.Entry), private func(gossiper.PrivateEntry)) error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return l.initFile(dir)
	}
	r := bufio.NewReaderSize(l.f, 64<<10)
	torn, err := readHeader(r, fi.Size())
	if err != nil {
		return err
	}
	if torn {
		return l.initFile(dir)
	}
	found := replay(r, rumor, private)
	if found.bad != nil {
		if err := l.cutTail(path, fi.Size(), found, logger); err != nil {
			return err
		}
	}
	if _, err := l.f.Seek(found.good, io.SeekStart); err != nil {
		return err
	}
	l.size = found.good
	return nil
}

// readHeader reads the magic at the start of a log of size bytes. torn is
// true when the file is only the start of the magic: a crash while a new
// log's header was being written, which holds nothing to keep.
func readHeader(r io.Reader, size int64) (torn bool, err error) {
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err == nil && string(head) == magic {
		return false, nil
	}
	if size < int64(len(magic)) && bytes.HasPrefix([]byte(magic), head[:size]) {
		return true, nil
	}
	return false, fmt.Errorf("not a Peerster history log (no %q header)", magic[:len(magic)-1])
}

// replayed is what replay found: the offset where the records kept end, how
// many they are, and why reading stopped before the end of the file (nil
// at a clean end).
type replayed struct {
	good int64
	kept int
	bad  error
}

// replay hands each record after the header to rumor or private, up to the
// first one that is torn, fails its checksum or cannot be decoded.
func replay(r *bufio.Reader, rumor func(gossiper.Entry), private func(gossiper.PrivateEntry)) replayed {
	found := replayed{good: int64(len(magic))}
	for {
		payload, err := readRecord(r)
		if err == io.EOF {
			return found
		}
		var rec record
		if err == nil {
			rec, err = decodeRecord(payload)
		}
		if err != nil {
			found.bad = err
			return found
		}
		if rec.entry != nil {
			rumor(*rec.entry)
		} else {
			private(*rec.private)
		}
		found.kept++
		found.good += int64(headerSize + len(payload))
	}
}

// cutTail saves the bytes after the records kept aside, and cuts the log of
// size bytes there.
func (l *Log) cutTail(path string, size int64, found replayed, logger *slog.Logger) error {
	side, err := l.saveTail(path, found.good)
	logger.Warn("store: cutting damaged tail of history log",
		"file", path, "kept_records", found.kept, "cut_bytes", size-found.good, "saved_to", side, "reason", found.bad)
	if err != nil {
		return fmt.Errorf("saving damaged tail before cutting it: %w", err)
	}
	if err := l.f.Truncate(found.good); err != nil {
		return err
	}
	return l.f.Sync()
}

// initFile writes the header of a new log and makes the file's name durable
// too: a log whose directory entry is lost on a crash is lost whole.
func (l *Log) initFile(dir string) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(magic), 0); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return err
		}
	}
	if _, err := l.f.Seek(int64(len(magic)), io.SeekStart); err != nil {
		return err
	}
	l.size = int64(len(magic))
	return nil
}

// saveTail copies the bytes from off to the end into a side file, so that
// cutting a log damaged in its middle (a bad disk, not a crash) destroys
// nothing that someone might want to look at.
func (l *Log) saveTail(path string, off int64) (string, error) {
	side := fmt.Sprintf("%s.damaged-%d", path, time.Now().UnixNano())
	out, err := os.OpenFile(side, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, io.NewSectionReader(l.f, off, 1<<62))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return side, err
}

// readRecord returns the next record's payload, io.EOF at a clean end, or an
// error saying why the rest of the file is not a record.
func readRecord(r *bufio.Reader) ([]byte, error) {
	var h [headerSize]byte
	n, err := io.ReadFull(r, h[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("torn record header (%d of %d bytes)", n, headerSize)
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	sum := binary.LittleEndian.Uint32(h[4:8])
	if size == 0 || size > maxRecord {
		return nil, fmt.Errorf("record length %d out of range", size)
	}
	payload := make([]byte, size)
	if n, err := io.ReadFull(r, payload); err != nil {
		return nil, fmt.Errorf("torn record (%d of %d bytes)", n, size)
	}
	if crc32.Checksum(payload, crcTable()) != sum {
		return nil, errors.New("record checksum mismatch")
	}
	return payload, nil
}

// Append writes entries to the log and returns once they are on disk. On
// error none of them is kept.
func (l *Log) Append(entries []gossiper.Entry) error {
	var buf []byte
	for _, e := range entries {
		var err error
		if buf, err = frame(buf, encodeEntry(e)); err != nil {
			return fmt.Errorf("append: entry %s/%d: %w", e.Origin, e.ID, err)
		}
	}
	return l.write(buf)
}

// AppendPrivate writes private messages to the log, after what is there,
// and returns once they are on disk. On error none of them is kept.
func (l *Log) AppendPrivate(entries []gossiper.PrivateEntry) error {
	var buf []byte
	for _, p := range entries {
		var err error
		if buf, err = frame(buf, encodePrivate(p)); err != nil {
			return fmt.Errorf("append private: message from %s to %s: %w", p.Origin, p.Destination, err)
		}
	}
	return l.write(buf)
}

// TakePrivate returns the private messages the log held when Open read it,
// oldest first (not those appended since), and lets go of them: a second
// call returns nil, so the log does not keep a copy of what the node keeps.
func (l *Log) TakePrivate() []gossiper.PrivateEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.private
	l.private = nil
	return p
}

// frame appends payload to buf behind its length and checksum.
func frame(buf, payload []byte) ([]byte, error) {
	if len(payload) > maxRecord {
		return buf, fmt.Errorf("%d bytes, more than %d", len(payload), maxRecord)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, crcTable()))
	return append(buf, payload...), nil
}

// write appends framed records to the file and syncs it; on error it takes
// them back.
func (l *Log) write(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if l.broken != nil {
		return fmt.Errorf("append: store unusable after an earlier failure: %w", l.broken)
	}
	_, err := l.f.Write(buf)
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		// A partial record left in place would hide every later one from
		// Open, so take it back; if even that fails, stop appending.
		if terr := l.undo(); terr != nil {
			l.broken = terr
		}
		return fmt.Errorf("append: %w", err)
	}
	l.size += int64(len(buf))
	return nil
}

func (l *Log) undo() error {
	if err := l.f.Truncate(l.size); err != nil {
		return err
	}
	_, err := l.f.Seek(l.size, io.SeekStart)
	return err
}

// Close releases the log. Everything Append returned for is already on disk.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.unlock()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
