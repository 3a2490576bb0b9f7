package mediation

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
)

// Recording with the real recorder (package recording/recorder), the real server in process and real
// LiveKit SDK clients publishing real VP8 and Opus (a clip made with ffmpeg), so that the
// files can be played back and measured.

// TestRecorderSession: a mediator and two parties (invited, consented, admitted) publish
// for a few seconds and the host ends the session. The case file has one WebM per track,
// vp8 or opus, each as long as the session within a second; it verifies against the
// server's key; its events log the joins, admissions, consents, the recording's start and
// stop and the end; the room metadata said "recording" while the writers ran.
func TestRecorderSession(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, se := rs.newCase(t, "off")
	med, app, res := rs.joinAll(t, c, se, true, true)

	t0 := time.Now()
	for _, cl := range []*lktest.Client{med, app, res} {
		cl.MustPublishClip(t, rs.clip)
	}
	waitFor(t, "every track is written", func() bool {
		st := ls.svc.cfg.Recorder.Status(se.ID)
		return st.Active && st.Healthy && len(recWebm(rs.sessionDir(c, se))) == 6
	})
	waitFor(t, "the room says recording", func() bool { return recMeta(app).Recording && recMeta(res).Recording })
	time.Sleep(6 * time.Second)
	endAt := time.Now()
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	length := time.Since(t0).Seconds()

	dir := rs.sessionDir(c, se)
	m := rs.sealed(t, dir)
	if rep, err := recording.Verify(dir, rs.pub()); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	if len(m.Files) < 6 {
		t.Fatalf("manifest lists %d files, want 6 tracks", len(m.Files))
	}
	perIdentity := map[string]int{}
	for _, fe := range m.Files {
		if fe.Kind != "video" && fe.Kind != "audio" {
			continue
		}
		perIdentity[fe.Identity]++
		codec, dur := lktest.Probe(t, filepath.Join(dir, filepath.FromSlash(fe.Path)), "")
		t.Logf("%-55s %-4s %.2fs (session %.2fs, start %+d ms via %s, gaps %d)", fe.Path, codec, dur, length, fe.StartOffsetMs, fe.StartSource, len(fe.Gaps))
		if want := map[string]string{"video": "vp8", "audio": "opus"}[fe.Kind]; codec != want {
			t.Errorf("%s: codec %s, want %s", fe.Path, codec, want)
		}
		// A file covers its track from the moment it started (which a loaded machine
		// delays) to the end of the session, with nothing missing in between.
		if want := endAt.Sub(fe.StartTime).Seconds(); fe.StartTime.IsZero() || dur-want < -1 || dur-want > 1 {
			t.Errorf("%s plays %.2fs, want %.2fs (from its start %v to the end; session %.2fs)", fe.Path, dur, want, fe.StartTime, length)
		}
		if msg := lktest.DecodeErrors(filepath.Join(dir, filepath.FromSlash(fe.Path))); msg != "" {
			t.Errorf("%s: ffmpeg: %s", fe.Path, msg)
		}
	}
	for _, id := range []string{med.Identity, app.Identity, res.Identity} {
		if perIdentity[id] != 2 {
			t.Errorf("%s has %d track files, want 2: %v", id, perIdentity[id], perIdentity)
		}
	}
	kinds := recEventKinds(t, dir)
	for _, k := range []string{recording.KindJoined, recording.KindAdmitted, recording.KindConsented, recording.KindRecordingStarted, recording.KindRecordingStopped,
		recording.KindTrackStarted, recording.KindEnded, recording.KindSealed} {
		if kinds[k] == 0 {
			t.Errorf("events.jsonl has no %q: %v", k, kinds)
		}
	}
	if kinds[recording.KindJoined] < 3 || kinds[recording.KindAdmitted] < 2 || kinds[recording.KindConsented] < 3 {
		t.Errorf("events.jsonl: %v", kinds)
	}
}

