package media

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestFastPathForwarding: with real Pion peers, a publisher's media goes
// through the socket readers' fast path (counted) and reaches the
// subscriber intact and in order, with one socket and with two. The
// publisher connection stays connected although Pion's ICE agent no longer
// sees its media (STUN and RTCP still reach it): checked past Pion's 5 s
// disconnect timeout. A layer closed while packets come gets none after its
// close; a publisher that leaves is dropped from the table, and a new one
// takes the fast path again.
func TestFastPathForwarding(t *testing.T) {
	for _, k := range []int{1, 2} {
		t.Run("sockets="+strconv.Itoa(k), func(t *testing.T) {
			defer checkGoroutines(t)()
			eng, err := NewEngine(Config{Logger: testLogger(), rxSockets: k})
			if err != nil {
				t.Fatal(err)
			}
			s := newSessionWith(t, sessionOpts{eng: eng}, "")
			var mu sync.Mutex // guards states
			var states []webrtc.ICEConnectionState
			s.srvPub.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
				mu.Lock()
				states = append(states, st)
				mu.Unlock()
			})
			start := time.Now()
			waitFor(t, 10*time.Second, "200 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 200 })
			st := s.eng.Stats()
			if st.RxFast < 100 || st.RxFast < st.PacketsIn/2 {
				t.Fatalf("%d of %d packets in took the fast path", st.RxFast, st.PacketsIn)
			}
			if st.RxFastDropped != 0 {
				t.Errorf("fast path dropped %d packets", st.RxFastDropped)
			}
			if k == 1 {
				// Liveness: past the disconnect timeout (5 s) with media on
				// the fast path only.
				time.Sleep(8*time.Second - time.Since(start))
				mu.Lock()
				if len(states) != 0 {
					t.Errorf("publisher connection's ICE went %v while publishing", states)
				}
				mu.Unlock()
				st2 := s.eng.Stats()
				if st2.RxFast-st.RxFast < 500 {
					t.Errorf("%d packets took the fast path in the last seconds", st2.RxFast-st.RxFast)
				}
				// The subscriber's receiver reports (one a second) too, and
				// the down track read them.
				if st2.RxFastRTCP < 3 {
					t.Errorf("%d RTCP datagrams took the fast path", st2.RxFastRTCP)
				}
				s.down.rx.mu.Lock()
				reports := s.down.rx.reports
				s.down.rx.mu.Unlock()
				if reports < 3 {
					t.Errorf("the down track saw %d receiver reports", reports)
				}
			}
			got := s.sub.snapshot()
			assertContinuous(t, got)
			// Payloads as sent: the publisher's stamp (layer, frame, send
			// time) in every packet, two packets a frame.
			for i, r := range got {
				if r.st.layer != 0 || r.st.sent < start.Add(-time.Minute).UnixNano() || r.st.sent > time.Now().UnixNano() ||
					(i > 0 && r.st.frame != got[i-1].st.frame && r.st.frame != got[i-1].st.frame+1) {
					t.Fatalf("packet %d arrived as %+v after %+v", i, r.st, got[max(i-1, 0)].st)
				}
			}

			// The layer goes while the publisher still sends.
			s.up.Close()
			<-s.up.Done()
			in := s.eng.Stats().PacketsIn
			time.Sleep(200 * time.Millisecond)
			if n := s.eng.Stats().PacketsIn; n != in {
				t.Errorf("%d packets reached a closed layer", n-in)
			}

			// The publisher leaves; its connection leaves the table (the
			// subscriber's, also built by NewPeerConnection here, stays).
			before := s.eng.fast.size()
			s.pub.close()
			_ = s.srvPub.Close()
			waitFor(t, 5*time.Second, "the publisher out of the fast table", func() bool { return s.eng.fast.size() == before-1 })

			// A new one takes the fast path.
			srvPub, err := s.eng.NewPeerConnection(nil)
			if err != nil {
				t.Fatal(err)
			}
			up := s.eng.NewUpTrack(UpTrackConfig{ID: "TR_two", StreamID: "PA_two", Kind: webrtc.RTPCodecTypeVideo})
			srvPub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) { up.AddLayer(r, recv, srvPub) })
			pub := newPublisher(t, clientAPI(t), "")
			signal(t, pub.pc, srvPub)
			pub.start()
			fast := s.eng.Stats().RxFast
			waitFor(t, 10*time.Second, "the new publisher on the fast path", func() bool { return s.eng.Stats().RxFast >= fast+100 })

			pub.close()
			_ = srvPub.Close()
			up.Close()
			<-up.Done()
			s.down.Close()
			_ = s.sub.pc.Close()
			_ = s.srvSub.Close()
			waitFor(t, 5*time.Second, "the fast table empty", func() bool { return s.eng.fast.size() == 0 })
			_ = s.eng.Close()
		})
	}
}
