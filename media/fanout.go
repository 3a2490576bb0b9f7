package media

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// Fan-out layout. Up to inlineMax down tracks are written by the layer's read
// loop itself: for the usual two-to-eight-person session, a goroutine hop
// would cost more than it saves. Beyond that (a lecture with thousands of
// viewers) the list is cut into equal parts: the read loop keeps one and
// fan-out workers take the others, so that SRTP encryption, the costly part
// of a write, spreads over the cores.
const (
	inlineMax      = 128
	maxFanWorkers  = 8
	workerQueueLen = 256 // packets; about a second of a high layer
)

// fanout is an immutable snapshot of an up track's down tracks. Writers
// (addDown, removeDown) build a new one under UpTrack.mu and swap it in; the
// read loops load it with no lock and iterate it with no allocation.
type fanout struct {
	all     []*DownTrack
	inline  []*DownTrack   // written by the read loops
	shards  [][]*DownTrack // shards[i] written by workers[i]
	workers []*fanWorker
}

// fanPool owns the fan-out workers of one up track: it starts them as
// layouts need them and stops them all when the track ends. A worker, once
// started, lives until stop, so that a layout recut while packets are queued
// under the old one still finds every worker of that one. Guarded by
// UpTrack.mu.
type fanPool struct {
	t       *UpTrack // whose counters and batched socket the workers use
	workers []*fanWorker
	stopped bool
}

// layout cuts all into the part the read loop writes and the shards the
// workers write, starting the workers it lacks.
func (p *fanPool) layout(all []*DownTrack) *fanout {
	f := &fanout{all: all}
	nw := min(runtime.GOMAXPROCS(0), maxFanWorkers)
	if len(all) <= inlineMax || nw < 1 || p.stopped {
		f.inline = all
		return f
	}
	size := (len(all) + nw) / (nw + 1) // nw workers plus the read loop
	f.inline = all[:size]
	for rest := all[size:]; len(rest) > 0; {
		k := min(size, len(rest))
		f.shards = append(f.shards, rest[:k])
		rest = rest[k:]
	}
	for len(p.workers) < len(f.shards) {
		w := &fanWorker{t: p.t, idx: len(p.workers), ch: make(chan *sharedPacket, workerQueueLen)}
		p.workers = append(p.workers, w)
		go w.loop() // ends when stop closes ch
	}
	f.workers = p.workers[:len(f.shards)]
	return f
}

// stop ends every worker, once nothing fans out any more (every layer of the
// track has ended). The caller holds UpTrack.mu; closing a channel does not block.
func (p *fanPool) stop() {
	p.stopped = true
	for _, w := range p.workers {
		w.stop()
	}
	p.workers = nil
}

// addDown puts d in the fan-out; false if the track has ended.
func (t *UpTrack) addDown(d *DownTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended || t.closing {
		return false
	}
	cur := t.downs.Load().all
	if slices.Contains(cur, d) {
		return true
	}
	next := make([]*DownTrack, len(cur), len(cur)+1)
	copy(next, cur)
	t.downs.Store(t.pool.layout(append(next, d)))
	return true
}

func (t *UpTrack) removeDown(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.downs.Load().all
	i := slices.Index(cur, d)
	if i < 0 {
		return
	}
	next := make([]*DownTrack, 0, len(cur)-1)
	next = append(next, cur[:i]...)
	next = append(next, cur[i+1:]...)
	t.downs.Store(t.pool.layout(next))
}

// scratchHeader is the header a fan-out goroutine rewrites for each down
// track. It cannot live on the stack: it goes through an interface call
// (TrackLocalWriter.WriteRTP), so escape analysis would move it to the heap on
// every packet. Each goroutine owns one.
type scratchHeader struct {
	h   rtp.Header
	ext [4]rtp.Extension // room for audio level and the transport-wide sequence number
	tw  [2]byte          // the transport-wide sequence number's bytes (twcc.go)
	red [1500]byte       // a RED payload with its inner payload types rewritten (red.go)
}

// tally counts one packet's fan-out locally, flushed to the shared counters
// once per packet rather than once per subscriber.
type tally struct {
	fwd, bytes, notSelected, writeErr, padding uint64
}

func (c *tally) add(r fwdResult, n int) {
	switch r {
	case fwdSent:
		c.fwd++
		c.bytes += uint64(n)
	case fwdNotSelected:
		c.notSelected++
	case fwdWriteError:
		c.writeErr++
	case fwdPadding:
		c.padding++
	}
}

