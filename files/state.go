package files

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Names inside StateDir.
const (
	lockFileName    = "lock"
	indexFileName   = "index.json"
	partialsDirName = "partials"
	recordSuffix    = ".json"
)

// stateVersion is written in every state file. A file of a later version
// stops Open rather than being read wrong or set aside: the newer binary
// that wrote it may run again.
const stateVersion = 1

// indexFile is StateDir/index.json. The metafiles are not kept: Open reads
// each file again anyway, to check it still has its metahash.
type indexFile struct {
	Version int           `json:"version"`
	Files   []indexRecord `json:"files"`
}

type indexRecord struct {
	Name       string `json:"name"`
	MetaHash   Hash   `json:"metahash"`
	Size       int64  `json:"size"`
	Downloaded bool   `json:"downloaded"`
}

// partialRecord is StateDir/partials/<metahash>.json. The chunks written
// are not kept in it: Open finds them by checking the partial file against
// the metafile, which is also right after a crash between a chunk's write
// and any record of it.
type partialRecord struct {
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	MetaHash Hash      `json:"metahash"`
	Dest     string    `json:"dest"`
	Begun    time.Time `json:"begun"`
	File     string    `json:"file"`               // the partial file, in DownloadsDir/.partial
	Metafile string    `json:"metafile,omitempty"` // hex, once it arrived
}

// openState locks StateDir and loads the index and the downloads in
// progress.
func (l *Library) openState() error {
	for _, d := range []string{l.stateDir, filepath.Join(l.stateDir, partialsDirName)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return errorf(ErrDisk, "cannot create the state folder %s: %w", d, err)
		}
	}
	lockPath := filepath.Join(l.stateDir, lockFileName)
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return errorf(ErrDisk, "cannot open %s: %w", lockPath, err)
	}
	unlock, ok, err := tryLock(f)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return errorf(ErrDisk, "cannot lock the state folder %s: %w", l.stateDir, err)
		}
		return fmt.Errorf("the state folder %s is in use by another Peerster node", l.stateDir)
	}
	l.stateLock, l.stateUnlock = f, unlock
	// Held alone now: any temporary file is a crash's leftover.
	l.sweepTemps(l.stateDir)
	l.sweepTemps(filepath.Join(l.stateDir, partialsDirName))

	changed, err := l.loadIndex()
	if err != nil {
		return err
	}
	adopted, err := l.loadPartials()
	if err != nil {
		return err
	}
	if changed || adopted {
		if err := l.saveIndex(); err != nil {
			return err
		}
	}
	return nil
}

func (l *Library) sweepTemps(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), tmpMark) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// setAside renames a state file that cannot be read to a side name, so that
// the node starts without it but the bytes stay for someone to look at.
func (l *Library) setAside(path string, why error) {
	side := fmt.Sprintf("%s.damaged-%d", path, time.Now().UnixNano())
	if err := os.Rename(path, side); err != nil {
		l.log.Warn("files: cannot read a state file, nor set it aside", "file", path, "reason", why, "error", err)
		os.Remove(path)
		return
	}
	l.log.Warn("files: cannot read a state file; set it aside and went on without it", "file", path, "saved_to", side, "reason", why)
}

// readState reads a state file into v. It returns false if the file is
// missing or was set aside as unreadable.
func (l *Library) readState(path string, v any, version *int) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, errorf(ErrDisk, "cannot read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		l.setAside(path, err)
		return false, nil
	}
	switch {
	case *version > stateVersion:
		return false, fmt.Errorf("%s was written by a newer Peerster (format %d; this one reads format %d): run the newer one, or move the file away to start afresh", path, *version, stateVersion)
	case *version < 1:
		l.setAside(path, fmt.Errorf("no format version in it"))
		return false, nil
	}
	return true, nil
}

// loadIndex indexes the files the index lists that still hash as recorded,
// and says whether it dropped any.
func (l *Library) loadIndex() (changed bool, err error) {
	path := filepath.Join(l.stateDir, indexFileName)
	var idx indexFile
	ok, err := l.readState(path, &idx, &idx.Version)
	if err != nil || !ok {
		return !ok, err
	}
	for _, r := range idx.Files {
		dir := l.shared
		if r.Downloaded {
			dir = l.downloads
		}
		e, err := l.reindex(dir, r)
		if err != nil {
			l.log.Warn("files: no longer sharing a file", "file", filepath.Join(dir, r.Name), "metahash", r.MetaHash, "reason", err)
			changed = true
			continue
		}
		l.addEntry(e)
	}
	return changed, nil
}

