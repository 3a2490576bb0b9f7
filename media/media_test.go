package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// session wires publisher -> engine (up track) -> engine (down track) -> subscriber.
type session struct {
	eng    *Engine
	pub    *publisher
	srvPub *webrtc.PeerConnection
	up     *UpTrack
	layers chan string
	srvSub *webrtc.PeerConnection
	down   *DownTrack
	sub    *subscriber
}

func newSession(t *testing.T, rids ...string) *session {
	t.Helper()
	s := &session{eng: newTestEngine(t), layers: make(chan string, 3)}
	api := clientAPI(t)
	var err error
	s.srvPub, err = s.eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.up = s.eng.NewUpTrack(UpTrackConfig{ID: "TR_test", StreamID: "PA_pub", Kind: webrtc.RTPCodecTypeVideo})
	s.srvPub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		s.up.AddLayer(r, recv, s.srvPub)
		s.layers <- r.RID()
	})
	s.pub = newPublisher(t, api, rids...)
	signal(t, s.pub.pc, s.srvPub)
	s.pub.start()
	for range rids {
		select {
		case <-s.layers:
		case <-time.After(10 * time.Second):
			t.Fatal("publisher layers did not arrive")
		}
	}

	s.srvSub, err = s.eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.down = s.up.NewDownTrack("TR_test", "PA_pub|TR_test")
	sender, err := s.srvSub.AddTrack(s.down)
	if err != nil {
		t.Fatal(err)
	}
	s.down.Attach(sender)
	s.sub = newSubscriber(t, api)
	signal(t, s.srvSub, s.sub.pc)
	return s
}

func (s *session) close() {
	s.down.Close()
	_ = s.sub.pc.Close()
	_ = s.srvSub.Close()
	s.pub.close()
	_ = s.srvPub.Close()
	s.up.Close()
	<-s.up.Done()
	_ = s.eng.Close()
}

func TestForwardPlain(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	waitFor(t, 10*time.Second, "100 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 100 })
	got := s.sub.snapshot()
	if !got[0].st.keyframe {
		t.Errorf("first packet forwarded is not a keyframe: %+v", got[0].st)
	}
	assertContinuous(t, got)
	st := s.eng.Stats()
	if st.PacketsForwarded < 100 || st.PacketsIn < st.PacketsForwarded || st.BytesForwarded == 0 {
		t.Errorf("stats: %+v", st)
	}
	// The keyframe asked for on Bind reached the publisher.
	if s.pub.plis[0].Load() == 0 || st.PLIsSent == 0 {
		t.Errorf("no PLI upstream on subscribe: publisher saw %d, stats %+v", s.pub.plis[0].Load(), st)
	}
	s.close()
	select {
	case <-s.sub.done:
	case <-time.After(5 * time.Second):
		t.Error("subscriber read loop did not end")
	}
}
