package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestConsolePages walks the staff console: cases with filters, a new case, scheduling a
// session, an invitation with its QR code, the dashboard's charts, the directory, and the
// language switch. Each screen is saved as a screenshot.
func TestConsolePages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)

	p := b.newPage("mediator", 1366, 900)
	p.navigate(app.URL + "/")
	p.waitJS("home page", `!!document.querySelector('.home a[href="/console"]')`, 15*time.Second)
	p.screenshot("home")
	p.navigate(app.URL + "/j/no-such-invitation")
	p.waitJS("invalid invitation", `!!document.querySelector('.invite-invalid')`, 15*time.Second)
	p.screenshot("party-invitation-invalid")
	p.navigate(app.URL + "/console")
	p.waitJS("login form", `!!document.querySelector('form.login')`, 20*time.Second)
	p.screenshot("console-login")
	p.setValue(`input[name=username]`, "east-mediator")
	p.setValue(`input[name=password]`, "wrong password")
	p.click(`[data-action=login]`)
	p.waitJS("login refused", `!document.querySelector('form.login .check-line').classList.contains('hidden')`, 10*time.Second)
	staffLogin(p, app.URL, "east-mediator", app.password(t, "east-mediator"))

	// cases, filtered by risk
	p.click(`.sidenav a[data-nav=cases]`)
	p.waitJS("cases table", `document.querySelectorAll('table.cases tbody tr[data-case]').length >= 2`, 15*time.Second)
	p.screenshot("console-cases")
	if err := p.eval(`(() => { const s = document.querySelector('select[name=risk]'); s.value = 'yellow'; s.dispatchEvent(new Event('change')); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	p.waitJS("filtered to yellow", `(() => { const rows = [...document.querySelectorAll('table.cases tbody tr[data-case]')]; return rows.length >= 1 && rows.every(r => r.querySelector('.chip.yellow')); })()`, 15*time.Second)

	// a new case with two parties
	p.click(`.sidenav a[data-nav=new]`)
	p.waitJS("new case form", `!!document.querySelector('form.new-case')`, 15*time.Second)
	p.setValue(`form.new-case input[name=title]`, "合同欠款纠纷")
	if err := p.eval(`(() => { const n = document.querySelectorAll('input[name=party-name]'); n[0].value = '甲公司'; n[1].value = '乙个体户'; const c = document.querySelector('select[name=category]'); c.value = 'contracts'; return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	p.screenshot("console-new-case")
	p.click(`[data-action=create-case]`)
	p.waitJS("case page", `location.pathname.startsWith('/console/cases/') && document.body.innerText.includes('合同欠款纠纷') && document.body.innerText.includes('乙个体户')`, 15*time.Second)

	// schedule a session, invite the applicant, show the QR code
	p.click(`[data-action=schedule]`)
	p.click(`[data-action=schedule-ok]`)
	p.waitJS("session page", `location.pathname.startsWith('/console/sessions/') && !!document.querySelector('[data-action=create-invitation]')`, 15*time.Second)
	if err := p.eval(`(() => { const s = document.querySelector('.invitations select[name=party]'); s.value = s.options[1].value; s.dispatchEvent(new Event('change')); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	p.click(`[data-action=create-invitation]`)
	p.waitJS("QR code", `!!document.querySelector('.modal .qr svg')`, 15*time.Second)
	var link string
	if err := p.eval(`document.querySelector('.modal .mono').textContent`, &link); err != nil || !strings.Contains(link, "/j/") {
		t.Fatalf("invitation link %q: %v", link, err)
	}
	p.screenshot("console-invitation-qr")
	p.click(`.modal-back .modal button[aria-label]`)
	p.waitJS("invitation listed", `document.querySelectorAll('.invitations tr[data-code]').length === 1`, 10*time.Second)
	p.screenshot("console-session")

	// the invitation link works for a party
	party := b.newPage("party", 390, 844)
	party.navigate(link)
	party.waitJS("invitation page", `document.querySelector('form.invite input[name=name]')?.value === '甲公司'`, 15*time.Second)
	party.navigate(link + "?lang=en")
	party.waitJS("invitation page in English", `document.querySelector('form.invite h1').textContent === 'You are invited to an online mediation'`, 15*time.Second)
	party.screenshot("party-invitation-en")

	// the console on a phone (same browser, same sign-in)
	phone := b.newPage("phone", 390, 844)
	phone.navigate(app.URL + "/console/cases")
	phone.waitJS("cases on a phone", `document.querySelectorAll('table.cases tbody tr[data-case]').length >= 2`, 15*time.Second)
	phone.screenshot("console-cases-phone")

	// dashboard: three charts with bars
	p.click(`.sidenav a[data-nav=dashboard]`)
	p.waitJS("charts", `document.querySelectorAll('.chart svg rect').length >= 6 && document.querySelectorAll('.chart').length === 3`, 15*time.Second)
	p.screenshot("console-dashboard")

	// directory, filtered to judges
	p.click(`.sidenav a[data-nav=directory]`)
	p.waitJS("directory", `document.querySelectorAll('table.list tbody tr').length >= 5`, 15*time.Second)
	p.screenshot("console-directory")

	// English
	p.click(`button.lang`)
	p.waitJS("English labels", `document.querySelector('.sidenav a[data-nav=cases]').textContent.includes('Cases')`, 5*time.Second)
	p.click(`.sidenav a[data-nav=cases]`)
	p.waitJS("English cases page", `document.querySelector('table.cases th').textContent === 'Case no.'`, 15*time.Second)
	p.screenshot("console-cases-en")
	var stored string
	if err := p.eval(`localStorage.getItem('yizhan.lang')`, &stored); err != nil || stored != "en" {
		t.Fatalf("language not stored: %q %v", stored, err)
	}
}
