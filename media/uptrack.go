package media

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// UpTrackConfig configures an UpTrack.
type UpTrackConfig struct {
	ID, StreamID string
	Kind         webrtc.RTPCodecType
	// Codec, when known, is the track's codec before its first layer is added:
	// a subscriber may be given the track in between, and its down track binds
	// against this codec.
	Codec  webrtc.RTPCodecParameters
	Logger *slog.Logger
	// Engine, when set, counts this track in Engine.Stats (Engine.NewUpTrack sets it).
	Engine *Engine
}

const (
	// A layer with no packet for this long is not flowing: browsers pause the
	// high layers when their uplink shrinks, and we fall back to a lower one.
	layerStopAfter = int64(time.Second)
	// How often a read loop looks for layers that stopped.
	flowCheckEvery = int64(100 * time.Millisecond)
	// Big enough for any RTP packet over UDP at Pion's receive MTU.
	readBufSize = 1500
)

// UpTrack is one published track: all its simulcast layers (rids q, h, f) or
// one plain layer. Its read loops fan each packet out to the down tracks and
// sinks attached to it.
type UpTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	log          *slog.Logger
	stats        *counters
	eng          *Engine    // nil in unit tests
	out          *batchConn // the engine's UDP socket, batched per fan-out pass; nil without an engine
	epoch        time.Time  // arrival times are monotonic nanoseconds since epoch

	mu      sync.Mutex // guards codec, active, ended, closing, pool and the writers of downs and sinks
	codec   webrtc.RTPCodecParameters
	ck      codecKind // set with codec, before the first read loop starts
	active  int       // read loops running
	ended   bool      // done is closed
	closing bool      // Close was called
	pool    fanPool   // the fan-out workers (fanout.go)
	onDone  []func()  // run once done is closed (OnDone)

	layers  [maxLayers]atomic.Pointer[layer] // set once by AddLayer
	downs   atomic.Pointer[fanout]           // copy-on-write; read loops load it without a lock
	sinks   atomic.Pointer[[]*sinkQueue]     // copy-on-write
	flowing atomic.Uint32                    // bit per layer that had a packet within layerStopAfter
	flowAt  atomic.Int64                     // when a read loop last looked for stopped layers
	gen     atomic.Uint32                    // bumped on unmute; subscribers resync at a keyframe
	muted   atomic.Bool
	level   audioLevel // speech detection from the audio-level extension
	meter   upMeter    // layer rates and uplink loss (uplink.go)

	done chan struct{} // closed when every layer's read loop has ended
}

// layer is one simulcast encoding (or the only one) of an up track.
type layer struct {
	idx    int8
	rid    string
	remote *webrtc.TrackRemote
	recv   *webrtc.RTPReceiver
	pc     *webrtc.PeerConnection
	ssrc   uint32
	alID   uint8        // audio-level extension id in the publisher's session
	twccID uint8        // transport-wide sequence number extension id, 0 if not negotiated
	cache  *packetCache // answers subscribers' NACKs; written by the receive path
	rxs    *rxSession   // the publisher connection's receive state; nil if the engine did not build it
	buf    *rxBuffer    // set when attached: SRTP hands packets to receive, there is no read loop
	rs     rxState      // owned by the receive path (one goroutine at a time)
	ended  sync.Once    // layerEnded runs once: read loop end, stream close or Close

	lastPacket atomic.Int64 // arrival of the newest packet
	rx         layerRx      // bytes, packets and sequence numbers, for rates and loss (uplink.go)
	kf         keyframeAsk  // when to ask the publisher for a keyframe (keyframeask.go)
}

