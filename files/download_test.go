package files

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// source is a file as the node sharing it would serve it.
type source struct {
	data     []byte
	metafile []byte
	chunks   [][]byte
	meta     Hash
}

func newSource(t *testing.T, size int, seed byte) source {
	t.Helper()
	data := pattern(size, seed)
	metafile, chunks, err := Split(data)
	if err != nil {
		t.Fatal(err)
	}
	return source{data: data, metafile: metafile, chunks: chunks, meta: HashOf(metafile)}
}

// fetch writes the chunks of s listed in order into the download of s.
func fetch(t *testing.T, l *Library, s source, order []int) {
	t.Helper()
	for _, i := range order {
		if err := l.WriteChunk(s.meta, i, s.chunks[i]); err != nil {
			t.Fatalf("WriteChunk(%d): %v", i, err)
		}
	}
}

func haveOf(n int, idx ...int) []bool {
	h := make([]bool, n)
	for _, i := range idx {
		h[i] = true
	}
	return h
}

func partialFiles(t *testing.T, opts Options) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(opts.DownloadsDir, partialDirName))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// checkDownloaded checks that the download of s under name is complete: on
// disk with s's bytes and mode 0644, listed, served, and no longer partial.
func checkDownloaded(t *testing.T, l *Library, opts Options, s source, name string) {
	t.Helper()
	path := filepath.Join(opts.DownloadsDir, name)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, s.data) {
		t.Fatalf("downloaded file differs from the original (%d bytes, want %d): %v", len(got), len(s.data), err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("downloaded file mode %v, want 0644", fi.Mode().Perm())
	}
	f, ok := l.Lookup(s.meta)
	if !ok || f.Name != name || !f.Downloaded || f.Size != int64(len(s.data)) {
		t.Fatalf("Lookup after download = %+v, %v", f, ok)
	}
	if p, ok := l.Path(s.meta); !ok || p != path {
		t.Fatalf("Path = %q, %v; want %q", p, ok, path)
	}
	if got, ok := l.Read(s.meta); !ok || !bytes.Equal(got, s.metafile) {
		t.Fatal("the downloaded file's metafile is not served")
	}
	for i, c := range s.chunks {
		if got, ok := l.Read(HashOf(c)); !ok || !bytes.Equal(got, c) {
			t.Fatalf("chunk %d of the downloaded file is not served", i)
		}
	}
	if ps := l.Partials(); len(ps) != 0 {
		t.Fatalf("Partials() after Complete = %+v", ps)
	}
	if left := partialFiles(t, opts); len(left) != 0 {
		t.Fatalf("partial files left after Complete: %v", left)
	}
}

