package hls

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// Writer sends one input's RTP to ffmpeg. It has the shape of an SFU sink: WriteRTP
// owns the packet; Close ends the input.
type Writer struct {
	video bool
	pt    uint8
	port  int // ffmpeg's RTP port; port+1 is its RTCP

	mu      sync.Mutex   // guards conn, closed and reserve
	reserve []net.Conn   // holds port and port+1 until ffmpeg starts
	conn    *net.UDPConn // to ffmpeg
	closed  bool
	sent    atomic.Int64
	errs    atomic.Int64
}

func newWriter(video bool) (*Writer, error) {
	w := &Writer{video: video, pt: 111}
	if video {
		w.pt = 96
	}
	// An even port whose odd neighbour is free too (RTP and RTCP), held until ffmpeg
	// binds them.
	for i := 0; i < 50; i++ {
		a, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port+1))
		if err != nil {
			a.Close()
			continue
		}
		w.port, w.reserve = port, []net.Conn{a.(net.Conn), b.(net.Conn)}
		return w, nil
	}
	return nil, errors.New("hls: no free UDP port pair for ffmpeg")
}

func (w *Writer) sdpMedia() string {
	if w.video {
		return fmt.Sprintf("m=video %d RTP/AVP %d\r\na=rtpmap:%d VP8/90000\r\n", w.port, w.pt, w.pt)
	}
	return fmt.Sprintf("m=audio %d RTP/AVP %d\r\na=rtpmap:%d opus/48000/2\r\n", w.port, w.pt, w.pt)
}

func (w *Writer) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.reserve {
		_ = c.Close()
	}
	w.reserve = nil
}

func (w *Writer) dial() error {
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: w.port})
	if err != nil {
		return fmt.Errorf("hls: dial ffmpeg: %w", err)
	}
	_ = c.SetWriteBuffer(1 << 20)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return c.Close()
	}
	w.conn = c
	return nil
}

// Video reports whether this is the picture input.
func (w *Writer) Video() bool { return w.video }

// WriteRTP sends p to ffmpeg with this input's payload type. A send error is counted,
// not returned: ffmpeg restarting must not detach the writer from its track.
func (w *Writer) WriteRTP(p *rtp.Packet) error {
	w.mu.Lock()
	c := w.conn
	w.mu.Unlock()
	if c == nil {
		return nil
	}
	p.PayloadType = w.pt
	b, err := p.Marshal()
	if err != nil {
		return nil
	}
	if _, err := c.Write(b); err != nil {
		w.errs.Add(1)
		return nil
	}
	w.sent.Add(1)
	return nil
}

// Sent is how many packets went to ffmpeg.
func (w *Writer) Sent() int64 { return w.sent.Load() }

// Close stops sending. Idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, c := range w.reserve {
		_ = c.Close()
	}
	w.reserve = nil
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
	return nil
}
