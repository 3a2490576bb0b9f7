package media

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// What a receiver owes a publisher, done in the layer's receive path instead
// of by Pion's up-path interceptors (rxbuffer.go says why): NACKs for holes
// (RFC 4585 §6.2.1), receiver reports (RFC 3550 §6.4.2) and, per peer
// connection, transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01). Each is timed by the
// packets themselves: the receive path checks the clock as a packet comes, so
// no goroutine or ticker runs per stream. A stream that stops gets no more
// NACKs or reports, which is what it needs.

const (
	nackEvery    = int64(50 * time.Millisecond) // how often holes are NACKed again
	nackTries    = 10                           // NACKs per missing packet, then it is given up
	nackMaxGap   = 256                          // a bigger jump is a restart, not loss
	nackWindow   = 512                          // holes older than this many packets are given up
	reportEvery  = int64(time.Second)           // receiver reports, per layer
	twccEvery    = int64(100 * time.Millisecond)
	maxNackBatch = 64 // sequence numbers per NACK check
)

// upFeedback is one layer's NACK and receiver-report state. Owned by the
// layer's receive path (one goroutine at a time); lastSR and srAt are written
// by the layer's RTCP loop.
type upFeedback struct {
	nack       bool   // the publisher negotiated NACK for this codec
	senderSSRC uint32 // ours, in the reports and NACKs we send
	clockRate  uint32

	// holes
	missing  []missingPacket
	nackAt   int64
	nackSeqs []uint16 // scratch

	// reception statistics (RFC 3550 §A.3, §A.8)
	started     bool
	base        uint64 // first extended sequence number
	highest     uint64
	received    uint64
	expPrior    uint64
	recPrior    uint64
	transit     int64  // previous packet's relative transit, in RTP units
	jitter      uint32 // scaled by 16 (§A.8)
	reportAt    int64
	lastSR      atomic.Uint32 // middle 32 bits of the newest sender report's NTP time
	srAt        atomic.Int64  // when it came, UpTrack.now()
	reportsSent uint64
	sr          atomic.Pointer[publisherSR] // the newest sender report, for the down tracks' own
}

// publisherSR is one sender report of the publisher: its clock (NTP) at its
// RTP time, and when it came (UpTrack.now()).
type publisherSR struct {
	ntp uint64
	rtp uint32
	at  int64
}

type missingPacket struct {
	ext   uint64
	tries uint8
}

func (f *upFeedback) init(nack bool, clockRate uint32) {
	f.nack, f.clockRate = nack, clockRate
	f.senderSSRC = rand.Uint32()
}

// observe takes one packet: its extended sequence number, RTP timestamp and
// arrival (UpTrack.now()). It returns the RTCP due now, if any; the caller
// sends it. It allocates only when there is something to send.
func (f *upFeedback) observe(ssrc uint32, ext uint64, ts uint32, now int64) []rtcp.Packet {
	var out []rtcp.Packet
	if !f.started {
		f.started = true
		f.base, f.highest = ext, ext
		f.reportAt, f.nackAt = now, now
	}
	switch {
	case ext > f.highest:
		if gap := ext - f.highest - 1; gap > 0 && f.nack {
			if gap > nackMaxGap {
				f.missing = f.missing[:0] // a restart: what was missing is moot
			} else {
				for e := f.highest + 1; e < ext; e++ {
					f.missing = append(f.missing, missingPacket{ext: e})
				}
			}
		}
		f.highest = ext
	case ext < f.highest && len(f.missing) > 0:
		for i := range f.missing {
			if f.missing[i].ext == ext {
				f.missing = append(f.missing[:i], f.missing[i+1:]...)
				break
			}
		}
	}
	f.received++
	f.observeJitter(ts, now)

	if len(f.missing) > 0 && now-f.nackAt >= nackEvery {
		f.nackAt = now
		if n := f.nackLocked(ssrc); n != nil {
			out = append(out, n)
		}
	}
	if now-f.reportAt >= reportEvery {
		f.reportAt = now
		out = append(out, f.report(ssrc, now))
	}
	return out
}

