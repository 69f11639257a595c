package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

func httpGet(url string) (int, string, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// localRun is run_local.sh started by a test, on ports of its own, in a
// process group of its own, as a shell starts a pipeline.
type localRun struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the script has exited, with waitErr
	waitErr error
	// out is what the script wrote on its stdout so far, as its reader got
	// it (a file, or tee's file).
	out func() string
	// banner is out up to the line that says the nodes run.
	banner                string
	tmp                   string // the temporary folder it builds into
	nodePids              []int
	gossip, ui, gui       int // the first of each three ports
	nodesDir, logs        string
	clientCmd, privateCmd []string // the commands the banner shows
}

// localSetup says how a test starts run_local.sh.
type localSetup struct {
	env            []string // besides the ports and NODES_DIR
	stdout, stderr *os.File
	out            func() string
	// alongside, if set, starts another process in the script's process
	// group, as the rest of a pipeline (tee).
	alongside func(pgid int) *exec.Cmd
	// logs is where the nodes' logs go: LOG_DIR if set in env, else the
	// default, NODES_DIR/logs.
	logs string
}

const ready = "Ctrl-C stops the three nodes."

// startRunLocal starts run_local.sh as set and waits until it says the
// nodes run. When the test ends it stops what is left: the script with
// SIGTERM, and then, by their PIDs, the processes left in its group.
func startRunLocal(t *testing.T, set localSetup) *localRun {
	t.Helper()
	// Reading the script makes go test's cache hold this test's result
	// only as long as the script is unchanged.
	if b, err := os.ReadFile("run_local.sh"); err != nil || !strings.HasPrefix(string(b), "#!/usr/bin/env bash\n") {
		t.Fatalf("run_local.sh: %v, or no bash shebang", err)
	}
	if _, err := os.ReadFile("jobs_common.sh"); err != nil {
		t.Fatal(err)
	}
	r := &localRun{out: set.out, exited: make(chan struct{})}
	r.gossip, r.ui, r.gui = testkit.FreeBlock(t, "udp", 3), testkit.FreeBlock(t, "udp", 3), testkit.FreeBlock(t, "tcp", 3)
	r.nodesDir = t.TempDir()
	r.logs = set.logs
	if r.logs == "" {
		r.logs = filepath.Join(r.nodesDir, "logs")
	}
	r.cmd = exec.Command("bash", "run_local.sh")
	r.cmd.Env = append(os.Environ(), fmt.Sprintf("GOSSIP_PORT=%d", r.gossip), fmt.Sprintf("UI_PORT=%d", r.ui),
		fmt.Sprintf("GUI_PORT=%d", r.gui), "NODES_DIR="+r.nodesDir, "LOG_DIR=", "VERBOSE=")
	r.cmd.Env = append(r.cmd.Env, set.env...)
	r.cmd.Stdout, r.cmd.Stderr = set.stdout, set.stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process started with SIGINT ignored (a background job of a
	// non-interactive shell) passes that on to its children, and bash
	// cannot trap a signal ignored when it starts. While this process
	// handles SIGINT the script (and tee) start with the default
	// disposition, as from a terminal.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	err := r.cmd.Start()
	var other *exec.Cmd
	if err == nil && set.alongside != nil {
		other = set.alongside(r.cmd.Process.Pid)
		if other.SysProcAttr == nil {
			other.SysProcAttr = &syscall.SysProcAttr{}
		}
		other.SysProcAttr.Setpgid, other.SysProcAttr.Pgid = true, r.cmd.Process.Pid
		if oerr := other.Start(); oerr != nil {
			r.cmd.Process.Signal(syscall.SIGTERM)
			err = oerr
		}
	}
	signal.Stop(sigs)
	if err != nil {
		if r.cmd.Process != nil {
			r.cmd.Wait()
		}
		t.Fatal(err)
	}
	pgid := r.cmd.Process.Pid
	go func() { r.waitErr = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.exited:
			case <-time.After(10 * time.Second):
				r.cmd.Process.Kill()
				<-r.exited
			}
		}
		if other != nil {
			other.Process.Signal(syscall.SIGTERM)
			other.Wait()
		}
		// Whatever the script left running in its group: only ours, by
		// PID.
		for _, p := range groupMembers(pgid) {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("run_local.sh wrote on its stdout:\n%s", r.out())
		}
	})

	testkit.Eventually(t, 3*time.Minute, "run_local.sh says the nodes run", func() bool {
		select {
		case <-r.exited:
			t.Fatalf("run_local.sh exited (%v):\n%s", r.waitErr, r.out())
		default:
		}
		return strings.Contains(r.out(), ready+"\n\n")
	})
	// The banner ends with a blank line, before the view.
	text := r.out()
	r.banner = text[:strings.Index(text, ready)+len(ready)+2]
	if m := regexp.MustCompile(`into (\S+)`).FindStringSubmatch(r.banner); m != nil {
		r.tmp = m[1]
	} else {
		t.Fatalf("run_local.sh does not say where it builds:\n%s", r.banner)
	}
	for _, m := range regexp.MustCompile(`pid (\d+)`).FindAllStringSubmatch(r.banner, -1) {
		pid, _ := strconv.Atoi(m[1])
		r.nodePids = append(r.nodePids, pid)
	}
	if len(r.nodePids) != 3 {
		t.Fatalf("run_local.sh names %d node PIDs, want 3:\n%s", len(r.nodePids), r.banner)
	}
	if strings.HasPrefix(r.tmp, mustAbs(t, ".")) {
		t.Errorf("run_local.sh builds into %s, inside the source tree", r.tmp)
	}
	if !strings.Contains(r.banner, r.logs+"/NAME.log") {
		t.Errorf("run_local.sh does not name the logs in %s:\n%s", r.logs, r.banner)
	}
	m := regexp.MustCompile(`(\S+/client) -UIPort=(\d+) -msg='([^']*)'`).FindStringSubmatch(r.banner)
	if m == nil {
		t.Fatalf("run_local.sh does not show how to chat:\n%s", r.banner)
	}
	r.clientCmd = m[1:]
	if r.clientCmd[1] != strconv.Itoa(r.ui) {
		t.Errorf("run_local.sh shows the client with -UIPort=%s, want Alice's, %d", r.clientCmd[1], r.ui)
	}
	m = regexp.MustCompile(`(\S+/client) -UIPort=(\d+) -dest=Carol -msg='([^']*)'`).FindStringSubmatch(r.banner)
	if m == nil {
		t.Fatalf("run_local.sh does not show how to send privately:\n%s", r.banner)
	}
	r.privateCmd = m[1:]
	return r
}

