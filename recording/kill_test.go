package recording

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestHelperRecorder is the recorder process of TestKillAndRecover: it records the clip
// in real time, looping, and prints how much it has fed, until it is killed.
func TestHelperRecorder(t *testing.T) {
	data := os.Getenv("YIZHAN_REC_HELPER")
	if data == "" {
		t.Skip("helper process for TestKillAndRecover")
	}
	c := testClip(t)
	s := openTestSession(t, data)
	must(t, s.AddParticipant(Participant{Identity: "alice", Name: "Alice", Role: "party"}))
	vw, err := s.NewTrackWriter(TrackMeta{Identity: "alice", TrackSID: "TR_v", MimeType: "video/VP8"})
	must(t, err)
	aw, err := s.NewTrackWriter(TrackMeta{Identity: "alice", TrackSID: "TR_a", MimeType: "audio/opus"})
	must(t, err)
	vp, ap := c.videoPackets(), c.audioPackets()
	// loop the clip: continue sequence numbers and timestamps as a live sender would
	at := func(frames [][]*rtp.Packet, i int, step uint32) []*rtp.Packet {
		n := len(frames)
		loop := i / n
		var out []*rtp.Packet
		for _, p := range frames[i%n] {
			q := *p
			q.SequenceNumber += uint16(loop * countPackets(frames))
			q.Timestamp += uint32(loop*n) * step
			out = append(out, &q)
		}
		return out
	}
	start := time.Now()
	vi, ai := 0, 0
	for {
		el := time.Since(start)
		for ; time.Duration(vi)*time.Second/30 <= el; vi++ {
			for _, p := range at(vp, vi, 3000) {
				must(t, vw.WriteRTP(p))
			}
		}
		for ; time.Duration(ai)*20*time.Millisecond <= el; ai++ {
			for _, p := range at(ap, ai, 960) {
				must(t, aw.WriteRTP(p))
			}
		}
		fmt.Printf("fed %d\n", el.Milliseconds())
		time.Sleep(10 * time.Millisecond)
	}
}

func countPackets(frames [][]*rtp.Packet) int {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	return n
}

// The kill test: a recorder process is killed with SIGKILL mid-recording. A copy of the
// file taken while it was being written plays; the files left by the kill play up to
// about a second before it; Recover seals the session, marks it interrupted, and Verify
// passes.
func TestKillAndRecover(t *testing.T) {
	withTimeout(t, 120*time.Second)
	testClip(t) // made once, shared with the child
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecorder$", "-test.v")
	cmd.Env = append(os.Environ(), "YIZHAN_REC_HELPER="+data, "YIZHAN_CLIP_DIR="+clipDir)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	dir := filepath.Join(data, "cases", "C2025-001", "S1")
	video := filepath.Join(dir, "video-alice-TR_v.webm")
	audio := filepath.Join(dir, "audio-alice-TR_a.webm")
	snap := filepath.Join(t.TempDir(), "snapshot.webm")
	sc := bufio.NewScanner(out)
	var fed, fedAtSnap int64
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "fed "); ok {
			fed, _ = strconv.ParseInt(v, 10, 64)
		}
		if fedAtSnap == 0 && fed >= 3000 {
			// a reader (a player, a backup) copying the file while it is being written
			b, err := os.ReadFile(video)
			must(t, err)
			must(t, os.WriteFile(snap, b, 0o644))
			fedAtSnap = fed
		}
		if fed >= 6500 { // past one loop of the clip
			break
		}
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	killedAt := float64(fed) / 1000

	if got := lastPacketTime(t, snap); got < float64(fedAtSnap)/1000-1 {
		t.Errorf("snapshot at %.2f s plays to %.2f s", float64(fedAtSnap)/1000, got)
	}
	decodeTruncated(t, snap)
	for _, f := range []string{video, audio} {
		if r := ffprobe(t, f); r.Streams[0].CodecName == "" {
			t.Errorf("%s: no codec", f)
		}
		decodeTruncated(t, f)
		got := lastPacketTime(t, f)
		t.Logf("killed at %.2f s of media; %s plays to %.2f s", killedAt, filepath.Base(f), got)
		if got < killedAt-1 {
			t.Errorf("%s plays to %.2f s, killed at %.2f s", filepath.Base(f), got, killedAt)
		}
	}
	if !exists(filepath.Join(dir, markerName)) {
		t.Fatal("no marker after kill")
	}

	key, err := LoadOrCreateKey(data)
	must(t, err)
	sealed, err := Recover(data, key, testLogger(t))
	must(t, err)
	if len(sealed) != 1 || sealed[0] != dir {
		t.Fatalf("Recover sealed %v", sealed)
	}
	pub := key.Public()
	if r, err := Verify(dir, &pub); err != nil {
		t.Fatalf("verify recovered session: %v\n%s", err, r.Summary())
	}
	evs, err := ReadEvents(filepath.Join(dir, eventsName))
	must(t, err)
	var interrupted bool
	for _, e := range evs {
		if e.Kind == KindInterrupted && e.Detail["reason"] == InterruptedReason && e.Detail["last_write"] != "" {
			interrupted = true
		}
	}
	if !interrupted || evs[len(evs)-1].Kind != KindSealed {
		t.Errorf("events after recovery: %+v", evs)
	}
	for _, f := range []string{video, audio} {
		decodeClean(t, f)
		r := ffprobe(t, f)
		d, _ := strconv.ParseFloat(r.Format.Duration, 64)
		t.Logf("recovered %s: duration %.2f s", filepath.Base(f), d)
		if math.Abs(d-killedAt) > 1 {
			t.Errorf("%s: duration %.2f after recovery, killed at %.2f", filepath.Base(f), d, killedAt)
		}
	}
	// A second Recover finds nothing to do; the session goes on in a new part.
	again, err := Recover(data, key, testLogger(t))
	if err != nil || len(again) != 0 {
		t.Errorf("second Recover: %v %v", again, err)
	}
	s, err := OpenSession(data, SessionMeta{Case: "C2025-001", Session: "S1"}, testLogger(t))
	must(t, err)
	if filepath.Base(s.Dir()) != "S1-part2" {
		t.Errorf("session continues in %s", s.Dir())
	}
}
