package mediation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"yizhan/store"
)

// call sends a request as role and decodes the JSON answer into out (when not nil),
// failing unless the status is want.
func (fx *fixture) call(role, method, path, body string, want int, out any) string {
	fx.t.Helper()
	st, b := fx.do(role, method, path, body)
	if st != want {
		fx.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, role, st, want, b)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			fx.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// addRole adds a staff member and logs them in as role.
func (fx *fixture) addRole(role string, u UserSpec) {
	fx.t.Helper()
	if err := AddUser(fx.ctx, fx.st, u, fixturePassword); err != nil {
		fx.t.Fatal(err)
	}
	fx.cookies[role] = fx.login(u.Username, fixturePassword)
}

type caseResp struct {
	ID         int64  `json:"id"`
	Number     string `json:"number"`
	Status     string `json:"status"`
	Centre     string `json:"centre"`
	Risk       string `json:"risk"`
	Mediator   string `json:"mediator"`
	Board      string `json:"board"`
	Channel    string `json:"channel"`
	InformedBy string `json:"informed_by"`
}

// TestLoopStaffSide: a case at a village centre -> assessed red -> alerts at the township
// and the city, the city leader acknowledges -> handed to another township, accepted ->
// mediated -> supervised, done -> closed (read-only) -> reopened only with a reason.
func TestLoopStaffSide(t *testing.T) {
	fx := newFixture(t)
	fx.addRole("city-leader", UserSpec{Username: "cityboss", Name: "City Leader", Centre: "city", Roles: []string{"leader"}})
	var c caseResp
	fx.call("mediator", "POST", "/api/cases", `{"title":"wages","category":"labour_wages","risk":"blue","centre":"east-v","parties":[{"name":"A","side":"applicant"}]}`, 201, &c)
	if !strings.Contains(c.Number, "调字第") || c.Status != "accepted" {
		t.Fatalf("new case %+v", c)
	}
	var assessed struct {
		Case   caseResp    `json:"case"`
		Alerts []alertJSON `json:"alerts"`
	}
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/assess", c.ID), `{"notes":"20 workers, a protest is planned","board":"dispute","category":"labour_wages","risk":"red"}`, 200, &assessed)
	if assessed.Case.Status != "assessed" || assessed.Case.Risk != "red" || len(assessed.Alerts) != 2 ||
		assessed.Alerts[0].Centre != "east" || assessed.Alerts[1].Centre != "city" {
		t.Fatalf("assessed: %+v", assessed)
	}
	// assessing again raises no second alert while the first is open
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/assess", c.ID), `{"notes":"still red","board":"dispute","category":"labour_wages","risk":"red"}`, 200, &assessed)
	if len(assessed.Alerts) != 0 {
		t.Fatalf("repeated alerts: %+v", assessed.Alerts)
	}
	var alerts struct{ Alerts []alertJSON }
	fx.call("leader", "GET", "/api/alerts", "", 200, &alerts)
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].Centre != "east" {
		t.Fatalf("east leader's alerts: %+v", alerts)
	}
	fx.call("city-leader", "GET", "/api/alerts", "", 200, &alerts)
	if len(alerts.Alerts) != 2 {
		t.Fatalf("city leader's alerts: %+v", alerts)
	}
	var cityAlert alertJSON
	for _, a := range alerts.Alerts {
		if a.Centre == "city" {
			cityAlert = a
		}
	}
	if cityAlert.AckBy == nil || cityAlert.AckedAt != nil {
		t.Fatalf("city alert %+v", cityAlert)
	}
	fx.call("mediator", "POST", fmt.Sprintf("/api/alerts/%d/ack", cityAlert.ID), "", 404, nil) // not his centre's screen
	fx.call("city-leader", "POST", fmt.Sprintf("/api/alerts/%d/ack", cityAlert.ID), "", 200, &cityAlert)
	if cityAlert.AckedBy != "cityboss" || cityAlert.AckedAt == nil {
		t.Fatalf("acked %+v", cityAlert)
	}
	fx.call("city-leader", "GET", "/api/alerts", "", 200, &alerts)
	if len(alerts.Alerts) != 1 {
		t.Fatalf("open alerts after ack: %+v", alerts)
	}

	// dispatch to another township
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/transfer", c.ID), `{"reason":"the employer is in West"}`, 400, nil)
	var tr transferJSON
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/transfer", c.ID), `{"centre":"west","reason":"the employer is in West"}`, 201, &tr)
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/transfer", c.ID), `{"centre":"city","reason":"twice"}`, 409, nil)
	fx.call("mediator", "POST", fmt.Sprintf("/api/transfers/%d/accept", tr.ID), "", 403, nil) // the sender does not answer
	var incoming struct{ Transfers []transferJSON }
	fx.call("other-mediator", "GET", "/api/transfers", "", 200, &incoming)
	if len(incoming.Transfers) != 1 || incoming.Transfers[0].CaseNumber != c.Number || incoming.Transfers[0].State != "pending" {
		t.Fatalf("west's incoming: %+v", incoming)
	}
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/transfers/%d/accept", tr.ID), "", 200, &tr)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/transfers/%d/return", tr.ID), `{"reason":"changed my mind"}`, 409, nil)
	fx.call("mediator", "GET", fmt.Sprintf("/api/cases/%d", c.ID), "", 404, nil) // east no longer sees it
	fx.call("other-mediator", "GET", fmt.Sprintf("/api/cases/%d", c.ID), "", 200, &c)
	if c.Centre != "west" || c.Status != "assessed" {
		t.Fatalf("after accept: %+v", c)
	}
	// no mediation without a mediator
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/cases/%d", c.ID), `{"status":"assigned"}`, 400, nil)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/cases/%d", c.ID), `{"status":"assigned","mediator":"westmed"}`, 200, &c)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/cases/%d", c.ID), `{"status":"mediating"}`, 200, &c)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"first"}`, 201, nil)

	// supervise
	var sp supervisionItemJSON
	fx.call("city-leader", "POST", fmt.Sprintf("/api/cases/%d/supervisions", c.ID), `{"unit":"West labour office","owner":"westmed","deadline":"2099-01-01","note":"wages paid by Friday"}`, 201, &sp)
	if sp.State != "open" || sp.Owner != "westmed" {
		t.Fatalf("supervision %+v", sp)
	}
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/close", c.ID), `{"outcome":"paid","informed_by":"phone"}`, 409, nil)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/supervisions/%d", sp.ID), `{"done":true}`, 400, nil)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/supervisions/%d", sp.ID), `{"done":true,"note":"all 20 paid"}`, 200, &sp)
	if sp.State != "done" || sp.DoneNote != "all 20 paid" {
		t.Fatalf("done %+v", sp)
	}
	// close
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/close", c.ID), `{"outcome":"paid"}`, 400, nil)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/close", c.ID), `{"outcome":"all wages paid","informed_by":"phone"}`, 200, &c)
	if c.Status != "closed" || c.InformedBy != "phone" {
		t.Fatalf("closed %+v", c)
	}
	for _, try := range []struct{ method, path, body string }{
		{"PATCH", "/api/cases/%d", `{"risk":"blue"}`},
		{"POST", "/api/cases/%d/assess", `{"notes":"x","board":"dispute","category":"land","risk":"blue"}`},
		{"POST", "/api/cases/%d/transfer", `{"centre":"east","reason":"x"}`},
		{"POST", "/api/cases/%d/supervisions", `{"unit":"u","deadline":"2099-01-01"}`},
		{"POST", "/api/cases/%d/close", `{"outcome":"again","informed_by":"sms"}`},
	} {
		fx.call("other-mediator", try.method, fmt.Sprintf(try.path, c.ID), try.body, 409, nil)
	}
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/followups", c.ID), `{"method":"visit","note":"visited, satisfied","satisfaction":5}`, 201, nil)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/reopen", c.ID), `{}`, 400, nil)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/reopen", c.ID), `{"reason":"the employer stopped paying"}`, 200, &c)
	if c.Status != "assessed" {
		t.Fatalf("reopened %+v", c)
	}
	var lv struct {
		Alerts       []alertJSON
		Transfers    []transferJSON
		Supervisions []supervisionItemJSON
		FollowUps    []followUpJSON `json:"followups"`
	}
	fx.call("admin", "GET", fmt.Sprintf("/api/cases/%d/loop", c.ID), "", 200, &lv)
	if len(lv.Alerts) != 2 || len(lv.Transfers) != 1 || len(lv.Supervisions) != 1 || len(lv.FollowUps) != 1 {
		t.Fatalf("loop view %+v", lv)
	}
}

