package mediation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yizhan/store"
)

// Signing: staff sign with their login; parties and agents through their invitation,
// with identity evidence (a one-time code to the phone on file when an SMS webhook is
// configured, else the mediator's attestation). Every signature records who, which
// invitation or account, when, from which address and user agent, the version's
// fingerprint and the image. A stale version or fingerprint is 409 and signs nothing.

// docSigning takes signatures (staff and invitees), sends one-time codes, and shows an
// invitee the documents that concern them (docjoin.go).
type docSigning struct {
	*docCore                // static after construction
	sealer     *docSealer   // seals a document when its last signature is in
	smsWebhook string       // DocumentsConfig.SMSWebhook ("" = no SMS: the mediator attests)
	http       *http.Client // posts to smsWebhook
	sms        *limiter     // one-time codes sent per signer: at most 3 in 10 minutes; guarded by its own mutex
}

const (
	maxSignBody = 1 << 20 // a signature image (and an optional still) as base64
	maxPNG      = 600 << 10
	otpTTL      = 10 * time.Minute
	otpMaxTries = 5
)

type signReq struct {
	Version      int    `json:"version"`
	SHA256       string `json:"sha256"`
	Agree        *bool  `json:"agree"`
	SignaturePNG string `json:"signature_png"`
	OTP          string `json:"otp"`
	StillPNG     string `json:"still_png"`     // a still frame from the camera ...
	StillConsent bool   `json:"still_consent"` // ... only with its own consent
}

// decodePNG accepts base64 PNG, with or without a data: URL prefix.
func decodePNG(field, s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "data:image/png;base64,")
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, badRequest("%s must be a base64 PNG image", field)
	}
	if len(b) > maxPNG {
		return nil, badRequest("%s is larger than %d bytes", field, maxPNG)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, badRequest("%s is not a PNG image: %v", field, err)
	}
	if sz := img.Bounds().Size(); sz.X < 20 || sz.Y < 10 || sz.X > 4000 || sz.Y > 4000 {
		return nil, badRequest("%s: %dx%d pixels is not a signature", field, sz.X, sz.Y)
	}
	return b, nil
}

// alreadySigned answers a signer who signed this version already: a phone that lost the
// answer to its signature and sends it again learns that it went through. Before the
// identity check, whose one-time code that signature used up.
func alreadySigned(sg store.Signer) error {
	return errf(http.StatusConflict, "already_signed", "already signed: version %d was signed at %s", sg.Version, sg.SignedAt.UTC().Format(time.RFC3339))
}

// checkCurrent answers 409 unless doc is out for signature at exactly version and sha.
func checkCurrent(doc store.Document, version int, sha string) error {
	if doc.State != "signing" {
		return errf(http.StatusConflict, "not_signing", "the document is %s, not out for signature", doc.State)
	}
	if version != doc.Version || !strings.EqualFold(sha, doc.SHA256) {
		return errf(http.StatusConflict, "stale_version", "the document is now at version %d (fingerprint %s); read it again before signing", doc.Version, doc.SHA256)
	}
	return nil
}

func (d *docSigning) staffSign(w http.ResponseWriter, r *http.Request, a *actor) error {
	doc, _, err := d.staffDoc(r, a)
	if err != nil {
		return err
	}
	var req signReq
	if err := decodeMax(w, r, &req, false, maxSignBody); err != nil {
		return err
	}
	r, done := signingOwnsItsOutcome(r)
	defer done()
	if err := checkCurrent(doc, req.Version, req.SHA256); err != nil {
		return err
	}
	ctx := r.Context()
	sg, ok, err := d.currentSigner(ctx, doc, func(sg store.Signer) bool { return sg.Username == a.Username })
	if err != nil {
		return err
	}
	if !ok {
		return errf(http.StatusForbidden, "not_a_signer", "version %d was not sent to you for signature", doc.Version)
	}
	if !sg.SignedAt.IsZero() {
		return alreadySigned(sg)
	}
	img, err := decodePNG("signature_png", req.SignaturePNG)
	if err != nil {
		return err
	}
	return d.sign(w, r, doc, sg, a.Username, req, store.Signer{Evidence: "login", Image: img})
}

