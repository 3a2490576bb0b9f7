package media

import (
	"math"
	"sync/atomic"
)

// Audio levels come from the publisher's RFC 6464 header extension: the level of each
// packet in -dBov (0 loudest, 127 silence), so nothing is decoded to know who speaks.

// speechDBov is the loudest level still taken as silence or background noise.
const speechDBov = 50

// audioLevel accumulates levels between two reads. Written by the read loop, read and
// reset by whoever polls (the signaling speaker loop); atomics, no lock.
type audioLevel struct {
	packets atomic.Uint32 // packets seen
	voiced  atomic.Uint32 // packets louder than speechDBov
	loud    atomic.Uint64 // sum of linear amplitude of voiced packets, x1e6
}

func (a *audioLevel) observe(dBov uint8) {
	a.packets.Add(1)
	if dBov&0x7f > speechDBov {
		return
	}
	a.voiced.Add(1)
	a.loud.Add(uint64(dbovAmplitude[dBov&0x7f]))
}

// dbovAmplitude[i] is 10^(-i/20) x 1e6: the linear amplitude of a level, precomputed so
// the read loop does no floating point.
var dbovAmplitude = func() (t [128]uint32) {
	for i := range t {
		t[i] = uint32(math.Pow(10, -float64(i)/20) * 1e6)
	}
	return
}()

// AudioLevel reports how loud the track was since the last call, as a linear level in
// [0, 1], and whether someone was speaking (voice in at least a third of the packets).
// A track without the audio-level extension reports 0, false.
func (t *UpTrack) AudioLevel() (level float64, speaking bool) {
	a := &t.level
	packets := a.packets.Swap(0)
	voiced := a.voiced.Swap(0)
	loud := a.loud.Swap(0)
	if packets == 0 || voiced == 0 {
		return 0, false
	}
	level = float64(loud) / float64(voiced) / 1e6
	return level, voiced*3 >= packets
}
