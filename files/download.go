package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Partial is a download in progress.
type Partial struct {
	Name     string // the name it is saved under in the downloads folder
	MetaHash Hash
	Dest     string // the node it is downloaded from, kept for resuming
	Metafile []byte // nil until the metafile arrived
	Have     []bool // the chunks written, by index; nil until the metafile arrived
}

// partial is a download in progress, as the library keeps it.
type partial struct {
	name     string
	meta     Hash
	dest     string
	begun    time.Time // orders Partials across restarts
	metafile []byte    // never changed once set
	have     []bool
	lastLen  int // length of the last chunk, once written
	busy     bool

	fileName string // in the partial folder
	path     string
	f        *os.File
	unlock   func() error
}

func (p *partial) snapshot() Partial {
	return Partial{
		Name:     p.name,
		MetaHash: p.meta,
		Dest:     p.dest,
		Metafile: slices.Clone(p.metafile),
		Have:     slices.Clone(p.have),
	}
}

func (p *partial) chunks() int { return len(p.metafile) / HashSize }

// chunkLen is the length of chunk i, which must be written.
func (p *partial) chunkLen(i int) int {
	if i == p.chunks()-1 {
		return p.lastLen
	}
	return ChunkSize
}

// release closes the partial file, which drops its lock.
func (p *partial) release() error {
	err := p.unlock()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l *Library) partialByMeta(meta Hash) *partial {
	for _, p := range l.partials {
		if p.meta == meta {
			return p
		}
	}
	return nil
}

func (l *Library) partialByName(name string) *partial {
	for _, p := range l.partials {
		if p.name == name {
			return p
		}
	}
	return nil
}

