package media

import (
	"github.com/pion/rtp"
)

// inPacket is what a layer's read loop learned about one packet. It is
// computed once per packet and shared read-only by every subscriber.
type inPacket struct {
	pkt      *rtp.Packet // read-only after fan-out (STYLE 9)
	ext      uint64      // extended sequence number of the layer (RFC 3550 §A.1)
	arrival  int64       // monotonic nanoseconds, see UpTrack.now
	flowing  uint32      // mask of layers flowing when this packet arrived
	gen      uint32      // resync generation (bumped on unmute)
	layer    int8
	keyframe bool  // first packet of a keyframe: a switch point
	alID     uint8 // audio-level extension id in the publisher's session, 0 if none
}

// verdict is what a forwarder decided about one packet for one subscriber.
type verdict struct {
	ok       bool   // forward with seq and ts
	seq      uint16 // rewritten sequence number
	ts       uint32 // rewritten timestamp
	padding  bool   // dropped as padding (counted apart)
	wantKF   int8   // layer to ask a keyframe of, -1 for none
	switched bool   // this packet starts a new layer (or the first)
}

// seqHistLen bounds how many padding skips back a late packet can be placed.
const seqHistLen = 16

// seqAdj says that from extended sequence number from on, add applies.
type seqAdj struct{ from, add uint64 }

// addFor is the seqAdd for ext, and false when ext is older than we remember.
func (f *forwarder) addFor(ext uint64) (uint64, bool) {
	for i := f.histN - 1; i >= 0 && i >= f.histN-seqHistLen; i-- {
		if a := f.hist[i%seqHistLen]; ext >= a.from {
			return a.add, true
		}
	}
	return 0, false
}

func (f *forwarder) pushAdj(from, add uint64) {
	f.hist[f.histN%seqHistLen] = seqAdj{from: from, add: add}
	f.histN++
	f.seqAdd = add
}

// keyframeRetry is how often a subscriber waiting for a keyframe asks again,
// in case a PLI or the keyframe itself was lost.
const keyframeRetry = int64(1e9)

// forwarder turns the packets of up to three simulcast layers into one RTP
// stream for one subscriber: it picks the layer, switches only at keyframes,
// and rewrites sequence numbers and timestamps so that the subscriber sees one
// continuous stream (what LiveKit's pkg/sfu forwarder and galene's
// rtpconn do). It is pure logic; its owner guards it.
type forwarder struct {
	video     bool   // wait for keyframes before forwarding or switching
	clockRate uint32 // of the codec, for the timestamp gap at a switch

	cur, target int8 // forwarded layer and the one we switch to at its next keyframe; -1 none
	started     bool // something was forwarded: out state below is valid
	gen         uint32
	reqAt       int64 // when we last asked for a keyframe of target

	// Out = in + add, in 64-bit extended sequence space and uint32 timestamp space.
	seqAdd uint64
	// seqAdd changes when padding is skipped; hist keeps the recent values so
	// that a late packet (retransmission, reordering) keeps its place.
	hist      [seqHistLen]seqAdj
	histN     int // entries used, newest at hist[(histN-1)%seqHistLen]
	tsAdd     uint32
	switchExt uint64 // first ext of cur after the switch; older packets belong to the old layer
	lastInExt uint64 // highest ext of cur seen (forwarded or skipped padding)
	lastOut   uint64 // highest extended sequence number sent
	lastTs    uint32 // timestamp of lastOut
	lastAt    int64  // arrival of lastOut
}

func newForwarder(video bool, clockRate uint32) forwarder {
	if clockRate == 0 {
		clockRate = 90000
	}
	return forwarder{video: video, clockRate: clockRate, cur: -1, target: -1}
}

// pickLayer chooses the highest flowing layer at or below maxLayer; when none
// at or below it flows, the lowest flowing one (something beats nothing).
func pickLayer(flowing uint32, maxLayer int8) int8 {
	for l := min(maxLayer, maxLayers-1); l >= 0; l-- {
		if flowing&(1<<l) != 0 {
			return l
		}
	}
	for l := int8(0); l < maxLayers; l++ {
		if flowing&(1<<l) != 0 {
			return l
		}
	}
	return -1
}

// wantMask is the set of layers whose packets this forwarder must see.
func (f *forwarder) wantMask() uint32 {
	var m uint32
	if f.cur >= 0 {
		m |= 1 << f.cur
	}
	if f.target >= 0 {
		m |= 1 << f.target
	}
	return m
}

