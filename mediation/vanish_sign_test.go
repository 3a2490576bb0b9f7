package mediation

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/recording"
	"yizhan/signaling"
)

// TestVanishMidSignature (issue 12, a client vanishing mid-signature): the applicant
// opens the agreement to sign and vanishes twice without a goodbye, its room
// connection and its signing request ending with the TCP connections under them:
// first halfway through sending its signature, later right after sending the whole
// signature, before the answer. The half-sent one signs nothing; the whole one is
// committed whole (the signature, its line in the case timeline and in the session's
// hash-chained log), and a retry by the returning phone is told it is already signed.
// All along the mediator and the respondent keep hearing each other and the API
// answers; the respondent signs, the mediator's signature seals the document, the
// session ends and its case folder verifies.
func TestVanishMidSignature(t *testing.T) {
	data := t.TempDir()
	key, err := recording.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	// the applicant proves who it is with a one-time code by SMS (the webhook keeps the texts)
	var smsMu sync.Mutex
	var texts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		smsMu.Lock()
		texts = append(texts, m["text"])
		smsMu.Unlock()
	}))
	t.Cleanup(hook.Close)
	ls := newLiveServerWith(t, func(sig *signaling.Server) Config {
		cfg, _ := withRecorder(t, data, key, sig)
		cfg.Documents = DocumentsConfig{DataDir: data, Key: key, SMSWebhook: hook.URL}
		return cfg
	})
	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"签字断线","category":"contracts","risk":"blue","mediator":"med",
		"parties":[{"name":"张三","side":"applicant","phone":"13800001234"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"调解"}`, 201, &se)
	appInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	resInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID))
	var medJ, resJ joinJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	ls.call("party", "POST", "/api/join/"+resInv.Code, `{"consent":true}`, 200, &resJ)
	med, res := ls.connect(medJ), ls.connect(resJ)
	for _, cl := range []*lktest.Client{med, res} {
		if _, err := cl.PublishOpus(""); err != nil {
			t.Fatal(err)
		}
	}
	// the applicant's phone: a bare signal connection (no goodbye when it goes)
	appEnters := func() (joinJSON, func()) {
		var j joinJSON
		ls.call("party", "POST", "/api/join/"+appInv.Code, `{"consent":true}`, 200, &j)
		ws := rawJoin(t, j)
		return j, func() { _ = ws.UnderlyingConn().Close() }
	}
	appJ, appVanish := appEnters()
	for _, id := range []string{resJ.Identity, appJ.Identity} {
		waitFor(t, id+" knocks", func() bool { _, ok := ls.svc.participant(se.Room, id); return ok })
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+id+`"}`, 200, nil)
	}
	carryOn := func(when string) { // the mediator and the respondent still hear each other; the API answers
		t.Helper()
		n1, n2 := med.PacketsFrom(resJ.Identity, "audio"), res.PacketsFrom(medJ.Identity, "audio")
		waitFor(t, when+": the mediator and the respondent hear each other", func() bool {
			return med.PacketsFrom(resJ.Identity, "audio") > n1+20 && res.PacketsFrom(medJ.Identity, "audio") > n2+20
		})
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), "", 200, nil)
	}
	carryOn("before")

	var doc docJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/documents", c.ID), fmt.Sprintf(`{"kind":"agreement","session":%d}`, se.ID), 201, &doc)
	ls.call("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), fmt.Sprintf(`{"body":%q,"version":%d}`, doc.Body+"\n一、李四返还借款五千元。", doc.Version), 200, &doc)
	ls.call("mediator", "POST", fmt.Sprintf("/api/documents/%d/send", doc.ID),
		fmt.Sprintf(`{"signers":[{"invitation":%q,"attest":true},{"invitation":%q,"attest":true},{"username":"med"}]}`, appInv.Code, resInv.Code), 200, &doc)
	signPath := fmt.Sprintf("/api/join/%s/documents/%d/sign", appInv.Code, doc.ID)
	body := signBody(doc.Version, doc.SHA256)
	otpCode := func() string { // the newest code texted to the applicant
		smsMu.Lock()
		defer smsMu.Unlock()
		code := ""
		if len(texts) > 0 {
			for _, f := range strings.FieldsFunc(texts[len(texts)-1], func(r rune) bool { return r < '0' || r > '9' }) {
				if len(f) == 6 {
					code = f
				}
			}
		}
		return code
	}

	signed := func(name string) (at time.Time, events int) { // the signer's row and its timeline lines
		t.Helper()
		sgs, err := ls.st.Signers(ls.ctx, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sg := range sgs {
			if sg.Name == name && sg.Version == doc.Version {
				at = sg.SignedAt
			}
		}
		evs, err := ls.st.Timeline(ls.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == "document_signed" && strings.Contains(e.Detail, name) {
				events++
			}
		}
		return at, events
	}

	// 1. The applicant opens the document to sign, asks for its one-time code, starts
	// sending its signature and vanishes halfway: the request's connection and the room
	// connection just end.
	if d := ls.joinDocs(appInv.Code).find(doc.ID); d == nil || !d.Signer || d.Signed || d.Identity != "otp" {
		t.Fatalf("the applicant's view of the document to sign: %+v", d)
	}
	ls.call("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/otp", appInv.Code, doc.ID), "", 200, nil)
	waitFor(t, "the one-time code texted", func() bool { return otpCode() != "" })
	appBody := strings.TrimSuffix(body, "}") + fmt.Sprintf(`,"otp":%q}`, otpCode())
	rawPost(t, ls.srv.URL, signPath, appBody, len(appBody)/2)
	appVanish()
	carryOn("after the applicant vanished mid-signature")
	if at, n := signed("张三"); !at.IsZero() || n != 0 {
		t.Fatalf("half a signature was committed: signed at %v, %d timeline lines", at, n)
	}
	if d, err := ls.st.Document(ls.ctx, doc.ID); err != nil || d.State != "signing" {
		t.Fatalf("the document after half a signature: %q %v", d.State, err)
	}

	// 2. The others carry on: the respondent signs (attested by the mediator).
	ls.call("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", resInv.Code, doc.ID), body, 200, nil)

	// 3. The applicant's phone comes back, is admitted, sends its whole signature with
	// the code it was texted before it vanished, and vanishes again before the answer:
	// committed whole.
	appJ, appVanish = appEnters()
	var back signaling.Participant
	waitFor(t, "the applicant is back", func() bool {
		var ok bool
		back, ok = ls.svc.participant(se.Room, appJ.Identity)
		return ok
	})
	t.Logf("the applicant is back in %q", back.Space)
	if back.Space == lobbySpace {
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+appJ.Identity+`"}`, 200, nil)
	}
	rawPost(t, ls.srv.URL, signPath, appBody, len(appBody))
	appVanish()
	waitFor(t, "the applicant's whole signature is committed", func() bool { at, _ := signed("张三"); return !at.IsZero() })
	time.Sleep(300 * time.Millisecond) // what the handler does after the commit
	if _, n := signed("张三"); n != 1 {
		t.Fatalf("the applicant's signature is committed with %d timeline lines, want 1", n)
	}
	// the phone, back again, retries what it never heard the answer to
	if st, b := ls.do("party", "POST", signPath, appBody); st != http.StatusConflict || !strings.Contains(b, "already signed") {
		t.Errorf("a retry of a committed signature: %d %s", st, b)
	}
	if d := ls.joinDocs(appInv.Code).find(doc.ID); d == nil || !d.Signed {
		t.Errorf("the applicant's view after its signature: %+v", d)
	}
	carryOn("after the applicant vanished again")

	// 4. The mediator's signature seals; the session goes on, ends, and its case folder verifies.
	var sr map[string]any
	ls.call("mediator", "POST", fmt.Sprintf("/api/documents/%d/sign", doc.ID),
		fmt.Sprintf(`{"version":%d,"sha256":%q,"signature_png":%q}`, doc.Version, doc.SHA256, testSignatureB64()), 200, &sr)
	if sr["sealed"] != true || sr["seal_error"] != nil {
		t.Fatalf("the last signature: %v", sr)
	}
	carryOn("after the seal")
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	caseDir := filepath.Join(data, "cases", recording.CaseFolder(c.ID, c.Number))
	sessDir := filepath.Join(caseDir, recording.SessionFolder(se.ID))
	waitFor(t, "the session's case file is sealed", func() bool {
		_, err := os.Stat(filepath.Join(sessDir, "manifest.json"))
		_, open := os.Stat(filepath.Join(sessDir, ".recording"))
		return err == nil && open != nil
	})
	pub := key.Public()
	if rep, err := recording.Verify(caseDir, &pub); err != nil {
		t.Fatalf("verify the case folder: %v\n%s", err, rep.Summary())
	}
	if kinds := recEventKinds(t, sessDir); kinds["document_signed"] != 3 || kinds["document_sealed"] != 1 {
		t.Errorf("the session's event log: %d document_signed (want 3), %d document_sealed (want 1)", kinds["document_signed"], kinds["document_sealed"])
	}
	sgs, _ := ls.st.Signers(ls.ctx, doc.ID)
	for _, sg := range sgs {
		if sg.SignedAt.IsZero() || len(sg.Image) == 0 {
			t.Errorf("signer %s: signed at %v, %d bytes of image", sg.Name, sg.SignedAt, len(sg.Image))
		}
		if sg.Name == "张三" && sg.Evidence != "otp:138****1234" {
			t.Errorf("the applicant's evidence: %q", sg.Evidence)
		}
	}
}

// rawPost sends a JSON POST whose Content-Length promises the whole body but writes
// only its first n bytes, then ends the TCP connection without reading the answer: a
// phone that vanishes while (or right after) sending.
func rawPost(t *testing.T, base, path, body string, n int) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, u.Host, len(body), body[:n])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
}
