package mediation

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

func TestLoginCookieOriginLogout(t *testing.T) {
	fx := newFixture(t)
	resp, err := http.Post(fx.srv.URL+"/api/login", "application/json", strings.NewReader(`{"username":"med","password":"`+fixturePassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == cookieName {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) < 40 {
		t.Fatalf("cookie %+v", c)
	}
	fx.cookies["m2"] = c
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"no origin (not a browser)", nil, 201},
		{"same origin", []string{"Origin", fx.srv.URL, "Sec-Fetch-Site", "same-origin"}, 201},
		{"other origin", []string{"Origin", "http://evil.example"}, 403},
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"null origin", []string{"Origin", "null"}, 403},
	} {
		st, body := fx.do("m2", "POST", "/api/cases", `{"title":"t","category":"land","risk":"red"}`, tc.hdr...)
		if st != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, st, body, tc.status)
		}
	}
	// a cross-origin GET is harmless and allowed; login from another origin is not
	if st, _ := fx.do("m2", "GET", "/api/me", "", "Origin", "http://evil.example"); st != 200 {
		t.Errorf("cross-origin GET: %d", st)
	}
	if st, _ := fx.do("anonymous", "POST", "/api/login", `{"username":"med","password":"`+fixturePassword+`"}`, "Origin", "http://evil.example"); st != 403 {
		t.Errorf("cross-origin login: %d", st)
	}
	if st, _ := fx.do("m2", "POST", "/api/logout", ""); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := fx.do("m2", "GET", "/api/me", ""); st != 401 {
		t.Fatalf("cookie still valid after logout: %d", st)
	}
	fx.cookies["forged"] = &http.Cookie{Name: cookieName, Value: "forged-token-value"}
	if st, _ := fx.do("forged", "GET", "/api/me", ""); st != 401 {
		t.Fatalf("forged cookie: %d", st)
	}
}

// TestJoiningPolicy: the hook re-checks every join against the database.
func TestJoiningPolicy(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	ctx := fx.ctx
	se, _ := fx.st.Session(ctx, sc.sessID)
	inv2, _ := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "observer", Name: "Obs", ExpiresAt: time.Now().Add(time.Hour)})
	otherSc := fx.scene()
	join := func(room, identity string) (string, error) {
		return fx.svc.Joining(room, signaling.Participant{Identity: identity})
	}
	for _, tc := range []struct {
		name, room, identity, space string
		ok                          bool
	}{
		{"guest lands in the lobby", se.Room, sc.guest, "", true},
		{"observer guest too", se.Room, guestIdentity(inv2.ID), "", true},
		{"host skips the lobby", se.Room, "staff-med", jointSpace, true},
		{"admin of the city is a host", se.Room, "staff-adm", jointSpace, true},
		{"leader of the centre waits", se.Room, "staff-lead", "", true},
		{"staff of another centre refused", se.Room, "staff-westmed", "", false},
		{"guest of another session refused", se.Room, otherSc.guest, "", false},
		{"unknown guest refused", se.Room, "guest-99999", "", false},
		{"made-up identity refused", se.Room, "mallory", "", false},
		{"plain room", "not-a-session", "anyone", signaling.DefaultSpace, true},
	} {
		space, err := join(tc.room, tc.identity)
		if (err == nil) != tc.ok || (tc.ok && space != tc.space) {
			t.Errorf("%s: space %q err %v", tc.name, space, err)
		}
	}
	// invite-staff lets the mediator of another centre in (to the lobby)
	if st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/invite-staff", sc.sessID), `{"username":"westmed"}`); st != 200 {
		t.Fatalf("invite-staff: %d %s", st, b)
	}
	if space, err := join(se.Room, "staff-westmed"); err != nil || space != "" {
		t.Errorf("invited staff: %q %v", space, err)
	}
	if st, _ := fx.do("other-mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", sc.sessID), ""); st != 200 {
		t.Errorf("invited staff cannot see the live session: %d", st)
	}
	if st, _ := fx.do("other-mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", sc.sessID), `{"identity":"`+sc.guest+`"}`); st != 403 {
		t.Errorf("invited staff used a host control: %d", st)
	}
	// a revoked invitation cannot join, even with a token minted before
	if err := fx.st.RevokeInvitation(ctx, sc.code); err != nil {
		t.Fatal(err)
	}
	if _, err := join(se.Room, sc.guest); err == nil {
		t.Error("revoked invitation joined")
	}
	// an ended session takes nobody
	if err := fx.st.SetSessionState(ctx, sc.sessID, "ended"); err != nil {
		t.Fatal(err)
	}
	if _, err := join(se.Room, "staff-med"); err == nil {
		t.Error("joined an ended session")
	}
}

