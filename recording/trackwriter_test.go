package recording

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func openTestSession(t *testing.T, data string) *Session {
	t.Helper()
	s, err := OpenSession(data, SessionMeta{Case: "C2025-001", Session: "S1", Title: "test", Kind: "mediation"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func feed(t *testing.T, w *TrackWriter, frames [][]*rtp.Packet) {
	t.Helper()
	for _, f := range frames {
		for _, p := range f {
			if err := w.WriteRTP(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTrackWriterWritesPlayableWebM(t *testing.T) {
	withTimeout(t, 60*time.Second)
	c := testClip(t)
	s := openTestSession(t, t.TempDir())
	vw, err := s.NewTrackWriter(TrackMeta{Participant: "张三", Identity: "alice", TrackSID: "TR_v1", MimeType: "video/VP8"})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := s.NewTrackWriter(TrackMeta{Participant: "张三", Identity: "alice", TrackSID: "TR_a1", MimeType: "audio/opus"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	feed(t, vw, c.videoPackets())
	feed(t, aw, c.audioPackets())
	if err := vw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	for _, tc := range []struct {
		w     *TrackWriter
		codec string
	}{{vw, "vp8"}, {aw, "opus"}} {
		path := filepath.Join(s.Dir(), tc.w.Path())
		r := ffprobe(t, path)
		if r.Streams[0].CodecName != tc.codec {
			t.Errorf("%s: codec %q, want %q", tc.w.Path(), r.Streams[0].CodecName, tc.codec)
		}
		d, _ := strconv.ParseFloat(r.Format.Duration, 64)
		if math.Abs(d-clipSeconds) > 1 {
			t.Errorf("%s: duration %.3f, want %d±1", tc.w.Path(), d, clipSeconds)
		}
		decodeClean(t, path)
		st := tc.w.Stats()
		fi, _ := os.Stat(path)
		t.Logf("%s: %d frames, %d ms, %d bytes, %d gaps; ffprobe duration %s frames %s %dx%d",
			tc.w.Path(), st.Frames, st.DurationMs, fi.Size(), st.Gaps, r.Format.Duration,
			r.Streams[0].NbReadFrames, r.Streams[0].Width, r.Streams[0].Height)
		if st.Gaps != 0 || st.LostPackets != 0 {
			t.Errorf("%s: gaps %d lost %d on a clean stream", tc.w.Path(), st.Gaps, st.LostPackets)
		}
	}
	if r := ffprobe(t, filepath.Join(s.Dir(), vw.Path())); r.Streams[0].Width != 320 || r.Streams[0].Height != 240 {
		t.Errorf("video size %dx%d, want 320x240", r.Streams[0].Width, r.Streams[0].Height)
	}
	t.Logf("wrote %d s of VP8+Opus in %v", clipSeconds, el)
	for _, x := range []struct {
		w      *TrackWriter
		frames [][]byte
	}{{vw, c.vp8}, {aw, c.opus}} {
		var media int64
		for _, f := range x.frames {
			media += int64(len(f))
		}
		fi, _ := os.Stat(filepath.Join(s.Dir(), x.w.Path()))
		t.Logf("%s: %d bytes of media in a %d byte file: container overhead %.1f%%",
			x.w.Path(), media, fi.Size(), 100*float64(fi.Size()-media)/float64(media))
	}
}

// Reordered packets come out in order; a lost packet is a gap, and video waits for the
// next keyframe after it so the file never holds a frame that cannot be decoded.
func TestTrackWriterReorderAndLoss(t *testing.T) {
	withTimeout(t, 60*time.Second)
	c := testClip(t)
	s := openTestSession(t, t.TempDir())
	var keyReqs atomic.Int64
	vw, err := s.NewTrackWriter(TrackMeta{Identity: "bob", TrackSID: "TR_v", MimeType: "video/VP8",
		RequestKeyframe: func() { keyReqs.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := s.NewTrackWriter(TrackMeta{Identity: "bob", TrackSID: "TR_a", MimeType: "audio/opus"})
	if err != nil {
		t.Fatal(err)
	}
	var vp []*rtp.Packet
	for _, f := range c.videoPackets() {
		vp = append(vp, f...)
	}
	// swap neighbours all along (reordering) and drop one packet in the middle (frame 45)
	for i := 3; i+1 < len(vp); i += 7 {
		vp[i], vp[i+1] = vp[i+1], vp[i]
	}
	drop := len(vp) * 45 / 120
	for i, p := range vp {
		if i == drop {
			continue
		}
		if err := vw.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
	}
	var ap []*rtp.Packet
	for _, f := range c.audioPackets() {
		ap = append(ap, f...)
	}
	for i, p := range ap {
		if i >= 100 && i < 110 { // 200 ms dropped by the SFU's full queue, which tells us
			continue
		}
		if i == 110 {
			aw.WriteGap(10)
		}
		aw.WriteRTP(p)
	}
	vw.Close()
	aw.Close()
	vs, as := vw.Stats(), aw.Stats()
	t.Logf("video %+v", vs)
	t.Logf("audio %+v", as)
	if vs.LostPackets != 1 || vs.Gaps != 1 || vs.DroppedFrames == 0 || vw.gaps[0].Reason != "lost" {
		t.Errorf("video: want 1 lost packet, 1 gap, frames dropped until the next keyframe; got %+v", vs)
	}
	for deadline := time.Now().Add(5 * time.Second); keyReqs.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the request goes out on its own goroutine
	}
	if keyReqs.Load() == 0 {
		t.Error("the loss did not ask for a keyframe")
	}
	t.Logf("%d keyframe requests while waiting for %d dropped frames", keyReqs.Load(), vs.DroppedFrames)
	if as.LostPackets != 10 || as.Gaps != 1 {
		t.Errorf("audio: want 10 lost, 1 gap; got %+v", as)
	}
	if g := aw.gaps[0]; g.AtMs != 2000 || g.LengthMs != 200 || g.Reason != "queue_full" || as.QueueDrops != 10 {
		t.Errorf("audio gap %+v, want at 2000 ms for 200 ms", aw.gaps[0])
	}
	for _, w := range []*TrackWriter{vw, aw} {
		decodeClean(t, filepath.Join(s.Dir(), w.Path()))
	}
}