// Begin starts downloading the file with metahash meta from the node dest,
// to be saved as name in the downloads folder. Beginning again a download in
// progress under the same name resumes it: Begin returns it as it stands,
// with dest updated if given. Begin refuses an invalid name, a name a
// different file in the downloads folder or another download has, a file
// this node already has (ErrAlreadyHave, naming it) and a file another
// download fetches.
//
// A file of that name already in the downloads folder with exactly the
// content of meta does not stop the download: several nodes run in one
// folder may each download the same file under the same name, and each
// then ends with that one file.
func (l *Library) Begin(name string, meta Hash, dest string) (Partial, error) {
	final, err := inside(l.downloads, name)
	if err != nil {
		return Partial{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Partial{}, ErrClosed
	}
	if p := l.partialByMeta(meta); p != nil {
		return l.resume(p, name, meta, dest)
	}
	if err := l.mayBegin(name, final, meta); err != nil {
		return Partial{}, err
	}
	f, base, unlock, err := l.createPartialFile(meta)
	if err != nil {
		return Partial{}, fmt.Errorf("cannot download %s as %q: %w", meta, name, err)
	}
	p := &partial{name: name, meta: meta, dest: dest, begun: time.Now(), fileName: base, path: filepath.Join(l.partialDir, base), f: f, unlock: unlock}
	if l.stateDir != "" {
		// The partial file's name must survive a crash before the record
		// naming it does.
		err = syncDir(l.partialDir)
		if err == nil {
			err = l.saveRecord(p)
		}
		if err != nil {
			os.Remove(p.path)
			p.release()
			return Partial{}, errorf(ErrDisk, "cannot download %s as %q: %w", meta, name, err)
		}
	}
	l.partials = append(l.partials, p)
	return p.snapshot(), nil
}

// resume returns p, the download of meta in progress, begun again as name
// from dest (none: the node it had).
func (l *Library) resume(p *partial, name string, meta Hash, dest string) (Partial, error) {
	if p.name != name {
		return Partial{}, errorf(ErrDownloading, "cannot download %s as %q: it is already being downloaded as %q", meta, name, p.name)
	}
	if dest != "" && dest != p.dest {
		old := p.dest
		p.dest = dest
		if err := l.saveRecord(p); err != nil {
			p.dest = old
			return Partial{}, err
		}
	}
	return p.snapshot(), nil
}

// mayBegin says why a new download of meta, saved as name at final, cannot
// begin, or nil.
func (l *Library) mayBegin(name, final string, meta Hash) error {
	if p := l.partialByName(name); p != nil {
		return errorf(ErrNameTaken, "cannot download %s as %q: another download (of %s) is saving to that name", meta, name, p.meta)
	}
	if e := l.entryByMeta(meta); e != nil {
		where := "shares it"
		if e.downloaded {
			where = "downloaded it"
		}
		return fmt.Errorf("cannot download %s as %q: %w: it %s as %q", meta, name, ErrAlreadyHave, where, e.name)
	}
	if l.count() >= l.maxFiles {
		return l.fullError("download " + name)
	}
	if fi, err := os.Lstat(final); err == nil {
		if !fi.Mode().IsRegular() || !holds(final, meta) {
			return errorf(ErrNameTaken, "cannot download %s as %q: a different file of that name is already in the downloads folder %s", meta, name, l.downloads)
		}
	}
	return nil
}

// holds says whether the file at path has exactly the content named meta.
func holds(path string, meta Hash) bool {
	mf, _, err := hashFile(path, filepath.Base(path))
	return err == nil && HashOf(mf) == meta
}

// createPartialFile creates and locks a new partial file for meta. The
// random part of its name keeps nodes sharing a downloads folder apart. A
// node cleaning stale partial files could lock and remove the file between
// its creation and its locking, so after locking it checks that the file is
// still the one at that name, and otherwise tries another name.
func (l *Library) createPartialFile(meta Hash) (*os.File, string, func() error, error) {
	for range 8 {
		var rnd [8]byte
		rand.Read(rnd[:])
		base := meta.String() + "-" + hex.EncodeToString(rnd[:])
		path := filepath.Join(l.partialDir, base)
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", nil, errorf(ErrDisk, "cannot create a partial file in %s: %w", l.partialDir, err)
		}
		unlock, ok, err := tryLock(f)
		if err == nil && ok {
			// The file becomes the download by a link: it gets the mode a
			// downloaded file has now, whatever the umask.
			if err = f.Chmod(0o644); err != nil {
				unlock()
			}
		}
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, "", nil, errorf(ErrDisk, "cannot prepare the partial file %s: %w", path, err)
		}
		if !ok {
			f.Close()
			continue
		}
		if sameFile(f, path) {
			return f, base, unlock, nil
		}
		unlock()
		f.Close()
	}
	return nil, "", nil, errorf(ErrDisk, "cannot create a partial file in %s: every name tried was taken", l.partialDir)
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// SetMetafile gives the download of meta its metafile, once it arrived. It
// checks that the metafile hashes to meta and lists 1 to 256 chunks. Setting
// it again is harmless.
func (l *Library) SetMetafile(meta Hash, metafile []byte) error {
	if got := HashOf(metafile); got != meta {
		return errorf(ErrInvalid, "the metafile received for %s does not match it (its hash is %s)", meta, got)
	}
	if _, err := ChunkHashes(metafile); err != nil {
		return fmt.Errorf("the metafile of %s is malformed: %w", meta, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p, err := l.current(meta, false)
	if err != nil {
		return err
	}
	if p.metafile != nil {
		return nil
	}
	p.setMetafile(slices.Clone(metafile))
	if err := l.saveRecord(p); err != nil {
		p.metafile, p.have = nil, nil
		return err
	}
	l.addPartialRefs(p)
	return nil
}

func (p *partial) setMetafile(metafile []byte) {
	p.metafile = metafile
	p.have = make([]bool, len(metafile)/HashSize)
}

// current returns the download of meta, if one is in progress and, unless
// busyOK, not being completed; l.mu must be held.
func (l *Library) current(meta Hash, busyOK bool) (*partial, error) {
	if l.closed {
		return nil, ErrClosed
	}
	p := l.partialByMeta(meta)
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoDownload, meta)
	}
	if p.busy && !busyOK {
		return nil, fmt.Errorf("the download of %q is being completed", p.name)
	}
	return p, nil
}

func (l *Library) addPartialRefs(p *partial) {
	l.refs[p.meta] = append(l.refs[p.meta], ref{p: p, index: -1})
	for i := range p.chunks() {
		h := chunkHash(p.metafile, i)
		l.refs[h] = append(l.refs[h], ref{p: p, index: i})
	}
}