// TestTokens: what the minted tokens say (fake tokens are the TokenSpec's JSON).
func TestTokens(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	obs, _ := fx.st.CreateInvitation(fx.ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "observer", Name: "Obs", ExpiresAt: time.Now().Add(time.Hour)})
	spec := func(role, method, path, body string) signaling.TokenSpec {
		t.Helper()
		st, b := fx.do(role, method, path, body)
		if st != 200 {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
		var j joinJSON
		var s signaling.TokenSpec
		if err := json.Unmarshal([]byte(b), &j); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(j.Token), &s); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(j.URL, "ws://127.0.0.1:") || j.Identity != s.Identity || j.Session.ID != sc.sessID {
			t.Fatalf("join answer %+v", j)
		}
		return s
	}
	p := spec("party", "POST", "/api/join/"+sc.code, `{"consent":true,"name":"  张三  "}`)
	if p.Identity != sc.guest || p.Name != "张三" || !p.CanPublish || p.TTL != 15*time.Minute ||
		p.Attributes["role"] != "party" || p.Attributes["side"] != "applicant" || p.Attributes["centre"] != "east" ||
		p.Attributes["tier"] != "township" || p.Attributes["consent"] != "1" || p.Attributes["lobby"] != "" || p.Attributes["party"] == "" ||
		p.Attributes["session"] != fmt.Sprint(sc.sessID) {
		t.Errorf("party token %+v", p)
	}
	o := spec("party", "POST", "/api/join/"+obs.Code, `{"consent":false}`)
	if o.CanPublish || o.CanPublishData || !o.CanSubscribe || o.Attributes["role"] != "observer" || o.Attributes["consent"] != "0" {
		t.Errorf("observer token %+v", o)
	}
	h := spec("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", sc.sessID), "")
	// where someone is (space, lobby) is signaling's to say once it placed them, not the token's
	if h.Identity != "staff-med" || h.Attributes["host"] != "1" || h.Attributes["space"] != "" || h.Attributes["lobby"] != "" || !h.CanPublish {
		t.Errorf("host token %+v", h)
	}
	so := spec("observer", "POST", fmt.Sprintf("/api/sessions/%d/join", sc.sessID), "{}")
	if so.CanPublish || so.Attributes["role"] != "observer" || so.Attributes["lobby"] != "" {
		t.Errorf("staff observer token %+v", so)
	}
	// both consent answers are on the timeline
	tl, _ := fx.st.Timeline(fx.ctx, sc.caseID)
	var answers []string
	for _, e := range tl {
		if e.Kind == "consent" {
			answers = append(answers, e.Fields["answer"])
		}
	}
	if len(answers) != 2 || answers[0] != "accepted" || answers[1] != "declined" {
		t.Errorf("consent events %q", answers)
	}
}

