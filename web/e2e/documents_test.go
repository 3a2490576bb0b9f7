package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// drawSignature draws a signature on the canvas matching sel: with a finger (touch
// events) on a phone-sized page, with the mouse otherwise. Real input events, so the
// signature pad sees what a person's strokes would give it.
func drawSignature(p *page, sel string, touch bool) {
	p.t.Helper()
	var r struct{ X, Y, W, H float64 }
	p.waitJS("signature pad", fmt.Sprintf(`(() => { const c = document.querySelector('%s'); return !!c && c.getBoundingClientRect().width > 50; })()`, sel), 10*time.Second)
	if err := p.eval(fmt.Sprintf(`(() => { const c = document.querySelector('%s'); c.scrollIntoView({block: 'center'}); const b = c.getBoundingClientRect(); return {X: b.x, Y: b.y, W: b.width, H: b.height}; })()`, sel), &r); err != nil {
		p.fatalf("signature pad: %v", err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	touchAt := func(typ input.DispatchTouchEventType, x, y float64) error {
		pts := []*input.TouchPoint{{X: x, Y: y}}
		if typ == input.DispatchTouchEventTypeTouchEnd {
			pts = []*input.TouchPoint{}
		}
		_, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts})
		return err
	}
	mouseAt := func(typ input.DispatchMouseEventType, x, y float64) error {
		_, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: typ, X: x, Y: y,
			Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1})
		return err
	}
	for s := 0; s < 2; s++ { // two strokes, like two characters of a name
		x0 := r.X + r.W*(0.15+0.4*float64(s))
		var err error
		for i := 0; i <= 12 && err == nil; i++ {
			f := float64(i) / 12
			x, y := x0+r.W*0.3*f, r.Y+r.H*(0.3+0.4*f*f)+float64(i%3)*3
			switch {
			case touch && i == 0:
				err = touchAt(input.DispatchTouchEventTypeTouchStart, x, y)
			case touch:
				err = touchAt(input.DispatchTouchEventTypeTouchMove, x, y)
			case i == 0:
				err = mouseAt(input.DispatchMouseEventTypeMousePressed, x, y)
			default:
				err = mouseAt(input.DispatchMouseEventTypeMouseMoved, x, y)
			}
			time.Sleep(15 * time.Millisecond)
			if i == 12 && err == nil {
				if touch {
					err = touchAt(input.DispatchTouchEventTypeTouchEnd, x, y)
				} else {
					err = mouseAt(input.DispatchMouseEventTypeMouseReleased, x, y)
				}
			}
		}
		if err != nil {
			p.fatalf("draw signature: %v", err)
		}
	}
}

// partySigns opens the document from the party's drawer or page, ticks "I have read and
// agree", draws with a finger and submits.
func partySigns(p *page, docID int64, shot string, still bool) {
	p.t.Helper()
	card := fmt.Sprintf(`.doc-card[data-doc="%d"]`, docID)
	p.waitJS("document to sign", fmt.Sprintf(`!!document.querySelector('%s [data-action=sign]')`, card), 20*time.Second)
	p.click(card + ` [data-action=sign]`)
	p.waitJS("signing view", `!!document.querySelector('.sign-view canvas')`, 10*time.Second)
	p.click(`.sign-view input[name=agree]`)
	if still { // a photo from the call's camera, with its own consent
		p.click(`.sign-view input[name=still]`)
	}
	drawSignature(p, `.sign-view canvas`, true)
	if shot != "" {
		p.screenshot(shot)
	}
	p.click(`[data-action=submit-signature]`)
	p.waitJS("signed", fmt.Sprintf(`!document.querySelector('.sign-view') && !!document.querySelector('%s') && !document.querySelector('%s [data-action=sign]')`, card, card), 20*time.Second)
}

