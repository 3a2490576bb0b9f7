// Command sfubench measures the yizhan SFU: it starts the server as a separate process
// on loopback (pinned to one core), drives scenarios of synthetic VP8/Opus publishers
// and subscribers with LiveKit Go SDK clients from this process (on the other cores),
// and prints one JSON line per scenario.
//
//	go run ./cmd/sfubench                          # every default scenario, ~2 min
//	go run ./cmd/sfubench --scenarios meeting4,video1x50 --duration 20s --json-out bench.jsonl
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"yizhan/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sfubench:", err)
		os.Exit(1)
	}
}

type config struct {
	server    string
	scenarios string
	duration  time.Duration
	warmup    time.Duration
	jsonOut   string
	serverCPU int
	hidden    bool
	verbose   bool
	debug     bool
	profile   string
	nice      int
	joinGap   time.Duration
	keyEvery  time.Duration
	rt        bool
	livekit   string
	repeat    int
}

func run(args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("sfubench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.server, "server", "", "yizhan binary to run (default: go build ./cmd/yizhan into a temp dir)")
	fs.StringVar(&c.scenarios, "scenarios", "all", "comma-separated scenarios: video1x10,video1x25,video1x50,meeting4,video2x40 (all), tiny, meeting4-recorded, videoPxS, or lecture1xN (one 720p simulcast speaker, N hidden viewers on the low layer joining within 10 s)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measurement window per scenario (1s..2m)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "wait after everyone joined, before measuring")
	fs.StringVar(&c.jsonOut, "json-out", "", "also append the JSON lines to this file")
	fs.IntVar(&c.serverCPU, "server-cpu", 0, "core to pin the server to (taskset -c, GOMAXPROCS=1); the clients take the others; -1: no pinning")
	fs.DurationVar(&c.joinGap, "join-gap", 0, "pause between one joiner's first frame and the next join (0: back to back)")
	fs.DurationVar(&c.keyEvery, "keyframe-every", 2*time.Second, "the publishers' keyframe interval (a PLI also forces a keyframe)")
	fs.BoolVar(&c.hidden, "hidden-viewers", false, "watch-only participants join with hidden tokens (as a lecture audience would)")
	fs.IntVar(&c.nice, "nice", 0, "nice value for the server and the clients (e.g. -10 as root on a busy shared machine, so that other work does not skew latency)")
	fs.BoolVar(&c.rt, "rt", false, "run the server and the clients in SCHED_FIFO (root): on a busy shared machine, latency then shows the SFU, not the neighbours")
	fs.BoolVar(&c.verbose, "v", false, "log progress to stderr")
	fs.BoolVar(&c.debug, "debug", false, "log per-track counts; keep each server's directory (log, data)")
	fs.StringVar(&c.livekit, "livekit-server", "", "also run each scenario against this livekit-server binary (built by hand), right after yizhan, with the same pinning, clients and window: a side by side")
	fs.IntVar(&c.repeat, "repeat", 1, "run each scenario this many times (with --livekit-server: yizhan and LiveKit alternating), to see the noise")
	fs.StringVar(&c.profile, "perf", "", "directory: record the server with `perf record` during each window and write <scenario>.perf.txt there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.duration < time.Second || c.duration > 2*time.Minute {
		return errors.New("--duration must be between 1s and 2m")
	}
	if c.joinGap < 0 || c.joinGap > 5*time.Second {
		return errors.New("--join-gap must be between 0 and 5s")
	}
	if c.keyEvery < 100*time.Millisecond || c.keyEvery > time.Minute {
		return errors.New("--keyframe-every must be between 100ms and 1m")
	}
	if c.repeat < 1 || c.repeat > 20 {
		return errors.New("--repeat must be between 1 and 20")
	}
	if c.warmup < 0 || c.warmup > time.Minute {
		return errors.New("--warmup must be between 0 and 1m")
	}
	scenarios, err := bench.Select(c.scenarios)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	if c.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if c.server == "" {
		dir, err := os.MkdirTemp("", "sfubench-build-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		log.Info("building yizhan")
		if c.server, err = bench.Build(ctx, dir); err != nil {
			return err
		}
	}

	if c.serverCPU >= 0 {
		if cpus := bench.OtherCPUs(c.serverCPU); len(cpus) > 0 {
			if err := bench.PinSelf(cpus); err != nil {
				log.Warn("cannot pin the clients; they share the server's core", "err", err)
			} else {
				log.Info("clients pinned", "cpus", cpus, "gomaxprocs", runtime.GOMAXPROCS(0))
			}
		} else {
			log.Warn("only one core: clients share the server's core")
		}
	}

	if c.nice != 0 {
		if err := bench.NiceSelf(c.nice); err != nil {
			return fmt.Errorf("--nice: %w", err)
		}
	}
	if c.rt {
		if err := bench.RealtimeSelf(1); err != nil {
			return fmt.Errorf("--rt: %w", err)
		}
	}

	var out io.Writer = stdout
	if c.jsonOut != "" {
		f, err := os.OpenFile(c.jsonOut, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(stdout, f)
	}
	if c.profile != "" {
		if err := os.MkdirAll(c.profile, 0o755); err != nil {
			return err
		}
	}

	servers := []target{{name: "yizhan", binary: c.server}}
	if c.livekit != "" {
		servers = append(servers, target{name: "livekit-server", binary: c.livekit, livekit: true})
	}
	var failed []string
	for _, sc := range scenarios {
		for i := 0; i < c.repeat; i++ {
			for _, srv := range servers {
				if ctx.Err() != nil {
					break
				}
				res, err := runOne(ctx, c, srv, sc, log)
				res.Server = srv.name
				res.Nice, res.Realtime = c.nice, c.rt
				if err != nil {
					res.Error = err.Error()
					failed = append(failed, srv.name+":"+sc.Name)
					log.Error("scenario failed", "scenario", sc.Name, "server", srv.name, "err", err)
				}
				b, _ := json.Marshal(res)
				fmt.Fprintln(out, string(b))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// target is a server binary to measure.
type target struct {
	name    string // "yizhan" or "livekit-server", in each result's server field
	binary  string
	livekit bool
}

// runOne starts a fresh server for sc, runs it and always stops the server.
func runOne(ctx context.Context, c config, tg target, sc bench.Scenario, log *slog.Logger) (bench.Result, error) {
	res := bench.Result{Scenario: sc.Name, Publishers: sc.Publishers, Subscribers: sc.SubscriberCount()}
	if tg.livekit && (sc.Mediated || sc.Record || sc.Lecture) {
		return res, errors.New("needs yizhan's mediation or lecture API; livekit-server runs only the plain rooms")
	}
	// A scenario is bounded: joins, warm-up, window, teardown.
	ctx, cancel := context.WithTimeout(ctx, c.duration+c.warmup+2*time.Minute)
	defer cancel()
	var extra []string
	if sc.Lecture {
		// The SFU is measured, not ffmpeg (which cannot decode synthetic VP8 anyway).
		extra = append(extra, "--lecture-hls=false")
	}
	srv, err := bench.StartServer(ctx, bench.ServerConfig{Binary: tg.binary, LiveKit: tg.livekit, Dev: sc.Mediated || sc.Record, Args: extra, CPU: c.serverCPU, Keep: c.debug, Nice: c.nice, Realtime: c.rt, Logger: log})
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	// Let the idle server settle so its RSS is a fair baseline.
	time.Sleep(300 * time.Millisecond)
	log.Info("scenario", "name", sc.Name, "server_pid", srv.PID, "url", srv.URL)
	rc := bench.RunConfig{Duration: c.duration, Warmup: c.warmup, HiddenViewers: c.hidden, JoinGap: c.joinGap, KeyframeEvery: c.keyEvery, Logger: log}
	if c.profile != "" {
		name := sc.Name
		if tg.livekit {
			name += "-livekit"
		}
		rc.OnWindow = bench.PerfRecorder(c.profile, name, log)
	}
	return bench.Run(ctx, srv, sc, rc)
}
