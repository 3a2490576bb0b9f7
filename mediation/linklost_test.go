package mediation

import (
	"fmt"
	"testing"
	"time"

	"yizhan/internal/lktest"
)

// TestRecorderLinkLost: during a recorded session a party's media stops
// arriving (a dead uplink, the track still published and unmuted). The case
// file's event log notes that the link was lost, and the console's live view
// says so.
func TestRecorderLinkLost(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, se := rs.newCase(t, "off")
	med, app, res := rs.joinAll(t, c, se, true, true)
	for _, cl := range []*lktest.Client{med, res} {
		cl.MustPublishClip(t, rs.clip)
	}
	mic, err := app.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "recording runs", func() bool { return ls.svc.cfg.Recorder.Status(se.ID).Active })
	waitFor(t, "the mediator hears the applicant", func() bool { return med.PacketsFrom(app.Identity, "audio") > 20 })

	mic.Stop()
	var live struct {
		Participants []participantJSON `json:"participants"`
	}
	waitFor(t, "the live view says the applicant is lost", func() bool {
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), ``, 200, &live)
		for _, p := range live.Participants {
			if p.Identity == app.Identity {
				return p.Link.Quality == "lost"
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond) // the hook logs it after the room loop reports it
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	dir := rs.sessionDir(c, se)
	rs.sealed(t, dir)
	if kinds := recEventKinds(t, dir); kinds["link_lost"] != 1 {
		t.Errorf("events.jsonl has %d link_lost events, want 1: %v", kinds["link_lost"], kinds)
	}
}