// TestRecorderConsentDeclined: the respondent declines. While they are in the joint
// space nothing is recorded and the room says so; moved back to the lobby, recording
// resumes. No file carries their media; the decline is in the event log.
func TestRecorderConsentDeclined(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, se := rs.newCase(t, "off")
	med, app, res := rs.joinAll(t, c, se, true, false)
	for _, cl := range []*lktest.Client{med, app, res} {
		cl.MustPublishClip(t, rs.clip)
	}
	waitFor(t, "recording stops while the decliner is in the joint space", func() bool {
		return !ls.svc.cfg.Recorder.Status(se.ID).Active && app.PacketsFrom(res.Identity, "video") > 20
	})
	waitFor(t, "the room says not recording", func() bool { return !recMeta(app).Recording && recMeta(app).Title != "" })
	time.Sleep(2 * time.Second)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/lobby", se.ID), `{"identity":"`+res.Identity+`"}`, 200, nil)
	waitFor(t, "recording resumes without the decliner", func() bool { return ls.svc.cfg.Recorder.Status(se.ID).Active })
	waitFor(t, "the room says recording", func() bool { return recMeta(app).Recording })
	time.Sleep(2 * time.Second)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)

	dir := rs.sessionDir(c, se)
	m := rs.sealed(t, dir)
	n := 0
	for _, fe := range m.Files {
		if fe.Identity == res.Identity || strings.Contains(fe.Path, res.Identity) {
			t.Errorf("the respondent declined and was recorded: %s", fe.Path)
		}
		if strings.HasSuffix(fe.Path, ".webm") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d track files, want 4 (mediator and applicant)", n)
	}
	declined := false
	for _, cs := range m.Consents {
		declined = declined || (cs.Identity == res.Identity && !cs.Given)
	}
	if !declined {
		t.Errorf("the manifest does not show the decline: %+v", m.Consents)
	}
	if kinds := recEventKinds(t, dir); kinds[recording.KindDeclined] == 0 {
		t.Errorf("no declined event: %v", kinds)
	}
}

// TestRecorderCaucusOff: under policy "off" the applicant's caucus with the mediator
// leaves no media in the case file (their files stop before it and start again after),
// only its events; the respondent, alone in the joint space meanwhile, is recorded on.
func TestRecorderCaucusOff(t *testing.T) {
	rs := newRecorderServer(t)
	_, m, dir, ct, ids := rs.caucusSession(t, "off")
	for _, fe := range m.Files {
		if fe.Restricted || strings.HasPrefix(fe.Path, "sealed/") {
			t.Errorf("policy off, yet a sealed file: %s", fe.Path)
		}
		if fe.Identity != ids[0] && fe.Identity != ids[1] {
			continue
		}
		from, to := recSpan(fe)
		// The recorder stops a mover's writers before the move: inside the caucus
		// proper, nothing but the last frame's length, which a file's end counts
		// (66 ms of video, 20 ms of audio; a couple of ms for the clocks).
		slack := recFrame
		if fe.Kind == "audio" {
			slack = 22 * time.Millisecond
		}
		inner, outer := recOverlap(from, to, [2]time.Time{ct[1], ct[2]}), recOverlap(from, to, [2]time.Time{ct[0], ct[3]})
		t.Logf("%s: %v inside the caucus, %v within the moves", fe.Path, inner, outer)
		if inner > slack || outer > slack+ct[1].Sub(ct[0])+ct[3].Sub(ct[2]) {
			t.Errorf("%s holds %v of the caucus (%v counting the moves)", fe.Path, inner, outer)
		}
	}
	kinds := recEventKinds(t, dir)
	if kinds[recording.KindMoved] < 4 {
		t.Errorf("the caucus is not in the events: %v", kinds)
	}
}

// recFrame is one video frame of the test clip (15 fps).
const recFrame = time.Second / 15

// recCatchUp is how long a writer may go on after a move before the recorder, which
// applies plans on its own goroutine, detaches it (measured: under 100 ms on loopback).
const recCatchUp = 250 * time.Millisecond

// TestRecorderCaucusSealed: under policy "sealed" the caucus media goes to the sealed
// part of the session folder, listed as restricted; the joint files hold none of it.
func TestRecorderCaucusSealed(t *testing.T) {
	rs := newRecorderServer(t)
	_, m, dir, ct, ids := rs.caucusSession(t, "sealed")
	sealedFiles := 0
	for _, fe := range m.Files {
		if fe.Identity != ids[0] && fe.Identity != ids[1] {
			continue
		}
		from, to := recSpan(fe)
		if strings.HasPrefix(fe.Path, "sealed/") {
			sealedFiles++
			if !fe.Restricted {
				t.Errorf("%s is not marked restricted", fe.Path)
			}
			// the sealed file lies inside the caucus, give or take the moves
			if from.Before(ct[0]) || to.After(ct[3].Add(recCatchUp)) {
				t.Errorf("%s spans %s..%s, the moves %s..%s", fe.Path, from.Format("05.000"), to.Format("05.000"), ct[0].Format("05.000"), ct[3].Format("05.000"))
			}
			codec, dur := lktest.Probe(t, filepath.Join(dir, filepath.FromSlash(fe.Path)), "")
			t.Logf("sealed: %s %s %.2fs (caucus %.2fs)", fe.Path, codec, dur, ct[2].Sub(ct[1]).Seconds())
			continue
		}
		if inner := recOverlap(from, to, [2]time.Time{ct[1], ct[2]}); inner > recCatchUp {
			t.Errorf("%s (joint) holds %v of the caucus", fe.Path, inner)
		}
	}
	if sealedFiles != 4 {
		t.Errorf("%d sealed files, want 4 (applicant and mediator, audio and video)", sealedFiles)
	}
	files, err := recording.ListCase(rs.data, filepath.Base(filepath.Dir(dir)))
	if err != nil {
		t.Fatal(err)
	}
	restricted := 0
	for _, f := range files {
		if f.Restricted {
			restricted++
		}
	}
	if restricted != 4 {
		t.Errorf("ListCase shows %d restricted files, want 4", restricted)
	}
}

