package files

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Folders the protocol names, relative to the gossiper's working directory;
// Open uses them when Options leaves a folder empty.
const (
	DefaultSharedDir    = "_SharedFiles"
	DefaultDownloadsDir = "_Downloads"
)

// DefaultMaxFiles is how many files a Library keeps, shared, downloaded and
// downloading together, when Options.MaxFiles is 0: with a metafile of up to
// 8 KiB and a map entry per chunk each, about 20 MiB of index at most.
const DefaultMaxFiles = 1024

// partialDirName is the folder inside DownloadsDir for downloads in
// progress. It starts with a dot so that ValidateName keeps every download's
// name from reaching it.
const partialDirName = ".partial"

// File is a file the node shares: one it indexed from the shared folder, or
// one it downloaded.
type File struct {
	Name       string
	MetaHash   Hash
	Size       int64
	Chunks     int
	Downloaded bool   // in the downloads folder, else in the shared folder
	Metafile   []byte // the chunk hashes, a copy the caller may keep
}

// Options says where a Library keeps its files.
type Options struct {
	// SharedDir holds the files the user shares (DefaultSharedDir if
	// empty), DownloadsDir the files the node downloaded
	// (DefaultDownloadsDir if empty). Open creates them if missing.
	SharedDir, DownloadsDir string
	// StateDir, if set, keeps across restarts which files are shared and
	// the downloads in progress, so that they resume. If empty, all that
	// is kept in memory only, as graders run nodes, and a restart forgets
	// it: partial files left by an earlier run are removed.
	StateDir string
	// Logger gets what the user should know but no caller asked about,
	// such as a shared file dropped because it changed on disk.
	// slog.Default() if nil.
	Logger *slog.Logger
	// MaxFiles bounds the files shared, downloaded and being downloaded at
	// once, and with them the memory the index takes. DefaultMaxFiles if 0.
	MaxFiles int
}

// Library is the set of files a node shares and downloads. It is safe for
// concurrent use.
type Library struct {
	shared, downloads, partialDir string
	stateDir                      string
	log                           *slog.Logger
	maxFiles                      int

	stateLock   *os.File // StateDir/lock, held while open
	stateUnlock func() error

	mu       sync.Mutex
	closed   bool
	entries  []*entry   // shared and downloaded, in the order indexed
	partials []*partial // in the order begun
	// refs finds, for a hash, the metafiles and chunks that have it: a
	// chunk common to two files, such as one of zeros, is in both.
	refs map[Hash][]ref
}

// entry is a complete file in the index.
type entry struct {
	name       string
	meta       Hash
	size       int64
	downloaded bool
	metafile   []byte // never changed once set: Read hands it out unlocked
	path       string
	gone       bool // removed from the index (Read may still hold it)
}

// ref is where the bytes of a hash are: chunk index of a complete file
// (e) or a download (p), or their metafile if index is -1.
type ref struct {
	e     *entry
	p     *partial
	index int
}

// Open opens the library in the folders opts names, creating them if
// missing. With a StateDir it takes that folder for itself (a second node on
// it is refused) and loads what an earlier run shared and downloaded, each
// file checked to still hash as recorded (one changed or deleted since is
// dropped, with a log line), and its downloads in progress, with the chunks
// their partial files hold.
func Open(opts Options) (*Library, error) {
	if opts.MaxFiles < 0 {
		return nil, errorf(ErrInvalid, "open file library: MaxFiles is %d, and must be 0 (for the default) or more", opts.MaxFiles)
	}
	l := &Library{
		shared:    orDefault(opts.SharedDir, DefaultSharedDir),
		downloads: orDefault(opts.DownloadsDir, DefaultDownloadsDir),
		stateDir:  opts.StateDir,
		log:       opts.Logger,
		maxFiles:  opts.MaxFiles,
		refs:      make(map[Hash][]ref),
	}
	l.partialDir = filepath.Join(l.downloads, partialDirName)
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.maxFiles == 0 {
		l.maxFiles = DefaultMaxFiles
	}
	for _, d := range []struct {
		path, what string
		perm       fs.FileMode
	}{
		{l.shared, "shared folder", 0o755},
		{l.downloads, "downloads folder", 0o755},
		{l.partialDir, "folder for partial downloads", 0o700},
	} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return nil, errorf(ErrDisk, "open file library: cannot create the %s %s: %w", d.what, d.path, err)
		}
	}
	l.sweepUploads()
	if l.stateDir == "" {
		l.removeStalePartials()
		return l, nil
	}
	if err := l.openState(); err != nil {
		l.Close()
		return nil, fmt.Errorf("open file library: %w", err)
	}
	return l, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Close releases the library's files and locks. It writes nothing: with a