func TestDownload(t *testing.T) {
	// The sharer: what it serves is what the downloader gets.
	srcOpts, _ := testOptions(t, false)
	src := mustOpen(t, srcOpts)
	s := newSource(t, 4*ChunkSize+123, 5)
	if _, err := src.Put("original.bin", s.data); err != nil {
		t.Fatal(err)
	}
	serve := func(h Hash) []byte {
		b, ok := src.Read(h)
		if !ok {
			t.Fatalf("the sharer does not serve %s", h)
		}
		return b
	}

	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	p, err := l.Begin("copy.bin", s.meta, "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "copy.bin" || p.MetaHash != s.meta || p.Dest != "Alice" || p.Metafile != nil || p.Have != nil {
		t.Fatalf("Begin = %+v", p)
	}
	err = l.WriteChunk(s.meta, 0, s.chunks[0])
	wantErr(t, "WriteChunk before the metafile", err, "metafile has not arrived yet")
	_, err = l.Complete(s.meta)
	wantErr(t, "Complete before the metafile", err, "metafile has not arrived yet")

	wrong := slices.Clone(s.metafile)
	wrong[0] ^= 1
	err = l.SetMetafile(s.meta, wrong)
	wantErr(t, "SetMetafile with wrong bytes", err, "does not match it")
	stranger := newSource(t, 10, 0)
	err = l.SetMetafile(stranger.meta, stranger.metafile)
	if !errors.Is(err, ErrNoDownload) {
		t.Fatalf("SetMetafile of no download = %v", err)
	}
	if err := l.SetMetafile(s.meta, serve(s.meta)); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatalf("SetMetafile again: %v", err)
	}
	if got, ok := l.Read(s.meta); !ok || !bytes.Equal(got, s.metafile) {
		t.Fatal("the metafile of a download in progress is not served")
	}

	bad := slices.Clone(s.chunks[2])
	bad[100] ^= 1
	err = l.WriteChunk(s.meta, 2, bad)
	wantErr(t, "WriteChunk with wrong bytes", err, "chunk 3 of \"copy.bin\" does not match its hash")
	err = l.WriteChunk(s.meta, 1, s.chunks[2])
	wantErr(t, "WriteChunk at the wrong index", err, "does not match its hash")
	err = l.WriteChunk(s.meta, 5, s.chunks[4])
	wantErr(t, "WriteChunk past the end", err, "it has chunks 1 to 5")
	err = l.WriteChunk(s.meta, -1, s.chunks[0])
	wantErr(t, "WriteChunk(-1)", err, "it has chunks 1 to 5")
	err = l.WriteChunk(s.meta, 0, s.chunks[0][:100])
	wantErr(t, "WriteChunk with a short middle chunk", err, "every chunk but the last is 8192")
	err = l.WriteChunk(s.meta, 4, nil)
	wantErr(t, "WriteChunk(empty)", err, "is empty")
	if _, ok := l.Read(HashOf(s.chunks[2])); ok {
		t.Fatal("a chunk refused is served")
	}

	// Out of order, the last (short) one first, one twice.
	for _, i := range []int{4, 2, 0} {
		if err := l.WriteChunk(s.meta, i, serve(HashOf(s.chunks[i]))); err != nil {
			t.Fatalf("WriteChunk(%d): %v", i, err)
		}
	}
	if err := l.WriteChunk(s.meta, 2, s.chunks[2]); err != nil {
		t.Fatalf("WriteChunk of a chunk already written: %v", err)
	}
	if got, ok := l.Read(HashOf(s.chunks[4])); !ok || !bytes.Equal(got, s.chunks[4]) {
		t.Fatal("a chunk already written of a download in progress is not served")
	}
	if _, ok := l.Read(HashOf(s.chunks[1])); ok {
		t.Fatal("a chunk not yet written is served")
	}
	if ps := l.Partials(); len(ps) != 1 || !slices.Equal(ps[0].Have, haveOf(5, 0, 2, 4)) || !bytes.Equal(ps[0].Metafile, s.metafile) {
		t.Fatalf("Partials() = %+v", ps)
	}
	_, err = l.Complete(s.meta)
	wantErr(t, "Complete with chunks missing", err, "2 of its 5 chunks are missing, the first chunk 2")

	fetch(t, l, s, []int{3, 1})
	f, err := l.Complete(s.meta)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "copy.bin" || !f.Downloaded || f.MetaHash != s.meta || f.Chunks != 5 || f.Size != int64(len(s.data)) {
		t.Fatalf("Complete = %+v", f)
	}
	checkDownloaded(t, l, opts, s, "copy.bin")
	if _, err := l.Complete(s.meta); !errors.Is(err, ErrNoDownload) {
		t.Fatalf("Complete again = %v, want ErrNoDownload", err)
	}
	if err := l.WriteChunk(s.meta, 0, s.chunks[0]); !errors.Is(err, ErrNoDownload) {
		t.Fatalf("a late chunk after Complete = %v, want ErrNoDownload", err)
	}
}

func TestDownloadSizes(t *testing.T) {
	for _, size := range []int{1, ChunkSize - 1, ChunkSize, ChunkSize + 1, MaxFileSize} {
		opts, _ := testOptions(t, false)
		l := mustOpen(t, opts)
		s := newSource(t, size, 6)
		if _, err := l.Begin("f", s.meta, "A"); err != nil {
			t.Fatal(err)
		}
		if err := l.SetMetafile(s.meta, s.metafile); err != nil {
			t.Fatal(err)
		}
		order := make([]int, len(s.chunks))
		for i := range order {
			order[i] = len(order) - 1 - i
		}
		fetch(t, l, s, order)
		if _, err := l.Complete(s.meta); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		checkDownloaded(t, l, opts, s, "f")
	}
}

