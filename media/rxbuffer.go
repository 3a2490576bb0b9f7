package media

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5/packetio"
	"github.com/pion/webrtc/v4"
)

// The receive path. Pion hands a publisher's packets through a chain of
// goroutines: the UDP mux's read loop, the ICE candidate's, the DTLS/SRTP
// demultiplexer's, SRTP's (which decrypts), and then whoever reads the track:
// our read loop, through the up-path interceptors (NACK generator, receiver
// reports, TWCC feedback, each of which parses the header again and
// allocates, and TWCC's hands every packet to a goroutine of its own).
//
// An rxBuffer takes out the last hop and the interceptors. It is the buffer
// SRTP writes each decrypted packet of one SSRC into (SettingEngine's
// BufferFactory); once the up track's layer attaches to it, Write hands the
// packet straight to the layer, which forwards it in SRTP's goroutine, and
// the layer's own feedback (upfeedback.go) replaces the interceptors.
//
// Until the layer attaches, it is an ordinary bounded queue: Pion reads the
// first packet(s) itself to learn the payload type and the simulcast rid,
// and OnTrack comes after that.
type rxBuffer struct {
	mu      sync.Mutex // guards everything below but running
	q       [][]byte   // packets not yet read (before attach, and while attach drains)
	wake    chan struct{}
	h       func([]byte) // the layer's receive; set by attach
	direct  bool         // h is set and the queue drained: Write calls h at once
	discard bool         // detached: Write drops
	closed  bool
	onClose func() // set by attach; called once when SRTP closes the stream

	// running is held while h runs, so that detach and Close can wait for the
	// packet being forwarded before the layer is torn down. Only they contend
	// for it; the packet path takes it uncontended.
	running sync.Mutex

	// idx is 1 + the highest SRTP packet index (rollover count << 16 | seq)
	// handed to h, counted as Pion's SRTP context counts it from the
	// stream's first packet; 0 before the first. Written under running; the
	// fast path (rxfast.go) reads it to take the stream over.
	idx atomic.Uint64
}

// rxQueueMax bounds what waits for the layer to attach: a second of a high
// layer. OnTrack handlers normally attach within milliseconds.
const rxQueueMax = 256

var errAttached = errors.New("media: RTP stream is read by its up track")

func newRxBuffer() *rxBuffer { return &rxBuffer{wake: make(chan struct{}, 1)} }

// Write is called by SRTP's read loop, one packet at a time.
func (b *rxBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return 0, io.ErrClosedPipe
	case b.discard:
		b.mu.Unlock()
		return len(p), nil
	case b.direct:
		b.mu.Unlock()
		b.deliver(p) // false: detached or closed meanwhile, p is dropped
		return len(p), nil
	}
	if len(b.q) >= rxQueueMax {
		b.q[0] = nil
		b.q = b.q[1:]
	}
	b.q = append(b.q, append([]byte(nil), p...))
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Read serves Pion's own reads before the layer attaches. After that it
// fails at once (attach reads the track dry through it).
func (b *rxBuffer) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		switch {
		case b.h != nil:
			b.mu.Unlock()
			return 0, errAttached
		case len(b.q) > 0:
			pkt := b.q[0]
			b.q[0] = nil
			b.q = b.q[1:]
			b.mu.Unlock()
			if len(pkt) > len(p) {
				return 0, io.ErrShortBuffer
			}
			return copy(p, pkt), nil
		case b.closed:
			b.mu.Unlock()
			return 0, io.EOF
		}
		b.mu.Unlock()
		<-b.wake
	}
}

// Close is called by SRTP when the stream ends (the receiver stopped, the
// peer connection closed).
func (b *rxBuffer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.q = nil
	onClose := b.onClose
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	if onClose != nil {
		b.running.Lock() // the last packet is through
		b.running.Unlock()
		onClose()
	}
	return nil
}

// attach makes h the receiver of every packet from now on, in order: first
// what Pion read ahead into the track (peeked to learn the codec and rid),
// then what queued here, then each packet as SRTP writes it. onClose is
// called when the stream ends. false if the stream has ended already.
func (b *rxBuffer) attach(remote *webrtc.TrackRemote, h func([]byte), onClose func()) bool {
	b.mu.Lock()
	if b.closed || b.h != nil {
		b.mu.Unlock()
		return false
	}
	b.h, b.onClose = h, onClose
	b.mu.Unlock()

	b.running.Lock()
	// Pion's read-ahead: TrackRemote.Read returns it before it looks at the
	// stream; with a deadline in the past, it then returns at once.
	buf := make([]byte, readBufSize)
	_ = remote.SetReadDeadline(time.Unix(1, 0))
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			break
		}
		b.track(buf[:n])
		h(buf[:n])
	}
	_ = remote.SetReadDeadline(time.Time{})
	// What queued here, also what SRTP writes meanwhile; then go direct.
	for {
		b.mu.Lock()
		if len(b.q) == 0 || b.closed {
			b.q = nil
			b.direct = !b.closed && !b.discard
			b.mu.Unlock()
			break
		}
		pkt := b.q[0]
		b.q[0] = nil
		b.q = b.q[1:]
		b.mu.Unlock()
		b.track(pkt)
		h(pkt)
	}
	b.running.Unlock()
	return true
}

