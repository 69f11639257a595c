//go:build unix

package files

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// crashEnv names, in the child process of TestResumeAfterKill, the folder
// to download in.
const crashEnv = "PEERSTER_FILES_CRASH_ROOT"

// TestResumeAfterKill downloads half a file in a child process, kills it
// with SIGKILL, which gives it no chance to close anything, and checks that
// a node opened on the same folders resumes the download from the chunks
// the child wrote.
func TestResumeAfterKill(t *testing.T) {
	opts, _ := testOptions(t, true)
	root := filepath.Dir(opts.SharedDir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatalf("the child ended before it was ready:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the child was not ready within 30s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	l := mustOpen(t, opts)
	finishResumed(t, l, opts, crashSource(t), haveOf(7, 0, 2, 4, 6))
}

func crashSource(t *testing.T) source { return newSource(t, 6*ChunkSize+1, 8) }

// TestCrashChild is the child process of TestResumeAfterKill: it writes
// the even chunks, says so, and waits to be killed.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashEnv)
	if root == "" {
		t.Skip("runs only as the child process of TestResumeAfterKill")
	}
	l, err := Open(Options{
		SharedDir:    filepath.Join(root, DefaultSharedDir),
		DownloadsDir: filepath.Join(root, DefaultDownloadsDir),
		StateDir:     filepath.Join(root, "state"),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := crashSource(t)
	if _, err := l.Begin("resumed.bin", s.meta, "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMetafile(s.meta, s.metafile); err != nil {
		t.Fatal(err)
	}
	fetch(t, l, s, []int{0, 2, 4, 6})
	fmt.Println("ready")
	// Sleep rather than block forever, which the runtime would call a
	// deadlock; the parent kills the process long before.
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}
