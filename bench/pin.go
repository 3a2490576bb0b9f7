package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// PinSelf restricts this process to the given CPUs and sets GOMAXPROCS to their
// count, so that the clients do not compete with a server pinned elsewhere.
// sched_setaffinity is per thread on Linux: every existing thread of the process is
// set, and threads created later inherit the mask of the thread that creates them.
func PinSelf(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	runtime.GOMAXPROCS(len(cpus))
	return eachThread(func(tid int) error {
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("sched_setaffinity %d: %w", tid, err)
		}
		return nil
	})
}

// NiceSelf sets the nice value of every thread of this process (nice is per thread
// on Linux; new threads inherit their creator's).
func NiceSelf(n int) error {
	return eachThread(func(tid int) error {
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, n); err != nil {
			return fmt.Errorf("setpriority %d: %w", tid, err)
		}
		return nil
	})
}

// RealtimeSelf puts every thread of this process in SCHED_FIFO at priority prio
// (needs root or CAP_SYS_NICE). New threads inherit it, and so do child processes
// started later. The kernel's RT throttling (sched_rt_runtime_us) still leaves
// 5% of each core to everyone else.
func RealtimeSelf(prio int) error {
	attr := unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
	return eachThread(func(tid int) error {
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
			return fmt.Errorf("sched_setattr %d: %w", tid, err)
		}
		return nil
	})
}

// eachThread calls fn with the id of every thread of this process: scheduling
// settings are per thread on Linux (new threads inherit their creator's).
func eachThread(fn func(tid int) error) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := fn(tid); err != nil {
			return err
		}
	}
	return nil
}

// ownNice is the nice value of the calling thread (the raw getpriority syscall
// returns 20 - nice).
func ownNice() int {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return 20 - p
}

// OtherCPUs returns every CPU this process may run on except skip, or nil when
// that leaves none.
func OtherCPUs(skip int) []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var out []int
	for c := 0; c < 1024; c++ {
		if c != skip && set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out
}