// NewUpTrack makes an up track with no layer yet; AddLayer gives it layers.
func NewUpTrack(cfg UpTrackConfig) *UpTrack {
	log := cfg.Logger
	var st *counters
	var out *batchConn
	if cfg.Engine != nil {
		st = &cfg.Engine.stats
		out = cfg.Engine.batch
		if log == nil {
			log = cfg.Engine.log
		}
	} else {
		st = &counters{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &UpTrack{
		id: cfg.ID, streamID: cfg.StreamID, kind: cfg.Kind,
		log:   log.With("track", cfg.ID),
		stats: st,
		eng:   cfg.Engine,
		out:   out,
		epoch: time.Now(),
		done:  make(chan struct{}),
	}
	if cfg.Codec.MimeType != "" {
		t.codec, t.ck = cfg.Codec, codecKindOf(cfg.Codec.MimeType)
	}
	t.pool.t = t
	t.downs.Store(&fanout{})
	t.sinks.Store(&[]*sinkQueue{})
	return t
}

// now is monotonic nanoseconds since the track was made: cheap to compare and
// to keep in an atomic.
func (t *UpTrack) now() int64 { return int64(time.Since(t.epoch)) }

// ID is the track id given in the config.
func (t *UpTrack) ID() string { return t.id }

// Kind is audio or video.
func (t *UpTrack) Kind() webrtc.RTPCodecType { return t.kind }

// AddLayer adds one simulcast layer (or the only one) and starts its read
// loop and RTCP loop. Call it from OnTrack; a layer added after the track
// ended is ignored.
func (t *UpTrack) AddLayer(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver, pc *webrtc.PeerConnection) {
	l := &layer{rid: remote.RID(), remote: remote, recv: recv, pc: pc, ssrc: uint32(remote.SSRC())}
	if t.kind == webrtc.RTPCodecTypeVideo {
		l.cache = newPacketCache(videoCacheLen)
	} else {
		l.cache = newPacketCache(audioCacheLen)
	}
	for _, x := range recv.GetParameters().HeaderExtensions {
		switch x.URI {
		case sdp.AudioLevelURI:
			l.alID = uint8(x.ID)
		case sdp.TransportCCURI:
			l.twccID = uint8(x.ID)
		}
	}
	codec := remote.Codec()
	l.rs.fb.init(hasFeedback(codec.RTCPFeedback, "nack", ""), codec.ClockRate)
	l.rxs = t.eng.session(pc)

	t.mu.Lock()
	if t.ended || t.closing {
		t.mu.Unlock()
		t.log.Warn("layer added to an ended track", "rid", l.rid)
		return
	}
	idx, ok := layerIndex(l.rid)
	if !ok || t.layers[idx].Load() != nil {
		idx = -1
		for i := range t.layers {
			if t.layers[i].Load() == nil {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		t.mu.Unlock()
		t.log.Warn("too many layers, ignoring one", "rid", l.rid)
		return
	}
	l.idx = int8(idx)
	if t.active == 0 && t.codec.MimeType == "" {
		t.codec = remote.Codec()
		t.ck = codecKindOf(t.codec.MimeType)
	}
	t.layers[idx].Store(l)
	t.active++
	t.mu.Unlock()

	t.log.Debug("layer added", "rid", l.rid, "layer", idx, "ssrc", l.ssrc, "codec", t.codec.MimeType)
	go t.rtcpLoop(l) // ends when the receiver stops or on Close
	if l.rxs != nil {
		if b := l.rxs.buffer(l.ssrc); b != nil {
			l.buf = b
			onClose := func() { l.rxs.forget(l.ssrc, b); t.endLayer(l) }
			if b.attach(remote, func(p []byte) { t.receive(l, p) }, onClose) {
				return // SRTP's read loop forwards; the stream's end ends the layer
			}
			l.buf = nil
		}
		t.log.Warn("no receive buffer for a layer; reading it", "rid", l.rid, "ssrc", l.ssrc)
	}
	go t.readLoop(l) // ends on io.EOF, read error or Close; the last one closes done
}

// hasFeedback tells whether fb lists the RTCP feedback typ (with param).
func hasFeedback(fb []webrtc.RTCPFeedback, typ, param string) bool {
	for _, f := range fb {
		if f.Type == typ && f.Parameter == param {
			return true
		}
	}
	return false
}

// Codec is the codec of the track's first layer.
func (t *UpTrack) Codec() webrtc.RTPCodecParameters {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.codec
}

// Done is closed when every layer's read loop has ended (unpublish, peer
// gone, or Close).
func (t *UpTrack) Done() <-chan struct{} { return t.done }

// OnDone runs f in a goroutine of its own once the track has ended (at once if it has):
// a caller that only needs to act at the end spends no goroutine waiting on Done for
// the track's whole life.
func (t *UpTrack) OnDone(f func()) {
	t.mu.Lock()
	if !t.ended {
		t.onDone = append(t.onDone, f)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	go f() // ends with f
}

// Close stops the read loops, closes every sink and forgets every down
// track. It does not wait for the loops; Done tells when they ended.
func (t *UpTrack) Close() {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return
	}
	t.closing = true
	noLayers := t.active == 0 && !t.ended
	t.mu.Unlock()

	// An attached layer stops taking packets and ends at once. For a read
	// loop, a deadline in the past wakes the blocked read; the loop sees
	// closing and leaves.
	past := time.Unix(1, 0)
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil {
			if l.buf != nil {
				l.buf.detach()
				t.endLayer(l)
				continue
			}
			_ = l.remote.SetReadDeadline(past)
			if l.rid != "" {
				_ = l.recv.SetReadDeadlineSimulcast(past, l.rid)
			} else {
				_ = l.recv.SetReadDeadline(past)
			}
		}
	}
	if noLayers {
		t.finish()
	}
}

// SetMuted stops (or resumes) forwarding. On unmute subscribers start again
// at the next keyframe, which we ask for.
func (t *UpTrack) SetMuted(muted bool) {
	if t.muted.Swap(muted) == muted {
		return
	}
	if !muted {
		t.gen.Add(1)
		t.RequestKeyframe()
	}
}

// rxState is what the receive path of one layer keeps from packet to packet.
type rxState struct {
	pkt     rtp.Packet
	seq     seqUnwrapper
	scratch scratchHeader
	fb      upFeedback // NACKs and receiver reports to the publisher (upfeedback.go)
}

// readLoop reads one layer's RTP when it is not attached to an rxBuffer (a
// peer connection the engine did not build) and hands each packet to
// receive. It allocates nothing per packet.
func (t *UpTrack) readLoop(l *layer) {
	defer t.endLayer(l)
	buf := make([]byte, readBufSize)
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			t.mu.Lock()
			closing := t.closing
			t.mu.Unlock()
			if !closing && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.log.Warn("read RTP", "rid", l.rid, "err", err)
			}
			return
		}
		t.receive(l, buf[:n])
	}
}

