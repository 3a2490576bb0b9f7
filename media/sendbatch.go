package media

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// batchLen is how many datagrams one sendmmsg(2) carries at most. A frame of
// 1.5 Mbit/s video is about 6 packets; to 25 subscribers that is 150.
// With UDP GSO (gso_linux.go) a batch that holds a whole frame for every
// subscriber sends each subscriber's packets of it as one message.
const batchLen = 192

// maxDatagram is the largest datagram a batch holds: an RTP packet read from a
// publisher plus SRTP's auth tag. Bigger ones (none in practice) go alone.
const maxDatagram = readBufSize + 64

// batchConn is the UDP socket under the ICE mux. Everything the engine
// forwards reaches it synchronously (DownTrack.forward -> SRTP -> ICE ->
// mux -> WriteToAddrPort), in the goroutine doing a fan-out pass. Between
// beginPass and endPass, datagrams are copied into a batch instead of sent,
// and endPass sends the batch with one sendmmsg (a raw system call on 64-bit
// Linux, golang.org/x/net/ipv4 WriteBatch elsewhere): one system call per
// pass instead of one per subscriber. Nothing waits on a timer: the batch
// goes when the pass ends, or when it is full.
//
// Passes of several read loops may overlap (several publishers, several
// cores): the batch is shared and whichever pass ends first sends what is
// queued. Writes from elsewhere (RTCP, ICE, DTLS, retransmissions) that come
// during a pass are queued too and leave with it; outside passes they go out
// at once, as a batch of one.
type batchConn struct {
	*net.UDPConn // reads, deadlines, LocalAddr, Close

	sys batchSys // how batches reach the kernel (sendmmsg_*.go)

	mu    sync.Mutex // guards open, cur and free; never held across a send
	open  int        // passes begun and not ended
	cur   *sendBatch // what the open passes queued; nil when none is open
	free  []*sendBatch
	calls atomic.Uint64 // send system calls made, for Stats
	sent  atomic.Uint64 // datagrams sent through batches (of one outside passes)

	direct      atomic.Uint64 // RTP packets queued by direct writers (directwrite.go), for Stats
	directDrops atomic.Uint64 // RTP packets a direct writer could not queue

	held heldSamples // a socket reader's hold on the batch (passhold.go); guarded by mu

	// arrivals: kernel receive times of recent RTP datagrams, noted by the
	// socket reader, read by the fan-out (latency.go).
	arrivals arrivalTable
}

// arrivalTable is where the reader notes and the fan-out looks up kernel
// receive times; nil for a nil batchConn (unit tests: nothing is stamped).
func (c *batchConn) arrivalTable() *arrivalTable {
	if c == nil {
		return nil
	}
	return &c.arrivals
}

func newBatchConn(c *net.UDPConn) *batchConn {
	bc := &batchConn{UDPConn: c}
	bc.initSend()
	return bc
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
	if c.held.holds > 0 { // a socket reader's hold sends it (passhold.go)
		c.mu.Unlock()
		return
	}
	b := c.takeLocked()
	c.mu.Unlock()
	if b != nil {
		c.send(b)
	}
}

// takeLocked takes the batch the passes queued, for the caller to send, and
// gives the passes still open a fresh one.
func (c *batchConn) takeLocked() *sendBatch {
	b := c.cur
	c.cur = nil
	if c.open > 0 {
		c.cur = c.getLocked()
	}
	return b
}

func (c *batchConn) getLocked() *sendBatch {
	if n := len(c.free); n > 0 {
		b := c.free[n-1]
		c.free = c.free[:n-1]
		return b
	}
	return newSendBatch()
}

// WriteToAddrPort is how the ICE mux writes (pion/ice uses it when the
// socket has it). During a pass it queues a copy of p.
func (c *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if len(p) > maxDatagram || !fits(addr) {
		c.calls.Add(1)
		return c.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	c.mu.Lock()
	b := c.cur
	if b == nil {
		// No pass open: a batch of one, sent now the same way (on Linux a
		// raw system call, see sendmmsg_linux.go).
		one := c.getLocked()
		c.mu.Unlock()
		one.put(p, addr)
		c.send(one)
		return len(p), nil
	}
	var full *sendBatch
	if b.n == batchLen {
		full, b = b, c.getLocked()
		c.cur = b
	}
	b.put(p, addr)
	c.mu.Unlock()
	if full != nil {
		c.send(full)
	}
	return len(p), nil
}

// slotFiller writes one datagram into a batch slot (directConn.fill).
type slotFiller interface {
	fill(dst []byte) (int, error)
}

// writeFilled queues a datagram to addr that f writes straight into a batch
// slot (a direct writer encrypts into it: no copy of its own). As
// WriteToAddrPort: queued during a pass, a batch of one outside. addr must
// fit (fits). f runs under c.mu. The batch it returns (a full one, or the
// batch of one) is the caller's to send, with c.send, once it holds no lock.
func (c *batchConn) writeFilled(addr netip.AddrPort, f slotFiller) (*sendBatch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.cur
	var out *sendBatch
	switch {
	case b == nil:
		b = c.getLocked()
		out = b // sent even when empty: send returns it to the free list
	case b.n == batchLen:
		out, b = b, c.getLocked()
		c.cur = b
	}
	n, err := f.fill(b.slot())
	if err == nil {
		b.commit(n, addr)
	}
	return out, err
}

// send writes b with as few sendmmsg calls as the kernel allows and returns b
// to the free list. A datagram the kernel refuses is dropped, as a failed
// sendto would drop it; its subscriber NACKs it.
func (c *batchConn) send(b *sendBatch) {
	c.sys.plan(b) // grouped for UDP GSO where the kernel takes it (gso_linux.go)
	for off := 0; off < b.messages(); {
		c.calls.Add(1)
		n, d := c.sys.write(b, off)
		if n > 0 {
			c.sent.Add(uint64(d))
		} else {
			n = 1 // skip the one refused
		}
		off += n
	}
	b.reset()
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
