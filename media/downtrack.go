package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// DownTrack forwards one up track to one subscriber's peer connection. It is a
// webrtc.TrackLocal: pc.AddTrack(d) binds it, and from then on the up track's
// fan-out calls forward for each packet.
//
// Writes never block the fan-out for long: WriteRTP encrypts and hands the
// packet to the ICE mux, whose UDP socket is shared by every subscriber (a
// full kernel buffer drops, it does not wait for one peer) and whose TCP
// connections have a bounded write buffer that drops when full. So a slow
// subscriber loses packets (and NACKs them) without stalling the others, and
// we need no per-subscriber queue.
type DownTrack struct {
	id, streamID string
	up           *UpTrack
	log          *slog.Logger

	mu     sync.Mutex // guards fwd, sr and the binding (w, bindID, ssrc, pt, alID)
	fwd    forwarder
	w      webrtc.TrackLocalWriter // nil while unbound
	bindID string
	ssrc   uint32
	pt     uint8
	alID   uint8   // audio-level extension id in the subscriber's session, 0 if none
	twID   uint8   // transport-wide-cc extension id in the subscriber's session, 0 if none
	sr     srState // what the next sender report says; sent by the forwarding goroutine
	// redStrip: the publisher sends RED and this subscriber did not negotiate
	// it; it gets the primary Opus blocks (red.go).
	redStrip bool
	// redPT is the payload type this RED subscriber expects inside RED
	// blocks (its Opus); 0 when it does not get RED (red.go).
	redPT uint8
	// direct is the connection's direct writer once this track writes
	// through it (directwrite.go); then it is w, from every Bind on.
	direct *directConn
	// directOnce decides, before the first write, whether the track writes
	// directly; transportReady waits for it, so nothing is written before.
	directOnce sync.Once

	// Read without the lock on every packet: let the fan-out skip packets of
	// layers this track does not forward without taking mu.
	want     atomic.Uint32 // layers the forwarder wants to see
	seenFlow atomic.Uint32 // up track flowing mask when the forwarder last ran; noFlow forces a run
	seenGen  atomic.Uint32
	curLayer atomic.Int32 // layer a subscriber PLI asks a keyframe of: cur, else target; -1 none
	maxLayer atomic.Int32 // effective cap: min(wish, limit), see downlimit.go

	lim downLimits // the subscriber's wishes and the allocator's cap (downlimit.go)
	// tw numbers what the subscriber's connection sends (twcc.go); set once
	// by Downlink.Add, nil before (nothing stamped then).
	tw atomic.Pointer[twccSender]
	rx rxReports // what the subscriber's receiver reports say (downlimit.go)

	sender atomic.Pointer[webrtc.RTPSender]
	dtls   atomic.Pointer[webrtc.DTLSTransport] // the sender's, taken in Attach
	// ready is set once the subscriber's transport can carry media. Pion binds
	// a down track when the answer arrives, before ICE and DTLS are up, and
	// drops without an error what is written before SRTP is ready: a keyframe
	// forwarded then is lost and the subscriber waits a whole GOP for the next.
	ready  atomic.Bool
	closed atomic.Bool
	// fastRTCP: the subscriber's RTCP also comes from the socket readers
	// (rxrtcp.go); rtcpMu serializes it with the RTCP loop's.
	fastRTCPOnce sync.Once
	fast         fastRTCPState
}

const noFlow = ^uint32(0)

// NewDownTrack makes a down track of t for one subscriber. id and streamID
// are what the subscriber sees (msid). Make it after the first AddLayer: Bind
// needs the up track's codec.
func (t *UpTrack) NewDownTrack(id, streamID string) *DownTrack {
	d := &DownTrack{
		id: id, streamID: streamID, up: t,
		log: t.log.With("down", id),
		fwd: newForwarder(t.kind == webrtc.RTPCodecTypeVideo, 0),
	}
	d.seenFlow.Store(noFlow)
	d.curLayer.Store(-1)
	d.maxLayer.Store(maxLayers - 1)
	d.lim.init()
	return d
}

// ID is the track id the subscriber sees.
func (d *DownTrack) ID() string { return d.id }

// RID is empty: a subscriber gets one stream, whatever the publisher sends.
func (d *DownTrack) RID() string { return "" }

