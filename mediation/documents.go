package mediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yizhan/recording"
	"yizhan/store"
)

// The session's outcome as documents (issue 10): the minutes and the mediation agreement
// drafted live in the console, read by the parties on their own screens, signed by hand
// on a phone, sealed into the case file as PDF, and sent to a judge for confirmation.
//

// DocumentsConfig configures the documents part of the domain.
type DocumentsConfig struct {
	// DataDir holds the case files; sealed documents go to
	// <DataDir>/cases/<case folder>/documents/<document folder>/. "" = documents can be
	// drafted and signed but not sealed (the PDF endpoints answer 503).
	DataDir string
	// Key signs the sealed documents' manifests (the server key of the case files).
	Key *recording.Signer
	// PDFFont is a TrueType font with Chinese glyphs ("" = docpdf.DefaultFont).
	PDFFont string
	// SMSWebhook receives POST {"phone","text"} for one-time codes to a party's phone on
	// file; "" = no SMS: the mediator attests the signer's identity instead.
	SMSWebhook string
	// HTTPClient posts to SMSWebhook (nil = a client with a 10 s timeout).
	HTTPClient *http.Client
}

// The documents part of the domain is split by job; each part holds only what it needs:
//
//	docCore       documents.go     the store, who may see which document, timeline events
//	docDrafts     documents_api.go drafting, versions, sending for signature, show, void
//	docSigning    signing.go       signatures of staff and invitees, one-time codes by SMS,
//	              docjoin.go       and what an invitee reads of the case's documents
//	docSealer     docseal.go       the sealed folder and PDF in the case file, downloads
//	confirmations confirmation.go  judicial confirmation: requests, the judge's queue, decisions
//	docTemplates  doctemplates.go  templates per kind and category, the centres' seal images
//
// documents only wires them together and registers their routes.
type documents struct {
	drafts   *docDrafts
	signing  *docSigning
	sealer   *docSealer
	confirms *confirmations
	tpl      *docTemplates
}

// docCore is what every part of the documents shares. It uses the Service for who the
// caller is and what they can see, for timeline events, and for the live rooms (who is
// in which space), and nothing else of it. Static after construction.
type docCore struct {
	svc *Service
	st  store.Store
}

func newDocuments(svc *Service, cfg DocumentsConfig) *documents {
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	core := &docCore{svc: svc, st: svc.st}
	tpl := &docTemplates{docCore: core}
	sealer := &docSealer{docCore: core, dataDir: cfg.DataDir, key: cfg.Key, pdfFont: cfg.PDFFont}
	return &documents{
		drafts: &docDrafts{docCore: core, tpl: tpl},
		signing: &docSigning{docCore: core, sealer: sealer, smsWebhook: cfg.SMSWebhook, http: c,
			sms: newLimiter(3, 10*time.Minute)},
		sealer:   sealer,
		confirms: &confirmations{docCore: core, sealer: sealer, dataDir: cfg.DataDir, key: cfg.Key},
		tpl:      tpl,
	}
}

// routes registers every documents endpoint (docs/API.md, "Documents").
func (d *documents) routes(m *http.ServeMux) {
	s := d.drafts.svc
	dr, sg, sl, cf, tp := d.drafts, d.signing, d.sealer, d.confirms, d.tpl
	m.Handle("POST /api/cases/{id}/documents", s.staff(dr.create))
	m.Handle("GET /api/cases/{id}/documents", s.staff(dr.list))
	m.Handle("GET /api/documents/{id}", s.staff(dr.get))
	m.Handle("GET /api/documents/{id}/versions", s.staff(dr.versions))
	m.Handle("PUT /api/documents/{id}", s.staff(dr.edit))
	m.Handle("POST /api/documents/{id}/send", s.staff(dr.send))
	m.Handle("POST /api/documents/{id}/attest", s.staff(dr.attest))
	m.Handle("POST /api/documents/{id}/show", s.staff(dr.show))
	m.Handle("POST /api/documents/{id}/void", s.staff(dr.void))
	m.Handle("POST /api/documents/{id}/sign", s.staff(sg.staffSign))
	m.Handle("GET /api/documents/{id}/pdf", s.staff(sl.staffPDF))
	m.Handle("POST /api/documents/{id}/confirmation", s.staff(cf.requestConfirmation))

	m.Handle("GET /api/join/{code}/documents", s.open(sg.inviteeList))
	m.Handle("POST /api/join/{code}/documents/{id}/otp", s.open(sg.inviteeOTP))
	m.Handle("POST /api/join/{code}/documents/{id}/sign", s.open(sg.inviteeSign))
	m.Handle("GET /api/join/{code}/documents/{id}/pdf", s.open(sl.inviteePDF))
	m.Handle("POST /api/join/{code}/documents/{id}/confirmation", s.open(cf.inviteeConfirmation))

	m.Handle("GET /api/confirmations", s.staff(cf.queue))
	m.Handle("GET /api/confirmations/{id}", s.staff(cf.confirmationDetail))
	m.Handle("GET /api/confirmations/{id}/file/{path...}", s.staff(cf.confirmationFile))
	m.Handle("POST /api/confirmations/{id}/decision", s.staff(cf.decide))
	m.Handle("POST /api/confirmations/{id}/session", s.staff(cf.scheduleConfirmation))

	m.Handle("GET /api/document-templates", s.staff(tp.templates))
	m.Handle("PUT /api/document-templates/{kind}/{category}", s.staff(tp.putTemplate))
	m.Handle("GET /api/centres/{code}/seal", s.staff(tp.sealImage))
	m.Handle("PUT /api/centres/{code}/seal", s.staff(tp.putSealImage))
}

