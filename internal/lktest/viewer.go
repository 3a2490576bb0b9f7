package lktest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// Viewer is a lean subscribe-only participant for load generation (sfubench lecture1xN):
// a websocket speaking the signal protocol and one plain Pion peer connection that
// answers the server's offers. Unlike Client (the SDK: two peer connections, data
// channels, interceptors for NACK, reports, TWCC, jitter buffers) it has no
// interceptors, no publisher connection, no data channels and one goroutine per
// received track, so that one load-generator core can hold hundreds of viewers.
// It counts packets and sequence-number gaps per track (loss without RTCP).
type Viewer struct {
	Identity string
	SID      string
	Joined   time.Time    // when the JoinResponse arrived
	Signals  atomic.Int64 // signal messages received

	ws   *websocket.Conn
	wmu  sync.Mutex // serialises websocket writes
	api  *webrtc.API
	cert webrtc.Certificate

	mu         sync.Mutex // guards pc, pending, tracks, closed
	pc         *webrtc.PeerConnection
	pending    []webrtc.ICECandidateInit // candidates that came before the first offer
	tracks     []*ViewerTrack
	closed     bool
	first      sync.Once     // closes firstVideo
	firstVideo chan struct{} // closed at the first video packet
	done       chan struct{} // closed when the read loop ends
	err        error         // why the read loop ended, set before done closes
}

// ViewerTrack counts what arrives on one down track.
type ViewerTrack struct {
	Kind     string // "video" or "audio"
	StreamID string // PA_publisher|TR_track
	Packets  atomic.Int64
	// MaxSeq is the highest extended sequence number seen minus the first one: with
	// Packets it gives loss (MaxSeq+1 expected).
	MaxSeq    atomic.Int64
	FirstAt   atomic.Int64 // unix ns of the first packet
	latMu     sync.Mutex   // guards latencies
	latencies []int64      // µs from the publisher's stamp, every 8th stamped packet
}

// ViewerOptions shape every viewer made from one ViewerKit.
type ViewerOptions struct {
	// LocalIP is the source address of the signal connection (e.g. 127.0.0.x, so that
	// many viewers do not hit the server's per-address caps). Empty: any.
	LocalIP string
}

// ViewerKit is shared by many viewers: one media engine and one DTLS certificate
// (generating a key per connection costs the load generator for nothing).
type ViewerKit struct {
	api  *webrtc.API
	cert webrtc.Certificate
}

// NewViewerKit builds the shared Pion API: VP8 and Opus without feedback or header
// extensions, no interceptors, host UDP4 candidates on loopback only, no mDNS.
func NewViewerKit() (*ViewerKit, error) {
	var me webrtc.MediaEngine
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, err
	}
	return &ViewerKit{api: webrtc.NewAPI(webrtc.WithMediaEngine(&me), webrtc.WithSettingEngine(se)), cert: *cert}, nil
}

// Join opens the signal connection of a viewer and waits for the JoinResponse; the
// server's offers are answered from then on, on the viewer's read goroutine.
func (k *ViewerKit) Join(ctx context.Context, wsURL, token string, o ViewerOptions) (*Viewer, error) {
	u, err := url.Parse(strings.TrimSuffix(wsURL, "/") + "/rtc")
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("access_token", token)
	q.Set("protocol", "17")
	q.Set("auto_subscribe", "1")
	q.Set("sdk", "go")
	u.RawQuery = q.Encode()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	if o.LocalIP != "" {
		nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.LocalIP)}}
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("signal: %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("signal: %w", err)
	}
	v := &Viewer{ws: ws, api: k.api, cert: k.cert, done: make(chan struct{}), firstVideo: make(chan struct{})}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	first, err := v.read()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("join: %w", err)
	}
	j := first.GetJoin()
	if j == nil || j.Participant == nil {
		ws.Close()
		return nil, fmt.Errorf("join: first message is %T, not a join", first.Message)
	}
	_ = ws.SetReadDeadline(time.Time{})
	v.Identity, v.SID, v.Joined = j.Participant.Identity, j.Participant.Sid, time.Now()
	go v.readLoop() // ends when the websocket does
	return v, nil
}

func (v *Viewer) read() (*livekit.SignalResponse, error) {
	_, b, err := v.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	v.Signals.Add(1)
	var m livekit.SignalResponse
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("signal message: %w", err)
	}
	return &m, nil
}

func (v *Viewer) send(req *livekit.SignalRequest) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	_ = v.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return v.ws.WriteMessage(websocket.BinaryMessage, b)
}

