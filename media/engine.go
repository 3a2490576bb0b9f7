// Package media forwards RTP between Pion peers. It knows nothing of rooms or roles.
//
// An Engine owns the sockets (one UDP port for all ICE, optionally one ICE-TCP
// port) and builds peer connections. An UpTrack is one published track with its
// simulcast layers; a DownTrack forwards the best layer of an UpTrack to one
// subscriber's peer connection; a Sink (the recorder) is one more subscriber
// fed through a deep queue.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"weak"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Config configures an Engine. Zero values are usable in tests.
type Config struct {
	BindIP  string // address the UDP/TCP muxes listen on; default "127.0.0.1"
	UDPPort int    // single UDP port for all ICE (UDP mux); 0 = ephemeral (tests)
	TCPPort int    // ICE-TCP mux port; 0 = off; -1 = ephemeral (tests)
	NodeIP  string // if set, announced as host candidate address (NAT 1:1)
	Logger  *slog.Logger

	rxSockets int // sockets reading the UDP port; 0 = one per core up to 4 (rxport.go); tests set it
}

// Payload types we offer. They match what browsers and LiveKit use, which keeps
// SDP munging on the client side a no-op.
const (
	ptOpus = 111
	ptVP8  = 96
	ptH264 = 125
)

// Engine builds peer connections that share one UDP port (and optionally one
// TCP port) and counts what flows through the tracks built on it.
type Engine struct {
	log *slog.Logger
	// What every peer connection's API is built from: each connection gets an
	// API of its own, whose BufferFactory is that connection's rxSession.
	me  *webrtc.MediaEngine
	reg *interceptor.Registry
	se  webrtc.SettingEngine

	// sessions finds a peer connection's rxSession again (UpTrack.AddLayer).
	// Weak both ways: the connection keeps its session alive (through its
	// API), the engine keeps neither; an entry goes when its connection is
	// collected.
	mu       sync.Mutex
	sessions map[weak.Pointer[webrtc.PeerConnection]]weak.Pointer[rxSession]

	// keys finds a peer connection's DTLS capture (srtpkeys.go) by its DTLS
	// transport; weak keys as in sessions.
	keysMu sync.Mutex
	keys   map[weak.Pointer[webrtc.DTLSTransport]]weak.Pointer[dtlsCapture] // weak both ways: see rememberKeys

	// Sockets, owned by the engine: opened in NewEngine, closed in Close.
	udpConn *net.UDPConn
	batch   *batchConn // udpConn as the UDP mux writes to it: batched per fan-out pass
	rx      *muxConn   // the UDP port as the mux reads it: its sockets' readers take fast-path media (rxport.go)
	fast    fastTable  // publisher connections' remote addresses -> their fast receivers (rxfast.go)
	udpMux  ice.UDPMux
	tcpLn   net.Listener // nil when ICE-TCP is off
	tcpMux  ice.TCPMux   // nil when ICE-TCP is off

	pairsMu sync.Mutex                                                        // guards pairs
	pairs   map[weak.Pointer[webrtc.ICETransport]]weak.Pointer[pairFollowers] // icepair.go

	stats counters
}