// receive takes one decrypted RTP packet of layer l and fans it out. It runs
// in SRTP's read loop (attached layers) or in readLoop, one packet at a time
// per layer; raw is only valid during the call. Nothing here allocates per
// packet.
func (t *UpTrack) receive(l *layer, raw []byte) {
	rs := &l.rs
	pkt := &rs.pkt
	if err := pkt.Unmarshal(raw); err != nil {
		return // not RTP we can parse
	}
	n := len(raw)
	now := t.now()
	t.stats.packetsIn.Add(1)
	t.stats.bytesIn.Add(uint64(n))
	l.lastPacket.Store(now)
	bit := uint32(1) << l.idx
	flowing := t.flowing.Load()
	ext := rs.seq.unwrap(pkt.SequenceNumber)
	l.rx.observe(n, ext)
	if flowing&bit == 0 {
		flowing = t.flowing.Or(bit) | bit
	}
	if last := t.flowAt.Load(); now-last > flowCheckEvery && t.flowAt.CompareAndSwap(last, now) {
		flowing = t.checkFlowing(now)
	}

	if l.cache != nil {
		l.cache.put(ext, raw)
	}
	p := inPacket{
		pkt:      pkt,
		ext:      ext,
		arrival:  now,
		flowing:  flowing,
		gen:      t.gen.Load(),
		layer:    l.idx,
		keyframe: isKeyframeStart(t.ck, pkt.Payload),
		alID:     l.alID,
	}
	if p.keyframe {
		l.kf.keyframe() // serves whoever asked, before they see it in the fan-out
	} else if l.kf.due(now) {
		t.requestLayerKeyframe(l.idx)
	}
	// What the publisher is owed, read before the fan-out, sent after it.
	fb := rs.fb.observe(l.ssrc, ext, pkt.Timestamp, now)
	var (
		twccSeq uint16
		twccAt  time.Time // arrival, before the fan-out: its time is not the network's delay
		hasTWCC bool
	)
	if l.twccID != 0 && l.rxs != nil {
		if x := pkt.GetExtension(l.twccID); len(x) >= 2 {
			twccSeq, twccAt, hasTWCC = uint16(x[0])<<8|uint16(x[1]), time.Now(), true
		}
	}
	if t.muted.Load() {
		t.stats.dropsMuted.Add(1)
	} else {
		if l.alID != 0 {
			if ext := pkt.GetExtension(l.alID); len(ext) > 0 {
				t.level.observe(ext[0])
			}
		}
		t.fanOut(&p, raw, &rs.scratch)
	}
	if hasTWCC {
		if cc := l.rxs.twcc.record(l.ssrc, twccSeq, twccAt); cc != nil {
			fb = append(fb, cc...)
		}
	}
	if fb != nil {
		if err := l.pc.WriteRTCP(fb); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.log.Debug("send feedback to publisher", "rid", l.rid, "err", err)
		}
	}
}