// StateDir, all a method returned for is durable already, so a node killed
// without Close resumes as well as one closed.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, p := range l.partials {
		errs = append(errs, p.release())
	}
	if l.stateLock != nil {
		errs = append(errs, l.stateUnlock(), l.stateLock.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return errorf(ErrDisk, "close file library: %w", err)
	}
	return nil
}

// count is how many files the library keeps, toward MaxFiles.
func (l *Library) count() int { return len(l.entries) + len(l.partials) }

// Share indexes the file name of the shared folder and returns it. Sharing
// a file already shared returns it again, or indexes it anew if it changed.
// It refuses an invalid name, a missing file, a folder, an empty file (it
// has no chunk, and implementations differ on its metahash) and a file over
// 2 MiB. A symbolic link is followed: only the node's user puts files there.
func (l *Library) Share(name string) (File, error) {
	path, err := inside(l.shared, name)
	if err != nil {
		return File{}, err
	}
	metafile, size, err := hashFile(path, name)
	if err != nil {
		return File{}, err
	}
	return l.index(&entry{name: name, meta: HashOf(metafile), size: size, metafile: metafile, path: path})
}

// index adds e to the index and saves the index, unless a file of that name
// and folder is there already with the same content, which it returns.
func (l *Library) index(e *entry) (File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return File{}, ErrClosed
	}
	var old *entry
	for _, o := range l.entries {
		if o.name == e.name && o.downloaded == e.downloaded {
			old = o
			break
		}
	}
	if old != nil && old.meta == e.meta {
		return old.file(), nil
	}
	if old == nil && l.count() >= l.maxFiles {
		return File{}, l.fullError("share " + e.name)
	}
	if old != nil {
		l.removeEntry(old)
	}
	l.addEntry(e)
	if err := l.saveIndex(); err != nil {
		l.removeEntry(e)
		if old != nil {
			old.gone = false
			l.addEntry(old)
		}
		return File{}, fmt.Errorf("cannot share %s: %w", e.name, err)
	}
	return e.file(), nil
}

func (l *Library) fullError(what string) error {
	return errorf(ErrTooManyFiles, "cannot %s: this node already keeps %d files, shared, downloaded or downloading, the most it may", what, l.maxFiles)
}

// Put writes data to the file name of the shared folder and shares it: the
// web page uploads this way. If a file of that name is there with the same
// bytes, Put shares it; with other bytes, Put refuses rather than replace
// it. The file is on disk, fsync'ed, before Put returns.
func (l *Library) Put(name string, data []byte) (File, error) {
	path, err := inside(l.shared, name)
	if err != nil {
		return File{}, err
	}
	if len(data) == 0 {
		return File{}, errorf(ErrInvalid, "%s is empty, and an empty file has no chunk to share", name)
	}
	if len(data) > MaxFileSize {
		return File{}, tooBig(name, int64(len(data)))
	}
	if err := l.sameOrAbsent(path, name, data); err != nil {
		return File{}, err
	}
	l.mu.Lock()
	full := !l.closed && l.count() >= l.maxFiles && !l.hasName(name, false)
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return File{}, ErrClosed
	}
	if full {
		// Checked before writing, so that a refused upload leaves nothing.
		return File{}, l.fullError("share " + name)
	}
	if err := l.writeShared(path, name, data); err != nil {
		return File{}, err
	}
	return l.Share(name)
}

