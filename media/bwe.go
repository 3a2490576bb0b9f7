package media

import "time"

// Bandwidth estimation per subscriber: Google congestion control
// (draft-ietf-rmcat-gcc-02) in a compact form. Loss-based (§6): from the
// transport-wide feedback when the subscriber sends it (Chrome, the Go SDK:
// twcc.go), else from receiver reports and NACKs (any RTP stack). Delay-based
// (§5, trendline.go): a growing queue at the bottleneck cuts the estimate to
// just under the rate the feedback says got through, so the first cut lands
// on a layer that fits. The estimate is one number, the lower of what both
// say; recovery is paced probing (the next layer, with backoff).
const (
	bweInitial = 4_000_000  // bits per second before the first report: everything fits
	bweMin     = 60_000     // never below: audio must always fit
	bweMax     = 20_000_000 // the estimate stops growing here
	// Loss above lossHigh means the link is full; below lossLow it has room.
	// GCC says 10 %; a little more, with smoothing, keeps a link with 10 %
	// random radio loss (which no rate cut cures) from being starved.
	lossHigh = 0.12
	lossLow  = 0.02
	// growth per second while the link is clean; 200 kbit/s to 1.7 Mbit/s
	// takes about ten seconds.
	bweGrowth = 1.25
	// After a cut, hold still this long: the next report still counts
	// packets sent at the old rate.
	bweHold = 2 * time.Second
	// After a probe (a climb into a rate that then failed), wait this long
	// before climbing past the failed rate again; doubled per failure.
	probeBackoffMin = 3 * time.Second
	probeBackoffMax = 5 * time.Second
	// A retry that holds past the old ceiling this long means the link recovered.
	probeHold = 3 * time.Second
	// After the delay-based detector said overuse, no growth for this long.
	delayHold = time.Second
	// A delay-based cut goes to this share of what got through: under the
	// link's rate, so that the queue built before drains.
	delayBackoff = 0.85
)

// bwe estimates one subscriber's downlink. Pure logic; its owner guards it.
type bwe struct {
	estimate float64   // bits per second
	heldAt   time.Time // last cut: no change until bweHold after it
	grewAt   time.Time // last growth step
	// failed is the estimate at the last cut that followed a climb: the
	// estimate stays below it until retryAt.
	failed   float64
	retryAt  time.Time
	backoff  time.Duration
	climbed  bool      // the estimate rose since the last cut
	passedAt time.Time // when a retry first went past failed; zero if not
	loss     float64   // smoothed over reports
	overAt   time.Time // the delay-based detector last said overuse: no growth for delayHold
}

func newBWE() bwe { return bwe{estimate: bweInitial, backoff: probeBackoffMin} }

// onOveruse takes the delay-based detector's word that the bottleneck's
// queue grows while ackedBps got through (0: unknown): the estimate goes just
// under what got through, the first cut landing where the link is. No hold
// after an earlier cut: while the queue grows, what arrives is the link's
// rate whatever we send, so a second cut corrects a first one measured over
// a window that began before the link narrowed.
func (e *bwe) onOveruse(now time.Time, ackedBps float64) {
	e.overAt = now
	if ackedBps <= 0 {
		return
	}
	next := max(delayBackoff*ackedBps, bweMin)
	if next >= 0.95*e.estimate {
		return // we already allow less than gets through: not our overshoot
	}
	e.cut(now, next, ackedBps)
}

// cut lowers the estimate to next after congestion with deliveredBps getting
// through, and remembers where the climb failed.
func (e *bwe) cut(now time.Time, next, deliveredBps float64) {
	if e.climbed {
		// The climb overshot: remember where, and wait before trying it again.
		e.failed = e.estimate
		e.retryAt = now.Add(e.backoff)
		e.backoff = min(2*e.backoff, probeBackoffMax)
	} else if deliveredBps > 0 {
		// The link's capacity is about what got through: climb past it
		// only after a while.
		e.failed = max(deliveredBps*1.15, bweMin)
		e.retryAt = now.Add(e.backoff)
	}
	e.estimate = next
	e.heldAt = now
	e.climbed = false
	e.passedAt = time.Time{}
}

// onReport takes the loss of a new receiver report and the rate we sent at
// over the time it covers.
// desiredBps is what everything the subscriber wishes for would take: the
// estimate need not climb far past it, and sending close to it (or to the
// estimate) is what makes a loss our overshoot. ackedBps is what the
// transport-wide feedback says got through lately (0: unknown).
func (e *bwe) onReport(now time.Time, loss, sentBps, desiredBps, ackedBps float64) {
	if loss < 0.3 {
		loss = 0.5*e.loss + 0.5*loss // one noisy report is not a trend
	}
	e.loss = loss
	switch {
	case loss > lossHigh:
		if now.Sub(e.heldAt) < bweHold {
			return
		}
		next := e.estimate * (1 - 0.5*loss) // GCC's loss-based decrease
		delivered := 0.0
		if sentBps > 0.7*min(e.estimate, max(desiredBps, bweMin)) {
			// We filled the estimate and the link lost: what got through is
			// what fits; a little under it lets the bottleneck's queue drain.
			// The feedback's count is exact; without it, what we sent less
			// the loss (which counts resends too: it overshoots).
			delivered = sentBps * (1 - loss)
			if ackedBps > 0 {
				delivered = ackedBps
			}
			next = min(next, delivered*0.95)
		}
		// Sending well under the estimate, the loss is not our overshoot: a
		// report still counting packets from before the last cut, or radio
		// loss that no rate cures. GCC's decrease alone, then.
		e.cut(now, max(next, bweMin), delivered)
	case loss < lossLow:
		if now.Sub(e.heldAt) < bweHold || now.Sub(e.overAt) < delayHold {
			return
		}
		e.grow(now, max(1.5*desiredBps, 1.5*sentBps, bweMin))
	}
}

// grow raises the estimate for the time since the last step, up to the last
// failed rate until retryAt, and never past ceiling (no use believing in more
// than we would send).
func (e *bwe) grow(now time.Time, ceiling float64) {
	if e.grewAt.IsZero() || now.Sub(e.grewAt) > 2*time.Second {
		e.grewAt = now
		return
	}
	dt := now.Sub(e.grewAt).Seconds()
	e.grewAt = now
	next := e.estimate * pow(bweGrowth, dt)
	switch {
	case e.failed > 0 && now.Before(e.retryAt):
		next = min(next, max(e.estimate, e.failed*0.85))
	case e.failed > 0 && next > e.failed:
		// A retry is past the old ceiling. Only once it has held there
		// without a cut has the link recovered: then forget the ceiling.
		if e.passedAt.IsZero() {
			e.passedAt = now
		} else if now.Sub(e.passedAt) > probeHold {
			e.failed, e.passedAt = 0, time.Time{}
			e.backoff = probeBackoffMin
		}
	}
	next = min(next, max(ceiling, e.estimate))
	if next > e.estimate {
		e.climbed = true
	}
	e.estimate = min(next, bweMax)
}

// pow is x**y for the small positive y used here, without math.Pow's
// special cases mattering.
func pow(x, y float64) float64 {
	r := 1.0
	for y >= 1 {
		r *= x
		y--
	}
	// first-order for the fraction: close enough for growth factors near 1
	return r * (1 + (x-1)*y)
}
