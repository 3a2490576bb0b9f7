package recording

import "github.com/pion/rtp"

// jitterBuffer puts RTP packets back in sequence order across small reorderings (and
// late NACK retransmissions) and reports what never came. It copies each payload into a
// reused slot: packets handed to a sink are read-only and shared with the fan-out.
type jitterBuffer struct {
	slots  [jitterSlots]jbSlot
	window uint64 // how far ahead of the oldest missing packet we wait before giving up on it

	started bool
	highest uint64 // highest extended sequence number seen
	next    uint64 // next extended sequence number to hand out
	late    int64  // packets that came after we had given up on them (or duplicates)
}

const jitterSlots = 256 // power of two > any window

type jbSlot struct {
	valid   bool
	seq     uint64
	ts      uint32
	marker  bool
	arrival int64 // unix nanoseconds
	payload []byte
}

// resetGap is a jump in sequence numbers we treat as a new stream (a restarted sender)
// rather than as thousands of lost packets.
const resetGap = 3000

// push adds p and calls emit for each packet now in order, and lost(n) for each run of n
// packets given up on. emit must not keep s.payload.
func (j *jitterBuffer) push(p *rtp.Packet, arrival int64, emit func(s *jbSlot), lost func(n uint64)) {
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
		j.flush(emit, lost)
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
	s := &j.slots[ext%jitterSlots]
	if s.valid && s.seq == ext {
		j.late++ // duplicate
		return
	}
	s.valid, s.seq, s.ts, s.marker, s.arrival = true, ext, p.Timestamp, p.Marker, arrival
	s.payload = append(s.payload[:0], p.Payload...)
	j.drain(emit)
}

func (j *jitterBuffer) drain(emit func(s *jbSlot)) {
	for {
		s := &j.slots[j.next%jitterSlots]
		if !s.valid || s.seq != j.next {
			return
		}
		emit(s)
		s.valid = false
		j.next++
	}
}

// advanceTo hands out what is buffered below target, in order, reporting each run of
// missing packets before the packet that follows it, then drains.
func (j *jitterBuffer) advanceTo(target uint64, emit func(s *jbSlot), lost func(n uint64)) {
	var n uint64
	for ; j.next < target; j.next++ {
		s := &j.slots[j.next%jitterSlots]
		if !s.valid || s.seq != j.next {
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

// flush hands out everything buffered, reporting the holes: at close or stream restart.
func (j *jitterBuffer) flush(emit func(s *jbSlot), lost func(n uint64)) {
	j.advanceTo(j.highest+1, emit, lost)
}
