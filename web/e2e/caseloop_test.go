package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// fill sets the named fields under scope and clicks button, in one step of the page's
// event loop: a redraw (the case page redraws on every case event) cannot come between.
func (p *page) fill(scope string, values map[string]string, button string) {
	p.t.Helper()
	v, _ := json.Marshal(values)
	expr := fmt.Sprintf(`(() => {
  const root = document.querySelector(%q);
  if (!root) return 'no ' + %q;
  for (const [name, value] of Object.entries(%s)) {
    const el = root.querySelector('[name="' + name + '"]');
    if (!el) return 'no field ' + name;
    el.value = value;
  }
  const b = root.querySelector(%q);
  if (!b) return 'no button ' + %q;
  if (b.disabled) return 'disabled ' + %q;
  b.click();
  return '';
})()`, scope, scope, v, button, button, button)
	var res string
	if err := p.eval(expr, &res); err != nil || res != "" {
		p.fatalf("fill %s: %v %s", scope, err, res)
	}
}

// TestCaseLoopPanel (issue 11): on a case page a mediator adds a supervision item, marks it
// done with a note, closes the case with an outcome and how the citizen was informed, and
// sees the closed state (read-only but for a reopen and follow-ups); a follow-up is added.
func TestCaseLoopPanel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)

	med := b.newPerson("east-mediator", 1366, 1400)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(app.URL + "/console/cases/new")
	med.waitJS("new case form", `!!document.querySelector('form.new-case input[name=title]')`, 20*time.Second)
	med.fill(`form.new-case`, map[string]string{"title": "邻里排水沟堵塞纠纷"}, `[data-action=create-case]`)
	med.waitJS("the case page with its loop panel", `/^\/console\/cases\/\d+$/.test(location.pathname) && !!document.querySelector('.case-loop form.sup-add')`, 20*time.Second)

	// a supervision item; closing is refused while it is open
	med.fill(`.case-loop form.sup-add`, map[string]string{"unit": "桃园村村委会", "note": "三日内疏通排水沟"}, `[data-action=sup-add]`)
	med.waitJS("an open supervision item", `(() => { const i = document.querySelector('.case-loop .sup-item'); return !!i && i.dataset.state === 'open' && i.innerText.includes('桃园村村委会'); })()`, 15*time.Second)
	med.waitJS("closing waits for the item", `document.querySelector('.case-loop [data-action=case-close]').disabled`, 5*time.Second)

	// done, with a note
	med.fill(`.case-loop .sup-item`, map[string]string{"done_note": "已组织清淤，排水恢复"}, `[data-action=sup-done]`)
	med.waitJS("the item done with its note", `(() => { const i = document.querySelector('.case-loop .sup-item'); return !!i && i.dataset.state === 'done' && i.querySelector('.done-note').innerText.includes('已组织清淤'); })()`, 15*time.Second)

	// close: outcome and how the citizen was informed
	med.waitJS("closing allowed", `!document.querySelector('.case-loop [data-action=case-close]').disabled`, 5*time.Second)
	med.fill(`.case-loop form.loop-close`, map[string]string{"outcome": "双方达成一致，排水沟已疏通", "informed_by": "visit"}, `[data-action=case-close]`)
	med.waitJS("the closed state", `(() => {
  const l = document.querySelector('.case-loop');
  return !!l && l.dataset.status === 'closed' && !!l.querySelector('.loop-closed [data-action=case-reopen]') &&
    l.querySelector('.closed-outcome').innerText.includes('排水沟已疏通') && l.querySelector('.closed-informed').innerText === '上门走访' &&
    !l.querySelector('form.sup-add') && !l.querySelector('form.loop-close') && document.querySelector('h1').innerText.includes('反馈办结');
})()`, 15*time.Second)

	// a follow-up visit on the closed case
	med.fill(`.case-loop form.fu-add`, map[string]string{"method": "phone", "fu_note": "群众表示满意", "satisfaction": "5"}, `[data-action=fu-add]`)
	med.waitJS("the follow-up", `(() => { const f = document.querySelector('.case-loop .followup-item'); return !!f && f.innerText.includes('群众表示满意'); })()`, 15*time.Second)
	med.eval(`document.querySelector('.case-loop').scrollIntoView()`, nil)
	med.screenshot("caseloop-closed")
}
