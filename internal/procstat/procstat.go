// Package procstat reads /proc/<pid>/stat (proc(5)) for the node's
// /metrics page and for the bench, which watches the nodes it starts.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// TicksPerSecond is USER_HZ, the unit of the times in the stat file:
// sysconf(_SC_CLK_TCK), which Linux fixes at 100 for user space on every
// architecture Go runs on.
const TicksPerSecond = 100

// Tick is one clock tick, the resolution of the CPU times.
const Tick = time.Second / TicksPerSecond

// Stat is what Peerster reads of a stat file, the fields named by their
// number in proc(5).
type Stat struct {
	MinorFaults uint64 // 10: minor page faults
	UTime       uint64 // 14: ticks in user mode
	STime       uint64 // 15: ticks in kernel mode
	StartTime   uint64 // 22: ticks after boot when the process started
	VSize       uint64 // 23: virtual memory, in bytes
	RSS         uint64 // 24: resident pages
}

// CPU is the CPU time the process has used, user and kernel mode together.
func (s Stat) CPU() time.Duration { return time.Duration(s.UTime+s.STime) * Tick }

// PID reads the stat file of process pid.
func PID(pid int) (Stat, error) {
	return Read("/proc/" + strconv.Itoa(pid) + "/stat")
}

// Read reads the stat file at path ("/proc/self/stat", or a copy in tests).
func Read(path string) (Stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	st, err := Parse(b)
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Parse reads the text of a stat file. The command name, field 2, is in
// parentheses and may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func Parse(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, errors.New("no command name in parentheses")
	}
	// f[0] is field 3, the state, so field n is f[n-3].
	f := bytes.Fields(b[i+1:])
	var st Stat
	for _, p := range []struct {
		field int
		v     *uint64
	}{{10, &st.MinorFaults}, {14, &st.UTime}, {15, &st.STime}, {22, &st.StartTime}, {23, &st.VSize}, {24, &st.RSS}} {
		if p.field-3 >= len(f) {
			return Stat{}, fmt.Errorf("%d fields, no field %d", len(f)+2, p.field)
		}
		v, err := strconv.ParseUint(string(f[p.field-3]), 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("field %d: %w", p.field, err)
		}
		*p.v = v
	}
	return st, nil
}
