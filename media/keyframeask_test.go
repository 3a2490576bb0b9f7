package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// extraSub is a second subscriber of a session's up track.
type extraSub struct {
	srv  *webrtc.PeerConnection
	down *DownTrack
	sub  *subscriber
}

func (s *session) addSubscriber(t *testing.T) *extraSub {
	t.Helper()
	srv, err := s.eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &extraSub{srv: srv, down: s.up.NewDownTrack("TR_test", "PA_pub|TR_test")}
	sender, err := srv.AddTrack(x.down)
	if err != nil {
		t.Fatal(err)
	}
	x.down.Attach(sender)
	x.sub = newSubscriber(t, clientAPI(t))
	signal(t, srv, x.sub.pc)
	return x
}

func (x *extraSub) close() {
	x.down.Close()
	_ = x.sub.pc.Close()
	_ = x.srv.Close()
}

// firstKeyframeFrom is the index of the first keyframe packet in got[from:], or -1.
func firstKeyframeFrom(got []recvd, from int) int {
	for i := from; i < len(got); i++ {
		if got[i].st.keyframe {
			return i
		}
	}
	return -1
}

// TestKeyframeInFlightServesJoiner: a subscriber that needs a keyframe while
// one is already asked for and not yet come gets that one; the publisher is
// not asked again. Before, the request was held for the end of a 250 ms
// window and then sent: a second keyframe nobody needed.
func TestKeyframeInFlightServesJoiner(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	b := s.addSubscriber(t)
	defer b.close()
	waitFor(t, 10*time.Second, "packets at both subscribers", func() bool {
		return len(s.sub.snapshot()) >= 5 && len(b.sub.snapshot()) >= 5
	})
	b.down.SetPaused(true) // a hidden tile: B will need a keyframe when it shows again
	time.Sleep(time.Duration(pliRetry))

	s.pub.holdKF.Store(true) // the publisher takes its time to answer
	before := s.pub.plis[0].Load()
	sent := s.eng.Stats().PLIsSent
	nA, nB := len(s.sub.snapshot()), len(b.sub.snapshot())
	if err := s.sub.sendPLI(); err != nil {
		t.Fatal(err)
	}
	// B asks right after the engine sent A's PLI (well within pliRetry), while
	// A's keyframe is on its way.
	deadline := time.Now().Add(2 * time.Second)
	for s.eng.Stats().PLIsSent == sent {
		if time.Now().After(deadline) {
			t.Fatal("A's PLI was not sent upstream")
		}
		time.Sleep(time.Millisecond)
	}
	b.down.SetPaused(false)
	waitFor(t, 2*time.Second, "A's PLI at the publisher", func() bool { return s.pub.plis[0].Load() == before+1 })
	// Longer than the old window, shorter than a forwarder's own retry (1 s).
	time.Sleep(time.Duration(pliRetry) + 100*time.Millisecond)
	if n := s.pub.plis[0].Load() - before; n != 1 {
		t.Errorf("publisher got %d PLIs while one keyframe was on its way, want 1", n)
	}
	s.pub.holdKF.Store(false)
	waitFor(t, 2*time.Second, "the keyframe at both", func() bool {
		return firstKeyframeFrom(s.sub.snapshot(), nA) >= 0 && len(b.sub.snapshot()) > nB
	})
	gotA, gotB := s.sub.snapshot(), b.sub.snapshot()
	if !gotB[nB].st.keyframe {
		t.Errorf("B's first packet after showing again is not a keyframe: %+v", gotB[nB].st)
	}
	if ka := gotA[firstKeyframeFrom(gotA, nA)].st.frame; gotB[nB].st.frame != ka {
		t.Errorf("B started at frame %d, A's keyframe was frame %d: not the same keyframe", gotB[nB].st.frame, ka)
	}
	if n := s.pub.plis[0].Load() - before; n != 1 {
		t.Errorf("publisher got %d PLIs, want 1", n)
	}
}

// TestKeyframeAskedAtOnceAfterArrival: once the keyframe asked for has come,
// the next subscriber that needs one gets its PLI sent at once (past the
// minimum gap), not at the end of a fixed window. This is what a joiner right
// after another waits for.
func TestKeyframeAskedAtOnceAfterArrival(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	b := s.addSubscriber(t)
	defer b.close()
	waitFor(t, 10*time.Second, "packets at both subscribers", func() bool {
		return len(s.sub.snapshot()) >= 5 && len(b.sub.snapshot()) >= 5
	})
	b.down.SetPaused(true)
	time.Sleep(time.Duration(pliRetry))

	before := s.eng.Stats().PLIsSent
	nA := len(s.sub.snapshot())
	asked := time.Now()
	if err := s.sub.sendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the keyframe answering A's PLI", func() bool { return firstKeyframeFrom(s.sub.snapshot(), nA) >= 0 })
	time.Sleep(time.Duration(pliMinGap))
	since := time.Since(asked)
	b.down.SetPaused(false) // asks synchronously
	if n := s.eng.Stats().PLIsSent - before; n != 2 {
		t.Errorf("%v after A's PLI, whose keyframe has come, B's request sent %d PLIs in all, want 2 (A's and B's at once)", since, n)
	}
	nB := len(b.sub.snapshot())
	waitFor(t, 2*time.Second, "B's keyframe", func() bool { return len(b.sub.snapshot()) > nB })
	if got := b.sub.snapshot(); !got[nB].st.keyframe {
		t.Errorf("B's first packet after showing again is not a keyframe: %+v", got[nB].st)
	}
}

// TestPLIThrottle: a subscriber asking for keyframes every 50 ms gets the
// publisher at most one PLI per pliMinGap while the publisher answers, and at
// most one per pliRetry while it does not.
func TestPLIThrottle(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	waitFor(t, 10*time.Second, "packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 20 })
	time.Sleep(time.Duration(pliRetry)) // let the first PLI's gap pass
	storm := func(what string, per time.Duration) {
		t.Helper()
		before := s.pub.plis[0].Load()
		start := time.Now()
		for range 20 {
			if err := s.sub.sendPLI(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(start)
		time.Sleep(200 * time.Millisecond) // a request held back is sent meanwhile
		n := s.pub.plis[0].Load() - before
		// The first at once, one per bound after it, and one held back at the end.
		if maxPLIs := int64(elapsed/per) + 2; n < 1 || n > maxPLIs {
			t.Errorf("%s: publisher got %d PLIs for 20 subscriber PLIs in %v, want 1..%d", what, n, elapsed, maxPLIs)
		}
	}
	storm("publisher answering", time.Duration(pliMinGap))
	s.pub.holdKF.Store(true)
	time.Sleep(time.Duration(pliRetry))
	storm("publisher not answering", time.Duration(pliRetry))
	s.pub.holdKF.Store(false)
	st := s.eng.Stats()
	if st.KeyframeRequests < 40 || st.PLIsThrottled == 0 {
		t.Errorf("stats: %+v", st)
	}
}
