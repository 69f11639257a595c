package files

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// inside returns the path of the file name in dir, after checking that name
// is a valid name and that the path does not leave dir. ValidateName already
// rules out every way out; the second check keeps that true if the rules
// ever loosen.
func inside(dir, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if filepath.Dir(p) != filepath.Clean(dir) {
		return "", errorf(ErrInvalid, "invalid file name %q: it leads out of the folder %s", name, dir)
	}
	return p, nil
}

// hashFile reads the file at path chunk by chunk, 8 KiB in memory at a time,
// and returns its metafile and size. name is how errors call the file. It
// follows symbolic links: only the node's own user puts files in its
// folders, and a link to a file kept elsewhere is a fair way to share it.
func hashFile(path, name string) (metafile []byte, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, errorf(ErrInvalid, "there is no file named %q in %s", name, filepath.Dir(path))
		}
		return nil, 0, errorf(ErrDisk, "cannot open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, errorf(ErrDisk, "cannot read %s: %w", name, err)
	}
	switch {
	case fi.IsDir():
		return nil, 0, errorf(ErrInvalid, "%s is a folder, not a file", name)
	case !fi.Mode().IsRegular():
		// A pipe or a device could block the node or never end.
		return nil, 0, errorf(ErrInvalid, "%s is not a regular file (it is a %s)", name, fileKind(fi.Mode()))
	case fi.Size() == 0:
		return nil, 0, errorf(ErrInvalid, "%s is empty, and an empty file has no chunk to share", name)
	case fi.Size() > MaxFileSize:
		return nil, 0, tooBig(name, fi.Size())
	}
	buf := make([]byte, ChunkSize)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if len(metafile) == MaxChunks*HashSize {
				return nil, 0, errorf(ErrInvalid, "%s grew past the 2 MiB a shared file may be while it was read", name)
			}
			h := HashOf(buf[:n])
			metafile = append(metafile, h[:]...)
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, 0, errorf(ErrDisk, "cannot read %s: %w", name, err)
		}
	}
	if size == 0 {
		return nil, 0, errorf(ErrInvalid, "%s is empty, and an empty file has no chunk to share", name)
	}
	return metafile, size, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// readChunk reads n bytes at off of the file at path. The file is opened for
// each read rather than kept open, so that a file replaced under the node is
// read anew (and then fails its hash) and a node sharing a thousand files
// does not hold a thousand descriptors.
func readChunk(path string, off int64, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readChunkFrom(f, off, n)
}

func readChunkFrom(f *os.File, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

// chunkLen is the length of chunk i of a file of size bytes.
func chunkLen(size int64, i int) int {
	return int(min(size-int64(i)*ChunkSize, ChunkSize))
}

// writeAtomic replaces dir/name with data: a crash leaves either the old
// file or the new one, whole, never a mix.
func writeAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, name+tmpMark+"*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// tmpMark is in the name of every temporary file writeAtomic makes, so that
// Open can sweep those a crash left behind.
const tmpMark = ".tmp-"

// syncDir makes the names created, renamed or removed in dir durable: on
// Linux a file's fsync does not cover its directory entry.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// errNameTaken is what linkNoClobber returns when newPath exists.
var errNameTaken = errors.New("name taken")

// linkNoClobber gives the file at oldPath the name newPath as well, or
// returns errNameTaken if newPath exists, whatever it is: a download must
// never replace a file the user or another node put there. A hard link does
// that atomically; where the file system has none (FAT, some network
// shares), a check then a rename, whose window only another writer in the
// same folder at the same instant could hit, does instead (oldPath is then
// gone).
func linkNoClobber(oldPath, newPath string) error {
	err := os.Link(oldPath, newPath)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return errNameTaken
	}
	if _, serr := os.Lstat(newPath); serr == nil {
		return errNameTaken
	}
	return os.Rename(oldPath, newPath)
}
