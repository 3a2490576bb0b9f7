package mediation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"yizhan/recording"
	"yizhan/store"
)

// Judicial confirmation (司法确认): the mediator, or a party through their invitation,
// asks a judge from the directory (staff with role judge, any tier) to confirm a sealed
// agreement. The judge's queue lists the requests; each opens the sealed agreement, the
// identity evidence of every signature, the case's recordings and their verification.
// The decision (confirmed, or rejected with a reason) is itself a sealed document in the
// case file, which the parties see on their pages.

// confirmations runs judicial confirmation: requests, the judge's queue and files,
// decisions and hearings. Static after construction.
type confirmations struct {
	*docCore
	sealer  *docSealer        // seals the decision
	dataDir string            // the case files the judge reviews ("" = none)
	key     *recording.Signer // whose public key the case files are verified against
}

// confirmationWindow: a party may ask for confirmation within 30 days of the agreement
// taking effect (People's Mediation Law art. 33). The request is accepted later too and
// marked late: the judge decides.
const confirmationWindow = 30 * 24 * time.Hour

type confirmationJSON struct {
	ID           int64   `json:"id"`
	Document     int64   `json:"document"`
	DocTitle     string  `json:"document_title"`
	DocSHA256    string  `json:"document_sha256"`
	Case         int64   `json:"case"`
	CaseNumber   string  `json:"case_number"`
	CaseTitle    string  `json:"case_title"`
	Judge        string  `json:"judge"`
	JudgeName    string  `json:"judge_name"`
	RequestedBy  string  `json:"requested_by"`
	RequestedAt  *string `json:"requested_at"`
	Late         bool    `json:"late"` // asked more than 30 days after the agreement was sealed
	State        string  `json:"state"`
	Reason       string  `json:"reason,omitempty"`
	DecidedAt    *string `json:"decided_at"`
	Session      int64   `json:"session,omitempty"`
	DecisionDoc  int64   `json:"decision_document,omitempty"`
	AgreementPDF string  `json:"agreement_pdf,omitempty"` // staff URL of the sealed agreement
}

// request files a confirmation request of doc with judge, by actorID.
func (d *confirmations) request(ctx context.Context, w http.ResponseWriter, doc store.Document, judge, actorID string) error {
	if doc.Kind != "agreement" || doc.State != "sealed" {
		return errf(http.StatusConflict, "not_sealed", "only a sealed mediation agreement can be sent for judicial confirmation")
	}
	st, err := d.st.Staff(ctx, judge)
	if err != nil || !st.Has("judge") || st.Disabled {
		return badRequest("%q is not a judge in the directory", judge)
	}
	cf, err := d.st.CreateConfirmation(ctx, store.Confirmation{DocID: doc.ID, CaseID: doc.CaseID, Judge: judge, RequestedBy: actorID})
	if err != nil {
		return err
	}
	d.event(ctx, doc, "confirmation_requested", actorID, fmtDetail("judge", judge, "confirmation", cf.ID))
	d.svc.emit(event{name: "confirmation", to: []string{judge}, data: map[string]any{"confirmation_id": cf.ID, "state": cf.State}})
	writeJSON(w, http.StatusCreated, d.confirmationView(ctx, cf))
	return nil
}

type confirmReq struct {
	Judge string `json:"judge"`
}

func (d *confirmations) requestConfirmation(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req confirmReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	return d.request(r.Context(), w, doc, strings.TrimSpace(req.Judge), a.Username)
}

func (d *confirmations) inviteeConfirmation(w http.ResponseWriter, r *http.Request) error {
	var req confirmReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	inv, _, _, doc, err := d.invitee(r)
	if err != nil {
		return err
	}
	rows, err := d.signerRows(r.Context(), doc, inv.ID)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return notFound("document")
	}
	if inv.Role != "party" && inv.Role != "agent" {
		return errf(http.StatusForbidden, "forbidden", "only a party or their agent may ask for confirmation")
	}
	return d.request(r.Context(), w, doc, strings.TrimSpace(req.Judge), guestIdentity(inv.ID))
}

// queue is the judge's list: their requests, pending first.
func (d *confirmations) queue(w http.ResponseWriter, r *http.Request, a *actor) error {
	if !a.Has("judge") {
		return errForbidden
	}
	cs, err := d.st.Confirmations(r.Context(), a.Username, 0)
	if err != nil {
		return err
	}
	out := []confirmationJSON{}
	for _, cf := range cs {
		out = append(out, d.confirmationView(r.Context(), cf))
	}
	writeJSON(w, http.StatusOK, map[string]any{"confirmations": out})
	return nil
}

