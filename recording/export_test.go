package recording

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestExportComposite(t *testing.T) {
	withTimeout(t, 120*time.Second)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s, m := recordSession(t, data, key)
	out := filepath.Join(t.TempDir(), "composite.mp4")
	var fracs []float64
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	if err := Export(ctx, s.Dir(), out, func(f float64) { fracs = append(fracs, f) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("exported in %v, %d progress reports", time.Since(start), len(fracs))
	if len(fracs) == 0 || fracs[len(fracs)-1] != 1 {
		t.Errorf("progress %v", fracs)
	}
	b, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height:format=duration", "-of", "json", out).Output()
	must(t, err)
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
		} `json:"streams"`
		Format struct{ Duration string } `json:"format"`
	}
	must(t, json.Unmarshal(b, &r))
	if len(r.Streams) != 2 || r.Streams[0].CodecName != "h264" || r.Streams[1].CodecName != "aac" {
		t.Fatalf("composite streams %s", b)
	}
	var want float64
	for _, f := range m.Files {
		if !f.Restricted {
			want = math.Max(want, float64(f.StartOffsetMs+f.DurationMs)/1000)
		}
	}
	d, _ := strconv.ParseFloat(r.Format.Duration, 64)
	if math.Abs(d-want) > 1 {
		t.Errorf("composite duration %.2f, want %.2f", d, want)
	}
	decodeClean(t, out)
	if k := os.Getenv("KEEP"); k != "" { // look at a frame: KEEP=/tmp/frame.png
		exec.Command("ffmpeg", "-v", "error", "-y", "-ss", "2", "-i", out, "-frames:v", "1", k).Run()
	}
}
