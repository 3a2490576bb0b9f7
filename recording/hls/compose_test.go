package hls

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// halves decodes a segment and returns the mean grey of the left and right halves of
// its last picture.
func halves(t testing.TB, seg []byte) (left, right int, ok bool) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", "pipe:0", "-vf", "scale=2:1,format=gray", "-f", "rawvideo", "pipe:1")
	cmd.Stdin = strings.NewReader(string(seg))
	out, err := cmd.Output()
	if err != nil || len(out) < 2 {
		return 0, 0, false
	}
	return int(out[len(out)-2]), int(out[len(out)-1]), true
}

// feed runs src into video writer v and audio writer a until the test ends.
func feed(t *testing.T, ctx context.Context, src *source, v, a *Writer) {
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); src.run(ctx, v, a) }()
	t.Cleanup(func() { stop(); wg.Wait() })
}

// waitSegment waits for a live segment (after skip of them) and returns it.
func waitSegment(t *testing.T, base string, dir string, skip int) []byte {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if st, _, b := get(t, base+"/index.m3u8"); st == 200 {
			if segs := segmentsOf(b); len(segs) > skip {
				_, _, seg := get(t, base+"/"+segs[len(segs)-1])
				return seg
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "ffmpeg.log"))
	t.Fatalf("no segment after 40 s\nffmpeg: %s", log)
	return nil
}

// TestProgramTwoPictures: two people on stage are side by side in the program, both
// voices mixed: a test picture on the left, a white one on the right.
func TestProgramTwoPictures(t *testing.T) {
	left, right := newSource(t), newSource(t)
	right.Mark() // white from the first frame
	root := t.TempDir()
	srv := httptest.NewServer(Handler(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(root, "L2")
	p, err := Start(ctx, Config{Dir: dir, Width: 640, Height: 360, VideoKbps: 600}, []Input{{Video: true}, {Video: true}, {}, {}})
	must(t, err)
	defer p.Stop()
	w := p.Writers()
	feed(t, ctx, left, w[0], w[2])
	feed(t, ctx, right, w[1], w[3])

	seg := waitSegment(t, srv.URL+"/L2", dir, 1)
	l, r, ok := halves(t, seg)
	if !ok || r < 200 || l > 180 {
		t.Fatalf("left half grey %d, right half %d (ok %v): want the test picture left and white right", l, r, ok)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", "-i", filepath.Join(dir, lastSegment(t, dir))).Output()
	if err != nil || !strings.Contains(string(out), "h264,640,360") || !strings.Contains(string(out), "aac") {
		t.Errorf("segment streams: %s %v", out, err)
	}
	five := []Input{{Video: true}, {Video: true}, {Video: true}, {Video: true}, {Video: true}}
	if _, err := Start(ctx, Config{Dir: t.TempDir()}, five); err == nil {
		t.Error("five pictures accepted")
	}
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	must(t, err)
	segs := segmentsOf(b)
	if len(segs) == 0 {
		t.Fatal("no segment")
	}
	return segs[len(segs)-1]
}
