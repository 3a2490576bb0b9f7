package mediation

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
)

// TestDocumentsLiveSession: a live, recorded session with real SDK clients. The mediator
// drafts the agreement; both parties in the joint space see the text follow the typing,
// and a party moved to a caucus does not; one party signs; the text is edited and that
// signature is void; everyone signs the new version; the PDF is sealed into the case file.
// pdftotext finds the parties' names and the case number; after the session ends the
// whole case folder verifies against the server key (the session, the document, the
// custody log); one flipped byte in the PDF fails verification and names the file.
func TestDocumentsLiveSession(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is needed")
	}
	data := t.TempDir()
	key, err := recording.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	var rec *recorder.Recorder
	ls := newLiveServerWith(t, func(sig *signaling.Server) Config {
		var cfg Config
		cfg, rec = withRecorder(t, data, key, sig)
		cfg.Documents = DocumentsConfig{DataDir: data, Key: key}
		return cfg
	})
	_ = rec

	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"宅基地边界","category":"land","risk":"blue","mediator":"med",
		"description":"双方就宅基地东侧边界发生争议。","parties":[{"name":"张三","side":"applicant"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"调解"}`, 201, &se)
	appInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	resInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID))
	var medJ, appJ, resJ joinJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	ls.call("party", "POST", "/api/join/"+appInv.Code, `{"consent":true}`, 200, &appJ)
	ls.call("party", "POST", "/api/join/"+resInv.Code, `{"consent":true}`, 200, &resJ)
	med, app, res := ls.connect(medJ), ls.connect(appJ), ls.connect(resJ)
	publishAV(t, med)
	publishAV(t, app)
	for _, id := range []string{appJ.Identity, resJ.Identity} {
		waitFor(t, id+" knocks", func() bool { _, ok := ls.svc.participant(se.Room, id); return ok })
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+id+`"}`, 200, nil)
	}
	waitFor(t, "the respondent sees the applicant's video", func() bool { return res.PacketsFrom(appJ.Identity, "video") > 30 })

	// the mediator drafts in the console and shows it in the joint space
	var doc docJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/documents", c.ID), fmt.Sprintf(`{"kind":"agreement","session":%d}`, se.ID), 201, &doc)
	ls.call("mediator", "POST", fmt.Sprintf("/api/documents/%d/show", doc.ID), `{"space":"joint"}`, 204, nil)
	sees := func(code, text string) bool {
		d := ls.joinDocs(code).find(doc.ID)
		return d != nil && d.Shown && strings.Contains(d.Body, text)
	}
	// typing: each pause saves a version; the parties' pages poll and follow
	body := doc.Body
	for i, clause := range []string{"一、东侧边界以1998年界桩为准；", "二、李四于2026年12月31日前拆除越界围墙；", "三、张三放弃其他请求。"} {
		body += "\n" + clause
		ls.call("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), fmt.Sprintf(`{"body":%q,"version":%d}`, body, doc.Version+i), 200, nil)
		for _, code := range []string{appInv.Code, resInv.Code} {
			waitFor(t, "party sees clause "+fmt.Sprint(i+1), func() bool { return sees(code, clause) })
		}
	}
	// a caucus never sees the joint-space draft
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+resJ.Identity+`","space":"caucus-b"}`, 200, nil)
	waitFor(t, "the respondent is in the caucus", func() bool {
		p, ok := ls.svc.participant(se.Room, resJ.Identity)
		return ok && p.Space == "caucus-b"
	})
	if ls.joinDocs(resInv.Code).find(doc.ID) != nil {
		t.Fatal("a party in a caucus sees the joint-space draft")
	}
	if !sees(appInv.Code, "三、") {
		t.Fatal("the applicant in the joint space lost the draft")
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+resJ.Identity+`","space":"joint"}`, 200, nil)
	waitFor(t, "the respondent back in joint sees it", func() bool { return sees(resInv.Code, "三、") })

	// send; the applicant signs; an edit voids that signature and says so
	ls.call("mediator", "POST", fmt.Sprintf("/api/documents/%d/send", doc.ID),
		fmt.Sprintf(`{"signers":[{"invitation":%q,"attest":true},{"invitation":%q,"attest":true},{"username":"med"}]}`, appInv.Code, resInv.Code), 200, &doc)
	ls.call("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", appInv.Code, doc.ID), signBody(doc.Version, doc.SHA256), 200, nil)
	body += "\n四、本协议履行完毕后双方再无争议。"
	ls.call("mediator", "PUT", fmt.Sprintf("/api/documents/%d", doc.ID), fmt.Sprintf(`{"body":%q,"version":%d}`, body, doc.Version), 200, &doc)
	jd := ls.joinDocs(appInv.Code).find(doc.ID)
	if jd == nil || jd.Signed || !jd.Signer || len(jd.Signatures) == 0 || jd.Signatures[0].VoidAt == nil {
		t.Fatalf("the applicant's signature of the old version is not void: %+v", jd)
	}
	// everyone signs the new version; the mediator's is the last and seals
	for _, code := range []string{appInv.Code, resInv.Code} {
		ls.call("party", "POST", fmt.Sprintf("/api/join/%s/documents/%d/sign", code, doc.ID), signBody(doc.Version, doc.SHA256), 200, nil)
	}
	var sr map[string]any
	ls.call("mediator", "POST", fmt.Sprintf("/api/documents/%d/sign", doc.ID), fmt.Sprintf(`{"version":%d,"sha256":%q,"signature_png":%q}`, doc.Version, doc.SHA256, testSignatureB64()), 200, &sr)
	if sr["sealed"] != true {
		t.Fatalf("not sealed after the last signature: %v", sr)
	}
	st, pdf := ls.do("party", "GET", fmt.Sprintf("/api/join/%s/documents/%d/pdf", resInv.Code, doc.ID), "")
	if st != 200 || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("the respondent's copy: %d", st)
	}
	pdfPath := filepath.Join(t.TempDir(), "copy.pdf")
	os.WriteFile(pdfPath, []byte(pdf), 0o600)
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{"张三", "李四", c.Number, "越界围墙", doc.SHA256} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not find %q in the sealed PDF", want)
		}
	}

	// the session ends; the case folder verifies as a whole, with the server key
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	caseDir := filepath.Join(data, "cases", recording.CaseFolder(c.ID, c.Number))
	sessDir := filepath.Join(caseDir, recording.SessionFolder(se.ID))
	waitFor(t, "the session's case file is sealed", func() bool {
		_, err := os.Stat(filepath.Join(sessDir, "manifest.json"))
		_, open := os.Stat(filepath.Join(sessDir, ".recording"))
		return err == nil && open != nil
	})
	pub := key.Public()
	rep, err := recording.Verify(caseDir, &pub)
	if err != nil {
		t.Fatalf("verify the case folder: %v\n%s", err, rep.Summary())
	}
	docFolder := fmt.Sprintf("documents/d%d-agreement-v%d", doc.ID, doc.Version)
	found := false
	for _, s := range rep.Sessions {
		found = found || s == docFolder
	}
	if !found {
		t.Fatalf("verify did not check %s: %v", docFolder, rep.Sessions)
	}
	// the document's steps are in the session's hash-chained log too
	evs, _ := recording.ReadEvents(filepath.Join(sessDir, "events.jsonl"))
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds["document_signed"] != 4 || kinds["document_signature_void"] != 1 || kinds["document_sealed"] != 1 {
		t.Errorf("the session's event log: signed %d void %d sealed %d", kinds["document_signed"], kinds["document_signature_void"], kinds["document_sealed"])
	}
	// one flipped byte in the PDF: verify fails and names the file
	pdfFile := filepath.Join(caseDir, filepath.FromSlash(docFolder), fmt.Sprintf("agreement-v%d.pdf", doc.Version))
	if err := os.Chmod(pdfFile, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(pdfFile)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/3] ^= 0x20
	if err := os.WriteFile(pdfFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = recording.Verify(caseDir, &pub)
	if err == nil || !strings.Contains(err.Error(), docFolder+"/agreement-v") {
		t.Fatalf("verify after one flipped byte: %v", err)
	}
	t.Logf("verify names the file: %v", err)
	_ = med
	_ = app
}
