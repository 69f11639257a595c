package files

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects a Library's log lines for a test to read, from any
// goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testOptions returns Options for fresh folders, as a gossiper's working
// directory would hold them, and the buffer its logs go to.
func testOptions(t *testing.T, withState bool) (Options, *logBuffer) {
	t.Helper()
	root := t.TempDir()
	logs := &logBuffer{}
	opts := Options{
		SharedDir:    filepath.Join(root, DefaultSharedDir),
		DownloadsDir: filepath.Join(root, DefaultDownloadsDir),
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if withState {
		opts.StateDir = filepath.Join(root, "state")
	}
	return opts, logs
}

func mustOpen(t *testing.T, opts Options) *Library {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantErr(t *testing.T, what string, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("%s: error = %v, want one containing %q", what, err, sub)
	}
}

func names(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func TestShareErrors(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	writeFile(t, opts.SharedDir, "empty.txt", nil)
	writeFile(t, opts.SharedDir, "big.bin", make([]byte, MaxFileSize+1))
	if err := os.Mkdir(filepath.Join(opts.SharedDir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(opts.SharedDir), "outside.txt", []byte("secret"))
	tests := []struct {
		name, want string
	}{
		{"", "invalid file name: it is empty"},
		{"../outside.txt", "contains a slash"},
		{`..\outside.txt`, "contains a backslash"},
		{".hidden", "starts with a dot"},
		{"missing.txt", `there is no file named "missing.txt" in ` + opts.SharedDir},
		{"folder", "folder is a folder, not a file"},
		{"empty.txt", "empty.txt is empty, and an empty file has no chunk to share"},
		{"big.bin", "big.bin is 2097153 bytes, more than the 2 MiB a shared file may be"},
	}
	for _, tt := range tests {
		f, err := l.Share(tt.name)
		if err == nil || err.Error() != tt.want && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Share(%q) = %+v, %v; want error %q", tt.name, f.Name, err, tt.want)
		}
	}
	if fs := l.Files(); len(fs) != 0 {
		t.Fatalf("Files() after refused shares = %v", names(fs))
	}
}

func TestShareAndRead(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	data := pattern(2*ChunkSize+1000, 1)
	writeFile(t, opts.SharedDir, "three.bin", data)
	metafile, chunks, err := Split(data)
	if err != nil {
		t.Fatal(err)
	}
	meta := HashOf(metafile)

	f, err := l.Share("three.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := File{Name: "three.bin", MetaHash: meta, Size: int64(len(data)), Chunks: 3, Metafile: metafile}
	if f.Name != want.Name || f.MetaHash != want.MetaHash || f.Size != want.Size || f.Chunks != want.Chunks || f.Downloaded || !bytes.Equal(f.Metafile, metafile) {
		t.Fatalf("Share = %+v, want %+v", f, want)
	}
	f.Metafile[0] ^= 1 // the caller's copy; the library's must not change
	if again, err := l.Share("three.bin"); err != nil || again.MetaHash != meta || !bytes.Equal(again.Metafile, metafile) {
		t.Fatalf("sharing again = %+v, %v", again, err)
	}
	if got := names(l.Files()); !slices.Equal(got, []string{"three.bin"}) {
		t.Fatalf("Files() = %v after sharing one file twice", got)
	}
	if got, ok := l.Lookup(meta); !ok || got.Name != "three.bin" {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if p, ok := l.Path(meta); !ok || p != filepath.Join(opts.SharedDir, "three.bin") {
		t.Fatalf("Path = %q, %v", p, ok)
	}
	if got, ok := l.Read(meta); !ok || !bytes.Equal(got, metafile) {
		t.Fatalf("Read(metahash) = %d bytes, %v; want the metafile", len(got), ok)
	}
	for i, c := range chunks {
		if got, ok := l.Read(HashOf(c)); !ok || !bytes.Equal(got, c) {
			t.Fatalf("Read(chunk %d) = %d bytes, %v; want the chunk's %d bytes", i, len(got), ok, len(c))
		}
	}
	if got, ok := l.Read(HashOf([]byte("not held"))); ok {
		t.Fatalf("Read(unknown hash) = %d bytes, true", len(got))
	}
	if _, ok := l.Lookup(HashOf([]byte("not held"))); ok {
		t.Fatal("Lookup(unknown metahash) = true")
	}

	// The same content under a second name is a second file; the metahash
	// still finds the first.
	writeFile(t, opts.SharedDir, "copy.bin", data)
	if _, err := l.Share("copy.bin"); err != nil {
		t.Fatal(err)
	}
	if got := names(l.Files()); !slices.Equal(got, []string{"three.bin", "copy.bin"}) {
		t.Fatalf("Files() = %v", got)
	}
	if got, _ := l.Lookup(meta); got.Name != "three.bin" {
		t.Fatalf("Lookup = %q, want the first indexed", got.Name)
	}

	// A link the user made to a file kept elsewhere is shared too.
	other := writeFile(t, t.TempDir(), "elsewhere.txt", []byte("linked"))
	if err := os.Symlink(other, filepath.Join(opts.SharedDir, "link.txt")); err == nil {
		lf, err := l.Share("link.txt")
		if err != nil {
			t.Fatalf("Share(symlink): %v", err)
		}
		if got, ok := l.Read(HashOf([]byte("linked"))); !ok || string(got) != "linked" || lf.Size != 6 {
			t.Fatalf("Read(chunk of linked file) = %q, %v", got, ok)
		}
	}

	// A file of exactly 2 MiB is the largest that may be shared.
	writeFile(t, opts.SharedDir, "max.bin", pattern(MaxFileSize, 3))
	if f, err := l.Share("max.bin"); err != nil || f.Chunks != MaxChunks {
		t.Fatalf("Share(2 MiB) = %d chunks, %v", f.Chunks, err)
	}
}

func TestShareAgainAfterChange(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	writeFile(t, opts.SharedDir, "a.txt", []byte("first"))
	first, err := l.Share("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, opts.SharedDir, "a.txt", []byte("second"))
	second, err := l.Share("a.txt")
	if err != nil || second.MetaHash == first.MetaHash {
		t.Fatalf("sharing a changed file = %+v, %v", second, err)
	}
	if fs := l.Files(); len(fs) != 1 || fs[0].MetaHash != second.MetaHash {
		t.Fatalf("Files() = %+v, want only the new content", fs)
	}
	if _, ok := l.Lookup(first.MetaHash); ok {
		t.Fatal("the old metahash is still found")
	}
}

func TestReadRefusesChangedFile(t *testing.T) {
	data := pattern(2*ChunkSize+1000, 2)
	_, chunks, _ := Split(data)
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"one byte flipped", func(p string) error {
			b := slices.Clone(data)
			b[ChunkSize+5] ^= 0xff
			return os.WriteFile(p, b, 0o644)
		}},
		{"shortened", func(p string) error { return os.Truncate(p, ChunkSize+5) }},
		{"deleted", os.Remove},
		{"replaced by another file", func(p string) error {
			os.Remove(p)
			return os.WriteFile(p, pattern(len(data), 9), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, logs := testOptions(t, false)
			l := mustOpen(t, opts)
			path := writeFile(t, opts.SharedDir, "f.bin", data)
			if _, err := l.Share("f.bin"); err != nil {
				t.Fatal(err)
			}
			if got, ok := l.Read(HashOf(chunks[1])); !ok || !bytes.Equal(got, chunks[1]) {
				t.Fatal("Read before the change failed")
			}
			if err := tt.change(path); err != nil {
				t.Fatal(err)
			}
			if got, ok := l.Read(HashOf(chunks[1])); ok {
				t.Fatalf("Read after the file changed = %d bytes, true", len(got))
			}
			if fs := l.Files(); len(fs) != 0 {
				t.Fatalf("Files() still lists %v after it changed", names(fs))
			}
			if !strings.Contains(logs.String(), "no longer sharing") {
				t.Fatalf("no log line about the dropped file; logs:\n%s", logs)
			}
		})
	}
}

func TestPut(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	data := pattern(ChunkSize+1, 4)
	f, err := l.Put("up.bin", data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(opts.SharedDir, "up.bin")
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the uploaded file on disk differs: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode of the uploaded file = %v, %v; want 0644", fi.Mode(), err)
	}
	if again, err := l.Put("up.bin", slices.Clone(data)); err != nil || again.MetaHash != f.MetaHash {
		t.Fatalf("Put of the same bytes again = %+v, %v", again, err)
	}

	other := slices.Clone(data)
	other[0] ^= 1
	_, err = l.Put("up.bin", other)
	wantErr(t, "Put with other bytes of the same size", err, "a different file of that name is already in the shared folder")
	_, err = l.Put("up.bin", []byte("short"))
	wantErr(t, "Put with other bytes", err, "a different file of that name is already in the shared folder")
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("a refused Put changed the file")
	}

	_, err = l.Put("empty.bin", nil)
	wantErr(t, "Put(empty)", err, "empty.bin is empty")
	_, err = l.Put("big.bin", make([]byte, MaxFileSize+1))
	wantErr(t, "Put(too big)", err, "big.bin is 2097153 bytes, more than the 2 MiB a shared file may be")
	_, err = l.Put("../escape.bin", data)
	wantErr(t, "Put(../escape.bin)", err, "slash")
	os.Mkdir(filepath.Join(opts.SharedDir, "dir"), 0o755)
	_, err = l.Put("dir", data)
	wantErr(t, "Put over a folder", err, "has a folder of that name")

	ents, _ := os.ReadDir(opts.SharedDir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"dir", "up.bin"}) {
		t.Fatalf("shared folder holds %v; want no leftovers", left)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(opts.SharedDir), "escape.bin")); err == nil {
		t.Fatal("Put wrote outside the shared folder")
	}
}

func TestMaxFiles(t *testing.T) {
	opts, _ := testOptions(t, false)
	opts.MaxFiles = 2
	l := mustOpen(t, opts)
	if _, err := l.Put("a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put("b", []byte("b")); err != nil {
		t.Fatal(err)
	}
	_, err := l.Put("c", []byte("c"))
	wantErr(t, "Put past MaxFiles", err, "this node already keeps 2 files")
	if _, err := os.Stat(filepath.Join(opts.SharedDir, "c")); err == nil {
		t.Fatal("a Put refused for MaxFiles left its file behind")
	}
	writeFile(t, opts.SharedDir, "c", []byte("c"))
	_, err = l.Share("c")
	wantErr(t, "Share past MaxFiles", err, "cannot share c: this node already keeps 2 files")
	_, err = l.Begin("d", HashOf([]byte("d")), "node")
	wantErr(t, "Begin past MaxFiles", err, "cannot download d: this node already keeps 2 files")
	// What is already kept may still be shared again, changed or not.
	if _, err := l.Put("a", []byte("a")); err != nil {
		t.Fatalf("Put of a kept file at MaxFiles: %v", err)
	}
	writeFile(t, opts.SharedDir, "b", []byte("b2"))
	if _, err := l.Share("b"); err != nil {
		t.Fatalf("sharing a kept file anew at MaxFiles: %v", err)
	}
	if _, err := Open(Options{MaxFiles: -1}); err == nil {
		t.Fatal("Open accepted MaxFiles -1")
	}
}

func TestIndexSurvivesRestart(t *testing.T) {
	opts, logs := testOptions(t, true)
	l := mustOpen(t, opts)
	for _, n := range []string{"keep.txt", "change.txt", "delete.txt", "drop-on-read.txt", "last.txt"} {
		if _, err := l.Put(n, []byte("content of "+n)); err != nil {
			t.Fatal(err)
		}
	}
	// Found changed by Read while running: dropped, and the index saved.
	writeFile(t, opts.SharedDir, "drop-on-read.txt", []byte("CONTENT of drop-on-read.txt"))
	if _, ok := l.Read(HashOf([]byte("content of drop-on-read.txt"))); ok {
		t.Fatal("Read served a changed file")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Changed while the node was down.
	writeFile(t, opts.SharedDir, "change.txt", []byte("new content"))
	os.Remove(filepath.Join(opts.SharedDir, "delete.txt"))

	l2 := mustOpen(t, opts)
	if got := names(l2.Files()); !slices.Equal(got, []string{"keep.txt", "last.txt"}) {
		t.Fatalf("Files() after restart = %v, want keep.txt and last.txt in order", got)
	}
	if got, ok := l2.Read(HashOf([]byte("content of keep.txt"))); !ok || string(got) != "content of keep.txt" {
		t.Fatalf("Read after restart = %q, %v", got, ok)
	}
	for _, n := range []string{"change.txt", "delete.txt"} {
		if !strings.Contains(logs.String(), n) {
			t.Errorf("no log line about %s; logs:\n%s", n, logs)
		}
	}
	l2.Close()
	// The drops were saved: a third run has nothing to say.
	before := len(logs.String())
	l3 := mustOpen(t, opts)
	if got := names(l3.Files()); !slices.Equal(got, []string{"keep.txt", "last.txt"}) {
		t.Fatalf("Files() after a second restart = %v", got)
	}
	if after := logs.String()[before:]; strings.Contains(after, "no longer sharing") {
		t.Fatalf("the second restart dropped files again:\n%s", after)
	}
}

func TestStateFolderLocked(t *testing.T) {
	if !canLock {
		t.Skip("no flock here")
	}
	opts, _ := testOptions(t, true)
	mustOpen(t, opts)
	_, err := Open(opts)
	wantErr(t, "second Open on one state folder", err, "in use by another Peerster node")
}

func TestDamagedState(t *testing.T) {
	opts, logs := testOptions(t, true)
	l := mustOpen(t, opts)
	if _, err := l.Put("a.txt", []byte("a")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	index := filepath.Join(opts.StateDir, indexFileName)
	if err := os.WriteFile(index, []byte(`{"version":1,"files":[{"na`), 0o600); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	if fs := l.Files(); len(fs) != 0 {
		t.Fatalf("Files() from a damaged index = %v", names(fs))
	}
	if !strings.Contains(logs.String(), "set it aside") {
		t.Fatalf("no log line about the damaged index:\n%s", logs)
	}
	side, _ := filepath.Glob(index + ".damaged-*")
	if len(side) != 1 {
		t.Fatalf("damaged index not set aside: %v", side)
	}
	l.Close()

	if err := os.WriteFile(index, []byte(`{"version":2,"files":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(opts)
	wantErr(t, "Open with an index of a later format", err, "written by a newer Peerster")
}

func TestClosed(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	f, err := l.Put("a.txt", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.Share("a.txt"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Share after Close = %v", err)
	}
	if _, err := l.Put("b.txt", []byte("b")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close = %v", err)
	}
	if _, err := l.Begin("c", f.MetaHash, "x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Begin after Close = %v", err)
	}
	if _, ok := l.Read(f.MetaHash); ok {
		t.Fatal("Read after Close = true")
	}
}

func TestOpenSweepsOldUploads(t *testing.T) {
	opts, _ := testOptions(t, false)
	mustOpen(t, opts).Close()
	old := writeFile(t, opts.SharedDir, uploadPrefix+"1", []byte("cut by a crash"))
	young := writeFile(t, opts.SharedDir, uploadPrefix+"2", []byte("another node's upload"))
	past := time.Now().Add(-2 * staleUpload)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, opts)
	if _, err := os.Stat(old); err == nil {
		t.Error("an old upload's temporary file was kept")
	}
	if _, err := os.Stat(young); err != nil {
		t.Error("a young upload's temporary file was removed")
	}
}
