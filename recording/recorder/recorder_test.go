package recorder

import (
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"yizhan/recording"
)

// noRooms is a room control with no media: nothing is ever attached (the plans below
// carry no flowing tracks).
type noRooms struct{}

func (noRooms) AttachSink(room, identity, trackSID string, sink Sink) (func(), error) {
	return nil, os.ErrNotExist
}
func (noRooms) RequestKeyframe(room, identity, trackSID string) error { return nil }

func newTestRecorder(t *testing.T) (*Recorder, string, *recording.Signer) {
	t.Helper()
	key, err := recording.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	rec := New(Config{DataDir: data, Key: key, Rooms: noRooms{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(rec.Close)
	return rec, data, key
}

func jointPlan(identities ...string) Plan {
	p := Plan{SessionID: 7, CaseID: 3, CaseNumber: "2026-0001", Title: "t", Kind: "mediation", CaucusPolicy: "off", Room: "r",
		Spaces: []SpacePlan{{Space: "", Reason: "lobby is never recorded"}, {Space: "joint", Record: true}}}
	for _, id := range identities {
		p.Spaces[1].Participants = append(p.Spaces[1].Participants, Participant{Identity: id, Name: id, Role: "party", Consent: true,
			Tracks: []Track{{SID: "TR_" + id, Kind: "audio"}}}) // no MimeType: not flowing, no writer
	}
	return p
}

// settle returns once the session's loop has done everything asked before the call:
// a BeforeMove is answered after the batch it came in, so two of them follow a whole batch.
func settle(rec *Recorder, sessionID int64) {
	rec.BeforeMove(sessionID, nil)
	rec.BeforeMove(sessionID, nil)
}

func waitFile(t *testing.T, path, contains string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), contains) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q", path, contains)
		}
	}
}

// TestEventLogFailureReported: the case file's event log cannot be written (the file
// size limit of the process stands in for a full disk; writes fail with EFBIG). The
// failure goes to OnError at once, without the server's folders, the status turns
// unhealthy, and it is reported once, not once per event lost. When the disk has room
// again the log goes on and the sealed case file verifies.
func TestEventLogFailureReported(t *testing.T) {
	rec, data, key := newTestRecorder(t)
	type failure struct {
		session int64
		err     error
	}
	failures := make(chan failure, 16)
	rec.OnError(func(id int64, err error) { failures <- failure{id, err} })

	rec.Plan(jointPlan("alice"))
	dir := filepath.Join(data, "cases", recording.CaseFolder(3, "2026-0001"), recording.SessionFolder(7))
	events := filepath.Join(dir, "events.jsonl")
	waitFile(t, events, recording.KindRecordingStarted)
	settle(rec, 7)
	fi, err := os.Stat(events)
	if err != nil {
		t.Fatal(err)
	}

	restore := limitFileSize(t, uint64(fi.Size())) // not one byte more: no torn line
	rec.Plan(jointPlan("alice", "bob"))            // bob's participant and consent events
	rec.Log(7, recording.Event{Kind: recording.KindAdmitted, Actor: "med", Subject: "bob"})
	settle(rec, 7)
	restore()

	var got []failure
	for len(failures) > 0 {
		got = append(got, <-failures)
	}
	if len(got) != 1 {
		t.Fatalf("%d failures reported, want 1 (once until a write succeeds): %v", len(got), got)
	}
	msg := got[0].err.Error()
	t.Logf("reported: %q", msg)
	if got[0].session != 7 || !strings.Contains(msg, "event log") || !strings.Contains(msg, "file too large") || strings.Contains(msg, data) {
		t.Errorf("reported %d: %q", got[0].session, msg)
	}
	if st := rec.Status(7); st.Healthy || st.Error != msg {
		t.Errorf("status after the failure: %+v", st)
	}

	rec.Log(7, recording.Event{Kind: recording.KindMuted, Actor: "med", Subject: "alice"}) // the disk has room again
	rec.Ended(7, 3, "r")
	rec.Close()
	evs, err := recording.ReadEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	t.Logf("events: %v", kinds)
	if !strings.Contains(strings.Join(kinds, " "), recording.KindMuted) {
		t.Errorf("the log did not go on after the failure: %v", kinds)
	}
	pub := key.Public()
	if rep, err := recording.Verify(dir, &pub); err != nil {
		t.Errorf("verify after the failure: %v\n%s", err, rep.Summary())
	}
}

// limitFileSize sets the process's file size limit (RLIMIT_FSIZE) to n bytes until
// the returned function (or the test's end) restores it.
func limitFileSize(t *testing.T, n uint64) func() {
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

// TestPlanApplied: the channel Plan returns is closed once the plan was acted on (the
// case file holds its events), and at once when the recorder is closed, so a caller
// waiting on it to answer with the state after its change never waits for nothing.
func TestPlanApplied(t *testing.T) {
	rec, data, _ := newTestRecorder(t)
	wait := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: never closed", what)
		}
	}
	wait("first plan", rec.Plan(jointPlan("alice")))
	events := filepath.Join(data, "cases", recording.CaseFolder(3, "2026-0001"), recording.SessionFolder(7), "events.jsonl")
	if b, err := os.ReadFile(events); err != nil || !strings.Contains(string(b), recording.KindRecordingStarted) {
		t.Fatalf("after the first plan was applied, events.jsonl: %q %v", b, err)
	}
	stop := jointPlan("alice")
	stop.Spaces[1].Record, stop.Spaces[1].Reason = false, "stopped by med: break"
	wait("second plan", rec.Plan(stop))
	if b, _ := os.ReadFile(events); !strings.Contains(string(b), "stopped by med: break") {
		t.Fatalf("after the second plan was applied, events.jsonl: %q", b)
	}
	rec.Close()
	wait("plan after Close", rec.Plan(jointPlan("alice")))
}
