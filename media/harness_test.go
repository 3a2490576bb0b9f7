package media

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The test clients are real Pion peers on their own API (their own sockets),
// talking to the engine over loopback, as a browser or the Go SDK would.

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// clientAPI builds the API of test clients; opts change its settings.
func clientAPI(t testing.TB, opts ...func(*webrtc.SettingEngine)) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	// Audio NACK, as the engine offers it (and browsers negotiate it for Opus).
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: withFB(opusCap(), []webrtc.RTCPFeedback{{Type: "nack"}})}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	// abs-send-time first, so that the client's audio-level id differs from
	// the engine's and the test sees the id being rewritten.
	for _, uri := range []string{sdp.ABSSendTimeURI, sdp.AudioLevelURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := clientSettings()
	for _, o := range opts {
		o(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// clientSettings: test clients use loopback UDP only.
func clientSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.LoggerFactory = pionLogs{log: testLogger()}
	return se
}

// signal runs a non-trickle offer/answer between offerer and answerer.
func signal(t testing.TB, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal("create offer:", err)
	}
	g := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal("set local offer:", err)
	}
	<-g
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal("set remote offer:", err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal("create answer:", err)
	}
	g = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal("set local answer:", err)
	}
	<-g
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal("set remote answer:", err)
	}
}

// lossy loses one received RTP packet in every, the first time it comes (a
// retransmission gets through), on a client's UDP socket: before SRTP (whose
// replay protection would refuse a packet it decrypted once) and before Pion's
// NACK generator, which then sees the hole and NACKs it. SRTP leaves the RTP
// header in the clear, so the sequence number can be read.
type lossy struct {
	net.PacketConn
	every uint16
	mux   ice.UDPMux // on this conn; closed by close

	mu   sync.Mutex        // guards lost
	lost map[uint16]uint32 // sequence number -> timestamp, of packets dropped
}

func (l *lossy) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := l.PacketConn.ReadFrom(b)
		// RTP version 2, and not RTCP (payload types 64-95 with the marker, RFC 5761 §4).
		if err != nil || n < 12 || b[0]>>6 != 2 || (b[1] >= 192 && b[1] <= 223) {
			return n, addr, err
		}
		seq := binary.BigEndian.Uint16(b[2:4])
		if seq%l.every != 0 {
			return n, addr, nil
		}
		l.mu.Lock()
		_, again := l.lost[seq]
		if !again {
			l.lost[seq] = binary.BigEndian.Uint32(b[4:8])
		}
		l.mu.Unlock()
		if again {
			return n, addr, nil
		}
	}
}

func (l *lossy) dropped() map[uint16]uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[uint16]uint32, len(l.lost))
	for k, v := range l.lost {
		out[k] = v
	}
	return out
}

// lossyClientAPI is clientAPI on one UDP socket that loses one packet in every.
func lossyClientAPI(t testing.TB, every uint16) (*webrtc.API, *lossy) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &lossy{PacketConn: conn, every: every, lost: map[uint16]uint32{}}
	l.mux = webrtc.NewICEUDPMux(nil, l)
	return clientAPI(t, func(se *webrtc.SettingEngine) { se.SetICEUDPMux(l.mux) }), l
}

// close closes the socket, after the peer connections on it.
func (l *lossy) close() { _ = l.mux.Close() }

// signalSlowAnswerer is signal with an answerer that starts ICE only delay after
// the offerer has its answer (a subscriber on a slow link, or one whose answer
// raced ahead of its candidates). The offerer learns the answerer's address
// from its connectivity checks (peer-reflexive candidate, RFC 8445 §7.3.1.3).
func signalSlowAnswerer(t testing.TB, offerer, answerer *webrtc.PeerConnection, delay time.Duration) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal("create offer:", err)
	}
	g := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal("set local offer:", err)
	}
	<-g
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal("set remote offer:", err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal("create answer:", err)
	}
	if err := offerer.SetRemoteDescription(answer); err != nil {
		t.Fatal("set remote answer:", err)
	}
	time.Sleep(delay)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal("set local answer:", err)
	}
}

