package metrics

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procRoot is where Linux shows processes; elsewhere it does not exist and
// the process figures are left out, as the Prometheus client library does.
const procRoot = "/proc"

// userHZ is the unit of the times in /proc/<pid>/stat: 100 a second on
// every Linux that Go runs on (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// writeProcess writes the process's figures under the names the Prometheus
// client library gives them, read from root (/proc, or a copy in tests).
// A file that cannot be read or parsed costs its figures only.
func writeProcess(e *exposition, root string) {
	if st, ok := readStat(filepath.Join(root, "self", "stat")); ok {
		e.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", float64(st.utime+st.stime)/userHZ)
		e.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", float64(st.vsize))
		e.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(st.rssPages*uint64(os.Getpagesize())))
		if boot, ok := bootTime(filepath.Join(root, "stat")); ok {
			e.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(boot)+float64(st.startTicks)/userHZ)
		}
	}
	if fds, err := os.ReadDir(filepath.Join(root, "self", "fd")); err == nil {
		e.gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	if limit, ok := maxFDs(filepath.Join(root, "self", "limits")); ok {
		e.gauge("process_max_fds", "Maximum number of open file descriptors.", limit)
	}
}

// stat is what writeProcess needs of /proc/<pid>/stat.
type stat struct {
	utime, stime, startTicks, vsize, rssPages uint64
}

// readStat parses /proc/<pid>/stat (proc(5)): the command name, field 2,
// is in parentheses and may hold spaces and parentheses itself, so the
// fields are counted from the last ')'.
func readStat(path string) (stat, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return stat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, false
	}
	// f[0] is field 3 (state), so field n is f[n-3].
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return stat{}, false
	}
	var st stat
	for _, p := range []struct {
		field int
		v     *uint64
	}{{14, &st.utime}, {15, &st.stime}, {22, &st.startTicks}, {23, &st.vsize}, {24, &st.rssPages}} {
		if *p.v, err = strconv.ParseUint(f[p.field-3], 10, 64); err != nil {
			return stat{}, false
		}
	}
	return st, true
}

// bootTime reads the "btime" line of /proc/stat: when the machine booted,
// in seconds since the epoch.
func bootTime(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// maxFDs reads the soft limit of "Max open files" in /proc/<pid>/limits;
// "unlimited" is +Inf.
func maxFDs(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		v, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, false
		}
		if f[0] == "unlimited" {
			return math.Inf(1), true
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		return float64(n), err == nil
	}
	return 0, false
}
