package mediation

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"yizhan/store"
)

// docScene adds documents to a scene (issue 10): a draft in the scene's session, one out
// for signature to the applicant (attested) and the mediator, one sealed (both signed)
// and one sealed with a confirmation pending before the judge.
type docScene struct {
	draft, signing, sealed, confirmed int64
	signingSHA                        string
	confirmation                      int64
}

func (fx *fixture) docScene(sc scene) docScene {
	fx.t.Helper()
	ctx := fx.ctx
	inv, err := fx.st.Invitation(ctx, sc.code)
	if err != nil {
		fx.t.Fatal(err)
	}
	mk := func(body string) store.Document {
		d, err := fx.st.CreateDocument(ctx, store.Document{CaseID: sc.caseID, SessionID: sc.sessID, Kind: "agreement", Title: "协议", Body: body,
			SHA256: fingerprint("agreement", "协议", body), CreatedBy: "med"})
		if err != nil {
			fx.t.Fatal(err)
		}
		return d
	}
	signers := []store.Signer{{InvitationID: inv.ID, Name: inv.Name, Role: "party", Side: "applicant", AttestedBy: "med"},
		{Username: "med", Name: "Mediator", Role: "mediator"}}
	send := func(d store.Document) []store.Signer {
		_, sgs, err := fx.st.SendDocument(ctx, d.ID, d.Version, signers)
		if err != nil {
			fx.t.Fatal(err)
		}
		return sgs
	}
	signAll := func(d store.Document) {
		for _, sg := range send(d) {
			if _, err := fx.st.Sign(ctx, sg.ID, d.Version, d.SHA256, store.Signer{Evidence: "login", Image: testSignature()}); err != nil {
				fx.t.Fatal(err)
			}
		}
	}
	ds := docScene{draft: mk("草稿").ID}
	sg := mk("待签")
	send(sg)
	ds.signing, ds.signingSHA = sg.ID, sg.SHA256
	se := mk("已封存")
	signAll(se)
	ds.sealed = se.ID
	co := mk("待确认")
	signAll(co)
	ds.confirmed = co.ID
	cf, err := fx.st.CreateConfirmation(ctx, store.Confirmation{DocID: co.ID, CaseID: sc.caseID, Judge: "judge", RequestedBy: "med"})
	if err != nil {
		fx.t.Fatal(err)
	}
	ds.confirmation = cf.ID
	return ds
}

// docsFingerprint is everything the documents endpoints could change for a case.
func (fx *fixture) docsFingerprint(caseID int64) string {
	ctx := fx.ctx
	docs, _ := fx.st.ListDocuments(ctx, caseID)
	var b strings.Builder
	for _, d := range docs {
		sgs, _ := fx.st.Signers(ctx, d.ID)
		signed, void, attested := 0, 0, 0
		for _, sg := range sgs {
			if !sg.SignedAt.IsZero() {
				signed++
			}
			if !sg.VoidAt.IsZero() {
				void++
			}
			if sg.AttestedBy != "" {
				attested++
			}
		}
		cs, _ := fx.st.Confirmations(ctx, "", d.ID)
		states := ""
		for _, c := range cs {
			states += c.State + fmt.Sprint(c.SessionID) + ","
		}
		fmt.Fprintf(&b, " doc%d=%s/v%d/%s/signers%d/signed%d/void%d/att%d/conf[%s]", d.ID, d.State, d.Version, d.ShownSpace, len(sgs), signed, void, attested, states)
	}
	tpls, _ := fx.st.DocTemplates(ctx)
	for _, t := range tpls {
		b.WriteString(" tpl=" + t.UpdatedBy)
	}
	if img, err := fx.st.SealImage(ctx, "east"); err == nil {
		fmt.Fprintf(&b, " seal=%d", len(img))
	}
	return b.String()
}

// testSignature is a small PNG with a stroke, like a finger's signature.
func testSignature() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 120))
	for x := 20; x < 280; x++ {
		img.Set(x, 60+(x%30)-15, color.NRGBA{0, 0, 0, 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func testSignatureB64() string { return base64.StdEncoding.EncodeToString(testSignature()) }

// testSeal is a round red seal of an odd size, to be found in a PDF by its size.
func testSeal() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 211, 197))
	for x := 0; x < 211; x++ {
		for y := 0; y < 197; y++ {
			if dx, dy := x-105, y-98; dx*dx+dy*dy < 90*90 && dx*dx+dy*dy > 80*80 {
				img.Set(x, y, color.NRGBA{200, 20, 20, 255})
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