// NewEngine opens the ICE sockets and prepares the webrtc.API.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.BindIP == "" {
		cfg.BindIP = "127.0.0.1"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "media")
	e := &Engine{log: log, sessions: map[weak.Pointer[webrtc.PeerConnection]]weak.Pointer[rxSession]{}}
	pl := pionLogs{log: log}

	udpAddr := net.JoinHostPort(cfg.BindIP, strconv.Itoa(cfg.UDPPort))
	ua, err := net.ResolveUDPAddr("udp4", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("ICE UDP address %s: %w", udpAddr, err)
	}
	ucs, err := listenRx(ua, rxSockets(cfg))
	if err != nil {
		return nil, fmt.Errorf("listen ICE UDP %s: %w", udpAddr, err)
	}
	e.udpConn = ucs[0]
	e.batch = newBatchConn(ucs[0])
	e.batch.sys.setLog(log) // UDP GSO's refusal (gso_linux.go)
	e.rx = newMuxConn(ucs, e.batch, &e.fast)
	e.udpMux = webrtc.NewICEUDPMux(pl.NewLogger("udpmux"), e.rx)

	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.TCPPort != 0 {
		port := max(cfg.TCPPort, 0) // -1 asks for an ephemeral port
		tcpAddr := net.JoinHostPort(cfg.BindIP, strconv.Itoa(port))
		ln, err := net.Listen("tcp4", tcpAddr)
		if err != nil {
			_ = e.udpMux.Close()
			return nil, fmt.Errorf("listen ICE TCP %s: %w", tcpAddr, err)
		}
		e.tcpLn = ln
		// ReadBufferSize counts packets queued per connection before ICE reads them.
		e.tcpMux = webrtc.NewICETCPMux(pl.NewLogger("tcpmux"), ln, 64)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}

	m, reg, err := newMediaEngine(pl)
	if err != nil {
		_ = e.Close()
		return nil, err
	}

	var se webrtc.SettingEngine
	se.LoggerFactory = pl
	se.SetICEUDPMux(e.udpMux)
	if e.tcpMux != nil {
		se.SetICETCPMux(e.tcpMux)
	}
	se.SetNetworkTypes(networks)
	// Everything runs on one machine in tests and small deployments: the
	// loopback candidate is the one that works there.
	se.SetIncludeLoopbackCandidate(true)
	// mDNS host names are for browsers hiding their addresses; a server has
	// nothing to hide and peers resolving .local names would only add latency.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// The engine answers as DTLS server (passive): only the server sees
	// everything its SRTP keys derive from (srtpkeys.go). Offers are actpass;
	// browsers and Pion answer active.
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("DTLS role: %w", err)
	}
	if cfg.NodeIP != "" {
		se.SetNAT1To1IPs([]string{cfg.NodeIP}, webrtc.ICECandidateTypeHost) //nolint:staticcheck // the rewrite-rule API is newer than our clients need
	}

	e.me, e.reg, e.se = m, reg, se
	log.Info("media engine ready", "udp", e.UDPAddr().String(), "tcp", fmt.Sprint(e.TCPAddr()), "node_ip", cfg.NodeIP)
	return e, nil
}

// newMediaEngine registers the codecs we forward and the interceptors every
// peer connection gets. Not registered: the interval PLI interceptor (we send
// PLIs on demand, throttled, see UpTrack.RequestKeyframe).
func newMediaEngine(pl pionLogs) (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"},
		{Type: "ccm", Parameter: "fir"},
		{Type: "nack"},
		{Type: "nack", Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
	codecs := []struct {
		p   webrtc.RTPCodecParameters
		typ webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: ptOpus, RTPCodecCapability: withFB(opusCap(), audioFB)}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{PayloadType: ptRED, RTPCodecCapability: redCap()}, webrtc.RTPCodecTypeAudio}, // red.go
		{webrtc.RTPCodecParameters{PayloadType: ptVP8, RTPCodecCapability: withFB(vp8Cap(), videoFB)}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: ptH264, RTPCodecCapability: withFB(h264Cap(), videoFB)}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.typ); err != nil {
			return nil, nil, fmt.Errorf("register codec %s: %w", c.p.MimeType, err)
		}
	}
	exts := []struct {
		uri string
		typ webrtc.RTPCodecType
	}{
		// mid and rid identify simulcast streams before their SSRCs are known
		// (RFC 8852, RFC 8843 §15).
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		// audio level (RFC 6464) is forwarded so clients can show who speaks.
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		// transport-wide sequence numbers drive the publisher's bandwidth
		// estimate (draft-holmer-rmcat-transport-wide-cc-extensions).
		{sdp.TransportCCURI, webrtc.RTPCodecTypeVideo},
		{sdp.TransportCCURI, webrtc.RTPCodecTypeAudio},
	}
	for _, x := range exts {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: x.uri}, x.typ); err != nil {
			return nil, nil, fmt.Errorf("register header extension %s: %w", x.uri, err)
		}
	}

	// No Pion interceptor, on either path; the registry is empty (not nil,
	// which would give Pion's defaults). The up path: an up track's layers
	// NACK holes, send receiver reports (RFC 3550 §6.4: publishers' loss-based
	// rate control needs them) and TWCC feedback (the publisher's bandwidth
	// estimate) themselves, as packets come (upfeedback.go); the interceptors
	// parsed each packet again, allocated, and TWCC's handed it to a goroutine
	// of its own. On the down path the forwarding path stamps transport-wide
	// sequence numbers itself and the down tracks read subscribers' feedback
	// (twcc.go).
	//
	// The down path: a NACK responder and a sender-report interceptor would
	// see every packet written once per subscriber (the responder copying it
	// into a history per subscriber). A DownTrack answers NACKs from its up
	// track's packet cache and sends its own sender reports (retransmit.go).
	return m, &interceptor.Registry{}, nil
}

func opusCap() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
}

func vp8Cap() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
}

func h264Cap() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}
}

func withFB(c webrtc.RTPCodecCapability, fb []webrtc.RTCPFeedback) webrtc.RTPCodecCapability {
	c.RTCPFeedback = fb
	return c
}

