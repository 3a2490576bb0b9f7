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
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures one program.
type Config struct {
	Dir    string // segments and playlists; created; an existing playlist is continued
	FFmpeg string // the ffmpeg binary (default "ffmpeg")
	// Width, Height and FPS of the output picture (default 1280x720 at 25): every input
	// picture is scaled and padded to it, so simulcast layer switches keep one stream.
	Width, Height, FPS int
	VideoKbps          int // default 1200
	// KeyframeNeeded, if set, is called when a new ffmpeg can show nothing before a
	// keyframe: a run's ffmpeg started again (it died or heard nothing for
	// listenTimeout), at once and a second later; and every 2 s while a new run (Switch)
	// has no segment yet. Ask the publishers of the pictures for one.
	KeyframeNeeded func()
	Logger         *slog.Logger
}

// Input is one RTP stream to feed.
type Input struct {
	Video bool // VP8 at 90 kHz; else Opus at 48 kHz stereo
}

// MaxPictures is how many video inputs a program composes: one fills the frame, two
// stand side by side, three or four share a 2x2 grid (one tile black for three).
const MaxPictures = 4

// Program is one continuous HLS stream made by a succession of ffmpeg runs. A run is
// ffmpeg fed with RTP: up to MaxPictures videos (the pictures of everyone on stage,
// composed in input order) and any number of audio streams, mixed. When the inputs
// change (Switch) a new run starts beside the old one, and the old one goes on encoding
// until the new one has its first segment: the stream has no gap, only a discontinuity.
// Each run writes its own playlist (runNNN.m3u8) and segments (segNNNsssss.ts); the
// program composes them into PlaylistName, the one playlist viewers get, with one media
// sequence. ffmpeg ends on its own when no packet came for listenTimeout (a speaker's
// camera and microphone both off); the run then starts it again, after a discontinuity.
type Program struct {
	cfg Config

	stop     chan struct{} // closed by Stop
	stopOnce sync.Once
	done     chan struct{} // closed when compose has returned
	started  atomic.Int64  // ffmpeg processes started, all runs

	mu       sync.Mutex // guards below
	prefix   []entry    // segments of the playlist found at Start (an earlier program)
	runs     []*run     // every run of this program, in order
	retiring []*run     // runs still encoding until the newest has a segment
	nextID   int
	written  string // PlaylistName as last written
}

// run is one ffmpeg (restarted if it dies) with its inputs.
type run struct {
	p       *Program
	id      int
	writers []*Writer // static after startRun
	videos  int
	audio   int
	since   time.Time // when the run started

	stop     chan struct{} // closed by end
	stopOnce sync.Once
	done     chan struct{} // closed when supervise has returned
	retired  chan struct{} // closed when the run stopped being on air

	mu  sync.Mutex // guards cmd
	cmd *exec.Cmd  // the running ffmpeg, nil between restarts
}

// listenTimeout is how long ffmpeg waits for a packet before it ends, and so also
// how long a Stop may take.
const listenTimeout = "2"

// retireAfter bounds how long an old run keeps encoding when the new one produces
// nothing (its inputs send nothing yet).
const retireAfter = 15 * time.Second

// Start launches the first run for inputs, writing into cfg.Dir. It continues the
// playlist found there (after a discontinuity), so a program started again (the server
// restarted, everyone left the stage and came back) stays one stream and one archive.
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
	if err := checkInputs(inputs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	p := &Program{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), nextID: 1}
	if b, err := os.ReadFile(filepath.Join(cfg.Dir, PlaylistName)); err == nil {
		p.prefix = parsePlaylist(b).entries
		p.written = string(b)
	}
	if names, _ := filepath.Glob(filepath.Join(cfg.Dir, "run*.m3u8")); len(names) > 0 {
		for _, n := range names {
			var id int
			if _, err := fmt.Sscanf(filepath.Base(n), "run%d.m3u8", &id); err == nil && id >= p.nextID {
				p.nextID = id + 1
			}
		}
	}
	r, err := p.startRun(inputs)
	if err != nil {
		return nil, err
	}
	p.runs = []*run{r}
	go p.compose() // ends on Stop
	_ = ctx
	return p, nil
}

func checkInputs(inputs []Input) error {
	videos := 0
	for _, in := range inputs {
		if in.Video {
			videos++
		}
	}
	if videos > MaxPictures || len(inputs) == 0 {
		return fmt.Errorf("hls: %d video and %d audio inputs: want at most %d videos and at least one input", videos, len(inputs)-videos, MaxPictures)
	}
	return nil
}