func (l *Library) reindex(dir string, r indexRecord) (*entry, error) {
	path, err := inside(dir, r.Name)
	if err != nil {
		return nil, err
	}
	if l.hasName(r.Name, r.Downloaded) {
		return nil, errors.New("listed twice")
	}
	if l.count() >= l.maxFiles {
		return nil, fmt.Errorf("more files than MaxFiles (%d)", l.maxFiles)
	}
	metafile, size, err := hashFile(path, r.Name)
	if err != nil {
		return nil, err
	}
	if HashOf(metafile) != r.MetaHash {
		return nil, errors.New("its content changed since it was shared; share it again to share its new content")
	}
	return &entry{name: r.Name, meta: r.MetaHash, size: size, downloaded: r.Downloaded, metafile: metafile, path: path}, nil
}

// saveIndex writes the index to StateDir; l.mu must be held, so that saves
// follow each other in the order of the changes they save.
func (l *Library) saveIndex() error {
	if l.stateDir == "" {
		return nil
	}
	idx := indexFile{Version: stateVersion, Files: make([]indexRecord, 0, len(l.entries))}
	for _, e := range l.entries {
		idx.Files = append(idx.Files, indexRecord{Name: e.name, MetaHash: e.meta, Size: e.size, Downloaded: e.downloaded})
	}
	data, err := json.MarshalIndent(idx, "", "\t")
	if err == nil {
		err = writeAtomic(l.stateDir, indexFileName, data)
	}
	if err != nil {
		return errorf(ErrDisk, "cannot save the list of shared files: %w", err)
	}
	return nil
}

// saveRecord writes p's record to StateDir; l.mu must be held.
func (l *Library) saveRecord(p *partial) error {
	if l.stateDir == "" {
		return nil
	}
	rec := partialRecord{
		Version:  stateVersion,
		Name:     p.name,
		MetaHash: p.meta,
		Dest:     p.dest,
		Begun:    p.begun,
		File:     p.fileName,
		Metafile: hex.EncodeToString(p.metafile),
	}
	data, err := json.MarshalIndent(rec, "", "\t")
	if err == nil {
		err = writeAtomic(filepath.Join(l.stateDir, partialsDirName), p.meta.String()+recordSuffix, data)
	}
	if err != nil {
		return errorf(ErrDisk, "cannot save the progress of the download of %q: %w", p.name, err)
	}
	return nil
}

// removeRecord removes the record of the download of meta; a record that
// came back after a crash would bring back the download.
func (l *Library) removeRecord(meta Hash) error {
	if l.stateDir == "" {
		return nil
	}
	dir := filepath.Join(l.stateDir, partialsDirName)
	err := os.Remove(filepath.Join(dir, meta.String()+recordSuffix))
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errorf(ErrDisk, "cannot remove the record of the download of %s: %w", meta, err)
	}
	return nil
}

// loadPartials restores the downloads in progress from their records, and
// says whether it indexed any it found complete.
func (l *Library) loadPartials() (adopted bool, err error) {
	dir := filepath.Join(l.stateDir, partialsDirName)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, errorf(ErrDisk, "cannot read the state folder %s: %w", dir, err)
	}
	var recs []partialRecord
	for _, de := range ents {
		if !strings.HasSuffix(de.Name(), recordSuffix) {
			continue
		}
		path := filepath.Join(dir, de.Name())
		var r partialRecord
		ok, err := l.readState(path, &r, &r.Version)
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		if err := r.check(de.Name()); err != nil {
			l.setAside(path, err)
			continue
		}
		recs = append(recs, r)
	}
	slices.SortStableFunc(recs, func(a, b partialRecord) int { return a.Begun.Compare(b.Begun) })
	for _, r := range recs {
		a, err := l.restore(r)
		if err != nil {
			l.log.Warn("files: dropped a download in progress", "file", r.Name, "metahash", r.MetaHash, "reason", err)
			l.removeRecord(r.MetaHash)
			if isPartialFileName(r.File, &r.MetaHash) {
				os.Remove(filepath.Join(l.partialDir, r.File))
			}
			continue
		}
		adopted = adopted || a
	}
	return adopted, nil
}

// check returns an error if r is not a record Begin could have written
// under the name base.
func (r *partialRecord) check(base string) error {
	if base != r.MetaHash.String()+recordSuffix {
		return fmt.Errorf("it is named %s but records the download of %s", base, r.MetaHash)
	}
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if !isPartialFileName(r.File, &r.MetaHash) {
		return fmt.Errorf("%q is not a partial file's name", r.File)
	}
	return nil
}

