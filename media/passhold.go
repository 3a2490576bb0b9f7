package media

import "time"

// A socket reader that takes several datagrams from one recvmmsg (a video
// frame's packets often come together) holds the send batch open while it
// delivers them: the fan-out passes of those packets then queue into one
// batch, which leaves when the reader has delivered the last of them (or when
// it is full). A subscriber's copies of the frame then go out in one batch,
// where UDP GSO (gso_linux.go) sends them as one message. Nothing waits for
// anything that has not been read yet: no timer, no holding beyond what one
// read returned.
//
// While a hold is open, a pass that ends does not send (endPass) (other passes, of
// other goroutines, may still be filling the batch; whichever hold ends first
// sends what is queued, as with overlapping passes). Its latency samples
// are kept until the batch leaves, so that the forwarding and added latency
// histograms (latency.go) still end when the datagrams reach the kernel.

// holdMax bounds how long a reader holds the batch: the copies of a read's
// first packet wait at most about this long, plus one packet's fan-out, for
// the others. At 1 x 25 a pass takes about 100 µs, so a frame's 6 packets
// mostly leave together; at 1 x 100 about 400 µs, and a hold covers one or
// two packets.
const holdMax = 300 * time.Microsecond

// heldSamples is the pending latency samples of passes that ended under a
// hold; guarded by batchConn.mu.
type heldSamples struct {
	holds int // holds open (beginHold without endHold)
	n     int
	s     [heldMax]heldSample
}

// heldMax bounds the samples kept per hold: beyond it a pass records at once
// (a little early). One recvmmsg reads at most rxBatchLen packets.
const heldMax = 64

type heldSample struct {
	stats    *counters
	fwdNs    int64 // the forwarding latency when the pass ended
	kernelAt int64 // the kernel's receive stamp (0: none)
	endedAt  int64 // Unix ns when the pass ended
}

// beginHold opens a pass that holds the batch until endHold.
func (c *batchConn) beginHold() {
	c.mu.Lock()
	c.held.holds++
	c.open++
	if c.cur == nil {
		c.cur = c.getLocked()
	}
	c.mu.Unlock()
}

// endHold closes the hold's pass, sends what is queued and records the
// latency samples of the passes it held.
func (c *batchConn) endHold() {
	c.mu.Lock()
	c.held.holds--
	c.open--
	b := c.takeLocked()
	c.mu.Unlock()
	if b != nil {
		c.send(b)
	}
	c.mu.Lock()
	if c.held.n > 0 {
		now := time.Now().UnixNano()
		for i := range c.held.n {
			s := &c.held.s[i]
			late := now - s.endedAt
			s.stats.fwdLatency.observe(s.fwdNs + late)
			if s.kernelAt != 0 {
				s.stats.addedLatency.observe(now - s.kernelAt)
			}
			s.stats = nil
		}
		c.held.n = 0
	}
	c.mu.Unlock()
}

// endPassSample ends a fan-out pass that forwarded something and records
// its latency samples: fwdNs is the forwarding latency so far, kernelAt the
// packet's kernel receive stamp (0: none). Under a hold the batch stays open
// and the samples wait for endHold; otherwise it is endPass, and the samples
// are taken once the batch has left.
func (c *batchConn) endPassSample(stats *counters, fwdNs, kernelAt int64) {
	if c != nil {
		c.mu.Lock()
		if c.held.holds > 0 {
			c.open--
			queued := c.held.n < heldMax
			if queued {
				c.held.s[c.held.n] = heldSample{stats: stats, fwdNs: fwdNs, kernelAt: kernelAt, endedAt: time.Now().UnixNano()}
				c.held.n++
			}
			c.mu.Unlock()
			if !queued { // recorded a little early
				stats.fwdLatency.observe(fwdNs)
				stats.addedLatency.observeAdded(kernelAt)
			}
			return
		}
		c.mu.Unlock()
	}
	start := time.Now()
	c.endPass()
	stats.fwdLatency.observe(fwdNs + int64(time.Since(start)))
	stats.addedLatency.observeAdded(kernelAt)
}
