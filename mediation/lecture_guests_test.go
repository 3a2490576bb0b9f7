package mediation

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"yizhan/internal/lktest"
)

// TestLectureGuestSpeaker: real SDK clients. A moderator invites a guest speaker by name
// and gets a link; the guest, without an account, joins from it with a token that may
// publish, and is seen and heard by every viewer and by the staff speaker, listed as a
// speaker; viewers still do not see each other. Revoking the guest removes them and
// refuses the link and the old token.
func TestLectureGuestSpeaker(t *testing.T) {
	ls := newLiveServer(t)
	lec := ls.newLecture()
	spk := ls.speaker(lec)
	vs, _ := ls.viewers(lec, 3)
	base := fmt.Sprintf("/api/lectures/%d/guests", lec.ID)
	ls.cookies["other-mediator"] = ls.login(fixtureUsers["other-mediator"].Username, fixturePassword)

	ls.call("mediator", "POST", base, `{"name":"  "}`, 400, nil)
	ls.call("other-mediator", "POST", base, `{"name":"王律师"}`, 403, nil)
	var g guestJSON
	ls.call("mediator", "POST", base, `{"name":"王律师"}`, 201, &g)
	u, err := url.Parse(g.URL)
	if err != nil || !strings.HasSuffix(u.Path, fmt.Sprintf("/l/%d", lec.ID)) || u.Query().Get("guest") == "" || g.Identity == "" {
		t.Fatalf("guest invitation: %+v", g)
	}
	code := u.Query().Get("guest")
	var list []guestJSON
	ls.call("mediator", "GET", base, "", 200, &list)
	if len(list) != 1 || list[0].Name != "王律师" || list[0].URL != "" || list[0].JoinedAt != nil || list[0].Revoked {
		t.Fatalf("guests: %+v (the code must not be listed)", list)
	}

	join := fmt.Sprintf("/api/public/lectures/%d/guest-join", lec.ID)
	ls.call("anonymous", "POST", join, `{"code":"not-the-code"}`, 403, nil)
	var j struct {
		URL, Token, Identity, Name, Role string
	}
	ls.call("anonymous", "POST", join, fmt.Sprintf(`{"code":%q}`, code), 200, &j)
	if j.Identity != g.Identity || j.Name != "王律师" || j.Role != "speaker" {
		t.Fatalf("guest join: %+v", j)
	}
	guest := ls.connect(joinJSON{URL: j.URL, Token: j.Token, Identity: j.Identity})
	publishAV(t, guest)

	waitFor(t, "every viewer and the staff speaker receive the guest's video and audio; the guest receives the speaker", func() bool {
		for _, c := range append([]*lktest.Client{spk}, vs...) {
			if c.PacketsFrom(guest.Identity, "video") == 0 || c.PacketsFrom(guest.Identity, "audio") == 0 {
				return false
			}
		}
		return guest.PacketsFrom(spk.Identity, "video") > 0 && guest.PacketsFrom(spk.Identity, "audio") > 0
	})
	for i, v := range vs {
		rps := v.Room.GetRemoteParticipants()
		if len(rps) != 2 {
			t.Fatalf("viewer %d sees %d participants, want the speaker and the guest", i, len(rps))
		}
		gp := v.Room.GetParticipantByIdentity(guest.Identity)
		if gp == nil || gp.Name() != "王律师" || gp.Attributes()["role"] != "speaker" {
			t.Fatalf("viewer %d: the guest is not listed as a speaker: %+v", i, gp)
		}
	}
	if n := len(spk.Room.GetRemoteParticipants()); n != 1 {
		t.Errorf("the speaker sees %d participants, want the guest only", n)
	}
	ls.call("mediator", "GET", base, "", 200, &list)
	if len(list) != 1 || list[0].JoinedAt == nil {
		t.Errorf("guest not marked joined: %+v", list)
	}

	// Revoked: gone from the room, the link and the old token refused.
	ls.call("other-mediator", "DELETE", fmt.Sprintf("%s/%d", base, g.ID), "", 403, nil)
	ls.call("mediator", "DELETE", fmt.Sprintf("%s/%d", base, g.ID), "", 204, nil)
	waitFor(t, "viewers see the revoked guest leave", func() bool {
		for _, v := range vs {
			if !v.SawLeave(guest.Identity) {
				return false
			}
		}
		return true
	})
	ls.call("anonymous", "POST", join, fmt.Sprintf(`{"code":%q}`, code), 403, nil)
	if c, err := lktest.Connect(j.URL, j.Token); err == nil {
		c.Close()
		t.Fatal("a revoked guest reconnected with the old token")
	}
	ls.call("mediator", "GET", base, "", 200, &list)
	if len(list) != 1 || !list[0].Revoked {
		t.Errorf("guest not revoked: %+v", list)
	}
	ls.call("mediator", "DELETE", fmt.Sprintf("%s/%d", base, g.ID+99), "", 404, nil)
}
