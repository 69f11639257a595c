package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat returns the fields of /proc/<pid>/stat from the third on (the
// state), so that field k of proc(5) is at index k-3; nil if it cannot be
// read. The command name, field 2, is in parentheses and may hold spaces,
// so the fields are split after its last ')'.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat: 1/USER_HZ,
// which Linux fixes at 100 a second for user space on every architecture
// Go runs on.
const clockTick = 10 * time.Millisecond

// cpuTime is the CPU time process pid has used so far, in user and kernel
// mode (utime + stime, fields 14 and 15), or -1. Its resolution is one
// clock tick, 10 ms.
func cpuTime(pid int) time.Duration {
	f := procStat(pid)
	if len(f) < 15-3+1 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * clockTick
}

// cpuTimes sums cpuTime over pids; a process that cannot be read counts 0
// and makes ok false.
func cpuTimes(pids []int) (total time.Duration, ok bool) {
	ok = true
	for _, pid := range pids {
		t := cpuTime(pid)
		if t < 0 {
			ok = false
			continue
		}
		total += t
	}
	return total, ok
}

// selfCPU is the CPU time this process (the bench, with its stdout readers)
// has used so far, to the microsecond.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