// canonicalText is what a version's fingerprint covers: the kind, the title and the body
// with line ends normalised to \n, trailing spaces of every line and trailing blank
// lines removed, so that the same words always give the same SHA-256 whatever browser
// or editor typed them.
func canonicalText(kind, title, body string) string {
	norm := func(s string) string {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t\u3000")
		}
		return strings.TrimRight(strings.Join(lines, "\n"), "\n")
	}
	return "yizhan-document/1\nkind: " + kind + "\ntitle: " + strings.TrimSpace(norm(title)) + "\n\n" + norm(body) + "\n"
}

func fingerprint(kind, title, body string) string {
	h := sha256.Sum256([]byte(canonicalText(kind, title, body)))
	return hex.EncodeToString(h[:])
}

// docSubject is the Subject of a document's timeline events: how its folder's event log
// finds them.
func docSubject(id int64) string { return "document:" + strconv.FormatInt(id, 10) }

// event records one step of a document in the case timeline (and, through it, in the
// session's case-file log when the document belongs to a live session), and tells the
// consoles that can see the case.
func (d *docCore) event(ctx context.Context, doc store.Document, kind, actor, detail string) {
	d.svc.caseEvent(ctx, store.Event{CaseID: doc.CaseID, Kind: kind, Actor: actor, SessionID: doc.SessionID,
		Subject: docSubject(doc.ID), Detail: detail})
	d.svc.emit(event{name: "document", caseCentre: d.svc.centreOfCase(ctx, doc.CaseID), data: map[string]any{
		"document_id": doc.ID, "case_id": doc.CaseID, "kind": kind}})
}

// staffDoc resolves {id} to a document of a case the actor can see (else 404); a judge
// asked to confirm it may read it too.
func (d *docCore) staffDoc(r *http.Request, a *actor) (store.Document, store.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Document{}, store.Case{}, err
	}
	ctx := r.Context()
	doc, err := d.st.Document(ctx, id)
	if err != nil {
		return doc, store.Case{}, notFoundOr(err, "document")
	}
	c, err := d.st.Case(ctx, doc.CaseID)
	if err != nil {
		return doc, c, err
	}
	ok, err := d.svc.canSee(ctx, a, c.Centre)
	if err != nil {
		return doc, c, err
	}
	if !ok && !d.judgeOf(ctx, a, doc.ID) {
		return doc, c, notFound("document")
	}
	return doc, c, nil
}

// editableDoc is staffDoc for those who may draft: editors of the case's centre.
func (d *docCore) editableDoc(r *http.Request, a *actor) (store.Document, store.Case, error) {
	doc, c, err := d.staffDoc(r, a)
	if err != nil {
		return doc, c, err
	}
	if ok, err := d.svc.canSee(r.Context(), a, c.Centre); err != nil || !ok {
		return doc, c, errForbidden // a judge reads, but does not draft
	}
	if !a.editor() {
		return doc, c, errForbidden
	}
	return doc, c, nil
}

// judgeOf: a is the judge of a confirmation request of document id.
func (d *docCore) judgeOf(ctx context.Context, a *actor, id int64) bool {
	if !a.Has("judge") {
		return false
	}
	cs, err := d.st.Confirmations(ctx, a.Username, id)
	return err == nil && len(cs) > 0
}

// view renders doc with its signers; invitation codes only for editors (a code is the
// invitee's key).
func (d *docCore) view(ctx context.Context, doc store.Document, c store.Case, codes bool) (docJSON, error) {
	v := docJSON{ID: doc.ID, Case: doc.CaseID, CaseNumber: c.Number, Session: doc.SessionID, Kind: doc.Kind, Title: doc.Title,
		Body: doc.Body, Version: doc.Version, SHA256: doc.SHA256, State: doc.State, ShownSpace: doc.ShownSpace,
		SealedAt: jsonTime(doc.SealedAt), PDFSHA256: doc.PDFSHA256, CreatedBy: doc.CreatedBy, CreatedAt: jsonTime(doc.CreatedAt),
		UpdatedAt: jsonTime(doc.UpdatedAt), Signers: []signerJSON{}}
	sgs, err := d.st.Signers(ctx, doc.ID)
	if err != nil {
		return v, err
	}
	for _, sg := range sgs {
		code := ""
		if codes && sg.InvitationID != 0 {
			if inv, err := d.st.InvitationByID(ctx, sg.InvitationID); err == nil {
				code = inv.Code
			}
		}
		v.Signers = append(v.Signers, signerView(sg, code))
	}
	return v, nil
}

