package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"yizhan/metrics"
	"yizhan/signaling"
	"yizhan/turn"
)

// Deployment hooks (issue 6): TLS, TURN and metrics plug in here. newApp calls
// iceServers and mountMetrics while it builds the parts; cmdServe calls listen, which
// opens every listener of the deployment: HTTP(S), the embedded TURN server and the
// separate metrics listener. What they open is closed through a.close.

// deployment is the state the hooks share. Written by the hooks before serving starts,
// read-only afterwards.
type deployment struct {
	certs   *certReloader     // nil without --tls-cert
	turn    *turn.Server      // nil when the embedded TURN is off
	turnKey string            // credential key of the embedded TURN, derived from the API secret
	metrics *metrics.Registry // nil with --metrics=false
	metln   net.Listener      // the --metrics-addr listener, nil without
}

// deploy is the hooks' shared state.
func (a *app) deploy() *deployment { return &a.dep }

// listen opens the HTTP listener (TLS when configured), then the embedded TURN server
// and the separate metrics listener.
func (a *app) listen() (net.Listener, error) {
	for _, w := range a.cfg.warnings() {
		a.log.Warn(w)
	}
	var tlsConf *tls.Config
	if a.cfg.TLSCert != "" {
		r, err := newCertReloader(a.cfg.TLSCert, a.cfg.TLSKey, a.log.With("part", "tls"))
		if err != nil {
			return nil, err
		}
		a.deploy().certs = r
		tlsConf = r.serverConfig()
		if m := a.deploy().metrics; m != nil {
			m.SetCertExpiry(func() time.Time { return r.cert.Load().Leaf.NotAfter })
		}
	}
	a.caps = newCapListener(a.httpLn, a.limits.MaxConnsPerAddr, a.trusted, &a.guard)
	ln := net.Listener(newHeaderListener(a.caps, a.limits.MaxHeaderBytes, &a.guard))
	if err := a.startTURN(tlsConf); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if err := a.startMetricsListener(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if tlsConf != nil {
		return tls.NewListener(ln, tlsConf), nil
	}
	return ln, nil
}

// scheme is "https" when the HTTP port serves TLS.
func (a *app) scheme() string {
	if a.cfg.TLSCert != "" {
		return "https"
	}
	return "http"
}

// iceServers returns the ICE servers each participant is told about in its
// JoinResponse: the embedded TURN with fresh time-limited credentials for its identity,
// and the external servers. The embedded server itself starts in listen.
func (a *app) iceServers() func(identity string) []signaling.ICEServer {
	cfg := a.cfg
	if !cfg.turnEnabled() && len(cfg.TURNExternal) == 0 {
		return nil
	}
	a.deploy().turnKey = turn.DeriveSecret(cfg.APISecret)
	return func(identity string) []signaling.ICEServer {
		var out []signaling.ICEServer
		if t := a.deploy().turn; t != nil {
			user, pass := turn.Credentials(a.deploy().turnKey, identity, cfg.TURNTTL, time.Now())
			out = append(out, signaling.ICEServer{URLs: a.turnURLs(), Username: user, Credential: pass})
		}
		if len(cfg.TURNExternal) > 0 {
			s := signaling.ICEServer{URLs: cfg.TURNExternal}
			switch {
			case cfg.TURNExternalSecret != "":
				s.Username, s.Credential = turn.Credentials(cfg.TURNExternalSecret, identity, cfg.TURNTTL, time.Now())
			case cfg.TURNExternalUsername != "":
				s.Username, s.Credential = cfg.TURNExternalUsername, cfg.TURNExternalCredential
			}
			out = append(out, s)
		}
		return out
	}
}

// turnURLs are the embedded TURN server's URLs, with the ports it really listens on.
func (a *app) turnURLs() []string {
	t := a.deploy().turn
	if t == nil {
		return nil
	}
	host := a.cfg.turnHost()
	var urls []string
	if u := t.UDPAddr(); u != nil {
		urls = append(urls, "turn:"+net.JoinHostPort(host, strconv.Itoa(u.Port))+"?transport=udp")
	}
	if l := t.TLSAddr(); l != nil {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(l.Port))+"?transport=tcp")
	}
	return urls
}

