package mediation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"yizhan/store"
)

// TestBadInput: malformed JSON, unknown fields, huge bodies, expired and revoked
// invitations, illegal status transitions and bad values: a clear 4xx with the error
// shape, and nothing changed.
func TestBadInput(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	ctx := fx.ctx

	expired, err := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "party", Side: "respondent",
		Name: "Late", ExpiresAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "party", Side: "respondent",
		Name: "Gone", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.st.RevokeInvitation(ctx, revoked.Code); err != nil {
		t.Fatal(err)
	}
	other := fx.scene() // another case: its party may not be linked to sc's session
	huge := `{"title":"` + strings.Repeat("x", 70<<10) + `","category":"land","risk":"red"}`
	d, c := fmt.Sprint(sc.sessID), fmt.Sprint(sc.caseID)

	for _, tc := range []struct {
		name, role, method, path, body string
		status                         int
		code                           string
	}{
		{"malformed json", "mediator", "POST", "/api/cases", `{"title":`, 400, "bad_json"},
		{"not an object", "mediator", "POST", "/api/cases", `[1,2]`, 400, "bad_json"},
		{"wrong type", "mediator", "POST", "/api/cases", `{"title":5,"category":"land","risk":"red"}`, 400, "bad_json"},
		{"trailing data", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"red"} {}`, 400, "bad_json"},
		{"unknown field", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"red","owner":"me"}`, 400, "unknown_field"},
		{"empty body", "mediator", "POST", "/api/cases", ``, 400, "bad_json"},
		{"huge body", "mediator", "POST", "/api/cases", huge, 413, "too_large"},
		{"bad category", "mediator", "POST", "/api/cases", `{"title":"a","category":"aliens","risk":"red"}`, 400, "bad_request"},
		{"bad risk", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"purple"}`, 400, "bad_request"},
		{"party without side", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"red","parties":[{"name":"x"}]}`, 400, "bad_request"},
		{"centre not below mine", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"red","centre":"west"}`, 400, "bad_request"},
		{"mediator not a mediator", "mediator", "POST", "/api/cases", `{"title":"a","category":"land","risk":"red","mediator":"lead"}`, 400, "bad_request"},
		{"skip a status", "mediator", "PATCH", "/api/cases/" + c, `{"status":"mediating"}`, 409, "illegal_transition"},
		{"close early", "mediator", "PATCH", "/api/cases/" + c, `{"status":"closed","outcome":"done"}`, 409, "illegal_transition"},
		{"unknown status", "mediator", "PATCH", "/api/cases/" + c, `{"status":"lost"}`, 400, "bad_request"},
		{"empty patch", "mediator", "PATCH", "/api/cases/" + c, `{}`, 400, "bad_request"},
		{"patch unknown field", "mediator", "PATCH", "/api/cases/" + c, `{"number":"2026-9999"}`, 400, "unknown_field"},
		{"mediator of another centre", "mediator", "PATCH", "/api/cases/" + c, `{"mediator":"westmed"}`, 400, "bad_request"},
		{"case id not a number", "mediator", "GET", "/api/cases/abc", ``, 404, "not_found"},
		{"session kind", "mediator", "POST", "/api/cases/" + c + "/sessions", `{"kind":"party","title":"x"}`, 400, "bad_request"},
		{"session time", "mediator", "POST", "/api/cases/" + c + "/sessions", `{"kind":"mediation","title":"x","scheduled_at":"tomorrow"}`, 400, "bad_request"},
		{"session host unknown", "mediator", "POST", "/api/cases/" + c + "/sessions", `{"kind":"mediation","title":"x","hosts":["ghost"]}`, 400, "bad_request"},
		{"caucus policy", "mediator", "POST", "/api/cases/" + c + "/sessions", `{"kind":"mediation","title":"x","caucus_policy":"open"}`, 400, "bad_request"},
		{"invitation role", "mediator", "POST", "/api/sessions/" + d + "/invitations", `{"role":"king","name":"x","side":"applicant"}`, 400, "bad_request"},
		{"invitation expiry", "mediator", "POST", "/api/sessions/" + d + "/invitations", `{"role":"expert","name":"x","expires_in":99999999}`, 400, "bad_request"},
		{"invitation party of another case", "mediator", "POST", "/api/sessions/" + d + "/invitations", fmt.Sprintf(`{"role":"agent","name":"x","party":%d}`, other.parties[0].ID), 400, "bad_request"},
		{"invitation side mismatch", "mediator", "POST", "/api/sessions/" + d + "/invitations", fmt.Sprintf(`{"role":"agent","name":"x","party":%d,"side":"respondent"}`, sc.parties[0].ID), 400, "bad_request"},
		{"party invitation without side", "mediator", "POST", "/api/sessions/" + d + "/invitations", `{"role":"party","name":"x"}`, 400, "bad_request"},
		{"expired invitation info", "party", "GET", "/api/join/" + expired.Code, ``, 404, "invitation_invalid"},
		{"expired invitation join", "party", "POST", "/api/join/" + expired.Code, `{"consent":true}`, 404, "invitation_invalid"},
		{"revoked invitation join", "party", "POST", "/api/join/" + revoked.Code, `{"consent":true}`, 404, "invitation_invalid"},
		{"unknown invitation", "party", "POST", "/api/join/" + randomCode(16), `{"consent":true}`, 404, "invitation_invalid"},
		{"join without consent answer", "party", "POST", "/api/join/" + sc.code, `{"name":"x"}`, 400, "bad_request"},
		{"join unknown field", "party", "POST", "/api/join/" + sc.code, `{"consent":true,"role":"host"}`, 400, "unknown_field"},
		{"revoke unknown", "mediator", "DELETE", "/api/invitations/nope", ``, 404, "not_found"},
		{"admit unknown identity", "mediator", "POST", "/api/sessions/" + d + "/admit", `{"identity":"guest-999"}`, 404, "not_found"},
		{"admit without identity", "mediator", "POST", "/api/sessions/" + d + "/admit", `{}`, 400, "bad_request"},
		{"move to bad space", "mediator", "POST", "/api/sessions/" + d + "/move", `{"identity":"` + sc.guest + `","space":"Joint!"}`, 400, "bad_request"},
		{"move to lobby by move", "mediator", "POST", "/api/sessions/" + d + "/move", `{"identity":"` + sc.guest + `","space":""}`, 400, "bad_request"},
		{"mute unknown track", "mediator", "POST", "/api/sessions/" + d + "/mute", `{"identity":"` + sc.guest + `","track_sid":"TR_x"}`, 404, "not_found"},
		{"outcome without note", "mediator", "POST", "/api/sessions/" + d + "/outcome", `{"identity":"` + sc.guest + `"}`, 400, "bad_request"},
		{"outcome bad deadline", "mediator", "POST", "/api/sessions/" + d + "/outcome", `{"identity":"` + sc.guest + `","note":"n","supervise":{"unit":"u","deadline":"soon"}}`, 400, "bad_request"},
		{"outcome for staff", "mediator", "POST", "/api/sessions/" + d + "/outcome", `{"identity":"staff-med","note":"n"}`, 400, "bad_request"},
		{"outcome into invisible case", "mediator", "POST", "/api/sessions/" + d + "/outcome", `{"identity":"` + sc.guest + `","note":"n","case":999}`, 404, "not_found"},
		{"invite unknown staff", "mediator", "POST", "/api/sessions/" + d + "/invite-staff", `{"username":"ghost"}`, 400, "bad_request"},
		{"invite staff bad role", "mediator", "POST", "/api/sessions/" + d + "/invite-staff", `{"username":"judge","role":"host"}`, 400, "bad_request"},
		{"end with body fields", "mediator", "POST", "/api/sessions/" + d + "/end", `{"reason":"x"}`, 400, "unknown_field"},
		{"staff filter", "mediator", "GET", "/api/staff?tier=county", ``, 400, "bad_request"},
		{"stats by", "mediator", "GET", "/api/stats?by=colour", ``, 400, "bad_request"},
		{"cases filter", "mediator", "GET", "/api/cases?status=done", ``, 400, "bad_request"},
	} {
		before := fx.fingerprint(sc)
		status, body := fx.do(tc.role, tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
			continue
		}
		var e struct{ Error, Code string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != tc.code || e.Error == "" {
			t.Errorf("%s: body %s, want code %s", tc.name, body, tc.code)
		}
		if after := fx.fingerprint(sc); after != before {
			t.Errorf("%s: changed state:\n before %s\n after  %s", tc.name, before, after)
		}
	}

	// an ended session takes no more joins or controls
	if st, b := fx.do("mediator", "POST", "/api/sessions/"+d+"/end", ""); st != 200 {
		t.Fatalf("end: %d %s", st, b)
	}
	for _, tc := range []struct{ role, path, body string }{
		{"party", "/api/join/" + sc.code, `{"consent":true}`},
		{"mediator", "/api/sessions/" + d + "/join", ``},
		{"mediator", "/api/sessions/" + d + "/admit", `{"identity":"` + sc.guest + `"}`},
		{"mediator", "/api/sessions/" + d + "/end", ``},
		{"mediator", "/api/sessions/" + d + "/invitations", `{"role":"expert","name":"x"}`},
	} {
		if st, b := fx.do(tc.role, "POST", tc.path, tc.body); st != 409 {
			t.Errorf("after end, POST %s: %d %s, want 409", tc.path, st, b)
		}
	}
}
