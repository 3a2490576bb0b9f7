package framer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

// vp8Packets splits a frame into RTP packets with a one-byte VP8 payload descriptor
// (RFC 7741 §4.2: S=1, PID=0 on the first), the marker on the last.
func vp8Packets(seq uint16, ts uint32, frame []byte, parts int) []*rtp.Packet {
	var out []*rtp.Packet
	size := (len(frame) + parts - 1) / parts
	for i := 0; i < len(frame); i += size {
		desc := byte(0x00)
		if i == 0 {
			desc = 0x10
		}
		end := min(i+size, len(frame))
		out = append(out, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, Marker: end == len(frame)},
			Payload: append([]byte{desc}, frame[i:end]...)})
		seq++
	}
	return out
}

// keyframe is the start of a VP8 keyframe (RFC 6386 §9.1) of w x h.
func keyframe(w, h int, rest string) []byte {
	return append([]byte{0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}, rest...)
}

// TestVP8Frames: frames split over packets come out whole, through the jitter buffer,
// even reordered; a frame missing a packet is dropped and counted, and the next frame
// comes out; keyframes are told apart, with their size.
func TestVP8Frames(t *testing.T) {
	frames := [][]byte{keyframe(640, 360, "first keyframe.."), []byte("\x01delta frame one"), []byte("\x01delta frame two"),
		[]byte("\x01delta frame three"), keyframe(320, 180, "second")}
	var pkts []*rtp.Packet
	seq := uint16(65530) // across the wrap
	for i, f := range frames {
		ps := vp8Packets(seq, uint32(i*3000), f, 3)
		seq += uint16(len(ps))
		pkts = append(pkts, ps...)
	}
	pkts[1], pkts[2] = pkts[2], pkts[1]  // reordered
	pkts = append(pkts[:7], pkts[8:]...) // the middle packet of frame two is lost

	b := NewBuffer(4)
	var v VP8
	var out []string
	emit := func(p *Packet) {
		f, dropped := v.Push(p)
		if dropped {
			out = append(out, "dropped")
		}
		if f != nil {
			key, w, h := VP8Keyframe(f)
			out = append(out, fmt.Sprintf("%q key=%v %dx%d", f, key, w, h))
		}
	}
	lost := func(n uint64) { out = append(out, fmt.Sprintf("lost %d", n)); v.Reset() }
	for _, p := range pkts {
		b.Push(p, 0, emit, lost)
	}
	b.Flush(emit, lost)
	want := []string{
		`"\x00\x00\x00\x9d\x01*\x80\x02h\x01first keyframe.." key=true 640x360`,
		`"\x01delta frame one" key=false 0x0`,
		"lost 1",
		`"\x01delta frame three" key=false 0x0`,
		`"\x00\x00\x00\x9d\x01*@\x01\xb4\x00second" key=true 320x180`,
	}
	if got := strings.Join(out, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}
