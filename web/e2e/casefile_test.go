package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestCaseFilePlayback: a short recorded session (mediator and one party), ended by the
// host; the case file page plays the recorded tracks on one timeline, seeks from the event
// log, and reports the verification (hashes, chain, signature) as good.
func TestCaseFilePlayback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	invs := app.invitations(t, "mediation")
	applicant := pick(t, invs, "party", "applicant")
	sessionID := applicant.SessionID
	const mediatorID = "staff-east-mediator"

	med := b.newPage("mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	pa := b.newPage("applicant", 390, 844)
	partyJoins(pa, app.URL, applicant, "")
	admit(med, pa, applicant.Identity)
	pa.waitVideoFrom(mediatorID, 45*time.Second)
	med.waitVideoFrom(applicant.Identity, 45*time.Second)
	pa.waitJS("recording indicator", `!document.querySelector('.rec-ind').classList.contains('hidden')`, 20*time.Second)
	pa.screenshot("party-session-recording")
	time.Sleep(4 * time.Second) // a few seconds of media in the files

	// the host ends the session for everyone
	if err := med.eval(`(() => { window.confirm = () => true; return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	med.click(`[data-action=end-session]`)
	pa.waitJS("party told the session ended", `!!document.querySelector('.ended')`, 20*time.Second)
	pa.navigate(app.URL + "/j/" + applicant.Code) // the link again, after the end
	pa.waitJS("ended session on the invitation page", `!!document.querySelector('.ended') && !document.querySelector('form.invite')`, 20*time.Second)
	pa.screenshot("party-session-ended")

	// the case file: sealed, verified, playable
	med.navigate(fmt.Sprintf("%s/console/sessions/%d/file", app.URL, sessionID))
	med.waitJS("sealed case file", `!!document.querySelector('.chip.ok') && document.querySelectorAll('.players video').length >= 2`, 30*time.Second)
	med.waitJS("verification good", `!!document.querySelector('[data-verified="true"]')`, 30*time.Second)
	med.waitJS("recordings loaded", `[...document.querySelectorAll('.players video')].every(v => v.readyState >= 1 && v.duration > 1)`, 30*time.Second)
	med.click(`[data-action=play]`)
	med.waitJS("playing in step", `(() => { const vs = [...document.querySelectorAll('.players figure:not(.idle) video')]; return vs.length >= 1 && vs.every(v => v.currentTime > 0.5 && !v.paused); })()`, 30*time.Second)
	med.screenshot("casefile")
	// clicking an event seeks the timeline there
	med.click(`.cf-log li[data-kind="ended"]`)
	med.waitJS("seeked to the end", `Number(document.querySelector('.scrub').value) > 2000`, 10*time.Second)

	// the whole case folder (sessions and custody log) verifies too, from the case page
	med.click(`.casefile-case-link`)
	med.click(`[data-action=verify-case]`)
	med.waitJS("case verification good", `!!document.querySelector('.verify-case-result [data-verified="true"]')`, 30*time.Second)
	med.screenshot("case-page-after-session")
}