// view is what the script wrote on its stdout after the banner.
func (r *localRun) view() string { return strings.TrimPrefix(r.out(), r.banner) }

func (r *localRun) addr(i int) string { return "127.0.0.1:" + strconv.Itoa(r.gossip+i) }

// log is node name's whole stdout so far.
func (r *localRun) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.logs, name+".log"))
	return string(b)
}

// post runs the client as the banner shows, with msg, and dest if not "".
func (r *localRun) post(t *testing.T, dest, msg string) {
	t.Helper()
	args := []string{"-UIPort=" + r.clientCmd[1]}
	if dest != "" {
		args = append(args, "-dest="+dest)
	}
	if b, err := exec.Command(r.clientCmd[0], append(args, "-msg="+msg)...).CombinedOutput(); err != nil {
		t.Fatalf("client %v: %v: %s", args, err, b)
	}
}

// awaitExit waits for the script to exit, with status 0, after it was told
// to stop.
func (r *localRun) awaitExit(t *testing.T, after string) {
	t.Helper()
	select {
	case <-r.exited:
		if r.waitErr != nil {
			t.Errorf("run_local.sh after %s: %v, want exit status 0", after, r.waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("run_local.sh still runs 20 s after %s", after)
	}
}

// checkStopped checks, once the script has exited, that its nodes are gone
// and so is its temporary folder, that nothing of it is left in its process
// group, and that it said so on stderr.
func (r *localRun) checkStopped(t *testing.T, stderr string) {
	t.Helper()
	for _, pid := range r.nodePids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("node pid %d still there after run_local.sh exited (kill -0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(r.tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run_local.sh left %s behind (%v)", r.tmp, err)
	}
	// The group's leader has exited; what runs in the group is left over
	// (the view's tail and awk, a sleep).
	if left := groupMembers(r.cmd.Process.Pid); len(left) > 0 {
		t.Errorf("processes left in run_local.sh's group: %v", left)
	}
	want := "run_local: stopped Alice, Bob and Carol; logs kept in " + r.logs + "; removed " + r.tmp + "\n"
	if !strings.Contains(stderr, want) {
		t.Errorf("run_local.sh's stderr:\n%s\nwant the line %q", stderr, want)
	}
	if strings.Contains(stderr, "rror") {
		t.Errorf("run_local.sh's stderr tells of an error:\n%s", stderr)
	}
	for _, name := range []string{"Alice", "Bob", "Carol"} {
		if !strings.Contains(r.log(name), "STATUS from ") {
			t.Errorf("%s's log, %s, is gone or has no STATUS line", name, filepath.Join(r.logs, name+".log"))
		}
		if fi, err := os.Stat(filepath.Join(r.nodesDir, name)); err != nil || !fi.IsDir() {
			t.Errorf("%s's folder in NODES_DIR: %v", name, err)
		}
	}
}

type member struct {
	pid  int
	args string
}

func (m member) String() string { return fmt.Sprintf("%d %q", m.pid, m.args) }

// groupMembers lists the live processes (not zombies) of process group
// pgid, from /proc; none where there is no /proc.
func groupMembers(pgid int) []member {
	dirs, _ := os.ReadDir("/proc")
	var found []member
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and
		// parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 3 || f[0] == "Z" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		args, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		found = append(found, member{pid, strings.ReplaceAll(string(args), "\x00", " ")})
	}
	return found
}

