package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Dev credentials of `yizhan serve --dev`.
const (
	DevKey    = "devkey"
	DevSecret = "devsecret-devsecret-devsecret-0123456789"
)

// ServerConfig says how to start a yizhan server process.
type ServerConfig struct {
	Binary string // path to the yizhan binary
	// Dev runs `serve --dev` (demo data, printed demo passwords: needed for the
	// mediation API). Otherwise the server gets a fresh key and secret as flags and
	// seeds nothing, which starts faster and leaves a smaller idle RSS.
	Dev bool
	// CPU, when >= 0 and taskset exists, pins the server to that core (taskset -c) and
	// sets GOMAXPROCS=1 in its environment. -1 leaves it unpinned.
	CPU  int
	Keep bool // keep the temp directory (server log, data) after Stop
	// Args are more flags for serve (e.g. --lecture-hls=false).
	Args []string
	// LiveKit says Binary is a livekit-server, for a side-by-side on the same harness:
	// it gets a generated config (livekit.go) with fresh keys, the same loopback ports
	// and warn-level logs, and the same pinning. Dev and Args do not apply.
	LiveKit bool
	// Nice, if not 0, runs the server under `nice -n Nice` (negative needs root): on a
	// machine shared with other work, the server then gets its core when it needs it.
	Nice int
	// Realtime runs the server under `chrt -f 1` (SCHED_FIFO): other work on a shared
	// machine then cannot delay it, and latency shows the server's own queueing.
	Realtime bool
	Logger   *slog.Logger
}

// Server is a running yizhan process on loopback with its own data directory.
type Server struct {
	PID     int
	HTTP    string // 127.0.0.1:port
	URL     string // ws://127.0.0.1:port
	Pinned  bool   // taskset applied
	APIKey  string // to mint tokens for this server
	Secret  string
	Dir     string // temp directory: data/ and server.log
	LogPath string
	LiveKit bool // a livekit-server, not yizhan (ServerConfig.LiveKit)

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
	log  *slog.Logger
	keep bool
}

// StartServer starts the binary on free loopback ports and waits for /healthz.
// The caller must Stop it; the process also gets SIGKILL if this process dies
// (Pdeathsig).
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "sfubench-server-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	httpPort, err := freeTCPPort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	udpPort, err := freeUDPPort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		HTTP:    net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		Dir:     dir,
		LogPath: filepath.Join(dir, "server.log"),
		done:    make(chan struct{}),
		log:     log,
		keep:    cfg.Keep,
	}
	s.URL = "ws://" + s.HTTP
	var args []string
	switch {
	case cfg.LiveKit:
		if cfg.Dev || len(cfg.Args) > 0 {
			_ = os.RemoveAll(dir)
			return nil, errors.New("livekit-server: no --dev mode or yizhan flags")
		}
		s.LiveKit = true
		s.APIKey, s.Secret = freshKeys()
		conf := filepath.Join(dir, "livekit.yaml")
		if err := os.WriteFile(conf, liveKitConfig(httpPort, udpPort, s.APIKey, s.Secret), 0o600); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("livekit config: %w", err)
		}
		args = []string{"--config", conf}
	default:
		// /metrics on an ephemeral port (the server logs it, see metricsListener): the
		// default (6789) would make two servers at once (a test beside a run) collide.
		args = []string{"serve", "--http", s.HTTP, "--udp-port", strconv.Itoa(udpPort),
			"--tcp-port", "0", "--data", filepath.Join(dir, "data"), "--metrics-addr", "127.0.0.1:0",
			// Every benchmark client comes from 127.0.0.1: the per-address caps, which
			// livekit-server does not have, would refuse the 65th subscriber of 1x100.
			"--max-conns-per-addr", "4096", "--max-websockets-per-addr", "4096"}
		s.APIKey, s.Secret = DevKey, DevSecret
		args = append(args, cfg.Args...)
		if cfg.Dev {
			args = append(args, "--dev")
		} else {
			s.APIKey, s.Secret = freshKeys()
			args = append(args, "--api-key", s.APIKey, "--api-secret", s.Secret)
		}
	}
	name := cfg.Binary
	env := os.Environ()
	if cfg.CPU >= 0 {
		env = append(env, "GOMAXPROCS=1")
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{"-c", strconv.Itoa(cfg.CPU), cfg.Binary}, args...)
			name = ts
			s.Pinned = true
		}
	}
	if cfg.Realtime {
		chrt, err := exec.LookPath("chrt")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("realtime: %w", err)
		}
		args = append([]string{"-f", "1", name}, args...)
		name = chrt
	}
	if cfg.Nice != 0 {
		// nice -n is relative to our own nice value, which NiceSelf may have set.
		if nice, err := exec.LookPath("nice"); err == nil {
			if rel := cfg.Nice - ownNice(); rel != 0 {
				args = append([]string{"-n", strconv.Itoa(rel), name}, args...)
				name = nice
			}
		}
	}
	logf, err := os.Create(s.LogPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("server log: %w", err)
	}
	s.cmd = exec.Command(name, args...)
	s.cmd.Env = env
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	// Own process group (a terminal's ctrl-c reaches us, and we stop the server
	// ourselves, in order); SIGKILL if we die without stopping it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	started := make(chan error, 1)
	// Pdeathsig fires when the *thread* that forked exits, so fork from a locked
	// thread whose goroutine lives until the process has been waited for.
	go func() { // ends when the server process exits
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logf.Close()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	s.PID = s.cmd.Process.Pid
	log.Debug("server started", "pid", s.PID, "http", s.HTTP, "udp", udpPort, "pinned", s.Pinned)
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		path := "/healthz"
		if s.LiveKit {
			path = "/" // livekit-server answers "OK" there
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTP+path, nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited before ready (%v); log: %s", s.err, s.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not healthy after %s; log: %s", timeout, s.tail())
		}
	}
}

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// CPU is the server's user+system CPU time so far.
func (s *Server) CPU() (time.Duration, error) { return ProcCPU(s.PID) }

// RSS is the server's resident set size in bytes.
func (s *Server) RSS() (int64, error) { return ProcRSS(s.PID) }

// Stop ends the server: SIGTERM, then SIGKILL after 5 s; removes its directory unless
// ServerConfig.Keep. Safe to call more than once.
func (s *Server) Stop() {
	if s.Alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.log.Warn("server did not stop on SIGTERM; killing", "pid", s.PID)
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.keep {
		s.log.Info("server directory kept", "dir", s.Dir)
		return
	}
	_ = os.RemoveAll(s.Dir)
}

// tail returns the last lines of the server log, for error messages.
func (s *Server) tail() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Build compiles yizhan/cmd/yizhan into dir and returns the binary's path. It must
// run inside the module (go run ./cmd/sfubench does).
func Build(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "yizhan")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "yizhan/cmd/yizhan")
	cmd.Stderr = os.Stderr
	cmd.Stdout = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build yizhan: %w", err)
	}
	return out, nil
}

// freshKeys makes an API key and a secret for a server that seeds none.
func freshKeys() (key, secret string) {
	return "sfubench", "sfubench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-secret-0123456789"
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free tcp port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free udp port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