// PublishCodecs lists the codecs we forward: VP8, H264 and Opus.
func (e *Engine) PublishCodecs() []webrtc.RTPCodecCapability {
	return []webrtc.RTPCodecCapability{vp8Cap(), h264Cap(), opusCap()}
}

// NewPeerConnection builds a peer connection on the engine's sockets and
// codecs. Its SRTP streams write into rxBuffers of its own rxSession, which
// its up tracks' layers attach to (rxbuffer.go).
func (e *Engine) NewPeerConnection(iceServers []webrtc.ICEServer) (*webrtc.PeerConnection, error) {
	sess := newRxSession()
	se := e.se
	se.BufferFactory = sess.newBuffer
	keys := e.captureKeys(&se)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(e.me), webrtc.WithInterceptorRegistry(e.reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(pcConfig(iceServers))
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	e.rememberKeys(pc, keys)
	key := weak.Make(pc)
	e.mu.Lock()
	e.sessions[key] = weak.Make(sess)
	e.mu.Unlock()
	runtime.AddCleanup(pc, e.forgetSession, key)
	e.watchFast(pc, sess) // rxwatch.go
	return pc, nil
}

// session returns the rxSession of a peer connection the engine built, nil
// for any other.
func (e *Engine) session(pc *webrtc.PeerConnection) *rxSession {
	if e == nil || pc == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[weak.Make(pc)].Value()
}

func (e *Engine) forgetSession(key weak.Pointer[webrtc.PeerConnection]) {
	e.mu.Lock()
	delete(e.sessions, key)
	e.mu.Unlock()
}

// NewSubscriberPeerConnection builds a peer connection that only sends (a
// participant's subscriber side). It needs no receive session: a subscriber
// connection never gets media (issue 12's soak counted ~40 goroutines per
// participant; the up-path interceptors were 3 of them, on every connection,
// before the engine had none).
//
// Each gets an API of its own, whose setting engine captures its DTLS
// handshake (srtpkeys.go).
func (e *Engine) NewSubscriberPeerConnection(iceServers []webrtc.ICEServer) (*webrtc.PeerConnection, error) {
	se := e.se
	keys := e.captureKeys(&se)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(e.me), webrtc.WithInterceptorRegistry(e.reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(pcConfig(iceServers))
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	e.rememberKeys(pc, keys)
	e.watchFast(pc, nil) // rxwatch.go: its subscribers' RTCP
	return pc, nil
}

// pcConfig is the configuration of the engine's peer connections. RTP header
// encryption (cryptex, RFC 9335) is refused: the engine's own SRTP contexts
// (srtpkeys.go) do plain SRTP, and a renegotiation could switch cryptex on
// under them.
func pcConfig(iceServers []webrtc.ICEServer) webrtc.Configuration {
	return webrtc.Configuration{ICEServers: iceServers, RTPHeaderEncryptionPolicy: webrtc.RTPHeaderEncryptionPolicyDisable}
}

// NewUpTrack is NewUpTrack with the engine's counters (and logger when cfg
// has none), so that Stats sees this track.
func (e *Engine) NewUpTrack(cfg UpTrackConfig) *UpTrack {
	cfg.Engine = e
	return NewUpTrack(cfg)
}

// UDPAddr is the address of the ICE UDP mux.
func (e *Engine) UDPAddr() *net.UDPAddr {
	a, _ := e.udpConn.LocalAddr().(*net.UDPAddr)
	return a
}

// TCPAddr is the address of the ICE-TCP mux, nil when ICE-TCP is off.
func (e *Engine) TCPAddr() *net.TCPAddr {
	if e.tcpLn == nil {
		return nil
	}
	a, _ := e.tcpLn.Addr().(*net.TCPAddr)
	return a
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() EngineStats {
	st := e.stats.snapshot()
	st.UDPSendCalls = e.batch.calls.Load()
	st.UDPBatched = e.batch.sent.Load()
	st.UDPGSOSends, st.UDPGSODatagrams = e.batch.sys.gsoCounts()
	st.RxFast, st.RxFastDropped, st.RxFastRTCP = e.fast.taken.Load(), e.fast.dropped.Load(), e.fast.rtcp.Load()
	st.DirectRTP = e.batch.direct.Load()
	st.DirectDrops = e.batch.directDrops.Load()
	return st
}

// Close closes the engine's sockets. Peer connections built on it should be
// closed first; their ICE agents fail once the muxes are gone.
func (e *Engine) Close() error {
	var errs []error
	if e.tcpMux != nil {
		if err := e.tcpMux.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close ICE TCP mux: %w", err))
		}
	}
	if e.udpMux != nil {
		// The UDP mux closes its PacketConn.
		if err := e.udpMux.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close ICE UDP mux: %w", err))
		}
	}
	return errors.Join(errs...)
}
