package framer

import (
	"encoding/binary"

	"github.com/pion/rtp/codecs"
)

// VP8 joins the packets of VP8 frames (RFC 7741), taken in order from a Buffer: a frame
// starts at a packet with S=1 and partition 0 and ends at the marker bit. Not safe for
// concurrent use.
type VP8 struct {
	pkt   codecs.VP8Packet
	frame []byte // the frame being joined; reused
	ts    uint32
	in    bool // a frame's start was seen and not its end
}

// Push takes the next packet in order. It returns the frame p completes (valid until
// the next Push), or nil; dropped says an unfinished frame was given up on (its marker
// never came: a packet of it was lost).
func (v *VP8) Push(p *Packet) (frame []byte, dropped bool) {
	payload, err := v.pkt.Unmarshal(p.Payload)
	if err != nil || len(payload) == 0 {
		return nil, false
	}
	if v.in && p.TS != v.ts { // the previous frame never saw its marker bit
		dropped, v.in = true, false
	}
	if v.pkt.S == 1 && v.pkt.PID == 0 {
		v.frame, v.ts, v.in = v.frame[:0], p.TS, true
	} else if !v.in {
		return nil, dropped // the middle of a frame whose start we did not get
	}
	v.frame = append(v.frame, payload...)
	if !p.Marker {
		return nil, dropped
	}
	v.in = false
	return v.frame, dropped
}

// Reset forgets a frame being joined (after a loss: it cannot be whole).
func (v *VP8) Reset() { v.in = false }

// VP8Keyframe reports whether a whole VP8 frame is a keyframe and, if so, its size
// (RFC 6386 §9.1: P bit 0 of the frame tag; start code 9d 01 2a; 14-bit width, height).
func VP8Keyframe(f []byte) (key bool, w, h int) {
	if len(f) < 3 || f[0]&0x01 != 0 {
		return false, 0, 0
	}
	if len(f) >= 10 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
		w = int(binary.LittleEndian.Uint16(f[6:8]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(f[8:10]) & 0x3fff)
	}
	return true, w, h
}
