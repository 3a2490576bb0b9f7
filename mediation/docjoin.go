package mediation

import (
	"net/http"

	"yizhan/store"
)

// What an invitee (a party or agent, through the invitation link) may read of the case's
// documents: the live text shown in the space they are in now (never a caucus's view of a
// joint-space draft, and nothing from the lobby), every document sent to them for
// signature with its fingerprint and their signature's state (a voided signature says
// why), the sealed copies to download, and the court's decisions on the case.

type inviteeSignerJSON struct {
	Name       string  `json:"name"`
	Role       string  `json:"role"`
	Version    int     `json:"version"`
	SignedAt   *string `json:"signed_at"`
	VoidAt     *string `json:"void_at,omitempty"`
	VoidReason string  `json:"void_reason,omitempty"`
}

type inviteeDocJSON struct {
	ID         int64               `json:"id"`
	Kind       string              `json:"kind"`
	Title      string              `json:"title"`
	Body       string              `json:"body"`
	Version    int                 `json:"version"`
	SHA256     string              `json:"sha256"`
	State      string              `json:"state"`
	CaseNumber string              `json:"case_number"`
	Shown      bool                `json:"shown"`      // shown live in the space you are in
	Signer     bool                `json:"signer"`     // this version is yours to sign
	Signed     bool                `json:"signed"`     // you signed this version
	Identity   string              `json:"identity"`   // how you prove who you are: otp | attested | unverified
	PDF        bool                `json:"pdf"`        // a sealed copy to download
	Signatures []inviteeSignerJSON `json:"signatures"` // yours, every version (void ones say why)
	SealedAt   *string             `json:"sealed_at"`
	Decision   *confirmationJSON   `json:"confirmation,omitempty"`
}

func (d *docSigning) inviteeList(w http.ResponseWriter, r *http.Request) error {
	inv, se, c, err := d.svc.join.validInvitation(r, r.PathValue("code"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	docs, err := d.st.ListDocuments(ctx, c.ID)
	if err != nil {
		return err
	}
	out := []inviteeDocJSON{}
	for _, doc := range docs {
		rows, err := d.signerRows(ctx, doc, inv.ID)
		if err != nil {
			return err
		}
		shown := d.shownTo(doc, inv, se)
		decision := doc.Kind == "confirmation" && doc.State == "sealed" && (inv.Role == "party" || inv.Role == "agent")
		if len(rows) == 0 && !shown && !decision {
			continue
		}
		v := inviteeDocJSON{ID: doc.ID, Kind: doc.Kind, Title: doc.Title, Body: doc.Body, Version: doc.Version, SHA256: doc.SHA256,
			State: doc.State, CaseNumber: c.Number, Shown: shown, SealedAt: jsonTime(doc.SealedAt), Signatures: []inviteeSignerJSON{},
			PDF: doc.State == "sealed" && (len(rows) > 0 || decision)}
		for _, sg := range rows {
			if sg.SignedAt.IsZero() && !sg.VoidAt.IsZero() {
				continue // a request replaced before it was signed: nothing of theirs was voided
			}
			s := inviteeSignerJSON{Name: sg.Name, Role: sg.Role, Version: sg.Version, SignedAt: jsonTime(sg.SignedAt), VoidReason: sg.VoidReason}
			if !sg.VoidAt.IsZero() {
				s.VoidAt = jsonTime(sg.VoidAt)
			}
			v.Signatures = append(v.Signatures, s)
			if sg.Version == doc.Version && sg.VoidAt.IsZero() {
				v.Signer, v.Signed = true, !sg.SignedAt.IsZero()
				v.Identity = d.identityMode(sg)
			}
		}
		if decision {
			if cs, err := d.st.Confirmations(ctx, "", 0); err == nil {
				for _, cf := range cs {
					if cf.DecisionDocID == doc.ID {
						j := d.confirmationView(ctx, cf)
						v.Decision = &j
					}
				}
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": out, "sms": d.smsWebhook != ""})
	return nil
}

// identityMode: how this signer proves who they are when signing.
func (d *docSigning) identityMode(sg store.Signer) string {
	switch {
	case d.smsWebhook != "" && sg.Phone != "":
		return "otp"
	case sg.AttestedBy != "":
		return "attested"
	}
	return "unverified"
}