// TestOverdueTimer: the timer flags a supervision item past its deadline (once), an alert
// not acknowledged in time and a transfer not answered in time.
func TestOverdueTimer(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	var sp supervisionItemJSON
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/supervisions", sc.caseID), fmt.Sprintf(`{"unit":"u","deadline":%q}`, past), 201, &sp)
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/transfer", sc.caseID), fmt.Sprintf(`{"centre":"east-v","reason":"r","deadline":%q}`, past), 201, nil)
	fx.svc.loop.markOverdue()
	fx.svc.loop.markOverdue() // a second pass finds nothing new
	tl, err := fx.st.Timeline(fx.ctx, sc.caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tl {
		if e.Kind == "supervision_overdue" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d overdue events, want 1", n)
	}
	items, _ := fx.st.SupervisionItems(fx.ctx, sc.caseID)
	ts, _ := fx.st.Transfers(fx.ctx, sc.caseID, "", false)
	if len(items) != 1 || !items[0].Overdue || len(ts) != 1 || !ts[0].Overdue {
		t.Fatalf("items %+v transfers %+v", items, ts)
	}
	// done clears it; reopening an item past its deadline makes it overdue again
	fx.call("mediator", "PATCH", fmt.Sprintf("/api/supervisions/%d", sp.ID), `{"done":true,"note":"ok"}`, 200, &sp)
	fx.call("mediator", "PATCH", fmt.Sprintf("/api/supervisions/%d", sp.ID), `{"done":false}`, 200, &sp)
	if sp.State != "overdue" {
		t.Fatalf("reopened item %+v", sp)
	}
}

// TestReceptionOutcomeTwiceOneCase (issue 12 row 6): filing an outcome twice for one
// petitioner opens one case, which gets the petitioner's own words; the reception's case
// becomes a holder that statistics leave out.
func TestReceptionOutcomeTwiceOneCase(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	// the scene's case has parties; a reception day's case has none
	holder, err := fx.st.CreateCase(fx.ctx, store.Case{Title: "reception day", Category: "other", Risk: "blue", Centre: "east"})
	if err != nil {
		t.Fatal(err)
	}
	se, err := fx.st.CreateSession(fx.ctx, store.Session{CaseID: holder.ID, Kind: "reception", Title: "r", Room: "s-" + randomCode(10), Hosts: []string{"med"}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := fx.st.CreateInvitation(fx.ctx, store.Invitation{Code: randomCode(16), SessionID: se.ID, Role: "party", Side: "applicant", Name: "Pet", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	g := guestIdentity(inv.ID)
	_ = sc
	if _, err := fx.st.AddEvent(fx.ctx, store.Event{CaseID: holder.ID, Kind: "note", Actor: g, SessionID: se.ID, Subject: g, Detail: "my neighbour blocks the road"}); err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for i := 0; i < 2; i++ {
		if _, err := fx.st.Arrive(fx.ctx, store.ReceptionEntry{SessionID: se.ID, Identity: g, Name: "Pet"}); err != nil {
			t.Fatal(err)
		}
		var out struct{ Case caseResp }
		fx.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/outcome", se.ID), fmt.Sprintf(`{"identity":%q,"note":"heard, round %d"}`, g, i), 201, &out)
		ids[out.Case.ID] = true
	}
	if len(ids) != 1 {
		t.Fatalf("two outcomes for one petitioner opened %d cases", len(ids))
	}
	for id := range ids {
		tl, _ := fx.st.Timeline(fx.ctx, id)
		var words, outcomes int
		for _, e := range tl {
			if e.Kind == "note" && e.Detail == "my neighbour blocks the road" {
				words++
			}
			if e.Kind == "outcome" {
				outcomes++
			}
		}
		if words != 1 || outcomes != 2 {
			t.Fatalf("petitioner's case: %d own words, %d outcomes", words, outcomes)
		}
	}
	h, _ := fx.st.Case(fx.ctx, holder.ID)
	if h.Kind != "reception" {
		t.Fatalf("holder kind %q", h.Kind)
	}
}
