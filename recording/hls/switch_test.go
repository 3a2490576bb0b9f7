package hls

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestProgramSwitchNoGap: someone comes on stage. The program switches from one
// picture to two side by side without a gap: the playlist keeps its segments and
// media sequence, marks one discontinuity, the new run starts no later than the old
// one's last segment ends, and a real player (ffmpeg reading the live playlist) goes
// on across the change, showing first one picture, then both.
func TestProgramSwitchNoGap(t *testing.T) {
	speaker, guest := newSource(t), newSource(t)
	guest.Mark() // white
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L3")
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 600}, []Input{{Video: true}, {}})
	must(t, err)
	defer p.Stop()
	w := p.Writers()
	feed(t, ctx, speaker, w[0], w[1])
	live := srv.URL + "/L3/index.m3u8"
	waitSegment(t, srv.URL+"/L3", dir, 2)

	// A player watches the live stream from before the change to after it.
	pctx, stopPlayer := context.WithCancel(ctx)
	player := exec.CommandContext(pctx, "ffmpeg", "-v", "error", "-i", live, "-vf", "fps=2,scale=2:1,format=gray", "-f", "rawvideo", "pipe:1")
	var frames bytes.Buffer
	player.Stdout = &frames
	must(t, player.Start())
	time.Sleep(3 * time.Second)

	_, _, before := get(t, srv.URL+"/L3/archive.m3u8")
	switched := time.Now()
	nw, retired, err := p.Switch([]Input{{Video: true}, {Video: true}, {}, {}})
	must(t, err)
	feed(t, ctx, speaker, nw[0], nw[2])
	feed(t, ctx, guest, nw[1], nw[3])
	select {
	case <-retired:
	case <-time.After(30 * time.Second):
		t.Fatal("the old run was never retired")
	}
	t.Logf("the new run was on air %v after the switch", time.Since(switched).Round(100*time.Millisecond))
	time.Sleep(6 * time.Second)
	stopPlayer()
	_ = player.Wait()

	_, _, after := get(t, srv.URL+"/L3/archive.m3u8")
	if !bytes.HasPrefix(after, bytes.TrimSuffix(before, []byte("\n"))) {
		t.Fatalf("the playlist before the switch is not a prefix of the playlist after it:\n%s\n---\n%s", before, after)
	}
	pl := parsePlaylist(after)
	disc := -1
	for i, e := range pl.entries {
		if e.discontinuity() {
			if disc >= 0 {
				t.Fatalf("more than one discontinuity:\n%s", after)
			}
			disc = i
		}
	}
	if disc <= 0 || disc+3 > len(pl.entries) {
		t.Fatalf("no discontinuity with segments on both sides:\n%s", after)
	}
	lastOld, firstNew := pl.entries[disc-1], pl.entries[disc]
	end, _ := lastOld.dateTime()
	for _, l := range lastOld.lines {
		if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			d, _ := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
			end = end.Add(time.Duration(d * float64(time.Second)))
		}
	}
	start, ok := firstNew.dateTime()
	if !ok {
		t.Fatalf("no date-time on the new run's segment: %v", firstNew.lines)
	}
	gap := start.Sub(end)
	t.Logf("switch: old run ends %s, new run starts %s: gap %v (negative: overlap)", end.Format("15:04:05.000"), start.Format("15:04:05.000"), gap)
	if gap > 300*time.Millisecond || gap < -1500*time.Millisecond {
		t.Errorf("at the switch: %v between the old run's end and the new run's start; want no gap and at most a segment repeated", gap)
	}
	if l, r, ok := halves(t, mustRead(t, filepath.Join(dir, segmentsOf(after)[len(pl.entries)-1]))); !ok || r < 200 || l > 180 {
		t.Errorf("after the switch: left %d right %d, want both pictures", l, r)
	}

	// What the player decoded: one picture (both halves alike), then both (right white).
	px := frames.Bytes()
	var one, two int
	for i := 0; i+1 < len(px); i += 2 {
		switch {
		case px[i+1] > 200 && px[i] < 180:
			two++
		case px[i+1] < 180:
			if two == 0 {
				one++
			}
		}
	}
	t.Logf("the player decoded %d pictures: %d before the switch, %d after", len(px)/2, one, two)
	if one < 2 || two < 4 {
		log, _ := os.ReadFile(filepath.Join(dir, "ffmpeg.log"))
		t.Errorf("the player did not carry on across the switch: %d pictures before, %d after\n%s", one, two, log)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}

