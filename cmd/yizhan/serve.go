package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"yizhan/media"
	"yizhan/mediation"
	"yizhan/signaling"
)

// app is the assembled server: every part wired, not yet serving.
type app struct {
	cfg   serveConfig
	log   *slog.Logger
	eng   *media.Engine
	sig   *signaling.Server
	mux   *http.ServeMux
	ready atomic.Bool
	demo  *mediation.DemoInfo // what --dev seeded, to print
	dep   deployment          // TLS, TURN, metrics: built and owned by the hooks in deploy.go
	// Issue 12. Set by newApp, read-only after (limits: tests may change them before serve).
	httpLn    net.Listener   // the HTTP listener, opened first so that the public URL knows its port
	publicURL string         // where clients reach us: --public-url, else the listening address
	trusted   trustedProxies // --trusted-proxy
	limits    httpLimits     // the HTTP server's bounds
	guard     guardCounters  // how often they were hit
	caps      *capListener   // the per-address connection cap, set by listen
	drain     []func()       // run first at shutdown, while rooms are still open (seal recordings)
	close     []func()       // run in reverse order by shutdown
}

func cmdServe(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	ln, err := a.listen()
	if err != nil {
		a.shutdown()
		return fmt.Errorf("listen %s: %w", cfg.HTTP, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.serve(ctx, ln, stdout)
}

func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newApp builds every part from cfg.
func newApp(cfg serveConfig, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	a := &app{cfg: cfg, log: log, mux: http.NewServeMux(), limits: httpLimits{MaxConnsPerAddr: cfg.MaxConnsPerAddr}.withDefaults()}
	host, _, err := net.SplitHostPort(cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("--http %q: %w", cfg.HTTP, err)
	}
	if a.trusted, err = parseTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if a.httpLn, err = net.Listen("tcp", cfg.HTTP); err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.HTTP, err)
	}
	a.close = append(a.close, func() { _ = a.httpLn.Close() })
	a.publicURL = cfg.publicURLFor(a.httpLn.Addr(), a.scheme())
	tcpPort := cfg.TCPPort
	eng, err := media.NewEngine(media.Config{
		BindIP:  bindIP(host),
		UDPPort: cfg.UDPPort,
		TCPPort: tcpPort,
		NodeIP:  cfg.NodeIP,
		Logger:  log.With("part", "media"),
	})
	if err != nil {
		a.shutdown()
		return nil, fmt.Errorf("media engine: %w", err)
	}
	a.eng = eng
	a.close = append(a.close, func() { _ = eng.Close() })

	a.sig = signaling.NewServer(signaling.Config{
		APIKey:     cfg.APIKey,
		APISecret:  cfg.APISecret,
		Logger:     log.With("part", "signaling"),
		ICEServers: a.iceServers(),
		Limits:     cfg.signalLimits(),
	}, eng)
	a.close = append(a.close, a.sig.Close)

	rtc := a.sig.Handler()
	a.mux.Handle("/rtc", rtc)
	a.mux.Handle("/rtc/", rtc)
	a.mux.HandleFunc("/healthz", a.healthz)
	if cfg.Dev {
		a.mux.HandleFunc("/dev/token", a.devToken)
	}
	a.mountMetrics()
	if err := a.mountParts(); err != nil {
		a.shutdown()
		return nil, err
	}
	return a, nil
}

// bindIP maps the HTTP host to the address the media sockets bind: the same interface,
// or every interface when HTTP listens on all of them.
func bindIP(host string) string {
	switch host {
	case "", "0.0.0.0", "::":
		return "0.0.0.0"
	case "localhost":
		return "127.0.0.1"
	}
	return host
}

func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// serve runs until ctx ends, then shuts down cleanly: participants get a Leave,
// recordings are closed, the database is closed.
func (a *app) serve(ctx context.Context, ln net.Listener, stdout io.Writer) error {
	srv := &http.Server{
		Handler:           a.trusted.clientAddr(bodyDeadline(a.limits, &a.guard, a.mux)),
		ReadHeaderTimeout: a.limits.ReadHeaderTimeout,
		IdleTimeout:       a.limits.IdleTimeout,
		MaxHeaderBytes:    a.limits.MaxHeaderBytes,
		ErrorLog:          log.New(httpErrorLog{a.log.With("part", "http")}, "", 0),
	}
	watchHeaders(srv) // counts what net/http refuses itself
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }() // ends on Shutdown
	a.ready.Store(true)
	a.announce(stdout, ln.Addr().String())

	var err error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case err = <-errc:
	}
	a.ready.Store(false)
	// Recordings are sealed while everyone is still there, so the case file says the
	// server shut down, not that the rooms emptied. Then participants (their Leave goes
	// out on the open websockets), then HTTP.
	for _, f := range a.drain {
		f()
	}
	a.sig.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	a.shutdown()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *app) shutdown() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
	a.close = nil
}

// announce prints where to go.
func (a *app) announce(w io.Writer, addr string) {
	base := a.publicURL
	fmt.Fprintf(w, "yizhan %s listening on %s (ICE UDP %d", version, a.scheme()+"://"+addr, a.eng.UDPAddr().Port)
	if t := a.eng.TCPAddr(); t != nil {
		fmt.Fprintf(w, ", ICE TCP %d", t.Port)
	}
	fmt.Fprintln(w, ")")
	if a.cfg.Dev {
		fmt.Fprintf(w, "dev mode: API key %q, secret %q\n", a.cfg.APIKey, a.cfg.APISecret)
		a.announceDev(w, base)
	}
}

// httpErrorLog takes net/http's error lines into slog. Failed TLS handshakes are what
// every scanner on the internet causes: they go to debug, the rest stays a warning.
type httpErrorLog struct{ log *slog.Logger }

func (w httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	level := slog.LevelWarn
	if strings.Contains(msg, "TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}
