package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recordSession records a full small session: two participants, consents, one joint
// audio+video pair, one sealed caucus track; then seals it.
func recordSession(t *testing.T, data string, key *Signer) (*Session, *Manifest) {
	t.Helper()
	c := testClip(t)
	s := openTestSession(t, data)
	must(t, s.AddParticipant(Participant{Identity: "alice", Name: "张三", Role: "party", Side: "applicant", Centre: "village-12", JoinedVia: "invitation"}))
	must(t, s.AddParticipant(Participant{Identity: "med1", Name: "李调解员", Role: "mediator", Centre: "town-3", JoinedVia: "staff login"}))
	must(t, s.Consent(Consent{Identity: "alice", Given: true, Scope: "recording", Notice: "v1"}))
	must(t, s.Consent(Consent{Identity: "med1", Given: true, Scope: "recording", Notice: "v1"}))
	must(t, s.Log(Event{Kind: KindRecordingStarted, Actor: "med1", Detail: map[string]string{"reason": "joint space opened"}}))
	vw, err := s.NewTrackWriter(TrackMeta{Participant: "张三", Identity: "alice", TrackSID: "TR_v", MimeType: "video/VP8"})
	must(t, err)
	aw, err := s.NewTrackWriter(TrackMeta{Participant: "张三", Identity: "alice", TrackSID: "TR_a", MimeType: "audio/opus"})
	must(t, err)
	cw, err := s.NewTrackWriter(TrackMeta{Participant: "李调解员", Identity: "med1", TrackSID: "TR_c", MimeType: "audio/opus", Sealed: true})
	must(t, err)
	vp, ap := c.videoPackets(), c.audioPackets()
	// A sender report 1 s in: ntp is our wall clock minus 3 s (a sender whose clock is behind).
	vw.WriteSenderReport(timeToNTP(time.Now().Add(-3*time.Second)), vp[30][0].Timestamp)
	feed(t, vw, vp)
	feed(t, aw, ap)
	feed(t, cw, ap[:100])
	m, err := s.Seal(key)
	must(t, err)
	return s, m
}