// Synthetic VP8: a payload descriptor (RFC 7741) whose first packet of a
// frame carries the keyframe bit, followed by a stamp the subscriber checks.
const stampLen = 1 + 4 + 1 + 8

type stamp struct {
	layer    int
	frame    uint32
	keyframe bool
	sent     int64
}

func vp8Payload(buf []byte, first bool, s stamp, size int) []byte {
	buf = buf[:0]
	if first {
		buf = append(buf, 0x10) // S=1, PID=0
	} else {
		buf = append(buf, 0x00)
	}
	hdr := byte(0x01) // P=1: interframe
	if s.keyframe {
		hdr = 0x00
	}
	buf = append(buf, hdr, byte(s.layer))
	buf = binary.BigEndian.AppendUint32(buf, s.frame)
	kf := byte(0)
	if s.keyframe {
		kf = 1
	}
	buf = append(buf, kf)
	buf = binary.BigEndian.AppendUint64(buf, uint64(s.sent))
	for len(buf) < size {
		buf = append(buf, 0xAB)
	}
	return buf
}

func parseStamp(p []byte) (stamp, bool) {
	if len(p) < 2+stampLen {
		return stamp{}, false
	}
	return stamp{
		layer:    int(p[2]),
		frame:    binary.BigEndian.Uint32(p[3:]),
		keyframe: p[7] == 1,
		sent:     int64(binary.BigEndian.Uint64(p[8:])),
	}, true
}

// publisher is a Pion client sending synthetic VP8 on one track with one
// layer (rids == [""]) or several simulcast layers.
type publisher struct {
	t      *testing.T
	pc     *webrtc.PeerConnection
	sender *webrtc.RTPSender
	tracks []*webrtc.TrackLocalStaticRTP
	rids   []string
	midID  uint8
	ridID  uint8

	plis    [maxLayers]atomic.Int64 // PLIs received per layer
	rrs     atomic.Int64            // receiver reports about one of our SSRCs
	nacks   atomic.Int64            // NACK packets received
	twccFB  atomic.Int64            // transport-wide congestion control feedback packets
	lastRR  atomic.Pointer[rtcp.ReceptionReport]
	forceKF [maxLayers]atomic.Bool
	paused  [maxLayers]atomic.Bool
	holdKF  atomic.Bool // send no keyframe (a PLI stays noted) until cleared
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newPublisher(t *testing.T, api *webrtc.API, rids ...string) *publisher {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{t: t, pc: pc, rids: rids, stop: make(chan struct{})}
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pub", opts...)
		if err != nil {
			t.Fatal(err)
		}
		p.tracks = append(p.tracks, tr)
	}
	p.sender, err = pc.AddTrack(p.tracks[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range p.tracks[1:] {
		if err := p.sender.AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range p.sender.GetParameters().HeaderExtensions {
		switch x.URI {
		case sdp.SDESMidURI:
			p.midID = uint8(x.ID)
		case sdp.SDESRTPStreamIDURI:
			p.ridID = uint8(x.ID)
		}
	}
	return p
}

// start sends frames every 20 ms on every layer (two packets a frame, a
// keyframe every 2 s or right after a PLI) and reads RTCP for PLIs.
func (p *publisher) start() {
	for i, rid := range p.rids {
		p.wg.Add(2)
		go p.rtcpLoop(i, rid)
		go p.sendLoop(i, rid)
	}
}

func (p *publisher) rtcpLoop(i int, rid string) {
	defer p.wg.Done()
	for {
		var pkts []rtcp.Packet
		var err error
		if rid == "" {
			pkts, _, err = p.sender.ReadRTCP()
		} else {
			pkts, _, err = p.sender.ReadSimulcastRTCP(rid)
		}
		if err != nil {
			return
		}
		for _, x := range pkts {
			switch x := x.(type) {
			case *rtcp.PictureLossIndication:
				p.plis[i].Add(1)
				p.forceKF[i].Store(true)
			case *rtcp.ReceiverReport:
				for _, r := range x.Reports {
					if r.SSRC == uint32(p.sender.GetParameters().Encodings[i].SSRC) {
						p.rrs.Add(1)
						p.lastRR.Store(&r)
					}
				}
			case *rtcp.TransportLayerNack:
				p.nacks.Add(1)
			case *rtcp.TransportLayerCC:
				p.twccFB.Add(1)
			}
		}
	}
}

func (p *publisher) sendLoop(i int, rid string) {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seq := uint16(rand.Uint32())
	ts := rand.Uint32()
	size := 200 << i
	var buf [1200]byte
	mid := ""
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Sender() == p.sender {
			mid = tr.Mid()
		}
	}
	for frame := uint32(0); ; frame++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		ts += 1800
		if p.paused[i].Load() {
			continue
		}
		kf := !p.holdKF.Load() && (frame%100 == 0 || p.forceKF[i].Swap(false))
		for k := 0; k < 2; k++ {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: k == 1},
				Payload: vp8Payload(buf[:], k == 0, stamp{layer: i, frame: frame, keyframe: kf, sent: time.Now().UnixNano()}, size)}
			seq++
			if rid != "" {
				_ = pkt.Header.SetExtension(p.midID, []byte(mid))
				_ = pkt.Header.SetExtension(p.ridID, []byte(rid))
			}
			_ = p.tracks[i].WriteRTP(pkt)
		}
	}
}