func TestBeginRefusals(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	shared, err := l.Put("mine.txt", []byte("already shared"))
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(t, 100, 1)
	other := newSource(t, 100, 2)
	writeFile(t, opts.DownloadsDir, "taken.txt", []byte("something else"))

	_, err = l.Begin("../x", s.meta, "A")
	wantErr(t, "Begin(../x)", err, "slash")
	_, err = l.Begin(".partial", s.meta, "A")
	wantErr(t, "Begin(.partial)", err, "starts with a dot")
	_, err = l.Begin("taken.txt", s.meta, "A")
	wantErr(t, "Begin over a file in the downloads folder", err, "a different file of that name is already in the downloads folder")
	_, err = l.Begin("again.txt", shared.MetaHash, "A")
	wantErr(t, "Begin of a file already shared", err, `it shares it as "mine.txt"`)
	if !errors.Is(err, ErrAlreadyHave) {
		t.Fatalf("Begin of a file already shared = %v, want ErrAlreadyHave", err)
	}

	p, err := l.Begin("s.bin", s.meta, "A")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Begin("s.bin", other.meta, "A")
	wantErr(t, "Begin under a name another download has", err, "another download (of "+s.meta.String()+") is saving to that name")
	_, err = l.Begin("t.bin", s.meta, "A")
	wantErr(t, "Begin of a file being downloaded under another name", err, `it is already being downloaded as "s.bin"`)

	// The same name and file resumes, from a new node if one is given.
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	again, err := l.Begin("s.bin", s.meta, "B")
	if err != nil || again.Dest != "B" || !bytes.Equal(again.Metafile, s.metafile) || len(again.Have) != 1 {
		t.Fatalf("Begin again = %+v, %v (first %+v)", again, err, p)
	}
	if again, err := l.Begin("s.bin", s.meta, ""); err != nil || again.Dest != "B" {
		t.Fatalf("Begin again without a node = %+v, %v", again, err)
	}
	fetch(t, l, s, []int{0})
	if _, err := l.Complete(s.meta); err != nil {
		t.Fatal(err)
	}
	_, err = l.Begin("s2.bin", s.meta, "A")
	wantErr(t, "Begin of a file already downloaded", err, `it downloaded it as "s.bin"`)
}

