package mediation

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"yizhan/internal/lktest"
	"yizhan/recording"
	"yizhan/signaling"
)

// Fault tests of the reliability campaign (issue 12): a real full disk under a running
// recording, and clients that vanish without a goodbye. Nothing committed is lost and
// the others carry on.

// TestDiskFullDuringRecording: the case files live on a small tmpfs (root only; skipped
// otherwise) that fills up while three participants are recorded. The hosts hear of it,
// media keeps flowing between the participants, the API keeps answering; once there is
// room again the session ends and seals, and what was written verifies.
func TestDiskFullDuringRecording(t *testing.T) {
	data := mountTmpfs(t, "24m")
	rs := &recorderServer{data: data}
	var err error
	if rs.key, err = recording.LoadOrCreateKey(rs.data); err != nil {
		t.Fatal(err)
	}
	rs.clip = lktest.MustClip(t)
	rs.ls = newLiveServerWith(t, func(sig *signaling.Server) Config {
		var cfg Config
		cfg, rs.rec = withRecorder(t, rs.data, rs.key, sig)
		return cfg
	})
	ls := rs.ls
	events := recEvents(t, ls, "mediator")
	c, se := rs.newCase(t, "off")
	med, app, res := rs.joinAll(t, c, se, true, true)
	for _, cl := range []*lktest.Client{med, app, res} {
		cl.MustPublishClip(t, rs.clip)
	}
	dir := rs.sessionDir(c, se)
	waitFor(t, "every track is written", func() bool {
		st := ls.svc.cfg.Recorder.Status(se.ID)
		return st.Active && st.Healthy && len(recWebm(dir)) == 6
	})
	time.Sleep(time.Second)

	filler := fillDisk(t, data)
	waitFor(t, "the hosts hear the disk is full", func() bool {
		select {
		case ev := <-events:
			return strings.Contains(ev, `"healthy":false`)
		default:
			return false
		}
	})
	for _, pair := range [][2]*lktest.Client{{res, app}, {app, med}, {med, res}} {
		to, from := pair[0], pair[1]
		n := to.PacketsFrom(from.Identity, "audio")
		waitFor(t, to.Identity+" still hears "+from.Identity, func() bool { return to.PacketsFrom(from.Identity, "audio") > n+20 })
	}
	var live struct {
		Recording recordingJSON `json:"recording"`
	}
	ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), "", 200, &live)
	t.Logf("live view on a full disk: %+v", live.Recording)
	if live.Recording.Healthy {
		t.Error("the live view says the recording is healthy on a full disk")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	m := rs.sealed(t, dir)
	rep, err := recording.Verify(dir, rs.pub())
	if err != nil {
		t.Fatalf("verify after the disk filled: %v\n%s", err, rep.Summary())
	}
	failed := 0
	for _, fe := range m.Files {
		if fe.Status == "failed" {
			failed++
			t.Logf("kept after the failure: %s (%d bytes): %s", fe.Path, fe.Size, fe.Error)
		}
	}
	if failed == 0 {
		t.Error("no track file marked failed after the disk filled")
	}
	kinds := recEventKinds(t, dir)
	if kinds[recording.KindSessionOpened] != 1 || kinds[recording.KindTrackStarted] < 6 {
		t.Errorf("events committed before the disk filled are missing: %v", kinds)
	}
}

// fillDisk writes a file until the disk under dir is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return path
		}
	}
}

