package media

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Typical rates of simulcast layers as browsers send them (livekit-client's
// defaults for 720p: 180p, 360p, 720p), used until a layer's rate is measured.
var defaultLayerBps = [maxLayers]float64{150_000, 500_000, 1_500_000}

const defaultAudioBps = 48_000 // Opus with FEC, plus RED when negotiated

// Downlink is one subscriber's link. Tick, run by its owner every few hundred
// milliseconds, estimates the link's bandwidth from the receiver reports of
// the subscriber's down tracks and caps each video track's layer so that
// everything fits: audio first, then every video at its lowest layer, then
// better layers one step at a time. Video that does not fit at all is paused,
// and the owner tells the subscriber so.
type Downlink struct {
	mu      sync.Mutex // guards everything below; Tick holds it while it calls setLimit (no I/O)
	tracks  map[*DownTrack]*linkTrack
	est     bwe
	sentAt  time.Time
	sent    uint64       // bytes all tracks had sent at sentAt
	sentBps float64      // smoothed
	desired float64      // bits per second everything wished for would take (last allocation)
	log     *slog.Logger // debug trace of the estimator's inputs; set once by NewDownlink
	tw      *twccSender  // the subscriber connection's transport-wide numbering; set once by NewDownlink
	acked   float64      // bits per second that got through lately (transport-wide feedback); 0 unknown
}

// linkTrack is what the downlink remembers of one down track.
type linkTrack struct {
	reports  uint64 // receiver reports seen at the last tick
	sent     uint64 // bytes sent at the last tick
	pkts     uint64 // packets sent at the last tick
	nacked   uint64 // packets NACKed at the last tick
	limit    int
	pausedBW bool
}

// NewDownlink makes the link of one subscriber.
// log (nil: none) gets a debug line per tick with what the estimate saw.
func NewDownlink(log *slog.Logger) *Downlink {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Downlink{tracks: map[*DownTrack]*linkTrack{}, est: newBWE(), log: log, tw: newTWCCSender()}
}

// Add puts d under the link's allocation, at the layers the last estimate allows.
func (l *Downlink) Add(d *DownTrack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.tracks[d]; !ok {
		l.tracks[d] = &linkTrack{limit: maxLayers - 1}
	}
	d.tw.Store(l.tw)
}

// Remove takes d out of the allocation.
func (l *Downlink) Remove(d *DownTrack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tracks, d)
}

// StreamChange says a down track was paused, or resumed, for bandwidth.
type StreamChange struct {
	TrackID string
	Paused  bool
}

// LinkReport is what a tick learned about the subscriber's link.
type LinkReport struct {
	Estimate   float64       // bits per second the link is believed to carry
	SentBps    float64       // bits per second we send it
	Loss       float64       // worst fraction lost in the latest receiver reports
	Jitter     time.Duration // worst
	RTT        time.Duration // worst, 0 when unknown
	LastReport time.Time     // newest receiver report, zero when none yet
	Tracks     int           // down tracks under the link
	Changes    []StreamChange
	Layers     []int // per video down track: its cap, -1 paused (for metrics)
}