// checkFlowing clears the bits of layers that stopped and returns the mask.
func (t *UpTrack) checkFlowing(now int64) uint32 {
	var stopped uint32
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil && now-l.lastPacket.Load() > layerStopAfter {
			stopped |= 1 << i
		}
	}
	if stopped != 0 {
		t.flowing.And(^stopped)
	}
	return t.flowing.Load()
}

// endLayer ends a layer once: its read loop returned, its stream closed, or
// the track was closed.
func (t *UpTrack) endLayer(l *layer) { l.ended.Do(func() { t.layerEnded(l) }) }

// layerEnded runs when a layer's packets stop for good; the last one ends the track.
func (t *UpTrack) layerEnded(l *layer) {
	t.mu.Lock()
	t.active--
	last := t.active == 0
	t.mu.Unlock()
	t.flowing.And(^(uint32(1) << l.idx))
	if last {
		t.finish()
	}
}

// finish closes done, the sinks and the fan-out workers, and forgets the down tracks.
func (t *UpTrack) finish() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended = true
	sinks := *t.sinks.Swap(&[]*sinkQueue{})
	t.downs.Store(&fanout{})
	t.pool.stop()
	onDone := t.onDone
	t.onDone = nil
	t.mu.Unlock()

	for _, s := range sinks {
		s.close()
	}
	close(t.done)
	for _, f := range onDone {
		go f() // ends with f; never run here: finish may be called with a caller's lock held
	}
}

// rtcpLoop reads the RTCP of one layer. Sender reports time our receiver
// reports (upfeedback.go) and go on to sinks that want them for lip sync.
func (t *UpTrack) rtcpLoop(l *layer) {
	buf := make([]byte, readBufSize)
	for {
		var (
			n   int
			err error
		)
		if l.rid != "" {
			n, _, err = l.recv.ReadSimulcast(buf, l.rid)
		} else {
			n, _, err = l.recv.Read(buf)
		}
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == l.ssrc {
				l.rs.fb.senderReport(sr.NTPTime, sr.RTPTime, t.now()) // our receiver reports' LSR/DLSR; the down tracks' sender reports
				for _, s := range *t.sinks.Load() {
					s.senderReport(l.idx, sr.NTPTime, sr.RTPTime)
				}
			}
		}
	}
}