// startTURN starts the embedded TURN server when a port is configured. It relays only
// to the media engine's UDP port, on the addresses ICE announces.
func (a *app) startTURN(tlsConf *tls.Config) error {
	cfg := a.cfg
	if !cfg.turnEnabled() {
		return nil
	}
	host, _, err := net.SplitHostPort(cfg.HTTP)
	if err != nil {
		return fmt.Errorf("--http %q: %w", cfg.HTTP, err)
	}
	bind := bindIP(host)
	peers, aliases, err := sfuPeers(a.eng.UDPAddr(), cfg.NodeIP)
	if err != nil {
		return err
	}
	var turnTLS *tls.Config
	if tlsConf != nil {
		// The same certificates, without the HTTP ALPN list: a TURN client offering
		// "stun.turn" (RFC 7443) must not be refused for want of a common protocol.
		turnTLS = tlsConf.Clone()
		turnTLS.NextProtos = nil
	}
	tc := turn.Config{
		Realm:     cfg.turnRealm(),
		Secret:    a.deploy().turnKey,
		TLSConfig: turnTLS,
		RelayBind: net.ParseIP(bind),
		Peers:     peers,
		Aliases:   aliases,
		Logger:    a.log.With("part", "turn"),
	}
	if tc.Secret == "" {
		tc.Secret = turn.DeriveSecret(cfg.APISecret)
		a.deploy().turnKey = tc.Secret
	}
	if cfg.NodeIP != "" {
		tc.RelayIP = net.ParseIP(cfg.NodeIP)
	}
	if cfg.TURNUDPPort != 0 {
		tc.UDPAddr = net.JoinHostPort(bind, strconv.Itoa(max(cfg.TURNUDPPort, 0))) // -1: ephemeral (tests)
	}
	if cfg.TURNTLSPort != 0 {
		tc.TLSAddr = net.JoinHostPort(bind, strconv.Itoa(max(cfg.TURNTLSPort, 0)))
	}
	t, err := turn.New(tc)
	if err != nil {
		return err
	}
	a.deploy().turn = t
	a.close = append(a.close, func() { _ = t.Close() })
	if m := a.deploy().metrics; m != nil {
		m.SetTURNStats(func() metrics.TURNStats {
			return metrics.TURNStats{Allocations: t.Allocations(), Refused: t.Refused()}
		})
	}
	return nil
}

// sfuPeers lists the addresses a TURN relay may send to: the ICE UDP port on every
// address ICE announces. With the node IP not on this host (1:1 NAT), it is an alias of
// a local address, so relayed media does not depend on the NAT hairpinning.
func sfuPeers(udp *net.UDPAddr, nodeIP string) ([]netip.AddrPort, []turn.Alias, error) {
	port := uint16(udp.Port)
	var ips []netip.Addr
	if udp.IP.IsUnspecified() {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, nil, fmt.Errorf("list interface addresses: %w", err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ip, _ := netip.AddrFromSlice(n.IP.To4())
				ips = append(ips, ip)
			}
		}
	} else {
		ip, _ := netip.AddrFromSlice(udp.IP)
		ips = append(ips, ip.Unmap())
	}
	var peers []netip.AddrPort
	local := false
	node, _ := netip.ParseAddr(nodeIP)
	for _, ip := range ips {
		peers = append(peers, netip.AddrPortFrom(ip, port))
		local = local || ip == node
	}
	var aliases []turn.Alias
	if node.IsValid() && !local {
		target := ips[0]
		if udp.IP.IsUnspecified() {
			target = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		aliases = append(aliases, turn.Alias{Announced: netip.AddrPortFrom(node, port), Local: netip.AddrPortFrom(target, port)})
	}
	return peers, aliases, nil
}

// mountMetrics serves /metrics on the HTTP port, unless --metrics-addr moves it to its
// own listener (opened in listen).
func (a *app) mountMetrics() {
	if !a.cfg.Metrics {
		return
	}
	m := metrics.New(version)
	m.SetLiveStats(a.sig.Stats)
	m.SetMediaStats(a.eng.Stats)
	a.sig.AddObserver(m.Observe)
	a.deploy().metrics = m
	m.AddLimitSource(a.sig.LimitHits)
	m.AddLimitSource(func() map[string]uint64 {
		return map[string]uint64{"http_conns_per_addr": a.guard.connsRefused.Load(), "http_body_min_rate": a.guard.slowBodies.Load(),
			"http_header_seconds": a.guard.headersSlow.Load(), "http_header_bytes": a.guard.headersLarge.Load()}
	})
	if a.cfg.MetricsAddr == "" {
		a.mux.Handle("/metrics", bearer(a.cfg.MetricsToken, m.Handler()))
	}
}