// StreamID is the media stream id the subscriber sees.
func (d *DownTrack) StreamID() string { return d.streamID }

// Kind is the kind of the up track.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

// UpTrack is the track this one forwards.
func (d *DownTrack) UpTrack() *UpTrack { return d.up }

// SetMaxLayer caps the simulcast layer forwarded (0 = q, 1 = h, 2 = f), e.g.
// for a small video tile. The switch happens at the next keyframe.
func (d *DownTrack) SetMaxLayer(l int) {
	d.lim.wish.Store(int32(max(0, min(l, maxLayers-1))))
	d.applyLimits()
}

// Bind is called by Pion when the subscriber's session is negotiated. It picks
// the negotiated codec matching the up track's and joins the fan-out.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	up := d.up.Codec()
	var chosen *webrtc.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		if codecMatches(up, c) {
			chosen = &c
			break
		}
	}
	strip := false
	if chosen == nil && isRED(up.MimeType) {
		chosen, strip = opusFallback(ctx.CodecParameters()), true // red.go
	}
	if chosen == nil {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind down track %s (%s): %w", d.id, up.MimeType, webrtc.ErrUnsupportedCodec)
	}
	var alID, twID uint8
	for _, x := range ctx.HeaderExtensions() {
		switch x.URI {
		case sdp.AudioLevelURI:
			alID = uint8(x.ID)
		case sdp.TransportCCURI:
			twID = uint8(x.ID)
		}
	}

	d.mu.Lock()
	d.w = ctx.WriteStream()
	if d.direct != nil {
		d.w = d.direct // an SSRC encrypted by our context never goes back to Pion's
	}
	d.bindID = ctx.ID()
	d.ssrc = uint32(ctx.SSRC())
	d.pt = uint8(chosen.PayloadType)
	d.alID = alID
	d.twID = twID
	d.redStrip = strip
	d.redPT = redInnerPT(up, *chosen)
	if d.fwd.clockRate != chosen.ClockRate && chosen.ClockRate != 0 {
		d.fwd.clockRate = chosen.ClockRate
	}
	d.mu.Unlock()
	d.seenFlow.Store(noFlow)

	if d.closed.Load() || !d.up.addDown(d) {
		return *chosen, nil // nothing to forward; Pion still wants a codec
	}
	d.registerRTCP(d.dtls.Load()) // rxrtcp.go
	// A new subscriber cannot decode until it has a keyframe. On a first
	// negotiation the transport is not up yet: the forwarder asks once it is.
	if d.transportReady() {
		d.up.requestLayerKeyframe(pickLayer(d.up.flowing.Load(), int8(d.maxLayer.Load())))
	}
	return *chosen, nil
}

// transportReady tells whether what forward writes reaches the subscriber:
// its DTLS transport is connected (Pion starts SRTP under the same lock, so
// SRTP is ready too). A down track never attached to a sender has no
// transport to wait for.
func (d *DownTrack) transportReady() bool {
	if d.ready.Load() {
		return true
	}
	tr := d.dtls.Load()
	if tr != nil && tr.State() != webrtc.DTLSTransportStateConnected {
		return false
	}
	d.directOnce.Do(func() { d.goDirect(tr) })       // before ready: no write precedes the choice
	d.fastRTCPOnce.Do(func() { d.registerRTCP(tr) }) // rxrtcp.go: again, in case Bind came before Attach
	d.ready.Store(true)
	return true
}

// goDirect makes the track write through its connection's direct writer
// when the connection has one (directwrite.go).
func (d *DownTrack) goDirect(tr *webrtc.DTLSTransport) {
	if tr == nil || d.up.eng == nil {
		return
	}
	dc := d.up.eng.directFor(tr)
	if dc == nil {
		return
	}
	d.mu.Lock()
	d.direct = dc
	if d.w != nil {
		d.w = dc
	}
	d.mu.Unlock()
}

// codecMatches tells whether the subscriber's negotiated codec c can carry
// the publisher's codec up unchanged.
func codecMatches(up, c webrtc.RTPCodecParameters) bool {
	if !strings.EqualFold(up.MimeType, c.MimeType) {
		return false
	}
	if codecKindOf(up.MimeType) != codecH264 {
		return true
	}
	// H.264 profiles are not interchangeable (RFC 6184 §8.1): match the
	// profile and packetization mode, when the publisher told us them.
	return fmtpValue(up.SDPFmtpLine, "packetization-mode") == fmtpValue(c.SDPFmtpLine, "packetization-mode") &&
		strings.EqualFold(profileOf(up.SDPFmtpLine), profileOf(c.SDPFmtpLine))
}

