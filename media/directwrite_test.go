package media

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// TestDirectWrite: a subscriber connection whose keys the engine knows and
// whose ICE pair is UDP through the mux gets its RTP from the direct writer,
// forwards and retransmissions alike, and the subscriber's Pion accepts it
// (decrypts, and NACKs what its socket lost; the resends come direct too).
func TestDirectWrite(t *testing.T) {
	defer checkGoroutines(t)()
	api, loss := lossyClientAPI(t, 7)
	defer loss.close()
	s := newSessionWith(t, sessionOpts{subAPI: api}, "")
	defer s.close()
	waitFor(t, 10*time.Second, "300 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 300 })
	got := s.sub.snapshot()
	if !got[0].st.keyframe {
		t.Errorf("first packet is not a keyframe: %+v", got[0].st)
	}
	dropped := loss.dropped()
	seen := map[uint16]bool{}
	for _, r := range got {
		seen[r.seq] = true
	}
	missing := 0
	first, last := got[0].seq, got[len(got)-1].seq
	for seq := range dropped {
		if int16(seq-first) >= 0 && int16(last-seq) >= 50 && !seen[seq] {
			missing++
		}
	}
	if len(dropped) < 20 || missing > 0 {
		t.Errorf("socket lost %d packets, %d of them never came again", len(dropped), missing)
	}
	st := s.eng.Stats()
	// Every packet the subscriber's socket saw (those it kept and those it
	// lost) left through the direct writer.
	if st.DirectRTP < uint64(len(got)+len(dropped)) || st.DirectDrops != 0 || st.Retransmits == 0 {
		t.Errorf("direct writes %d (drops %d), subscriber saw %d + lost %d, retransmits %d",
			st.DirectRTP, st.DirectDrops, len(got), len(dropped), st.Retransmits)
	}
	// ... in send batches.
	if st.UDPBatched < st.DirectRTP {
		t.Errorf("batched %d < direct %d", st.UDPBatched, st.DirectRTP)
	}
	// Sender reports stay with Pion's SRTCP and still arrive.
	waitFor(t, 3*time.Second, "a sender report", func() bool { return len(s.sub.senderReports()) >= 1 })
	t.Logf("stats %+v", st)
}

// TestDirectWriteFallback: where the direct writer cannot be used, Pion's
// writer carries everything: a subscriber on ICE-TCP, and one that answers as
// DTLS server (so the engine, as client, does not know the keys).
func TestDirectWriteFallback(t *testing.T) {
	defer checkGoroutines(t)()
	for _, c := range []struct {
		name string
		eng  func() *Engine
		opt  func(*webrtc.SettingEngine)
	}{
		{"ICE-TCP", func() *Engine {
			e, err := NewEngine(Config{TCPPort: -1, Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, func(se *webrtc.SettingEngine) { se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4}) }},
		{"engine as DTLS client", func() *Engine { return newTestEngine(t) }, func(se *webrtc.SettingEngine) {
			if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSessionWith(t, sessionOpts{eng: c.eng(), subAPI: clientAPI(t, c.opt)}, "")
			defer s.close()
			waitFor(t, 15*time.Second, "100 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 100 })
			assertContinuous(t, s.sub.snapshot())
			if st := s.eng.Stats(); st.DirectRTP != 0 || st.DirectDrops != 0 {
				t.Errorf("direct writes %d, drops %d; want none", st.DirectRTP, st.DirectDrops)
			}
			pair, err := s.srvSub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
			if err != nil || pair == nil {
				t.Fatalf("selected pair %v, err %v", pair, err)
			}
			t.Logf("selected pair %s", pair)
		})
	}
}

// TestDirectWriteAllocs: a direct write (marshal, encrypt into the batch slot,
// queue) allocates nothing, in a pass and outside one.
func TestDirectWriteAllocs(t *testing.T) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	bc := newBatchConn(uc)
	defer bc.Close()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, err := srtp.CreateContext(make([]byte, 16), make([]byte, 12), srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	dc := &directConn{batch: bc, port: uc.LocalAddr().(*net.UDPAddr).Port, ctx: ctx}
	dc.parsed.Extensions = make([]rtp.Extension, 0, 4)
	sa := sink.LocalAddr().(*net.UDPAddr)
	dc.pairChanged(&webrtc.ICECandidatePair{
		Local:  &webrtc.ICECandidate{Protocol: webrtc.ICEProtocolUDP, Typ: webrtc.ICECandidateTypeHost, Port: uint16(dc.port)},
		Remote: &webrtc.ICECandidate{Protocol: webrtc.ICEProtocolUDP, Typ: webrtc.ICECandidateTypeHost, Address: "127.0.0.1", Port: uint16(sa.Port)},
	})
	if dc.route.Load() == 0 {
		t.Fatal("no route")
	}
	h := &rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, Timestamp: 1}
	if err := h.SetExtension(1, []byte{0x80}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1100)
	write := func() {
		h.SequenceNumber++
		if _, err := dc.WriteRTP(h, payload); err != nil {
			t.Fatal(err)
		}
	}
	pass := func() {
		bc.beginPass()
		for range 8 {
			write()
		}
		bc.endPass()
	}
	for range 20 {
		pass()
		write()
	}
	if a := testing.AllocsPerRun(200, pass); a != 0 {
		t.Errorf("a pass of 8 direct writes allocates %.1f, want 0", a)
	}
	if a := testing.AllocsPerRun(200, write); a != 0 {
		t.Errorf("a direct write outside a pass allocates %.1f, want 0", a)
	}
	// What arrives decrypts with the same keys.
	dec, _ := srtp.CreateContext(make([]byte, 16), make([]byte, 12), srtp.ProtectionProfileAeadAes128Gcm)
	buf := make([]byte, 1500)
	_ = sink.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := sink.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var p rtp.Packet
	plain, err := dec.DecryptRTP(nil, buf[:n], nil)
	if err != nil || p.Unmarshal(plain) != nil || len(p.Payload) != len(payload) || p.SSRC != 1234 || len(p.GetExtension(1)) != 1 {
		t.Errorf("received %d bytes: err %v, packet %v", n, err, p.Header)
	}
	if st := bc.direct.Load(); st < 200*9 {
		t.Errorf("direct writes counted: %d", st)
	}
}
