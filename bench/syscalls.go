package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Syscalls are the server's system calls over a measurement window, counted by the
// kernel's syscall tracepoints through `perf stat` (no sampling: every call counts).
type Syscalls struct {
	All   int64 // every system call
	Sends int64 // sendto, sendmsg, sendmmsg, write: how datagrams (and little else) leave
	Recvs int64 // recvfrom, recvmsg, recvmmsg, read
}

// The tracepoints counted; the order is the order of perf's output lines.
var syscallEvents = []string{
	"raw_syscalls:sys_enter",
	"syscalls:sys_enter_sendto", "syscalls:sys_enter_sendmsg", "syscalls:sys_enter_sendmmsg", "syscalls:sys_enter_write",
	"syscalls:sys_enter_recvfrom", "syscalls:sys_enter_recvmsg", "syscalls:sys_enter_recvmmsg", "syscalls:sys_enter_read",
}

// syscallCounter counts pid's system calls from now until the returned stop is
// called. It needs perf and tracepoint access (root); without them it returns an
// error and the run reports no syscall figures. Counting costs each system call of
// the server a little (an enabled tracepoint), the same for every binary compared.
func syscallCounter(pid int) (stop func() (Syscalls, error), err error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, errors.New("perf not found")
	}
	args := []string{perf, "stat", "-x", ",", "--no-big-num", "-e", strings.Join(syscallEvents, ","), "-p", strconv.Itoa(pid)}
	if chrt, err := exec.LookPath("chrt"); err == nil {
		// perf must not inherit the clients' SCHED_FIFO (--rt).
		args = append([]string{chrt, "-o", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stderr = &out // perf stat prints its counts on stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf stat: %w", err)
	}
	return func() (Syscalls, error) {
		// SIGINT makes perf stat print what it counted and exit. chrt execs perf, so
		// the signal reaches perf itself.
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }() // ends when perf exits
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return Syscalls{}, errors.New("perf stat did not exit")
		}
		return parsePerfStat(out.String())
	}, nil
}

// parsePerfStat reads `perf stat -x ,` output: value,unit,event,...
func parsePerfStat(s string) (Syscalls, error) {
	counts := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
		if err != nil {
			continue // "<not supported>", "<not counted>" or a comment
		}
		counts[strings.TrimSpace(f[2])] = v
	}
	all, ok := counts["raw_syscalls:sys_enter"]
	if !ok {
		return Syscalls{}, fmt.Errorf("perf stat: no syscall count in %q", s)
	}
	var sc Syscalls
	sc.All = all
	for _, e := range syscallEvents[1:5] {
		sc.Sends += counts[e]
	}
	for _, e := range syscallEvents[5:] {
		sc.Recvs += counts[e]
	}
	return sc, nil
}