// confirmation resolves {id} for a: its judge, or staff who can see the case (else 404).
func (d *confirmations) confirmation(r *http.Request, a *actor) (store.Confirmation, store.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Confirmation{}, store.Case{}, err
	}
	ctx := r.Context()
	cf, err := d.st.Confirmation(ctx, id)
	if err != nil {
		return cf, store.Case{}, notFoundOr(err, "confirmation")
	}
	c, err := d.st.Case(ctx, cf.CaseID)
	if err != nil {
		return cf, c, err
	}
	if cf.Judge == a.Username {
		return cf, c, nil
	}
	if ok, err := d.svc.canSee(ctx, a, c.Centre); err != nil || !ok {
		return cf, c, notFound("confirmation")
	}
	return cf, c, nil
}

// confirmationDetail is what the judge opens: the request, the sealed agreement with every
// signature's identity evidence, the case's sessions and files, and the verification of
// the whole case file against this server's key.
func (d *confirmations) confirmationDetail(w http.ResponseWriter, r *http.Request, a *actor) error {
	cf, c, err := d.confirmation(r, a)
	if err != nil {
		return err
	}
	ctx := r.Context()
	doc, err := d.st.Document(ctx, cf.DocID)
	if err != nil {
		return err
	}
	dv, err := d.view(ctx, doc, c, false)
	if err != nil {
		return err
	}
	out := map[string]any{"confirmation": d.confirmationView(ctx, cf), "document": dv, "files": []recording.CaseFile{}, "sessions": []sessionJSON{}}
	if ss, err := d.st.ListSessions(ctx, store.SessionFilter{CaseID: c.ID}); err == nil {
		sv := []sessionJSON{}
		for _, se := range ss {
			sv = append(sv, sessionView(se, c))
		}
		out["sessions"] = sv
	}
	if d.dataDir != "" {
		folder := recording.CaseFolder(c.ID, c.Number)
		if files, err := recording.ListCase(d.dataDir, folder); err == nil {
			var open []recording.CaseFile
			for _, f := range files {
				if !f.Restricted {
					open = append(open, f)
				}
			}
			out["files"] = open
		}
		var trusted *recording.PublicKey
		if d.key != nil {
			pk := d.key.Public()
			trusted = &pk
		}
		rep, _ := recording.Verify(filepath.Join(d.dataDir, "cases", folder), trusted)
		if rep.Problems == nil {
			rep.Problems = []string{}
		}
		if rep.Checked == nil {
			rep.Checked = []string{}
		}
		out["verify"] = rep
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type decisionReq struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (d *confirmations) decide(w http.ResponseWriter, r *http.Request, a *actor) error {
	cf, c, err := d.confirmation(r, a)
	if err != nil {
		return err
	}
	if cf.Judge != a.Username {
		return errf(http.StatusForbidden, "forbidden", "only the judge asked may decide")
	}
	var req decisionReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Decision != "confirmed" && req.Decision != "rejected":
		return badRequest("decision must be confirmed or rejected")
	case req.Decision == "rejected" && req.Reason == "":
		return badRequest("a rejection needs a reason")
	}
	if err := checkLen("reason", req.Reason, 5000); err != nil {
		return err
	}
	if cf.State != "pending" {
		return errf(http.StatusConflict, "illegal_transition", "this request was already decided (%s)", cf.State)
	}
	ctx := r.Context()
	agr, err := d.st.Document(ctx, cf.DocID)
	if err != nil {
		return err
	}
	judge, _ := d.st.Staff(ctx, a.Username)
	title, body := decisionText(c, agr, judge.Name, req.Decision, req.Reason, d.now())
	doc, err := d.st.CreateDocument(ctx, store.Document{CaseID: c.ID, Kind: "confirmation", Title: title, Body: body,
		SHA256: fingerprint("confirmation", title, body), CreatedBy: a.Username})
	if err != nil {
		return err
	}
	if err := d.st.Decide(ctx, cf.ID, req.Decision, req.Reason, doc.ID); err != nil {
		_ = d.st.SetDocState(ctx, doc.ID, "draft", "void")
		return err
	}
	d.event(ctx, doc, "document_created", a.Username, fmtDetail("kind", "confirmation", "version", 1, "sha256", doc.SHA256))
	d.event(ctx, agr, "confirmation_decided", a.Username, fmtDetail("decision", req.Decision, "confirmation", cf.ID, "decision_document", doc.ID))
	if err := d.st.SealUnsigned(ctx, doc.ID); err != nil {
		return err
	}
	if err := d.sealer.seal(ctx, doc.ID); err != nil && !errors.Is(err, errNoCaseFiles) {
		d.svc.log.Error("seal decision", "document", doc.ID, "err", err)
	}
	cf, err = d.st.Confirmation(ctx, cf.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.confirmationView(ctx, cf))
	return nil
}

// decisionText is the court's decision as printed (Chinese: it is a legal document).
func decisionText(c store.Case, agr store.Document, judge, decision, reason string, now time.Time) (string, string) {
	var parties []string
	for _, p := range c.Parties {
		parties = append(parties, signerRole("party", p.Side)+"："+p.Name)
	}
	date := now.In(time.FixedZone("CST", 8*3600)).Format("2006年1月2日")
	head := "申请人就案号 " + c.Number + " 经人民调解达成的《" + agr.Title + "》（第 " + fmt.Sprint(agr.Version) + " 版，文件指纹 SHA-256：" +
		agr.SHA256 + "）申请司法确认。\n\n" + strings.Join(parties, "\n") + "\n\n"
	if decision == "confirmed" {
		return "确认人民调解协议效力决定书", head + "经审查，该调解协议符合司法确认的条件。\n\n决定如下：\n确认上述人民调解协议有效。当事人应当按照调解协议的约定履行；一方拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。\n" +
			extraReason(reason) + "\n审判员：" + judge + "\n" + date
	}
	return "驳回司法确认申请决定书", head + "经审查，该调解协议不符合司法确认的条件。\n\n决定如下：\n驳回司法确认申请。\n\n理由：\n" + reason +
		"\n\n当事人可以通过调解方式变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼。\n\n审判员：" + judge + "\n" + date
}

func extraReason(r string) string {
	if r == "" {
		return ""
	}
	return "\n说明：" + r + "\n"
}

// scheduleConfirmation: the judge schedules a video session with the parties, an
// ordinary session of kind confirmation of the case, hosted by the judge.
func (d *confirmations) scheduleConfirmation(w http.ResponseWriter, r *http.Request, a *actor) error {
	cf, c, err := d.confirmation(r, a)
	if err != nil {
		return err
	}
	if cf.Judge != a.Username {
		return errf(http.StatusForbidden, "forbidden", "only the judge asked may schedule the hearing")
	}
	var req struct {
		ScheduledAt string `json:"scheduled_at"`
		Title       string `json:"title"`
	}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	var sched time.Time
	if req.ScheduledAt != "" {
		if sched, err = time.Parse(time.RFC3339, req.ScheduledAt); err != nil {
			return badRequest("scheduled_at must be an RFC 3339 time")
		}
	}
	title := strings.TrimSpace(req.Title)
	if title == "" {
		title = "司法确认"
	}
	if err := checkLen("title", title, 200); err != nil {
		return err
	}
	ctx := r.Context()
	se, err := d.st.CreateSession(ctx, store.Session{CaseID: c.ID, Kind: "confirmation", Title: title, ScheduledAt: sched,
		Room: "s-" + randomCode(10), Hosts: []string{a.Username}, RecordOnOpen: true, CreatedBy: a.Username})
	if err != nil {
		return err
	}
	if err := d.st.SetConfirmationSession(ctx, cf.ID, se.ID); err != nil {
		return err
	}
	if doc, err := d.st.Document(ctx, cf.DocID); err == nil {
		d.event(ctx, doc, "confirmation_session", a.Username, fmtDetail("confirmation", cf.ID, "session", se.ID))
	}
	writeJSON(w, http.StatusCreated, sessionView(se, c))
	return nil
}

// confirmationFile serves one (unrestricted) file of the case folder to the judge asked,
// whatever their tier: the recordings they review. Every view goes into the custody log.
func (d *confirmations) confirmationFile(w http.ResponseWriter, r *http.Request, a *actor) error {
	_, c, err := d.confirmation(r, a)
	if err != nil {
		return err
	}
	if d.dataDir == "" {
		return errNoCaseFiles
	}
	return serveCaseFile(w, r, a, d.dataDir, recording.CaseFolder(c.ID, c.Number), r.PathValue("path"), false)
}
