package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Documents of a case (issue 10): minutes, mediation agreements and judicial
// confirmations, each with numbered versions; the signers a version was sent to and their
// signatures; the templates; the centres' seal images; the requests for confirmation.
//
// The store keeps the invariants that must hold in one transaction: a signature is only
// taken for the current version with its fingerprint (else ErrStale), an edit voids every
// signature of the older version, and the last required signature seals the document.

// ErrStale: the version or fingerprint a caller acted on is no longer the current one.
var ErrStale = errors.New("stale version")

var (
	DocKinds   = []string{"minutes", "agreement", "confirmation"}
	DocStates  = []string{"draft", "signing", "sealed", "void"}
	Decisions  = []string{"confirmed", "rejected"}
	TplGeneric = "generic"
)

type Document struct {
	ID           int64
	CaseID       int64
	SessionID    int64 // the session it was drafted in (0 = none)
	Kind         string
	Title        string
	Body         string
	Version      int
	SHA256       string // of the current version's canonical text (computed by the caller)
	State        string
	ShownSpace   string // the space of SessionID where the text is shown live ("" = nowhere)
	SealedFolder string // documents/<folder> in the case file, once written
	SealedAt     time.Time
	PDFSHA256    string
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

type DocVersion struct {
	DocID     int64
	Version   int
	Title     string
	Body      string
	SHA256    string
	Author    string
	CreatedAt time.Time
}

// Signer is one person a version was sent to, and their signature once given.
type Signer struct {
	ID           int64
	DocID        int64
	Version      int
	InvitationID int64  // a party or agent, by invitation (or Username)
	Username     string // a staff member, by account
	Name         string
	Role         string
	Side         string
	Phone        string // the phone on file, for a one-time code
	AttestedBy   string // staff who attested the signer's identity ("" = none)

	SignedAt   time.Time
	SHA256     string // the version's fingerprint as the signer saw it
	Addr       string
	UserAgent  string
	Evidence   string // "otp", "attested", "login"
	Image      []byte // PNG
	Still      []byte // a still frame from the camera, only with its own consent
	VoidAt     time.Time
	VoidReason string
}

type DocTemplate struct {
	Kind, Category, Title, Body, UpdatedBy string
	UpdatedAt                              time.Time
}

type Confirmation struct {
	ID            int64
	DocID         int64
	CaseID        int64
	Judge         string
	RequestedBy   string
	RequestedAt   time.Time
	State         string // pending, confirmed, rejected
	Reason        string
	DecidedAt     time.Time
	SessionID     int64
	DecisionDocID int64
}

// Documents is what the documents part of the domain persists.
type Documents interface {
	CreateDocument(ctx context.Context, d Document) (Document, error)
	Document(ctx context.Context, id int64) (Document, error)
	ListDocuments(ctx context.Context, caseID int64) ([]Document, error)
	DocVersions(ctx context.Context, id int64) ([]DocVersion, error)
	// EditDocument makes version d.Version+1 the current one when d.Version is still the
	// current version (else ErrStale). Signers of the old version move to the new one,
	// unsigned; the signatures of the old version are void, and returned.
	EditDocument(ctx context.Context, id int64, fromVersion int, title, body, sha, author string) (Document, []Signer, error)
	// SendDocument sets the signers of the current version (replacing those who have not
	// signed) and moves the document to signing.
	SendDocument(ctx context.Context, id int64, version int, signers []Signer) (Document, []Signer, error)
	Signers(ctx context.Context, docID int64) ([]Signer, error) // every row, void ones too, by id
	// Sign records signer's signature of version with fingerprint sha (else ErrStale).
	// When it is the last one missing, the document is sealed in the same transaction
	// (sealed is true).
	Sign(ctx context.Context, signerID int64, version int, sha string, sig Signer) (sealed bool, err error)
	AttestSigner(ctx context.Context, signerID int64, by string) error
	SetOTP(ctx context.Context, signerID int64, hash string, expires time.Time) error
	// OTPTry counts one attempt at signer's code and returns the hash, expiry and tries.
	OTPTry(ctx context.Context, signerID int64) (hash string, expires time.Time, tries int, err error)
	SetDocState(ctx context.Context, id int64, from, to string) error
	// SealUnsigned seals a draft that needs no signature (a court's decision).
	SealUnsigned(ctx context.Context, id int64) error
	ShowDocument(ctx context.Context, id int64, space string) error
	SetSealedFile(ctx context.Context, id int64, folder, pdfSHA string) error

	DocTemplate(ctx context.Context, kind, category string) (DocTemplate, error)
	DocTemplates(ctx context.Context) ([]DocTemplate, error)
	PutDocTemplate(ctx context.Context, t DocTemplate) error
	SealImage(ctx context.Context, centre string) ([]byte, error)
	PutSealImage(ctx context.Context, centre string, png []byte, by string) error

	CreateConfirmation(ctx context.Context, c Confirmation) (Confirmation, error)
	Confirmation(ctx context.Context, id int64) (Confirmation, error)
	// Confirmations lists by judge ("" = any) or by document (0 = any).
	Confirmations(ctx context.Context, judge string, docID int64) ([]Confirmation, error)
	// Decide records the judge's decision of a pending request (else ErrIllegalTransition).
	Decide(ctx context.Context, id int64, decision, reason string, decisionDoc int64) error
	SetConfirmationSession(ctx context.Context, id, sessionID int64) error
}

const docCols = `id, case_id, COALESCE(session_id, 0), kind, title, body, version, sha256, state, shown_space, sealed_folder,
	COALESCE(sealed_at, 0), pdf_sha256, created_by, created_at, updated_at`

func scanDoc(sc interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var sealed, created, updated int64
	err := sc.Scan(&d.ID, &d.CaseID, &d.SessionID, &d.Kind, &d.Title, &d.Body, &d.Version, &d.SHA256, &d.State, &d.ShownSpace,
		&d.SealedFolder, &sealed, &d.PDFSHA256, &d.CreatedBy, &created, &updated)
	d.SealedAt, d.CreatedAt, d.UpdatedAt = fromMS(sealed), fromMS(created), fromMS(updated)
	return d, err
}

func (s *SQLite) CreateDocument(ctx context.Context, d Document) (Document, error) {
	if !OneOf(d.Kind, DocKinds) {
		return Document{}, fmt.Errorf("unknown document kind %q: %w", d.Kind, ErrInvalid)
	}
	now := time.Now().UTC()
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO documents (case_id, session_id, kind, title, body, version, sha256, state, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, 'draft', ?, ?, ?)`, d.CaseID, nullID(d.SessionID), d.Kind, d.Title, d.Body, d.SHA256, d.CreatedBy, ms(now), ms(now))
		if err != nil {
			return constraint(err, "create document")
		}
		id, _ = res.LastInsertId()
		_, err = tx.ExecContext(ctx, `INSERT INTO document_versions (doc_id, version, title, body, sha256, author, created_at) VALUES (?, 1, ?, ?, ?, ?, ?)`,
			id, d.Title, d.Body, d.SHA256, d.CreatedBy, ms(now))
		return constraint(err, "create document version")
	})
	if err != nil {
		return Document{}, err
	}
	return s.Document(ctx, id)
}

func (s *SQLite) Document(ctx context.Context, id int64) (Document, error) {
	d, err := scanDoc(s.db.QueryRowContext(ctx, `SELECT `+docCols+` FROM documents WHERE id = ?`, id))
	return d, notFound(err, fmt.Sprintf("document %d", id))
}

func (s *SQLite) ListDocuments(ctx context.Context, caseID int64) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+docCols+` FROM documents WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	out := []Document{}
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *SQLite) DocVersions(ctx context.Context, id int64) ([]DocVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT doc_id, version, title, body, sha256, author, created_at FROM document_versions WHERE doc_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("document versions: %w", err)
	}
	defer rows.Close()
	var out []DocVersion
	for rows.Next() {
		var v DocVersion
		var t int64
		if err := rows.Scan(&v.DocID, &v.Version, &v.Title, &v.Body, &v.SHA256, &v.Author, &t); err != nil {
			return nil, err
		}
		v.CreatedAt = fromMS(t)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *SQLite) EditDocument(ctx context.Context, id int64, from int, title, body, sha, author string) (Document, []Signer, error) {
	now := time.Now().UTC()
	var voided []Signer
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := scanDoc(tx.QueryRowContext(ctx, `SELECT `+docCols+` FROM documents WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("document %d", id))
		}
		if d.State == "sealed" || d.State == "void" {
			return fmt.Errorf("document is %s; it cannot change: %w", d.State, ErrIllegalTransition)
		}
		if from != 0 && from != d.Version {
			return fmt.Errorf("document is at version %d, not %d: %w", d.Version, from, ErrStale)
		}
		next := d.Version + 1
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET title = ?, body = ?, version = ?, sha256 = ?, updated_at = ? WHERE id = ?`,
			title, body, next, sha, ms(now), id); err != nil {
			return fmt.Errorf("edit document: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO document_versions (doc_id, version, title, body, sha256, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, next, title, body, sha, author, ms(now)); err != nil {
			return constraint(err, "add document version")
		}
		old, err := signersTx(ctx, tx, `WHERE doc_id = ? AND version = ? AND void_at IS NULL`, id, d.Version)
		if err != nil {
			return err
		}
		for _, sg := range old {
			if !sg.SignedAt.IsZero() {
				sg.VoidAt, sg.VoidReason = now, fmt.Sprintf("version %d replaced by version %d", d.Version, next)
				voided = append(voided, sg)
				if _, err := tx.ExecContext(ctx, `UPDATE document_signers SET void_at = ?, void_reason = ? WHERE id = ?`, ms(now), sg.VoidReason, sg.ID); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE document_signers SET void_at = ?, void_reason = ? WHERE id = ?`,
				ms(now), fmt.Sprintf("version %d replaced by version %d before signing", d.Version, next), sg.ID); err != nil {
				return err
			}
			sg.Version = next
			if err := insertSignerTx(ctx, tx, sg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Document{}, nil, err
	}
	d, err := s.Document(ctx, id)
	return d, voided, err
}

func insertSignerTx(ctx context.Context, tx *sql.Tx, sg Signer) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO document_signers (doc_id, version, invitation_id, username, name, role, side, phone, attested_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sg.DocID, sg.Version, nullID(sg.InvitationID), nullStr(sg.Username), sg.Name, sg.Role, sg.Side, sg.Phone, sg.AttestedBy)
	return constraint(err, "add signer")
}

func (s *SQLite) SendDocument(ctx context.Context, id int64, version int, signers []Signer) (Document, []Signer, error) {
	if len(signers) == 0 {
		return Document{}, nil, fmt.Errorf("at least one signer: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := scanDoc(tx.QueryRowContext(ctx, `SELECT `+docCols+` FROM documents WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("document %d", id))
		}
		if d.State != "draft" && d.State != "signing" {
			return fmt.Errorf("document is %s; it cannot be sent: %w", d.State, ErrIllegalTransition)
		}
		if version != 0 && version != d.Version {
			return fmt.Errorf("document is at version %d, not %d: %w", d.Version, version, ErrStale)
		}
		cur, err := signersTx(ctx, tx, `WHERE doc_id = ? AND version = ? AND void_at IS NULL`, id, d.Version)
		if err != nil {
			return err
		}
		signed := map[string]bool{}
		for _, sg := range cur {
			if sg.SignedAt.IsZero() { // withdrawn (or sent again below): kept, void, so the invitee still sees why
				if _, err := tx.ExecContext(ctx, `UPDATE document_signers SET void_at = ?, void_reason = 'request withdrawn' WHERE id = ?`,
					ms(time.Now().UTC()), sg.ID); err != nil {
					return err
				}
			} else {
				signed[signerKey(sg)] = true
			}
		}
		for _, sg := range signers {
			if signed[signerKey(sg)] {
				continue
			}
			sg.DocID, sg.Version = id, d.Version
			if err := insertSignerTx(ctx, tx, sg); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE documents SET state = 'signing', updated_at = ? WHERE id = ?`, ms(time.Now().UTC()), id)
		return err
	})
	if err != nil {
		return Document{}, nil, err
	}
	d, err := s.Document(ctx, id)
	if err != nil {
		return d, nil, err
	}
	all, err := s.Signers(ctx, id)
	var cur []Signer
	for _, sg := range all {
		if sg.Version == d.Version && sg.VoidAt.IsZero() {
			cur = append(cur, sg)
		}
	}
	return d, cur, err
}

func signerKey(sg Signer) string {
	if sg.Username != "" {
		return "u:" + sg.Username
	}
	return fmt.Sprintf("i:%d", sg.InvitationID)
}

const signerCols = `id, doc_id, version, COALESCE(invitation_id, 0), COALESCE(username, ''), name, role, side, phone, attested_by,
	COALESCE(signed_at, 0), sha256, addr, user_agent, evidence, image, still, COALESCE(void_at, 0), void_reason`

func signersTx(ctx context.Context, q queryer, where string, args ...any) ([]Signer, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+signerCols+` FROM document_signers `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("signers: %w", err)
	}
	defer rows.Close()
	var out []Signer
	for rows.Next() {
		var sg Signer
		var signed, void int64
		if err := rows.Scan(&sg.ID, &sg.DocID, &sg.Version, &sg.InvitationID, &sg.Username, &sg.Name, &sg.Role, &sg.Side, &sg.Phone,
			&sg.AttestedBy, &signed, &sg.SHA256, &sg.Addr, &sg.UserAgent, &sg.Evidence, &sg.Image, &sg.Still, &void, &sg.VoidReason); err != nil {
			return nil, err
		}
		sg.SignedAt, sg.VoidAt = fromMS(signed), fromMS(void)
		out = append(out, sg)
	}
	return out, rows.Err()
}

func (s *SQLite) Signers(ctx context.Context, docID int64) ([]Signer, error) {
	return signersTx(ctx, s.db, `WHERE doc_id = ?`, docID)
}

func (s *SQLite) Sign(ctx context.Context, signerID int64, version int, sha string, sig Signer) (bool, error) {
	sealed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := signersTx(ctx, tx, `WHERE id = ?`, signerID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("signer %d: %w", signerID, ErrNotFound)
		}
		sg := rows[0]
		d, err := scanDoc(tx.QueryRowContext(ctx, `SELECT `+docCols+` FROM documents WHERE id = ?`, sg.DocID))
		if err != nil {
			return notFound(err, fmt.Sprintf("document %d", sg.DocID))
		}
		switch {
		case d.State != "signing":
			return fmt.Errorf("document is %s, not out for signature: %w", d.State, ErrIllegalTransition)
		case version != d.Version || sha != d.SHA256 || sg.Version != d.Version || !sg.VoidAt.IsZero():
			return fmt.Errorf("the document is now at version %d (fingerprint %s): %w", d.Version, d.SHA256, ErrStale)
		case !sg.SignedAt.IsZero():
			return fmt.Errorf("already signed: %w", ErrExists)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE document_signers SET signed_at = ?, sha256 = ?, addr = ?, user_agent = ?, evidence = ?, image = ?, still = ?,
			otp_hash = '' WHERE id = ?`, ms(now), sha, sig.Addr, sig.UserAgent, sig.Evidence, sig.Image, sig.Still, signerID); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		var missing int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM document_signers WHERE doc_id = ? AND version = ? AND void_at IS NULL AND signed_at IS NULL`,
			d.ID, d.Version).Scan(&missing); err != nil {
			return err
		}
		if missing == 0 {
			sealed = true
			_, err = tx.ExecContext(ctx, `UPDATE documents SET state = 'sealed', sealed_at = ?, shown_space = '', updated_at = ? WHERE id = ?`, ms(now), ms(now), d.ID)
		}
		return err
	})
	return sealed, err
}

func (s *SQLite) AttestSigner(ctx context.Context, signerID int64, by string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE document_signers SET attested_by = ? WHERE id = ?`, by, signerID)
	return err
}

func (s *SQLite) SetOTP(ctx context.Context, signerID int64, hash string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE document_signers SET otp_hash = ?, otp_expires = ?, otp_tries = 0 WHERE id = ?`, hash, ms(expires), signerID)
	return err
}

func (s *SQLite) OTPTry(ctx context.Context, signerID int64) (string, time.Time, int, error) {
	var hash string
	var exp int64
	var tries int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE document_signers SET otp_tries = otp_tries + 1 WHERE id = ?`, signerID); err != nil {
			return err
		}
		return notFound(tx.QueryRowContext(ctx, `SELECT otp_hash, COALESCE(otp_expires, 0), otp_tries FROM document_signers WHERE id = ?`, signerID).Scan(&hash, &exp, &tries), "signer")
	})
	return hash, fromMS(exp), tries, err
}

