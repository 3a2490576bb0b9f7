package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestReceptionQueue: two petitioners queue by link; the leader admits them in arrival
// order with "admit next", talks with each (video both ways) and files an outcome with a
// supervision item, which ends that petitioner's call.
func TestReceptionQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	invs := app.invitations(t, "reception")
	if len(invs) < 2 {
		t.Fatalf("need two reception invitations, have %d", len(invs))
	}
	first, second := invs[0], invs[1]
	sessionID := first.SessionID
	const leaderID = "staff-east-leader"

	leader := b.newPage("leader", 1366, 900)
	staffLogin(leader, app.URL, "east-leader", app.password(t, "east-leader"))
	leader.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	leader.waitJS("session page", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	leader.click(`[data-action=join-av]`)
	leader.waitJS("leader in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	p1 := b.newPage("petitioner-1", 390, 844)
	partyJoins(p1, app.URL, first, "reception", "村口道路被占，出行困难")
	p2 := b.newPage("petitioner-2", 390, 844)
	partyJoins(p2, app.URL, second, "", "邻居漏水，协商未果")

	// the queue lists them in arrival order
	order := fmt.Sprintf(`(() => { const ids = [...document.querySelectorAll('.lobby .queue-item')].map(e => e.dataset.identity); return ids.join(',') === '%s,%s'; })()`, first.Identity, second.Identity)
	leader.waitJS("queue in arrival order", order, 20*time.Second)
	leader.waitJS("what they wrote", `document.querySelector('.lobby').innerText.includes('村口道路被占') && document.querySelector('.lobby').innerText.includes('邻居漏水')`, 10*time.Second)
	leader.screenshot("reception-queue")

	for i, pet := range []struct {
		p    *page
		inv  string
		note string
	}{{p1, first.Identity, "已协调村委会处理"}, {p2, second.Identity, "转司法所跟进"}} {
		leader.click(`[data-action=admit-next]`)
		pet.p.waitVideoFrom(leaderID, 45*time.Second)
		leader.waitVideoFrom(pet.inv, 45*time.Second)
		leader.waitJS("outcome form", `!!document.querySelector('form.outcome')`, 15*time.Second)
		if i == 0 {
			pet.p.screenshot("reception-petitioner-in-session")
		}
		leader.setValue(`form.outcome textarea[name=outcome-note]`, pet.note)
		leader.setValue(`form.outcome input[name=outcome-unit]`, "东城镇司法所")
		leader.setValue(`form.outcome input[name=outcome-deadline]`, "2026-12-31")
		if i == 0 {
			leader.screenshot("reception-outcome-form")
		}
		leader.click(`[data-action=file-outcome]`)
		pet.p.waitJS("petitioner's call ended", `!!document.querySelector('.ended')`, 20*time.Second)
		leader.waitNoVideoFrom(pet.inv, 20*time.Second)
	}

	// both outcomes are cases now
	var n int
	if err := leader.eval(`fetch('/api/cases').then(r => r.json()).then(j => j.cases.filter(c => c.title.startsWith('来访：')).length)`, &n); err != nil {
		t.Fatalf("list cases: %v", err)
	}
	if n != 2 {
		leader.fatalf("want 2 reception cases, have %d", n)
	}
}
