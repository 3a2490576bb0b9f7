package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"yizhan/media"
)

// The deployment tests run the real app (newApp, listen, serve) on loopback with
// ephemeral ports and talk to it with real Pion peers, TLS clients and TURN clients.

func testLog() *slog.Logger {
	lvl := slog.LevelError
	if os.Getenv("YIZHAN_TEST_LOG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// testConfig is a dev configuration on ephemeral loopback ports.
func testConfig(t *testing.T) serveConfig {
	t.Helper()
	return serveConfig{
		HTTP: "127.0.0.1:0", Data: t.TempDir(), // not Dev: no demo data to seed
		APIKey: devAPIKey, APISecret: devAPISecret,
		Metrics: true, MetricsAddr: "127.0.0.1:0", TURNTTL: time.Hour, LogLevel: slog.LevelError,
	}
}

// runningApp is an app serving on its listener until the test ends.
type runningApp struct {
	*app
	addr string // host:port of the HTTP listener
}

func startApp(t *testing.T, cfg serveConfig) *runningApp {
	t.Helper()
	a, err := newApp(cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := a.listen()
	if err != nil {
		a.shutdown()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, io.Discard) }() // ends when the test cancels ctx
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not return")
		}
	})
	return &runningApp{app: a, addr: ln.Addr().String()}
}

// writeCert writes a fresh self-signed certificate for localhost and 127.0.0.1 to
// cert.pem and key.pem in dir and returns a pool trusting it and its serial.
func writeCert(t *testing.T, dir string) (*x509.CertPool, *big.Int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Write-then-rename, as certbot and mounted secrets replace files.
	for name, block := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: der},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: kder},
	} {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return pool, serial
}

// --- media between Pion clients and the app's engine ---

// pionClient builds a client API. configure restricts it (network types, proxy dialer).
func pionClient(t *testing.T, configure func(*webrtc.SettingEngine)) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	configure(&se)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

// mediaSession is a publisher client -> the app's engine -> a subscriber client, wired
// as signaling wires them (an UpTrack and a DownTrack on the engine's peer connections).
type mediaSession struct {
	pub, sub       *webrtc.PeerConnection // clients
	srvPub, srvSub *webrtc.PeerConnection // the server's
	received       atomic.Int64
	stop           chan struct{}
	wg             sync.WaitGroup
}

func newMediaSession(t *testing.T, eng *media.Engine, api *webrtc.API, conf webrtc.Configuration) *mediaSession {
	t.Helper()
	s := &mediaSession{stop: make(chan struct{})}
	var err error
	if s.pub, err = api.NewPeerConnection(conf); err != nil {
		t.Fatal(err)
	}
	if s.sub, err = api.NewPeerConnection(conf); err != nil {
		t.Fatal(err)
	}
	if s.srvPub, err = eng.NewPeerConnection(nil); err != nil {
		t.Fatal(err)
	}
	if s.srvSub, err = eng.NewPeerConnection(nil); err != nil {
		t.Fatal(err)
	}
	up := eng.NewUpTrack(media.UpTrackConfig{ID: "TR_v", StreamID: "PA_pub", Kind: webrtc.RTPCodecTypeVideo})
	arrived := make(chan struct{})
	var once sync.Once
	s.srvPub.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		up.AddLayer(r, recv, s.srvPub)
		once.Do(func() { close(arrived) })
	})
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := s.pub.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	s.wg.Add(2)
	go func() { // drains RTCP (PLIs); ends when pub closes
		defer s.wg.Done()
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go s.send(track) // ends on stop
	offerAnswer(t, s.pub, s.srvPub)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server got no track (publisher ICE %s)", s.pub.ICEConnectionState())
	}

	down := up.NewDownTrack("TR_v", "PA_pub|TR_v")
	ds, err := s.srvSub.AddTrack(down)
	if err != nil {
		t.Fatal(err)
	}
	down.Attach(ds)
	s.sub.OnTrack(func(r *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		s.wg.Add(1)
		go func() { // counts packets; ends when sub closes
			defer s.wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := r.Read(buf); err != nil {
					return
				}
				s.received.Add(1)
			}
		}()
	})
	offerAnswer(t, s.srvSub, s.sub)
	t.Cleanup(func() {
		close(s.stop)
		down.Close()
		for _, pc := range []*webrtc.PeerConnection{s.sub, s.srvSub, s.pub, s.srvPub} {
			_ = pc.Close()
		}
		up.Close()
		s.wg.Wait()
	})
	return s
}

