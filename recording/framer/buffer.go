// Package framer rebuilds media frames from an RTP stream, as pion's samplebuilder
// does: Buffer puts packets back in order and reports what never came; VP8 joins a
// frame's packets and tells keyframes. It imports no package of ours.
package framer

import "github.com/pion/rtp"

// Buffer is a jitter buffer: it puts RTP packets back in sequence order across small
// reorderings (and late NACK retransmissions) and reports what never came. It copies
// each payload into a reused slot: packets handed to a media sink are read-only and
// shared with the fan-out. Not safe for concurrent use.
type Buffer struct {
	slots  [slots]Packet
	window uint64 // how far ahead of the oldest missing packet we wait before giving up on it

	started bool
	highest uint64 // highest extended sequence number seen
	next    uint64 // next extended sequence number to hand out
	late    int64  // packets that came after we had given up on them (or duplicates)
}

const slots = 256 // power of two > any window

// NewBuffer returns a Buffer that waits for a missing packet until window packets
// (at most 255) came after it.
func NewBuffer(window uint64) *Buffer {
	return &Buffer{window: min(max(window, 1), slots-1)}
}

// Packet is one packet handed out in order. Its Payload is the buffer's: valid until
// the callback returns.
type Packet struct {
	valid   bool
	Seq     uint64 // extended sequence number (RFC 3550 §A.1)
	TS      uint32 // RTP timestamp
	Marker  bool
	Arrival int64 // unix nanoseconds
	Payload []byte
}

// Late is the number of packets that came after they were given up on, or twice.
func (j *Buffer) Late() int64 { return j.late }

// resetGap is a jump in sequence numbers we treat as a new stream (a restarted sender)
// rather than as thousands of lost packets.
const resetGap = 3000

// Push adds p and calls emit for each packet now in order, and lost(n) for each run of
// n packets given up on (n = 0: a restarted stream, a discontinuity of unknown length).
// emit must not keep s.Payload.
func (j *Buffer) Push(p *rtp.Packet, arrival int64, emit func(s *Packet), lost func(n uint64)) {
	var ext uint64
	if !j.started {
		j.started = true
		ext = 1<<32 + uint64(p.SequenceNumber) // room below for early reordered packets
		j.highest, j.next = ext, ext
	} else {
		ext = uint64(int64(j.highest) + int64(int16(p.SequenceNumber-uint16(j.highest))))
	}
	switch {
	case ext >= j.next+resetGap || ext+resetGap < j.next:
		j.Flush(emit, lost)
		lost(0) // a discontinuity of unknown length: the caller measures it in time
		j.next, j.highest = ext, ext
	case ext < j.next:
		j.late++
		return
	}
	if ext > j.highest {
		j.highest = ext
	}
	if ext >= j.next+j.window {
		j.advanceTo(ext-j.window+1, emit, lost) // waited long enough for what is missing before
	}
	s := &j.slots[ext%slots]
	if s.valid && s.Seq == ext {
		j.late++ // duplicate
		return
	}
	s.valid, s.Seq, s.TS, s.Marker, s.Arrival = true, ext, p.Timestamp, p.Marker, arrival
	s.Payload = append(s.Payload[:0], p.Payload...)
	j.drain(emit)
}

func (j *Buffer) drain(emit func(s *Packet)) {
	for {
		s := &j.slots[j.next%slots]
		if !s.valid || s.Seq != j.next {
			return
		}
		emit(s)
		s.valid = false
		j.next++
	}
}

// advanceTo hands out what is buffered below target, in order, reporting each run of
// missing packets before the packet that follows it, then drains.
func (j *Buffer) advanceTo(target uint64, emit func(s *Packet), lost func(n uint64)) {
	var n uint64
	for ; j.next < target; j.next++ {
		s := &j.slots[j.next%slots]
		if !s.valid || s.Seq != j.next {
			n++
			continue
		}
		if n > 0 {
			lost(n)
			n = 0
		}
		emit(s)
		s.valid = false
	}
	if n > 0 {
		lost(n)
	}
	j.drain(emit)
}

// Flush hands out everything buffered, reporting the holes: at close or stream restart.
func (j *Buffer) Flush(emit func(s *Packet), lost func(n uint64)) {
	j.advanceTo(j.highest+1, emit, lost)
}