// caucusSession runs a session under policy: everyone in the joint space for 2 s, the
// applicant and the mediator in a caucus for 3 s, back for 2 s, end. It returns the
// case, the sealed manifest, the folder, the caucus times (the first move in starts, the last move
// in is done: both talk in private; the first move back starts, the last move back is
// done) and the identities in the caucus.
func (rs *recorderServer) caucusSession(t *testing.T, policy string) (caseJSON, recording.Manifest, string, [4]time.Time, [2]string) {
	ls := rs.ls
	c, se := rs.newCase(t, policy)
	med, app, res := rs.joinAll(t, c, se, true, true)
	for _, cl := range []*lktest.Client{med, app, res} {
		cl.MustPublishClip(t, rs.clip)
	}
	waitFor(t, "every track is written", func() bool { return len(recWebm(rs.sessionDir(c, se))) == 6 })
	time.Sleep(2 * time.Second)
	move := func(space string) {
		for _, id := range []string{app.Identity, med.Identity} {
			ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+id+`","space":"`+space+`"}`, 200, nil)
		}
	}
	var caucus [2]time.Time
	outer0 := time.Now()
	move("caucus-applicant")
	caucus[0] = time.Now()
	waitFor(t, "the caucus talks", func() bool {
		n := app.PacketsFrom(med.Identity, "audio")
		time.Sleep(100 * time.Millisecond)
		return app.PacketsFrom(med.Identity, "audio") > n
	})
	time.Sleep(3 * time.Second)
	caucus[1] = time.Now()
	move(jointSpace)
	outer1 := time.Now()
	waitFor(t, "back in the joint space", func() bool {
		n := res.PacketsFrom(app.Identity, "audio")
		time.Sleep(100 * time.Millisecond)
		return res.PacketsFrom(app.Identity, "audio") > n
	})
	time.Sleep(2 * time.Second)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	dir := rs.sessionDir(c, se)
	m := rs.sealed(t, dir)
	if rep, err := recording.Verify(dir, rs.pub()); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	for _, fe := range m.Files {
		if strings.HasSuffix(fe.Path, ".webm") {
			from, to := recSpan(fe)
			t.Logf("%-60s %s..%s", fe.Path, from.Format("05.000"), to.Format("05.000"))
		}
	}
	t.Logf("caucus %s..%s (moves from %s, back by %s)", caucus[0].Format("05.000"), caucus[1].Format("05.000"), outer0.Format("05.000"), outer1.Format("05.000"))
	return c, m, dir, [4]time.Time{outer0, caucus[0], caucus[1], outer1}, [2]string{app.Identity, med.Identity}
}

// recOverlap is how long [from, to] overlaps span.
func recOverlap(from, to time.Time, span [2]time.Time) time.Duration {
	if span[0].After(from) {
		from = span[0]
	}
	if span[1].Before(to) {
		to = span[1]
	}
	return max(to.Sub(from), 0)
}

// recSpan is the wall-clock span of a track file.
func recSpan(fe recording.FileEntry) (time.Time, time.Time) {
	return fe.StartTime, fe.StartTime.Add(time.Duration(fe.DurationMs) * time.Millisecond)
}

// recorderServer is the whole server in process with the recorder writing case files into data.
type recorderServer struct {
	ls   *liveServer
	data string
	key  *recording.Signer
	rec  *recorder.Recorder
	clip *lktest.Clip
}

func newRecorderServer(t *testing.T) *recorderServer {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	rs := &recorderServer{data: t.TempDir()}
	var err error
	if rs.key, err = recording.LoadOrCreateKey(rs.data); err != nil {
		t.Fatal(err)
	}
	rs.clip = lktest.MustClip(t)
	rs.ls = newLiveServerWith(t, func(sig *signaling.Server) Config {
		var cfg Config
		cfg, rs.rec = withRecorder(t, rs.data, rs.key, sig)
		return cfg
	})
	return rs
}

