package media

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
)

// rxSlot is the largest datagram a reader takes whole: what Pion's UDP mux
// reads into (its receiveMTU). Longer ones are cut, as the mux cut them.
const rxSlot = 8192

// rxSocketsMax bounds the sockets of the ICE UDP port: one reader per core
// up to 4. More readers than cores would only take turns.
const rxSocketsMax = 4

// rxSockets is how many sockets read the ICE UDP port for a config.
func rxSockets(cfg Config) int {
	if cfg.rxSockets > 0 {
		return cfg.rxSockets
	}
	return min(runtime.GOMAXPROCS(0), rxSocketsMax)
}

// muxConn is the ICE UDP port as Pion's UDP mux sees it: one PacketConn
// whose writes go through the batch (sendbatch.go) on the first socket, and
// whose reads are what the port's readers did not deliver themselves
// (rxfast.go): STUN, DTLS, RTCP and media the fast path does not know.
//
// With one socket (GOMAXPROCS=1, or off Linux) the mux's own read loop reads
// it, so the fast path runs in that loop and nothing else changes hands.
// With several (SO_REUSEPORT, rxread_linux.go), each has a pump goroutine
// that reads it and forwards fast-path media on its own core; the rest
// queues for the mux's read loop.
type muxConn struct {
	*batchConn // writes, LocalAddr, deadlines

	readers []*rxReader
	extra   []*net.UDPConn // the sockets after the first (which batchConn closes)
	q       *rxQueue       // nil with one socket
	pumps   sync.WaitGroup
}

func newMuxConn(conns []*net.UDPConn, batch *batchConn, fast *fastTable) *muxConn {
	c := &muxConn{batchConn: batch, extra: conns[1:]}
	for _, uc := range conns {
		r := newRxReader(uc, fast, batch.arrivalTable())
		r.holdOn(batch) // a read's packets leave in one batch (passhold.go)
		c.readers = append(c.readers, r)
	}
	if len(conns) > 1 {
		c.q = newRxQueue()
		for _, r := range c.readers {
			c.pumps.Add(1)
			go c.pump(r) // ends when its socket is closed
		}
	}
	return c
}

// pump reads one socket of several and queues what the mux must see.
func (c *muxConn) pump(r *rxReader) {
	defer c.pumps.Done()
	for {
		p, from, err := r.read()
		if err != nil {
			c.q.fail(err)
			return
		}
		c.q.push(p, from)
	}
}

// ReadFromAddrPort is how the mux reads (pion/ice uses it when the socket
// has it, instead of ReadFrom, and allocates nothing).
func (c *muxConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	if c.q != nil {
		return c.q.pop(p)
	}
	d, from, err := c.readers[0].read()
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return copy(p, d), from, nil
}

// ReadFrom is net.PacketConn's read, for completeness: the mux does not use
// it while ReadFromAddrPort is there.
func (c *muxConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(p)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Close closes every socket of the port and waits for the pumps.
func (c *muxConn) Close() error {
	var errs []error
	for _, uc := range c.extra {
		errs = append(errs, uc.Close())
	}
	errs = append(errs, c.batchConn.Close())
	c.pumps.Wait()
	return errors.Join(errs...)
}

// rxQueueLen bounds what waits for the mux's read loop: control traffic
// and media the fast path does not take. A full queue drops, as a full
// socket buffer would.
const rxQueueLen = 256

// rxQueue hands datagrams from the pumps to the mux's read loop. Slots keep
// their buffers, so that queuing allocates only while they first grow.
type rxQueue struct {
	mu      sync.Mutex // guards everything but wake
	slots   [rxQueueLen]rxQueued
	head, n int
	err     error // a pump's read failed (the port closed): returned once the queue is empty
	dropped uint64
	wake    chan struct{} // a datagram or an error came
}

type rxQueued struct {
	from netip.AddrPort
	b    []byte
}

func newRxQueue() *rxQueue { return &rxQueue{wake: make(chan struct{}, 1)} }

func (q *rxQueue) push(p []byte, from netip.AddrPort) {
	q.mu.Lock()
	if q.n == rxQueueLen {
		q.dropped++
		q.mu.Unlock()
		return
	}
	s := &q.slots[(q.head+q.n)%rxQueueLen]
	s.b = append(s.b[:0], p...)
	s.from = from
	q.n++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *rxQueue) fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits for the next datagram and copies it into p.
func (q *rxQueue) pop(p []byte) (int, netip.AddrPort, error) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			s := &q.slots[q.head]
			n, from := copy(p, s.b), s.from
			q.head = (q.head + 1) % rxQueueLen
			q.n--
			q.mu.Unlock()
			return n, from, nil
		}
		if err := q.err; err != nil {
			q.mu.Unlock()
			return 0, netip.AddrPort{}, err // and again on every later pop
		}
		q.mu.Unlock()
		<-q.wake
	}
}