func TestAbort(t *testing.T) {
	opts, _ := testOptions(t, true)
	l := mustOpen(t, opts)
	s := newSource(t, 3*ChunkSize, 3)
	if _, err := l.Begin("a.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{1})
	if err := l.Abort(s.meta); err != nil {
		t.Fatal(err)
	}
	if err := l.Abort(s.meta); !errors.Is(err, ErrNoDownload) {
		t.Fatalf("Abort again = %v", err)
	}
	if _, ok := l.Read(HashOf(s.chunks[1])); ok {
		t.Fatal("a chunk of an aborted download is served")
	}
	if ps := l.Partials(); len(ps) != 0 {
		t.Fatalf("Partials() after Abort = %+v", ps)
	}
	if left := partialFiles(t, opts); len(left) != 0 {
		t.Fatalf("partial files left after Abort: %v", left)
	}
	l.Close()
	l = mustOpen(t, opts)
	if ps := l.Partials(); len(ps) != 0 {
		t.Fatalf("an aborted download came back after a restart: %+v", ps)
	}
	if _, err := l.Begin("a.bin", s.meta, "A"); err != nil {
		t.Fatalf("Begin after Abort: %v", err)
	}
}

// TestResumeAfterClose stops a node halfway through a download and checks
// that the next run knows what it has and finishes it.
func TestResumeAfterClose(t *testing.T) {
	opts, _ := testOptions(t, true)
	s := newSource(t, 6*ChunkSize+1, 8)
	l := mustOpen(t, opts)
	if _, err := l.Begin("resumed.bin", s.meta, "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{6, 0, 3})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	finishResumed(t, l, opts, s, haveOf(7, 0, 3, 6))
}

// finishResumed checks the one download an earlier run left, which had the
// chunks want, then completes it.
func finishResumed(t *testing.T, l *Library, opts Options, s source, want []bool) {
	t.Helper()
	ps := l.Partials()
	if len(ps) != 1 {
		t.Fatalf("Partials() after restart = %+v, want one", ps)
	}
	p := ps[0]
	if p.Name != "resumed.bin" || p.MetaHash != s.meta || p.Dest != "Alice" || !bytes.Equal(p.Metafile, s.metafile) || !slices.Equal(p.Have, want) {
		t.Fatalf("Partials()[0] = %s %s from %s, have %v; want have %v", p.Name, p.MetaHash, p.Dest, p.Have, want)
	}
	for i, ok := range p.Have {
		if _, served := l.Read(HashOf(s.chunks[i])); served != ok {
			t.Fatalf("chunk %d: served %v, held %v", i, served, ok)
		}
	}
	if again, err := l.Begin("resumed.bin", s.meta, "Alice"); err != nil || !slices.Equal(again.Have, want) {
		t.Fatalf("Begin to resume = %+v, %v", again, err)
	}
	for i, ok := range p.Have {
		if !ok {
			fetch(t, l, s, []int{i})
		}
	}
	if _, err := l.Complete(s.meta); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, l, opts, s, "resumed.bin")
	if recs, _ := os.ReadDir(filepath.Join(opts.StateDir, partialsDirName)); len(recs) != 0 {
		t.Fatalf("records left after Complete: %v", recs)
	}
	// And the downloaded file is still shared after one more restart.
	l.Close()
	l2 := mustOpen(t, opts)
	if f, ok := l2.Lookup(s.meta); !ok || !f.Downloaded || f.Name != "resumed.bin" {
		t.Fatalf("downloaded file after restart = %+v, %v", f, ok)
	}
}

func TestResumeBeforeMetafile(t *testing.T) {
	opts, _ := testOptions(t, true)
	s := newSource(t, 100, 9)
	l := mustOpen(t, opts)
	if _, err := l.Begin("early.bin", s.meta, "Bob"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = mustOpen(t, opts)
	ps := l.Partials()
	if len(ps) != 1 || ps[0].Name != "early.bin" || ps[0].Dest != "Bob" || ps[0].Metafile != nil || ps[0].Have != nil {
		t.Fatalf("Partials() = %+v", ps)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0})
	if _, err := l.Complete(s.meta); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, l, opts, s, "early.bin")
}

