// Package hls turns live RTP (VP8 video, Opus audio) into an HLS stream with ffmpeg:
// H.264/AAC segments of about a second and an event playlist that keeps every segment,
// so that the same directory is the live stream while it runs and the archive after.
// It serves the directory with headers any HTTP cache or CDN understands (Handler).
//
// The RTP reaches ffmpeg over loopback UDP, described by an SDP file; each input is a
// Sink-shaped writer (WriteRTP, Close), so it can be attached to an SFU up track like a
// recorder. It imports no package of ours.
package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Config configures one program.
type Config struct {
	Dir    string // segments and playlists; created; an existing playlist is continued
	FFmpeg string // the ffmpeg binary (default "ffmpeg")
	// Width, Height and FPS of the output picture (default 1280x720 at 25): every input
	// picture is scaled and padded to it, so simulcast layer switches keep one stream.
	Width, Height, FPS int
	VideoKbps          int // default 1200
	Logger             *slog.Logger
}

// Input is one RTP stream to feed.
type Input struct {
	Video bool // VP8 at 90 kHz; else Opus at 48 kHz stereo
}

// Program is ffmpeg fed with RTP, kept running: inputs: at most one video (the
// picture) and any number of audio streams, mixed. ffmpeg ends on its own when no
// packet came for listenTimeout (a speaker's camera and microphone both off); the
// program then starts it again, continuing the playlist after a discontinuity.
type Program struct {
	cfg     Config
	writers []*Writer // static after Start
	sdpPath string
	video   bool
	audio   int

	stop     chan struct{} // closed by Stop
	stopOnce sync.Once
	done     chan struct{} // closed when run has returned
	runs     atomic.Int64  // ffmpeg processes started

	mu  sync.Mutex // guards cmd
	cmd *exec.Cmd  // the running ffmpeg, nil between runs
}

// listenTimeout is how long ffmpeg waits for a packet before it ends, and so also
// how long a Stop may take.
const listenTimeout = "2"

