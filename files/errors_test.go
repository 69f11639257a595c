package files

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestErrorKinds checks that each refusal is of the kind errors.Is tells,
// and of no other, in its own words.
func TestErrorKinds(t *testing.T) {
	opts, _ := testOptions(t, true)
	opts.MaxFiles = 4
	l := mustOpen(t, opts)
	if _, err := l.Put("taken.txt", []byte("first bytes")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(opts.SharedDir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, opts.DownloadsDir, "here.bin", []byte("something else"))
	s, other := newSource(t, 100, 1), newSource(t, 100, 2)
	if _, err := l.Begin("s.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	kinds := []error{ErrNameTaken, ErrDownloading, ErrTooManyFiles, ErrInvalid, ErrDisk, ErrAlreadyHave, ErrClosed, ErrNoDownload}
	check := func(what string, err error, want error, says string) {
		t.Helper()
		wantErr(t, what, err, says)
		for _, k := range kinds {
			if errors.Is(err, k) != (k == want) {
				t.Errorf("%s: errors.Is(%q, %v) = %v", what, err, k, !(k == want))
			}
		}
	}

	_, err := l.Put("taken.txt", []byte("other bytes"))
	check("Put over another file", err, ErrNameTaken, "cannot save taken.txt: a different file of that name is already in the shared folder; choose another name")
	_, err = l.Put("dir", []byte("x"))
	check("Put over a folder", err, ErrNameTaken, "cannot save dir: the shared folder has a folder of that name")
	_, err = l.Begin("here.bin", other.meta, "A")
	check("Begin over another file", err, ErrNameTaken, "a different file of that name is already in the downloads folder")
	_, err = l.Begin("s.bin", other.meta, "A")
	check("Begin under another download's name", err, ErrNameTaken, "is saving to that name")
	_, err = l.Begin("s2.bin", s.meta, "A")
	check("Begin of a file being downloaded", err, ErrDownloading, `it is already being downloaded as "s.bin"`)
	_, err = l.Begin("again.txt", HashOf(mustMetafile(t, []byte("first bytes"))), "A")
	check("Begin of a file shared", err, ErrAlreadyHave, "this node already has that file")

	_, err = l.Put("a/b", []byte("x"))
	check("Put with a slash", err, ErrInvalid, "contains a slash")
	_, err = l.Put("empty", nil)
	check("Put of nothing", err, ErrInvalid, "an empty file has no chunk")
	_, err = l.Share("missing.txt")
	check("Share of a missing file", err, ErrInvalid, `there is no file named "missing.txt"`)
	_, err = ParseHash("xyz")
	check("ParseHash", err, ErrInvalid, "is not a hash")
	err = l.WriteChunk(s.meta, 0, []byte("wrong"))
	check("WriteChunk of wrong bytes", err, ErrInvalid, "does not match its hash")
	err = l.SetMetafile(other.meta, other.metafile)
	check("SetMetafile without a download", err, ErrNoDownload, "no download of that file is in progress")

	if _, err := l.Put("b.txt", []byte("b")); err != nil {
		t.Fatal(err)
	}
	// A folder where the index goes, which no rename replaces: saving the
	// index fails as on a failing disk, even for root.
	index := filepath.Join(opts.StateDir, indexFileName)
	if err := os.Remove(index); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(index, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, index, "x", nil)
	_, err = l.Put("c.txt", []byte("c"))
	check("Put whose index cannot be saved", err, ErrDisk, "cannot share c.txt: cannot save the list of shared files")
	var pe *fs.PathError
	var le *os.LinkError
	if !errors.As(err, &pe) && !errors.As(err, &le) {
		t.Errorf("the disk's error is not wrapped: %#v", err)
	}
	os.RemoveAll(index)

	if _, err := l.Put("c.txt", []byte("c")); err != nil {
		t.Fatal(err)
	}
	_, err = l.Put("d.txt", []byte("d"))
	check("Put past MaxFiles", err, ErrTooManyFiles, "this node already keeps 4 files")
	_, err = l.Begin("d.bin", other.meta, "A")
	check("Begin past MaxFiles", err, ErrTooManyFiles, "this node already keeps 4 files")

	l.Close()
	_, err = l.Put("e.txt", []byte("e"))
	check("Put after Close", err, ErrClosed, "closed")
}

func mustMetafile(t *testing.T, data []byte) []byte {
	t.Helper()
	mf, _, err := Split(data)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}
