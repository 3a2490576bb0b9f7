package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime/stime in /proc/<pid>/stat. The kernel reports these in
// USER_HZ, which is 100 on every Linux ABI Go supports (sysconf(_SC_CLK_TCK) needs cgo).
const userHZ = 100

// ProcCPU returns the user+system CPU time a process has used so far, read from
// /proc/<pid>/stat (pid 0 means this process). Resolution is 10 ms, so measure over
// seconds.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	return parseStatCPU(b)
}

// ProcRSS returns the resident set size of a process in bytes, from /proc/<pid>/status.
func ProcRSS(pid int) (int64, error) {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	return parseStatusRSS(b)
}

func procPath(pid int, file string) string {
	if pid == 0 {
		return "/proc/self/" + file
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + file
}

// parseStatCPU takes utime (field 14) and stime (field 15) of a /proc/<pid>/stat line.
// The command name (field 2) is in parentheses and may itself hold spaces or ')', so
// fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("parse stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("parse stat: %d fields after comm", len(f))
	}
	ut, err := strconv.ParseInt(f[14-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse stat utime: %w", err)
	}
	st, err := strconv.ParseInt(f[15-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse stat stime: %w", err)
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// parseStatusRSS finds "VmRSS:  1234 kB" in /proc/<pid>/status.
func parseStatusRSS(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse status: bad VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse status VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("parse status: no VmRSS line")
}

// ProcCtxSwitches sums voluntary and involuntary context switches over the threads
// of a process (threads that exited are not counted).
func ProcCtxSwitches(pid int) (int64, error) {
	dir := procPath(pid, "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("list threads: %w", err)
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // thread gone
		}
		sum += parseCtxSwitches(b)
	}
	return sum, nil
}

// parseCtxSwitches adds the two ctxt_switches lines of a status file.
func parseCtxSwitches(b []byte) int64 {
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "voluntary_ctxt_switches" && k != "nonvoluntary_ctxt_switches") {
			continue
		}
		x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil {
			n += x
		}
	}
	return n
}

// procCounters is what a harness reads of the server and of itself at each end of a
// measurement window.
type procCounters struct {
	at        time.Time
	serverCPU time.Duration
	selfCPU   time.Duration
	serverCS  int64 // server context switches
}

func readProcCounters(srv *Server) (procCounters, error) {
	c := procCounters{at: time.Now()}
	var err error
	if c.serverCPU, err = srv.CPU(); err != nil {
		return c, err
	}
	if c.selfCPU, err = ProcCPU(0); err != nil {
		return c, err
	}
	c.serverCS, err = ProcCtxSwitches(srv.PID)
	return c, err
}
