package metrics

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peerster/Peerster/internal/procstat"
)

// procRoot is where Linux shows processes; elsewhere it does not exist and
// the process figures are left out, as the Prometheus client library does.
const procRoot = "/proc"

// writeProcess writes the process's figures under the names the Prometheus
// client library gives them, read from root (/proc, or a copy in tests).
// A file that cannot be read or parsed costs its figures only.
func writeProcess(e *exposition, root string) {
	if st, err := procstat.Read(filepath.Join(root, "self", "stat")); err == nil {
		e.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", st.CPU().Seconds())
		e.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", float64(st.VSize))
		e.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(st.RSS*uint64(os.Getpagesize())))
		if boot, ok := bootTime(filepath.Join(root, "stat")); ok {
			e.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(boot)+float64(st.StartTime)/procstat.TicksPerSecond)
		}
	}
	if fds, err := os.ReadDir(filepath.Join(root, "self", "fd")); err == nil {
		e.gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	if limit, ok := maxFDs(filepath.Join(root, "self", "limits")); ok {
		e.gauge("process_max_fds", "Maximum number of open file descriptors.", limit)
	}
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
