package media

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// lossySend loses one sent RTP packet in every, the first time it is sent
// (the publisher's retransmission gets through): the server sees a hole. The
// RTP header is in the clear under SRTP, so the sequence number can be read.
type lossySend struct {
	net.PacketConn
	every uint16

	mu   sync.Mutex      // guards lost
	lost map[uint16]bool // sequence numbers dropped once
}

func (l *lossySend) WriteTo(b []byte, addr net.Addr) (int, error) {
	// RTP version 2, and not RTCP (payload types 64-95 with the marker, RFC 5761 §4).
	if len(b) >= 12 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223) {
		if seq := binary.BigEndian.Uint16(b[2:4]); seq%l.every == 0 {
			l.mu.Lock()
			again := l.lost[seq]
			l.lost[seq] = true
			l.mu.Unlock()
			if !again {
				return len(b), nil
			}
		}
	}
	return l.PacketConn.WriteTo(b, addr)
}

func (l *lossySend) dropped() []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]uint16, 0, len(l.lost))
	for seq := range l.lost {
		out = append(out, seq)
	}
	return out
}

// uplinkClientAPI is a publisher's API that stamps transport-wide sequence
// numbers (as browsers do) and loses one packet in every on the way out.
func uplinkClientAPI(t *testing.T, every uint16) (*webrtc.API, *lossySend, func()) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &lossySend{PacketConn: conn, every: every, lost: map[uint16]bool{}}
	mux := webrtc.NewICEUDPMux(nil, l)
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: webrtc.TypeRTCPFBTransportCC}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	se := clientSettings()
	se.SetICEUDPMux(mux)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return api, l, func() { _ = mux.Close() }
}

// TestUplinkFeedback: with Pion's up-path interceptors gone, the up track's
// layer itself NACKs what the publisher's link lost, and sends receiver
// reports and transport-wide congestion control feedback.
func TestUplinkFeedback(t *testing.T) {
	defer checkGoroutines(t)()
	api, loss, closeMux := uplinkClientAPI(t, 9)
	defer closeMux()
	s := newSessionWith(t, sessionOpts{pubAPI: api}, "")
	defer s.close()
	waitFor(t, 15*time.Second, "300 packets at the subscriber and a receiver report at the publisher", func() bool {
		return len(s.sub.snapshot()) >= 300 && s.pub.rrs.Load() > 0
	})
	time.Sleep(300 * time.Millisecond) // the last holes' retransmissions
	got := s.sub.snapshot()
	seen := map[uint16]bool{}
	for _, r := range got {
		seen[r.seq] = true
	}
	// The subscriber's numbering is the publisher's plus a constant: a hole
	// in it is a publisher packet the server never got.
	lo, hi := got[0].seq, got[0].seq
	for _, r := range got {
		if int16(r.seq-lo) < 0 {
			lo = r.seq
		}
		if int16(r.seq-hi) > 0 {
			hi = r.seq
		}
	}
	holes := 0
	for seq := lo; seq != hi-20; seq++ {
		if !seen[seq] {
			holes++
		}
	}
	if n := len(loss.dropped()); n < 20 {
		t.Fatalf("the publisher's link lost only %d packets", n)
	}
	if holes > 0 {
		t.Errorf("%d packets the publisher's link lost never reached the subscriber (lost %d, NACKs at the publisher %d)",
			holes, len(loss.dropped()), s.pub.nacks.Load())
	}
	if s.pub.nacks.Load() == 0 {
		t.Error("the publisher got no NACK")
	}
	rr := s.pub.lastRR.Load()
	if rr == nil || rr.LastSequenceNumber == 0 {
		t.Errorf("receiver report: %+v", rr)
	}
	if s.pub.twccFB.Load() == 0 {
		t.Error("the publisher got no transport-wide congestion control feedback")
	}
	t.Logf("lost %d, NACKs %d, RRs %d, TWCC feedback %d, last RR %+v", len(loss.dropped()), s.pub.nacks.Load(), s.pub.rrs.Load(), s.pub.twccFB.Load(), rr)
}

// TestReceiveAllocs proves the receive path (parse, cache, NACK and report
// bookkeeping, TWCC record, fan-out) allocates nothing per packet; only the
// feedback it sends now and then does.
func TestReceiveAllocs(t *testing.T) {
	up, _, w := unitTrack(t, 8)
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{}) // never connected: feedback writes fail
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	l := &layer{ssrc: 42, cache: newPacketCache(videoCacheLen), twccID: 3, rxs: newRxSession(), pc: pc}
	l.rs.fb.init(true, 90000)
	up.layers[0].Store(l)
	up.flowing.Store(1)
	buf := make([]byte, 1500)
	var n uint16
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 42}
	twccSeq := []byte{0, 0}
	_ = h.SetExtension(3, twccSeq)
	next := func() {
		n++
		h.SequenceNumber, h.Timestamp, h.Marker = n, uint32(n/6)*3000, n%6 == 0
		twccSeq[0], twccSeq[1] = byte(n>>8), byte(n)
		hl, err := h.MarshalTo(buf)
		if err != nil {
			t.Fatal(err)
		}
		payload := buf[hl : hl+1000]
		payload[0], payload[1] = 0x10, 0x01
		if n%300 == 1 {
			payload[1] = 0x00 // keyframe
		}
		up.receive(l, buf[:hl+1000])
	}
	for range 300 {
		next()
	}
	if allocs := testing.AllocsPerRun(1000, next); allocs != 0 {
		t.Errorf("receiving allocates %.1f per packet, want 0", allocs)
	}
	if w.n.Load() < 8*1000 || up.stats.packetsIn.Load() < 1300 {
		t.Errorf("forwarded %d writes of %d packets", w.n.Load(), up.stats.packetsIn.Load())
	}
}

// TestSenderReportTranslated: a down track's sender reports carry the
// publisher's clock (its sender reports, translated), not the server's, so
// that a subscriber lines up one publisher's tracks on that publisher's
// clock. The publisher's clock here runs an hour behind.
func TestSenderReportTranslated(t *testing.T) {
	defer checkGoroutines(t)()
	const skew = time.Hour
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	srs, err := report.NewSenderInterceptor(report.SenderNow(func() time.Time { return time.Now().Add(-skew) }),
		report.SenderInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(srs)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(clientSettings()))

	s := newSessionWith(t, sessionOpts{pubAPI: api}, "")
	defer s.close()
	fromNTP := func(ntp uint64) time.Time {
		return time.Unix(int64(ntp>>32)-2208988800, int64((ntp&0xffffffff)*uint64(time.Second)>>32))
	}
	var last rtcp.SenderReport
	waitFor(t, 10*time.Second, "a sender report on the publisher's clock", func() bool {
		got := s.sub.senderReports()
		if len(got) == 0 {
			return false
		}
		last = got[len(got)-1]
		return time.Since(fromNTP(last.NTPTime)) > skew/2
	})
	if d := time.Since(fromNTP(last.NTPTime)) - skew; d < -time.Second || d > time.Second {
		t.Errorf("sender report at %v, the publisher's clock says %v", fromNTP(last.NTPTime), time.Now().Add(-skew))
	}
	got := s.sub.snapshot()
	if d := int32(got[len(got)-1].ts - last.RTPTime); d < -90000 || d > 2*90000 {
		t.Errorf("sender report RTP time %d, newest packet's %d", last.RTPTime, got[len(got)-1].ts)
	}
}