func timeToNTP(t time.Time) uint64 {
	sec := uint64(t.Unix() + 2208988800)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSealAndVerify(t *testing.T) {
	withTimeout(t, 60*time.Second)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s, m := recordSession(t, data, key)

	if len(m.Files) != 3 || len(m.Participants) != 2 || len(m.Consents) != 2 || m.Interrupted {
		t.Fatalf("manifest: %d files, %d participants, %d consents, interrupted %v", len(m.Files), len(m.Participants), len(m.Consents), m.Interrupted)
	}
	for _, f := range m.Files {
		t.Logf("%s kind=%s size=%d dur=%dms offset=%dms source=%s restricted=%v status=%s",
			f.Path, f.Kind, f.Size, f.DurationMs, f.StartOffsetMs, f.StartSource, f.Restricted, f.Status)
		if f.Status != "complete" || len(f.SHA256) != 64 || len(f.SM3) != 64 {
			t.Errorf("%s: status %q sha256 %q sm3 %q", f.Path, f.Status, f.SHA256, f.SM3)
		}
		if f.Restricted != strings.HasPrefix(f.Path, "sealed/") {
			t.Errorf("%s: restricted %v", f.Path, f.Restricted)
		}
	}
	v := m.Files[len(m.Files)-1] // video-alice-TR_v.webm sorts last
	if v.Kind != "video" || v.StartSource != "sender_report" || v.SenderReport == nil {
		t.Errorf("video entry %+v", v)
	}
	if exists(filepath.Join(s.Dir(), markerName)) || len(trackFiles(s.Dir())) != 3 {
		t.Errorf("housekeeping left after seal")
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "video-alice-TR_v.webm"+journalSuffix)); !os.IsNotExist(err) {
		t.Errorf("journal left after seal")
	}

	pub := key.Public()
	for _, p := range []string{s.Dir(), filepath.Dir(s.Dir())} {
		r, err := Verify(p, &pub)
		if err != nil {
			t.Fatalf("verify %s: %v\n%s", p, err, r.Summary())
		}
	}
	r, _ := Verify(filepath.Dir(s.Dir()), nil)
	t.Logf("\n%s", r.Summary())
	if b, _ := json.Marshal(r); !bytes.Contains(b, []byte(`"ok":true`)) || !bytes.Contains(b, []byte(`"checked":[`)) {
		t.Errorf("report JSON %s", b)
	}

	// the key is stable across restarts
	key2, err := LoadOrCreateKey(data)
	must(t, err)
	if !bytes.Equal(key2.Public().PEM(), pub.PEM()) {
		t.Error("key changed on reload")
	}
	if p, err := ParsePublicKeyPEM(pub.PEM()); err != nil || !p.Ed25519.Equal(pub.Ed25519) || !p.SM2.Equal(pub.SM2) {
		t.Errorf("PEM round trip: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(data, ed25519KeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	// sealed: no more events, no reopening
	if err := s.Log(Event{Kind: KindJoined}); err == nil {
		t.Error("logged into a sealed session")
	}
	s2, err := OpenSession(data, SessionMeta{Case: "C2025-001", Session: "S1"}, testLogger(t))
	must(t, err)
	if filepath.Base(s2.Dir()) != "S1-part2" {
		t.Errorf("reopened sealed session as %s", s2.Dir())
	}
}

// Each tampering is caught, and the error names what is wrong.
func TestVerifyDetectsTampering(t *testing.T) {
	withTimeout(t, 120*time.Second)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s, _ := recordSession(t, data, key)
	pub := key.Public()
	other, err := LoadOrCreateKey(t.TempDir())
	must(t, err)

	lines := func(dir string) [][]byte {
		b, _ := os.ReadFile(filepath.Join(dir, eventsName))
		return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	}
	writeLines := func(dir string, ls [][]byte) {
		b := bytes.Join(ls, nil)
		if !bytes.HasSuffix(b, []byte("\n")) {
			b = append(b, '\n')
		}
		os.Chmod(filepath.Join(dir, eventsName), 0o644)
		must(t, os.WriteFile(filepath.Join(dir, eventsName), b, 0o644))
	}
	cases := []struct {
		name   string
		tamper func(dir string)
		want   string
	}{
		{"one byte of a track file", func(dir string) {
			p := filepath.Join(dir, "video-alice-TR_v.webm")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			must(t, os.WriteFile(p, b, 0o644))
		}, "video-alice-TR_v.webm: SHA-256 does not match"},
		{"track file removed", func(dir string) { os.Remove(filepath.Join(dir, "audio-alice-TR_a.webm")) }, "audio-alice-TR_a.webm: missing"},
		{"file added", func(dir string) { os.WriteFile(filepath.Join(dir, "extra.webm"), []byte("x"), 0o644) }, "extra.webm: file not listed"},
		{"event line removed", func(dir string) {
			ls := lines(dir)
			writeLines(dir, append(ls[:3:3], ls[4:]...))
		}, "events.jsonl: line 4"},
		{"last event line removed", func(dir string) {
			ls := lines(dir)
			writeLines(dir, ls[:len(ls)-1])
		}, "events.jsonl: 12 events, the manifest says 13"},
		{"event lines reordered", func(dir string) {
			ls := lines(dir)
			ls[2], ls[3] = ls[3], ls[2]
			writeLines(dir, ls)
		}, "events.jsonl: line 3"},
		{"event line edited", func(dir string) {
			ls := lines(dir)
			ls[3] = bytes.Replace(ls[3], []byte(`"given"`), []byte(`"GIVEN"`), 1)
			ls[3] = bytes.Replace(ls[3], []byte(`consented`), []byte(`declined!`), 1)
			writeLines(dir, ls)
		}, "events.jsonl: line 5"},
		{"last event line edited", func(dir string) {
			ls := lines(dir)
			ls[len(ls)-1] = bytes.Replace(ls[len(ls)-1], []byte(`"system"`), []byte(`"someone"`), 1)
			writeLines(dir, ls)
		}, "events.jsonl: last line's hash is not the one in the manifest"},
		{"manifest edited", func(dir string) {
			p := filepath.Join(dir, manifestName)
			b, _ := os.ReadFile(p)
			os.Chmod(p, 0o644)
			must(t, os.WriteFile(p, bytes.Replace(b, []byte(`"side": "applicant"`), []byte(`"side": "respondent"`), 1), 0o644))
		}, "manifest.sig: Ed25519 signature does not match"},
		{"signature replaced", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, manifestName))
			sig, _, _ := other.sign(b)
			os.Chmod(filepath.Join(dir, sigName), 0o644)
			must(t, os.WriteFile(filepath.Join(dir, sigName), sig, 0o644))
		}, "manifest.sig: Ed25519 signature does not match"},
		{"SM2 signature replaced", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, manifestName))
			_, sig, _ := other.sign(b)
			os.Chmod(filepath.Join(dir, sm2SigName), 0o644)
			must(t, os.WriteFile(filepath.Join(dir, sm2SigName), sig, 0o644))
		}, "manifest.sm2.sig: SM2 signature does not match"},
		{"manifest re-signed by another key", func(dir string) {
			p := filepath.Join(dir, manifestName)
			var m Manifest
			b, _ := os.ReadFile(p)
			must(t, json.Unmarshal(b, &m))
			op := other.Public()
			m.Signing = SigningEntry{KeyID: op.KeyID(), Ed25519PublicKey: op.Ed25519Base64(), SM2PublicKey: op.SM2Base64(), SM2ID: string(sm2UID)}
			b, _ = json.MarshalIndent(m, "", "  ")
			ed, sm, _ := other.sign(b)
			for name, v := range map[string][]byte{manifestName: b, sigName: ed, sm2SigName: sm} {
				os.Chmod(filepath.Join(dir, name), 0o644)
				must(t, os.WriteFile(filepath.Join(dir, name), v, 0o644))
			}
		}, "not the trusted key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "S1")
			copyDir(t, s.Dir(), dir)
			if _, err := Verify(dir, &pub); err != nil {
				t.Fatalf("untouched copy fails: %v", err)
			}
			tc.tamper(dir)
			r, err := Verify(dir, &pub)
			if err == nil {
				t.Fatalf("tampering not detected:\n%s", r.Summary())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name %q\n%s", err, tc.want, r.Summary())
			}
		})
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	must(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	}))
}

func TestNamesRefuseTricks(t *testing.T) {
	data := t.TempDir()
	for _, bad := range []string{"", "..", ".", "../x", "a/b", `a\b`, ".hidden", "-rf", "a b", "案件1", "a\x00b", "x\n", strings.Repeat("a", 65)} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v", bad, err)
		}
		if _, err := OpenSession(data, SessionMeta{Case: bad, Session: "s"}, testLogger(t)); err == nil {
			t.Errorf("OpenSession case %q accepted", bad)
		}
		if _, err := OpenSession(data, SessionMeta{Case: "c", Session: bad}, testLogger(t)); err == nil {
			t.Errorf("OpenSession session %q accepted", bad)
		}
	}
	for _, good := range []string{"C2025-001", "s_1.part", "a..b", "X"} {
		must(t, CheckName(good))
	}
	s, err := OpenSession(data, SessionMeta{Case: "c", Session: "s"}, testLogger(t))
	must(t, err)
	for _, bad := range []string{"../../etc", "a/b", ".."} {
		if _, err := s.NewTrackWriter(TrackMeta{Identity: bad, TrackSID: "t", MimeType: "audio/opus"}); !errors.Is(err, ErrBadName) {
			t.Errorf("identity %q: %v", bad, err)
		}
		if _, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: bad, MimeType: "audio/opus"}); !errors.Is(err, ErrBadName) {
			t.Errorf("track %q: %v", bad, err)
		}
	}
	if _, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: "t", MimeType: "video/H264"}); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("H264: %v", err)
	}
	// nothing was created outside the data folder's cases/
	ents, _ := os.ReadDir(data)
	if len(ents) != 1 || ents[0].Name() != "cases" {
		t.Errorf("data folder holds %v", ents)
	}
}

// failingFile fails every write after limit bytes, as a full disk does.
type failingFile struct {
	*os.File
	limit int64 // the disk is full at this file size
}

func (f *failingFile) WriteAt(b []byte, off int64) (int, error) {
	if end := off + int64(len(b)); end > f.limit {
		k := max(0, int(f.limit-off))
		f.File.WriteAt(b[:k], off) // a short write, as ENOSPC leaves it
		return k, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.WriteAt(b, off)
}

func TestWriterFailureIsReportedAndKept(t *testing.T) {
	withTimeout(t, 60*time.Second)
	c := testClip(t)
	data := t.TempDir()
	key, err := LoadOrCreateKey(data)
	must(t, err)
	s := openTestSession(t, data)
	s.create = func(p string) (trackFile, error) {
		f, err := createTrackFile(p)
		if err != nil {
			return nil, err
		}
		return &failingFile{File: f.(*os.File), limit: 40_000}, nil
	}
	var failures []TrackFailure
	s.OnError(func(f TrackFailure) { failures = append(failures, f) })
	vw, err := s.NewTrackWriter(TrackMeta{Identity: "alice", TrackSID: "TR_v", MimeType: "video/VP8"})
	must(t, err)
	var werr error
	for _, f := range c.videoPackets() {
		for _, p := range f {
			if err := vw.WriteRTP(p); err != nil && werr == nil {
				werr = err
			}
		}
	}
	if !errors.Is(werr, syscall.ENOSPC) || len(failures) != 1 || !errors.Is(failures[0].Err, syscall.ENOSPC) {
		t.Fatalf("write error %v, failures %v", werr, failures)
	}
	path := filepath.Join(s.Dir(), vw.Path())
	// What was written before the failure plays now, and after the seal closes it out.
	decodeTruncated(t, path)
	m, err := s.Seal(key)
	must(t, err)
	if m.Files[0].Status != "failed" || !strings.Contains(m.Files[0].Error, "no space") {
		t.Errorf("manifest file %+v", m.Files[0])
	}
	if os.Getenv("KEEP") != "" {
		copyDir(t, s.Dir(), os.Getenv("KEEP"))
	}
	decodeClean(t, path)
	t.Logf("kept %.2f s of video written before the disk filled", lastPacketTime(t, path))
	evs, _ := ReadEvents(filepath.Join(s.Dir(), eventsName))
	var found bool
	for _, e := range evs {
		found = found || e.Kind == KindRecordingFailed && strings.Contains(e.Detail["error"], "no space")
	}
	if !found {
		t.Error("no recording_failed event")
	}
	if _, err := Verify(s.Dir(), nil); err != nil {
		t.Error(err)
	}
}
