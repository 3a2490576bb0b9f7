package media

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
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
	return newSessionWith(t, sessionOpts{}, rids...)
}

type sessionOpts struct {
	// subDelay: the subscriber starts its side of ICE (and so DTLS) only this
	// long after the engine bound the down track.
	subDelay time.Duration
	// subAPI, when set, builds the subscriber (e.g. one that loses packets);
	// pubAPI the publisher.
	subAPI, pubAPI *webrtc.API
	// eng, when set, is the engine (e.g. one with ICE-TCP); the session closes it.
	eng *Engine
}

func newSessionWith(t *testing.T, o sessionOpts, rids ...string) *session {
	t.Helper()
	s := &session{eng: o.eng, layers: make(chan string, 3)}
	if s.eng == nil {
		s.eng = newTestEngine(t)
	}
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
	if o.pubAPI != nil {
		s.pub = newPublisher(t, o.pubAPI, rids...)
	} else {
		s.pub = newPublisher(t, api, rids...)
	}
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
	if o.subAPI != nil {
		api = o.subAPI
	}
	s.sub = newSubscriber(t, api)
	if o.subDelay == 0 {
		signal(t, s.srvSub, s.sub.pc)
	} else {
		signalSlowAnswerer(t, s.srvSub, s.sub.pc, o.subDelay)
	}
	return s
}

func (s *session) close() {
	s.closeTracks()
	_ = s.eng.Close()
}

// closeTracks closes everything of the session but its engine.
func (s *session) closeTracks() {
	s.down.Close()
	_ = s.sub.pc.Close()
	_ = s.srvSub.Close()
	s.pub.close()
	_ = s.srvPub.Close()
	s.up.Close()
	<-s.up.Done()
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
	// What the engine forwards leaves through sendmmsg, one call per fan-out pass.
	if st.UDPBatched < st.PacketsForwarded || st.UDPSendCalls == 0 {
		t.Errorf("batched sends: %+v", st)
	}
	// The keyframe asked for on Bind reached the publisher.
	if s.pub.plis[0].Load() == 0 || st.PLIsSent == 0 {
		t.Errorf("no PLI upstream on subscribe: publisher saw %d, stats %+v", s.pub.plis[0].Load(), st)
	}
	// Sender reports (RFC 3550 §6.4.1) come from the down track itself: one
	// with the first packet, then one a second. Their RTP time is "now" in the
	// subscriber's timestamps, and they count what was sent.
	waitFor(t, 3*time.Second, "two sender reports", func() bool { return len(s.sub.senderReports()) >= 2 })
	got = s.sub.snapshot()
	for _, sr := range s.sub.senderReports() {
		last := got[len(got)-1]
		if d := int32(last.ts - sr.RTPTime); d < -90000 || d > 2*90000 {
			t.Errorf("sender report RTP time %d, newest packet's %d", sr.RTPTime, last.ts)
		}
		if sr.PacketCount == 0 || sr.PacketCount > uint32(len(got)) || sr.OctetCount == 0 || sr.NTPTime == 0 {
			t.Errorf("sender report %+v after %d packets", sr, len(got))
		}
	}
	s.close()
	select {
	case <-s.sub.done:
	case <-time.After(5 * time.Second):
		t.Error("subscriber read loop did not end")
	}
}