// Switch starts a run with new inputs beside the current one and returns its writers;
// retired is closed once the previous run is off air (its writers closed: detach them
// then). The stream goes on without a gap.
func (p *Program) Switch(inputs []Input) (writers []*Writer, retired <-chan struct{}, err error) {
	if err := checkInputs(inputs); err != nil {
		return nil, nil, err
	}
	select {
	case <-p.stop:
		return nil, nil, errors.New("hls: program stopped")
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r, err := p.startRun(inputs)
	if err != nil {
		return nil, nil, err
	}
	prev := p.runs[len(p.runs)-1]
	if len(readRun(prev)) == 0 {
		// Nothing of it on air yet (the camera came just after the microphone): drop it
		// rather than open the stream with a few seconds of another shape (players
		// such as hls.js cannot add a video track after an audio-only start).
		p.runs[len(p.runs)-1] = r
		prev.end()
		go prev.wait() // reaps ffmpeg
		return r.writers, prev.retired, nil
	}
	p.runs = append(p.runs, r)
	p.retiring = append(p.retiring, prev)
	return r.writers, prev.retired, nil
}

// startRun reserves ports, writes the run's SDP and starts its ffmpeg. Called with
// p.mu held, or before compose runs.
func (p *Program) startRun(inputs []Input) (*run, error) {
	r := &run{p: p, id: p.nextID, since: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), retired: make(chan struct{})}
	p.nextID++
	sdp := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=yizhan program\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, in := range inputs {
		w, err := newWriter(in.Video)
		if err != nil {
			r.closeWriters()
			return nil, err
		}
		if in.Video {
			r.videos++
		} else {
			r.audio++
		}
		r.writers = append(r.writers, w)
		sdp += w.sdpMedia()
	}
	if err := os.WriteFile(r.path("sdp"), []byte(sdp), 0o644); err != nil {
		r.closeWriters()
		return nil, fmt.Errorf("hls: write sdp: %w", err)
	}
	// The writers only reserved their ports: free them for ffmpeg to bind.
	for _, w := range r.writers {
		w.release()
	}
	if err := r.startFFmpeg(); err != nil {
		r.closeWriters()
		return nil, err
	}
	for _, w := range r.writers {
		if err := w.dial(); err != nil {
			r.end()
			<-r.done
			return nil, err
		}
	}
	go r.supervise() // ends on end
	p.cfg.Logger.Info("hls program run started", "dir", p.cfg.Dir, "run", r.id, "videos", r.videos, "audio", r.audio)
	return r, nil
}

func (r *run) path(ext string) string {
	return filepath.Join(r.p.cfg.Dir, fmt.Sprintf("run%03d.%s", r.id, ext))
}

func (r *run) startFFmpeg() error {
	p := r.p
	cmd := exec.Command(p.cfg.FFmpeg, r.args()...)
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
	p.started.Add(1)
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	return nil
}

// supervise waits for ffmpeg and starts it again until the run ends.
func (r *run) supervise() {
	defer close(r.done)
	for {
		r.mu.Lock()
		cmd := r.cmd
		r.mu.Unlock()
		if cmd != nil {
			err := cmd.Wait()
			r.mu.Lock()
			r.cmd = nil
			r.mu.Unlock()
			select {
			case <-r.stop:
				return
			default:
			}
			r.p.cfg.Logger.Info("hls: ffmpeg ended; starting it again", "dir", r.p.cfg.Dir, "run", r.id, "err", err)
		}
		select {
		case <-r.stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
		if err := r.startFFmpeg(); err != nil {
			r.p.cfg.Logger.Error("hls: restart ffmpeg", "err", err)
		} else if f := r.p.cfg.KeyframeNeeded; f != nil {
			f()
			time.AfterFunc(time.Second, f)
		}
	}
}

// end takes the run off air: no more input, ffmpeg interrupted (it writes its last
// segment within listenTimeout). Idempotent; wait on r.done.
func (r *run) end() {
	r.stopOnce.Do(func() {
		close(r.stop)
		r.closeWriters()
		close(r.retired)
		r.mu.Lock()
		if r.cmd != nil {
			_ = r.cmd.Process.Signal(os.Interrupt)
		}
		r.mu.Unlock()
	})
}

// wait waits for the run's ffmpeg to end, killing it after 10 s.
func (r *run) wait() {
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.mu.Lock()
		if r.cmd != nil {
			_ = r.cmd.Process.Kill()
		}
		r.mu.Unlock()
		<-r.done
	}
}

