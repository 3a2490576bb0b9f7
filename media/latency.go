package media

import (
	"sync/atomic"
	"time"
)

// What the server adds to a packet's trip: from the moment the packet reached
// the forwarding path (UpTrack.receive, decrypted, the arrival also used for
// TWCC) to the end of the fan-out pass that handed its copies to the kernel
// (the pass's sendmmsg has returned). One sample per packet per pass that sent
// something: a packet fanned out by the read loop and two workers is three
// samples, the workers' later. Taken after the pass, whatever the pass did in
// between (rewriting, SRTP, batching), so it stays true when the write path
// changes. It does not see the time before receive: the kernel's socket queue
// and Pion's hand-offs up to SRTP's read loop.

// latencyBoundsUs are the histogram's bucket upper bounds in microseconds:
// fine below 2 ms (the budget), coarse above.
var latencyBoundsUs = [...]uint32{
	10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
	125, 150, 175, 200, 250, 300, 350, 400, 450, 500,
	600, 700, 800, 900, 1000, 1250, 1500, 1750, 2000,
	2500, 3000, 4000, 5000, 7500, 10000, 20000, 50000, 100000,
}

// latencyHist is a lock-free histogram of forwarding latencies: a fixed array
// of atomic counters, nothing allocated per sample.
type latencyHist struct {
	counts [len(latencyBoundsUs) + 1]atomic.Uint64 // the last: above every bound
	sumNs  atomic.Uint64
}

// observe records one latency in nanoseconds.
func (h *latencyHist) observe(ns int64) {
	if ns < 0 {
		ns = 0
	}
	us := uint64(ns / 1000)
	// Binary search for the first bound >= us (the bucket is "le" that bound).
	lo, hi := 0, len(latencyBoundsUs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if uint64(latencyBoundsUs[m]) < us {
			lo = m + 1
		} else {
			hi = m
		}
	}
	h.counts[lo].Add(1)
	h.sumNs.Add(uint64(ns))
}

func (h *latencyHist) snapshot() LatencyHistogram {
	s := LatencyHistogram{
		BoundsUs: latencyBoundsUs[:],
		Counts:   make([]uint64, len(h.counts)),
		SumNs:    h.sumNs.Load(),
	}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	return s
}

// LatencyHistogram is a snapshot of a latency histogram.
type LatencyHistogram struct {
	BoundsUs []uint32 // bucket upper bounds, µs, ascending; shared, do not modify
	Counts   []uint64 // per bucket (not cumulative); one more than BoundsUs: above the last bound
	Count    uint64   // samples
	SumNs    uint64   // their sum, nanoseconds
}

// Quantile estimates the q-quantile (0 < q <= 1), interpolating linearly
// inside the bucket it falls in; 0 without samples. A quantile above the last
// bound is reported as that bound.
func (h LatencyHistogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	var seen float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			if i >= len(h.BoundsUs) {
				return time.Duration(h.BoundsUs[len(h.BoundsUs)-1]) * time.Microsecond
			}
			lo := 0.0
			if i > 0 {
				lo = float64(h.BoundsUs[i-1])
			}
			hi := float64(h.BoundsUs[i])
			us := lo + (hi-lo)*(rank-seen)/float64(c)
			return time.Duration(us * float64(time.Microsecond))
		}
		seen += float64(c)
	}
	return time.Duration(h.BoundsUs[len(h.BoundsUs)-1]) * time.Microsecond
}

// Sub is h minus an earlier snapshot of the same histogram: what was recorded in between.
func (h LatencyHistogram) Sub(earlier LatencyHistogram) LatencyHistogram {
	d := LatencyHistogram{BoundsUs: h.BoundsUs, Counts: make([]uint64, len(h.Counts)), SumNs: h.SumNs - earlier.SumNs}
	for i := range h.Counts {
		if i < len(earlier.Counts) {
			d.Counts[i] = h.Counts[i] - earlier.Counts[i]
		} else {
			d.Counts[i] = h.Counts[i]
		}
		d.Count += d.Counts[i]
	}
	return d
}

// The forwarding path's own stamp misses the time a packet spent before it:
// in the kernel's socket queue behind the packets read before it (a frame
// comes as a burst, and each packet waits for the fan-out passes of the ones
// ahead) and in Pion's receive hand-offs. The kernel stamps every datagram
// as it arrives (SO_TIMESTAMPNS, rxstamp_linux.go); the socket reader notes that
// stamp for each RTP datagram in an arrivalTable, by SSRC and sequence number
// (SRTP leaves both in the clear), and the fan-out looks it up. That gives the
// added latency from the kernel's arrival to the pass's send, whatever
// goroutines the packet went through in between.

// arrivalSlots bounds the table: a packet is looked up within milliseconds of
// its arrival; 4096 slots hold the last 0.4 s at 10,000 incoming packets/s.
const arrivalSlots = 1 << 12

type arrivalSlot struct {
	key atomic.Uint64 // arrivalKey of the datagram whose stamp ns holds
	ns  atomic.Int64  // kernel receive time, Unix nanoseconds
}

// arrivalTable maps recent RTP datagrams to their kernel receive times. The
// reader writes, the fan-out reads, without a lock: a slot overwritten
// between the two loads of a lookup reads as a miss or as the newer packet's
// stamp (the key is checked after the time is read).
type arrivalTable struct {
	slots [arrivalSlots]arrivalSlot
}

func arrivalKey(ssrc uint32, seq uint16) uint64 {
	return 1<<63 | uint64(ssrc)<<16 | uint64(seq)
}

func arrivalIndex(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> (64 - 12) }

// note records the kernel receive time ns of datagram p if it is RTP. A nil
// table does nothing.
func (a *arrivalTable) note(p []byte, ns int64) {
	if a == nil || ns == 0 || !isRTPDatagram(p) {
		return
	}
	ssrc := uint32(p[8])<<24 | uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11])
	k := arrivalKey(ssrc, uint16(p[2])<<8|uint16(p[3]))
	s := &a.slots[arrivalIndex(k)]
	s.key.Store(0) // a lookup between the two stores sees a miss, not a torn pair
	s.ns.Store(ns)
	s.key.Store(k)
}

// isRTPDatagram tells (S)RTP from what shares the port: RFC 7983 puts RTP
// and RTCP at a first byte of 128..191, RFC 5761 §4 tells RTCP by its packet
// type 192..223.
func isRTPDatagram(p []byte) bool {
	return len(p) >= 12 && p[0]&0xc0 == 0x80 && (p[1] < 192 || p[1] > 223)
}

// lookup is the kernel receive time of the packet, Unix nanoseconds; 0 when
// unknown (a reader that does not stamp, or the slot was reused).
func (a *arrivalTable) lookup(ssrc uint32, seq uint16) int64 {
	if a == nil {
		return 0
	}
	k := arrivalKey(ssrc, seq)
	s := &a.slots[arrivalIndex(k)]
	if s.key.Load() != k {
		return 0
	}
	ns := s.ns.Load()
	if s.key.Load() != k {
		return 0
	}
	return ns
}

// observeAdded records the time from the kernel's arrival stamp kernelNs
// (Unix nanoseconds, 0: unknown) to now.
func (h *latencyHist) observeAdded(kernelNs int64) {
	if kernelNs != 0 {
		h.observe(time.Now().UnixNano() - kernelNs)
	}
}
