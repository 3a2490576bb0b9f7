package turn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	pionturn "github.com/pion/turn/v5"
)

// errTCPRelay refuses RFC 6062 TCP allocations: the SFU takes media over UDP only.
var errTCPRelay = errors.New("TCP relay allocations are not offered")

// Alias is an address a client may name as a peer (the announced NodeIP behind a 1:1
// NAT) and the local address the relay really sends to, so that relayed media never
// depends on the NAT hairpinning back to ourselves.
type Alias struct {
	Announced netip.AddrPort
	Local     netip.AddrPort
}

// peerSet is the fixed set of addresses the relay may talk to: the SFU's ICE UDP
// addresses. Built once in New, read-only afterwards.
type peerSet struct {
	addrs   map[netip.AddrPort]struct{} // where a relay may send (after aliasing)
	ips     map[netip.Addr]struct{}     // what CreatePermission/ChannelBind may name
	aliases []Alias
}

func newPeerSet(peers []netip.AddrPort, aliases []Alias) peerSet {
	ps := peerSet{addrs: map[netip.AddrPort]struct{}{}, ips: map[netip.Addr]struct{}{}, aliases: aliases}
	for _, p := range peers {
		p = unmapAP(p)
		ps.addrs[p] = struct{}{}
		ps.ips[p.Addr()] = struct{}{}
	}
	for _, a := range aliases {
		ps.addrs[unmapAP(a.Local)] = struct{}{}
		ps.ips[a.Announced.Addr().Unmap()] = struct{}{}
	}
	return ps
}

// permit is the TURN PermissionHandler: a client may only open a permission (or bind a
// channel) toward one of the SFU's addresses. Permissions are per IP (RFC 8656 §9); the
// port is enforced by relayConn.
func (ps peerSet) permit(_ net.Addr, peerIP net.IP) bool {
	ip, ok := netip.AddrFromSlice(peerIP)
	if !ok {
		return false
	}
	_, ok = ps.ips[ip.Unmap()]
	return ok
}

// relayGen allocates relay sockets that talk only to the SFU.
type relayGen struct {
	bind    net.IP // relay sockets listen here, on an ephemeral port
	relayIP net.IP // told to clients as their relayed address
	peers   peerSet
	log     *slog.Logger
	refused *atomic.Uint64 // packets to or from a forbidden address, owned by Server

	conns closerSet[*relayConn] // open relay sockets
}

func (g *relayGen) Validate() error {
	if g.bind == nil || g.relayIP == nil {
		return errors.New("relay address unset")
	}
	return nil
}

// AllocatePacketConn opens one UDP relay socket. A requested port (EVEN-PORT,
// RESERVATION-TOKEN) is not honoured: clients only ever relay to the SFU.
func (g *relayGen) AllocatePacketConn(conf pionturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if conf.Network != "udp4" && conf.Network != "udp" {
		return nil, nil, fmt.Errorf("relay network %s not offered", conf.Network)
	}
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(g.bind.String(), "0"))
	if err != nil {
		return nil, nil, fmt.Errorf("open relay socket: %w", err)
	}
	c := &relayConn{PacketConn: pc, gen: g, user: conf.UserID}
	c.viaAlias = make([]atomic.Bool, len(g.peers.aliases))
	if !g.conns.add(c) {
		_ = pc.Close()
		return nil, nil, net.ErrClosed
	}
	local, _ := pc.LocalAddr().(*net.UDPAddr)
	return c, &net.UDPAddr{IP: g.relayIP, Port: local.Port}, nil
}

func (g *relayGen) AllocateListener(pionturn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

func (g *relayGen) AllocateConn(pionturn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}

// relayConn is a relay socket that sends only to the SFU's addresses and drops what
// arrives from anywhere else: whatever permissions a client manages to create, the
// relay is never open.
type relayConn struct {
	net.PacketConn
	gen       *relayGen
	user      string
	viaAlias  []atomic.Bool // per alias: the client names the announced address, so replies wear it
	warned    atomic.Bool   // one log line per allocation for refused destinations
	closeOnce sync.Once
}

func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap := unmapAP(addrPortOf(addr))
	for i, a := range c.gen.peers.aliases {
		switch ap {
		case a.Announced:
			c.viaAlias[i].Store(true)
			ap = a.Local
		case a.Local:
			c.viaAlias[i].Store(false)
		}
	}
	if _, ok := c.gen.peers.addrs[ap]; !ok {
		c.gen.refused.Add(1)
		if !c.warned.Swap(true) {
			c.gen.log.Warn("turn relay refused a destination that is not the SFU", "user", c.user, "peer", addr.String())
		}
		// Dropped, as a UDP network would: there is no error path back to the client.
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, net.UDPAddrFromAddrPort(ap))
}

func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, from, err
		}
		ap := unmapAP(addrPortOf(from))
		if _, ok := c.gen.peers.addrs[ap]; !ok {
			c.gen.refused.Add(1)
			continue
		}
		for i, a := range c.gen.peers.aliases {
			if ap == a.Local && c.viaAlias[i].Load() {
				return n, net.UDPAddrFromAddrPort(a.Announced), nil
			}
		}
		return n, from, nil
	}
}

func (c *relayConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		c.gen.conns.forget(c)
		err = c.PacketConn.Close()
	})
	return err
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func unmapAP(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