// process decides about one packet.
func (f *forwarder) process(p *inPacket, maxLayer int8) verdict {
	v := verdict{wantKF: -1}
	if p.gen != f.gen {
		// Resync (after a server-side unmute): start again at a keyframe,
		// continuing our own numbering.
		f.gen = p.gen
		f.cur, f.target = -1, -1
	}

	desired := pickLayer(p.flowing, maxLayer)
	switch {
	case desired < 0 || desired == f.cur:
		f.target = -1
	case desired != f.target:
		f.target = desired
		f.reqAt = p.arrival
		v.wantKF = desired
	case p.arrival-f.reqAt > keyframeRetry:
		f.reqAt = p.arrival
		v.wantKF = desired
	}

	if p.layer == f.target && (!f.video || p.keyframe) {
		f.switchTo(p)
		v.switched = true
	}
	if p.layer != f.cur || p.ext < f.switchExt {
		return v
	}
	if len(p.pkt.Payload) == 0 {
		// Padding-only packets are bandwidth probes for the publisher's
		// link, not media. Hide the hole they leave when they come in order.
		if p.ext > f.lastInExt {
			f.lastInExt = p.ext
			f.pushAdj(p.ext+1, f.seqAdd-1)
		}
		v.padding = true
		return v
	}
	if p.ext > f.lastInExt {
		f.lastInExt = p.ext
	}
	add, ok := f.addFor(p.ext)
	if !ok {
		return v
	}
	out := p.ext + add
	ts := p.pkt.Timestamp + f.tsAdd
	if out > f.lastOut {
		f.lastOut, f.lastTs, f.lastAt = out, ts, p.arrival
	}
	v.ok, v.seq, v.ts = true, uint16(out), ts
	return v
}

// reverse maps a sequence number this forwarder sent back to the packet it
// came from: its layer, its extended sequence number on that layer and the
// timestamp offset it was sent with (galene's packetmap.Reverse). ok is false
// for a number never sent, sent before the last layer switch, or older than
// the adjustments kept in hist.
func (f *forwarder) reverse(seq uint16) (layer int8, ext uint64, tsAdd uint32, ok bool) {
	if !f.started || f.cur < 0 {
		return 0, 0, 0, false
	}
	out := uint64(int64(f.lastOut) + int64(int16(seq-uint16(f.lastOut))))
	if out > f.lastOut {
		return 0, 0, 0, false
	}
	// Segments are newest first and their first output numbers strictly
	// decrease going back (a skipped padding packet ends one, a switch resets
	// hist), so the first segment starting at or before out holds it.
	for i := f.histN - 1; i >= 0 && i >= f.histN-seqHistLen; i-- {
		a := f.hist[i%seqHistLen]
		if out >= a.from+a.add {
			in := out - a.add
			if in < f.switchExt {
				return 0, 0, 0, false
			}
			return f.cur, in, f.tsAdd, true
		}
	}
	return 0, 0, 0, false
}

// restart forgets the forwarded layer: the next packet that starts a layer
// (a keyframe for video) starts it again, numbering continued.
func (f *forwarder) restart() { f.cur, f.target = -1, -1 }

// switchTo makes p's layer the forwarded one, p being its switch point.
func (f *forwarder) switchTo(p *inPacket) {
	if !f.started {
		// Start at the publisher's own numbers: nothing to be continuous with.
		f.started = true
		f.tsAdd = 0
		f.lastOut = p.ext - 1
	} else {
		// Layers have their own random timestamp bases (RFC 3550 §5.1):
		// continue ours, advanced by the wall-clock time since the last packet.
		elapsed := max(p.arrival-f.lastAt, 0)
		delta := uint32(uint64(elapsed) * uint64(f.clockRate) / 1e9)
		if delta == 0 {
			delta = 1
		}
		f.tsAdd = f.lastTs + delta - p.pkt.Timestamp
	}
	// Out sequence continues at lastOut+1: no gap for the subscriber to NACK.
	f.histN = 0
	f.pushAdj(p.ext, f.lastOut+1-p.ext)
	f.cur, f.target = p.layer, -1
	f.switchExt = p.ext
	f.lastInExt = p.ext - 1
}

// seqUnwrapper extends 16-bit RTP sequence numbers to 64 bits (RFC 3550 §A.1).
// It starts in the second cycle so that "one before the first" never underflows.
type seqUnwrapper struct {
	started bool
	highest uint64
}

func (u *seqUnwrapper) unwrap(seq uint16) uint64 {
	if !u.started {
		u.started = true
		u.highest = 1<<16 | uint64(seq)
		return u.highest
	}
	// The difference as a signed 16-bit value tells ahead from behind.
	diff := int16(seq - uint16(u.highest))
	ext := uint64(int64(u.highest) + int64(diff))
	if ext > u.highest {
		u.highest = ext
	}
	return ext
}
