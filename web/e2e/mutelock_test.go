package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestHostMuteLockConsole (issue 12, row 9): from the console's spaces panel the
// mediator mutes the applicant with the lock. The console says the mute is locked; the
// applicant's own microphone button does not unmute (the page says only the host can)
// and the mediator's tile for the applicant stays muted. The mediator lifts the lock:
// the chip goes, and the applicant is heard again (unmuted by the lift, or by its own
// button, which works again).
func TestHostMuteLockConsole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	invs := app.invitations(t, "mediation")
	applicant := pick(t, invs, "party", "applicant")
	sessionID := applicant.SessionID

	med := b.newPage("mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	med.waitJS("session page", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	pa := b.newPage("applicant", 390, 844)
	partyJoins(pa, app.URL, applicant, "")
	admit(med, pa, applicant.Identity)

	row := fmt.Sprintf(`.spaces .person[data-identity="%s"]`, applicant.Identity)
	micOnAtMediator := fmt.Sprintf(`(() => { const m = document.querySelector('.tile[data-identity="%s"] .tile-mic'); return !!m && !m.classList.contains('off'); })()`, applicant.Identity)
	micOffAtMediator := fmt.Sprintf(`(() => { const m = document.querySelector('.tile[data-identity="%s"] .tile-mic'); return !!m && m.classList.contains('off'); })()`, applicant.Identity)
	med.waitJS("the applicant's microphone is on", micOnAtMediator, 30*time.Second)

	// mute with the lock, from the spaces panel
	med.waitJS("the lock button", `!!document.querySelector('`+row+` [data-action=lock-mute]')`, 20*time.Second)
	med.click(row + ` [data-action=lock-mute]`)
	med.waitJS("the console says the mute is locked", `!!document.querySelector('`+row+` [data-locked=microphone]') && !!document.querySelector('`+row+` [data-action=unlock-mute]')`, 20*time.Second)
	med.waitJS("the mediator's tile for the applicant is muted", micOffAtMediator, 20*time.Second)
	pa.waitJS("the applicant's mic button shows muted", `document.querySelector('button[data-ctl=mute]').classList.contains('off')`, 20*time.Second)
	med.screenshot("console-mute-locked")

	// the applicant tries to unmute: told why, and still muted
	pa.click(`button[data-ctl=mute]`)
	pa.waitJS("told only the host can unmute", `[...document.querySelectorAll('.toast')].some((e) => e.textContent.includes('只有主持人'))`, 10*time.Second)
	pa.screenshot("party-mute-locked")
	time.Sleep(2 * time.Second)
	var stillOff bool
	if err := med.eval(micOffAtMediator, &stillOff); err != nil || !stillOff {
		t.Fatalf("after the applicant's own unmute the mediator's tile shows the mic on (%v %v)", stillOff, err)
	}

	// English in the console too
	med.click(`button.lang`)
	med.waitJS("the chip in English", `document.querySelector('`+row+` [data-locked=microphone]').textContent.includes('Locked muted')`, 10*time.Second)
	med.click(`button.lang`)

	// the mediator lifts the lock: the chip goes; the applicant is heard again
	med.click(row + ` [data-action=unlock-mute]`)
	med.waitJS("the lock chip is gone", `!document.querySelector('`+row+` [data-locked]') && !!document.querySelector('`+row+` [data-action=lock-mute]')`, 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var on bool
		if err := med.eval(micOnAtMediator, &on); err == nil && on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the applicant is not heard again after the lock was lifted")
		}
		var off bool
		_ = pa.eval(`document.querySelector('button[data-ctl=mute]').classList.contains('off')`, &off)
		if off {
			pa.click(`button[data-ctl=mute]`) // its own unmute works again
		}
		time.Sleep(2 * time.Second)
	}
}