// TestResumeChecksChunks damages a partial file while the node is down:
// the chunk damaged is found missing, not trusted.
func TestResumeChecksChunks(t *testing.T) {
	opts, _ := testOptions(t, true)
	s := newSource(t, 3*ChunkSize, 10)
	l := mustOpen(t, opts)
	if _, err := l.Begin("resumed.bin", s.meta, "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 1, 2})
	l.Close()
	left := partialFiles(t, opts)
	if len(left) != 1 {
		t.Fatalf("partial files: %v", left)
	}
	f, err := os.OpenFile(filepath.Join(opts.DownloadsDir, partialDirName, left[0]), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{^s.chunks[1][7]}, ChunkSize+7)
	f.Close()
	l = mustOpen(t, opts)
	finishResumed(t, l, opts, s, haveOf(3, 0, 2))
}

// TestRecoverCrashInsideComplete leaves the state a crash inside Complete
// leaves, the file whole under its name and the record still there, and
// checks that the next run shares the file and forgets the download.
func TestRecoverCrashInsideComplete(t *testing.T) {
	opts, _ := testOptions(t, true)
	s := newSource(t, 2*ChunkSize+5, 11)
	l := mustOpen(t, opts)
	if _, err := l.Begin("done.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 1, 2})
	l.Close()
	partial := filepath.Join(opts.DownloadsDir, partialDirName, partialFiles(t, opts)[0])
	if err := os.Link(partial, filepath.Join(opts.DownloadsDir, "done.bin")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	l = mustOpen(t, opts)
	checkDownloaded(t, l, opts, s, "done.bin")
	if recs, _ := os.ReadDir(filepath.Join(opts.StateDir, partialsDirName)); len(recs) != 0 {
		t.Fatalf("records left: %v", recs)
	}
}

// TestStalePartialsRemoved runs two nodes without a state folder in one
// working directory, as graders do: a node starting removes the partial
// files an earlier run left, and not those the other node is writing.
func TestStalePartialsRemoved(t *testing.T) {
	if !canLock {
		t.Skip("no flock here: stale partial files are left")
	}
	opts, logs := testOptions(t, false)
	s := newSource(t, 2*ChunkSize, 12)
	busy := mustOpen(t, opts)
	if _, err := busy.Begin("busy.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	if err := busy.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, busy, s, []int{0})
	inUse := partialFiles(t, opts)

	stale := s.meta.String() + "-0123456789abcdef"
	writeFile(t, filepath.Join(opts.DownloadsDir, partialDirName), stale, s.chunks[0])
	writeFile(t, filepath.Join(opts.DownloadsDir, partialDirName), "not-ours", []byte("x"))

	second := mustOpen(t, opts)
	left := partialFiles(t, opts)
	want := append(slices.Clone(inUse), "not-ours")
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("partial files after a second node started = %v, want %v", left, want)
	}
	if !strings.Contains(logs.String(), stale) {
		t.Fatalf("no log line about the stale partial file:\n%s", logs)
	}
	if ps := second.Partials(); len(ps) != 0 {
		t.Fatalf("a node without state folder resumed %+v", ps)
	}
	// The first node's download was not disturbed.
	fetch(t, busy, s, []int{1})
	if _, err := busy.Complete(s.meta); err != nil {
		t.Fatal(err)
	}
}

// TestSameNameTwoNodes has two nodes in one working directory download one
// file under one name: both succeed, and leave one file.
func TestSameNameTwoNodes(t *testing.T) {
	opts, _ := testOptions(t, false)
	s := newSource(t, 3*ChunkSize-1, 13)
	a, b := mustOpen(t, opts), mustOpen(t, opts)
	for _, l := range []*Library{a, b} {
		if _, err := l.Begin("same.bin", s.meta, "C"); err != nil {
			t.Fatal(err)
		}
		if err := l.SetMetafile(s.meta, s.metafile); err != nil {
			t.Fatal(err)
		}
		fetch(t, l, s, []int{0, 1, 2})
	}
	for _, l := range []*Library{a, b} {
		if _, err := l.Complete(s.meta); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*Library{a, b} {
		checkDownloaded(t, l, opts, s, "same.bin")
	}
	// A third begins after the file is there, and still downloads it.
	c := mustOpen(t, opts)
	if _, err := c.Begin("same.bin", s.meta, "C"); err != nil {
		t.Fatalf("Begin of a file already there with that content: %v", err)
	}
}

func TestDifferentFileAppearedMeanwhile(t *testing.T) {
	opts, _ := testOptions(t, false)
	s := newSource(t, ChunkSize+1, 14)
	l := mustOpen(t, opts)
	if _, err := l.Begin("x.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 1})
	writeFile(t, opts.DownloadsDir, "x.bin", []byte("the user's own file"))
	_, err := l.Complete(s.meta)
	wantErr(t, "Complete over another file", err, "a different file of that name appeared in the downloads folder")
	if got, _ := os.ReadFile(filepath.Join(opts.DownloadsDir, "x.bin")); string(got) != "the user's own file" {
		t.Fatal("Complete replaced the user's file")
	}
	if err := l.Abort(s.meta); err != nil {
		t.Fatalf("Abort after a failed Complete: %v", err)
	}
}

// TestConcurrent writes, reads and completes from many goroutines at once,
// for the race detector.
func TestConcurrent(t *testing.T) {
	opts, _ := testOptions(t, false)
	l := mustOpen(t, opts)
	var sources []source
	for i := range 4 {
		s := newSource(t, 8*ChunkSize+i, byte(20+i))
		sources = append(sources, s)
		if _, err := l.Begin(s.meta.String()[:8], s.meta, "A"); err != nil {
			t.Fatal(err)
		}
		if err := l.SetMetafile(s.meta, s.metafile); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range sources {
		for w := range 3 {
			wg.Go(func() {
				for i := range s.chunks {
					if err := l.WriteChunk(s.meta, (i+w)%len(s.chunks), s.chunks[(i+w)%len(s.chunks)]); err != nil && !errors.Is(err, ErrNoDownload) {
						t.Error(err)
					}
					if got, ok := l.Read(HashOf(s.chunks[i])); ok && !bytes.Equal(got, s.chunks[i]) {
						t.Error("Read returned wrong bytes")
					}
					l.Files()
					l.Partials()
				}
				l.Complete(s.meta)
			})
		}
	}
	wg.Wait()
	for _, s := range sources {
		f, ok := l.Lookup(s.meta)
		if !ok {
			t.Fatalf("%s not complete", s.meta)
		}
		if got, _ := os.ReadFile(filepath.Join(opts.DownloadsDir, f.Name)); !bytes.Equal(got, s.data) {
			t.Fatalf("%s differs", f.Name)
		}
	}
}

// TestResumeWithoutPartialFile removes a partial file while its node is
// down, as a node without state folder in the same folder would: the
// download starts over rather than fails.
func TestResumeWithoutPartialFile(t *testing.T) {
	opts, logs := testOptions(t, true)
	s := newSource(t, 2*ChunkSize+3, 15)
	l := mustOpen(t, opts)
	if _, err := l.Begin("resumed.bin", s.meta, "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 1})
	l.Close()
	for _, name := range partialFiles(t, opts) {
		os.Remove(filepath.Join(opts.DownloadsDir, partialDirName, name))
	}
	l = mustOpen(t, opts)
	if !strings.Contains(logs.String(), "starts over") {
		t.Fatalf("no log line about the lost partial file:\n%s", logs)
	}
	finishResumed(t, l, opts, s, haveOf(3))
}

// TestDamagedRecord gives Open a record it cannot use: it is set aside, and
// the node starts without that download.
func TestDamagedRecord(t *testing.T) {
	opts, logs := testOptions(t, true)
	s := newSource(t, 10, 16)
	l := mustOpen(t, opts)
	if _, err := l.Begin("a.bin", s.meta, "A"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rec := filepath.Join(opts.StateDir, partialsDirName, s.meta.String()+recordSuffix)
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	// A record whose partial file name leads elsewhere is not followed.
	data = bytes.Replace(data, []byte(`"file": "`), []byte(`"file": "../../`), 1)
	if err := os.WriteFile(rec, data, 0o600); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	if ps := l.Partials(); len(ps) != 0 {
		t.Fatalf("Partials() from a damaged record = %+v", ps)
	}
	if !strings.Contains(logs.String(), "not a partial file's name") {
		t.Fatalf("no log line about the damaged record:\n%s", logs)
	}
	if _, err := l.Begin("a.bin", s.meta, "A"); err != nil {
		t.Fatalf("Begin after a damaged record: %v", err)
	}
}

// TestDownloadedAfterRestart checks that a file downloaded is still listed
// as downloaded, and one shared as not, once the library is opened again.
func TestDownloadedAfterRestart(t *testing.T) {
	opts, _ := testOptions(t, true)
	l := mustOpen(t, opts)
	if _, err := l.Put("mine.txt", []byte("shared by the user")); err != nil {
		t.Fatal(err)
	}
	s := newSource(t, 2*ChunkSize+5, 9)
	if _, err := l.Begin("copy.bin", s.meta, "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 1, 2})
	if _, err := l.Complete(s.meta); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	got := map[string]bool{}
	for _, f := range l.Files() {
		got[f.Name] = f.Downloaded
	}
	if len(got) != 2 || got["mine.txt"] || !got["copy.bin"] {
		t.Fatalf("Files() after a restart, name: downloaded = %v; want mine.txt: false, copy.bin: true", got)
	}
}
