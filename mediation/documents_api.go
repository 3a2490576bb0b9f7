package mediation

import (
	"context"
	"net/http"
	"strings"

	"yizhan/store"
)

// Staff endpoints of the documents: draft, edit (a new version), send for signature,
// show in a space of the live session, void. Staff who can see the case read; editors
// (mediator, leader, clerk, admin) of the case's centre or above draft.

// docDrafts drafts documents and sends them for signature. Static after construction.
type docDrafts struct {
	*docCore
	tpl *docTemplates // fills a new document's body
}

type signerJSON struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Role         string  `json:"role"`
	Side         string  `json:"side,omitempty"`
	Invitation   string  `json:"invitation,omitempty"` // the code, to editors only
	InvitationID int64   `json:"invitation_id,omitempty"`
	Username     string  `json:"username,omitempty"`
	Version      int     `json:"version"`
	SignedAt     *string `json:"signed_at"`
	SHA256       string  `json:"sha256,omitempty"`
	Evidence     string  `json:"evidence,omitempty"`
	AttestedBy   string  `json:"attested_by,omitempty"`
	Still        bool    `json:"still,omitempty"` // a still frame from the camera came with the signature
	VoidAt       *string `json:"void_at,omitempty"`
	VoidReason   string  `json:"void_reason,omitempty"`
}

type docJSON struct {
	ID         int64        `json:"id"`
	Case       int64        `json:"case"`
	CaseNumber string       `json:"case_number"`
	Session    int64        `json:"session,omitempty"`
	Kind       string       `json:"kind"`
	Title      string       `json:"title"`
	Body       string       `json:"body"`
	Version    int          `json:"version"`
	SHA256     string       `json:"sha256"`
	State      string       `json:"state"`
	ShownSpace string       `json:"shown_space,omitempty"`
	SealedAt   *string      `json:"sealed_at"`
	PDFSHA256  string       `json:"pdf_sha256,omitempty"`
	CreatedBy  string       `json:"created_by"`
	CreatedAt  *string      `json:"created_at"`
	UpdatedAt  *string      `json:"updated_at"`
	Signers    []signerJSON `json:"signers"`
}

func signerView(sg store.Signer, code string) signerJSON {
	v := signerJSON{ID: sg.ID, Name: sg.Name, Role: sg.Role, Side: sg.Side, Invitation: code, InvitationID: sg.InvitationID,
		Username: sg.Username, Version: sg.Version, SignedAt: jsonTime(sg.SignedAt), Evidence: sg.Evidence,
		AttestedBy: sg.AttestedBy, VoidReason: sg.VoidReason, Still: len(sg.Still) > 0}
	if !sg.SignedAt.IsZero() {
		v.SHA256 = sg.SHA256
	}
	if !sg.VoidAt.IsZero() {
		v.VoidAt = jsonTime(sg.VoidAt)
	}
	return v
}

type createDocReq struct {
	Kind     string `json:"kind"`
	Template string `json:"template"` // a category's template ("" = the case's category, else generic)
	Title    string `json:"title"`
	Body     string `json:"body"`
	Session  int64  `json:"session"` // the session it is drafted in (0 = none)
}

const maxDocBody = 60000

