// Package turn is the embedded TURN server (RFC 8656) for clients whose network lets
// neither UDP nor ICE-TCP through to the SFU: TURN over UDP, and TURN over TLS on a
// port firewalls leave open. It relays only to the SFU's own media addresses, never
// anywhere else, and accepts only time-limited credentials derived from a secret.
package turn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pionturn "github.com/pion/turn/v5"
)

// Config configures a Server. Flags and env live in cmd/yizhan.
type Config struct {
	Realm  string
	Secret string // HMAC key of the time-limited credentials (see Credentials)

	UDPAddr   string      // "ip:port" for TURN over UDP; "" = off
	TLSAddr   string      // "ip:port" for TURN over TLS; "" = off
	TLSConfig *tls.Config // certificates for TURN over TLS (GetCertificate may reload)

	RelayBind net.IP // relay sockets listen here; default 127.0.0.1
	RelayIP   net.IP // relayed address told to clients; default RelayBind, or a local address when RelayBind is unspecified

	// Peers are the only addresses a relay sends to and accepts from: the SFU's ICE UDP
	// addresses. Aliases add names a client may use for them (the NodeIP).
	Peers   []netip.AddrPort
	Aliases []Alias

	// MaxPerUser caps the relays one identity holds at once (each is a socket); 0 means
	// defaultMaxPerUser.
	MaxPerUser int

	Logger *slog.Logger
}

// defaultMaxPerUser leaves room for what a LiveKit client does (two peer connections,
// a relay per TURN URL each, more across ICE restarts and reconnects) and no more.
const defaultMaxPerUser = 16

// quota counts allocations per identity (the part after "expiry:" in the username).
type quota struct {
	max int
	mu  sync.Mutex // guards n
	n   map[string]int
}

func (q *quota) allow(username, _ string, _ net.Addr) bool {
	// The user ID as LongTermTURNRESTAuthHandler makes it, which the events carry.
	id := username
	if f := strings.Split(username, ":"); len(f) > 1 {
		id = f[1]
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n[id] < q.max
}

func (q *quota) add(userID string, d int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[userID] += d; q.n[userID] <= 0 {
		delete(q.n, userID)
	}
}

// Server is a running TURN server.
type Server struct {
	srv     *pionturn.Server
	gen     *relayGen
	udp     net.PacketConn // nil when TURN over UDP is off
	tls     *connTracker   // nil when TURN over TLS is off
	refused atomic.Uint64
	quota   quota
}

// New opens the TURN sockets and starts serving.
func New(cfg Config) (*Server, error) {
	if cfg.Secret == "" {
		return nil, errors.New("turn: no credential secret")
	}
	if cfg.UDPAddr == "" && cfg.TLSAddr == "" {
		return nil, errors.New("turn: neither a UDP nor a TLS address")
	}
	if len(cfg.Peers) == 0 {
		return nil, errors.New("turn: no SFU address to relay to")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "turn")
	if cfg.RelayBind == nil {
		cfg.RelayBind = net.IPv4(127, 0, 0, 1)
	}
	if cfg.RelayIP == nil {
		cfg.RelayIP = cfg.RelayBind
		if cfg.RelayBind.IsUnspecified() {
			cfg.RelayIP = firstLocalIPv4()
		}
	}
	s := &Server{}
	s.gen = &relayGen{
		bind: cfg.RelayBind, relayIP: cfg.RelayIP,
		peers: newPeerSet(cfg.Peers, cfg.Aliases),
		log:   log, refused: &s.refused,
	}
	pl := pionLogs{log: log}
	s.quota = quota{max: cfg.MaxPerUser, n: map[string]int{}}
	if s.quota.max == 0 {
		s.quota.max = defaultMaxPerUser
	}
	sc := pionturn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   pionturn.LongTermTURNRESTAuthHandler(cfg.Secret, pl.quietLogger("auth")),
		LoggerFactory: pl,
		QuotaHandler:  s.quota.allow,
		EventHandler: pionturn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, userID, _ string, _ net.Addr, _ int) { s.quota.add(userID, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, userID, _ string) { s.quota.add(userID, -1) },
		},
	}
	if cfg.UDPAddr != "" {
		pc, err := net.ListenPacket("udp4", cfg.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("listen TURN UDP %s: %w", cfg.UDPAddr, err)
		}
		s.udp = pc
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, pionturn.PacketConnConfig{
			PacketConn: pc, RelayAddressGenerator: s.gen, PermissionHandler: s.gen.peers.permit,
		})
	}
	if cfg.TLSAddr != "" {
		if cfg.TLSConfig == nil {
			s.closeSockets()
			return nil, errors.New("turn: TLS address without certificates")
		}
		ln, err := net.Listen("tcp4", cfg.TLSAddr)
		if err != nil {
			s.closeSockets()
			return nil, fmt.Errorf("listen TURN TLS %s: %w", cfg.TLSAddr, err)
		}
		s.tls = &connTracker{ln: ln, conf: cfg.TLSConfig}
		sc.ListenerConfigs = append(sc.ListenerConfigs, pionturn.ListenerConfig{
			Listener: s.tls, RelayAddressGenerator: s.gen, PermissionHandler: s.gen.peers.permit,
		})
	}
	srv, err := pionturn.NewServer(sc)
	if err != nil {
		s.closeSockets()
		return nil, fmt.Errorf("start TURN: %w", err)
	}
	s.srv = srv
	log.Info("turn server ready", "udp", fmt.Sprint(s.UDPAddr()), "tls", fmt.Sprint(s.TLSAddr()),
		"relay_ip", cfg.RelayIP.String(), "peers", fmt.Sprint(cfg.Peers), "realm", cfg.Realm)
	return s, nil
}

