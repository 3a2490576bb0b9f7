package mediation

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yizhan/recording"
)

// TestRecorderEventLogFailure: the case file's event log cannot be written (the file
// size limit of the process stands in for a full disk). The hosts get a "recording"
// event with the error at once, and the live view shows it, without the server's
// folders.
func TestRecorderEventLogFailure(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	events := recEvents(t, &liveServer{fixture: fx}, "mediator")
	logs, _ := filepath.Glob(filepath.Join(fx.dataDir, "cases", "*", recording.SessionFolder(sc.sessID), "events.jsonl"))
	if len(logs) != 1 {
		t.Fatalf("event logs: %v", logs)
	}
	// the case file is open and the guest's consent written; then the recorder is idle
	waitFor(t, "the guest's consent in the case file", func() bool {
		b, _ := os.ReadFile(logs[0])
		return strings.Contains(string(b), recording.KindConsented)
	})
	fx.svc.cfg.Recorder.BeforeMove(sc.sessID, nil) // each returns after the batch it came in:
	fx.svc.cfg.Recorder.BeforeMove(sc.sessID, nil) // two follow a whole batch
	fi, err := os.Stat(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	restore := recLimitFileSize(t, uint64(fi.Size()))
	fx.svc.cfg.Recorder.Log(sc.sessID, recording.Event{Kind: recording.KindAdmitted, Actor: "med", Subject: sc.guest})
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
	t.Logf("the hosts got: %q", got)
	if !strings.Contains(got, "event log") || strings.Contains(got, fx.dataDir) {
		t.Errorf("the hosts got %q", got)
	}
	var live struct {
		Recording recordingJSON `json:"recording"`
	}
	code, body := fx.do("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", sc.sessID), "")
	if code != 200 {
		t.Fatalf("live view: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &live); err != nil {
		t.Fatal(err)
	}
	if live.Recording.Healthy || !strings.Contains(live.Recording.Error, "event log") {
		t.Errorf("live view after the failure: %+v", live.Recording)
	}
}