// send writes a keyframe-led synthetic VP8 stream at 50 packets a second.
func (s *mediaSession) send(track *webrtc.TrackLocalStaticRTP) {
	defer s.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seq, ts := uint16(1), uint32(1)
	for i := 0; ; i++ {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		hdr := byte(0x01) // interframe
		if i%25 == 0 {
			hdr = 0x00 // keyframe (RFC 7741 §4.3: P bit clear)
		}
		payload := append([]byte{0x10, hdr}, make([]byte, 300)...)
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: true}, Payload: payload})
		seq++
		ts += 1800
	}
}

// offerAnswer runs a non-trickle offer/answer.
func offerAnswer(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-g
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-g
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// noLeaks fails t when, once its cleanups ran, more goroutines run than before it.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { // registered first, so it runs after every other cleanup
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selectedPair is the candidate pair a client's first transceiver uses.
func selectedPair(t *testing.T, pc *webrtc.PeerConnection) *webrtc.ICECandidatePair {
	t.Helper()
	for _, tr := range pc.GetTransceivers() {
		var dts []*webrtc.DTLSTransport
		if s := tr.Sender(); s != nil {
			dts = append(dts, s.Transport())
		}
		if r := tr.Receiver(); r != nil {
			dts = append(dts, r.Transport())
		}
		for _, dt := range dts {
			if dt == nil {
				continue
			}
			if p, err := dt.ICETransport().GetSelectedCandidatePair(); err == nil && p != nil {
				return p
			}
		}
	}
	t.Fatal("no selected candidate pair")
	return nil
}

// TestICETCPMedia: --tcp-port opens the ICE-TCP mux, and clients that can only use
// TCP (their UDP blocked) publish and receive video through the server.
func TestICETCPMedia(t *testing.T) {
	noLeaks(t)
	cfg := testConfig(t)
	cfg.TCPPort = -1 // ephemeral, as --tcp-port N would open N
	a := startApp(t, cfg)
	if a.eng.TCPAddr() == nil {
		t.Fatal("ICE-TCP mux not open")
	}
	api := pionClient(t, func(se *webrtc.SettingEngine) {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	})
	s := newMediaSession(t, a.eng, api, webrtc.Configuration{})
	waitUntil(t, 20*time.Second, "video over ICE-TCP", func() bool { return s.received.Load() >= 50 })
	for name, pc := range map[string]*webrtc.PeerConnection{"publisher": s.pub, "subscriber": s.sub} {
		p := selectedPair(t, pc)
		if p.Local.Protocol != webrtc.ICEProtocolTCP || p.Remote.Port != uint16(a.eng.TCPAddr().Port) {
			t.Errorf("%s pair %s, want TCP to the mux port %d", name, p, a.eng.TCPAddr().Port)
		}
	}
}

func TestTCPPortFlag(t *testing.T) {
	cases := []struct {
		args []string
		want int
	}{
		{nil, 7881},
		{[]string{"--tcp-port", "0"}, 0},
		{[]string{"--tcp-port", "443"}, 443},
	}
	for _, c := range cases {
		cfg, err := parseServeConfig(append([]string{"--dev"}, c.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TCPPort != c.want {
			t.Errorf("%v: tcp port %d, want %d", c.args, cfg.TCPPort, c.want)
		}
	}
	if _, err := parseServeConfig([]string{"--dev", "--tcp-port", "7880"}, io.Discard); err == nil || !strings.Contains(err.Error(), "clash") {
		t.Errorf("ICE-TCP on the HTTP port: %v", err)
	}
}