func fmtpValue(line, key string) string {
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// profileOf is profile_idc and the constraint flags of profile-level-id,
// without the level: any level decodes a lower one.
func profileOf(line string) string {
	v := fmtpValue(line, "profile-level-id")
	if len(v) >= 4 {
		return v[:4]
	}
	return v
}

// Unbind is called by Pion when the sender stops; the down track leaves the fan-out.
func (d *DownTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	d.mu.Lock()
	if d.bindID == ctx.ID() {
		d.w = nil
	}
	d.mu.Unlock()
	d.up.removeDown(d)
	return nil
}

// Attach starts the RTCP read loop of the subscriber's sender, after
// pc.AddTrack(d). The loop forwards PLI and FIR upstream (throttled) and
// answers NACKs from the up track's packet cache.
func (d *DownTrack) Attach(sender *webrtc.RTPSender) {
	if !d.sender.CompareAndSwap(nil, sender) {
		return
	}
	// Taken here, not in Bind: Pion calls Bind holding the sender's lock.
	if tr := sender.Transport(); tr != nil {
		d.dtls.Store(tr)
	}
	go d.rtcpLoop(sender) // ends when the sender stops (RemoveTrack, pc.Close) or on Close
}

func (d *DownTrack) rtcpLoop(sender *webrtc.RTPSender) {
	buf := make([]byte, readBufSize)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			if !d.closed.Load() && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				d.log.Debug("read subscriber RTCP", "err", err)
			}
			return
		}
		d.onRTCP(buf[:n])
	}
}

// onRTCP handles one compound RTCP packet from the subscriber, from the RTCP
// loop or from the socket readers' fast path (rxrtcp.go), one at a time.
func (d *DownTrack) onRTCP(raw []byte) {
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil {
		return
	}
	st := d.up.stats
	d.fast.mu.Lock()
	defer d.fast.mu.Unlock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			st.keyframeRequests.Add(1)
			d.up.requestLayerKeyframe(int8(d.curLayer.Load()))
		case *rtcp.TransportLayerNack:
			st.nacksReceived.Add(1)
			d.observeNack(p)
			d.retransmit(p, &d.fast.rs)
		case *rtcp.ReceiverReport:
			d.observeReceiverReport(p)
		case *rtcp.TransportLayerCC:
			// Addressed to one of the connection's SSRCs (the receiver's
			// choice) but about all of them: the shared sender takes it.
			if tw := d.tw.Load(); tw != nil {
				tw.onFeedback(time.Now(), p)
			}
		}
	}
}

// Close takes the down track out of the fan-out and ends its RTCP loop once
// its sender has started. Idempotent. The caller still removes the sender
// from the peer connection.
func (d *DownTrack) Close() {
	if d.closed.Swap(true) {
		return
	}
	d.unregisterRTCP() // rxrtcp.go
	d.up.removeDown(d)
	d.mu.Lock()
	d.w = nil
	d.mu.Unlock()
	if s := d.sender.Load(); s != nil {
		// Wakes the RTCP loop, from a goroutine of its own: once the session is
		// negotiated, Pion's SetReadDeadline waits for SRTP (or for the sender to
		// stop). A subscriber that leaves before its connection is up never gets
		// SRTP, and its leave closes the connection (stopping the sender) only after
		// Close returns: waiting here held both peer connections for good (issue 12's
		// soak). The goroutine ends at once, or when the caller removes the sender.
		go func() { _ = s.SetReadDeadline(time.Unix(1, 0)) }()
	}
}

type fwdResult uint8

const (
	fwdSkipped     fwdResult = iota // not for this track (other layer), not a drop
	fwdSent                         // written
	fwdNotSelected                  // dropped while waiting for a keyframe to start or switch
	fwdWriteError                   // the transport refused it
	fwdPadding                      // padding-only probe
)

