package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestPullInJudge: the mediator pulls a judge from the city centre into a live session
// through the staff directory; the judge is told at once in the console, follows the
// link, joins, knocks in the lobby and is admitted; both see each other.
func TestPullInJudge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	sessionID := app.invitations(t, "mediation")[0].SessionID
	const mediatorID, judgeID = "staff-east-mediator", "staff-judge"

	med := b.newPage("mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	judge := b.newPerson("judge", 1280, 800)
	staffLogin(judge, app.URL, "judge", app.password(t, "judge"))

	// the directory search finds the judge; "invite"
	med.click(`[data-action=pull-in]`)
	med.waitJS("directory dialog", `!!document.querySelector('.modal input[type=search]')`, 10*time.Second)
	if err := med.eval(`(() => { const q = document.querySelector('.modal input[type=search]'); q.value = '周法官'; q.dispatchEvent(new Event('input')); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	med.waitJS("judge listed", `[...document.querySelectorAll('.modal .person')].some(p => p.innerText.includes('周法官'))`, 10*time.Second)
	med.screenshot("console-pull-in")
	med.click(`.modal .person .btn.primary`)
	med.waitJS("dialog closed after the invitation", `!document.querySelector('.modal')`, 10*time.Second)

	// the judge's console says so, with a link into the session
	judge.waitJS("invitation toast", `!!document.querySelector('.toast .toast-action')`, 20*time.Second)
	judge.screenshot("console-invited-toast")
	judge.click(`.toast .toast-action`)
	judge.waitJS("session page", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	judge.click(`[data-action=join-av]`)
	judge.waitJS("judge waits in the lobby", `!!document.querySelector('.call.in-lobby')`, 30*time.Second)
	admit(med, judge, judgeID)
	judge.waitVideoFrom(mediatorID, 45*time.Second)
	med.waitVideoFrom(judgeID, 45*time.Second)
	judge.screenshot("judge-in-session")
}
