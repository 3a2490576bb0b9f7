package hls

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// source is real VP8 and Opus, sent as RTP in real time like a speaker's browser: a
// test picture, and after Mark a white one (the marker a latency test looks for).
type source struct {
	before, marker [][]byte // VP8 frames at 15 fps, a keyframe first
	audio          [][]byte // Opus packets, 20 ms
	marked         atomic.Int64
}

func ffmpegRun(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newSource(t testing.TB) *source {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	dir := t.TempDir()
	vp8 := []string{"-c:v", "libvpx", "-b:v", "400k", "-g", "15", "-keyint_min", "15", "-auto-alt-ref", "0", "-lag-in-frames", "0", "-deadline", "realtime"}
	ffmpegRun(t, append(append([]string{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=15", "-t", "4"}, vp8...), filepath.Join(dir, "a.ivf"))...)
	ffmpegRun(t, append(append([]string{"-f", "lavfi", "-i", "color=c=white:size=640x360:rate=15", "-t", "4"}, vp8...), filepath.Join(dir, "b.ivf"))...)
	ffmpegRun(t, "-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-page_duration", "20000", filepath.Join(dir, "a.ogg"))
	s := &source{before: readIVF(t, filepath.Join(dir, "a.ivf")), marker: readIVF(t, filepath.Join(dir, "b.ivf"))}
	f, err := os.Open(filepath.Join(dir, "a.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	or, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	for {
		page, _, err := or.ParseNextPage()
		if err != nil {
			break
		}
		if strings.HasPrefix(string(page), "OpusHead") || strings.HasPrefix(string(page), "OpusTags") {
			continue
		}
		s.audio = append(s.audio, page)
	}
	return s
}

func readIVF(t testing.TB, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil {
			return out
		}
		out = append(out, fr)
	}
}

// Mark switches the picture to white from the next frame on and returns when.
func (s *source) Mark() time.Time {
	now := time.Now()
	s.marked.Store(now.UnixNano())
	return now
}

// run sends video to v and audio to a (either may be nil) until ctx ends.
func (s *source) run(ctx context.Context, v, a *Writer) {
	vp := rtp.NewPacketizer(1200, 96, 0x1234, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	ap := rtp.NewPacketizer(1200, 111, 0x5678, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	vt := time.NewTicker(time.Second / 15)
	at := time.NewTicker(20 * time.Millisecond)
	defer vt.Stop()
	defer at.Stop()
	vi, ai, mi := 0, 0, -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-vt.C:
			if v == nil {
				continue
			}
			frame := s.before[vi%len(s.before)]
			vi++
			if s.marked.Load() != 0 {
				mi++
				frame = s.marker[mi%len(s.marker)]
			}
			for _, p := range vp.Packetize(frame, 90000/15) {
				_ = v.WriteRTP(p)
			}
		case <-at.C:
			if a == nil {
				continue
			}
			for _, p := range ap.Packetize(s.audio[ai%len(s.audio)], 960) {
				_ = a.WriteRTP(p)
			}
			ai++
		}
	}
}

// whiteFrom decodes a segment and reports whether any picture in it is mostly white.
func whiteIn(t testing.TB, seg []byte) bool {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", "pipe:0", "-vf", "scale=16:9,format=gray", "-f", "rawvideo", "pipe:1")
	cmd.Stdin = strings.NewReader(string(seg))
	out, err := cmd.Output()
	if err != nil {
		t.Logf("decode segment: %v", err)
		return false
	}
	const px = 16 * 9
	for i := 0; i+px <= len(out); i += px {
		sum := 0
		for _, b := range out[i : i+px] {
			sum += int(b)
		}
		if sum/px > 200 {
			return true
		}
	}
	return false
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint
