package recording

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCaseAccessAndCustody(t *testing.T) {
	withTimeout(t, 60*time.Second)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	recordSession(t, data, key)
	files, err := ListCase(data, "C2025-001")
	must(t, err)
	var restricted int
	for _, f := range files {
		if !f.Sealed {
			t.Errorf("%s not sealed", f.Path)
		}
		if f.Restricted {
			restricted++
		}
	}
	// events, manifest, 2 sigs, 3 tracks
	if len(files) != 7 || restricted != 1 {
		t.Fatalf("listed %+v", files)
	}
	f, cf, err := OpenCaseFile(data, "C2025-001", "S1/sealed/audio-med1-TR_c.webm")
	must(t, err)
	b, _ := io.ReadAll(f)
	f.Close()
	if int64(len(b)) != cf.Size || !cf.Restricted {
		t.Errorf("opened %+v, read %d", cf, len(b))
	}
	os.Symlink("/etc/passwd", filepath.Join(data, "cases", "C2025-001", "S1", "link.webm"))
	for _, bad := range []string{"../S1/events.jsonl", "S1/../../x", "/etc/passwd", "S1/.recording", "S1",
		"S1/x/events.jsonl", "S1/sealed/../manifest.json", "S1/link.webm", "S1/video-alice-TR_v.webm.journal", "S1//events.jsonl"} {
		if f, _, err := OpenCaseFile(data, "C2025-001", bad); err == nil {
			f.Close()
			t.Errorf("opened %q", bad)
		}
	}
	if _, _, err := OpenCaseFile(data, "../cases", "S1/events.jsonl"); !errors.Is(err, ErrBadName) {
		t.Errorf("case ../cases: %v", err)
	}
	os.Remove(filepath.Join(data, "cases", "C2025-001", "S1", "link.webm"))

	cl, err := OpenCustodyLog(data, "C2025-001")
	must(t, err)
	_, err = cl.Append(Event{Kind: KindViewed, Actor: "med1", Subject: "S1/video-alice-TR_v.webm"})
	must(t, err)
	cl.Close()
	cl, err = OpenCustodyLog(data, "C2025-001") // reopened: the chain continues
	must(t, err)
	ev, err := cl.Append(Event{Kind: KindDownloaded, Actor: "admin", Subject: "S1/manifest.json"})
	must(t, err)
	cl.Close()
	if ev.Seq != 2 {
		t.Errorf("custody seq %d", ev.Seq)
	}
	pub := key.Public()
	r, err := Verify(filepath.Join(data, "cases", "C2025-001"), &pub)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.Summary())
	}
	p := filepath.Join(data, "cases", "C2025-001", custodyName)
	lines, _ := os.ReadFile(p)
	os.WriteFile(p, lines[len(lines)/2:], 0o644)
	if _, err := Verify(filepath.Join(data, "cases", "C2025-001"), &pub); err == nil {
		t.Error("cut custody log not detected")
	}
}

// Two tracks of one sender: the sender report keeps their relative timing (lip sync)
// while the server clock anchors them; a track without one starts at its arrival.
func TestAlignTracks(t *testing.T) {
	opened := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	sender := opened.Add(-time.Hour) // the sender's clock is an hour behind
	ms := time.Millisecond
	files := []FileEntry{
		{Kind: "video", Identity: "a", FirstArrival: opened.Add(1050 * ms), SenderReport: &SRMap{NTP: sender.Add(2000 * ms), AtMs: 1000}},
		{Kind: "audio", Identity: "a", FirstArrival: opened.Add(1230 * ms), SenderReport: &SRMap{NTP: sender.Add(1700 * ms), AtMs: 500}},
		{Kind: "audio", Identity: "b", FirstArrival: opened.Add(3000 * ms)},
	}
	alignTracks(files, opened)
	// video: sender start 1000; audio: sender start 1200. Delays 50 and 30: the least, 30, wins.
	if files[0].StartOffsetMs != 1030 || files[1].StartOffsetMs != 1230 || files[2].StartOffsetMs != 3000 {
		t.Errorf("offsets %d %d %d", files[0].StartOffsetMs, files[1].StartOffsetMs, files[2].StartOffsetMs)
	}
	if files[0].StartSource != "sender_report" || files[2].StartSource != "arrival" {
		t.Errorf("sources %s %s", files[0].StartSource, files[2].StartSource)
	}
}