func (s *Server) closeSockets() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tls != nil {
		_ = s.tls.Close()
	}
}

// UDPAddr is the TURN over UDP address, nil when off.
func (s *Server) UDPAddr() *net.UDPAddr {
	if s.udp == nil {
		return nil
	}
	a, _ := s.udp.LocalAddr().(*net.UDPAddr)
	return a
}

// TLSAddr is the TURN over TLS address, nil when off.
func (s *Server) TLSAddr() *net.TCPAddr {
	if s.tls == nil {
		return nil
	}
	a, _ := s.tls.Addr().(*net.TCPAddr)
	return a
}

// Allocations counts the relays in use now.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// Refused counts packets a client tried to relay to, or that arrived from, an address
// that is not the SFU's.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// Close stops the server: its sockets, every TLS connection and every relay.
func (s *Server) Close() error {
	err := s.srv.Close()
	if s.tls != nil {
		s.tls.conns.closeAll()
	}
	s.gen.conns.closeAll()
	return err
}

// connTracker is the TURN over TLS listener. It remembers accepted connections so
// that Close can end them (Pion's Server.Close closes only the listener), and ends a
// connection idle for longer than an allocation lives, so that clients that connect and
// go silent do not keep a goroutine each forever. It hands Pion a *tls.Conn, which Pion
// handshakes with a timeout.
type connTracker struct {
	ln   net.Listener // plain TCP
	conf *tls.Config

	conns closerSet[*trackedConn] // accepted connections
}

// idleTimeout outlives an allocation (10 minutes unless refreshed): a connection that
// carried nothing for that long has no allocation left.
const idleTimeout = 12 * time.Minute

func (t *connTracker) Accept() (net.Conn, error) {
	c, err := t.ln.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	if !t.conns.add(tc) {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	return tls.Server(tc, t.conf), nil
}

func (t *connTracker) Addr() net.Addr { return t.ln.Addr() }
func (t *connTracker) Close() error   { return t.ln.Close() }

// open counts the TLS connections now (tests).
func (t *connTracker) open() int { return t.conns.len() }

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(idleTimeout))
	return c.Conn.Read(p)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.conns.forget(c) })
	return c.Conn.Close()
}

// firstLocalIPv4 picks the address to tell clients as their relayed address when relay
// sockets listen on every interface. Only the SFU ever sends to it.
func firstLocalIPv4() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				return n.IP.To4()
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}