func (l *Library) dropPartial(p *partial) {
	l.partials = slices.DeleteFunc(l.partials, func(x *partial) bool { return x == p })
	l.dropRefs(p.meta, p.metafile, func(r ref) bool { return r.p == p })
}

// WriteChunk writes chunk index (counted from 0) of the download of meta,
// after checking data against the hash the metafile lists for it. Every
// chunk but the last must be a full 8 KiB. Writing a chunk already written
// is harmless. With a StateDir the chunk is on disk, fsync'ed, when
// WriteChunk returns.
func (l *Library) WriteChunk(meta Hash, index int, data []byte) error {
	l.mu.Lock()
	p, err := l.current(meta, true)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	if err := p.checkChunk(index, data); err != nil {
		l.mu.Unlock()
		return err
	}
	if p.have[index] {
		// A reply that came twice, perhaps while Complete runs.
		l.mu.Unlock()
		return nil
	}
	if p.busy {
		l.mu.Unlock()
		return fmt.Errorf("the download of %q is being completed", p.name)
	}
	f := p.f
	l.mu.Unlock()

	// Written unlocked, so that the fsync of one chunk does not hold up
	// Read and other downloads; two writers of one chunk write the same
	// bytes.
	_, err = f.WriteAt(data, int64(index)*ChunkSize)
	if err == nil && l.stateDir != "" {
		err = f.Sync()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partialByMeta(meta) != p {
		return fmt.Errorf("%w: %s (it ended while chunk %d was being written)", ErrNoDownload, meta, index+1)
	}
	if err != nil {
		return errorf(ErrDisk, "cannot write chunk %d of %q: %w", index+1, p.name, err)
	}
	p.have[index] = true
	if index == p.chunks()-1 {
		p.lastLen = len(data)
	}
	return nil
}

// checkChunk returns an error if data cannot be chunk index of p.
func (p *partial) checkChunk(index int, data []byte) error {
	if p.metafile == nil {
		return fmt.Errorf("cannot write a chunk of %q: its metafile has not arrived yet", p.name)
	}
	n := p.chunks()
	switch {
	case index < 0 || index >= n:
		return errorf(ErrInvalid, "cannot write chunk %d of %q: it has chunks 1 to %d", index+1, p.name, n)
	case len(data) == 0:
		return errorf(ErrInvalid, "chunk %d of %q is empty", index+1, p.name)
	case len(data) > ChunkSize:
		return errorf(ErrInvalid, "chunk %d of %q is %d bytes, more than the %d a chunk may be", index+1, p.name, len(data), ChunkSize)
	case index < n-1 && len(data) != ChunkSize:
		// A short chunk in the middle would leave a hole in the file.
		return errorf(ErrInvalid, "chunk %d of %q is %d bytes, but every chunk but the last is %d", index+1, p.name, len(data), ChunkSize)
	case HashOf(data) != chunkHash(p.metafile, index):
		return errorf(ErrInvalid, "chunk %d of %q does not match its hash in the metafile", index+1, p.name)
	}
	return nil
}

// forgetChunk marks chunk index of p as missing after Read found it wrong on
// disk, so that Complete waits for it to be written again.
func (l *Library) forgetChunk(p *partial, index int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partialByMeta(p.meta) == p && !p.busy {
		p.have[index] = false
	}
}

// Complete finishes the download of meta once every chunk is written: it
// checks the whole partial file against the metafile, gives it its name in
// the downloads folder (never replacing a file there, unless that file has
// this very content), indexes it as a downloaded file, which Read then
// serves, and forgets the download. The file is on disk, fsync'ed, when
// Complete returns.
func (l *Library) Complete(meta Hash) (File, error) {
	l.mu.Lock()
	p, err := l.current(meta, false)
	if err != nil {
		l.mu.Unlock()
		return File{}, err
	}
	if p.metafile == nil {
		l.mu.Unlock()
		return File{}, fmt.Errorf("cannot complete %q: its metafile has not arrived yet", p.name)
	}
	if missing := p.missing(); len(missing) > 0 {
		l.mu.Unlock()
		return File{}, fmt.Errorf("cannot complete %q: %d of its %d chunks are missing, the first chunk %d", p.name, len(missing), p.chunks(), missing[0]+1)
	}
	// busy turns away other calls for meta while the file is checked and
	// renamed unlocked; WriteChunk takes no new chunk as all are in.
	p.busy = true
	l.mu.Unlock()

	e, err := l.finish(p)

	l.mu.Lock()
	defer l.mu.Unlock()
	p.busy = false
	if err != nil {
		return File{}, err
	}
	l.dropPartial(p)
	l.addEntry(e)
	err = l.saveIndex()
	if err == nil {
		err = l.removeRecord(p.meta)
	}
	p.release()
	if err != nil {
		// The file is whole under its name, and the next Open adopts it
		// from the leftover record: report, but the download is done.
		l.log.Warn("files: download complete, but its state could not be saved", "file", e.path, "error", err)
	}
	return e.file(), nil
}

func (p *partial) missing() []int {
	var m []int
	for i, ok := range p.have {
		if !ok {
			m = append(m, i)
		}
	}
	return m
}

// finish checks p's partial file, makes it durable and names it; l.mu must
// not be held.
func (l *Library) finish(p *partial) (*entry, error) {
	n := p.chunks()
	size := int64(n-1)*ChunkSize + int64(p.lastLen)
	// The file cannot extend past its last chunk, but a partial file is
	// not worth trusting on that.
	if err := p.f.Truncate(size); err != nil {
		return nil, errorf(ErrDisk, "cannot complete %q: %w", p.name, err)
	}
	for i := range n {
		data, err := readChunkFrom(p.f, int64(i)*ChunkSize, p.chunkLen(i))
		if err != nil || HashOf(data) != chunkHash(p.metafile, i) {
			l.mu.Lock()
			p.have[i] = false
			l.mu.Unlock()
			return nil, errorf(ErrDisk, "cannot complete %q: chunk %d is damaged on disk and must be fetched again", p.name, i+1)
		}
	}
	if err := p.f.Sync(); err != nil {
		return nil, errorf(ErrDisk, "cannot complete %q: %w", p.name, err)
	}
	final, err := inside(l.downloads, p.name)
	if err != nil {
		return nil, err
	}
	err = linkNoClobber(p.path, final)
	if errors.Is(err, errNameTaken) {
		if !holds(final, p.meta) {
			return nil, errorf(ErrNameTaken, "cannot complete %q: a different file of that name appeared in the downloads folder %s meanwhile; abort this download and start it again under another name", p.name, l.downloads)
		}
		err = nil // another node in this folder saved the same file
	}
	if err == nil {
		err = syncDir(l.downloads)
	}
	if err != nil {
		return nil, errorf(ErrDisk, "cannot complete %q: cannot save it in the downloads folder: %w", p.name, err)
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.log.Warn("files: cannot remove a partial file", "file", p.path, "error", err)
	}
	return &entry{name: p.name, meta: p.meta, size: size, downloaded: true, metafile: p.metafile, path: final}, nil
}

// Abort stops the download of meta and removes what it wrote.
func (l *Library) Abort(meta Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, err := l.current(meta, false)
	if err != nil {
		return err
	}
	if err := l.removeRecord(meta); err != nil {
		return err
	}
	l.dropPartial(p)
	// Removed before it is closed, so that no cleaner can meet it unlocked.
	err = os.Remove(p.path)
	p.release()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.log.Warn("files: cannot remove a partial file", "file", p.path, "error", err)
	}
	return nil
}

// Partials returns the downloads in progress, in the order they began: at
// start, those an earlier run left, for the gossiper to resume.
func (l *Library) Partials() []Partial {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Partial, 0, len(l.partials))
	for _, p := range l.partials {
		out = append(out, p.snapshot())
	}
	return out
}

// isPartialFileName says whether base is a name createPartialFile makes, so
// that a damaged record cannot lead elsewhere and cleaning removes nothing
// else.
func isPartialFileName(base string, meta *Hash) bool {
	h, rnd, ok := strings.Cut(base, "-")
	if !ok || len(rnd) != 16 {
		return false
	}
	if _, err := hex.DecodeString(rnd); err != nil {
		return false
	}
	m, err := ParseHash(h)
	if err != nil || m.String() != h {
		return false
	}
	return meta == nil || m == *meta
}