func (r *run) closeWriters() {
	for _, w := range r.writers {
		_ = w.Close()
	}
}

func (r *run) args() []string {
	c := r.p.cfg
	a := []string{"-hide_banner", "-nostats", "-nostdin", "-v", "warning",
		"-protocol_whitelist", "file,udp,rtp", "-analyzeduration", "1500000", "-probesize", "500000",
		"-listen_timeout", listenTimeout, "-reorder_queue_size", "64", "-max_delay", "200000",
		"-i", r.path("sdp")}
	graph := pictureGraph(r.videos, c.Width, c.Height, c.FPS)
	switch {
	case r.audio == 0: // silence, so that every segment has sound too
		graph = append(graph, "anullsrc=r=48000:cl=stereo[a]")
	case r.audio == 1:
		graph = append(graph, "[0:a]aresample=async=1000[a]")
	case r.audio > 1:
		ins := ""
		for i := 0; i < r.audio; i++ {
			ins += fmt.Sprintf("[0:a:%d]", i)
		}
		graph = append(graph, fmt.Sprintf("%samix=inputs=%d:duration=longest:normalize=0,aresample=async=1000[a]", ins, r.audio))
	}
	a = append(a, "-filter_complex", strings.Join(graph, ";"))
	// Always a picture (black without a camera) and sound (silence without a microphone):
	// players cannot add a track to a stream that began without it.
	gop := strconv.Itoa(c.FPS)
	a = append(a, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "main",
		"-b:v", fmt.Sprintf("%dk", c.VideoKbps), "-maxrate", fmt.Sprintf("%dk", c.VideoKbps*3/2), "-bufsize", fmt.Sprintf("%dk", c.VideoKbps),
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0")
	a = append(a, "-map", "[a]", "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "2")
	flags := "program_date_time+independent_segments"
	if _, err := os.Stat(r.path("m3u8")); err == nil {
		flags += "+append_list+discont_start" // ffmpeg restarted within the run
	}
	return append(a, "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "event",
		"-hls_flags", flags, "-hls_segment_filename", fmt.Sprintf("seg%03d%%05d.ts", r.id), filepath.Base(r.path("m3u8")))
}

// compose writes PlaylistName from the runs' playlists every composeEvery, and retires
// old runs once the newest has a segment. It ends on Stop, after a last write.
func (p *Program) compose() {
	defer close(p.done)
	t := time.NewTicker(composeEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.retire()
			p.writePlaylist()
		}
	}
}

const composeEvery = 200 * time.Millisecond

// retire ends the runs that were replaced, once the newest run is on air (or never
// will be: retireAfter).
func (p *Program) retire() {
	p.mu.Lock()
	if len(p.retiring) == 0 {
		p.mu.Unlock()
		return
	}
	newest := p.runs[len(p.runs)-1]
	p.mu.Unlock()
	if waited := time.Since(newest.since); len(readRun(newest)) == 0 && waited < retireAfter {
		// Still waiting for its first pictures: ask again every 2 s (the request made at
		// the switch may have come before its ffmpeg listened).
		if f := p.cfg.KeyframeNeeded; f != nil && waited > time.Second && waited%(2*time.Second) < composeEvery {
			f()
		}
		return
	}
	p.mu.Lock()
	old := p.retiring
	p.retiring = nil
	p.mu.Unlock()
	for _, r := range old {
		r.end()
		go r.wait() // reaps ffmpeg; its last segment is listed by a later write
	}
}

func readRun(r *run) []entry {
	b, err := os.ReadFile(r.path("m3u8"))
	if err != nil {
		return nil
	}
	return parsePlaylist(b).entries
}

// writePlaylist composes the program playlist: the earlier program's segments, then
// each run's, a discontinuity between runs; a run is cut where the next one starts
// (by the segments' program date-times), so a switch repeats at most a segment.
func (p *Program) writePlaylist() {
	p.mu.Lock()
	runs := slices.Clone(p.runs)
	entries := slices.Clone(p.prefix)
	p.mu.Unlock()
	stopped := false
	select {
	case <-p.stop:
		stopped = true // the last write: the file then plays to its end (a later Start continues it)
	default:
	}
	lists := make([][]entry, len(runs))
	for i, r := range runs {
		lists[i] = readRun(r)
	}
	for i, es := range lists {
		if i+1 < len(lists) && len(lists[i+1]) > 0 {
			if cut, ok := lists[i+1][0].dateTime(); ok {
				n := 0
				for n < len(es) {
					if at, ok := es[n].dateTime(); ok && !at.Before(cut) {
						break
					}
					n++
				}
				es = es[:n]
			}
		}
		if len(es) == 0 {
			continue
		}
		if len(entries) > 0 && !es[0].discontinuity() {
			es = slices.Clone(es)
			es[0] = entry{lines: append([]string{"#EXT-X-DISCONTINUITY"}, es[0].lines...)}
		}
		entries = append(entries, es...)
	}
	if len(entries) == 0 {
		return
	}
	target := 1
	for _, e := range entries {
		target = max(target, e.duration())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n", target)
	for _, e := range entries {
		for _, l := range e.lines {
			b.WriteString(l + "\n")
		}
	}
	if stopped {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	out := b.String()
	if out == p.written {
		return
	}
	tmp := filepath.Join(p.cfg.Dir, PlaylistName+".tmp")
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		p.cfg.Logger.Error("hls: write playlist", "err", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(p.cfg.Dir, PlaylistName)); err != nil {
		p.cfg.Logger.Error("hls: write playlist", "err", err)
		return
	}
	p.written = out
}

// pictureGraph composes n video inputs into one W x H picture labelled [v]; every
// input is scaled to a fixed size (a simulcast layer switch or a phone turned on its
// side keeps the stream's size).
func pictureGraph(n, w, h, fps int) []string {
	if n == 0 { // nobody's camera on: a black picture, so that every segment has video
		return []string{fmt.Sprintf("color=c=black:s=%dx%d:r=%d,format=yuv420p[v]", w, h, fps)}
	}
	tw, th := w, h
	switch {
	case n == 2:
		tw = w / 2
	case n > 2:
		tw, th = w/2, h/2
	}
	tw, th = tw&^1, th&^1 // even sizes for yuv420p
	var g []string
	tile := func(i int) string { // several: each fills its tile, cropped around the middle
		return fmt.Sprintf("[0:v:%d]fps=%d,scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1,format=yuv420p", i, fps, tw, th, tw, th)
	}
	if n == 1 { // one: the whole picture, letterboxed
		return []string{fmt.Sprintf("[0:v:0]fps=%d,scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v]", fps, w, h, w, h)}
	}
	var ins string
	for i := range n {
		g = append(g, fmt.Sprintf("%s[t%d]", tile(i), i))
		ins += fmt.Sprintf("[t%d]", i)
	}
	switch n {
	case 2:
		g = append(g, fmt.Sprintf("%shstack=inputs=2[v]", ins))
	case 3:
		g = append(g, fmt.Sprintf("color=c=black:s=%dx%d:r=%d,format=yuv420p[t3]", tw, th, fps))
		g = append(g, fmt.Sprintf("%s[t3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0:shortest=1[v]", ins))
	default:
		g = append(g, fmt.Sprintf("%sxstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0[v]", ins))
	}
	return g
}

// Runs is how many times ffmpeg was started (every run, restarts included).
func (p *Program) Runs() int64 { return p.started.Load() }

// PlaylistName is the program playlist (an event playlist of every segment) that the
// program composes in its directory.
const PlaylistName = "program.m3u8"

// EndedName marks a program directory whose stream is over (see MarkEnded).
const EndedName = "ENDED"

// MarkEnded records that the stream in dir is over: its playlists then end, and the
// archive playlist may be cached for long.
func MarkEnded(dir string) error {
	return os.WriteFile(filepath.Join(dir, EndedName), nil, 0o644)
}

// Writers are the current run's RTP writers, in the order of its inputs.
func (p *Program) Writers() []*Writer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[len(p.runs)-1].writers
}

// Stop ends the program: every run off air, ffmpeg interrupted (it writes the last
// segment within listenTimeout), killed if it takes longer than 10 s; then the
// playlist is written a last time. Idempotent.
func (p *Program) Stop() error {
	p.stopOnce.Do(func() {
		close(p.stop)
		<-p.done
		p.mu.Lock()
		runs := slices.Clone(p.runs)
		p.retiring = nil
		p.mu.Unlock()
		var wg sync.WaitGroup
		for _, r := range runs {
			r.end()
			wg.Add(1)
			go func() { defer wg.Done(); r.wait() }() // bounded by wait's kill
		}
		wg.Wait()
		p.writePlaylist()
	})
	return nil
}