// TestKnockAndLinkedMove: arrival knocks (SSE to the host); an interpreter linked to a
// party moves with the party; every step is on the timeline.
func TestKnockAndLinkedMove(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	se, _ := fx.st.Session(fx.ctx, sc.sessID)
	interp, _ := fx.st.CreateInvitation(fx.ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "interpreter", Side: "applicant",
		Name: "Interp", PartyID: sc.parties[0].ID, ExpiresAt: time.Now().Add(time.Hour)})

	ctx, cancel := context.WithTimeout(fx.ctx, 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fx.srv.URL+"/api/events", nil)
	req.AddCookie(fx.cookies["mediator"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan string, 100)
	go func() { // ends when the stream is closed
		sc := bufio.NewScanner(resp.Body)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- name + " " + v
			}
		}
		close(events)
	}()
	time.Sleep(100 * time.Millisecond) // the stream is registered

	ip := signaling.Participant{Identity: guestIdentity(interp.ID), Name: "Interp", SID: "PA_i", Attributes: map[string]string{
		"role": "interpreter", "side": "applicant", "party": fmt.Sprint(sc.parties[0].ID), "consent": "1"}}
	fx.rooms.add(se.Room, ip)
	fx.svc.Event(signaling.Event{Kind: signaling.EventJoined, Room: se.Room, Identity: ip.Identity, SID: "PA_i", Participant: ip})
	waitEvent := func(prefix string) string {
		t.Helper()
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("stream ended waiting for %s", prefix)
				}
				if strings.HasPrefix(e, prefix) {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", prefix)
			}
		}
	}
	if e := waitEvent("knock "); !strings.Contains(e, ip.Identity) || !strings.Contains(e, `"role":"interpreter"`) {
		t.Fatalf("knock %s", e)
	}
	// admitting the party brings the linked interpreter along
	st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", sc.sessID), `{"identity":"`+sc.guest+`"}`)
	if st != 200 {
		t.Fatalf("admit %d %s", st, b)
	}
	st, b = fx.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", sc.sessID), `{"identity":"`+sc.guest+`","space":"caucus-applicant"}`)
	if st != 200 || !strings.Contains(b, ip.Identity) {
		t.Fatalf("move %d %s", st, b)
	}
	for _, p := range fx.rooms.Participants(se.Room) {
		if p.Space != "caucus-applicant" || p.Attributes["space"] != "caucus-applicant" || p.Attributes["lobby"] != "" {
			t.Errorf("%s in %q attrs %v", p.Identity, p.Space, p.Attributes)
		}
	}
	waitEvent("live ")
	// an agent of the applicant who arrives late is admitted into the applicant's caucus
	agent, _ := fx.st.CreateInvitation(fx.ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "agent", Side: "applicant",
		Name: "Agent", PartyID: sc.parties[0].ID, ExpiresAt: time.Now().Add(time.Hour)})
	fx.rooms.add(se.Room, signaling.Participant{Identity: guestIdentity(agent.ID), Name: "Agent", Attributes: map[string]string{
		"role": "agent", "side": "applicant", "party": fmt.Sprint(sc.parties[0].ID)}})
	var admitted participantJSON
	st, b = fx.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", sc.sessID), `{"identity":"`+guestIdentity(agent.ID)+`"}`)
	if err := json.Unmarshal([]byte(b), &admitted); st != 200 || err != nil || admitted.Space != "caucus-applicant" {
		t.Fatalf("late agent admitted: %d %s", st, b)
	}
	tl, _ := fx.st.Timeline(fx.ctx, sc.caseID)
	kinds := map[string]int{}
	for _, e := range tl {
		kinds[e.Kind]++
	}
	if kinds["join"] != 1 || kinds["admit"] != 3 || kinds["move"] != 2 {
		t.Errorf("timeline kinds %v", kinds)
	}
}

// TestRejoinGrace: an admitted participant who drops out and rejoins at once returns to
// their space; after a host removed them, or when they dropped from the lobby, the lobby.
func TestRejoinGrace(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	se, _ := fx.st.Session(fx.ctx, sc.sessID)
	left := func(space string) {
		fx.svc.Event(signaling.Event{Kind: signaling.EventLeft, Room: se.Room, Identity: sc.guest, SID: "PA_old",
			Participant: signaling.Participant{Identity: sc.guest, SID: "PA_old", Space: space, Attributes: map[string]string{"role": "party"}}})
	}
	join := func() string {
		t.Helper()
		space, err := fx.svc.Joining(se.Room, signaling.Participant{Identity: sc.guest})
		if err != nil {
			t.Fatal(err)
		}
		return space
	}
	fx.rooms.RemoveParticipant(se.Room, sc.guest) // the fake has no connection for it now
	left("caucus-applicant")
	if got := join(); got != "caucus-applicant" {
		t.Errorf("rejoin after a drop: %q", got)
	}
	if got := join(); got != "" {
		t.Errorf("the grace is used once: %q", got)
	}
	left("")
	if got := join(); got != "" {
		t.Errorf("rejoin after dropping from the lobby: %q", got)
	}
	fx.rooms.add(se.Room, signaling.Participant{Identity: sc.guest, Space: jointSpace, Attributes: map[string]string{"role": "party"}})
	if got := join(); got != jointSpace {
		t.Errorf("a reconnect evicting its own older connection: %q", got)
	}
	if st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/sessions/%d/remove", sc.sessID), `{"identity":"`+sc.guest+`"}`); st != 200 {
		t.Fatalf("remove: %d %s", st, b)
	}
	left(jointSpace)
	if got := join(); got != "" {
		t.Errorf("rejoin after a host removed them: %q", got)
	}
}