// TestRunLocal runs run_local.sh, as a newcomer would, on ports of its own,
// with VERBOSE=1 and LOG_DIR: it builds outside the source tree, the three
// pages answer, the nodes know their neighbours and routes to each other, a
// private message from Alice reaches Carol through Bob with the command the
// script prints, it shows every line of the nodes, and SIGINT (Ctrl-C) to
// the script stops the three nodes and the script, which removes its
// folder and says so.
func TestRunLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("run_local.sh builds the binaries")
	}
	t.Parallel()
	logs := t.TempDir()
	before := builtInTree()
	// The script's output goes to a file, not a pipe: Wait then does not
	// wait for whatever else holds the pipe.
	outFile, err := os.Create(filepath.Join(t.TempDir(), "run_local.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	out := func() string {
		b, _ := os.ReadFile(outFile.Name())
		return string(b)
	}
	r := startRunLocal(t, localSetup{env: []string{"LOG_DIR=" + logs, "VERBOSE=1"},
		stdout: outFile, stderr: outFile, out: out, logs: logs})

	names := []string{"Alice", "Bob", "Carol"}
	for i, name := range names {
		base := "http://127.0.0.1:" + strconv.Itoa(r.gui+i)
		if !strings.Contains(r.banner, base+"/") {
			t.Errorf("run_local.sh does not print %s's page, %s/", name, base)
		}
		if code, body, err := httpGet(base + "/"); err != nil || code != 200 || !strings.Contains(body, "<") {
			t.Errorf("GET %s/: %d %v %.80q", base, code, err, body)
		}
		if code, body, err := httpGet(base + "/id"); err != nil || code != 200 || !strings.Contains(body, `"`+name+`"`) {
			t.Errorf("GET %s/id: %d %v %q, want %s", base, code, err, body, name)
		}
	}
	// Bob is in the middle of the line.
	if _, body, err := httpGet("http://127.0.0.1:" + strconv.Itoa(r.gui+1) + "/node"); err != nil ||
		!strings.Contains(body, r.addr(0)) || !strings.Contains(body, r.addr(2)) {
		t.Errorf("GET Bob's /node: %q, %v; want Alice's and Carol's addresses", body, err)
	}

	// Routes, from the nodes' DSDV lines: Alice and Carol reach everyone
	// through Bob, Bob each directly.
	routes := map[string]map[string]string{
		"Alice": {"Bob": r.addr(1), "Carol": r.addr(1)},
		"Bob":   {"Alice": r.addr(0), "Carol": r.addr(2)},
		"Carol": {"Alice": r.addr(1), "Bob": r.addr(1)},
	}
	for node, want := range routes {
		for origin, hop := range want {
			line := "DSDV " + origin + " " + hop + "\n"
			testkit.Eventually(t, 10*time.Second, node+" prints "+strings.TrimSpace(line), func() bool {
				return strings.Contains(r.log(node), line)
			})
		}
	}

	// The private message the script shows how to send.
	if b, err := exec.Command(r.privateCmd[0], "-UIPort="+r.privateCmd[1], "-dest=Carol", "-msg="+r.privateCmd[2]).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", r.privateCmd, err, b)
	}
	want := "PRIVATE origin Alice hop-limit 9 contents " + r.privateCmd[2] + "\n"
	testkit.Eventually(t, 5*time.Second, "Carol prints "+strings.TrimSpace(want), func() bool {
		return strings.Contains(r.log("Carol"), want)
	})
	// VERBOSE=1: every line, each after its node's name.
	for _, line := range []string{"[Carol] " + want, "[Bob] STATUS from ", "[Alice] DSDV Carol " + r.addr(1) + "\n"} {
		testkit.Eventually(t, 5*time.Second, "run_local.sh shows "+strings.TrimSpace(line), func() bool {
			return strings.HasPrefix(r.view(), line) || strings.Contains(r.view(), "\n"+line)
		})
	}

	// Ctrl-C, to the script alone.
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r.awaitExit(t, "SIGINT")
	r.checkStopped(t, out())
	if after := builtInTree(); after != before {
		t.Errorf("run_local.sh built into the source tree: %q, before %q", after, before)
	}
}