func (p *publisher) close() {
	close(p.stop)
	_ = p.pc.Close()
	p.wg.Wait()
}

// subscriber is a Pion client receiving one video track and recording what it sees.
type subscriber struct {
	pc *webrtc.PeerConnection

	mu     sync.Mutex // guards got, srs and remote
	got    []recvd
	srs    []rtcp.SenderReport
	remote *webrtc.TrackRemote
	done   chan struct{}
}

type recvd struct {
	seq uint16
	ts  uint32
	st  stamp
	at  time.Time
}

func newSubscriber(t *testing.T, api *webrtc.API) *subscriber {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	s := &subscriber{pc: pc, done: make(chan struct{})}
	pc.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		s.mu.Lock()
		s.remote = r
		s.mu.Unlock()
		go func() { // ends when the peer connection closes
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok {
						s.mu.Lock()
						s.srs = append(s.srs, *sr)
						s.mu.Unlock()
					}
				}
			}
		}()
		go func() { // ends when the peer connection closes
			defer close(s.done)
			buf := make([]byte, 1500)
			var pkt rtp.Packet
			for {
				n, _, err := r.Read(buf)
				if err != nil {
					return
				}
				if pkt.Unmarshal(buf[:n]) != nil {
					continue
				}
				st, _ := parseStamp(pkt.Payload)
				s.mu.Lock()
				s.got = append(s.got, recvd{seq: pkt.SequenceNumber, ts: pkt.Timestamp, st: st, at: time.Now()})
				s.mu.Unlock()
			}
		}()
	})
	return s
}

func (s *subscriber) senderReports() []rtcp.SenderReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtcp.SenderReport(nil), s.srs...)
}

func (s *subscriber) snapshot() []recvd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recvd(nil), s.got...)
}

func (s *subscriber) sendPLI() error {
	s.mu.Lock()
	r := s.remote
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return s.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(r.SSRC())}})
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkGoroutines fails the test when goroutines started during it are still
// running after a settle period.
func checkGoroutines(t *testing.T) func() {
	base := runtime.NumGoroutine()
	return func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				var b bytes.Buffer
				buf := make([]byte, 1<<20)
				b.Write(buf[:runtime.Stack(buf, true)])
				t.Errorf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), base, filterStacks(b.String()))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func filterStacks(all string) string {
	var keep []string
	for _, g := range strings.Split(all, "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "checkGoroutines") {
			continue
		}
		keep = append(keep, g)
	}
	return strings.Join(keep, "\n\n")
}

// assertContinuous checks that sequence numbers go up by one and timestamps
// never go back.
func assertContinuous(t *testing.T, got []recvd) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Errorf("packet %d: seq %d after %d", i, got[i].seq, got[i-1].seq)
		}
		if d := int32(got[i].ts - got[i-1].ts); d < 0 {
			t.Errorf("packet %d: timestamp went back by %d", i, -d)
		}
	}
}