// TestFirstKeyframeAfterConnect: the engine binds a down track (and used to ask
// for its keyframe) when the subscriber's answer arrives, before ICE and DTLS
// are up; Pion drops what is written before SRTP is ready without an error. The
// subscriber must still start at a keyframe asked for once it can receive,
// not at the publisher's next periodic one (it used to wait a whole GOP: the
// first video ~1 s after joining with a keyframe every second).
func TestFirstKeyframeAfterConnect(t *testing.T) {
	defer checkGoroutines(t)()
	// The publisher sends a keyframe every 2 s and at once on PLI; 300 ms lets
	// a keyframe asked for at Bind come and go before the subscriber connects.
	s := newSessionWith(t, sessionOpts{subDelay: 300 * time.Millisecond}, "")
	defer s.close()
	connected := time.Now()
	waitFor(t, 10*time.Second, "packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 5 })
	got := s.sub.snapshot()
	if !got[0].st.keyframe {
		t.Errorf("first packet forwarded is not a keyframe: %+v", got[0].st)
	}
	// Well under the 2 s GOP: the keyframe was asked for when the transport came up.
	if wait := got[0].at.Sub(connected); wait > time.Second {
		t.Errorf("first packet %v after the subscriber started connecting", wait)
	}
	assertContinuous(t, got)
}

// TestNACKFromCache: a subscriber that loses packets NACKs them (Pion's NACK
// generator, as in browsers), and the engine resends each from the up track's
// packet cache under the number and timestamp it had the first time, so the
// subscriber ends up with every packet.
func TestNACKFromCache(t *testing.T) {
	defer checkGoroutines(t)()
	api, loss := lossyClientAPI(t, 7)
	defer loss.close()
	s := newSessionWith(t, sessionOpts{subAPI: api}, "")
	defer s.close()
	waitFor(t, 10*time.Second, "300 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 300 })
	dropped := loss.dropped()
	if len(dropped) < 20 {
		t.Fatalf("the subscriber lost only %d packets", len(dropped))
	}
	got := s.sub.snapshot()
	seen := map[uint16]recvd{}
	for _, r := range got {
		seen[r.seq] = r
	}
	first, last := got[0].seq, got[len(got)-1].seq
	missing := 0
	for seq, tsFirst := range dropped {
		if int16(seq-first) < 0 || int16(last-seq) < 50 {
			continue // before the subscriber started, or its NACK may still be on the way
		}
		r, ok := seen[seq]
		switch {
		case !ok:
			missing++
		case r.ts != tsFirst:
			t.Errorf("packet %d resent with timestamp %d, first sent with %d", seq, r.ts, tsFirst)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d lost packets never came again", missing, len(dropped))
	}
	st := s.eng.Stats()
	if st.NACKsReceived == 0 || st.Retransmits == 0 {
		t.Errorf("stats: %+v", st)
	}
	t.Logf("lost %d, stats %+v", len(dropped), st)
}

// layerAfter waits until the subscriber sees packets of layer after index
// from, and returns the index of the first one.
func (s *session) waitLayer(t *testing.T, layer, from int, what string) int {
	t.Helper()
	idx := -1
	waitFor(t, 10*time.Second, what, func() bool {
		got := s.sub.snapshot()
		for i := from; i < len(got); i++ {
			if got[i].st.layer == layer {
				idx = i
				return true
			}
		}
		return false
	})
	return idx
}

func TestSimulcastSwitch(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "q", "h", "f")
	defer s.close()
	rec := &collectSink{}
	s.up.AddSink(rec) // closed when the up track ends

	// All layers flow: the subscriber gets the best one.
	i := s.waitLayer(t, 2, 0, "layer f at the subscriber")
	got := s.sub.snapshot()
	if !got[i].st.keyframe {
		t.Errorf("switch to f not at a keyframe: %+v", got[i].st)
	}

	waitFor(t, 5*time.Second, "30 packets", func() bool { return len(s.sub.snapshot()) >= i+30 })

	// The publisher stops f (its uplink shrank): fall back to h at a keyframe.
	s.pub.paused[2].Store(true)
	from := len(s.sub.snapshot())
	i = s.waitLayer(t, 1, from, "fallback to layer h")
	got = s.sub.snapshot()
	if !got[i].st.keyframe {
		t.Errorf("fallback to h not at a keyframe: %+v", got[i].st)
	}
	if gap := got[i].at.Sub(got[i-1].at); gap > 3*time.Second {
		t.Errorf("fallback took %v", gap)
	}

	// A cap (small tile) moves to q; lifting it and resuming f goes back up.
	waitFor(t, 5*time.Second, "30 packets", func() bool { return len(s.sub.snapshot()) >= i+30 })
	s.down.SetMaxLayer(0)
	i = s.waitLayer(t, 0, len(s.sub.snapshot()), "cap to layer q")
	if got = s.sub.snapshot(); !got[i].st.keyframe {
		t.Errorf("switch to q not at a keyframe: %+v", got[i].st)
	}
	s.pub.paused[2].Store(false)
	s.down.SetMaxLayer(2)
	s.waitLayer(t, 2, len(s.sub.snapshot()), "back to layer f")
	waitFor(t, 5*time.Second, "more f packets", func() bool { return len(s.sub.snapshot()) > i+50 })

	got = s.sub.snapshot()
	assertContinuous(t, got)
	// Never a packet of the old layer after a switch: layers only change at keyframes.
	for k := 1; k < len(got); k++ {
		if got[k].st.layer != got[k-1].st.layer && !got[k].st.keyframe {
			t.Errorf("packet %d: layer %d -> %d without keyframe", k, got[k-1].st.layer, got[k].st.layer)
		}
	}
	var trace []byte
	for k, r := range got {
		if k == 0 || r.st.layer != got[k-1].st.layer {
			trace = fmt.Appendf(trace, " [%d:L%d kf=%v +%v]", k, r.st.layer, r.st.keyframe, r.at.Sub(got[0].at).Round(time.Millisecond))
		}
	}
	t.Logf("received %d packets, switches:%s", len(got), trace)

	// The recorder sees one continuous stream too, and sender reports in its timestamps.
	rgot, srs := rec.snapshot()
	if len(rgot) < 50 {
		t.Errorf("sink got %d packets", len(rgot))
	}
	assertContinuous(t, rgot)
	if len(srs) == 0 {
		t.Error("sink got no sender report")
	}
	for _, sr := range srs {
		// An SR's RTP time is "now" in the stream: close to a packet the sink got.
		near := false
		for _, r := range rgot {
			if d := int32(sr.ts - r.ts); d > -90000 && d < 90000 {
				near = true
				break
			}
		}
		if !near {
			t.Errorf("sender report rtp time %d is not near any recorded timestamp", sr.ts)
		}
	}
	t.Logf("stats %+v", s.eng.Stats())
}

// TestMute: a server-side mute forwards nothing; unmute resumes at a
// keyframe with the subscriber's numbering continuous.
func TestMute(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	waitFor(t, 10*time.Second, "packets", func() bool { return len(s.sub.snapshot()) >= 30 })
	s.up.SetMuted(true)
	time.Sleep(100 * time.Millisecond) // packets in flight
	n := len(s.sub.snapshot())
	time.Sleep(400 * time.Millisecond)
	if m := len(s.sub.snapshot()); m != n {
		t.Errorf("%d packets forwarded while muted", m-n)
	}
	if s.eng.Stats().DropsMuted == 0 {
		t.Error("no muted drops counted")
	}
	s.up.SetMuted(false)
	waitFor(t, 5*time.Second, "packets after unmute", func() bool { return len(s.sub.snapshot()) >= n+30 })
	got := s.sub.snapshot()
	if !got[n].st.keyframe {
		t.Errorf("first packet after unmute is not a keyframe: %+v", got[n].st)
	}
	assertContinuous(t, got)
}

// TestICETCP: a client that can only do TCP connects through the ICE-TCP mux.
func TestICETCP(t *testing.T) {
	defer checkGoroutines(t)()
	eng, err := NewEngine(Config{TCPPort: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.TCPAddr() == nil || eng.TCPAddr().Port == 0 {
		t.Fatalf("no TCP address: %v", eng.TCPAddr())
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	client, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	srv, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := client.CreateDataChannel("x", nil); err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	srv.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	signal(t, client, srv)
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("no connection over ICE-TCP")
	}
	pair, err := srv.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Protocol != webrtc.ICEProtocolTCP {
		t.Errorf("selected pair %v, err %v", pair, err)
	}
}

// collectSink is a recorder stand-in that keeps what it gets.
type collectSink struct {
	mu     sync.Mutex
	got    []recvd
	srs    []recvd
	closed bool
}

func (c *collectSink) WriteRTP(p *rtp.Packet) error {
	st, _ := parseStamp(p.Payload)
	c.mu.Lock()
	c.got = append(c.got, recvd{seq: p.SequenceNumber, ts: p.Timestamp, st: st, at: time.Now()})
	c.mu.Unlock()
	return nil
}

func (c *collectSink) WriteSenderReport(ntp uint64, ts uint32) {
	c.mu.Lock()
	c.srs = append(c.srs, recvd{ts: ts, at: time.Now()})
	c.mu.Unlock()
}

func (c *collectSink) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *collectSink) snapshot() ([]recvd, []recvd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recvd(nil), c.got...), append([]recvd(nil), c.srs...)
}

// TestPLIPendingAfterWindow: a keyframe request that comes within pliMinGap of
// the last PLI, after that PLI's keyframe came, is not lost; it goes upstream
// once the gap has passed (a subscriber that joins just after another must not
// wait for the next periodic keyframe).
func TestPLIPendingAfterWindow(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	waitFor(t, 10*time.Second, "packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 20 })
	time.Sleep(time.Duration(pliRetry))
	before := s.pub.plis[0].Load()
	n := len(s.sub.snapshot())
	if err := s.sub.sendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the first PLI upstream", func() bool { return s.pub.plis[0].Load() == before+1 })
	waitFor(t, time.Second, "its keyframe", func() bool { return firstKeyframeFrom(s.sub.snapshot(), n) >= 0 })
	if err := s.sub.sendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the held-back PLI sent once the gap passed", func() bool { return s.pub.plis[0].Load() == before+2 })
}
