package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yizhan/mediation"
	"yizhan/signaling"
)

// The HTTP server's own defences (issue 12): who the client is behind a trusted proxy,
// how long a request may take to arrive, how many connections one address may hold.

// httpLimits are the HTTP server's bounds. Zero values take the defaults.
type httpLimits struct {
	ReadHeaderTimeout time.Duration // the request line and headers
	IdleTimeout       time.Duration // a keep-alive connection between requests
	BodyGrace         time.Duration // a request body must start arriving within this...
	BodyMinRate       int           // ...and then keep up this many bytes a second
	MaxHeaderBytes    int
	MaxConnsPerAddr   int // open TCP connections from one address (trusted proxies exempt)
}

func (l httpLimits) withDefaults() httpLimits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	if l.BodyGrace <= 0 {
		l.BodyGrace = 10 * time.Second
	}
	if l.BodyMinRate <= 0 {
		l.BodyMinRate = 1024
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 32 << 10
	}
	if l.MaxConnsPerAddr <= 0 {
		l.MaxConnsPerAddr = 128
	}
	return l
}

// guardCounters count each bound when it is hit (for /metrics).
type guardCounters struct {
	connsRefused atomic.Uint64 // connections over MaxConnsPerAddr, closed at once
	slowBodies   atomic.Uint64 // request bodies cut for arriving too slowly
	headersSlow  atomic.Uint64 // connections cut by ReadHeaderTimeout (headerwatch.go)
	headersLarge atomic.Uint64 // requests refused (431) for more than MaxHeaderBytes (headerwatch.go)
}

// trustedProxies is the set of --trusted-proxy addresses and networks.
type trustedProxies []netip.Prefix

func parseTrustedProxies(list []string) (trustedProxies, error) {
	var out trustedProxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, errors.New("--trusted-proxy " + s + ": not an IP address or CIDR network")
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (t trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr rewrites r.RemoteAddr to the client's address when the request comes from
// a trusted proxy: the right-most X-Forwarded-For entry that is not itself a trusted
// proxy. From anyone else X-Forwarded-* are made up and are dropped, so that nothing
// further in reads them.
func (t trustedProxies) clientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !t.contains(peer.Addr()) {
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Proto")
			r.Header.Del("X-Forwarded-Host")
			r.Header.Del("Forwarded")
			r.Header.Del("X-Real-Ip")
			next.ServeHTTP(w, r)
			return
		}
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // garbage: stop at the last address we can trust
			}
			if !t.contains(a) {
				r2 := r.Clone(r.Context())
				r2.RemoteAddr = netip.AddrPortFrom(a.Unmap(), 0).String()
				next.ServeHTTP(w, r2)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bodyDeadline makes a request body arrive at a minimum rate: it must start within
// BodyGrace and then bring BodyMinRate bytes a second, else the connection is cut.
// Headers alone are bounded by ReadHeaderTimeout. Not a server-wide ReadTimeout: that
// would also end event streams and websockets after it.
func bodyDeadline(l httpLimits, hits *guardCounters, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		start := time.Now()
		if rc.SetReadDeadline(start.Add(l.BodyGrace)) != nil {
			next.ServeHTTP(w, r) // not a plain connection (tests with a recorder)
			return
		}
		r.Body = &rateBody{ReadCloser: r.Body, rc: rc, start: start, grace: l.BodyGrace, rate: l.BodyMinRate, hits: hits}
		next.ServeHTTP(w, r)
	})
}

type rateBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int
	n     int64
	hits  *guardCounters
	done  bool
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{}) // the rest of the request is the handler's
	case err != nil && !b.done:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			b.hits.slowBodies.Add(1)
		}
	case n > 0:
		_ = b.rc.SetReadDeadline(b.start.Add(b.grace + time.Duration(b.n)*time.Second/time.Duration(b.rate)))
	}
	return n, err
}

// capListener closes, at once, a connection from an address that already holds
// max connections. Trusted proxies carry many clients and are exempt.
type capListener struct {
	net.Listener
	max     int
	trusted trustedProxies
	hits    *guardCounters

	mu    sync.Mutex // guards conns
	conns map[netip.Addr]int
}

func newCapListener(ln net.Listener, max int, trusted trustedProxies, hits *guardCounters) *capListener {
	return &capListener{Listener: ln, max: max, trusted: trusted, hits: hits, conns: map[netip.Addr]int{}}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(c.RemoteAddr().String())
		if perr != nil || l.trusted.contains(ap.Addr()) {
			return c, nil
		}
		a := ap.Addr().Unmap()
		l.mu.Lock()
		if l.conns[a] >= l.max {
			l.mu.Unlock()
			l.hits.connsRefused.Add(1)
			_ = c.Close()
			continue
		}
		l.conns[a]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(a) }}, nil
	}
}

func (l *capListener) release(a netip.Addr) {
	l.mu.Lock()
	if l.conns[a]--; l.conns[a] <= 0 {
		delete(l.conns, a)
	}
	l.mu.Unlock()
}

// open is how many connections a holds now (tests).
func (l *capListener) open(a netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[a]
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// capListener is the per-address cap under the HTTP server, once listen ran (tests).
func (a *app) capListener() *capListener { return a.caps }

// addLimitSource counts a part's bounds in /metrics.
func (a *app) addLimitSource(f func() map[string]uint64) {
	if m := a.deploy().metrics; m != nil {
		m.AddLimitSource(f)
	}
}

// signalLimits are the bounds signaling keeps per participant and per address.
func (c serveConfig) signalLimits() signaling.Limits {
	l := signaling.DefaultLimits()
	if c.MaxWSPerAddr > 0 {
		l.WebsocketsPerAddr = c.MaxWSPerAddr
	}
	return l
}

// bounds lists every bound on what clients can make the server hold, for config check.
func (c serveConfig) bounds() []signaling.Bound {
	l := httpLimits{MaxConnsPerAddr: c.MaxConnsPerAddr}.withDefaults()
	out := []signaling.Bound{
		{Name: "http_conns_per_addr", Value: l.MaxConnsPerAddr, What: "open HTTP and websocket connections from one address (trusted proxies exempt)"},
		{Name: "http_header_bytes", Value: l.MaxHeaderBytes, What: "request line and headers"},
		{Name: "http_header_seconds", Value: int(l.ReadHeaderTimeout.Seconds()), What: "time for the request line and headers"},
		{Name: "http_body_min_rate", Value: l.BodyMinRate, What: fmt.Sprintf("bytes/s a request body must keep up after %s", l.BodyGrace)},
		{Name: "http_idle_seconds", Value: int(l.IdleTimeout.Seconds()), What: "keep-alive connection idle between requests"},
	}
	out = append(out, c.signalLimits().Bounds()...)
	for _, b := range mediation.Bounds() {
		out = append(out, signaling.Bound{Name: b.Name, Value: b.Value, What: b.What})
	}
	return out
}
