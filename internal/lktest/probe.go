package lktest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Probe returns the codec and the duration in seconds of one stream of a media file
// as ffprobe reads it ("v:0", "a:0"; "" for a file's only stream), or fails the test.
func Probe(t testing.TB, f, stream string) (string, float64) {
	t.Helper()
	args := []string{"-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of", "json"}
	if stream != "" {
		args = append(args, "-select_streams", stream)
	}
	out, err := exec.Command("ffprobe", append(args, f)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", f, err)
	}
	var r struct {
		Streams []struct {
			Codec string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Streams) != 1 {
		t.Fatalf("ffprobe %s %s: %v %s", f, stream, err, out)
	}
	d, err := strconv.ParseFloat(r.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q", f, r.Format.Duration)
	}
	return r.Streams[0].Codec, d
}

// DecodeErrors decodes a whole file with ffmpeg and returns what it complained of
// ("" for a clean file).
func DecodeErrors(f string) string {
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", f, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}
