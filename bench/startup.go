package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/peerster/Peerster/internal/procstat"
)

// The startup command answers: how long after a gossiper is started can a
// datagram sent to it be received? Graders start ten nodes in the
// background and run the client at once; a datagram that reaches a port
// before it is bound is lost.
//
// How it measures: a run takes two fresh loopback UDP ports, notes the time,
// starts the program (exec.Cmd.Start: fork and exec) and reads
// /proc/net/udp in a tight loop until both ports show up there, which
// happens when the program's bind(2) calls return. The time is taken when
// the loop sees them. The program is then killed by its PID. The loop
// watches from outside and knows nothing of the program, so Peerster and the
// yardstick, a minimal Go program that binds two UDP sockets and waits
// (bench/internal/minimal), are measured alike; their runs alternate, each
// pair in turn starting with the other program, so that a change in the
// machine's load falls on both. The error of one sample is about one read
// of /proc/net/udp, printed as the poll period; on a machine with one or
// two cores the loop also takes a core the program might have used, and
// does so for both programs (-interval makes it sleep between reads, at
// the cost of a coarser time).
//
// It also prints the minor page faults each program took until then, read
// from /proc/<pid>/stat: in a virtual machine a fault can cost tens of
// microseconds, and then they, more than the CPU, set the start-up time.
func runStartup(args []string, out, errOut io.Writer) error {
	opts, err := parseStartupFlags(args, errOut)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "peerster-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progs, err := buildStartupPrograms(root, opts.gossiper, dir)
	if err != nil {
		return err
	}
	table, err := openUDPTable()
	if err != nil {
		return err
	}
	defer table.Close()
	stderr, err := os.CreateTemp(dir, "stderr-")
	if err != nil {
		return err
	}
	defer stderr.Close()

	fmt.Fprintf(out, "startup: from exec until both UDP ports show in /proc/net/udp\n")
	fmt.Fprintf(out, "cores %d (runtime.NumCPU), load average %s, %s %s/%s\n",
		runtime.NumCPU(), loadAverage(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "%d runs of each, alternating, after %d warm-up runs of each\n", opts.n, opts.warmup)
	if err := measureStartup(out, progs, table, stderr, opts); err != nil {
		return err
	}
	reportStartup(out, progs)
	return nil
}

// startupOptions are the startup command's flags.
type startupOptions struct {
	n, warmup      int
	gossiper       string
	timeout, pause time.Duration
	interval       time.Duration
	verbose        bool
}

func parseStartupFlags(args []string, errOut io.Writer) (startupOptions, error) {
	var o startupOptions
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&o.n, "n", 41, "runs of each program (at least 15 for a fair median)")
	fs.IntVar(&o.warmup, "warmup", 2, "runs of each, not counted, first (page cache, CPU frequency)")
	fs.StringVar(&o.gossiper, "gossiper", "", "a gossiper binary to measure instead of building the repository's (to compare with an older build)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "give up on a run after this long")
	fs.DurationVar(&o.pause, "pause", 20*time.Millisecond, "pause between runs, for the killed process to go")
	fs.DurationVar(&o.interval, "interval", 0, "pause between two reads of /proc/net/udp (0: none, a tight loop)")
	fs.BoolVar(&o.verbose, "v", false, "print every run")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: go run ./bench startup [flags]")
		fmt.Fprintln(errOut, "\nTime from exec until a gossiper has bound both UDP sockets, beside a minimal Go program that binds two.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, usageErr{err}
	}
	if o.n < 1 || o.warmup < 0 || fs.NArg() > 0 {
		err := errors.New("-n must be at least 1, -warmup not negative, and no arguments")
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return o, usageErr{err}
	}
	return o, nil
}

// buildStartupPrograms builds the yardstick, and the gossiper unless one is
// given, from the repository at root into dir: the minimal program first, then Peerster.
func buildStartupPrograms(root, gossiper, dir string) ([]*startupProgram, error) {
	peerster := gossiper
	if peerster == "" {
		var err error
		if peerster, err = build(root, ".", dir, "Peerster"); err != nil {
			return nil, err
		}
	}
	minimal, err := build(root, "./bench/internal/minimal", dir, "minimal")
	if err != nil {
		return nil, err
	}
	return []*startupProgram{
		{name: "minimal", path: minimal, args: func(gossip, ui, _ int) []string {
			return []string{"127.0.0.1:" + strconv.Itoa(gossip), "127.0.0.1:" + strconv.Itoa(ui)}
		}},
		// As graders run it, with the page on (it starts after the
		// sockets), but on a port of its own.
		{name: "Peerster", path: peerster, args: func(gossip, ui, page int) []string {
			return []string{"-name=bench", "-gossipAddr=127.0.0.1:" + strconv.Itoa(gossip),
				"-UIPort=" + strconv.Itoa(ui), "-GUIPort=" + strconv.Itoa(page)}
		}},
	}, nil
}

// measureStartup runs the warm-up runs, then the counted ones, of both
// programs, each pair in turn starting with the other, and keeps the
// counted runs in each program.
func measureStartup(out io.Writer, progs []*startupProgram, table *udpTable, stderr *os.File, o startupOptions) error {
	for i := -o.warmup; i < o.n; i++ {
		order := progs
		if i%2 != 0 {
			order = []*startupProgram{progs[1], progs[0]}
		}
		for _, p := range order {
			r, err := p.measure(table, stderr, o.timeout, o.interval)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			if i >= 0 {
				p.runs = append(p.runs, r)
			}
			if o.verbose {
				fmt.Fprintf(out, "  run %3d %-8s %8v  (%d polls, %d minor faults)\n", i, p.name, r.took.Round(time.Microsecond), r.polls, r.minorFaults)
			}
			time.Sleep(o.pause)
		}
	}
	return nil
}

// reportStartup writes the table of both programs (minimal first, then
// Peerster) and the two ratios.
func reportStartup(out io.Writer, progs []*startupProgram) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "program\tbinary\tmin\tmedian\tmax\tpoll period\tminor faults\t")
	for _, p := range progs {
		s := summarize(p.durations())
		fmt.Fprintf(w, "%s\t%s\t%v\t%v\t%v\t%v\t%d\t\n", p.name, megabytes(fileSize(p.path)),
			ms(s.min), ms(s.median), ms(s.max), p.pollPeriod().Round(100*time.Nanosecond), p.medianFaults())
	}
	w.Flush()
	base, peer := summarize(progs[0].durations()).median, summarize(progs[1].durations()).median
	fmt.Fprintf(out, "ratio of medians Peerster/minimal: %.2f (the aim: at most 1.20)\n", float64(peer)/float64(base))
	// Each pair of runs, one of each program back to back, meets the same
	// load; the median of their ratios shrugs off load that changes
	// between pairs.
	ratios := make([]float64, len(progs[0].runs))
	for i := range ratios {
		ratios[i] = float64(progs[1].runs[i].took) / float64(progs[0].runs[i].took)
	}
	slices.Sort(ratios)
	fmt.Fprintf(out, "median of the %d paired ratios: %.2f\n", len(ratios), medianFloat(ratios))
	fmt.Fprintln(out, "(minor faults: median per run, from exec until the sockets were seen bound)")
}

