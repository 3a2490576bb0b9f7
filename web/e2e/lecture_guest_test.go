package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestLectureGuestSpeaker: a moderator invites a guest speaker by name in the console
// and gets a link; the guest opens it (no account), goes on stage with camera and
// microphone; a phone watching the lecture sees the guest beside the speaker; the
// moderator revokes the guest and the phone sees them go. Screenshots.
func TestLectureGuestSpeaker(t *testing.T) {
	srv, demo := lectureServer(t, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx)
	base := srv.URL

	mod := b.newPerson("moderator", 1280, 900)
	staffLogin(mod, base, "east-mediator", demoPassword(t, demo, "east-mediator"))
	mod.navigate(base + "/console/lectures")
	mod.waitJS("lecture form", `!!document.querySelector('[data-action=create-lecture]')`, 20*time.Second)
	mod.setValue(`input[name=title]`, "邻里纠纷法律讲座")
	mod.click(`[data-action=create-lecture]`)
	mod.waitJS("the lecture page", `!!document.querySelector('[data-action=start]')`, 20*time.Second)
	var publicURL string
	if err := mod.eval(`document.querySelector('.public-url').href`, &publicURL); err != nil || !strings.Contains(publicURL, "/l/") {
		mod.fatalf("public link %q: %v", publicURL, err)
	}
	mod.click(`[data-action=start]`)
	mod.waitJS("live", `!!document.querySelector('[data-action=end]')`, 20*time.Second)
	mod.click(`[data-action=go-on-stage]`)
	mod.waitJS("on stage with the camera", `!!document.querySelector('.call .tile.local video') && document.querySelector('.call .tile.local video').videoWidth > 0`, 30*time.Second)

	mod.waitJS("the stage named as the lecture's, heard by the audience", `document.querySelector('.call').textContent.includes('法治大讲堂讲台') && document.querySelector('.call').textContent.includes('讲座观众都能看到')`, 10*time.Second)
	mod.setValue(`input[name=guest-name]`, "王律师")
	mod.click(`[data-action=invite-guest]`)
	mod.waitJS("the guest's link", `!!document.querySelector('[data-guest-url]')`, 20*time.Second)
	var guestURL string
	if err := mod.eval(`document.querySelector('[data-guest-url]').href`, &guestURL); err != nil || !strings.Contains(guestURL, "?guest=") {
		mod.fatalf("guest link %q: %v", guestURL, err)
	}
	mod.screenshot("lecture-guest-1-console-invite")

	phone := b.newPerson("phone", 390, 844)
	phone.navigate(publicURL)
	phone.waitJS("the watch form", `!!document.querySelector('[data-action=watch]')`, 20*time.Second)
	phone.click(`[data-action=watch]`)
	phone.waitJS("the speaker's picture over WebRTC", playingJS, 40*time.Second)

	guest := b.newPerson("guest", 1024, 768)
	guest.navigate(guestURL)
	guest.waitJS("the guest's entry", `!!document.querySelector('[data-action=guest-enter]')`, 20*time.Second)
	guest.click(`[data-action=guest-enter]`)
	guest.waitJS("on stage with camera and microphone", `document.querySelector('main').dataset.mode === 'guest' && !!document.querySelector('[data-action=guest-cam]') && document.querySelector('[data-action=guest-cam]').textContent.includes('关闭')`, 30*time.Second)
	guest.waitJS("the guest sees the speaker", playingJS, 40*time.Second)
	guest.screenshot("lecture-guest-2-guest-on-stage")

	const guestTile = `(() => { const v = document.querySelector('.lecture-strip video[data-identity^="guest-"]'); return !!v && v.videoWidth > 0; })()`
	phone.waitJS("the phone sees the guest beside the speaker", guestTile, 40*time.Second)
	phone.screenshot("lecture-guest-3-phone-sees-guest")

	mod.navigate(publicURL[:strings.Index(publicURL, "/l/")] + "/console/lectures/" + publicURL[strings.LastIndex(publicURL, "/")+1:])
	mod.waitJS("the guest joined", `!!document.querySelector('.guest .chip.ok')`, 20*time.Second)
	if err := mod.eval(`window.confirm = () => true`, nil); err != nil {
		t.Fatal(err)
	}
	mod.click(`[data-action=revoke-guest]`)
	phone.waitJS("the guest is gone from the phone", `!document.querySelector('.lecture-strip video[data-identity^="guest-"]')`, 30*time.Second)
	mod.waitJS("revoked in the console", `!document.querySelector('[data-action=revoke-guest]')`, 20*time.Second)
	mod.screenshot("lecture-guest-4-console-revoked")
}