// Tick measures, estimates and allocates. Call it every few hundred ms.
func (l *Downlink) Tick(now time.Time) LinkReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rep LinkReport
	rep.Tracks = len(l.tracks)

	var total uint64
	newReport := false
	var reportLoss float64
	var tickPkts, tickNacked uint64
	for d, lt := range l.tracks {
		st := d.Stats()
		total += st.BytesSent
		if st.Packets >= lt.pkts && st.Nacked >= lt.nacked {
			tickPkts += st.Packets - lt.pkts
			tickNacked += st.Nacked - lt.nacked
		}
		lt.pkts, lt.nacked = st.Packets, st.Nacked
		if st.Reports != lt.reports {
			lt.reports = st.Reports
			newReport = true
			reportLoss = max(reportLoss, st.Loss)
		}
		if st.Reports > 0 {
			rep.Loss = max(rep.Loss, st.Loss)
			rep.Jitter = max(rep.Jitter, st.Jitter)
			rep.RTT = max(rep.RTT, st.RTT)
			if st.LastAt.After(rep.LastReport) {
				rep.LastReport = st.LastAt
			}
		}
	}
	tickBps := 0.0 // what we sent since the last tick, unsmoothed
	if dt := now.Sub(l.sentAt).Seconds(); !l.sentAt.IsZero() && dt > 0 && total >= l.sent {
		tickBps = float64(total-l.sent) * 8 / dt
		l.sentBps = 0.5*l.sentBps + 0.5*tickBps
	}
	l.sent, l.sentAt = total, now
	// NACKs tell of loss within a round trip; a receiver report only once
	// a second. Either drives the estimate; NACKs only with enough packets
	// to make a share meaningful.
	nackLoss := 0.0
	if tickPkts >= 20 {
		nackLoss = min(float64(tickNacked)/float64(tickPkts), 1)
	}
	tw := l.tw.take()
	if tw.acked > 0 {
		l.acked = tw.acked
	}
	// A growing queue means less arrives than we send now; without that
	// the detector saw jitter, not congestion (a radio link's delay varies
	// by tens of ms without any queue of ours behind it), or a queue that a
	// cut already drains.
	if tw.overuse && tw.acked > 0 && tw.acked < 0.8*tickBps {
		l.est.onOveruse(now, l.acked)
	}
	switch {
	case tw.reported >= 20:
		// The transport-wide feedback counts every packet of the last few
		// hundred ms, resends included, as it arrived or not: newer and
		// exact where a receiver report is a second old (and counts loss
		// from before a cut that already relieved the link) and NACKs miss
		// what was never asked for again.
		l.est.onReport(now, tw.loss, l.sentBps, l.desired, l.acked)
	case nackLoss > lossHigh:
		l.est.onReport(now, max(nackLoss, reportLoss), l.sentBps, l.desired, l.acked)
	case newReport:
		l.est.onReport(now, max(reportLoss, nackLoss), l.sentBps, l.desired, l.acked)
	}
	rep.Estimate, rep.SentBps = l.est.estimate, l.sentBps
	l.log.Debug("bwe tick", "twcc_fb", tw.feedbacks, "twcc_loss", tw.loss, "overuse", tw.overuse, "acked_kbps", int(l.acked/1000),
		"nack_loss", nackLoss, "pkts", tickPkts, "report", newReport, "report_loss", reportLoss,
		"sent_kbps", int(l.sentBps/1000), "estimate_kbps", int(l.est.estimate/1000), "desired_kbps", int(l.desired/1000))
	rep.Changes, rep.Layers = l.allocateLocked()
	return rep
}

// videoDemand is one video track's part of an allocation.
type videoDemand struct {
	d     *DownTrack
	lt    *linkTrack
	wish  int
	rates [maxLayers]float64
	cap   int
}

// allocateLocked divides the estimate: audio, then video lowest layers, then
// upgrades round-robin (so that two tiles share before one gets the best).
func (l *Downlink) allocateLocked() ([]StreamChange, []int) {
	budget := l.est.estimate
	desired := 0.0
	defer func() { l.desired = desired }()
	var videos []*videoDemand
	for d, lt := range l.tracks {
		if d.up.kind != webrtc.RTPCodecTypeVideo {
			if d.Wanted() >= 0 {
				budget -= audioRate(d.up.Stats())
				desired += audioRate(d.up.Stats())
			}
			continue
		}
		w := d.Wanted()
		if w < 0 {
			continue // hidden by the subscriber: costs nothing, not ours to pause
		}
		st := d.up.Stats()
		v := &videoDemand{d: d, lt: lt, wish: w, cap: -1}
		for i := range v.rates {
			v.rates[i] = defaultLayerBps[i]
			if st.Known[i] && st.Rates[i] > 0 {
				v.rates[i] = st.Rates[i]
			}
		}
		videos = append(videos, v)
		desired += v.rates[min(w, maxLayers-1)]
	}
	// A stable order: the same link gives the same answer every tick.
	slices.SortFunc(videos, func(a, b *videoDemand) int { return strings.Compare(a.d.id, b.d.id) })
	for _, v := range videos {
		if budget >= v.rates[0] {
			v.cap = 0
			budget -= v.rates[0]
		}
	}
	for upgraded := true; upgraded; {
		upgraded = false
		for _, v := range videos {
			if v.cap < 0 || v.cap >= v.wish {
				continue
			}
			if cost := v.rates[v.cap+1] - v.rates[v.cap]; budget >= cost {
				v.cap++
				budget -= cost
				upgraded = true
			}
		}
	}
	var changes []StreamChange
	layers := make([]int, 0, len(videos))
	for _, v := range videos {
		limit := v.cap
		if limit >= 0 && v.cap == v.wish {
			limit = maxLayers - 1 // not limited by the link: the wish alone caps it
		}
		if limit != v.lt.limit {
			v.lt.limit = limit
			v.d.setLimit(limit)
		}
		if paused := v.cap < 0; paused != v.lt.pausedBW {
			v.lt.pausedBW = paused
			changes = append(changes, StreamChange{TrackID: v.d.id, Paused: paused})
		}
		layers = append(layers, v.cap)
	}
	return changes, layers
}

func audioRate(st UpStats) float64 {
	if st.Known[0] && st.Rates[0] > 0 {
		return st.Rates[0]
	}
	return defaultAudioBps
}
