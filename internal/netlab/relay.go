//go:build linux

package netlab

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// UDPRelay stands between clients in namespace B and a server on the host's
// loopback: it listens in namespace A (where the server's announced address
// lives) and sends each client's packets on to the server from its own
// loopback socket. What goes back to a client waits the delay plus a random
// share of the jitter, in order (a radio link delays, it rarely reorders).
type UDPRelay struct {
	ln     *net.UDPConn // in A
	target *net.UDPAddr // the server, on loopback

	delay, jitter atomic.Int64 // nanoseconds; set by SetDelay

	mu      sync.Mutex // guards clients and closed
	clients map[string]*relayClient
	closed  bool
}

type relayClient struct {
	addr     *net.UDPAddr // the client, in B
	up       *net.UDPConn // to the server
	queue    chan delayed // to the client, in order
	lastSend time.Time    // owned by the reader: deadlines never go back
}

type delayed struct {
	at  time.Time
	pkt []byte
}

// NewUDPRelay listens at listen (an address in namespace ns) and relays to target.
func NewUDPRelay(ns, listen, target string) (*UDPRelay, error) {
	ta, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		return nil, err
	}
	r := &UDPRelay{target: ta, clients: map[string]*relayClient{}}
	err = In(ns, func() error {
		la, err := net.ResolveUDPAddr("udp4", listen)
		if err != nil {
			return err
		}
		r.ln, err = net.ListenUDP("udp4", la)
		return err
	})
	if err != nil {
		return nil, err
	}
	go r.readClients() // ends on Close
	return r, nil
}

// SetDelay sets the delay and jitter of packets to the clients.
func (r *UDPRelay) SetDelay(delay, jitter time.Duration) {
	r.delay.Store(int64(delay))
	r.jitter.Store(int64(jitter))
}

// Close stops the relay.
func (r *UDPRelay) Close() {
	r.mu.Lock()
	r.closed = true
	cs := r.clients
	r.clients = map[string]*relayClient{}
	r.mu.Unlock()
	_ = r.ln.Close()
	for _, c := range cs {
		_ = c.up.Close()
	}
}

func (r *UDPRelay) readClients() {
	buf := make([]byte, 2048)
	for {
		n, from, err := r.ln.ReadFromUDP(buf)
		if err != nil {
			return
		}
		c, err := r.client(from)
		if err != nil {
			continue
		}
		_, _ = c.up.Write(buf[:n])
	}
}

func (r *UDPRelay) client(from *net.UDPAddr) (*relayClient, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, net.ErrClosed
	}
	if c := r.clients[from.String()]; c != nil {
		return c, nil
	}
	up, err := net.DialUDP("udp4", nil, r.target)
	if err != nil {
		return nil, err
	}
	c := &relayClient{addr: from, up: up, queue: make(chan delayed, 4096)}
	r.clients[from.String()] = c
	go r.readServer(c) // ends when c.up closes
	go r.sendClient(c) // ends when queue closes
	return c, nil
}

// readServer takes the server's packets for c and schedules them.
func (r *UDPRelay) readServer(c *relayClient) {
	defer close(c.queue)
	buf := make([]byte, 2048)
	for {
		n, err := c.up.Read(buf)
		if err != nil {
			return
		}
		at := time.Now().Add(time.Duration(r.delay.Load()))
		if j := r.jitter.Load(); j > 0 {
			at = at.Add(time.Duration(rand.Int64N(j)))
		}
		if at.Before(c.lastSend) {
			at = c.lastSend
		}
		c.lastSend = at
		select {
		case c.queue <- delayed{at: at, pkt: append([]byte(nil), buf[:n]...)}:
		default: // a full queue drops, like a full radio buffer
		}
	}
}

func (r *UDPRelay) sendClient(c *relayClient) {
	for d := range c.queue {
		if w := time.Until(d.at); w > 0 {
			time.Sleep(w)
		}
		_, _ = r.ln.WriteToUDP(d.pkt, c.addr)
	}
}

// TCPRelay listens in namespace ns and connects each client to target on
// the host's loopback (the signal websocket; not delayed).
type TCPRelay struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
}

// NewTCPRelay listens at listen (an address in namespace ns).
func NewTCPRelay(ns, listen, target string) (*TCPRelay, error) {
	r := &TCPRelay{target: target}
	err := In(ns, func() error {
		var err error
		r.ln, err = net.Listen("tcp4", listen)
		return err
	})
	if err != nil {
		return nil, err
	}
	go r.accept() // ends on Close
	return r, nil
}

func (r *TCPRelay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp4", r.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		r.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer r.wg.Done()
			_, err := io.Copy(dst, src)
			if err != nil && !errors.Is(err, net.ErrClosed) {
				_ = err // a reset connection ends its relay
			}
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(s, c)
		go pipe(c, s)
	}
}

// Close stops accepting; open connections end when either side closes.
func (r *TCPRelay) Close() { _ = r.ln.Close() }
