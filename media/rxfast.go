package media

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// The fast receive path. Pion hands each datagram a publisher sends through
// four goroutines before SRTP's read loop writes it, decrypted, into the
// stream's rxBuffer (rxbuffer.go): the UDP mux's read loop, the ICE
// candidate's, the DTLS/SRTP demultiplexer's and SRTP's. Each hand-off is a
// wake-up of the next goroutine, in a 4-person meeting about a fifth of the
// server's CPU with the scheduler.
//
// The socket reader (rxport.go) owns the first of those loops, so it can
// take the media out before Pion sees it: an SRTP RTP packet from a
// publisher connection's remote address whose SSRC's rxBuffer already hands
// packets straight to its layer is decrypted with the connection's own
// remote SRTP context and handed to the layer in the reader's goroutine.
// Everything else, STUN, DTLS, RTCP, streams Pion has not yet announced
// (OnTrack reads their first packets) and unknown addresses, goes to Pion as
// before.

// fastTable maps a publisher connection's remote address (its selected ICE
// pair, UDP on our port) to the connection's fast receiver. Readers look up
// every datagram in it; it changes only when a connection connects, moves or
// closes, so it is copied on write and read without a lock.
type fastTable struct {
	m  atomic.Pointer[map[netip.AddrPort]*fastRx]
	mu sync.Mutex // serializes writers

	taken   atomic.Uint64 // packets delivered by the fast path (EngineStats.RxFast)
	rtcp    atomic.Uint64 // RTCP datagrams delivered by it (EngineStats.RxFastRTCP)
	dropped atomic.Uint64 // datagrams of fast streams SRTP refused (replays, forgeries)
}

// set points addr at fr (nil removes addr). Setting an address another
// connection had moves it: the remote reused its port for a new connection.
func (t *fastTable) set(addr netip.AddrPort, fr *fastRx) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setLocked(addr, fr)
}

func (t *fastTable) setLocked(addr netip.AddrPort, fr *fastRx) {
	old := t.m.Load()
	next := make(map[netip.AddrPort]*fastRx, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	if fr == nil {
		delete(next, addr)
	} else {
		next[addr] = fr
	}
	t.m.Store(&next)
}

// unset removes addr if it still points at fr.
func (t *fastTable) unset(addr netip.AddrPort, fr *fastRx) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m.Load(); old != nil && (*old)[addr] == fr {
		t.setLocked(addr, nil)
	}
}

// take delivers p, a datagram from addr, if it is fast-path media; dst is
// the reader's scratch for the decrypted packet (at least len(p)). false
// means the caller hands p to Pion, unchanged.
func (t *fastTable) take(p []byte, addr netip.AddrPort, dst []byte) bool {
	media := isRTPDatagram(p) // latency.go
	if !media && !isRTCPDatagram(p) {
		return false
	}
	m := t.m.Load()
	if m == nil {
		return false
	}
	fr := (*m)[addr]
	if fr == nil {
		return false
	}
	var v fastVerdict
	if media {
		v = fr.take(p, dst)
	} else {
		v = fr.takeRTCP(p, dst) // rxrtcp.go
	}
	switch v {
	case fastDelivered:
		if media {
			t.taken.Add(1)
		} else {
			t.rtcp.Add(1)
		}
		return true
	case fastDropped:
		t.dropped.Add(1)
		return true
	}
	return false
}

// fastRx is the fast receiver of one publisher connection: its remote SRTP
// context (separate from Pion's, with the same keys) and the streams it has
// taken over from Pion.
type fastRx struct {
	sess *rxSession // the connection's receive buffers (rxbuffer.go); nil on a subscriber connection
	rtcp *rtcpSinks // the connection's down tracks (rxrtcp.go); nil if none can register

	mu      sync.Mutex // guards ctx, hdr, rtcpHdr and streams; held for one decryption, never while delivering
	ctx     *srtp.Context
	hdr     rtp.Header  // DecryptRTP's header, reused
	rtcpHdr rtcp.Header // DecryptRTCP's
	streams map[uint32]*fastStream
}