// observeJitter is the interarrival jitter estimate of RFC 3550 §A.8.
func (f *upFeedback) observeJitter(ts uint32, now int64) {
	if f.clockRate == 0 {
		return
	}
	arrival := now / 1000 * int64(f.clockRate) / 1_000_000 // ns -> RTP units
	transit := arrival - int64(ts)
	if f.received > 1 {
		d := transit - f.transit
		if d < 0 {
			d = -d
		}
		if d < 1<<31 {
			f.jitter += uint32(d) - ((f.jitter + 8) >> 4)
		}
	}
	f.transit = transit
}

// nackLocked builds one NACK for the holes still worth asking for.
func (f *upFeedback) nackLocked(ssrc uint32) rtcp.Packet {
	f.nackSeqs = f.nackSeqs[:0]
	keep := f.missing[:0]
	for _, m := range f.missing {
		if m.tries >= nackTries || f.highest-m.ext > nackWindow {
			continue // given up
		}
		if len(f.nackSeqs) < maxNackBatch {
			m.tries++
			f.nackSeqs = append(f.nackSeqs, uint16(m.ext))
		}
		keep = append(keep, m)
	}
	f.missing = keep
	if len(f.nackSeqs) == 0 {
		return nil
	}
	return &rtcp.TransportLayerNack{SenderSSRC: f.senderSSRC, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(f.nackSeqs)}
}

// report is a receiver report (RFC 3550 §6.4.2) for the layer.
func (f *upFeedback) report(ssrc uint32, now int64) rtcp.Packet {
	expected := f.highest - f.base + 1
	lost := int64(expected) - int64(f.received) // retransmissions can make it negative
	expInterval := expected - f.expPrior
	recInterval := f.received - f.recPrior
	f.expPrior, f.recPrior = expected, f.received
	var fraction uint8
	if expInterval > 0 && expInterval > recInterval {
		fraction = uint8((expInterval - recInterval) << 8 / expInterval)
	}
	lost = max(0, min(lost, 1<<23-1)) // 24 bits, signed
	var dlsr uint32
	lsr := f.lastSR.Load()
	if lsr != 0 {
		// delay since the last SR, in 1/65536 s
		dlsr = uint32((now - f.srAt.Load()) * 65536 / int64(time.Second))
	}
	f.reportsSent++
	return &rtcp.ReceiverReport{SSRC: f.senderSSRC, Reports: []rtcp.ReceptionReport{{
		SSRC:               ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost),
		LastSequenceNumber: uint32(f.highest - 1<<16), // seqUnwrapper starts in cycle 1
		Jitter:             f.jitter >> 4,
		LastSenderReport:   lsr,
		Delay:              dlsr,
	}}}
}

// senderReport notes a sender report of the layer's SSRC (from its RTCP loop).
func (f *upFeedback) senderReport(ntp uint64, rtpTime uint32, now int64) {
	f.lastSR.Store(uint32(ntp >> 16))
	f.srAt.Store(now)
	f.sr.Store(&publisherSR{ntp: ntp, rtp: rtpTime, at: now})
}

// twccFeedback records the arrival of every packet that carries a
// transport-wide sequence number on one peer connection, and builds the
// feedback the publisher's congestion controller needs, every twccEvery.
// Its receive paths (one per SSRC, in SRTP's single read loop) and nothing
// else call it.
type twccFeedback struct {
	mu     sync.Mutex // guards everything below
	rec    *twcc.Recorder
	start  time.Time // arrival times are microseconds since the first packet, as Pion's interceptor has them
	sentAt time.Time
}

// record notes one arrival and returns the feedback due now, if any.
func (f *twccFeedback) record(ssrc uint32, seq uint16, at time.Time) []rtcp.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec == nil {
		f.rec = twcc.NewRecorder(rand.Uint32())
		f.start, f.sentAt = at, at
	}
	f.rec.Record(ssrc, seq, at.Sub(f.start).Microseconds())
	if at.Sub(f.sentAt) < time.Duration(twccEvery) {
		return nil
	}
	f.sentAt = at
	return f.rec.BuildFeedbackPacket()
}
