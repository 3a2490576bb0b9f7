package media

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// The fast path for subscribers' RTCP. A subscriber sends feedback about what
// the engine forwards to it (NACKs, PLIs, receiver reports, transport-wide
// congestion control ten times a second): at one publisher to 100 that is
// about 1,100 datagrams a second through the same chain of Pion goroutines as
// media (rxfast.go), ending in the down track's RTCP loop. The socket reader
// decrypts them with the connection's own SRTCP context and hands each to the
// down tracks it is about, in the reader's goroutine. What is about no down
// track that registered goes to Pion as before.

// rtcpSink is what takes a connection's decrypted RTCP: a down track.
type rtcpSink interface {
	// fastRTCP handles one decrypted compound RTCP packet, valid during the
	// call.
	fastRTCP(raw []byte)
}

// rtcpSinks are one connection's down tracks by the SSRC they send, copied
// on write (down tracks come and go rarely; every RTCP datagram reads it).
type rtcpSinks struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[uint32]rtcpSink]
}

func (s *rtcpSinks) set(ssrc uint32, sink rtcpSink, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	next := map[uint32]rtcpSink{}
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	switch {
	case add:
		next[ssrc] = sink
	case next[ssrc] == sink:
		delete(next, ssrc)
	default:
		return
	}
	s.m.Store(&next)
}

// rtcpSinksFor returns the sinks of the connection whose DTLS transport is
// tr, made on first use; nil for a connection the engine did not build.
func (e *Engine) rtcpSinksFor(tr *webrtc.DTLSTransport) *rtcpSinks {
	if e == nil || tr == nil {
		return nil
	}
	c := e.capture(tr)
	if c == nil {
		return nil
	}
	c.sinksOnce.Do(func() { c.sinks = &rtcpSinks{} })
	return c.sinks
}

// isRTCPDatagram: RFC 7983's RTP/RTCP range, RTCP's packet types (RFC 5761 §4).
func isRTCPDatagram(p []byte) bool {
	return len(p) >= 8 && p[0]&0xc0 == 0x80 && p[1] >= 192 && p[1] <= 223
}

// maxRTCPTargets bounds the down tracks one compound packet is handed to
// here; one about more goes to Pion.
const maxRTCPTargets = 8

// takeRTCP decrypts an SRTCP datagram and hands it to every down track it
// is about, as Pion's SRTCP session would hand it to each of their read
// streams, when all of them registered.
func (fr *fastRx) takeRTCP(p, dst []byte) fastVerdict {
	if fr.rtcp == nil {
		return fastPion
	}
	m := fr.rtcp.m.Load()
	if m == nil || len(*m) == 0 {
		return fastPion
	}
	fr.mu.Lock()
	out, err := fr.ctx.DecryptRTCP(dst[:0], p, &fr.rtcpHdr)
	fr.mu.Unlock()
	if err != nil {
		return fastDropped // a replay or a forgery, which Pion would drop too
	}
	var targets [maxRTCPTargets]rtcpSink
	n, stray := 0, false
	eachRTCPTarget(out, func(ssrc uint32) {
		if ssrc == 0 {
			return // about no stream (a REMB's media source)
		}
		s := (*m)[ssrc]
		if s == nil || n == maxRTCPTargets {
			// A stream no down track registered (yet, or any more): Pion
			// routes the whole packet, as before, so that its reader gets it.
			stray = true
			return
		}
		for _, t := range targets[:n] {
			if t == s {
				return
			}
		}
		targets[n] = s
		n++
	})
	if n == 0 || stray {
		return fastPion // p is unchanged: decrypted into dst
	}
	for _, s := range targets[:n] {
		s.fastRTCP(out)
	}
	return fastDelivered
}

// eachRTCPTarget calls f with the SSRCs each packet of a compound RTCP packet
// is about, as Pion's DestinationSSRC would give them: the report blocks of
// SR and RR, the media source of transport and payload-specific feedback
// (NACK, TWCC, PLI), the entries of a FIR. SDES, BYE and what else a
// subscriber sends is about its own sources, not the engine's.
func eachRTCPTarget(b []byte, f func(ssrc uint32)) {
	for len(b) >= 8 {
		n := (int(binary.BigEndian.Uint16(b[2:4])) + 1) * 4
		if n > len(b) {
			return
		}
		pkt, count := b[:n], int(b[0]&0x1f)
		blocks := func(at int) {
			for i := range count {
				if o := at + 24*i; o+4 <= len(pkt) {
					f(binary.BigEndian.Uint32(pkt[o:]))
				}
			}
		}
		switch rtcp.PacketType(pkt[1]) {
		case rtcp.TypeSenderReport:
			blocks(28)
		case rtcp.TypeReceiverReport:
			blocks(8)
		case rtcp.TypeTransportSpecificFeedback:
			if len(pkt) >= 12 {
				f(binary.BigEndian.Uint32(pkt[8:]))
			}
		case rtcp.TypePayloadSpecificFeedback:
			if uint8(count) == rtcp.FormatFIR {
				for o := 12; o+4 <= len(pkt); o += 8 {
					f(binary.BigEndian.Uint32(pkt[o:]))
				}
			} else if len(pkt) >= 12 {
				f(binary.BigEndian.Uint32(pkt[8:]))
			}
		}
		b = b[n:]
	}
}

// fastRTCPState is a down track's side of the RTCP fast path.
type fastRTCPState struct {
	// mu is held while one RTCP packet is handled (onRTCP), the RTCP loop's
	// or the fast path's, which may both come while the switch settles; a
	// NACK's retransmissions are queued into the send batch under it (the
	// socket is non-blocking).
	mu sync.Mutex
	rs resendScratch // retransmit's scratch, under mu

	regMu sync.Mutex // serializes registering and unregistering (never held with mu)
	sinks atomic.Pointer[rtcpSinks]
	ssrc  atomic.Uint32 // what the track is registered under
}

// registerRTCP makes the track a sink of its connection's RTCP fast path
// under the SSRC it sends (Bind, and again once the transport is connected),
// so that a compound packet about it and other tracks does not have to wait
// for its first packet. Idempotent.
func (d *DownTrack) registerRTCP(tr *webrtc.DTLSTransport) {
	s := d.up.eng.rtcpSinksFor(tr)
	if s == nil {
		return
	}
	d.mu.Lock()
	ssrc := d.ssrc
	d.mu.Unlock()
	if ssrc == 0 {
		return
	}
	d.fast.regMu.Lock()
	if old := d.fast.ssrc.Load(); old != ssrc && old != 0 {
		s.set(old, d, false)
	}
	d.fast.ssrc.Store(ssrc)
	d.fast.sinks.Store(s)
	s.set(ssrc, d, true)
	d.fast.regMu.Unlock()
	if d.closed.Load() {
		d.unregisterRTCP() // Close ran meanwhile
	}
}

func (d *DownTrack) unregisterRTCP() {
	d.fast.regMu.Lock()
	defer d.fast.regMu.Unlock()
	if s := d.fast.sinks.Load(); s != nil {
		s.set(d.fast.ssrc.Load(), d, false)
	}
}

func (d *DownTrack) fastRTCP(raw []byte) { d.onRTCP(raw) }
