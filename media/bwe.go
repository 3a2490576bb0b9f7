package media

import "time"

// Bandwidth estimation from receiver reports: the loss-based half of Google
// congestion control (draft-ietf-rmcat-gcc-02 §6), with a delivered-rate cut
// for fast descent and paced probing for recovery.
//
// Why loss and not delay: a receiver report is what every client sends
// (browsers, the Go SDK, anything with an RTP stack), and a village 4G link
// that is too narrow shows it in loss within a second (the radio's buffer
// overflows). A transport-wide-cc delay estimator would see it sooner; it
// needs sequence numbers stamped on every packet we send, a cost the
// forwarding path does not pay today.
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
}

func newBWE() bwe { return bwe{estimate: bweInitial, backoff: probeBackoffMin} }

// onReport takes the loss of a new receiver report and the rate we sent at
// over the time it covers.
// desiredBps is what everything the subscriber wishes for would take: the
// estimate need not climb far past it, and sending close to it (or to the
// estimate) is what makes a loss our overshoot.
func (e *bwe) onReport(now time.Time, loss, sentBps, desiredBps float64) {
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
		if sentBps > 0.7*min(e.estimate, max(desiredBps, bweMin)) {
			// We filled the estimate and the link lost: what got through is
			// what fits; a little under it lets the bottleneck's queue drain.
			delivered := sentBps * (1 - loss)
			next = min(next, delivered*0.95)
			if !e.climbed {
				// The link's capacity is about what got through: climb past
				// it only after a while.
				e.failed = max(delivered*1.15, bweMin)
				e.retryAt = now.Add(e.backoff)
			}
		}
		// Sending well under the estimate, the loss is not our overshoot: a
		// report still counting packets from before the last cut, or radio
		// loss that no rate cures. GCC's decrease alone, then.
		next = max(next, bweMin)
		if e.climbed {
			// The climb overshot: remember where, and wait before trying it again.
			e.failed = e.estimate
			e.retryAt = now.Add(e.backoff)
			e.backoff = min(2*e.backoff, probeBackoffMax)
		}
		e.estimate = next
		e.heldAt = now
		e.climbed = false
		e.passedAt = time.Time{}
	case loss < lossLow:
		if now.Sub(e.heldAt) < bweHold {
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