func (s *SQLite) SetDocState(ctx context.Context, id int64, from, to string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET state = ?, updated_at = ? WHERE id = ? AND state = ?`, to, ms(time.Now().UTC()), id, from)
	if err != nil {
		return constraint(err, "document state")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("document is not %s: %w", from, ErrIllegalTransition)
	}
	return nil
}

func (s *SQLite) SealUnsigned(ctx context.Context, id int64) error {
	now := ms(time.Now().UTC())
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET state = 'sealed', sealed_at = ?, updated_at = ? WHERE id = ? AND state = 'draft'`, now, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("document %d is not a draft: %w", id, ErrIllegalTransition)
	}
	return nil
}

func (s *SQLite) ShowDocument(ctx context.Context, id int64, space string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE documents SET shown_space = ? WHERE id = ?`, space, id)
	return err
}

func (s *SQLite) SetSealedFile(ctx context.Context, id int64, folder, pdfSHA string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE documents SET sealed_folder = ?, pdf_sha256 = ? WHERE id = ?`, folder, pdfSHA, id)
	return err
}

func (s *SQLite) DocTemplate(ctx context.Context, kind, category string) (DocTemplate, error) {
	var t DocTemplate
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, category, title, body, updated_by, updated_at FROM doc_templates WHERE kind = ? AND category = ?`,
		kind, category).Scan(&t.Kind, &t.Category, &t.Title, &t.Body, &t.UpdatedBy, &at)
	t.UpdatedAt = fromMS(at)
	return t, notFound(err, "template "+kind+"/"+category)
}

func (s *SQLite) DocTemplates(ctx context.Context) ([]DocTemplate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, category, title, body, updated_by, updated_at FROM doc_templates ORDER BY kind, category`)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	defer rows.Close()
	out := []DocTemplate{}
	for rows.Next() {
		var t DocTemplate
		var at int64
		if err := rows.Scan(&t.Kind, &t.Category, &t.Title, &t.Body, &t.UpdatedBy, &at); err != nil {
			return nil, err
		}
		t.UpdatedAt = fromMS(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *SQLite) PutDocTemplate(ctx context.Context, t DocTemplate) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO doc_templates (kind, category, title, body, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, category) DO UPDATE SET title = excluded.title, body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		t.Kind, t.Category, t.Title, t.Body, t.UpdatedBy, ms(time.Now().UTC()))
	return constraint(err, "save template")
}

