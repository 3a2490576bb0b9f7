package media

import (
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// When a layer's publisher is asked for a keyframe (a PLI, RFC 4585 §6.3.1).
//
// A keyframe costs the publisher several times a delta frame, and every
// subscriber that cannot decode asks for one: a new subscriber, one that
// resumes a hidden tile, one whose decoder lost its way. Asking for each would
// turn a join storm into a storm of keyframes. Asking at most once per fixed
// window (what we did, and what LiveKit does with 0.5-1 s windows) makes a
// subscriber who joins just after another wait for the window's end, although
// the keyframe asked for the first has long come and gone: back-to-back
// joiners waited 266 ms each for a 250 ms window.
//
// So a request is answered by what it needs, not by the clock alone:
//   - a PLI sent and its keyframe not yet come: the coming keyframe serves
//     every subscriber that asks meanwhile; nothing more is sent (unless it is
//     overdue, pliRetry: the PLI or the keyframe was lost);
//   - the keyframe asked for has come: a new PLI goes at once, if the last one
//     is at least pliMinGap old; otherwise it goes from the receive path as
//     soon as the gap has passed.
//
// The bound: one PLI in flight per layer, at most one per pliMinGap, and a
// budget: pliBurst PLIs at once, then one per pliEvery on average (a GCRA,
// one atomic word). The short gap serves the joins of a meeting at once; the
// budget keeps a lecture's join storm from turning the low layer into a
// stream of keyframes (a keyframe costs a real encoder several frames' worth
// of bits, which its rate control takes from the frames around it): with the
// gap alone the speaker of lecture1x100 got 8.1 PLIs a second during the
// storm.
const (
	// pliMinGap is the least time between two PLIs to one layer: three frames
	// at 30 fps.
	pliMinGap = int64(100 * time.Millisecond)
	// pliRetry is when a PLI whose keyframe has not come is sent again, if
	// someone still asks: the PLI or the keyframe's first packet was lost.
	pliRetry = int64(250 * time.Millisecond)
	// pliEvery and pliBurst are the budget: four keyframes a second in a
	// storm (what the fixed 250 ms window gave before), five at once (the
	// parties of a mediation joining together are all served at once).
	pliEvery = int64(250 * time.Millisecond)
	pliBurst = 5
)

// keyframeAsk is one layer's keyframe request state. Requests come from any
// goroutine (fan-out, subscribers' RTCP loops, signaling); the receive path
// reports keyframes and sends what was held back.
type keyframeAsk struct {
	lastPLI atomic.Int64 // when the last PLI was sent (UpTrack.now); 0: never
	waiting atomic.Bool  // a PLI was sent and no keyframe has come since
	pending atomic.Bool  // a request was held back by pliMinGap or the budget: the receive path sends it
	// budgetAt is the budget's theoretical arrival time (GCRA): a PLI may go
	// when budgetAt - now <= (pliBurst-1) * pliEvery; each PLI moves it on by
	// pliEvery from max(budgetAt, now).
	budgetAt atomic.Int64
}

// budgetAllows says whether the budget has room for a PLI at now.
func (k *keyframeAsk) budgetAllows(now int64) bool {
	return k.budgetAt.Load()-now <= (pliBurst-1)*pliEvery
}

// spend takes one PLI from the budget.
func (k *keyframeAsk) spend(now int64) {
	for {
		at := k.budgetAt.Load()
		next := max(at, now) + pliEvery
		if k.budgetAt.CompareAndSwap(at, next) {
			return
		}
	}
}

// askResult is what a request came to.
type askResult uint8

const (
	askSend    askResult = iota // send a PLI now (lastPLI and waiting are set)
	askServed                   // a PLI is in flight: its keyframe serves this request
	askPending                  // too soon after the last PLI: sent when the gap has passed
)

// request decides about one keyframe request at now.
func (k *keyframeAsk) request(now int64) askResult {
	last := k.lastPLI.Load()
	if last != 0 {
		if k.waiting.Load() && now-last < pliRetry {
			return askServed
		}
		if now-last < pliMinGap {
			k.pending.Store(true)
			return askPending
		}
	}
	if !k.budgetAllows(now) {
		k.pending.Store(true)
		return askPending
	}
	if !k.lastPLI.CompareAndSwap(last, now) {
		// Another request sent one just now; its keyframe serves this one.
		return askServed
	}
	k.spend(now)
	k.waiting.Store(true)
	k.pending.Store(false)
	return askSend
}

// keyframe notes that a keyframe of the layer arrived. It serves everyone
// who asked so far, including a request held back by the gap.
func (k *keyframeAsk) keyframe() {
	if k.waiting.Load() {
		k.waiting.Store(false)
	}
	if k.pending.Load() {
		k.pending.Store(false)
	}
}

// due tells the receive path (once per packet) that a held-back request may
// now be sent.
func (k *keyframeAsk) due(now int64) bool {
	return k.pending.Load() && now-k.lastPLI.Load() >= pliMinGap && k.budgetAllows(now)
}

// RequestKeyframe asks the publisher for a keyframe of every layer (PLI,
// RFC 4585 §6.3.1), within the bounds above.
func (t *UpTrack) RequestKeyframe() {
	for i := range t.layers {
		t.requestLayerKeyframe(int8(i))
	}
}

// requestLayerKeyframe asks for a keyframe of one layer, within the bounds above.
func (t *UpTrack) requestLayerKeyframe(idx int8) {
	if t.kind != webrtc.RTPCodecTypeVideo || idx < 0 || int(idx) >= maxLayers {
		return
	}
	l := t.layers[idx].Load()
	if l == nil {
		return
	}
	switch l.kf.request(t.now()) {
	case askSend:
		t.sendPLI(l)
	case askServed, askPending:
		t.stats.plisThrottled.Add(1)
	}
}

// sendPLI writes one PLI for layer l to its publisher.
func (t *UpTrack) sendPLI(l *layer) {
	t.stats.plisSent.Add(1)
	err := l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}})
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.log.Debug("send PLI", "rid", l.rid, "err", err)
	}
}