func (l *Library) hasName(name string, downloaded bool) bool {
	for _, e := range l.entries {
		if e.name == name && e.downloaded == downloaded {
			return true
		}
	}
	return false
}

// sameOrAbsent returns nil if there is no file at path or it holds data, and
// an error saying why Put may not write there otherwise.
func (l *Library) sameOrAbsent(path, name string, data []byte) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errorf(ErrDisk, "cannot check the shared folder for %s: %w", name, err)
	}
	if fi.IsDir() {
		return errorf(ErrNameTaken, "cannot save %s: the shared folder has a folder of that name", name)
	}
	if fi.Mode().IsRegular() && fi.Size() == int64(len(data)) {
		have, err := os.ReadFile(path)
		if err != nil {
			return errorf(ErrDisk, "cannot compare %s with the file of that name in the shared folder: %w", name, err)
		}
		if bytes.Equal(have, data) {
			return nil
		}
	}
	return errorf(ErrNameTaken, "cannot save %s: a different file of that name is already in the shared folder; choose another name", name)
}

// uploadPrefix starts the name of the temporary file an upload is written
// to; the dot hides it and keeps Share from taking it.
const uploadPrefix = ".upload" + tmpMark

// staleUpload is how old an upload's temporary file must be for Open to
// take it as a crash's leftover: another node running in the same folder
// may be writing a younger one.
const staleUpload = time.Hour

// sweepUploads removes the temporary files uploads cut by a crash left in
// the shared folder.
func (l *Library) sweepUploads() {
	ents, _ := os.ReadDir(l.shared)
	for _, de := range ents {
		if !strings.HasPrefix(de.Name(), uploadPrefix) {
			continue
		}
		if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleUpload {
			os.Remove(filepath.Join(l.shared, de.Name()))
		}
	}
}

// writeShared writes data to a hidden temporary file of the shared folder
// and then gives it its name, so that the name never shows a half-written
// file and never replaces one that appeared meanwhile.
func (l *Library) writeShared(path, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(l.shared, uploadPrefix+"*")
	if err != nil {
		return errorf(ErrDisk, "cannot save %s in the shared folder: %w", name, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = linkNoClobber(tmp.Name(), path)
	}
	if errors.Is(err, errNameTaken) {
		// Another upload of the same name won the race.
		return l.sameOrAbsent(path, name, data)
	}
	if err == nil {
		err = syncDir(l.shared)
	}
	if err != nil {
		return errorf(ErrDisk, "cannot save %s in the shared folder: %w", name, err)
	}
	return nil
}

// Files returns the files shared and downloaded, in the order indexed.
func (l *Library) Files() []File {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]File, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, e.file())
	}
	return out
}

// Lookup returns the file with metahash meta, the first indexed if two have
// the same content.
func (l *Library) Lookup(meta Hash) (File, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entryByMeta(meta); e != nil {
		return e.file(), true
	}
	return File{}, false
}

// Path returns where on disk the complete file with metahash meta is, for
// the page to send it to the user.
func (l *Library) Path(meta Hash) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entryByMeta(meta); e != nil {
		return e.path, true
	}
	return "", false
}

func (l *Library) entryByMeta(meta Hash) *entry {
	for _, r := range l.refs[meta] {
		if r.e != nil && r.index < 0 {
			return r.e
		}
	}
	return nil
}