// mountTmpfs mounts a tmpfs of size on a fresh folder, or skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (a real full disk); skipped")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); skipped", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestClientsVanish: one party waiting in the lobby and one alone in a caucus lose their
// connection without a goodbye (the TCP connection just ends). The mediator and the
// other party go on talking, the host's API answers all along, and once the resume
// window has passed both are gone from the live view and their leaving is in the case
// timeline.
func TestClientsVanish(t *testing.T) {
	ls := newLiveServer(t)
	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"断线","category":"contracts","risk":"blue","mediator":"med",
		"parties":[{"name":"张三","side":"applicant"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"调解"}`, 201, &se)
	join := func(body string) joinJSON {
		inv := ls.invite(se.ID, body)
		var j joinJSON
		ls.call("party", "POST", "/api/join/"+inv.Code, `{"consent":true}`, 200, &j)
		return j
	}
	appJ := join(fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	resJ := join(fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID))
	agentJ := join(`{"role":"agent","side":"respondent","name":"代理人"}`)
	var medJ joinJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	med, app := ls.connect(medJ), ls.connect(appJ)
	for _, cl := range []*lktest.Client{med, app} {
		if _, err := cl.PublishOpus(""); err != nil {
			t.Fatal(err)
		}
	}
	res, agent := rawJoin(t, resJ), rawJoin(t, agentJ)
	for _, id := range []string{appJ.Identity, resJ.Identity, agentJ.Identity} {
		waitFor(t, id+" knocks", func() bool { _, ok := ls.svc.participant(se.Room, id); return ok })
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+appJ.Identity+`"}`, 200, nil)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+resJ.Identity+`"}`, 200, nil)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+resJ.Identity+`","space":"caucus-respondent"}`, 200, nil)
	waitFor(t, "the mediator and the applicant talk", func() bool {
		return med.PacketsFrom(appJ.Identity, "audio") > 20 && app.PacketsFrom(medJ.Identity, "audio") > 20
	})

	// Both vanish: the connection ends, no Leave.
	_ = res.UnderlyingConn().Close()
	_ = agent.UnderlyingConn().Close()
	gone := time.Now()
	spaceOf := func(id string) (string, bool) {
		p, ok := ls.svc.participant(se.Room, id)
		return p.Space, ok
	}
	for time.Since(gone) < 35*time.Second {
		n1, n2 := med.PacketsFrom(appJ.Identity, "audio"), app.PacketsFrom(medJ.Identity, "audio")
		time.Sleep(time.Second)
		if med.PacketsFrom(appJ.Identity, "audio") <= n1 || app.PacketsFrom(medJ.Identity, "audio") <= n2 {
			t.Fatalf("%s after the others vanished: the mediator and the applicant stopped hearing each other", time.Since(gone).Round(time.Second))
		}
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), "", 200, nil)
		_, resThere := spaceOf(resJ.Identity)
		_, agentThere := spaceOf(agentJ.Identity)
		if !resThere && !agentThere {
			break
		}
	}
	if _, ok := spaceOf(resJ.Identity); ok {
		t.Error("the vanished party is still in its caucus after the resume window")
	}
	if _, ok := spaceOf(agentJ.Identity); ok {
		t.Error("the vanished agent is still in the lobby after the resume window")
	}
	t.Logf("both gone %s after they vanished", time.Since(gone).Round(time.Second))
	if sp, ok := spaceOf(appJ.Identity); !ok || sp != jointSpace {
		t.Errorf("the applicant: %q %v", sp, ok)
	}
	st, body := ls.do("mediator", "GET", fmt.Sprintf("/api/cases/%d", c.ID), "")
	if st != 200 {
		t.Fatalf("case: %d %s", st, body)
	}
	left := map[string]bool{}
	waitFor(t, "their leaving in the case timeline", func() bool {
		evs, err := ls.st.Timeline(ls.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == "leave" {
				left[e.Subject] = true
			}
		}
		return left[resJ.Identity] && left[agentJ.Identity]
	})
}

// rawJoin connects a bare signal client (no media, no goodbye) with a Join answer.
func rawJoin(t *testing.T, j joinJSON) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(j.URL+"/rtc?protocol=16&access_token="+url.QueryEscape(j.Token), nil)
	if err != nil {
		t.Fatalf("%s: %v", j.Identity, err)
	}
	go func() { // drains the server's messages; ends when the connection does
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return ws
}