func (rs *recorderServer) pub() *recording.PublicKey {
	p := rs.key.Public()
	return &p
}

func (rs *recorderServer) newCase(t *testing.T, policy string) (caseJSON, sessionJSON) {
	t.Helper()
	var c caseJSON
	rs.ls.call("mediator", "POST", "/api/cases", `{"title":"录像测试","category":"contracts","risk":"blue","mediator":"med",
		"parties":[{"name":"张三","side":"applicant"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	rs.ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"调解","caucus_policy":"`+policy+`"}`, 201, &se)
	return c, se
}

// joinAll brings the mediator and both parties (with their consent answers) into the
// joint space, none publishing yet.
func (rs *recorderServer) joinAll(t *testing.T, c caseJSON, se sessionJSON, appConsent, resConsent bool) (med, app, res *lktest.Client) {
	t.Helper()
	ls := rs.ls
	var medJ, appJ, resJ joinJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	for _, p := range []struct {
		party   int64
		consent bool
		j       *joinJSON
	}{{c.Parties[0].ID, appConsent, &appJ}, {c.Parties[1].ID, resConsent, &resJ}} {
		inv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, p.party))
		ls.call("party", "POST", "/api/join/"+inv.Code, fmt.Sprintf(`{"consent":%v}`, p.consent), 200, p.j)
	}
	med, app, res = ls.connect(medJ), ls.connect(appJ), ls.connect(resJ)
	for _, id := range []string{appJ.Identity, resJ.Identity} {
		waitFor(t, id+" knocks", func() bool { _, ok := ls.svc.participant(se.Room, id); return ok })
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+id+`"}`, 200, nil)
	}
	waitFor(t, "everyone sees everyone", func() bool {
		return app.Room.GetParticipantByIdentity(resJ.Identity) != nil && res.Room.GetParticipantByIdentity(medJ.Identity) != nil
	})
	return med, app, res
}

func (rs *recorderServer) sessionDir(c caseJSON, se sessionJSON) string {
	return filepath.Join(rs.data, "cases", recording.CaseFolder(c.ID, c.Number), recording.SessionFolder(se.ID))
}

