package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// downLimits is what decides a down track's layer besides what flows: the
// subscriber's wishes (its tile's size, whether the tile is shown) and the
// allocator's cap from the subscriber's bandwidth. The forwarding path reads
// only off, restart and DownTrack.maxLayer; applyLimits derives them.
type downLimits struct {
	wish    atomic.Int32 // highest layer the subscriber asked for (track settings); set by SetMaxLayer
	limit   atomic.Int32 // highest layer the link allows; -1 = paused for bandwidth; set by Downlink
	hidden  atomic.Bool  // the subscriber disabled the track (hidden tile); set by SetPaused
	off     atomic.Bool  // forward nothing: hidden or limit < 0
	restart atomic.Bool  // the next forwarded packet starts again at a keyframe
	mu      sync.Mutex   // serialises applyLimits
}

func (l *downLimits) init() {
	l.wish.Store(maxLayers - 1)
	l.limit.Store(maxLayers - 1)
}

// SetPaused stops (or resumes) forwarding because the subscriber does not
// show the track: livekit-client's adaptive stream disables a track whose
// tile is hidden. On resume the subscriber starts again at a keyframe.
func (d *DownTrack) SetPaused(paused bool) {
	d.lim.hidden.Store(paused)
	d.applyLimits()
}

// setLimit is the allocator's cap: the highest layer that fits the
// subscriber's link, -1 when even the lowest does not (video paused).
func (d *DownTrack) setLimit(l int) {
	d.lim.limit.Store(int32(max(-1, min(l, maxLayers-1))))
	d.applyLimits()
}

// applyLimits derives the forwarding path's view from wish, limit and hidden.
// The keyframe a resumed track needs is asked for after every lock is let go
// (a PLI is I/O on the publisher's connection).
func (d *DownTrack) applyLimits() {
	if d.applyLimitsLocked() {
		d.up.requestLayerKeyframe(pickLayer(d.up.flowing.Load(), int8(d.maxLayer.Load())))
	}
}

// applyLimitsLocked does applyLimits' work under d.lim.mu; true when the
// track resumed and needs a keyframe.
func (d *DownTrack) applyLimitsLocked() (resumed bool) {
	d.lim.mu.Lock()
	defer d.lim.mu.Unlock()
	wish, limit := d.lim.wish.Load(), d.lim.limit.Load()
	off := d.lim.hidden.Load() || limit < 0
	wasOff := d.lim.off.Swap(off)
	if off {
		return false
	}
	// Under d.mu: forward reads maxLayer and then records seenFlow in one
	// critical section; a change stored between the two would be lost and
	// the fast path would skip the new layer's packets for good.
	d.mu.Lock()
	if eff := min(wish, limit); d.maxLayer.Swap(eff) != eff {
		d.seenFlow.Store(noFlow) // the forwarder looks again at the next packet
	}
	if wasOff {
		d.lim.restart.Store(true)
		d.seenFlow.Store(noFlow)
	}
	d.mu.Unlock()
	return wasOff
}

// Wanted is the layer this subscriber would take if its link allowed, -1
// when it does not want the track at all. Dynacast asks publishers for the
// highest wanted layer of each track.
func (d *DownTrack) Wanted() int {
	if d.lim.hidden.Load() || d.closed.Load() {
		return -1
	}
	return int(d.lim.wish.Load())
}

// rxReports keeps what the subscriber's receiver reports (RFC 3550 §6.4.2)
// say about this down track, for the bandwidth estimate and connection
// quality.
type rxReports struct {
	sent atomic.Uint64 // bytes written to the subscriber, added by forward
	pkts atomic.Uint64 // packets written, added by forward
	// nacked counts the distinct packets the subscriber asked again for
	// (RFC 4585 §6.2.1): loss seen within a round trip, long before the
	// next receiver report.
	nacked atomic.Uint64
	// recent remembers the last NACKed sequence numbers: a receiver asks
	// again for a packet until it comes, and each one counts once.
	recentMu sync.Mutex
	recent   [64]uint16
	recentN  int

	mu      sync.Mutex // guards the fields below; written by the RTCP loop
	reports uint64     // receiver reports seen for our SSRC
	at      time.Time  // when the last one came
	loss    float64    // fraction lost in the last report, 0..1
	jitter  time.Duration
	rtt     time.Duration // 0 until a report echoes one of our sender reports
}