// signCommitTimeout bounds a signing request once the client is no longer waiting.
const signCommitTimeout = 30 * time.Second

// signingOwnsItsOutcome detaches a signing request from its client once the whole body
// has been read. From then on net/http cancels the request's context as soon as the
// connection ends, and a phone that vanishes right after pressing "sign" (issue 12)
// would cut the work in half: the signature refused by a cancelled store call, or
// committed without its timeline and case-file lines, or the last signature sealing the
// document without writing its sealed copy. The request has all it needs, so it is
// decided and recorded whole, whether or not anyone reads the answer; a body cut short
// never gets here (decodeMax refuses it) and signs nothing.
func signingOwnsItsOutcome(r *http.Request) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), signCommitTimeout)
	return r.WithContext(ctx), cancel
}

// sign records the signature and, when it was the last one missing, seals the document.
func (d *docSigning) sign(w http.ResponseWriter, r *http.Request, doc store.Document, sg store.Signer, actorID string, req signReq, sig store.Signer) error {
	ctx := r.Context()
	sig.Addr, sig.UserAgent = clientAddr(r), r.UserAgent()
	if len(sig.UserAgent) > 400 {
		sig.UserAgent = sig.UserAgent[:400]
	}
	sealed, err := d.st.Sign(ctx, sg.ID, req.Version, strings.ToLower(req.SHA256), sig)
	if err != nil {
		return staleOr(err)
	}
	img := sha256.Sum256(sig.Image)
	d.event(ctx, doc, "document_signed", actorID, fmtDetail("signer", sg.Name, "role", sg.Role, "version", doc.Version,
		"sha256", doc.SHA256, "evidence", sig.Evidence, "addr", sig.Addr, "image_sha256", hex.EncodeToString(img[:]),
		"still", len(sig.Still) > 0))
	out := map[string]any{"signed": true, "version": doc.Version, "sealed": sealed}
	if sealed {
		doc.State = "sealed"
		if err := d.sealer.seal(ctx, doc.ID); err != nil {
			d.svc.log.Error("seal document", "document", doc.ID, "err", err)
			out["seal_error"] = "the document is signed; writing its sealed copy failed and is retried on download"
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (d *docSigning) inviteeSign(w http.ResponseWriter, r *http.Request) error {
	var req signReq
	if err := decodeMax(w, r, &req, false, maxSignBody); err != nil {
		return err
	}
	r, done := signingOwnsItsOutcome(r)
	defer done()
	inv, se, _, doc, err := d.invitee(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rows, err := d.signerRows(ctx, doc, inv.ID)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		if d.shownTo(doc, inv, se) {
			return errf(http.StatusForbidden, "not_a_signer", "this document was not sent to you for signature")
		}
		return notFound("document")
	}
	if req.Agree == nil || !*req.Agree {
		return badRequest("agree must be true: tick \"I have read and agree\"")
	}
	if err := checkCurrent(doc, req.Version, req.SHA256); err != nil {
		return err
	}
	sg, ok, err := d.currentSigner(ctx, doc, func(sg store.Signer) bool { return sg.InvitationID == inv.ID })
	if err != nil {
		return err
	}
	if !ok {
		return errf(http.StatusForbidden, "not_a_signer", "version %d was not sent to you for signature", doc.Version)
	}
	if !sg.SignedAt.IsZero() {
		return alreadySigned(sg)
	}
	img, err := decodePNG("signature_png", req.SignaturePNG)
	if err != nil {
		return err
	}
	sig := store.Signer{Image: img}
	if req.StillPNG != "" {
		if !req.StillConsent {
			return badRequest("a still frame needs its own consent (still_consent: true)")
		}
		if sig.Still, err = decodePNG("still_png", req.StillPNG); err != nil {
			return err
		}
	}
	switch {
	case d.smsWebhook != "" && sg.Phone != "":
		if err := d.checkOTP(ctx, sg, req.OTP); err != nil {
			return err
		}
		sig.Evidence = "otp:" + maskPhone(sg.Phone)
	case sg.AttestedBy != "":
		sig.Evidence = "attested:" + sg.AttestedBy
	default:
		return errf(http.StatusForbidden, "identity_unverified", "your identity has not been confirmed: ask the mediator to attest it")
	}
	return d.sign(w, r, doc, sg, guestIdentity(inv.ID), req, sig)
}

func otpHash(signerID int64, code string) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(signerID, 10) + ":" + code))
	return hex.EncodeToString(h[:])
}