// sealed waits for the session folder's manifest and reads it.
func (rs *recorderServer) sealed(t *testing.T, dir string) recording.Manifest {
	t.Helper()
	// sealed: the manifest is in place and the housekeeping files (the open marker, the
	// track journals), removed right after it, are gone
	waitFor(t, "the case file is sealed", func() bool {
		_, err := os.Stat(filepath.Join(dir, "manifest.json"))
		_, open := os.Stat(filepath.Join(dir, ".recording"))
		j, _ := filepath.Glob(filepath.Join(dir, "*.journal"))
		return err == nil && open != nil && len(j) == 0
	})
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m recording.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func recEventKinds(t *testing.T, dir string) map[string]int {
	t.Helper()
	evs, err := recording.ReadEvents(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	return kinds
}

func recMeta(c *lktest.Client) roomMetaJSON {
	var m roomMetaJSON
	_ = json.Unmarshal([]byte(c.Room.Metadata()), &m)
	return m
}

func recWebm(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.webm"))
	s, _ := filepath.Glob(filepath.Join(dir, "sealed", "*.webm"))
	return append(m, s...)
}

// TestRecorderMetadataFollowsWriters: the room metadata's "recording" follows the
// writers, not the request: a host stops and resumes recording with nobody else doing
// anything, and every client's banner state follows within a second or two. The
// answers to stop and start report the state after the call.
func TestRecorderMetadataFollowsWriters(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, se := rs.newCase(t, "off")
	med, app, _ := rs.joinAll(t, c, se, true, true)
	med.MustPublishClip(t, rs.clip)
	app.MustPublishClip(t, rs.clip)
	status := func() RecordingStatus { return ls.svc.cfg.Recorder.Status(se.ID) }
	waitFor(t, "recording", func() bool { return status().Active })
	waitFor(t, "the banner says recording", func() bool { return recMeta(app).Recording })
	for i := 0; i < 3; i++ {
		var stopped, started recordingJSON
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/recording", se.ID), `{"action":"stop","reason":"休息"}`, 200, &stopped)
		if stopped.Active || !strings.Contains(stopped.Stopped, "休息") {
			t.Errorf("stop answered %+v, want active false, stopped with the reason", stopped)
		}
		waitFor(t, "the writers stop", func() bool { return !status().Active })
		waitFor(t, "the banner says not recording", func() bool { return !recMeta(app).Recording && !recMeta(med).Recording })
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/recording", se.ID), `{"action":"start"}`, 200, &started)
		if !started.Active || started.Stopped != "" || started.StartedAt == nil {
			t.Errorf("start answered %+v, want active true", started)
		}
		waitFor(t, "the writers run", func() bool { return status().Active })
		waitFor(t, "the banner says recording", func() bool { return recMeta(app).Recording && recMeta(med).Recording })
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	dir := rs.sessionDir(c, se)
	rs.sealed(t, dir)
	evs, err := recording.ReadEvents(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	stops := 0
	for _, e := range evs {
		if e.Kind == recording.KindRecordingStopped && strings.Contains(e.Detail["reason"], "休息") {
			stops++
		}
	}
	if stops != 3 {
		t.Errorf("%d stops with the host's reason in events.jsonl, want 3", stops)
	}
}

// TestRecorderWriteFailure: a writer fails (the file size limit of the process stands in
// for a full disk: writes fail with EFBIG). The hosts get a "recording" event with the
// error at once, the live view shows it, the event log has it, and after the session the
// file written so far is kept, sealed, listed as failed, and plays.
func TestRecorderWriteFailure(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, se := rs.newCase(t, "off")
	med, _, _ := rs.joinAll(t, c, se, true, true)
	events := recEvents(t, ls, "mediator")
	med.MustPublishClip(t, rs.clip)
	dir := rs.sessionDir(c, se)
	waitFor(t, "two track files", func() bool { return len(recWebm(dir)) == 2 })
	time.Sleep(time.Second)

	// No file may grow past 30 KB more than the largest track file now: the video file
	// fails within a second. (The database's log is larger already and cannot grow in
	// that second either: the timeline may lose the failure event; the hosts may not.)
	var largest int64
	for _, f := range recWebm(dir) {
		if fi, err := os.Stat(f); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	restore := recLimitFileSize(t, uint64(largest+30<<10))
	limited := time.Now()
	var got string
	waitFor(t, "the hosts hear of the failure", func() bool {
		select {
		case ev := <-events:
			if strings.Contains(ev, `"healthy":false`) {
				got = ev
				return true
			}
		default:
		}
		return false
	})
	restore()
	t.Logf("%v after the limit, the hosts got: %q", time.Since(limited), got)
	var live struct {
		Recording recordingJSON `json:"recording"`
	}
	ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), "", 200, &live)
	if live.Recording.Healthy || live.Recording.Error == "" {
		t.Errorf("live view after a failure: %+v", live.Recording)
	}
	if active, failed := rs.rec.Stats(); active != 1 || failed < 1 {
		t.Errorf("stats for the metrics: %d active, %d failed", active, failed)
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	m := rs.sealed(t, dir)
	failed := 0
	for _, fe := range m.Files {
		if fe.Status == "failed" {
			failed++
			codec, dur := lktest.Probe(t, filepath.Join(dir, filepath.FromSlash(fe.Path)), "")
			t.Logf("failed file kept: %s %s %.2fs, error %q", fe.Path, codec, dur, fe.Error)
			if dur < 1 {
				t.Errorf("%s: %.2fs kept", fe.Path, dur)
			}
			if msg := lktest.DecodeErrors(filepath.Join(dir, filepath.FromSlash(fe.Path))); msg != "" {
				t.Errorf("%s: ffmpeg: %s", fe.Path, msg)
			}
		}
	}
	if failed == 0 {
		t.Errorf("no file listed as failed: %+v", m.Files)
	}
	if kinds := recEventKinds(t, dir); kinds[recording.KindRecordingFailed] == 0 {
		t.Errorf("events.jsonl has no recording_failed: %v", kinds)
	}
	if rep, err := recording.Verify(dir, rs.pub()); err != nil {
		t.Errorf("verify: %v\n%s", err, rep.Summary())
	}
}

// recLimitFileSize sets RLIMIT_FSIZE (SIGXFSZ ignored, so writes fail with EFBIG) and
// returns a function that lifts it again.
func recLimitFileSize(t *testing.T, n uint64) func() {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}

// recEvents subscribes to GET /api/events as role and hands over each event frame.
func recEvents(t *testing.T, ls *liveServer, role string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(ls.ctx)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", ls.srv.URL+"/api/events", nil)
	req.AddCookie(ls.cookies[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	out := make(chan string, 256)
	go func() { // ends when the test cancels the request
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var frame strings.Builder
		for sc.Scan() {
			if sc.Text() == "" {
				select {
				case out <- frame.String():
				default:
				}
				frame.Reset()
				continue
			}
			frame.WriteString(sc.Text() + "\n")
		}
	}()
	return out
}