func (c *tally) flush(s *counters) {
	if c.fwd != 0 {
		s.packetsForwarded.Add(c.fwd)
		s.bytesForwarded.Add(c.bytes)
	}
	if c.notSelected != 0 {
		s.dropsNotSelected.Add(c.notSelected)
	}
	if c.writeErr != 0 {
		s.dropsWriteError.Add(c.writeErr)
	}
	if c.padding != 0 {
		s.dropsPadding.Add(c.padding)
	}
}

// fanOut hands one packet to every down track and sink. raw is the packet as
// read; workers get a pooled copy because the read loop reuses its buffer.
func (t *UpTrack) fanOut(p *inPacket, raw []byte, scratch *scratchHeader) {
	f := t.downs.Load()
	kernelAt := t.out.arrivalTable().lookup(p.pkt.SSRC, p.pkt.SequenceNumber) // latency.go
	if len(f.shards) > 0 {
		t.toWorkers(f, p, raw, kernelAt)
	}
	var c tally
	if len(f.inline) > 0 {
		t.out.beginPass()
		for _, d := range f.inline {
			c.add(d.forward(p, scratch))
		}
		if c.fwd != 0 {
			t.out.endPassSample(t.stats, t.now()-p.arrival, kernelAt) // latency.go, passhold.go
		} else {
			t.out.endPass()
		}
	}
	c.flush(t.stats)
	for _, s := range *t.sinks.Load() {
		s.offer(p)
	}
}

// sharedPacket is a packet copied for the fan-out workers; the last worker
// done with it puts it back in the pool. It carries the layout it was queued
// under: a worker writes its shard of that layout, not of the one current when
// it gets to the packet, so that while the layout is recut (a viewer joins or
// leaves) no viewer misses the packet or gets it twice.
type sharedPacket struct {
	buf    [readBufSize]byte
	pkt    rtp.Packet
	in     inPacket
	layout *fanout
	refs   atomic.Int32
	// kernelAt is the kernel's receive time of the packet (Unix ns, 0: not
	// stamped), for the added latency (latency.go).
	kernelAt int64
}

var sharedPackets = sync.Pool{New: func() any { return new(sharedPacket) }}

func (sp *sharedPacket) release() {
	if sp.refs.Add(-1) == 0 {
		sp.layout = nil // do not keep old down tracks reachable from the pool
		sharedPackets.Put(sp)
	}
}

func (t *UpTrack) toWorkers(f *fanout, p *inPacket, raw []byte, kernelAt int64) {
	sp := sharedPackets.Get().(*sharedPacket)
	n := copy(sp.buf[:], raw)
	if err := sp.pkt.Unmarshal(sp.buf[:n]); err != nil {
		sharedPackets.Put(sp)
		return
	}
	sp.in = *p
	sp.in.pkt = &sp.pkt
	sp.kernelAt = kernelAt
	sp.layout = f
	sp.refs.Store(int32(len(f.shards)) + 1) // +1 held while sending
	for i := range f.shards {
		select {
		case f.workers[i].ch <- sp:
		default:
			// A slow worker never blocks the read loop: its viewers miss this
			// packet, and NACK may recover it.
			t.stats.dropsQueueFull.Add(uint64(len(f.shards[i])))
			sp.release()
		}
	}
	sp.release()
}

// fanWorker writes one shard of a large fan-out.
type fanWorker struct {
	t    *UpTrack
	idx  int
	ch   chan *sharedPacket // closed by stop
	once sync.Once
}

func (w *fanWorker) loop() {
	var scratch scratchHeader
	for sp := range w.ch {
		if f := sp.layout; w.idx < len(f.shards) {
			var c tally
			w.t.out.beginPass()
			for _, d := range f.shards[w.idx] {
				c.add(d.forward(&sp.in, &scratch))
			}
			if c.fwd != 0 {
				w.t.out.endPassSample(w.t.stats, w.t.now()-sp.in.arrival, sp.kernelAt) // latency.go, passhold.go
			} else {
				w.t.out.endPass()
			}
			c.flush(w.t.stats)
		}
		sp.release()
	}
}

// stop ends the worker; only after every read loop has ended (no more sends).
func (w *fanWorker) stop() { w.once.Do(func() { close(w.ch) }) }