// forward is the per-packet, per-subscriber path. It allocates nothing: the
// header is rewritten in the calling goroutine's scratch, never in the shared
// packet (STYLE 9), and the write goes out with the shared payload.
func (d *DownTrack) forward(p *inPacket, s *scratchHeader) (fwdResult, int) {
	bit := uint32(1) << p.layer
	if d.lim.off.Load() {
		return fwdSkipped, 0 // paused: hidden tile, or no room on the link (downlimit.go)
	}
	if d.want.Load()&bit == 0 && d.seenFlow.Load() == p.flowing && d.seenGen.Load() == p.gen {
		return fwdSkipped, 0
	}
	if !d.transportReady() {
		// Not even the forwarder sees the packet: it starts (and asks for its
		// keyframe) with the first packet the subscriber can receive.
		return fwdSkipped, 0
	}

	d.mu.Lock()
	w := d.w
	if w == nil {
		d.mu.Unlock()
		return fwdSkipped, 0
	}
	if d.lim.restart.Swap(false) {
		d.fwd.restart() // after a pause: start again at a keyframe
	}
	v := d.fwd.process(p, int8(d.maxLayer.Load()))
	d.want.Store(d.fwd.wantMask())
	d.seenFlow.Store(p.flowing)
	d.seenGen.Store(p.gen)
	if d.fwd.cur >= 0 {
		d.curLayer.Store(int32(d.fwd.cur))
	} else {
		d.curLayer.Store(int32(d.fwd.target))
	}
	waiting := p.layer == d.fwd.target || d.fwd.cur < 0
	ssrc, pt, alID, twID, strip, redPT := d.ssrc, d.pt, d.alID, d.twID, d.redStrip, d.redPT
	var sr srReport
	if v.ok {
		newest := uint16(d.fwd.lastOut) == v.seq && d.fwd.lastTs == v.ts
		sr = d.sr.sent(p, v.ts, newest, d.dtls.Load() != nil, ssrc, d.fwd.clockRate)
		sr.layer, sr.tsAdd = d.fwd.cur, d.fwd.tsAdd
	}
	d.mu.Unlock()

	if v.wantKF >= 0 {
		d.up.requestLayerKeyframe(v.wantKF)
	}
	if !v.ok {
		switch {
		case v.padding:
			return fwdPadding, 0
		case waiting:
			return fwdNotSelected, 0
		}
		return fwdSkipped, 0
	}

	h := s.rewrite(p.pkt, p.alID, ssrc, pt, alID, v.seq, v.ts)
	payload := p.pkt.Payload
	if strip {
		var ok bool
		if payload, ok = redPrimary(payload); !ok {
			h.Extensions = nil
			return fwdSkipped, 0
		}
	} else if redPT != 0 {
		payload = redRemap(s.red[:0], payload, redPT)
	}
	if twID != 0 {
		if tw := d.tw.Load(); tw != nil {
			tw.stampHeader(h, twID, &s.tw, len(payload), tw.since(d.up.epoch, p.arrival))
		}
	}
	n, err := w.WriteRTP(h, payload)
	h.Extensions = nil // do not keep the shared packet's bytes reachable
	if sr.due {
		d.sendSenderReport(sr)
	}
	if err != nil {
		return fwdWriteError, 0
	}
	d.rx.sent.Add(uint64(n))
	d.rx.pkts.Add(1)
	return fwdSent, n
}

// rewrite makes s the header of pkt as one subscriber gets it: its SSRC,
// payload type, sequence number and timestamp, and only the header extension
// it negotiated (audio level, id alID; the publisher's is srcAlID).
func (s *scratchHeader) rewrite(pkt *rtp.Packet, srcAlID uint8, ssrc uint32, pt, alID uint8, seq uint16, ts uint32) *rtp.Header {
	h := &s.h
	*h = pkt.Header
	h.SSRC, h.PayloadType, h.SequenceNumber, h.Timestamp = ssrc, pt, seq, ts
	// Extension ids are per session (RFC 8285): drop the publisher's and
	// re-add the one the subscriber uses for audio level.
	h.Extension, h.ExtensionProfile, h.Extensions = false, 0, s.ext[:0]
	h.Padding, h.PaddingSize = false, 0
	if alID != 0 && srcAlID != 0 {
		if level := pkt.GetExtension(srcAlID); level != nil {
			_ = h.SetExtension(alID, level)
		}
	}
	return h
}