// deliver hands p to the layer if the buffer is in direct mode, and waits
// for it to be through; false if it is not (yet, or any more). SRTP's read
// loop (Write) and the fast path (rxfast.go) call it. The state is checked
// under running, so that a packet never reaches a layer that detach or Close
// has let go.
func (b *rxBuffer) deliver(p []byte) bool {
	b.running.Lock()
	b.mu.Lock()
	h, ok := b.h, b.direct && !b.closed
	b.mu.Unlock()
	if ok {
		b.track(p)
		h(p)
	}
	b.running.Unlock()
	return ok
}

// isDirect tells whether packets go straight to the layer.
func (b *rxBuffer) isDirect() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.direct && !b.closed
}

// track counts the packet index of p (under running).
func (b *rxBuffer) track(p []byte) {
	if len(p) < 4 {
		return
	}
	seq := binary.BigEndian.Uint16(p[2:4])
	v := b.idx.Load()
	if v == 0 {
		b.idx.Store(uint64(seq) + 1)
		return
	}
	if d := int16(seq - uint16(v-1)); d > 0 {
		b.idx.Store(v + uint64(d))
	}
}

// follows tells whether seq comes right after the newest packet delivered.
func (b *rxBuffer) follows(seq uint16) bool {
	v := b.idx.Load()
	return v != 0 && uint16(v-1)+1 == seq
}

// rolloverFor is the rollover count of sequence number seq, judged from the
// highest index delivered (RFC 3711 §3.3.1's estimate).
func (b *rxBuffer) rolloverFor(seq uint16) uint32 {
	v := b.idx.Load()
	if v == 0 {
		return 0
	}
	hi := int64(v - 1)
	ext := hi + int64(int16(seq-uint16(hi)))
	if ext < 0 {
		return 0
	}
	return uint32(ext >> 16)
}

// detach stops handing packets to the layer and waits for the one in
// flight; later packets are dropped.
func (b *rxBuffer) detach() {
	b.mu.Lock()
	b.discard, b.direct = true, false
	b.q = nil
	b.mu.Unlock()
	b.running.Lock()
	b.running.Unlock()
}

// rxSession is the receive state of one peer connection built by the
// engine: the rxBuffers of its incoming SSRCs, and the transport-wide
// congestion control feedback (TWCC) for everything it receives.
type rxSession struct {
	mu   sync.Mutex // guards bufs
	bufs map[uint32]*rxBuffer

	twcc twccFeedback // upfeedback.go
}

func newRxSession() *rxSession { return &rxSession{bufs: map[uint32]*rxBuffer{}} }

// newBuffer is the peer connection's SettingEngine.BufferFactory. RTCP gets
// Pion's usual bounded buffer.
func (s *rxSession) newBuffer(kind packetio.BufferPacketType, ssrc uint32) io.ReadWriteCloser {
	if kind != packetio.RTPBufferPacket {
		b := rtcpBuffer{packetio.NewBuffer()}
		b.SetLimitSize(rtcpBufferLimit)
		return b
	}
	b := newRxBuffer()
	s.mu.Lock()
	for k, old := range s.bufs {
		if old.isClosed() { // streams that ended without a layer (forget never ran)
			delete(s.bufs, k)
		}
	}
	s.bufs[ssrc] = b // a stream opened again for the same SSRC: the newest is the live one
	s.mu.Unlock()
	return b
}

// rtcpBufferLimit is what SRTCP's own default buffer holds.
const rtcpBufferLimit = 100 * 1000

// rtcpBuffer is SRTCP's default buffer: a packetio.Buffer (deadlines
// included, which wake DownTrack's RTCP loop on Close) without attributes.
type rtcpBuffer struct{ *packetio.Buffer }

func (b rtcpBuffer) Read(p []byte) (int, error) {
	n, _, err := b.Buffer.Read(p, nil)
	return n, err
}

func (b rtcpBuffer) Write(p []byte) (int, error) { return b.Buffer.Write(p, nil) }

func (b *rxBuffer) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// buffer returns the live rxBuffer of ssrc, nil if there is none.
func (s *rxSession) buffer(ssrc uint32) *rxBuffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bufs[ssrc]
	if b == nil || b.isClosed() {
		return nil
	}
	return b
}

// forget drops a closed buffer from the map (its stream ended).
func (s *rxSession) forget(ssrc uint32, b *rxBuffer) {
	s.mu.Lock()
	if s.bufs[ssrc] == b {
		delete(s.bufs, ssrc)
	}
	s.mu.Unlock()
}
