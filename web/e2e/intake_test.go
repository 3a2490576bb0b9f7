package e2e

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// photoFile writes a small JPEG for the request form's photo input.
func photoFile(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for x := 0; x < 800; x++ {
		for y := 0; y < 600; y += 7 {
			img.Set(x, y, color.RGBA{uint8(x), 90, 40, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "road.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *page) text(expr string) string {
	p.t.Helper()
	var s string
	if err := p.eval(expr, &s); err != nil {
		p.fatalf("%s: %v", expr, err)
	}
	return s
}

// TestCitizenIntakeLoop (issue 11), on a phone: the centre's QR page, a request with a
// photo, the tracking page; in the console: the intake queue, assessment (red), the alert
// a leader acknowledges, dispatch to another township and its acceptance, the dashboard's
// centre tree and the poster.
func TestCitizenIntakeLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)

	phone := b.newPerson("citizen", 390, 844)
	phone.navigate(app.URL + "/q/east-taoyuan")
	phone.waitJS("the centre's page", `!!document.querySelector('.pub-home') && document.querySelector('.pub-home h1').innerText.includes('桃园村')`, 20*time.Second)
	phone.screenshot("intake-1-qr-page")
	phone.click(`[data-action=pub-request]`)
	phone.waitJS("request form", `!!document.querySelector('.pub-form textarea[name=description]')`, 10*time.Second)
	const desc = "村西头道路被挖断三天无人修复"
	phone.setValue(`select[name=category]`, "neighbours")
	phone.setValue(`textarea[name=description]`, desc)
	phone.setValue(`input[name=name]`, "孙大爷")
	phone.setValue(`input[name=phone]`, "13912345678")
	phone.setValue(`input[name=address]`, "桃园村二组")
	if err := chromedp.Do(phone.ctx, chromedp.SetUploadFiles(chromedp.CSS(`input[name=photos]`), []string{photoFile(t)})); err != nil {
		t.Fatalf("upload: %v", err)
	}
	phone.waitJS("photo thumbnail", `document.querySelectorAll('.pub-thumbs img').length === 1`, 10*time.Second)
	phone.click(`input[name=consent]`)
	phone.screenshot("intake-2-request-form")
	phone.click(`[data-action=pub-send]`)
	phone.waitJS("tracking code", `!!document.querySelector('.pub-done .pub-code')`, 15*time.Second)
	code := phone.text(`document.querySelector('.pub-code').dataset.code`)
	phone.screenshot("intake-3-request-sent")
	phone.navigate(app.URL + "/t/" + code)
	phone.waitJS("tracking: received", `!!document.querySelector('.pub-track-page[data-stage=received]')`, 15*time.Second)
	phone.screenshot("intake-4-tracking-received")

	// the township's mediator sees it in the intake queue and assesses it red
	med := b.newPerson("east-mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(app.URL + "/console/intake")
	find := fmt.Sprintf(`(() => { const e = [...document.querySelectorAll('.intake-item')].find(e => e.innerText.includes(%q)); return e ? e.dataset.case : ''; })()`, desc)
	med.waitJS("the request in the queue", find+` !== ''`, 20*time.Second)
	id := med.text(find)
	item := fmt.Sprintf(`.intake-item[data-case="%s"]`, id)
	med.waitJS("its photo and channel", fmt.Sprintf(`document.querySelector('%s').dataset.channel === 'qr'`, item), 5*time.Second)
	med.screenshot("intake-5-console-queue")
	med.setValue(item+` select[name=risk]`, "red")
	med.setValue(item+` textarea[name=notes]`, "路断影响全村出行，村民情绪激动")
	med.click(item + ` [data-action=assess]`)
	med.waitJS("assessed: waiting for dispatch", fmt.Sprintf(`!!document.querySelector('h2.to-dispatch') && !!document.querySelector('%s select[name=to]')`, item), 15*time.Second)

	// the township's leader sees the red alert and acknowledges it
	lead := b.newPerson("east-leader", 1366, 900)
	staffLogin(lead, app.URL, "east-leader", app.password(t, "east-leader"))
	lead.navigate(app.URL + "/console/alerts")
	lead.waitJS("red alert", `!!document.querySelector('.alert-row[data-kind=red] [data-action=ack]')`, 20*time.Second)
	lead.screenshot("intake-6-alerts")
	lead.click(`.alert-row[data-kind=red] [data-action=ack]`)
	lead.waitJS("acknowledged", `!document.querySelector('.alert-row[data-kind=red]')`, 15*time.Second)

	// dispatch to the other township, which accepts
	med.setValue(item+` select[name=to]`, "west")
	med.setValue(item+` input[name=reason]`, "施工单位属西山镇管辖")
	med.screenshot("intake-7-dispatch")
	med.click(item + ` [data-action=transfer]`)
	west := b.newPerson("west-mediator", 1366, 900)
	staffLogin(west, app.URL, "west-mediator", app.password(t, "west-mediator"))
	west.navigate(app.URL + "/console/intake")
	west.waitJS("incoming transfer", `!!document.querySelector('.incoming .transfer-item [data-action=accept]')`, 20*time.Second)
	west.screenshot("intake-8-incoming-transfer")
	west.click(`.incoming .transfer-item [data-action=accept]`)
	west.waitJS("accepted", `!document.querySelector('.incoming')`, 15*time.Second)
	// the case page's loop panel: the citizen's photo, the transfer and the alert, read-only
	west.navigate(app.URL + "/console/cases/" + id)
	west.waitJS("the loop panel", `(() => { const l = document.querySelector('.case-loop'); if (!l) return false;
  const img = l.querySelector('.loop-thumbs img');
  return !!img && img.complete && img.naturalWidth > 0 && !!l.querySelector('.transfer-row[data-state=accepted]') && !!l.querySelector('.alert-item[data-kind=red]'); })()`, 20*time.Second)
	west.eval(`document.querySelector('.case-loop').scrollIntoView()`, nil)
	west.screenshot("intake-8b-case-loop")

	phone.navigate(app.URL + "/t/" + code)
	phone.waitJS("tracking: handed on", `!!document.querySelector('.pub-track-page[data-stage=handed]') && document.querySelector('.pub-steps').innerText.includes('西山镇')`, 15*time.Second)
	phone.screenshot("intake-9-tracking-handed")
	var leaked bool
	_ = phone.eval(`document.body.innerText.includes('情绪激动') || document.body.innerText.includes('13912345678')`, &leaked)
	if leaked {
		t.Fatal("the tracking page shows staff notes or the phone number")
	}

	// the city's dashboard: the centre tree counts it at West
	admin := b.newPerson("admin", 1366, 900)
	staffLogin(admin, app.URL, "admin", app.password(t, "admin"))
	admin.navigate(app.URL + "/console/dashboard")
	admin.waitJS("centre tree", `(() => { const r = document.querySelector('.centre-tree tr[data-centre=west]'); return !!r && Number(r.children[1].innerText) >= 2; })()`, 20*time.Second)
	admin.screenshot("intake-10-dashboard")

	phone.navigate(app.URL + "/q/east-taoyuan/poster")
	phone.waitJS("poster QR", `(() => { const i = document.querySelector('img.poster-qr'); return !!i && i.complete && i.naturalWidth > 0; })()`, 15*time.Second)
	phone.screenshot("intake-11-poster")
}

// TestVideoCallDutyQueue (issue 11): a citizen calls the centre by video from its QR page;
// the mediator on duty hears the knock, admits the caller and they see each other.
func TestVideoCallDutyQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)

	med := b.newPerson("east-mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.navigate(app.URL + "/console/intake")
	med.waitJS("on duty", `!!document.querySelector('.duty[data-on="1"] [data-action=duty-room]')`, 20*time.Second)
	med.click(`[data-action=duty-room]`)
	med.waitJS("duty room", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	phone := b.newPerson("caller", 390, 844)
	phone.navigate(app.URL + "/q/east")
	phone.waitJS("the centre's page", `!!document.querySelector('[data-action=pub-call]')`, 20*time.Second)
	phone.click(`[data-action=pub-call]`)
	phone.setValue(`input[name=name]`, "周大姐")
	phone.setValue(`input[name=phone]`, "13511112222")
	phone.screenshot("call-1-form")
	phone.click(`[data-action=pub-call-start]`)
	phone.waitJS("the party page", `location.pathname.startsWith('/j/') && !!document.querySelector('form.invite .session-title')`, 20*time.Second)
	phone.click(`[data-action=name-ok]`)
	phone.waitJS("camera preview", `(() => { const v = document.querySelector('.dc-preview video'); return !!v && v.videoWidth > 0; })()`, 20*time.Second)
	phone.click(`[data-action=devices-ok]`)
	phone.waitJS("notice", `!!document.querySelector('.consent [data-action=consent]')`, 10*time.Second)
	phone.click(`[data-action=consent]`)
	phone.waitJS("lobby", `!!document.querySelector('.call.in-lobby .lobby-time')`, 20*time.Second)
	phone.waitJS("place in the queue", `(() => { const p = document.querySelector('.queue-place'); return !!p && !p.classList.contains('hidden') && p.dataset.position === '1'; })()`, 15*time.Second)
	phone.screenshot("call-2-lobby")

	med.waitJS("the knock: a caller in the queue", `!!document.querySelector('.lobby .queue-item')`, 20*time.Second)
	caller := med.text(`document.querySelector('.lobby .queue-item').dataset.identity`)
	if !strings.HasPrefix(caller, "guest-") {
		t.Fatalf("caller identity %q", caller)
	}
	med.screenshot("call-3-duty-queue")
	med.click(`[data-action=admit-next]`)
	phone.waitVideoFrom("staff-east-mediator", 45*time.Second)
	med.waitVideoFrom(caller, 45*time.Second)
	phone.screenshot("call-4-in-call")
}
