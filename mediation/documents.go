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
// Files: documents.go (the type, routes, fingerprints), documents_api.go (staff),
// signing.go (signers, invitees, one-time codes), docseal.go (PDF into the case file),
// confirmation.go (judicial confirmation), doctemplates.go (templates, seal images).

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

// documents is the documents part of the domain. It uses the Service for who the caller
// is and what they can see, for timeline events, and for the live rooms (who is in which
// space), and nothing else of it.
type documents struct {
	svc  *Service // static after construction
	cfg  DocumentsConfig
	st   store.Store
	http *http.Client
	sms  *limiter // one-time codes sent per signer: at most 3 in 10 minutes
}

func newDocuments(svc *Service, cfg DocumentsConfig) *documents {
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	return &documents{svc: svc, cfg: cfg, st: svc.st, http: c, sms: newLimiter(3, 10*time.Minute)}
}

// routes registers every documents endpoint (docs/API.md, "Documents").
func (d *documents) routes(m *http.ServeMux) {
	s := d.svc
	m.Handle("POST /api/cases/{id}/documents", s.staff(d.create))
	m.Handle("GET /api/cases/{id}/documents", s.staff(d.list))
	m.Handle("GET /api/documents/{id}", s.staff(d.get))
	m.Handle("GET /api/documents/{id}/versions", s.staff(d.versions))
	m.Handle("PUT /api/documents/{id}", s.staff(d.edit))
	m.Handle("POST /api/documents/{id}/send", s.staff(d.send))
	m.Handle("POST /api/documents/{id}/attest", s.staff(d.attest))
	m.Handle("POST /api/documents/{id}/show", s.staff(d.show))
	m.Handle("POST /api/documents/{id}/void", s.staff(d.void))
	m.Handle("POST /api/documents/{id}/sign", s.staff(d.staffSign))
	m.Handle("GET /api/documents/{id}/pdf", s.staff(d.staffPDF))
	m.Handle("POST /api/documents/{id}/confirmation", s.staff(d.requestConfirmation))

	m.Handle("GET /api/join/{code}/documents", s.open(d.inviteeList))
	m.Handle("POST /api/join/{code}/documents/{id}/otp", s.open(d.inviteeOTP))
	m.Handle("POST /api/join/{code}/documents/{id}/sign", s.open(d.inviteeSign))
	m.Handle("GET /api/join/{code}/documents/{id}/pdf", s.open(d.inviteePDF))
	m.Handle("POST /api/join/{code}/documents/{id}/confirmation", s.open(d.inviteeConfirmation))

	m.Handle("GET /api/confirmations", s.staff(d.queue))
	m.Handle("GET /api/confirmations/{id}", s.staff(d.confirmationDetail))
	m.Handle("GET /api/confirmations/{id}/file/{path...}", s.staff(d.confirmationFile))
	m.Handle("POST /api/confirmations/{id}/decision", s.staff(d.decide))
	m.Handle("POST /api/confirmations/{id}/session", s.staff(d.scheduleConfirmation))

	m.Handle("GET /api/document-templates", s.staff(d.templates))
	m.Handle("PUT /api/document-templates/{kind}/{category}", s.staff(d.putTemplate))
	m.Handle("GET /api/centres/{code}/seal", s.staff(d.sealImage))
	m.Handle("PUT /api/centres/{code}/seal", s.staff(d.putSealImage))
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
func (d *documents) event(ctx context.Context, doc store.Document, kind, actor, detail string) {
	d.svc.caseEvent(ctx, store.Event{CaseID: doc.CaseID, Kind: kind, Actor: actor, SessionID: doc.SessionID,
		Subject: docSubject(doc.ID), Detail: detail})
	d.svc.emit(event{name: "document", caseCentre: d.svc.centreOfCase(ctx, doc.CaseID), data: map[string]any{
		"document_id": doc.ID, "case_id": doc.CaseID, "kind": kind}})
}

// staffDoc resolves {id} to a document of a case the actor can see (else 404); a judge
// asked to confirm it may read it too.
func (d *documents) staffDoc(r *http.Request, a *actor) (store.Document, store.Case, error) {
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
func (d *documents) editableDoc(r *http.Request, a *actor) (store.Document, store.Case, error) {
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
func (d *documents) judgeOf(ctx context.Context, a *actor, id int64) bool {
	if !a.Has("judge") {
		return false
	}
	cs, err := d.st.Confirmations(ctx, a.Username, id)
	return err == nil && len(cs) > 0
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