// TestDocumentsSigning: in a live session, the mediator drafts the agreement in the
// console and shows it in the joint space; the parties, on phone-sized pages, see the
// text follow the typing; the mediator sends it; each party reads it, ticks "I have read
// and agree" and signs with a finger; the mediator signs last and the agreement is
// sealed; a party downloads the sealed PDF (pdftotext reads the names and the case
// number); the mediator asks a judge for confirmation and the judge's queue shows it.
func TestDocumentsSigning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	invs := app.invitations(t, "mediation")
	applicant := pick(t, invs, "party", "applicant")
	respondent := pick(t, invs, "party", "respondent")
	sessionID := applicant.SessionID

	med := b.newPage("mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	med.waitJS("session page", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	pa := b.newPerson("applicant", 390, 844)
	partyJoins(pa, app.URL, applicant, "")
	admit(med, pa, applicant.Identity)
	pb := b.newPerson("respondent", 390, 844)
	partyJoins(pb, app.URL, respondent, "")
	admit(med, pb, respondent.Identity)

	// the drafting view in a tab of its own: the call goes on in the first
	var caseID int64
	if err := med.eval(`(async () => (await (await fetch('/api/sessions/`+fmt.Sprint(sessionID)+`')).json()).case_id)()`, &caseID); err != nil || caseID == 0 {
		t.Fatalf("case of the session: %v", err)
	}
	draft := b.newPage("drafting", 1366, 900)
	draft.navigate(fmt.Sprintf("%s/console/documents/new?case=%d&kind=agreement&session=%d", app.URL, caseID, sessionID))
	draft.waitJS("drafting view", `location.pathname.match(/\/console\/documents\/\d+$/) && !!document.querySelector('textarea.doc-editor')`, 20*time.Second)
	var docID int64
	if err := draft.eval(`Number(location.pathname.split('/').pop())`, &docID); err != nil {
		t.Fatal(err)
	}
	draft.click(`[data-action=show]`)
	draft.waitJS("shown in the joint space", `!!document.querySelector('[data-action=show].primary')`, 10*time.Second)
	typeClause := func(clause string) {
		if err := draft.eval(fmt.Sprintf(`(() => { const e = document.querySelector('textarea.doc-editor'); e.value += %q; e.dispatchEvent(new Event('input')); return true; })()`, "\n"+clause), nil); err != nil {
			t.Fatal(err)
		}
	}
	typeClause("一、被申请人于2026年12月31日前向申请人支付拖欠工资人民币捌仟元整。")
	for _, p := range []*page{pa, pb} {
		p.waitJS("the live text", fmt.Sprintf(`[...document.querySelectorAll('.doc-card[data-doc="%d"] .doc-body')].some(e => e.textContent.includes('捌仟元整'))`, docID), 20*time.Second)
	}
	typeClause("二、双方就本纠纷再无其他争议。")
	pa.waitJS("the next clause, live", fmt.Sprintf(`[...document.querySelectorAll('.doc-card[data-doc="%d"] .doc-body')].some(e => e.textContent.includes('再无其他争议'))`, docID), 20*time.Second)
	pa.screenshot("documents-party-live-text")
	draft.waitJS("saved", `document.querySelector('.doc-status').textContent.length > 0 && !document.querySelector('.doc-status').textContent.includes('…')`, 10*time.Second)
	draft.screenshot("documents-console-drafting")

	// send to both parties (identity attested by the mediator) and the mediator
	draft.click(`[data-action=send]`)
	draft.waitJS("send dialog", `document.querySelectorAll('.modal input[name=inv]').length >= 2`, 10*time.Second)
	draft.click(`[data-action=send-confirm]`)
	draft.waitJS("out for signature", `!!document.querySelector('[data-doc-state=signing]')`, 10*time.Second)

	partySigns(pa, docID, "documents-party-signing", true)
	partySigns(pb, docID, "", false)
	draft.waitJS("two signatures in", `document.querySelectorAll('.signers .chip.ok').length === 2`, 15*time.Second)
	drawSignature(draft, `.doc-side canvas.sig-canvas`, false)
	draft.click(`[data-action=staff-sign]`)
	draft.waitJS("sealed", `!!document.querySelector('[data-doc-state=sealed]') && !!document.querySelector('[data-action=pdf]')`, 20*time.Second)
	draft.screenshot("documents-console-sealed")

	// the party downloads the sealed copy
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(pa.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: chromedp.FromContext(pa.ctx).BrowserContextID, DownloadPath: dl}); err != nil {
		t.Fatal(err)
	}
	pa.waitJS("download button", fmt.Sprintf(`!!document.querySelector('.doc-card[data-doc="%d"] [data-action=pdf]')`, docID), 20*time.Second)
	pa.screenshot("documents-party-sealed")
	pa.click(fmt.Sprintf(`.doc-card[data-doc="%d"] [data-action=pdf]`, docID))
	var pdfFile string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && pdfFile == ""; time.Sleep(200 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(dl, "*.pdf"))
		if len(m) == 1 {
			pdfFile = m[0]
		}
	}
	if pdfFile == "" {
		pa.fatalf("no PDF downloaded")
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfFile, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{applicant.Name, respondent.Name, applicant.CaseNumber, "捌仟元整"} {
		if want == "" || !strings.Contains(text, want) {
			t.Errorf("the downloaded PDF does not contain %q", want)
		}
	}
	if fi, _ := os.Stat(pdfFile); fi != nil {
		t.Logf("downloaded %s (%d bytes)", filepath.Base(pdfFile), fi.Size())
	}

	// judicial confirmation: asked from the console, seen in the judge's queue
	draft.click(`[data-action=ask-confirmation]`)
	draft.waitJS("judge picker", `!!document.querySelector('.modal select[name=judge] option')`, 10*time.Second)
	draft.click(`[data-action=ask-confirm]`)
	draft.waitJS("asked", `!document.querySelector('.modal')`, 10*time.Second)
	judge := b.newPerson("judge", 1366, 900)
	staffLogin(judge, app.URL, "judge", app.password(t, "judge"))
	judge.click(`.sidenav a[data-nav=confirmations]`)
	judge.waitJS("queue", `!!document.querySelector('table.conf-queue tr[data-confirmation] [data-conf-state=pending]')`, 15*time.Second)
	judge.screenshot("documents-judge-queue")
	judge.click(`table.conf-queue tr[data-confirmation] a`)
	judge.waitJS("request detail", `!!document.querySelector('.evidence li') && !!document.querySelector('.verify')`, 15*time.Second)
	judge.waitJS("the applicant's photo is listed as evidence", `document.querySelectorAll('.evidence .still-ev').length === 1`, 5*time.Second)
	judge.screenshot("documents-judge-request")
	judge.click(`[data-action=confirm]`)
	judge.waitJS("decided", `!!document.querySelector('[data-conf-state=confirmed]')`, 20*time.Second)
	pa.waitJS("the party sees the decision", `[...document.querySelectorAll('.doc-card[data-state=sealed]')].some(c => c.textContent.includes('确认人民调解协议效力决定书'))`, 20*time.Second)
	pa.screenshot("documents-party-decision")

	// an admin edits a template and uploads the centre's seal
	adm := b.newPerson("admin", 1366, 900)
	staffLogin(adm, app.URL, "admin", app.password(t, "admin"))
	adm.click(`.sidenav a[data-nav=templates]`)
	adm.waitJS("templates", `document.querySelectorAll('select[name=template] option').length >= 7 && document.querySelector('textarea.doc-editor').value.includes('{{案号}}')`, 15*time.Second)
	adm.setValue(`input[name=title]`, "人民调解协议书（通用）")
	adm.click(`[data-action=save-template]`)
	adm.waitJS("saved", `[...document.querySelectorAll('.toast')].some(e => e.textContent.includes('模板已保存'))`, 10*time.Second)
	seal := filepath.Join(t.TempDir(), "seal.png")
	if err := os.WriteFile(seal, sealPNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(adm.ctx, 15*time.Second)
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.SetUploadFiles(chromedp.CSS(`input[name=seal]`), []string{seal})); err != nil {
		t.Fatal(err)
	}
	adm.waitJS("seal shown", `(() => { const i = document.querySelector('.seal-box img'); return !!i && i.complete && i.naturalWidth === 120; })()`, 15*time.Second)
	adm.screenshot("documents-admin-templates")
}

// sealPNG is a red ring, like a centre's seal.
func sealPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 120, 120))
	for x := 0; x < 120; x++ {
		for y := 0; y < 120; y++ {
			if d := (x-60)*(x-60) + (y-60)*(y-60); d < 56*56 && d > 48*48 {
				img.Set(x, y, color.NRGBA{200, 20, 20, 255})
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