func (s *SQLite) SealImage(ctx context.Context, centre string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT png FROM seal_images WHERE centre = ?`, centre).Scan(&b)
	return b, notFound(err, "seal image of "+centre)
}

func (s *SQLite) PutSealImage(ctx context.Context, centre string, png []byte, by string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO seal_images (centre, png, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (centre) DO UPDATE SET png = excluded.png, uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at`,
		centre, png, by, ms(time.Now().UTC()))
	return constraint(err, "save seal image")
}

const confCols = `id, doc_id, case_id, judge, requested_by, requested_at, state, reason, COALESCE(decided_at, 0), COALESCE(session_id, 0), COALESCE(decision_doc_id, 0)`

func scanConf(sc interface{ Scan(...any) error }) (Confirmation, error) {
	var c Confirmation
	var req, dec int64
	err := sc.Scan(&c.ID, &c.DocID, &c.CaseID, &c.Judge, &c.RequestedBy, &req, &c.State, &c.Reason, &dec, &c.SessionID, &c.DecisionDocID)
	c.RequestedAt, c.DecidedAt = fromMS(req), fromMS(dec)
	return c, err
}

func (s *SQLite) CreateConfirmation(ctx context.Context, c Confirmation) (Confirmation, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM confirmations WHERE doc_id = ? AND state = 'pending'`, c.DocID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("a confirmation of this document is already pending: %w", ErrExists)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO confirmations (doc_id, case_id, judge, requested_by, requested_at, state) VALUES (?, ?, ?, ?, ?, 'pending')`,
			c.DocID, c.CaseID, c.Judge, c.RequestedBy, ms(time.Now().UTC()))
		if err != nil {
			return constraint(err, "request confirmation")
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return Confirmation{}, err
	}
	return s.Confirmation(ctx, id)
}