// currentSigner finds the signer of doc's current version that match picks.
func (d *docCore) currentSigner(ctx context.Context, doc store.Document, match func(store.Signer) bool) (store.Signer, bool, error) {
	sgs, err := d.st.Signers(ctx, doc.ID)
	if err != nil {
		return store.Signer{}, false, err
	}
	for _, sg := range sgs {
		if sg.Version == doc.Version && sg.VoidAt.IsZero() && match(sg) {
			return sg, true, nil
		}
	}
	return store.Signer{}, false, nil
}

func (d *docCore) now() time.Time { return d.svc.now() }

// invitee resolves {code} and {id} to the invitation, its case, and a document of that
// case (else 404).
func (d *docCore) invitee(r *http.Request) (store.Invitation, store.Session, store.Case, store.Document, error) {
	inv, se, c, err := d.svc.join.validInvitation(r, r.PathValue("code"))
	if err != nil {
		return inv, se, c, store.Document{}, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return inv, se, c, store.Document{}, err
	}
	doc, err := d.st.Document(r.Context(), id)
	if err != nil || doc.CaseID != c.ID {
		return inv, se, c, doc, notFound("document")
	}
	return inv, se, c, doc, nil
}

// signerRows are every row (any version, void or not) of invitation inv on doc.
func (d *docCore) signerRows(ctx context.Context, doc store.Document, invID int64) ([]store.Signer, error) {
	all, err := d.st.Signers(ctx, doc.ID)
	if err != nil {
		return nil, err
	}
	var out []store.Signer
	for _, sg := range all {
		if sg.InvitationID == invID {
			out = append(out, sg)
		}
	}
	return out, nil
}

// shownTo: doc's live text is shown in the space where the invitee is now.
func (d *docCore) shownTo(doc store.Document, inv store.Invitation, se store.Session) bool {
	if doc.ShownSpace == "" || doc.SessionID != inv.SessionID || (doc.State != "draft" && doc.State != "signing") {
		return false
	}
	p, ok := d.svc.participant(se.Room, guestIdentity(inv.ID))
	return ok && p.Space == doc.ShownSpace && p.Attributes["lobby"] != "1"
}

// confirmationView renders a request for the judge's pages and, with a decision, for the
// invitee's list of documents.
func (d *docCore) confirmationView(ctx context.Context, cf store.Confirmation) confirmationJSON {
	v := confirmationJSON{ID: cf.ID, Document: cf.DocID, Case: cf.CaseID, Judge: cf.Judge, RequestedBy: cf.RequestedBy,
		RequestedAt: jsonTime(cf.RequestedAt), State: cf.State, Reason: cf.Reason, DecidedAt: jsonTime(cf.DecidedAt),
		Session: cf.SessionID, DecisionDoc: cf.DecisionDocID, AgreementPDF: fmt.Sprintf("/api/documents/%d/pdf", cf.DocID)}
	if doc, err := d.st.Document(ctx, cf.DocID); err == nil {
		v.DocTitle, v.DocSHA256 = doc.Title, doc.SHA256
		v.Late = !doc.SealedAt.IsZero() && cf.RequestedAt.Sub(doc.SealedAt) > confirmationWindow
	}
	if c, err := d.st.Case(ctx, cf.CaseID); err == nil {
		v.CaseNumber, v.CaseTitle = c.Number, c.Title
	}
	if st, err := d.st.Staff(ctx, cf.Judge); err == nil {
		v.JudgeName = st.Name
	}
	return v
}

func notFoundOr(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(what)
	}
	return err
}

// conflict maps the store's stale-version error to 409 with the current version.
func staleOr(err error) error {
	if errors.Is(err, store.ErrStale) {
		return errf(http.StatusConflict, "stale_version", "%s", trimSentinel(err, store.ErrStale))
	}
	return err
}

// signerRole is how a signer is printed on the document.
func signerRole(role, side string) string {
	switch {
	case role == "party" && side == "applicant":
		return "申请人"
	case role == "party" && side == "respondent":
		return "被申请人"
	case role == "agent":
		return "代理人"
	case role == "mediator":
		return "人民调解员"
	case role == "judge":
		return "审判员"
	case role == "clerk":
		return "书记员"
	}
	return role
}

func fmtDetail(kv ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v=%v", kv[i], kv[i+1])
	}
	return b.String()
}
