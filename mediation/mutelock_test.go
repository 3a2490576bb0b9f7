package mediation

import (
	"fmt"
	"testing"
)

// TestHostMuteLock (row 9): through the API with real clients. A soft mute the party
// may lift itself (documented); a mute with "lock": true holds when the party unmutes
// itself, and its "mute_locked" attribute tells it why; the host's unmute lifts both.
func TestHostMuteLock(t *testing.T) {
	ls := newLiveServer(t)
	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"噪音","category":"neighbours","risk":"blue","mediator":"med",
		"parties":[{"name":"张三","side":"applicant"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"调解"}`, 201, &se)
	inv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	var appJ, medJ joinJSON
	ls.call("party", "POST", "/api/join/"+inv.Code, `{"consent":true}`, 200, &appJ)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	app, med := ls.connect(appJ), ls.connect(medJ)
	A := appJ.Identity
	mic, err := app.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the party knocks", func() bool { _, ok := ls.svc.participant(se.Room, A); return ok })
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+A+`"}`, 200, nil)
	hears := func() int64 { return med.PacketsFrom(A, "audio") }
	waitFor(t, "the mediator hears the party", func() bool { return hears() > 20 })
	mute := func(body string) {
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/mute", se.ID), body, 200, nil)
	}

	// Soft mute: the party may unmute itself.
	mute(`{"identity":"` + A + `"}`)
	quiet(t, "soft mute", hears)
	mic.Pub.SetMuted(false)
	n := hears()
	waitFor(t, "the party unmutes itself after a soft mute", func() bool { return hears() > n+20 })

	// Locked mute: it may not.
	mute(`{"identity":"` + A + `","lock":true}`)
	waitFor(t, "the party is told it is locked", func() bool {
		return app.Room.LocalParticipant.Attributes()["mute_locked"] == "microphone,screen_share_audio"
	})
	quiet(t, "locked mute", hears)
	mic.Pub.SetMuted(false)
	quiet(t, "locked mute after the party's own unmute", hears)

	// lock without a mute is refused
	if st, _ := ls.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/mute", se.ID), `{"identity":"`+A+`","muted":false,"lock":true}`); st != 400 {
		t.Errorf("unmute with lock: %d, want 400", st)
	}

	// The host's unmute lifts the lock.
	mute(`{"identity":"` + A + `","muted":false}`)
	n = hears()
	waitFor(t, "the mediator hears the party again", func() bool { return hears() > n+20 })
	waitFor(t, "the party is told the lock is lifted", func() bool {
		return app.Room.LocalParticipant.Attributes()["mute_locked"] == ""
	})
}