func (v *Viewer) readLoop() {
	var err error
	defer func() {
		v.err = err
		close(v.done)
	}()
	for {
		var m *livekit.SignalResponse
		if m, err = v.read(); err != nil {
			return
		}
		switch msg := m.Message.(type) {
		case *livekit.SignalResponse_Offer:
			if err = v.answer(msg.Offer); err != nil {
				return
			}
		case *livekit.SignalResponse_Trickle:
			if msg.Trickle.Target == livekit.SignalTarget_SUBSCRIBER {
				v.candidate(msg.Trickle.CandidateInit)
			}
		case *livekit.SignalResponse_Leave:
			err = errors.New("the server sent leave")
			return
		}
	}
}

// answer applies the server's offer; the first one creates the peer connection.
func (v *Viewer) answer(offer *livekit.SessionDescription) error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return errors.New("closed")
	}
	pc := v.pc
	if pc == nil {
		var err error
		pc, err = v.api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{v.cert}})
		if err != nil {
			v.mu.Unlock()
			return err
		}
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			b, err := json.Marshal(c.ToJSON())
			if err == nil {
				_ = v.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Trickle{Trickle: &livekit.TrickleRequest{
					CandidateInit: string(b), Target: livekit.SignalTarget_SUBSCRIBER}}})
			}
		})
		pc.OnTrack(v.onTrack)
		v.pc = pc
	}
	pending := v.pending
	v.pending = nil
	v.mu.Unlock()

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.Sdp}); err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	for _, c := range pending {
		_ = pc.AddICECandidate(c)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return err
	}
	return v.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{
		Type: "answer", Sdp: pc.LocalDescription().SDP, Id: offer.Id}}})
}

func (v *Viewer) candidate(init string) {
	var c webrtc.ICECandidateInit
	if json.Unmarshal([]byte(init), &c) != nil {
		return
	}
	v.mu.Lock()
	pc := v.pc
	if pc == nil || pc.RemoteDescription() == nil {
		v.pending = append(v.pending, c)
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	_ = pc.AddICECandidate(c)
}

func (v *Viewer) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	t := &ViewerTrack{Kind: track.Kind().String(), StreamID: track.StreamID()}
	v.mu.Lock()
	v.tracks = append(v.tracks, t)
	v.mu.Unlock()
	go func() { // ends when the track ends
		buf := make([]byte, 1500)
		var base, ext int64
		stamped := 0
		for {
			n, _, err := track.Read(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			seq := int64(binary.BigEndian.Uint16(buf[2:4]))
			if t.Packets.Load() == 0 {
				base, ext = seq, seq
				t.FirstAt.Store(time.Now().UnixNano())
				if t.Kind == "video" {
					v.first.Do(func() { close(v.firstVideo) })
				}
			} else if d := int64(int16(uint16(seq) - uint16(ext))); d > 0 {
				ext += d
			}
			t.MaxSeq.Store(ext - base)
			t.Packets.Add(1)
			if at, ok := stampIn(buf[:n]); ok {
				if stamped++; stamped%8 == 0 {
					t.latMu.Lock()
					if len(t.latencies) < 1<<16 {
						t.latencies = append(t.latencies, time.Since(at).Microseconds())
					}
					t.latMu.Unlock()
				}
			}
		}
	}()
}

// Tracks returns the tracks received so far.
func (v *Viewer) Tracks() []*ViewerTrack {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*ViewerTrack(nil), v.tracks...)
}

// FirstVideo is when the first video packet arrived (zero: not yet).
func (v *Viewer) FirstVideo() time.Time {
	for _, t := range v.Tracks() {
		if t.Kind == "video" {
			if ns := t.FirstAt.Load(); ns != 0 {
				return time.Unix(0, ns)
			}
		}
	}
	return time.Time{}
}

// FirstVideoC is closed when the first video packet arrives.
func (v *Viewer) FirstVideoC() <-chan struct{} { return v.firstVideo }

// Err is why the signal connection ended, nil while it is open.
func (v *Viewer) Err() error {
	select {
	case <-v.done:
		return v.err
	default:
		return nil
	}
}

// TakeLatencies returns and clears the latency samples of t.
func (t *ViewerTrack) TakeLatencies() []int64 {
	t.latMu.Lock()
	defer t.latMu.Unlock()
	out := t.latencies
	t.latencies = nil
	return out
}

// Close leaves (a Leave request, as the SDK sends) and closes everything.
func (v *Viewer) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	pc := v.pc
	v.mu.Unlock()
	_ = v.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Leave{Leave: &livekit.LeaveRequest{
		Reason: livekit.DisconnectReason_CLIENT_INITIATED}}})
	v.ws.Close()
	<-v.done
	if pc != nil {
		_ = pc.Close()
	}
}
