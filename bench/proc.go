package main

import (
	"syscall"
	"time"

	"github.com/peerster/Peerster/internal/procstat"
)

// cpuTime is the CPU time process pid has used so far, in user and kernel
// mode, or -1. Its resolution is one clock tick, 10 ms.
func cpuTime(pid int) time.Duration {
	st, err := procstat.PID(pid)
	if err != nil {
		return -1
	}
	return st.CPU()
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
