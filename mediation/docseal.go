package mediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"yizhan/docpdf"
	"yizhan/recording"
	"yizhan/store"
)

// Sealing: when every required signature is in, the document is rendered to PDF and
// written into the case file under documents/<folder>/ with its canonical text, the
// signature records and images, and an event log of every step taken from the case
// timeline; the folder's manifest lists each file with SHA-256 and SM3 and is signed with
// the server key. `yizhan verify` checks it with the rest of the case file.

// docSealer writes sealed documents into the case file and serves their PDFs. Static
// after construction.
type docSealer struct {
	*docCore
	dataDir string            // DocumentsConfig.DataDir ("" = nothing is sealed: 503)
	key     *recording.Signer // signs the sealed folders' manifests
	pdfFont string            // DocumentsConfig.PDFFont
}

var errNoCaseFiles = errf(http.StatusServiceUnavailable, "no_case_files", "sealed documents are not enabled on this server (no data folder or key)")

// docFolder names a document's sealed folder: one per sealed version.
func docFolder(doc store.Document) string {
	return fmt.Sprintf("d%d-%s-v%d", doc.ID, doc.Kind, doc.Version)
}

func pdfName(doc store.Document) string { return fmt.Sprintf("%s-v%d.pdf", doc.Kind, doc.Version) }

// signatureRecord is one line of signatures.json in the sealed folder.
type signatureRecord struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Side        string `json:"side,omitempty"`
	Invitation  int64  `json:"invitation_id,omitempty"`
	Username    string `json:"username,omitempty"`
	SignedAt    string `json:"signed_at"`
	Version     int    `json:"version"`
	SHA256      string `json:"sha256"`
	Addr        string `json:"addr"`
	UserAgent   string `json:"user_agent"`
	Evidence    string `json:"evidence"`
	Image       string `json:"image"` // file name in the folder
	ImageSHA256 string `json:"image_sha256"`
	Still       string `json:"still,omitempty"`
}

// seal writes the sealed folder of document id (idempotent: a sealed folder is kept).
func (d *docSealer) seal(ctx context.Context, id int64) error {
	if d.dataDir == "" || d.key == nil {
		return errNoCaseFiles
	}
	doc, err := d.st.Document(ctx, id)
	if err != nil {
		return err
	}
	if doc.State != "sealed" {
		return fmt.Errorf("document %d is %s, not sealed", id, doc.State)
	}
	if doc.SealedFolder != "" {
		return nil
	}
	c, err := d.st.Case(ctx, doc.CaseID)
	if err != nil {
		return err
	}
	centre, _ := d.st.Centre(ctx, c.Centre)
	sgs, err := d.st.Signers(ctx, doc.ID)
	if err != nil {
		return err
	}
	folder := docFolder(doc)
	pd := docpdf.Doc{Title: doc.Title, CaseNumber: c.Number, Centre: centre.Name, Body: doc.Body, Version: doc.Version,
		Fingerprint: doc.SHA256, SealedAt: doc.SealedAt}
	for _, p := range c.Parties {
		pd.Parties = append(pd.Parties, signerRole("party", p.Side)+"："+p.Name)
	}
	if seal, err := d.st.SealImage(ctx, c.Centre); err == nil {
		pd.Seal = seal
	}
	files := []recording.DocFile{{Name: "text.txt", Data: []byte(canonicalText(doc.Kind, doc.Title, doc.Body))}}
	var recs []signatureRecord
	for _, sg := range sgs {
		if sg.Version != doc.Version || !sg.VoidAt.IsZero() || sg.SignedAt.IsZero() {
			continue
		}
		n := len(recs) + 1
		h := sha256.Sum256(sg.Image)
		rec := signatureRecord{Name: sg.Name, Role: sg.Role, Side: sg.Side, Invitation: sg.InvitationID, Username: sg.Username,
			SignedAt: *jsonTime(sg.SignedAt), Version: sg.Version, SHA256: sg.SHA256, Addr: sg.Addr, UserAgent: sg.UserAgent,
			Evidence: sg.Evidence, Image: fmt.Sprintf("signature-%d.png", n), ImageSHA256: hex.EncodeToString(h[:])}
		files = append(files, recording.DocFile{Name: rec.Image, Data: sg.Image})
		if len(sg.Still) > 0 {
			rec.Still = fmt.Sprintf("still-%d.png", n)
			files = append(files, recording.DocFile{Name: rec.Still, Data: sg.Still})
		}
		recs = append(recs, rec)
		pd.Signatures = append(pd.Signatures, docpdf.Signature{Name: sg.Name, Role: signerRole(sg.Role, sg.Side), Time: sg.SignedAt,
			PNG: sg.Image, Evidence: evidenceText(sg.Evidence)})
	}
	pdf, err := docpdf.Render(pd, d.pdfFont)
	if err != nil {
		return err
	}
	sj, _ := json.MarshalIndent(recs, "", "  ")
	files = append(files, recording.DocFile{Name: "signatures.json", Data: append(sj, '\n')}, recording.DocFile{Name: pdfName(doc), Data: pdf})
	tl, err := d.st.Timeline(ctx, doc.CaseID)
	if err != nil {
		return err
	}
	var evs []recording.Event
	for _, e := range tl {
		if e.Subject == docSubject(doc.ID) {
			evs = append(evs, recording.Event{Time: e.Time, Kind: e.Kind, Actor: e.Actor, Subject: e.Subject, Detail: map[string]string{"detail": e.Detail}})
		}
	}
	meta := recording.DocMeta{Case: recording.CaseFolder(c.ID, c.Number), Folder: folder, Title: doc.Title, Kind: doc.Kind, Centre: c.Centre}
	_, err = recording.SealDocument(d.dataDir, meta, files, evs, d.key)
	if err != nil && !errors.Is(err, recording.ErrDocumentExists) {
		return err
	}
	sum := sha256.Sum256(pdf)
	pdfSHA := hex.EncodeToString(sum[:])
	if errors.Is(err, recording.ErrDocumentExists) { // another request sealed it first: take its PDF's hash
		if pdfSHA, err = d.sealedPDFHash(meta.Case, folder, pdfName(doc)); err != nil {
			return err
		}
	}
	if err := d.st.SetSealedFile(ctx, doc.ID, folder, pdfSHA); err != nil {
		return err
	}
	d.event(ctx, doc, "document_sealed", "system", fmtDetail("folder", recording.DocumentsDir+"/"+folder, "pdf_sha256", pdfSHA, "version", doc.Version))
	return nil
}

