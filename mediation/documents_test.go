package mediation

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yizhan/recording"
	"yizhan/store"
)

func mustJSON(t *testing.T, status int, body string, want int, v any) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
	}
}

type joinDocs struct {
	Documents []inviteeDocJSON `json:"documents"`
}

func (fx *fixture) joinDocs(code string) joinDocs {
	fx.t.Helper()
	var out joinDocs
	st, body := fx.do("party", "GET", "/api/join/"+code+"/documents", "")
	mustJSON(fx.t, st, body, 200, &out)
	return out
}

func (j joinDocs) find(id int64) *inviteeDocJSON {
	for i := range j.Documents {
		if j.Documents[i].ID == id {
			return &j.Documents[i]
		}
	}
	return nil
}

func signBody(version int, sha string) string {
	return fmt.Sprintf(`{"version":%d,"sha256":%q,"agree":true,"signature_png":%q}`, version, sha, testSignatureB64())
}

// TestDocumentFlow: a template filled from the case, the live text shown only in the
// joint space, signatures voided by an edit, a stale version refused, the last signature
// sealing a PDF into the case file that pdftotext reads and Verify checks, a flipped byte
// named, downloads in the custody log; then the judge's confirmation.
func TestDocumentFlow(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	ctx := fx.ctx
	resp, err := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: sc.sessID, Role: "party", Side: "respondent", Name: "Resp",
		PartyID: sc.parties[1].ID, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := fx.st.Case(ctx, sc.caseID)

	var doc docJSON
	st, body := fx.do("mediator", "POST", fmt.Sprintf("/api/cases/%d/documents", sc.caseID), fmt.Sprintf(`{"kind":"agreement","session":%d}`, sc.sessID))
	mustJSON(t, st, body, 201, &doc)
	for _, want := range []string{c.Number, "申请人：App", "被申请人：Resp", "土地"} {
		if !strings.Contains(doc.Body+doc.Title, want) {
			t.Errorf("template not filled: %q missing from %q", want, doc.Title+"\n"+doc.Body)
		}
	}
	if doc.Version != 1 || doc.SHA256 != fingerprint("agreement", doc.Title, doc.Body) || doc.State != "draft" {
		t.Fatalf("new document: %+v", doc)
	}

	// Shown in the joint space: the applicant there sees it, and sees nothing from the
	// lobby or a caucus.
	if st, body := fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/show", doc.ID), `{"space":"joint"}`); st != 204 {
		t.Fatalf("show: %d %s", st, body)
	}
	if fx.joinDocs(sc.code).find(doc.ID) != nil {
		t.Fatal("a party in the lobby sees the joint-space draft")
	}
	fx.rooms.SetAttributes(sc.room, sc.guest, map[string]string{"lobby": ""})
	fx.rooms.SetSpace(sc.room, sc.guest, jointSpace)
	if d := fx.joinDocs(sc.code).find(doc.ID); d == nil || !d.Shown || d.Signer || d.Body != doc.Body {
		t.Fatalf("a party in the joint space does not see the live text: %+v", d)
	}
	body2 := doc.Body + "\n一、Resp 于2026年12月31日前支付App人民币伍仟元。"
	var edited docJSON
	st, b := fx.do("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), fmt.Sprintf(`{"body":%q}`, body2))
	mustJSON(t, st, b, 200, &edited)
	if d := fx.joinDocs(sc.code).find(doc.ID); d == nil || d.Body != body2 || d.Version != 2 {
		t.Fatalf("the party does not see the edit: %+v", d)
	}
	fx.rooms.SetSpace(sc.room, sc.guest, "caucus-a")
	if fx.joinDocs(sc.code).find(doc.ID) != nil {
		t.Fatal("a caucus sees the joint-space draft")
	}
	fx.rooms.SetSpace(sc.room, sc.guest, jointSpace)

	// Send: the applicant attested, the respondent not yet, the mediator by account.
	st, b = fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/send", doc.ID),
		fmt.Sprintf(`{"signers":[{"invitation":%q,"attest":true},{"invitation":%q},{"username":"med"}]}`, sc.code, resp.Code))
	mustJSON(t, st, b, 200, &doc)
	if doc.State != "signing" || doc.Version != 2 || len(doc.Signers) != 3 {
		t.Fatalf("sent: %+v", doc)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", resp.Code, doc.ID), signBody(2, doc.SHA256)); st != 403 || !strings.Contains(b, "identity_unverified") {
		t.Fatalf("unattested signer: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", sc.code, doc.ID), strings.Replace(signBody(2, doc.SHA256), `"agree":true`, `"agree":false`, 1)); st != 400 {
		t.Fatalf("sign without agreeing: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", sc.code, doc.ID), signBody(2, doc.SHA256)); st != 200 {
		t.Fatalf("applicant signs v2: %d %s", st, b)
	}
	// An edit after the first signature voids it and says so to the signer.
	body3 := body2 + "\n二、双方再无争议。"
	st, b = fx.do("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), fmt.Sprintf(`{"body":%q,"version":2}`, body3))
	var ed struct {
		docJSON
		Voided int `json:"voided"`
	}
	mustJSON(t, st, b, 200, &ed)
	if ed.Voided != 1 || ed.Version != 3 || ed.State != "signing" {
		t.Fatalf("edit after a signature: voided %d version %d state %s", ed.Voided, ed.Version, ed.State)
	}
	jd := fx.joinDocs(sc.code).find(doc.ID)
	if jd == nil || !jd.Signer || jd.Signed || len(jd.Signatures) != 2 || jd.Signatures[0].VoidAt == nil || jd.Signatures[0].VoidReason == "" {
		t.Fatalf("the signer is not told their signature is void: %+v", jd)
	}
	// A stale version or fingerprint is 409 and signs nothing.
	before := fx.docsFingerprint(sc.caseID)
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", sc.code, doc.ID), signBody(2, doc.SHA256)); st != 409 {
		t.Fatalf("stale version: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", sc.code, doc.ID), signBody(3, doc.SHA256)); st != 409 {
		t.Fatalf("stale fingerprint: %d %s", st, b)
	}
	if after := fx.docsFingerprint(sc.caseID); after != before {
		t.Fatalf("a refused signature changed state:\n%s\n%s", before, after)
	}
	// Everyone signs version 3; the last signature seals.
	if st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/attest", doc.ID), fmt.Sprintf(`{"invitation":%q}`, resp.Code)); st != 204 {
		t.Fatalf("attest: %d %s", st, b)
	}
	withStill := func(consent bool) string {
		return strings.TrimSuffix(signBody(3, ed.SHA256), "}") + fmt.Sprintf(`,"still_png":%q,"still_consent":%v}`, base64.StdEncoding.EncodeToString(testSeal()), consent)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", sc.code, doc.ID), withStill(false)); st != 400 {
		t.Fatalf("a still frame without its own consent: %d %s", st, b)
	}
	for i, code := range []string{sc.code, resp.Code} {
		body := signBody(3, ed.SHA256)
		if i == 0 {
			body = withStill(true) // the applicant adds a photo, consenting to it
		}
		if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", code, doc.ID), body); st != 200 {
			t.Fatalf("sign v3: %d %s", st, b)
		}
	}
	if st, b := fx.do("party", "GET", fmt.Sprintf("/api/join/%s/documents/%d/pdf", sc.code, doc.ID), ""); st != 409 {
		t.Fatalf("PDF before sealing: %d %s", st, b)
	}
	// the centre's seal, uploaded by an admin, is printed on the sealed copy
	if st, b := fx.do("admin", "PUT", "/api/centres/east/seal", fmt.Sprintf(`{"png":%q}`, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(testSeal()))); st != 204 {
		t.Fatalf("seal upload: %d %s", st, b)
	}
	st, b = fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/sign", doc.ID), fmt.Sprintf(`{"version":3,"sha256":%q,"signature_png":%q}`, ed.SHA256, testSignatureB64()))
	var sr map[string]any
	mustJSON(t, st, b, 200, &sr)
	if sr["sealed"] != true || sr["seal_error"] != nil {
		t.Fatalf("last signature: %s", b)
	}
	if st, b := fx.do("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), `{"body":"x"}`); st != 409 {
		t.Fatalf("edit of a sealed document: %d %s", st, b)
	}
	// The PDF: downloaded by a signer, read back with pdftotext.
	st, pdf := fx.do("party", "GET", fmt.Sprintf("/api/join/%s/documents/%d/pdf", sc.code, doc.ID), "")
	if st != 200 || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("PDF: %d %.100q", st, pdf)
	}
	pdfPath := filepath.Join(t.TempDir(), "a.pdf")
	os.WriteFile(pdfPath, []byte(pdf), 0o644)
	// pdfimages lists every placement: three signatures (300x120) and the seal (211x197)
	if list, err := exec.Command("pdfimages", "-list", pdfPath).Output(); err != nil {
		t.Errorf("pdfimages: %v", err)
	} else if sigs, seals := countImages(string(list), 300, 120), countImages(string(list), 211, 197); sigs != 3 || seals != 1 {
		t.Errorf("the PDF places %d signatures and %d seals, want 3 and 1:\n%s", sigs, seals, list)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{"App", "Resp", c.Number, "伍仟元", ed.SHA256} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not find %q", want)
		}
	}
	// The case file: documents/<folder>/ verifies against the server key; the download is
	// in the custody log; a flipped byte is named.
	caseDir := filepath.Join(fx.dataDir, "cases", recording.CaseFolder(c.ID, c.Number))
	folder := filepath.Join(caseDir, recording.DocumentsDir, fmt.Sprintf("d%d-agreement-v3", doc.ID))
	rep, err := recording.Verify(folder, nil)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	if sj, err := os.ReadFile(filepath.Join(folder, "signatures.json")); err != nil || strings.Count(string(sj), `"still"`) != 1 || strings.Count(string(sj), `"evidence": "attested:med"`) != 2 {
		t.Errorf("signatures.json: %v\n%s", err, sj)
	}
	if _, err := os.Stat(filepath.Join(folder, "still-1.png")); err != nil {
		t.Errorf("the applicant's still frame is not in the sealed folder: %v", err)
	}
	evs, _ := recording.ReadEvents(filepath.Join(folder, "events.jsonl"))
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds["document_signed"] != 4 || kinds["document_signature_void"] != 1 || kinds["document_sent"] != 1 || kinds["document_edited"] != 2 {
		t.Errorf("document event log: %v", kinds)
	}
	custody, _ := os.ReadFile(filepath.Join(caseDir, "custody.jsonl"))
	if !strings.Contains(string(custody), "downloaded") || !strings.Contains(string(custody), sc.guest) {
		t.Errorf("custody log has no download by %s: %s", sc.guest, custody)
	}
	pdfFile := filepath.Join(folder, "agreement-v3.pdf")
	os.Chmod(pdfFile, 0o644)
	raw, _ := os.ReadFile(pdfFile)
	raw[len(raw)/2] ^= 0x01
	os.WriteFile(pdfFile, raw, 0o644)
	if _, err := recording.Verify(folder, nil); err == nil || !strings.Contains(err.Error(), "agreement-v3.pdf") {
		t.Fatalf("verify after a flipped byte: %v", err)
	}
	raw[len(raw)/2] ^= 0x01
	os.WriteFile(pdfFile, raw, 0o644)

	// Judicial confirmation: the party asks the judge; the judge's queue, detail, decision.
	var cf confirmationJSON
	st, b = fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/confirmation", sc.code, doc.ID), `{"judge":"med"}`)
	if st != 400 {
		t.Fatalf("a mediator as judge: %d %s", st, b)
	}
	st, b = fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/confirmation", sc.code, doc.ID), `{"judge":"judge"}`)
	mustJSON(t, st, b, 201, &cf)
	if st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/confirmation", doc.ID), `{"judge":"judge"}`); st != 409 {
		t.Fatalf("second pending request: %d %s", st, b)
	}
	var q struct {
		Confirmations []confirmationJSON `json:"confirmations"`
	}
	st, b = fx.do("judge", "GET", "/api/confirmations", "")
	mustJSON(t, st, b, 200, &q)
	if len(q.Confirmations) != 1 || q.Confirmations[0].ID != cf.ID || q.Confirmations[0].State != "pending" || q.Confirmations[0].CaseNumber != c.Number {
		t.Fatalf("queue: %s", b)
	}
	st, b = fx.do("judge", "GET", fmt.Sprintf("/api/confirmations/%d", cf.ID), "")
	if st != 200 || !strings.Contains(b, `"evidence":"attested:med"`) || !strings.Contains(b, `"verify"`) {
		t.Fatalf("detail: %d %s", st, b)
	}
	if st, b := fx.do("judge", "GET", fmt.Sprintf("/api/confirmations/%d/file/s%d/events.jsonl", cf.ID, sc.sessID), ""); st != 200 || !strings.Contains(b, "session_opened") {
		t.Fatalf("the judge opens the session's case file: %d %.200s", st, b)
	}
	if st, b := fx.do("judge", "GET", fmt.Sprintf("/api/documents/%d/pdf", doc.ID), ""); st != 200 {
		t.Fatalf("the judge opens the sealed agreement: %d %.200s", st, b)
	}
	var se sessionJSON
	st, b = fx.do("judge", "POST", fmt.Sprintf("/api/confirmations/%d/session", cf.ID), `{"scheduled_at":"2026-12-20T09:00:00+08:00"}`)
	mustJSON(t, st, b, 201, &se)
	if se.Kind != "confirmation" {
		t.Fatalf("hearing session: %+v", se)
	}
	if st, b := fx.do("judge", "POST", fmt.Sprintf("/api/confirmations/%d/decision", cf.ID), `{"decision":"rejected"}`); st != 400 {
		t.Fatalf("rejection without a reason: %d %s", st, b)
	}
	st, b = fx.do("judge", "POST", fmt.Sprintf("/api/confirmations/%d/decision", cf.ID), `{"decision":"confirmed","reason":"双方自愿"}`)
	mustJSON(t, st, b, 200, &cf)
	if cf.State != "confirmed" || cf.DecisionDoc == 0 {
		t.Fatalf("decision: %s", b)
	}
	if st, b := fx.do("judge", "POST", fmt.Sprintf("/api/confirmations/%d/decision", cf.ID), `{"decision":"rejected","reason":"x"}`); st != 409 {
		t.Fatalf("second decision: %d %s", st, b)
	}
	jd = fx.joinDocs(resp.Code).find(cf.DecisionDoc)
	if jd == nil || jd.Kind != "confirmation" || jd.State != "sealed" || !jd.PDF || jd.Decision == nil || jd.Decision.State != "confirmed" {
		t.Fatalf("the respondent does not see the decision: %+v", jd)
	}
	if st, _ := fx.do("party", "GET", fmt.Sprintf("/api/join/%s/documents/%d/pdf", resp.Code, cf.DecisionDoc), ""); st != 200 {
		t.Fatalf("decision PDF: %d", st)
	}
	if rep, err := recording.Verify(filepath.Join(caseDir, recording.DocumentsDir, fmt.Sprintf("d%d-confirmation-v1", cf.DecisionDoc)), nil); err != nil {
		t.Fatalf("decision folder: %v\n%s", err, rep.Summary())
	}
}