// observeReceiverReport records the report block about our SSRC.
func (d *DownTrack) observeReceiverReport(rr *rtcp.ReceiverReport) {
	d.mu.Lock()
	ssrc, clock := d.ssrc, d.fwd.clockRate
	d.mu.Unlock()
	now := time.Now()
	for _, r := range rr.Reports {
		if r.SSRC != ssrc || ssrc == 0 {
			continue
		}
		d.rx.mu.Lock()
		d.rx.reports++
		d.rx.at = now
		d.rx.loss = float64(r.FractionLost) / 256
		if clock > 0 {
			d.rx.jitter = time.Duration(float64(r.Jitter) / float64(clock) * float64(time.Second))
		}
		if rtt, ok := roundTrip(now, r.LastSenderReport, r.Delay); ok {
			d.rx.rtt = rtt
		}
		d.rx.mu.Unlock()
	}
}

// observeNack counts the distinct packets a NACK asks for.
func (d *DownTrack) observeNack(n *rtcp.TransportLayerNack) {
	d.rx.recentMu.Lock()
	defer d.rx.recentMu.Unlock()
	for _, pair := range n.Nacks {
		for _, seq := range pair.PacketList() {
			seen := false
			for i := 0; i < min(d.rx.recentN, len(d.rx.recent)); i++ {
				if d.rx.recent[i] == seq {
					seen = true
					break
				}
			}
			if seen {
				continue
			}
			d.rx.recent[d.rx.recentN%len(d.rx.recent)] = seq
			d.rx.recentN++
			d.rx.nacked.Add(1)
		}
	}
}

// roundTrip is RFC 3550 §6.4.1's A - LSR - DLSR, in the middle 32 bits of
// NTP time (1/65536 s).
func roundTrip(now time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	a := uint32(ntpTime(now) >> 16)
	d := a - lsr - dlsr
	if int32(d) < 0 {
		return 0, false
	}
	return time.Duration(uint64(d) * uint64(time.Second) >> 16), true
}

// ntpTime is t as a 64-bit NTP timestamp (RFC 5905 §6).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	s := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return s<<32 | frac
}

// DownStats is what a down track knows about its subscriber's link.
type DownStats struct {
	BytesSent uint64
	Packets   uint64        // packets sent
	Nacked    uint64        // distinct packets the subscriber asked again for
	Reports   uint64        // receiver reports seen
	LastAt    time.Time     // of the last receiver report
	Loss      float64       // fraction lost in the last report
	Jitter    time.Duration // interarrival jitter in the last report
	RTT       time.Duration // 0 when unknown
	Layer     int           // forwarded (or awaited) layer, -1 none
	Paused    bool          // forwarding nothing (hidden, or no room on the link)
	Video     bool
}

// Stats is a snapshot of the down track's link figures.
func (d *DownTrack) Stats() DownStats {
	d.rx.mu.Lock()
	s := DownStats{Reports: d.rx.reports, LastAt: d.rx.at, Loss: d.rx.loss, Jitter: d.rx.jitter, RTT: d.rx.rtt}
	d.rx.mu.Unlock()
	s.BytesSent = d.rx.sent.Load()
	s.Packets = d.rx.pkts.Load()
	s.Nacked = d.rx.nacked.Load()
	s.Layer = int(d.curLayer.Load())
	s.Paused = d.lim.off.Load()
	s.Video = d.up.kind == webrtc.RTPCodecTypeVideo
	return s
}

// DemandedLayer is the highest layer anyone takes of this track: its down
// tracks' wishes (hidden tiles want nothing) and its sinks (a recorder wants
// the best). -1 when nobody wants it: a publisher may stop sending it.
func (t *UpTrack) DemandedLayer() int {
	best := -1
	if len(*t.sinks.Load()) > 0 {
		best = maxLayers - 1
	}
	for _, d := range t.downs.Load().all {
		best = max(best, d.Wanted())
	}
	return best
}
