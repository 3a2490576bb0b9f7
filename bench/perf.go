package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// PerfRecorder returns a RunConfig.OnWindow hook that samples the server with Linux
// perf over the measurement window (perf record -g -p PID) and writes a flat profile
// (dir/<name>.perf.txt, by symbol, self time) and a caller-inclusive one
// (dir/<name>.perf-children.txt) next to the raw dir/<name>.perf.data. Sampling costs
// the server a little CPU; compare CPU numbers from runs without it.
func PerfRecorder(dir, name string, log *slog.Logger) func(pid int, window time.Duration) func() {
	return func(pid int, window time.Duration) func() {
		perf, err := exec.LookPath("perf")
		if err != nil {
			log.Warn("perf not found; no profile")
			return func() {}
		}
		data := filepath.Join(dir, name+".perf.data")
		secs := strconv.FormatFloat(window.Seconds(), 'f', 1, 64)
		cmd := exec.Command(perf, "record", "-q", "-F", "999", "-g", "-p", strconv.Itoa(pid), "-o", data, "--", "sleep", secs)
		if chrt, err := exec.LookPath("chrt"); err == nil {
			// perf must not inherit the clients' SCHED_FIFO (--rt).
			cmd = exec.Command(chrt, append([]string{"-o", "0"}, cmd.Args...)...)
		}
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			log.Warn("perf record", "err", err)
			return func() {}
		}
		return func() {
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }() // ends when perf exits
			select {
			case err := <-done:
				if err != nil {
					log.Warn("perf record", "err", err)
				}
			case <-time.After(window + 30*time.Second):
				_ = cmd.Process.Kill()
				<-done
				log.Warn("perf record did not finish; killed")
				return
			}
			report(perf, data, filepath.Join(dir, name+".perf.txt"), "--no-children", log)
			report(perf, data, filepath.Join(dir, name+".perf-children.txt"), "--children", log)
		}
	}
}

func report(perf, data, out, mode string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := os.Create(out)
	if err != nil {
		log.Warn("perf report", "err", err)
		return
	}
	defer f.Close()
	args := []string{perf, "report", "-i", data, "--stdio", mode, "-g", "none", "--sort", "symbol", "--percent-limit", "0.3"}
	if chrt, err := exec.LookPath("chrt"); err == nil {
		args = append([]string{chrt, "-o", "0"}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout = f
	if err := cmd.Run(); err != nil {
		log.Warn("perf report", "err", err, "out", out)
		return
	}
	fmt.Fprintln(os.Stderr, "perf profile:", out)
}