// TestDocumentIsolation: a party cannot read another case's documents, sign for someone
// else, or sign a version they were not sent.
func TestDocumentIsolation(t *testing.T) {
	fx := newFixture(t)
	a, other := fx.scene(), fx.scene()
	ds := fx.docScene(a)
	// another case's invitation sees nothing of case a and cannot touch its documents
	if j := fx.joinDocs(other.code); j.find(ds.signing) != nil || j.find(ds.sealed) != nil {
		t.Fatal("another case's party lists this case's documents")
	}
	for _, p := range []struct{ method, path, body string }{
		{"POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", other.code, ds.signing), signBody(1, ds.signingSHA)},
		{"GET", fmt.Sprintf("/api/join/%s/documents/%d/pdf", other.code, ds.sealed), ""},
		{"POST", fmt.Sprintf("/api/join/%s/documents/%d/confirmation", other.code, ds.sealed), `{"judge":"judge"}`},
	} {
		if st, b := fx.do("party", p.method, p.path, p.body); st != 404 {
			t.Errorf("%s %s by another case's party: %d %s", p.method, p.path, st, b)
		}
	}
	// the respondent of the same session, not a signer: cannot sign for the applicant
	resp, _ := fx.st.CreateInvitation(fx.ctx, store.Invitation{Code: randomCode(16), SessionID: a.sessID, Role: "party", Side: "respondent", Name: "Resp",
		PartyID: a.parties[1].ID, ExpiresAt: time.Now().Add(time.Hour)})
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", resp.Code, ds.signing), signBody(1, ds.signingSHA)); st != 404 {
		t.Errorf("a non-signer signs: %d %s", st, b)
	}
	// a version not sent to the applicant: v2 re-sent to the mediator only
	if st, b := fx.do("mediator", "PUT", fmt.Sprintf("/api/documents/%d", ds.signing), `{"body":"第二版"}`); st != 200 {
		t.Fatalf("edit: %d %s", st, b)
	}
	var d docJSON
	st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/send", ds.signing), `{"signers":[{"username":"med"}]}`)
	mustJSON(t, st, b, 200, &d)
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", a.code, ds.signing), signBody(2, d.SHA256)); st != 403 {
		t.Errorf("signing a version not sent: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", a.code, ds.signing), signBody(1, ds.signingSHA)); st != 409 {
		t.Errorf("signing the old version: %d %s", st, b)
	}
	// bad signature images are refused
	bad := fmt.Sprintf(`{"version":2,"sha256":%q,"signature_png":"bm90IGEgcG5n"}`, d.SHA256)
	if st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/sign", ds.signing), bad); st != 400 {
		t.Errorf("not a PNG: %d %s", st, b)
	}
}