// Start launches ffmpeg for inputs, writing into cfg.Dir. It continues the playlist
// found there (after a discontinuity), so a program restarted with other inputs (a
// viewer brought on stage) stays one stream and one archive.
func Start(ctx context.Context, cfg Config, inputs []Input) (*Program, error) {
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		cfg.Width, cfg.Height = 1280, 720
	}
	if cfg.FPS == 0 {
		cfg.FPS = 25
	}
	if cfg.VideoKbps == 0 {
		cfg.VideoKbps = 1200
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Program{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	for _, in := range inputs {
		if in.Video {
			p.video = true
		} else {
			p.audio++
		}
	}
	if len(inputs)-p.audio > 1 || len(inputs) == 0 {
		return nil, fmt.Errorf("hls: %d video and %d audio inputs: want at most one video and at least one input", len(inputs)-p.audio, p.audio)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	sdp := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=yizhan program\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, in := range inputs {
		w, err := newWriter(in.Video)
		if err != nil {
			p.closeWriters()
			return nil, err
		}
		p.writers = append(p.writers, w)
		sdp += w.sdpMedia()
	}
	p.sdpPath = filepath.Join(cfg.Dir, "program.sdp")
	if err := os.WriteFile(p.sdpPath, []byte(sdp), 0o644); err != nil {
		p.closeWriters()
		return nil, fmt.Errorf("hls: write sdp: %w", err)
	}
	// The writers only reserved their ports: free them for ffmpeg to bind.
	for _, w := range p.writers {
		w.release()
	}
	if err := p.startFFmpeg(); err != nil {
		p.closeWriters()
		return nil, err
	}
	for _, w := range p.writers {
		if err := w.dial(); err != nil {
			p.Stop()
			return nil, err
		}
	}
	go p.run() // ends on Stop
	cfg.Logger.Info("hls program started", "dir", cfg.Dir, "video", p.video, "audio", p.audio)
	_ = ctx
	return p, nil
}

func (p *Program) startFFmpeg() error {
	cmd := exec.Command(p.cfg.FFmpeg, p.args(p.sdpPath, p.video, p.audio)...)
	cmd.Dir = p.cfg.Dir
	logf, err := os.OpenFile(filepath.Join(p.cfg.Dir, "ffmpeg.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("hls: start ffmpeg: %w", err)
	}
	p.runs.Add(1)
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	return nil
}

// run waits for ffmpeg and starts it again until Stop.
func (p *Program) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		if cmd != nil {
			err := cmd.Wait()
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			default:
			}
			p.cfg.Logger.Info("hls: ffmpeg ended; starting it again", "dir", p.cfg.Dir, "err", err)
		}
		select {
		case <-p.stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
		if err := p.startFFmpeg(); err != nil {
			p.cfg.Logger.Error("hls: restart ffmpeg", "err", err)
		}
	}
}

func (p *Program) args(sdp string, video bool, audio int) []string {
	c := p.cfg
	a := []string{"-hide_banner", "-nostats", "-nostdin", "-v", "warning",
		"-protocol_whitelist", "file,udp,rtp", "-analyzeduration", "1500000", "-probesize", "500000",
		"-listen_timeout", listenTimeout, "-reorder_queue_size", "64", "-max_delay", "200000",
		"-i", sdp}
	var graph []string
	if video {
		graph = append(graph, fmt.Sprintf("[0:v]fps=%d,scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,format=yuv420p[v]",
			c.FPS, c.Width, c.Height, c.Width, c.Height))
	}
	switch {
	case audio == 1:
		graph = append(graph, "[0:a]aresample=async=1000[a]")
	case audio > 1:
		ins := ""
		for i := 0; i < audio; i++ {
			ins += fmt.Sprintf("[0:a:%d]", i)
		}
		graph = append(graph, fmt.Sprintf("%samix=inputs=%d:duration=longest:normalize=0,aresample=async=1000[a]", ins, audio))
	}
	a = append(a, "-filter_complex", strings.Join(graph, ";"))
	if video {
		gop := strconv.Itoa(c.FPS)
		a = append(a, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "main",
			"-b:v", fmt.Sprintf("%dk", c.VideoKbps), "-maxrate", fmt.Sprintf("%dk", c.VideoKbps*3/2), "-bufsize", fmt.Sprintf("%dk", c.VideoKbps),
			"-g", gop, "-keyint_min", gop, "-sc_threshold", "0")
	}
	if audio > 0 {
		a = append(a, "-map", "[a]", "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "2")
	}
	flags := "program_date_time+independent_segments"
	if _, err := os.Stat(filepath.Join(c.Dir, PlaylistName)); err == nil {
		flags += "+append_list+discont_start"
	}
	return append(a, "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "event",
		"-hls_flags", flags, "-hls_segment_filename", "seg%05d.ts", PlaylistName)
}

// Runs is how many times ffmpeg was started (1 + restarts).
func (p *Program) Runs() int64 { return p.runs.Load() }

// PlaylistName is the full (event) playlist ffmpeg writes in the program directory.
const PlaylistName = "program.m3u8"

// EndedName marks a program directory whose stream is over (see MarkEnded).
const EndedName = "ENDED"

// MarkEnded records that the stream in dir is over: its playlists then end, and the
// archive playlist may be cached for long.
func MarkEnded(dir string) error {
	return os.WriteFile(filepath.Join(dir, EndedName), nil, 0o644)
}

// Writers are the inputs' RTP writers, in the order of the inputs.
func (p *Program) Writers() []*Writer { return p.writers }

// Stop ends the program: no more input, ffmpeg interrupted (it writes the last segment
// and the playlist's end within listenTimeout), killed if it takes longer than 10 s.
// Idempotent.
func (p *Program) Stop() error {
	p.stopOnce.Do(func() {
		close(p.stop)
		p.closeWriters()
		p.mu.Lock()
		if p.cmd != nil {
			_ = p.cmd.Process.Signal(os.Interrupt)
		}
		p.mu.Unlock()
	})
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.mu.Lock()
		if p.cmd != nil {
			_ = p.cmd.Process.Kill()
		}
		p.mu.Unlock()
		<-p.done
	}
	return nil
}

func (p *Program) closeWriters() {
	for _, w := range p.writers {
		_ = w.Close()
	}
}

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
