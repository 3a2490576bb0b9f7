package media

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
)

// batchLen is how many datagrams one sendmmsg(2) carries at most. A frame of
// 1.5 Mbit/s video is about 6 packets; to 25 subscribers that is 150.
const batchLen = 64

// batchConn is the UDP socket under the ICE mux. Everything the engine
// forwards reaches it synchronously (DownTrack.forward -> SRTP -> ICE ->
// mux -> WriteToAddrPort), in the goroutine doing a fan-out pass. Between
// beginPass and endPass, datagrams are copied into a batch instead of sent,
// and endPass sends the batch with one sendmmsg (golang.org/x/net/ipv4
// WriteBatch): one system call per pass instead of one per subscriber. Nothing
// waits on a timer: the batch goes when the pass ends, or when it is full.
//
// Passes of several read loops may overlap (several publishers, several
// cores): the batch is shared and whichever pass ends first sends what is
// queued. Writes from elsewhere (RTCP, ICE, DTLS, retransmissions) that come
// during a pass are queued too and leave with it; outside passes they go
// straight out.
type batchConn struct {
	*net.UDPConn // reads, deadlines, LocalAddr, Close

	pc *ipv4.PacketConn // the same socket, for WriteBatch

	mu    sync.Mutex // guards open, cur and free; never held across a send
	open  int        // passes begun and not ended
	cur   *sendBatch // what the open passes queued; nil when none is open
	free  []*sendBatch
	calls atomic.Uint64 // send system calls made (sendmmsg or sendto), for Stats
	sent  atomic.Uint64 // datagrams sent through sendmmsg
}

// sendBatch is one sendmmsg's worth of datagrams, with its own buffers and
// addresses so that queuing allocates nothing.
type sendBatch struct {
	n     int
	msgs  [batchLen]ipv4.Message
	bufs  [batchLen][readBufSize + 64]byte // room for SRTP's auth tag
	iov   [batchLen][1][]byte
	addrs [batchLen]net.UDPAddr
	ips   [batchLen][16]byte
}

func newBatchConn(c *net.UDPConn) *batchConn {
	return &batchConn{UDPConn: c, pc: ipv4.NewPacketConn(c)}
}

// beginPass opens a fan-out pass: writes are queued until endPass. A nil
// batchConn (an up track without an engine, in unit tests) does nothing.
func (c *batchConn) beginPass() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.open++
	if c.cur == nil {
		c.cur = c.getLocked()
	}
	c.mu.Unlock()
}

// endPass closes a pass and sends everything queued.
func (c *batchConn) endPass() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.open--
	b := c.cur
	c.cur = nil
	if c.open > 0 {
		c.cur = c.getLocked()
	}
	c.mu.Unlock()
	if b != nil {
		c.send(b)
	}
}

func (c *batchConn) getLocked() *sendBatch {
	if n := len(c.free); n > 0 {
		b := c.free[n-1]
		c.free = c.free[:n-1]
		return b
	}
	b := &sendBatch{}
	for i := range b.msgs {
		b.msgs[i].Buffers = b.iov[i][:]
	}
	return b
}

// WriteToAddrPort is how the ICE mux writes (pion/ice uses it when the
// socket has it). During a pass it queues a copy of p.
func (c *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	c.mu.Lock()
	b := c.cur
	if b == nil || len(p) > len(b.bufs[0]) {
		c.mu.Unlock()
		c.calls.Add(1)
		return c.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	var full *sendBatch
	if b.n == batchLen {
		full, b = b, c.getLocked()
		c.cur = b
	}
	i := b.n
	b.n++
	n := copy(b.bufs[i][:], p)
	b.iov[i][0] = b.bufs[i][:n]
	ip := addr.Addr().Unmap()
	a := &b.addrs[i]
	if ip.Is4() {
		v4 := ip.As4()
		copy(b.ips[i][:], v4[:])
		a.IP = b.ips[i][:4]
	} else {
		b.ips[i] = ip.As16()
		a.IP = b.ips[i][:16]
	}
	a.Port = int(addr.Port())
	b.msgs[i].Addr = a
	c.mu.Unlock()
	if full != nil {
		c.send(full)
	}
	return len(p), nil
}

// ReadFromAddrPort lets the ICE mux read without allocating, as it does on a
// plain *net.UDPConn.
func (c *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(p)
}

// send writes b with as few sendmmsg calls as the kernel allows and returns b
// to the free list. A datagram the kernel refuses is dropped, as a failed
// sendto would drop it; its subscriber NACKs it.
func (c *batchConn) send(b *sendBatch) {
	for off := 0; off < b.n; {
		c.calls.Add(1)
		n, err := c.pc.WriteBatch(b.msgs[off:b.n], 0)
		if n > 0 {
			c.sent.Add(uint64(n))
		}
		if n <= 0 {
			n = 1 // skip the one refused
		}
		off += n
		_ = err
	}
	for i := range b.n {
		b.msgs[i].Addr = nil
		b.iov[i][0] = nil
	}
	b.n = 0
	c.mu.Lock()
	if len(c.free) < maxFreeBatches {
		c.free = append(c.free, b)
	} // else the garbage collector takes it: a peak must not stay allocated (issue 12 soak)
	c.mu.Unlock()
}

// maxFreeBatches bounds the batches kept for reuse. Batches in flight at once follow the
// overlapping passes (the busiest moment of the busiest rooms); each is about 100 KB, and
// the 10-room soak left 3.4 MB of them on the free list after every room had closed.
const maxFreeBatches = 4