func (d *docSigning) checkOTP(ctx context.Context, sg store.Signer, code string) error {
	code = strings.TrimSpace(code)
	if code == "" {
		return errf(http.StatusForbidden, "otp_required", "enter the code sent to your phone")
	}
	hash, exp, tries, err := d.st.OTPTry(ctx, sg.ID)
	if err != nil {
		return err
	}
	switch {
	case tries > otpMaxTries:
		return errf(http.StatusTooManyRequests, "rate_limited", "too many wrong codes; ask for a new one")
	case hash == "" || d.now().After(exp):
		return errf(http.StatusForbidden, "otp_invalid", "the code has expired; ask for a new one")
	case subtle.ConstantTimeCompare([]byte(hash), []byte(otpHash(sg.ID, code))) != 1:
		return errf(http.StatusForbidden, "otp_invalid", "wrong code")
	}
	return nil
}

func maskPhone(p string) string {
	if len(p) < 7 {
		return "***"
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// inviteeOTP sends a one-time code to the signer's phone on file through the webhook.
func (d *docSigning) inviteeOTP(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	inv, _, _, doc, err := d.invitee(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	sg, ok, err := d.currentSigner(ctx, doc, func(sg store.Signer) bool { return sg.InvitationID == inv.ID })
	if err != nil {
		return err
	}
	if !ok || doc.State != "signing" {
		return notFound("document to sign")
	}
	if d.smsWebhook == "" || sg.Phone == "" {
		return errf(http.StatusConflict, "sms_unavailable", "no SMS on this server or no phone on file: the mediator attests your identity")
	}
	key := strconv.FormatInt(sg.ID, 10)
	if !d.sms.allow(key, d.now()) { // Retry-After: when the window ends (issue 12)
		return tooMany(d.sms.retryAfter(key, d.now()), "three codes were sent in the last 10 minutes; use the last one or wait")
	}
	d.sms.fail(key, d.now()) // counts a send
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	if err := d.st.SetOTP(ctx, sg.ID, otpHash(sg.ID, code), d.now().Add(otpTTL)); err != nil {
		return err
	}
	// The SMS is the one user-facing text the server writes: it leaves by a gateway, not the web app.
	text := fmt.Sprintf("【一站式调解】您正在签署案号 %s 的文书，验证码 %s，%d 分钟内有效。请勿告诉他人。", d.caseNumber(ctx, doc.CaseID), code, int(otpTTL.Minutes()))
	if err := d.sendSMS(ctx, sg.Phone, text); err != nil {
		d.svc.log.Error("sms", "err", err)
		return errf(http.StatusBadGateway, "sms_failed", "the SMS could not be sent; try again or ask the mediator")
	}
	d.event(ctx, doc, "document_otp_sent", guestIdentity(inv.ID), fmtDetail("signer", sg.Name, "phone", maskPhone(sg.Phone)))
	writeJSON(w, http.StatusOK, map[string]any{"sent": true, "phone": maskPhone(sg.Phone), "expires_in": int(otpTTL.Seconds())})
	return nil
}

func (d *docSigning) caseNumber(ctx context.Context, id int64) string {
	c, err := d.st.Case(ctx, id)
	if err != nil {
		return ""
	}
	return c.Number
}

// sendSMS posts {"phone","text"} to the webhook; any 2xx is sent.
func (d *docSigning) sendSMS(ctx context.Context, phone, text string) error {
	body, _ := json.Marshal(map[string]string{"phone": phone, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.smsWebhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sms webhook: status %d", resp.StatusCode)
	}
	return nil
}