func (a *app) startMetricsListener() error {
	m := a.deploy().metrics
	if m == nil || a.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen --metrics-addr %s: %w", a.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	if isLoopbackListener(ln) {
		mountPprof(mux)
	}
	a.deploy().metln = ln
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends on Close, at shutdown
	a.close = append(a.close, func() { _ = srv.Close() })
	a.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// instrumentAPI counts API requests by route (the matched ServeMux pattern) and status.
func (a *app) instrumentAPI(h http.Handler) http.Handler {
	if a.deploy().metrics == nil {
		return h
	}
	return a.deploy().metrics.InstrumentAPI(h)
}

// setRecordingStats tells the metrics how many recordings run now and how many failed
// since start.
func (a *app) setRecordingStats(f func() (active, failed int)) {
	if a.deploy().metrics != nil {
		a.deploy().metrics.SetRecordingStats(f)
	}
}

// certReloader serves the certificate in certFile/keyFile and picks up a replaced one
// (certbot renewals, mounted secrets) without a restart: at most once a second, a
// handshake stats the files and reloads them when either changed. A pair that does not
// load (the key written after the cert) keeps the old certificate until it does.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration // minimum time between checks

	cert      atomic.Pointer[tls.Certificate]
	stamp     atomic.Pointer[[2]os.FileInfo] // what cert was loaded from
	lastCheck atomic.Int64                   // unix nanos; one handshake at a time wins the check
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, every: time.Second}
	st, err := r.statFiles()
	if err != nil {
		return nil, err
	}
	if err := r.load(st); err != nil {
		return nil, err
	}
	r.lastCheck.Store(time.Now().UnixNano())
	return r, nil
}

func (r *certReloader) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		// HTTP/1.1 only: gorilla websockets need it, and HTTP/2's extended CONNECT
		// would tempt browsers to try websockets over HTTP/2.
		NextProtos: []string{"http/1.1"},
	}
}

func (r *certReloader) statFiles() ([2]os.FileInfo, error) {
	var st [2]os.FileInfo
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("TLS: %w", err)
		}
		st[i] = fi
	}
	return st, nil
}

func (r *certReloader) load(st [2]os.FileInfo) error {
	c, err := loadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert.Store(c)
	r.stamp.Store(&st)
	r.log.Info("TLS certificate loaded", "subject", c.Leaf.Subject.String(), "names", c.Leaf.DNSNames,
		"not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	if left := time.Until(c.Leaf.NotAfter); left < 14*24*time.Hour {
		r.log.Warn("TLS certificate expires soon", "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339), "left", left.Round(time.Hour).String())
	}
	return nil
}

// loadKeyPair loads and parses a certificate and its key.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: load %s and %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("TLS: parse %s: %w", certFile, err)
		}
		c.Leaf = leaf
	}
	return &c, nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.maybeReload()
	return r.cert.Load(), nil
}

func (r *certReloader) maybeReload() {
	now := time.Now().UnixNano()
	last := r.lastCheck.Load()
	if now-last < int64(r.every) || !r.lastCheck.CompareAndSwap(last, now) {
		return
	}
	st, err := r.statFiles()
	if err != nil {
		r.log.Warn("TLS certificate files unreadable; keeping the loaded one", "err", err)
		return
	}
	if old := r.stamp.Load(); old != nil && sameFile(old[0], st[0]) && sameFile(old[1], st[1]) {
		return
	}
	if err := r.load(st); err != nil {
		r.log.Warn("TLS certificate changed but does not load; keeping the old one", "err", err)
	}
}

// sameFile is true when fi still describes what was loaded: the same file (a renamed-in
// replacement is another inode), unchanged in size and modification time.
func sameFile(old, cur os.FileInfo) bool {
	return os.SameFile(old, cur) && old.Size() == cur.Size() && old.ModTime().Equal(cur.ModTime())
}