// TestSMSOneTimeCode: with --sms-webhook, a party proves who they are with a code sent to
// the phone on file (received here by a local webhook); a wrong code signs nothing.
func TestSMSOneTimeCode(t *testing.T) {
	fx := newFixture(t)
	var mu sync.Mutex
	var got []map[string]string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	key, _ := recording.LoadOrCreateKey(t.TempDir())
	svc := New(Config{Documents: DocumentsConfig{DataDir: t.TempDir(), Key: key, SMSWebhook: hook.URL}}, fx.st, fx.rooms, testLogger(t))
	defer svc.Close()
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	fx.srv = srv

	ctx := fx.ctx
	c, _ := fx.st.CreateCase(ctx, store.Case{Title: "wages", Category: "labour_wages", Risk: "blue", Centre: "east", Mediator: "med",
		Parties: []store.Party{{Name: "工人", Side: "applicant", Phone: "13800001234"}}})
	se, _ := fx.st.CreateSession(ctx, store.Session{CaseID: c.ID, Kind: "mediation", Title: "s", Room: "s-" + randomCode(10), Hosts: []string{"med"}})
	inv, _ := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: se.ID, Role: "party", Side: "applicant", Name: "工人",
		PartyID: c.Parties[0].ID, ExpiresAt: time.Now().Add(time.Hour)})
	var doc docJSON
	st, b := fx.do("mediator", "POST", fmt.Sprintf("/api/cases/%d/documents", c.ID), `{"kind":"agreement"}`)
	mustJSON(t, st, b, 201, &doc)
	st, b = fx.do("mediator", "POST", fmt.Sprintf("/api/documents/%d/send", doc.ID), fmt.Sprintf(`{"signers":[{"invitation":%q}]}`, inv.Code))
	mustJSON(t, st, b, 200, &doc)
	if j := fx.joinDocs(inv.Code).find(doc.ID); j == nil || j.Identity != "otp" {
		t.Fatalf("identity mode: %+v", j)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", inv.Code, doc.ID), signBody(1, doc.SHA256)); st != 403 || !strings.Contains(b, "otp_required") {
		t.Fatalf("sign without a code: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/otp", inv.Code, doc.ID), ""); st != 200 || !strings.Contains(b, "138****1234") {
		t.Fatalf("otp: %d %s", st, b)
	}
	for i := 0; i < 2; i++ { // three codes in ten minutes, then no more
		if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/otp", inv.Code, doc.ID), ""); st != 200 {
			t.Fatalf("otp %d: %d %s", i+2, st, b)
		}
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/otp", inv.Code, doc.ID), ""); st != 429 {
		t.Fatalf("a fourth code: %d %s", st, b)
	}
	mu.Lock()
	if len(got) != 3 || got[2]["phone"] != "13800001234" || !strings.Contains(got[2]["text"], c.Number) {
		t.Fatalf("webhook got %v", got)
	}
	text := got[2]["text"] // the last code is the valid one
	mu.Unlock()
	code := ""
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r < '0' || r > '9' }) {
		if len(f) == 6 {
			code = f
		}
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	withOTP := func(otp string) string {
		return strings.TrimSuffix(signBody(1, doc.SHA256), "}") + fmt.Sprintf(`,"otp":%q}`, otp)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", inv.Code, doc.ID), withOTP(wrong)); st != 403 {
		t.Fatalf("wrong code: %d %s", st, b)
	}
	if st, b := fx.do("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", inv.Code, doc.ID), withOTP(code)); st != 200 || !strings.Contains(b, `"sealed":true`) {
		t.Fatalf("right code: %d %s", st, b)
	}
	sgs, _ := fx.st.Signers(ctx, doc.ID)
	if len(sgs) != 1 || sgs[0].Evidence != "otp:138****1234" {
		t.Fatalf("evidence: %+v", sgs)
	}
}

// countImages counts the image placements of size w x h in `pdfimages -list` output
// (smask rows, the alpha channels, are not placements).
func countImages(list string, w, h int) int {
	n := 0
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[2] == "image" && f[3] == fmt.Sprint(w) && f[4] == fmt.Sprint(h) {
			n++
		}
	}
	return n
}