func (d *docSealer) sealedPDFHash(caseFolder, folder, name string) (string, error) {
	f, _, err := recording.OpenDocumentFile(d.dataDir, caseFolder, folder, name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// evidenceText is how the identity evidence is printed under a signature.
func evidenceText(ev string) string {
	kind, who, _ := strings.Cut(ev, ":")
	switch kind {
	case "otp":
		return "身份核验：短信验证码（" + who + "）"
	case "attested":
		return "身份核验：调解员 " + who + " 确认"
	case "login":
		return "身份核验：工作人员账号登录"
	}
	return ""
}

// servePDF serves the sealed PDF of doc after writing the download into the case's
// custody log (by actorID); if the log cannot be written, nothing is served.
func (d *docSealer) servePDF(w http.ResponseWriter, r *http.Request, doc store.Document, actorID string) error {
	if doc.State != "sealed" {
		return errf(http.StatusConflict, "not_sealed", "the document is %s; its PDF exists once every signature is in", doc.State)
	}
	ctx := r.Context()
	if doc.SealedFolder == "" { // sealing failed after the last signature: try again now
		if err := d.seal(ctx, doc.ID); err != nil {
			return err
		}
		var err error
		if doc, err = d.st.Document(ctx, doc.ID); err != nil {
			return err
		}
	}
	c, err := d.st.Case(ctx, doc.CaseID)
	if err != nil {
		return err
	}
	caseFolder := recording.CaseFolder(c.ID, c.Number)
	f, fi, err := recording.OpenDocumentFile(d.dataDir, caseFolder, doc.SealedFolder, pdfName(doc))
	if err != nil {
		return notFound("sealed PDF")
	}
	defer f.Close()
	l, err := recording.OpenCustodyLog(d.dataDir, caseFolder)
	if err != nil {
		return fmt.Errorf("custody log: %w", err)
	}
	_, err = l.Append(recording.Event{Kind: recording.KindDownloaded, Actor: actorID,
		Subject: recording.DocumentsDir + "/" + doc.SealedFolder + "/" + pdfName(doc), Detail: map[string]string{"addr": clientAddr(r)}})
	l.Close()
	if err != nil {
		return fmt.Errorf("custody log: %w", err)
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.Number+"_"+pdfName(doc)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Document-SHA256", doc.SHA256)
	http.ServeContent(w, r, pdfName(doc), fi.ModTime(), f)
	return nil
}

func (d *docSealer) staffPDF(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.staffDoc(r, a)
	if err != nil {
		return err
	}
	return d.servePDF(w, r, doc, a.identity())
}

// inviteePDF: an invitee downloads what they signed, and the court's decisions on the case.
func (d *docSealer) inviteePDF(w http.ResponseWriter, r *http.Request) error {
	inv, _, _, doc, err := d.invitee(r)
	if err != nil {
		return err
	}
	rows, err := d.signerRows(r.Context(), doc, inv.ID)
	if err != nil {
		return err
	}
	decision := doc.Kind == "confirmation" && (inv.Role == "party" || inv.Role == "agent")
	if len(rows) == 0 && !decision {
		return notFound("document")
	}
	return d.servePDF(w, r, doc, guestIdentity(inv.ID))
}