// TestProgramSwitchBeforeFirstSegment: the microphone comes a moment before the camera.
// The audio-only run that made nothing yet is dropped, not kept: the stream starts with
// picture and sound (hls.js cannot add a video track to a stream that began without).
func TestProgramSwitchBeforeFirstSegment(t *testing.T) {
	src := newSource(t)
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L4")
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 600}, []Input{{}})
	must(t, err)
	defer p.Stop()
	feed(t, ctx, src, nil, p.Writers()[0])
	w, _, err := p.Switch([]Input{{Video: true}, {}})
	must(t, err)
	feed(t, ctx, src, w[0], w[1])
	waitSegment(t, srv.URL+"/L4", dir, 2)
	_, _, arch := get(t, srv.URL+"/L4/archive.m3u8")
	if strings.Contains(string(arch), "#EXT-X-DISCONTINUITY") || strings.Contains(string(arch), "seg001") {
		t.Fatalf("the dropped audio-only run is in the playlist:\n%s", arch)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", filepath.Join(dir, segmentsOf(arch)[0])).Output()
	if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Errorf("the first segment: %q %v", out, err)
	}
}

// TestProgramAudioOnlyHasPicture: with nobody's camera on, the program still has a
// (black) picture, at the pace of the sound: every segment has video and audio, so a
// player can go on when a camera comes.
func TestProgramAudioOnlyHasPicture(t *testing.T) {
	src := newSource(t)
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L5")
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 300}, []Input{{}})
	must(t, err)
	defer p.Stop()
	feed(t, ctx, src, nil, p.Writers()[0])
	waitSegment(t, srv.URL+"/L5", dir, 0)
	t0 := time.Now()
	_, _, b0 := get(t, srv.URL+"/L5/archive.m3u8")
	time.Sleep(5 * time.Second)
	_, _, b1 := get(t, srv.URL+"/L5/archive.m3u8")
	n := len(segmentsOf(b1)) - len(segmentsOf(b0))
	t.Logf("%d segments in %v", n, time.Since(t0).Round(100*time.Millisecond))
	if n < 3 || n > 7 {
		t.Errorf("%d one-second segments in 5 s: the picture does not follow the sound's pace", n)
	}
	segs := segmentsOf(b1)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", filepath.Join(dir, segs[len(segs)-1])).Output()
	if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Errorf("an audio-only program's segment: %q %v", out, err)
	}
}

// TestProgramVideoOnlyHasSound: a camera without a microphone still gives segments with
// sound (silence), at the picture's pace.
func TestProgramVideoOnlyHasSound(t *testing.T) {
	src := newSource(t)
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L6")
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 300}, []Input{{Video: true}})
	must(t, err)
	defer p.Stop()
	feed(t, ctx, src, p.Writers()[0], nil)
	waitSegment(t, srv.URL+"/L6", dir, 0)
	_, _, b0 := get(t, srv.URL+"/L6/archive.m3u8")
	time.Sleep(5 * time.Second)
	_, _, b1 := get(t, srv.URL+"/L6/archive.m3u8")
	if n := len(segmentsOf(b1)) - len(segmentsOf(b0)); n < 3 || n > 7 {
		t.Errorf("%d one-second segments in 5 s: the sound does not follow the picture's pace", n)
	}
	segs := segmentsOf(b1)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", filepath.Join(dir, segs[len(segs)-1])).Output()
	if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Errorf("a video-only program's segment: %q %v", out, err)
	}
}

// TestProgramSwitchAsksForKeyframes: while the new run has no pictures yet (its sound
// comes, its camera sends nothing: ffmpeg waits, it does not time out), the program keeps
// asking for a keyframe, and the old run stays on air.
func TestProgramSwitchAsksForKeyframes(t *testing.T) {
	src := newSource(t)
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L7")
	var asked atomic.Int64
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 300, KeyframeNeeded: func() { asked.Add(1) }}, []Input{{Video: true}, {}})
	must(t, err)
	defer p.Stop()
	w := p.Writers()
	feed(t, ctx, src, w[0], w[1])
	waitSegment(t, srv.URL+"/L7", dir, 0)
	nw, retired, err := p.Switch([]Input{{Video: true}, {}})
	must(t, err)
	feed(t, ctx, src, nil, nw[1]) // its sound comes, its camera sends nothing
	_, _, b0 := get(t, srv.URL+"/L7/archive.m3u8")
	time.Sleep(6 * time.Second)
	select {
	case <-retired:
		t.Fatal("the old run was retired although the new one has nothing on air")
	default:
	}
	_, _, b1 := get(t, srv.URL+"/L7/archive.m3u8")
	if n := len(segmentsOf(b1)) - len(segmentsOf(b0)); n < 3 {
		t.Errorf("the old run made %d segments in 6 s while the new one waited", n)
	}
	if n := asked.Load(); n < 2 {
		t.Errorf("asked for a keyframe %d times in 6 s of waiting, want every 2 s", n)
	}
}