// TestRunLocalViewAndCtrlCThroughTee runs ./run_local.sh | tee log, as the
// issue did, with the default logs folder and view: its output shows what
// people say, each line after its node's name, and no STATUS lines, which
// the full logs keep; and Ctrl-C, SIGINT to the whole pipeline's process
// group, which stops tee first, still stops the nodes, removes the
// temporary folder and says so on stderr.
func TestRunLocalViewAndCtrlCThroughTee(t *testing.T) {
	if testing.Short() {
		t.Skip("run_local.sh builds the binaries")
	}
	t.Parallel()
	dir := t.TempDir()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	teeFile := filepath.Join(dir, "log")
	var tee *exec.Cmd
	tmpdir := t.TempDir()
	r := startRunLocal(t, localSetup{
		env:    []string{"TMPDIR=" + tmpdir},
		stdout: pw, stderr: stderr,
		out: func() string {
			b, _ := os.ReadFile(teeFile)
			return string(b)
		},
		alongside: func(int) *exec.Cmd {
			tee = exec.Command("tee", teeFile)
			tee.Stdin = pr
			return tee
		},
	})
	// Only the script writes to the pipe and only tee reads it.
	pw.Close()
	pr.Close()
	if !strings.HasPrefix(r.tmp, tmpdir+"/") {
		t.Errorf("run_local.sh builds into %s, not in TMPDIR %s", r.tmp, tmpdir)
	}

	// The nodes talk among themselves before anyone says anything: the view
	// must have passed their STATUS lines when it shows what comes after.
	for _, name := range []string{"Alice", "Bob", "Carol"} {
		testkit.Eventually(t, 10*time.Second, name+"'s log has STATUS lines", func() bool {
			return strings.Contains("\n"+r.log(name), "\nSTATUS from ")
		})
	}
	const msg = "hello, is this the view?"
	r.post(t, "", msg)
	testkit.Eventually(t, 10*time.Second, "Alice knows a route to Carol", func() bool {
		return strings.Contains("\n"+r.log("Alice"), "\nDSDV Carol ")
	})
	r.post(t, "Carol", "just between us")
	// Each line shows in the view soon after its node writes it: the view
	// holds nothing back (as mawk, reading a pipe 4 KB at a time, would,
	// for seconds when the nodes are idle).
	q := regexp.QuoteMeta
	for _, want := range []struct{ node, line string }{
		{"Alice", `CLIENT MESSAGE ` + q(msg)},
		{"Bob", `RUMOR origin Alice from ` + q(r.addr(0)) + ` ID \d+ contents ` + q(msg)},
		{"Carol", `RUMOR origin Alice from ` + q(r.addr(1)) + ` ID \d+ contents ` + q(msg)},
		{"Carol", `PRIVATE origin Alice hop-limit 9 contents just between us`},
		{"Carol", `DSDV Alice ` + q(r.addr(1))},
		{"Alice", `DSDV Carol ` + q(r.addr(1))},
	} {
		inLog := regexp.MustCompile(`(?m)^` + want.line + `$`)
		testkit.Eventually(t, 10*time.Second, want.node+" prints "+want.line, func() bool {
			return inLog.MatchString(r.log(want.node))
		})
		inView := regexp.MustCompile(`(?m)^\[` + want.node + `\] ` + want.line + `$`)
		testkit.Eventually(t, 2*time.Second, "run_local.sh shows ["+want.node+"] "+want.line, func() bool {
			return inView.MatchString(r.view())
		})
	}
	view := r.view()
	named := regexp.MustCompile(`^\[(Alice|Bob|Carol)\] `)
	for _, line := range strings.Split(strings.TrimSuffix(view, "\n"), "\n") {
		if !named.MatchString(line) {
			t.Errorf("a line of the view does not start with its node's name: %q", line)
		}
		for _, noise := range []string{"STATUS from", "IN SYNC WITH", "PEERS", "MONGERING"} {
			if strings.Contains(line, "] "+noise) {
				t.Errorf("the view shows a %s line: %q", noise, line)
			}
		}
	}
	if !strings.Contains(r.log("Alice"), "\nCLIENT MESSAGE "+msg+"\n") {
		t.Errorf("Alice's full log lacks the CLIENT MESSAGE line")
	}

	// Ctrl-C: SIGINT to the foreground process group, as a terminal sends
	// it: the script, tee, the nodes and the view's processes.
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r.awaitExit(t, "SIGINT to its process group")
	if err := tee.Wait(); err == nil {
		t.Errorf("tee exited 0 after SIGINT; the test meant it to die first")
	}
	b, _ := os.ReadFile(stderr.Name())
	r.checkStopped(t, string(b))
}

