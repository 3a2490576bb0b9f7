package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"yizhan/media"
	"yizhan/mediation"
	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
	"yizhan/web"
)

// appServer is the whole server as `serve --dev` runs it: signaling, media, mediation with
// the demo data, and the web app.
type appServer struct {
	*httptest.Server
	demo mediation.DemoInfo
	sig  *signaling.Server
}

func newAppServer(t *testing.T) *appServer {
	t.Helper()
	log := testLogger(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "yizhan.db"), log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	demo, err := mediation.SeedDemo(ctx, st)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	eng, err := media.NewEngine(media.Config{UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("media engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log}, eng)
	// recording as the binary wires it: a signing key and case files in the data folder
	data := t.TempDir()
	key, err := recording.LoadOrCreateKey(data)
	if err != nil {
		t.Fatalf("signing key: %v", err)
	}
	rec := recorder.New(recorder.Config{DataDir: data, Key: key, Rooms: mediation.RecorderRooms(sig), Logger: log})
	pub := key.Public()
	svc := mediation.New(mediation.Config{Recorder: rec, CaseDir: data, CaseKey: &pub,
		Documents: mediation.DocumentsConfig{DataDir: data, Key: key}}, st, sig, log) // documents: issue 10
	rec.OnError(svc.RecordingFailed)
	rec.OnState(svc.RecordingChanged)
	sig.SetHooks(svc)
	mux := http.NewServeMux()
	rtc := sig.Handler()
	mux.Handle("/rtc", rtc)
	mux.Handle("/rtc/", rtc)
	mux.Handle("/api/", svc.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		rec.Close()
		svc.Close()
		sig.Close()
		_ = eng.Close()
		_ = st.Close()
	})
	return &appServer{Server: srv, demo: demo, sig: sig}
}

func (a *appServer) password(t *testing.T, user string) string {
	for _, u := range a.demo.Users {
		if u.Username == user {
			return u.Password
		}
	}
	t.Fatalf("no demo user %s", user)
	return ""
}

// invitations of the first demo session of a kind.
func (a *appServer) invitations(t *testing.T, kind string) []mediation.DemoInvitation {
	var out []mediation.DemoInvitation
	var sid int64
	for _, inv := range a.demo.Invitations {
		if inv.SessionKind == kind && (sid == 0 || inv.SessionID == sid) {
			sid = inv.SessionID
			out = append(out, inv)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no demo %s invitations", kind)
	}
	return out
}

func pick(t *testing.T, invs []mediation.DemoInvitation, role, side string) mediation.DemoInvitation {
	for _, inv := range invs {
		if inv.Role == role && (side == "" || inv.Side == side) {
			return inv
		}
	}
	t.Fatalf("no %s %s invitation", role, side)
	return mediation.DemoInvitation{}
}

// staffLogin signs in on /console.
func staffLogin(p *page, base, user, password string) {
	p.t.Helper()
	p.navigate(base + "/console")
	p.waitJS("login form", `!!document.querySelector('form.login')`, 20*time.Second)
	p.setValue(`input[name=username]`, user)
	p.setValue(`input[name=password]`, password)
	p.click(`[data-action=login]`)
	p.waitJS("console", `!!document.querySelector('.console .sidenav')`, 20*time.Second)
}

// partyJoins walks a party through /j/<code>: details, device check, consent, lobby.
func partyJoins(p *page, base string, inv mediation.DemoInvitation, shots string, note ...string) {
	p.t.Helper()
	p.navigate(base + "/j/" + inv.Code)
	p.waitJS("invitation details", `!!document.querySelector('form.invite .session-title')`, 20*time.Second)
	if len(note) > 0 {
		p.setValue(`form.invite textarea[name=note]`, note[0])
	}
	if shots != "" {
		p.screenshot(shots + "-1-invitation")
	}
	p.click(`[data-action=name-ok]`)
	p.waitJS("camera preview", `(() => { const v = document.querySelector('.dc-preview video'); return !!v && v.videoWidth > 0; })()`, 20*time.Second)
	p.waitJS("network check", `!!document.querySelector('.check-line[data-rtt]')`, 20*time.Second)
	if shots != "" {
		p.screenshot(shots + "-2-device-check")
	}
	p.click(`[data-action=devices-ok]`)
	p.waitJS("notice", `!!document.querySelector('.consent [data-action=consent]')`, 10*time.Second)
	if shots != "" {
		p.screenshot(shots + "-3-consent")
	}
	p.click(`[data-action=consent]`)
	p.waitJS("lobby", `!!document.querySelector('.call.in-lobby .lobby-time')`, 20*time.Second)
}

// admit clicks a lobby entry's admit button and waits until the person has left the lobby
// list and their page has left the lobby view.
func admit(med, party *page, identity string) {
	med.t.Helper()
	sel := fmt.Sprintf(`.lobby [data-identity="%s"] [data-action=admit]`, identity)
	med.waitJS("lobby entry of "+identity, fmt.Sprintf(`!!document.querySelector('%s')`, sel), 20*time.Second)
	med.click(sel)
	var errs []string
	_ = med.eval(`[...document.querySelectorAll('.toast.error')].map(e => e.textContent)`, &errs)
	if len(errs) > 0 {
		med.t.Logf("admit %s: %v", identity, errs)
	}
	med.waitJS(identity+" gone from the lobby list", fmt.Sprintf(`!document.querySelector('.lobby [data-identity="%s"]')`, identity), 15*time.Second)
	party.waitJS("out of the lobby view", `!!document.querySelector('.call') && !document.querySelector('.call.in-lobby')`, 15*time.Second)
}

// TestPartyLobbyAdmitCaucus: two parties join by link and wait in the lobby; the mediator
// admits them from the console; everybody renders everybody's video; a caucus with the
// applicant side hides them from the respondent, who sees the private-meeting notice;
// after everyone is back the video returns.
func TestPartyLobbyAdmitCaucus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	app := newAppServer(t)
	invs := app.invitations(t, "mediation")
	applicant := pick(t, invs, "party", "applicant")
	respondent := pick(t, invs, "party", "respondent")
	sessionID := applicant.SessionID
	const mediatorID = "staff-east-mediator"

	med := b.newPage("mediator", 1366, 900)
	staffLogin(med, app.URL, "east-mediator", app.password(t, "east-mediator"))
	med.screenshot("console-today")
	med.navigate(fmt.Sprintf("%s/console/sessions/%d", app.URL, sessionID))
	med.waitJS("session page", `!!document.querySelector('[data-action=join-av]')`, 20*time.Second)
	med.click(`[data-action=join-av]`)
	med.waitJS("mediator in the call", `!!document.querySelector('.live-layout .call .tile.local')`, 30*time.Second)

	pa := b.newPage("applicant", 390, 844)
	partyJoins(pa, app.URL, applicant, "party")
	pa.screenshot("party-4-lobby")

	// the knock reaches the console; the mediator admits
	med.waitJS("applicant in the lobby list", fmt.Sprintf(`!!document.querySelector('.lobby [data-identity="%s"]')`, applicant.Identity), 20*time.Second)
	med.screenshot("console-live-lobby")
	admit(med, pa, applicant.Identity)
	pa.waitVideoFrom(mediatorID, 45*time.Second)
	med.waitVideoFrom(applicant.Identity, 45*time.Second)
	pa.screenshot("party-5-session")

	pb := b.newPage("respondent", 1024, 700)
	partyJoins(pb, app.URL, respondent, "")
	admit(med, pb, respondent.Identity)
	pb.waitVideoFrom(applicant.Identity, 45*time.Second)
	pb.waitVideoFrom(mediatorID, 45*time.Second)
	pa.waitVideoFrom(respondent.Identity, 45*time.Second)
	med.waitVideoFrom(respondent.Identity, 45*time.Second)
	med.screenshot("console-live-joint")
	pb.screenshot("session-joint-3")

	// caucus with the applicant side: the respondent loses them and is told why
	med.click(`[data-action=caucus-applicant]`)
	pb.waitNoVideoFrom(applicant.Identity, 20*time.Second)
	pb.waitNoVideoFrom(mediatorID, 20*time.Second)
	pb.waitJS("private-meeting notice", `!!document.querySelector('.private-notice')`, 15*time.Second)
	pa.waitJS("applicant told where they are", `!!document.querySelector('.call.in-caucus')`, 15*time.Second)
	pa.waitVideoFrom(mediatorID, 30*time.Second)
	pa.waitJS("applicant told the respondent waits in the joint session", `!!document.querySelector('.private-notice.joint-others')`, 15*time.Second)
	if v := pa.remoteVideos()[respondent.Identity]; v.Width > 0 {
		t.Fatalf("applicant still renders the respondent during the caucus: %+v", v)
	}
	pb.screenshot("caucus-others-see-notice")
	pb.click(`button.lang`) // switch to English during the call
	pb.waitJS("notice in English", `document.querySelector('.private-notice').innerText.includes('private meeting') && document.querySelector('.where-text').textContent.includes('joint session')`, 10*time.Second)
	pb.screenshot("caucus-others-see-notice-en")
	pa.screenshot("caucus-inside")
	med.screenshot("console-live-caucus")

	// the mediator drags the respondent onto the caucus box: all three share it now
	drag := fmt.Sprintf(`(() => {
	  const from = document.querySelector('.spaces .person[data-identity="%s"]');
	  const to = document.querySelector('.spaces .space-box[data-space="caucus-applicant"]');
	  if (!from || !to) return false;
	  const dt = new DataTransfer();
	  from.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
	  to.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
	  to.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
	  return true;
	})()`, respondent.Identity)
	var dropped bool
	if err := med.eval(drag, &dropped); err != nil || !dropped {
		med.fatalf("drag and drop: %v %v", dropped, err)
	}
	pb.waitJS("respondent now in the caucus", `!!document.querySelector('.call.in-caucus')`, 15*time.Second)
	pb.waitVideoFrom(applicant.Identity, 45*time.Second)

	// everyone back: video returns
	med.click(`[data-action=all-back]`)
	pb.waitJS("back in the joint session", `!document.querySelector('.call.in-caucus') && !document.querySelector('.private-notice')`, 20*time.Second)
	pb.waitVideoFrom(applicant.Identity, 45*time.Second)
	pb.waitVideoFrom(mediatorID, 45*time.Second)
	pa.waitVideoFrom(respondent.Identity, 45*time.Second)

	// sent back to the lobby: isolated again, told so; admitted again: video returns
	med.click(fmt.Sprintf(`.spaces [data-identity="%s"] [data-action=lobby]`, respondent.Identity))
	pb.waitJS("respondent back in the lobby view", `!!document.querySelector('.call.in-lobby')`, 15*time.Second)
	pa.waitNoVideoFrom(respondent.Identity, 20*time.Second)
	admit(med, pb, respondent.Identity)
	pa.waitVideoFrom(respondent.Identity, 45*time.Second)

	// a host stops the recording with a reason, then resumes it
	if err := med.eval(`(() => { window.prompt = () => '休息十分钟'; return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	med.click(`[data-action=rec-stop]`)
	med.waitJS("recording stopped with the reason", `!!document.querySelector('.recording [data-stopped]') && document.querySelector('.recording').innerText.includes('休息十分钟')`, 15*time.Second)
	med.screenshot("console-recording-stopped")
	med.click(`[data-action=rec-start]`)
	med.waitJS("recording resumed", `!document.querySelector('.recording [data-stopped]')`, 15*time.Second)
}