func (s *SQLite) Confirmation(ctx context.Context, id int64) (Confirmation, error) {
	c, err := scanConf(s.db.QueryRowContext(ctx, `SELECT `+confCols+` FROM confirmations WHERE id = ?`, id))
	return c, notFound(err, fmt.Sprintf("confirmation %d", id))
}

func (s *SQLite) Confirmations(ctx context.Context, judge string, docID int64) ([]Confirmation, error) {
	q, args := `SELECT `+confCols+` FROM confirmations WHERE 1=1`, []any{}
	if judge != "" {
		q += ` AND judge = ?`
		args = append(args, judge)
	}
	if docID != 0 {
		q += ` AND doc_id = ?`
		args = append(args, docID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY state <> 'pending', id`, args...)
	if err != nil {
		return nil, fmt.Errorf("confirmations: %w", err)
	}
	defer rows.Close()
	out := []Confirmation{}
	for rows.Next() {
		c, err := scanConf(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *SQLite) Decide(ctx context.Context, id int64, decision, reason string, decisionDoc int64) error {
	if !OneOf(decision, Decisions) {
		return fmt.Errorf("decision must be confirmed or rejected: %w", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE confirmations SET state = ?, reason = ?, decided_at = ?, decision_doc_id = ? WHERE id = ? AND state = 'pending'`,
		decision, reason, ms(time.Now().UTC()), nullID(decisionDoc), id)
	if err != nil {
		return constraint(err, "decide")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("confirmation %d is not pending: %w", id, ErrIllegalTransition)
	}
	return nil
}

func (s *SQLite) SetConfirmationSession(ctx context.Context, id, sessionID int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE confirmations SET session_id = ? WHERE id = ?`, nullID(sessionID), id)
	return err
}
