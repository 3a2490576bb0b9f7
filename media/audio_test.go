package media

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

func extID(exts []webrtc.RTPHeaderExtensionParameter, uri string) uint8 {
	for _, x := range exts {
		if x.URI == uri {
			return uint8(x.ID)
		}
	}
	return 0
}

// TestAudioLevel forwards Opus and checks that the audio-level extension
// arrives under the subscriber's id with the publisher's value, and that
// nothing else of the publisher's extensions leaks through.
func TestAudioLevel(t *testing.T) {
	defer checkGoroutines(t)()
	eng := newTestEngine(t)
	defer eng.Close()
	api := clientAPI(t)

	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	track, err := webrtc.NewTrackLocalStaticRTP(opusCap(), "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pub.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	pubAL := extID(sender.GetParameters().HeaderExtensions, sdp.AudioLevelURI)
	if pubAL == 0 {
		t.Fatal("publisher has no audio-level id")
	}

	srvPub, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srvPub.Close()
	up := eng.NewUpTrack(UpTrackConfig{ID: "TR_a", StreamID: "PA_a", Kind: webrtc.RTPCodecTypeAudio})
	defer up.Close()
	added := make(chan struct{}, 1)
	srvPub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		up.AddLayer(r, recv, srvPub)
		added <- struct{}{}
	})
	signal(t, pub, srvPub)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 20 ms Opus frames with a changing level
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: []byte{0xfc, byte(i)}}
			_ = pkt.Header.SetExtension(pubAL, []byte{byte(i % 127)})
			_ = track.WriteRTP(pkt)
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	select {
	case <-added:
	case <-time.After(10 * time.Second):
		t.Fatal("audio track did not arrive")
	}

	srvSub, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srvSub.Close()
	down := up.NewDownTrack("TR_a", "PA_a|TR_a")
	defer down.Close()
	s, err := srvSub.AddTrack(down)
	if err != nil {
		t.Fatal(err)
	}
	down.Attach(s)

	sub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	type got struct {
		seq   uint16
		level []byte
		exts  int
		pl    byte
	}
	res := make(chan got, 100)
	sub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		subAL := extID(recv.GetParameters().HeaderExtensions, sdp.AudioLevelURI)
		for {
			p, _, err := r.ReadRTP()
			if err != nil {
				return
			}
			g := got{seq: p.SequenceNumber, exts: len(p.GetExtensionIDs())}
			if subAL != 0 {
				g.level = p.GetExtension(subAL)
			}
			if len(p.Payload) == 2 {
				g.pl = p.Payload[1]
			}
			select {
			case res <- g:
			default:
			}
		}
	})
	signal(t, srvSub, sub)

	var prev *got
	for range 20 {
		select {
		case g := <-res:
			if len(g.level) != 1 || g.level[0] != g.pl%127 {
				t.Fatalf("audio level %v for packet %d", g.level, g.pl)
			}
			if prev != nil && g.seq != prev.seq+1 {
				t.Errorf("seq %d after %d", g.seq, prev.seq)
			}
			prev = &g
		case <-time.After(10 * time.Second):
			t.Fatal("no audio at the subscriber")
		}
	}
	if lvl, _ := up.AudioLevel(); lvl <= 0 {
		t.Errorf("no audio level measured from the extension")
	}
}

func TestAudioLevelSpeech(t *testing.T) {
	cases := []struct {
		name     string
		levels   []uint8
		speaking bool
		min, max float64
	}{
		{"loud speech", []uint8{10, 10, 10, 10}, true, 0.31, 0.32},
		{"silence", []uint8{127, 127, 127}, false, 0, 0},
		{"background noise", []uint8{60, 70, 80}, false, 0, 0},
		{"a word in silence", []uint8{20, 127, 127, 127, 127, 127}, false, 0.09, 0.11},
		{"half speech", []uint8{30, 127, 30, 127}, true, 0.03, 0.04},
		{"nothing", nil, false, 0, 0},
	}
	for _, c := range cases {
		up := NewUpTrack(UpTrackConfig{ID: "a", Kind: webrtc.RTPCodecTypeAudio})
		for _, l := range c.levels {
			up.level.observe(l)
		}
		lvl, sp := up.AudioLevel()
		if sp != c.speaking || lvl < c.min || lvl > c.max {
			t.Errorf("%s: level %.3f speaking %v, want [%.2f, %.2f] %v", c.name, lvl, sp, c.min, c.max, c.speaking)
		}
		if lvl, sp := up.AudioLevel(); lvl != 0 || sp {
			t.Errorf("%s: the second read did not start afresh", c.name)
		}
	}
}

// TestAudioNACKFromCache: audio NACKs (negotiated for Opus) are answered from
// the audio track's packet cache, like video's.
func TestAudioNACKFromCache(t *testing.T) {
	defer checkGoroutines(t)()
	eng := newTestEngine(t)
	defer eng.Close()
	pubAPI := clientAPI(t)
	subAPI, loss := lossyClientAPI(t, 7)
	defer loss.close()

	pub, err := pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	track, err := webrtc.NewTrackLocalStaticRTP(opusCap(), "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	srvPub, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srvPub.Close()
	up := eng.NewUpTrack(UpTrackConfig{ID: "TR_a", StreamID: "PA_a", Kind: webrtc.RTPCodecTypeAudio})
	defer up.Close()
	added := make(chan struct{}, 1)
	srvPub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		up.AddLayer(r, recv, srvPub)
		added <- struct{}{}
	})
	signal(t, pub, srvPub)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 20 ms Opus frames; ends on stop
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: []byte{0xfc, byte(i)}})
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	select {
	case <-added:
	case <-time.After(10 * time.Second):
		t.Fatal("audio track did not arrive")
	}

	srvSub, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srvSub.Close()
	down := up.NewDownTrack("TR_a", "PA_a|TR_a")
	defer down.Close()
	s, err := srvSub.AddTrack(down)
	if err != nil {
		t.Fatal(err)
	}
	down.Attach(s)
	sub := newSubscriber(t, subAPI)
	defer sub.pc.Close()
	signal(t, srvSub, sub.pc)

	waitFor(t, 10*time.Second, "100 audio packets", func() bool { return len(sub.snapshot()) >= 100 })
	got := sub.snapshot()
	seen := map[uint16]bool{}
	for _, r := range got {
		seen[r.seq] = true
	}
	first, last := got[0].seq, got[len(got)-1].seq
	lost, missing := 0, 0
	for seq := range loss.dropped() {
		if int16(seq-first) < 0 || int16(last-seq) < 20 {
			continue
		}
		lost++
		if !seen[seq] {
			missing++
		}
	}
	if lost < 5 || missing > 0 {
		t.Errorf("%d of %d lost audio packets never came again", missing, lost)
	}
	if st := eng.Stats(); st.Retransmits == 0 {
		t.Errorf("no retransmissions: %+v", st)
	}
}