// Read returns the bytes whose hash is h, if the library holds them: the
// metafile of a file shared, downloaded or being downloaded, or a chunk of
// a file shared or downloaded, or one a download already wrote. Chunks are
// read from disk and checked against h first, so Read never returns wrong
// bytes; a complete file found changed on disk is dropped from the index,
// with a log line.
func (l *Library) Read(h Hash) ([]byte, bool) {
	type plan struct {
		e    *entry
		p    *partial
		path string
		f    *os.File
		off  int64
		n    int
	}
	var plans []plan
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, false
	}
	for _, r := range l.refs[h] {
		switch {
		case r.index < 0:
			mf := r.metafile()
			l.mu.Unlock()
			if HashOf(mf) != h {
				return nil, false
			}
			return slices.Clone(mf), true
		case r.e != nil:
			plans = append(plans, plan{e: r.e, path: r.e.path, off: int64(r.index) * ChunkSize, n: chunkLen(r.e.size, r.index)})
		case r.p.have[r.index]:
			plans = append(plans, plan{p: r.p, f: r.p.f, off: int64(r.index) * ChunkSize, n: r.p.chunkLen(r.index)})
		}
	}
	l.mu.Unlock()
	// Reading unlocked lets one slow disk read not hold up the node; what
	// changes meanwhile only makes a read fail its hash.
	for _, pl := range plans {
		var data []byte
		var err error
		if pl.f != nil {
			data, err = readChunkFrom(pl.f, pl.off, pl.n)
		} else {
			data, err = readChunk(pl.path, pl.off, pl.n)
		}
		if err == nil && HashOf(data) == h {
			return data, true
		}
		if changed := err == nil || errors.Is(err, io.EOF) || errors.Is(err, fs.ErrNotExist); !changed {
			l.log.Debug("files: cannot read a chunk", "hash", h, "error", err)
			continue
		}
		if pl.e != nil {
			l.dropChanged(pl.e, err)
		} else {
			l.forgetChunk(pl.p, int(pl.off/ChunkSize))
		}
	}
	return nil, false
}

func (r ref) metafile() []byte {
	if r.e != nil {
		return r.e.metafile
	}
	return r.p.metafile
}

// dropChanged removes e from the index after Read found it changed on disk:
// its metahash no longer names what is there.
func (l *Library) dropChanged(e *entry, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.gone || l.closed {
		return
	}
	why := "its content changed"
	if err != nil {
		why = "it was shortened or deleted"
	}
	l.removeEntry(e)
	l.log.Warn("files: no longer sharing a file: "+why+" since it was shared; share it again to share its new content",
		"file", e.path, "metahash", e.meta)
	if err := l.saveIndex(); err != nil {
		l.log.Warn("files: cannot save the list of shared files", "error", err)
	}
}

func (l *Library) addEntry(e *entry) {
	l.entries = append(l.entries, e)
	l.refs[e.meta] = append(l.refs[e.meta], ref{e: e, index: -1})
	for i := range len(e.metafile) / HashSize {
		h := chunkHash(e.metafile, i)
		l.refs[h] = append(l.refs[h], ref{e: e, index: i})
	}
}

func (l *Library) removeEntry(e *entry) {
	e.gone = true
	l.entries = slices.DeleteFunc(l.entries, func(x *entry) bool { return x == e })
	l.dropRefs(e.meta, e.metafile, func(r ref) bool { return r.e == e })
}

// dropRefs removes the refs match picks from under meta and the hashes
// metafile lists.
func (l *Library) dropRefs(meta Hash, metafile []byte, match func(ref) bool) {
	drop := func(h Hash) {
		rs := slices.DeleteFunc(l.refs[h], match)
		if len(rs) == 0 {
			delete(l.refs, h)
		} else {
			l.refs[h] = rs
		}
	}
	drop(meta)
	for i := range len(metafile) / HashSize {
		drop(chunkHash(metafile, i))
	}
}

func (e *entry) file() File {
	return File{
		Name:       e.name,
		MetaHash:   e.meta,
		Size:       e.size,
		Chunks:     len(e.metafile) / HashSize,
		Downloaded: e.downloaded,
		Metafile:   slices.Clone(e.metafile),
	}
}
