package media

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// A direct writer sends a subscriber connection's forwarded RTP without
// Pion's per-write chain (srtpWriterFuture -> SessionSRTP, a channel receive
// per write -> mux endpoint -> ICE conn -> UDP mux conn -> batchConn, plus a
// context map lookup and two copies): the packet is marshalled into a slot of
// the send batch and encrypted there in place, with an SRTP context of the
// engine's own made from the connection's keys (srtpkeys.go), and addressed
// to the remote address of the connection's selected ICE candidate pair.
//
// It is used only where that is what Pion would do anyway: the keys are
// known, the selected pair is UDP through the engine's mux, to IPv4. Other
// connections (ICE-TCP, TURN relay, the engine as DTLS client) keep Pion's
// writer.
//
// SRTP must never encrypt two packets under one index with one key: an SSRC
// encrypted by both Pion's context and ours would be (each context counts
// rollovers on its own). So a down track decides once, before its first
// write, and every RTP write of it goes the way it decided (forwards and
// retransmissions; it sends no padding). RTCP stays on Pion: SRTCP has its own
// context and index.
type directConn struct {
	batch *batchConn
	port  int // the mux's local port: a pair through the mux has it

	// route is the selected pair's remote IPv4 address and port, packed
	// (routeOf), 0 when the pair is not one to write to directly. Written by
	// the ICE agent's callback, read per write.
	route atomic.Uint64

	mu      sync.Mutex // guards ctx and the scratch below; held for one write
	ctx     *srtp.Context
	h       *rtp.Header // the packet being written (fill reads it)
	payload []byte
	parsed  rtp.Header // EncryptRTP parses the marshalled header into it
	out     int        // encrypted length of the last fill
}

var (
	errDirectNoRoute  = errors.New("direct write: the selected ICE pair is not UDP through the engine's mux")
	errDirectTooLarge = errors.New("direct write: packet larger than a send batch slot")
)

// directFor returns the direct writer of the connection whose DTLS transport
// is tr, made on first use; nil when its writes must stay with Pion. Call it
// once the transport is connected.
func (e *Engine) directFor(tr *webrtc.DTLSTransport) *directConn {
	c := e.capture(tr)
	if c == nil || e.batch == nil {
		return nil
	}
	c.directOnce.Do(func() { c.direct = e.newDirectConn(tr, c) })
	return c.direct
}

func (e *Engine) newDirectConn(tr *webrtc.DTLSTransport, c *dtlsCapture) *directConn {
	local, _, err := c.contexts(tr, nil, nil)
	if err != nil {
		e.log.Debug("direct writes off: SRTP keys", "err", err)
		return nil
	}
	dc := &directConn{batch: e.batch, port: e.UDPAddr().Port, ctx: local}
	dc.parsed.Extensions = make([]rtp.Extension, 0, 4)
	ice := tr.ICETransport()
	if ice == nil {
		return nil
	}
	pair, err := ice.GetSelectedCandidatePair()
	if err != nil || dc.routeOf(pair) == 0 {
		return nil // never used: the connection's writes stay with Pion
	}
	e.followPair(ice, dc.pairChanged) // icepair.go: the fast receive path follows it too
	// Again, in case the pair changed before the callback was set.
	if pair, err := ice.GetSelectedCandidatePair(); err == nil {
		dc.pairChanged(pair)
	}
	return dc
}

// routeOf packs the pair's remote address: 1<<48 | IPv4 << 16 | port, or 0
// when the pair does not go through the engine's UDP mux to IPv4.
func (dc *directConn) routeOf(p *webrtc.ICECandidatePair) uint64 {
	if p == nil || p.Local == nil || p.Remote == nil {
		return 0
	}
	l, r := p.Local, p.Remote
	if l.Protocol != webrtc.ICEProtocolUDP || r.Protocol != webrtc.ICEProtocolUDP ||
		l.Typ != webrtc.ICECandidateTypeHost || int(l.Port) != dc.port {
		return 0 // ICE-TCP, a relay: not the mux's socket
	}
	ip, err := netip.ParseAddr(r.Address)
	if err != nil || !fits(netip.AddrPortFrom(ip, r.Port)) {
		return 0
	}
	a := ip.Unmap().As4()
	return 1<<48 | uint64(a[0])<<40 | uint64(a[1])<<32 | uint64(a[2])<<24 | uint64(a[3])<<16 | uint64(r.Port)
}

func (dc *directConn) pairChanged(p *webrtc.ICECandidatePair) { dc.route.Store(dc.routeOf(p)) }

func addrOfRoute(r uint64) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(r >> 40), byte(r >> 32), byte(r >> 24), byte(r >> 16)}), uint16(r))
}

// WriteRTP encrypts the packet into the send batch (webrtc.TrackLocalWriter).
// It returns the encrypted length, as Pion's writer does. When the selected
// pair moved off the mux (rare: an ICE restart onto TCP) the packet is
// dropped: Pion's writer must not take over an SSRC this one has encrypted.
func (dc *directConn) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	r := dc.route.Load()
	if r == 0 {
		dc.batch.directDrops.Add(1)
		return 0, errDirectNoRoute
	}
	dc.mu.Lock()
	dc.h, dc.payload = h, payload
	b, err := dc.batch.writeFilled(addrOfRoute(r), dc)
	n := dc.out
	dc.h, dc.payload = nil, nil
	dc.mu.Unlock()
	if b != nil {
		dc.batch.send(b) // no lock held across the system call
	}
	if err != nil {
		dc.batch.directDrops.Add(1)
		return 0, err
	}
	dc.batch.direct.Add(1)
	return n, nil
}

// Write is the other half of webrtc.TrackLocalWriter: a marshalled packet.
// The engine never calls it; it is here for completeness.
func (dc *directConn) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return dc.WriteRTP(&p.Header, p.Payload)
}

// srtpOverhead bounds what SRTP adds to a packet: the auth tag (16 for
// AEAD_AES_*_GCM, 10 for AES_CM_HMAC_SHA1_80) and an optional 4-byte ROC.
const srtpOverhead = 16 + 4

// fill marshals the packet being written into dst (a batch slot) and
// encrypts it in place. Called by batchConn.writeFilled under dc.mu.
func (dc *directConn) fill(dst []byte) (int, error) {
	hl := dc.h.MarshalSize()
	size := hl + len(dc.payload)
	if size+srtpOverhead > len(dst) {
		return 0, errDirectTooLarge
	}
	if _, err := dc.h.MarshalTo(dst); err != nil {
		return 0, err
	}
	copy(dst[hl:], dc.payload)
	out, err := dc.ctx.EncryptRTP(dst[:0], dst[:size], &dc.parsed)
	dc.parsed.Extensions = dc.parsed.Extensions[:0]
	if err != nil {
		return 0, err
	}
	if len(out) > 0 && unsafe.SliceData(out) != unsafe.SliceData(dst) {
		copy(dst, out) // the context grew a buffer of its own (never with a slot's room)
	}
	dc.out = len(out)
	return len(out), nil
}