func (d *docDrafts) create(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req createDocReq
	c, err := d.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch {
	case req.Kind == "confirmation":
		return badRequest("a confirmation is made by the judge's decision (POST /api/confirmations/{id}/decision)")
	case !store.OneOf(req.Kind, store.DocKinds):
		return badRequest("kind must be minutes or agreement")
	}
	if err := checkLen("title", req.Title, 200); err != nil {
		return err
	}
	if err := checkLen("body", req.Body, maxDocBody); err != nil {
		return err
	}
	if req.Session != 0 {
		se, err := d.st.Session(ctx, req.Session)
		if err != nil || se.CaseID != c.ID {
			return badRequest("session %d is not a session of this case", req.Session)
		}
	}
	title, body := strings.TrimSpace(req.Title), req.Body
	if strings.TrimSpace(body) == "" {
		t, err := d.tpl.template(ctx, req.Kind, req.Template, c.Category)
		if err != nil {
			return err
		}
		body = d.tpl.fill(ctx, t.Body, c)
		if title == "" {
			title = t.Title
		}
	}
	if title == "" {
		title = map[string]string{"minutes": "调解笔录", "agreement": "人民调解协议书"}[req.Kind]
	}
	doc, err := d.st.CreateDocument(ctx, store.Document{CaseID: c.ID, SessionID: req.Session, Kind: req.Kind, Title: title, Body: body,
		SHA256: fingerprint(req.Kind, title, body), CreatedBy: a.Username})
	if err != nil {
		return err
	}
	d.event(ctx, doc, "document_created", a.Username, fmtDetail("kind", doc.Kind, "version", 1, "sha256", doc.SHA256))
	v, err := d.view(ctx, doc, c, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (d *docDrafts) list(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := d.svc.visibleCase(ctx, a, id)
	if err != nil {
		return err
	}
	docs, err := d.st.ListDocuments(ctx, c.ID)
	if err != nil {
		return err
	}
	out := []docJSON{}
	for _, doc := range docs {
		v, err := d.view(ctx, doc, c, a.editor())
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": out})
	return nil
}

func (d *docDrafts) get(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, c, err := d.staffDoc(r, a)
	if err != nil {
		return err
	}
	v, err := d.view(r.Context(), doc, c, a.editor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (d *docDrafts) versions(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.staffDoc(r, a)
	if err != nil {
		return err
	}
	vs, err := d.st.DocVersions(r.Context(), doc.ID)
	if err != nil {
		return err
	}
	type versionJSON struct {
		Version   int     `json:"version"`
		Title     string  `json:"title"`
		Body      string  `json:"body"`
		SHA256    string  `json:"sha256"`
		Author    string  `json:"author"`
		CreatedAt *string `json:"created_at"`
	}
	out := []versionJSON{}
	for _, v := range vs {
		out = append(out, versionJSON{v.Version, v.Title, v.Body, v.SHA256, v.Author, jsonTime(v.CreatedAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
	return nil
}

type editDocReq struct {
	Title   *string `json:"title"`
	Body    *string `json:"body"`
	Version int     `json:"version"` // the version edited (0 = whatever is current)
}

func (d *docDrafts) edit(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, c, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req editDocReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Title == nil && req.Body == nil {
		return badRequest("nothing to change: give title and/or body")
	}
	title, body := doc.Title, doc.Body
	if req.Title != nil {
		title = strings.TrimSpace(*req.Title)
	}
	if req.Body != nil {
		body = *req.Body
	}
	if title == "" {
		return badRequest("title is required")
	}
	if err := checkLen("title", title, 200); err != nil {
		return err
	}
	if err := checkLen("body", body, maxDocBody); err != nil {
		return err
	}
	ctx := r.Context()
	doc, voided, err := d.st.EditDocument(ctx, doc.ID, req.Version, title, body, fingerprint(doc.Kind, title, body), a.Username)
	if err != nil {
		return staleOr(err)
	}
	d.event(ctx, doc, "document_edited", a.Username, fmtDetail("version", doc.Version, "sha256", doc.SHA256))
	for _, sg := range voided {
		d.event(ctx, doc, "document_signature_void", a.Username, fmtDetail("signer", sg.Name, "version", sg.Version, "reason", "edited"))
	}
	v, err := d.view(ctx, doc, c, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		docJSON
		Voided int `json:"voided"`
	}{v, len(voided)})
	return nil
}

type signerReq struct {
	Invitation string `json:"invitation"`
	Username   string `json:"username"`
	Attest     bool   `json:"attest"` // the sender attests this invitee's identity (no SMS)
}

type sendReq struct {
	Signers []signerReq `json:"signers"`
	Version int         `json:"version"` // the version sent (0 = the current one)
}

func (d *docDrafts) send(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, c, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req sendReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if len(req.Signers) == 0 || len(req.Signers) > 20 {
		return badRequest("signers: 1 to 20 of {invitation: CODE} or {username: U}")
	}
	ctx := r.Context()
	var sgs []store.Signer
	seen := map[string]bool{}
	for _, sr := range req.Signers {
		sg, err := d.resolveSigner(ctx, c, sr)
		if err != nil {
			return err
		}
		if sr.Attest {
			sg.AttestedBy = a.Username
		}
		if k := sr.Invitation + "\x00" + sr.Username; seen[k] {
			return badRequest("signer %s%s is listed twice", sr.Invitation, sr.Username)
		} else {
			seen[k] = true
		}
		sgs = append(sgs, sg)
	}
	doc, cur, err := d.st.SendDocument(ctx, doc.ID, req.Version, sgs)
	if err != nil {
		return staleOr(err)
	}
	names := make([]string, 0, len(cur))
	for _, sg := range cur {
		names = append(names, sg.Name)
	}
	d.event(ctx, doc, "document_sent", a.Username, fmtDetail("version", doc.Version, "sha256", doc.SHA256, "signers", strings.Join(names, ",")))
	v, err := d.view(ctx, doc, c, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// resolveSigner turns {invitation} or {username} into a signer of case c: an invitation
// to one of the case's sessions, or an active staff account.
func (d *docDrafts) resolveSigner(ctx context.Context, c store.Case, sr signerReq) (store.Signer, error) {
	switch {
	case (sr.Invitation == "") == (sr.Username == ""):
		return store.Signer{}, badRequest("each signer is {invitation: CODE} or {username: U}")
	case sr.Invitation != "":
		inv, err := d.st.Invitation(ctx, sr.Invitation)
		if err != nil {
			return store.Signer{}, badRequest("invitation %q is unknown", sr.Invitation)
		}
		se, err := d.st.Session(ctx, inv.SessionID)
		if err != nil || se.CaseID != c.ID {
			return store.Signer{}, badRequest("invitation %q is not for a session of this case", sr.Invitation)
		}
		if inv.Revoked {
			return store.Signer{}, badRequest("invitation %q was revoked", sr.Invitation)
		}
		sg := store.Signer{InvitationID: inv.ID, Name: inv.Name, Role: inv.Role, Side: inv.Side}
		for _, p := range c.Parties {
			if p.ID == inv.PartyID {
				sg.Phone = p.Phone
			}
		}
		return sg, nil
	default:
		st, err := d.st.Staff(ctx, sr.Username)
		if err != nil || st.Disabled {
			return store.Signer{}, badRequest("staff %q is unknown", sr.Username)
		}
		role := "mediator"
		for _, r := range []string{"mediator", "judge", "clerk", "leader", "lawyer", "counsellor"} {
			if st.Has(r) {
				role = r
				break
			}
		}
		return store.Signer{Username: st.Username, Name: st.Name, Role: role}, nil
	}
}

func (d *docDrafts) attest(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req struct {
		Invitation string `json:"invitation"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	inv, err := d.st.Invitation(ctx, req.Invitation)
	if err != nil {
		return badRequest("invitation %q is unknown", req.Invitation)
	}
	sg, ok, err := d.currentSigner(ctx, doc, func(sg store.Signer) bool { return sg.InvitationID == inv.ID })
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("%s is not a signer of version %d", inv.Name, doc.Version)
	}
	if err := d.st.AttestSigner(ctx, sg.ID, a.Username); err != nil {
		return err
	}
	d.event(ctx, doc, "document_identity_attested", a.Username, fmtDetail("signer", sg.Name, "invitation", inv.ID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (d *docDrafts) show(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req struct {
		Space   string `json:"space"`   // "joint", a caucus space, or "" to stop showing
		Session int64  `json:"session"` // the live session, when the document has none yet
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := checkLen("space", req.Space, 64); err != nil {
		return err
	}
	if doc.SessionID == 0 && req.Space != "" {
		return badRequest("the document belongs to no session: create it with session")
	}
	if doc.State == "sealed" || doc.State == "void" {
		return errf(http.StatusConflict, "illegal_transition", "a %s document is not shown live", doc.State)
	}
	ctx := r.Context()
	if err := d.st.ShowDocument(ctx, doc.ID, req.Space); err != nil {
		return err
	}
	d.event(ctx, doc, "document_shown", a.Username, fmtDetail("space", req.Space, "version", doc.Version))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (d *docDrafts) void(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.editableDoc(r, a)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest("a reason is required")
	}
	if err := checkLen("reason", req.Reason, 2000); err != nil {
		return err
	}
	ctx := r.Context()
	if doc.State == "sealed" || doc.State == "void" {
		return errf(http.StatusConflict, "illegal_transition", "a %s document cannot be voided", doc.State)
	}
	if err := d.st.SetDocState(ctx, doc.ID, doc.State, "void"); err != nil { // conditional: a signature may have sealed it meanwhile
		return err
	}
	_ = d.st.ShowDocument(ctx, doc.ID, "")
	d.event(ctx, doc, "document_void", a.Username, fmtDetail("reason", req.Reason))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