// fastStream is one SSRC the fast path decrypts.
type fastStream struct {
	buf    *rxBuffer
	synced bool // the context's rollover counter matches the stream's
	off    bool // the context never agreed with Pion's on this stream: Pion keeps it
	waited int  // packets left to Pion before the switch, waiting for its pipeline to drain
}

// fastSwitchWait bounds how many packets the switch from Pion waits for
// Pion's goroutines to deliver what they still hold. A packet taken while
// its predecessor is still inside them would overtake it; so the switch
// happens at the first packet that follows the last one delivered (a gap
// between bursts), or after this many if loss leaves a hole for good.
const fastSwitchWait = 16

func newFastRx(sess *rxSession, sinks *rtcpSinks, remote *srtp.Context) *fastRx {
	return &fastRx{sess: sess, rtcp: sinks, ctx: remote, streams: map[uint32]*fastStream{}}
}

type fastVerdict uint8

const (
	fastPion      fastVerdict = iota // not ours: Pion reads it
	fastDelivered                    // decrypted and handed to the layer
	fastDropped                      // ours, but SRTP refused it (as Pion would have)
)

func (fr *fastRx) take(p, dst []byte) fastVerdict {
	if fr.sess == nil {
		return fastPion
	}
	ssrc := binary.BigEndian.Uint32(p[8:12])
	fr.mu.Lock()
	st := fr.streams[ssrc]
	if st == nil {
		// Only a stream whose layer reads it directly: before that, Pion
		// reads its first packets itself (OnTrack) and the buffer queues.
		b := fr.sess.buffer(ssrc)
		if b == nil || !b.isDirect() {
			fr.mu.Unlock()
			return fastPion
		}
		st = &fastStream{buf: b}
		fr.streams[ssrc] = st
	}
	if st.off {
		fr.mu.Unlock()
		return fastPion
	}
	var out []byte
	var err error
	if st.synced {
		out, err = fr.ctx.DecryptRTP(dst[:0], p, &fr.hdr)
		if err != nil {
			fr.mu.Unlock()
			return fastDropped
		}
	} else {
		seq := binary.BigEndian.Uint16(p[2:4])
		if !st.buf.follows(seq) && st.waited < fastSwitchWait {
			st.waited++
			fr.mu.Unlock()
			return fastPion
		}
		if out = fr.sync(st, ssrc, p, dst); out == nil {
			fr.mu.Unlock()
			return fastPion
		}
	}
	b := st.buf
	fr.mu.Unlock()

	if !b.deliver(out) {
		// The layer let go (detached, or the stream closed): Pion decides
		// what happens to this stream from now on. p is unchanged, since
		// the packet was decrypted into dst.
		fr.mu.Lock()
		if fr.streams[ssrc] == st {
			delete(fr.streams, ssrc)
		}
		fr.mu.Unlock()
		return fastPion
	}
	return fastDelivered
}

// sync decrypts the first packet of a stream taken over from Pion. SRTP's
// packet index is the 16-bit sequence number plus a rollover counter that
// each receiver keeps by counting wraps (RFC 3711 §3.3.1); Pion's context has
// been counting, ours starts now. The buffer tracks the index of what Pion
// delivered, which gives the counter; a wrap around the switch may put it one
// off, and the packet's authentication tag tells which is right. nil if no
// guess authenticates: the stream stays with Pion.
func (fr *fastRx) sync(st *fastStream, ssrc uint32, p, dst []byte) []byte {
	seq := binary.BigEndian.Uint16(p[2:4])
	roc := st.buf.rolloverFor(seq)
	for _, guess := range [3]uint32{roc, roc + 1, roc - 1} {
		if guess == ^uint32(0) && roc == 0 {
			continue
		}
		fr.ctx.SetROC(ssrc, guess)
		if out, err := fr.ctx.DecryptRTP(dst[:0], p, &fr.hdr); err == nil {
			st.synced = true
			return out
		}
	}
	st.off = true
	return nil
}

// size is how many addresses the table has (tests).
func (t *fastTable) size() int {
	m := t.m.Load()
	if m == nil {
		return 0
	}
	return len(*m)
}