// startupProgram is one of the two programs measured.
type startupProgram struct {
	name, path string
	args       func(gossipPort, uiPort, pagePort int) []string
	runs       []startupRun
}

type startupRun struct {
	took        time.Duration
	polls       int
	minorFaults int64
}

// measure starts p once on fresh ports and returns how long it took to
// bind both; see runStartup.
func (p *startupProgram) measure(table *udpTable, stderr *os.File, timeout, interval time.Duration) (startupRun, error) {
	ports, err := freeUDPPorts(2)
	if err != nil {
		return startupRun{}, err
	}
	page, err := freeTCPPort()
	if err != nil {
		return startupRun{}, err
	}
	if bound, err := table.allBound(ports[:1]); err != nil || bound {
		return startupRun{}, fmt.Errorf("port %d taken again before the run (%v)", ports[0], err)
	}
	if err := stderr.Truncate(0); err != nil {
		return startupRun{}, err
	}
	cmd := exec.Command(p.path, p.args(ports[0], ports[1], page)...)
	cmd.Stderr = stderr // a file, so no goroutine of ours copies it
	// The gossiper makes _SharedFiles/ and _Downloads/ where it runs: in
	// the run's temporary folder, beside its stderr, not in the user's.
	cmd.Dir = filepath.Dir(stderr.Name())

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return startupRun{}, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	var r startupRun
	for {
		r.polls++
		bound, err := table.allBound(ports)
		if err != nil {
			return startupRun{}, err
		}
		if bound {
			r.took = time.Since(start)
			break
		}
		select {
		case <-exited:
			return startupRun{}, fmt.Errorf("exited before binding ports %v: %s", ports, readAll(stderr))
		default:
		}
		if time.Since(start) > timeout {
			return startupRun{}, fmt.Errorf("ports %v not bound after %v", ports, timeout)
		}
		if interval > 0 {
			// nanosleep(2) itself: time.Sleep goes through the runtime's
			// timers, which may wake a millisecond late.
			ts := syscall.NsecToTimespec(interval.Nanoseconds())
			_ = syscall.Nanosleep(&ts, nil)
		}
	}
	r.minorFaults = minorFaults(cmd.Process.Pid)
	return r, nil
}

// minorFaults reads how many minor page faults process pid has taken so far,
// field 10 of /proc/<pid>/stat, or -1. Where a page fault is dear, in some
// virtual machines, they are most of a Go program's start-up.
func minorFaults(pid int) int64 {
	st, err := procstat.PID(pid)
	if err != nil {
		return -1
	}
	return int64(st.MinorFaults)
}

func (p *startupProgram) durations() []time.Duration {
	ds := make([]time.Duration, len(p.runs))
	for i, r := range p.runs {
		ds[i] = r.took
	}
	return ds
}

// pollPeriod is the mean time of one read of /proc/net/udp over p's runs:
// the resolution of its samples.
func (p *startupProgram) pollPeriod() time.Duration {
	var took time.Duration
	polls := 0
	for _, r := range p.runs {
		took += r.took
		polls += r.polls
	}
	if polls == 0 {
		return 0
	}
	return took / time.Duration(polls)
}

func (p *startupProgram) medianFaults() int64 {
	fs := make([]int64, len(p.runs))
	for i, r := range p.runs {
		fs[i] = r.minorFaults
	}
	return medianInt(fs)
}

// ms writes d in milliseconds with three decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func readAll(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return strings.TrimSpace(string(b))
}