// TestRunLocalStdoutClosed closes the reading end of run_local.sh's stdout
// once the nodes run, as when whatever read it has gone, lets the nodes
// talk, and stops the script with SIGTERM alone: it stops the nodes,
// removes its folder and says so on stderr all the same.
func TestRunLocalStdoutClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("run_local.sh builds the binaries")
	}
	t.Parallel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var out testkit.SyncBuffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, pr)
		close(read)
	}()
	r := startRunLocal(t, localSetup{stdout: pw, stderr: stderr, out: out.String})
	pw.Close()
	pr.Close()
	<-read
	const msg = "anyone reading?"
	r.post(t, "", msg)
	testkit.Eventually(t, 10*time.Second, "Carol takes the rumor", func() bool {
		return strings.Contains(r.log("Carol"), "contents "+msg+"\n")
	})
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.awaitExit(t, "SIGTERM")
	b, _ := os.ReadFile(stderr.Name())
	r.checkStopped(t, string(b))
}

// TestRunLocalHelp: --help prints the comment at the top of the script,
// which tells how to watch and where the logs are; any other argument is
// refused.
func TestRunLocalHelp(t *testing.T) {
	// Read here for go test's cache, as in startRunLocal.
	if _, err := os.ReadFile("run_local.sh"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "run_local.sh", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("run_local.sh --help: %v\n%s", err, out)
	}
	for _, want := range []string{"VERBOSE=1 ./run_local.sh", "LOG_DIR", "NODES_DIR", "GOSSIP_PORT", "Ctrl-C", "[Alice] CLIENT MESSAGE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("run_local.sh --help does not say %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`(?m)^#`).Match(out) || strings.Contains(string(out), "set -u") {
		t.Errorf("run_local.sh --help prints comment marks or code:\n%s", out)
	}
	out, err = exec.Command("bash", "run_local.sh", "--bogus").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--bogus") {
		t.Errorf("run_local.sh --bogus: %v %q, want exit status 2 naming it", err, out)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
