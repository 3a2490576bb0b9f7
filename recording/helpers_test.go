package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// clip is real VP8 and Opus made by ffmpeg once per test binary run.
type clip struct {
	vp8  [][]byte // one frame each, 30 fps
	opus [][]byte // one 20 ms packet each
}

var (
	clipOnce sync.Once
	clipData *clip
	clipErr  error
	clipDir  string // the ivf and ogg files; a child process (kill test) reads them too
)

func TestMain(m *testing.M) {
	if d := os.Getenv("YIZHAN_CLIP_DIR"); d != "" {
		clipDir = d
		os.Exit(m.Run())
	}
	d, err := os.MkdirTemp("", "yizhan-clip")
	if err != nil {
		panic(err)
	}
	clipDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

const clipSeconds = 4

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not on PATH", b)
		}
	}
}

func testClip(t testing.TB) *clip {
	t.Helper()
	needFFmpeg(t)
	clipOnce.Do(func() { clipData, clipErr = makeClip(clipDir) })
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	return clipData
}

func makeClip(dir string) (*clip, error) {
	ivf, ogg := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	d := strconv.Itoa(clipSeconds)
	cmds := [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", d, "-c:v", "libvpx", "-b:v", "400k",
			"-g", "30", "-deadline", "realtime", "-cpu-used", "8", ivf},
		// one Opus packet per Ogg page, so a page payload is one RTP payload
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", d, "-ac", "2", "-c:a", "libopus",
			"-b:a", "32k", "-frame_duration", "20", "-page_duration", "20000", ogg},
	}
	for _, c := range cmds {
		if exists(c[len(c)-1]) {
			continue // made by the parent process
		}
		out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, c...)...).CombinedOutput()
		if err != nil {
			return nil, errors.New("ffmpeg: " + err.Error() + ": " + string(out))
		}
	}
	c := &clip{}
	f, err := os.Open(ivf)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ir, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	for {
		fr, _, err := ir.ParseNextFrame()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		c.vp8 = append(c.vp8, fr)
	}
	g, err := os.Open(ogg)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	or, _, err := oggreader.NewWith(g)
	if err != nil {
		return nil, err
	}
	for {
		p, _, err := or.ParseNextPage()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(p, []byte("OpusTags")) || len(p) == 0 {
			continue
		}
		c.opus = append(c.opus, p)
	}
	return c, nil
}

// packets packetizes the clip's frames as a WebRTC sender would.
func (c *clip) videoPackets() [][]*rtp.Packet {
	pz := rtp.NewPacketizer(1200, 96, 1111, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	var out [][]*rtp.Packet
	for _, f := range c.vp8 {
		out = append(out, pz.Packetize(f, 3000))
	}
	return out
}

func (c *clip) audioPackets() [][]*rtp.Packet {
	pz := rtp.NewPacketizer(1200, 111, 2222, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	var out [][]*rtp.Packet
	for _, f := range c.opus {
		out = append(out, pz.Packetize(f, 960))
	}
	return out
}

type probeResult struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t testing.TB, path string) probeResult {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,width,height,nb_read_frames:format=duration", "-of", "json", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	if len(r.Streams) != 1 {
		t.Fatalf("ffprobe %s: %d streams", path, len(r.Streams))
	}
	return r
}

// lastPacketTime is the presentation time of the last packet ffprobe can read.
func lastPacketTime(t testing.TB, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v", path, err)
	}
	last := 0.0
	for _, l := range strings.Fields(string(out)) {
		if v, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64); err == nil && v > last {
			last = v
		}
	}
	return last
}

// decodeClean decodes the whole file and fails on any decoder or demuxer error.
func decodeClean(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decode %s: %v\n%s", path, err, out)
	}
}

// decodeTruncated is decodeClean for a file cut short (killed, disk full): the demuxer
// may only say that it ended early.
func decodeTruncated(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.Contains(l, "File ended prematurely") {
			t.Fatalf("ffmpeg decode %s: %v\n%s", path, err, out)
		}
	}
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v\n%s", path, err, out)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func withTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.AfterFunc(d, func() { panic(t.Name() + ": timed out") })
	t.Cleanup(func() { timer.Stop() })
}