// restore brings back one download in progress. A download whose file is
// already whole under its name, as a crash inside Complete leaves it, is
// indexed as downloaded instead, and restore returns true.
func (l *Library) restore(r partialRecord) (bool, error) {
	switch {
	case l.entryByMeta(r.MetaHash) != nil:
		return false, errors.New("the file is already shared or downloaded")
	case l.partialByName(r.Name) != nil:
		return false, errors.New("another download in progress has its name")
	}
	final, err := inside(l.downloads, r.Name)
	if err != nil {
		return false, err
	}
	if fi, err := os.Lstat(final); err == nil && fi.Mode().IsRegular() && holds(final, r.MetaHash) {
		if l.hasName(r.Name, true) {
			return false, errors.New("another downloaded file has its name")
		}
		e, err := l.reindex(l.downloads, indexRecord{Name: r.Name, MetaHash: r.MetaHash, Downloaded: true})
		if err != nil {
			return false, err
		}
		l.addEntry(e)
		if err := l.removeRecord(r.MetaHash); err != nil {
			l.log.Warn("files: cannot remove a finished download's record", "error", err)
		}
		os.Remove(filepath.Join(l.partialDir, r.File))
		l.log.Info("files: a download finished before the node stopped; sharing it", "file", final, "metahash", r.MetaHash)
		return true, nil
	}
	if l.count() >= l.maxFiles {
		return false, fmt.Errorf("more files than MaxFiles (%d)", l.maxFiles)
	}
	p := &partial{name: r.Name, meta: r.MetaHash, dest: r.Dest, begun: r.Begun, fileName: r.File, path: filepath.Join(l.partialDir, r.File)}
	if r.Metafile != "" {
		mf, err := hex.DecodeString(r.Metafile)
		if err == nil && HashOf(mf) != r.MetaHash {
			err = errors.New("it does not hash to the metahash")
		}
		if err == nil {
			_, err = ChunkHashes(mf)
		}
		if err != nil {
			l.log.Warn("files: the recorded metafile of a download is damaged; it will be fetched again", "file", r.Name, "reason", err)
		} else {
			p.setMetafile(mf)
		}
	}
	if err := l.openPartialFile(p); err != nil {
		return false, err
	}
	if p.metafile != nil {
		l.scan(p)
		l.addPartialRefs(p)
	}
	l.partials = append(l.partials, p)
	return false, nil
}

// openPartialFile opens and locks p's partial file, or makes a new one if
// it is gone (a node without StateDir sharing the downloads folder removes
// those nobody holds) or held by someone else: the download then starts
// over.
func (l *Library) openPartialFile(p *partial) error {
	f, err := os.OpenFile(p.path, os.O_RDWR, 0)
	if err == nil {
		unlock, ok, lerr := tryLock(f)
		if lerr == nil && ok {
			p.f, p.unlock = f, unlock
			return nil
		}
		f.Close()
		err = fmt.Errorf("it is locked by another process (%v)", lerr)
	}
	l.log.Warn("files: the partial file of a download is unusable; the download starts over", "file", p.path, "reason", err)
	f, base, unlock, err := l.createPartialFile(p.meta)
	if err != nil {
		return err
	}
	p.f, p.unlock, p.fileName, p.path = f, unlock, base, filepath.Join(l.partialDir, base)
	if p.metafile != nil {
		p.have = make([]bool, p.chunks())
	}
	if err := syncDir(l.partialDir); err != nil {
		p.release()
		return err
	}
	if err := l.saveRecord(p); err != nil {
		p.release()
		return err
	}
	return nil
}

// scan finds which chunks p's partial file holds by checking each against
// the metafile; a chunk torn by a crash fails its hash and is fetched again.
func (l *Library) scan(p *partial) {
	fi, err := p.f.Stat()
	if err != nil {
		return
	}
	size := fi.Size()
	n := p.chunks()
	for i := range n {
		off := int64(i) * ChunkSize
		want := ChunkSize
		if i == n-1 {
			// The last chunk's length is known only from the file's end,
			// which nothing writes past.
			want = int(min(size-off, ChunkSize))
		}
		if want <= 0 || off+int64(want) > size {
			continue
		}
		data, err := readChunkFrom(p.f, off, want)
		if err == nil && HashOf(data) == chunkHash(p.metafile, i) {
			p.have[i] = true
			if i == n-1 {
				p.lastLen = want
			}
		}
	}
}

// removeStalePartials removes the partial files an earlier run without
// StateDir left: they cannot be resumed. Those another node running on the
// same folder holds locked are in use and stay.
func (l *Library) removeStalePartials() {
	if !canLock {
		return
	}
	ents, _ := os.ReadDir(l.partialDir)
	for _, de := range ents {
		if !de.Type().IsRegular() || !isPartialFileName(de.Name(), nil) {
			continue
		}
		path := filepath.Join(l.partialDir, de.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if unlock, ok, err := tryLock(f); err == nil && ok {
			// Removed while locked, so that its creator, if it locks it
			// next, sees it is no longer at its name.
			if err := os.Remove(path); err == nil {
				l.log.Info("files: removed a partial download an earlier run left", "file", path)
			}
			unlock()
		}
		f.Close()
	}
}
