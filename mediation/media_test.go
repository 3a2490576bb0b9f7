package mediation

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"yizhan/internal/lktest"
	"yizhan/media"
	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
)

// liveServer is the whole server in process: media engine, signaling with our hooks, the
// /api of mediation, one httptest server on loopback, a real SQLite store.
type liveServer struct {
	*fixture
	sig *signaling.Server
	eng *media.Engine
}

func newLiveServer(t *testing.T) *liveServer {
	t.Helper()
	return newLiveServerWith(t, func(*signaling.Server) Config { return Config{} })
}

func newLiveServerWith(t *testing.T, config func(*signaling.Server) Config) *liveServer {
	t.Helper()
	return newLiveServerOn(t, config, nil)
}

// newLiveServerOn is newLiveServerWith whose service sees the store through wrap (nil:
// the store itself).
func newLiveServerOn(t *testing.T, config func(*signaling.Server) Config, wrap func(store.Store) store.Store) *liveServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	log := testLogger(t)
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: "testkey", APISecret: "testsecret-testsecret-testsecret-0123", Logger: log,
		RoomEmptyTimeout: time.Second}, eng)
	fx := &fixture{t: t, st: newStore(t), cookies: map[string]*http.Cookie{}, ctx: ctx}
	cfg := config(sig)
	var st store.Store = fx.st
	if wrap != nil {
		st = wrap(st)
	}
	fx.svc = New(cfg, st, sig, log)
	wireRecorder(fx.svc, cfg)
	sig.SetHooks(fx.svc)
	mux := http.NewServeMux()
	mux.Handle("/api/", fx.svc.Handler())
	mux.Handle("/", sig.Handler())
	fx.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		sig.Close()
		if r, ok := cfg.Recorder.(*recorder.Recorder); ok {
			r.Close() // seals what is open
		}
		fx.svc.Close()
		fx.srv.Close()
		_ = eng.Close()
	})
	for _, role := range []string{"mediator", "leader"} {
		u := fixtureUsers[role]
		fx.cookies[role] = fx.login(u.Username, fixturePassword)
	}
	return &liveServer{fixture: fx, sig: sig, eng: eng}
}

// call does an API call that must succeed with status want, decoding the answer into out.
func (ls *liveServer) call(role, method, path, body string, want int, out any) {
	ls.t.Helper()
	st, b := ls.do(role, method, path, body)
	if st != want {
		ls.t.Fatalf("%s %s as %s: %d %s", method, path, role, st, b)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			ls.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// connect joins with a Join answer of the API.
func (ls *liveServer) connect(j joinJSON) *lktest.Client {
	ls.t.Helper()
	c, err := lktest.Connect(j.URL, j.Token)
	if err != nil {
		ls.t.Fatalf("%s: %v", j.Identity, err)
	}
	ls.t.Cleanup(c.Close)
	return c
}

func (ls *liveServer) invite(sessID int64, body string) invitationJSON {
	var inv invitationJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/invitations", sessID), body, 201, &inv)
	return inv
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !lktest.Eventually(15*time.Second, cond) {
		t.Fatalf("timed out waiting for: %s", what)
	}
}

// quiet asserts that for 1 s none of the counters grows: nothing flows on those paths.
func quiet(t *testing.T, what string, counters ...func() int64) {
	t.Helper()
	time.Sleep(400 * time.Millisecond) // packets already in flight before the change
	before := make([]int64, len(counters))
	for i, c := range counters {
		before[i] = c()
	}
	time.Sleep(time.Second)
	for i, c := range counters {
		if n := c(); n != before[i] {
			t.Errorf("%s: counter %d grew from %d to %d", what, i, before[i], n)
		}
	}
}

func publishAV(t *testing.T, c *lktest.Client) {
	t.Helper()
	if _, err := c.PublishVP8(lktest.VideoOptions{BitrateKbps: 150, FPS: 15}); err != nil {
		t.Fatalf("%s: %v", c.Identity, err)
	}
	if _, err := c.PublishOpus(""); err != nil {
		t.Fatalf("%s: %v", c.Identity, err)
	}
}

func sendData(t *testing.T, c *lktest.Client, msg string) {
	t.Helper()
	if err := c.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte(msg)), lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatalf("%s data: %v", c.Identity, err)
	}
}

func dataCount(c *lktest.Client, from string) func() int64 {
	return func() int64 { return int64(len(c.DataFrom(from))) }
}

func packets(c *lktest.Client, from string) func() int64 {
	return func() int64 { return c.PacketsFrom(from, "") }
}

// TestMediationSessionMedia: two parties and a mediator join through the API with real
// LiveKit SDK clients. Parties wait in the lobby and receive nothing; after admission all
// three exchange media; with the applicant and the mediator in a caucus the respondent
// receives nothing from either and the applicant nothing from the respondent, data
// included; back in the joint space media flows again.
func TestMediationSessionMedia(t *testing.T) {
	ls := newLiveServer(t)
	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"院墙","category":"land","risk":"yellow","mediator":"med",
		"parties":[{"name":"张三","side":"applicant"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"第一次调解"}`, 201, &se)
	appInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	resInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID))

	var appJ, resJ, medJ joinJSON
	ls.call("party", "POST", "/api/join/"+appInv.Code, `{"consent":true}`, 200, &appJ)
	ls.call("party", "POST", "/api/join/"+resInv.Code, `{"consent":true}`, 200, &resJ)
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	app, res := ls.connect(appJ), ls.connect(resJ)
	med := ls.connect(medJ)
	A, R, M := appJ.Identity, resJ.Identity, medJ.Identity
	for _, cl := range []*lktest.Client{app, res, med} {
		publishAV(t, cl)
	}

	// The lobby: the host sees both waiting; they see nobody and receive nothing.
	var live struct {
		Lobby  []participantJSON            `json:"lobby"`
		Spaces map[string][]participantJSON `json:"spaces"`
	}
	waitFor(t, "both parties knock", func() bool {
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", se.ID), "", 200, &live)
		return len(live.Lobby) == 2 && len(live.Spaces[jointSpace]) == 1
	})
	sendData(t, med, "to the lobby?")
	sendData(t, app, "from the lobby")
	quiet(t, "lobby", packets(app, M), packets(app, R), packets(res, M), packets(res, A), packets(med, A), packets(med, R),
		dataCount(app, M), dataCount(res, M), dataCount(med, A), dataCount(res, A))
	if app.Room.GetParticipantByIdentity(M) != nil || app.Room.GetParticipantByIdentity(R) != nil {
		t.Error("a party in the lobby sees other participants")
	}

	// Admission: everyone hears and sees everyone.
	for _, id := range []string{A, R} {
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+id+`"}`, 200, nil)
	}
	for _, pair := range [][2]*lktest.Client{{app, med}, {app, res}, {res, med}, {res, app}, {med, app}, {med, res}} {
		to, from := pair[0], pair[1]
		waitFor(t, to.Identity+" receives audio and video from "+from.Identity, func() bool {
			return to.PacketsFrom(from.Identity, "video") > 20 && to.PacketsFrom(from.Identity, "audio") > 20
		})
	}
	sendData(t, med, "welcome")
	waitFor(t, "data reaches the joint space", func() bool { return len(app.DataFrom(M)) == 1 && len(res.DataFrom(M)) == 1 })

	// An observer: admitted, visible to everyone, cannot publish.
	obsInv := ls.invite(se.ID, `{"role":"observer","name":"人民监督员"}`)
	var obsJ joinJSON
	ls.call("party", "POST", "/api/join/"+obsInv.Code, `{"consent":true}`, 200, &obsJ)
	obs := ls.connect(obsJ)
	O := obsJ.Identity
	waitFor(t, "the observer knocks", func() bool { _, ok := ls.svc.participant(se.Room, O); return ok })
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+O+`"}`, 200, nil)
	waitFor(t, "the parties see the observer", func() bool {
		p1, p2 := app.Room.GetParticipantByIdentity(O), res.Room.GetParticipantByIdentity(O)
		return p1 != nil && p2 != nil && p1.Attributes()["role"] == "observer"
	})
	waitFor(t, "the observer receives the session", func() bool { return obs.PacketsFrom(A, "audio") > 20 && obs.PacketsFrom(M, "video") > 20 })
	if _, err := obs.PublishOpus(""); err == nil {
		t.Error("an observer published a track")
	}
	if err := obs.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("observer speaks"))); err == nil {
		time.Sleep(300 * time.Millisecond)
	}
	quiet(t, "observer", packets(app, O), packets(res, O), packets(med, O), dataCount(app, O), dataCount(med, O))
	waitFor(t, "attributes say joint", func() bool {
		p := res.Room.GetParticipantByIdentity(A)
		return p != nil && p.Attributes()["space"] == jointSpace && p.Attributes()["lobby"] == ""
	})

	// Caucus: the applicant with the mediator.
	for _, id := range []string{A, M} {
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+id+`","space":"caucus-applicant"}`, 200, nil)
	}
	waitFor(t, "the respondent sees where the applicant is", func() bool {
		p := res.Room.GetParticipantByIdentity(A)
		return p != nil && p.Attributes()["space"] == "caucus-applicant"
	})
	sendData(t, res, "can anyone hear me")
	if err := res.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("psst, applicant")),
		lksdk.WithDataPublishDestination([]string{A, M})); err != nil { // a hand-made attempt to reach the caucus
		t.Fatal(err)
	}
	sendData(t, app, "private to the mediator")
	sendData(t, med, "private to the applicant")
	quiet(t, "caucus", packets(res, A), packets(res, M), packets(app, R), packets(med, R), packets(obs, A), packets(obs, M),
		dataCount(res, A), dataCount(res, M), dataCount(app, R), dataCount(med, R))
	waitFor(t, "the caucus still talks", func() bool {
		n1, n2 := app.PacketsFrom(M, "audio"), med.PacketsFrom(A, "audio")
		time.Sleep(200 * time.Millisecond)
		return app.PacketsFrom(M, "audio") > n1 && med.PacketsFrom(A, "audio") > n2
	})
	waitFor(t, "caucus data arrives", func() bool { return len(app.DataFrom(M)) == 2 && len(med.DataFrom(A)) == 1 })
	if n := len(res.DataFrom(M)); n != 1 {
		t.Errorf("respondent got %d data packets from the mediator, want only the joint one", n)
	}

	// Back in the joint space: media flows again.
	for _, id := range []string{A, M} {
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/move", se.ID), `{"identity":"`+id+`","space":"joint"}`, 200, nil)
	}
	for _, pair := range [][2]*lktest.Client{{res, app}, {res, med}, {app, res}, {med, res}} {
		to, from := pair[0], pair[1]
		n := to.PacketsFrom(from.Identity, "")
		waitFor(t, to.Identity+" receives "+from.Identity+" again", func() bool { return to.PacketsFrom(from.Identity, "") > n+20 })
	}
	sendData(t, res, "back together")
	waitFor(t, "joint data again", func() bool { return len(app.DataFrom(R)) == 1 && len(med.DataFrom(R)) == 1 })

	// The applicant reconnects (a new connection evicts the old one): straight back into
	// the joint space, no second knock.
	app2 := ls.connect(appJ)
	waitFor(t, "the reconnected applicant hears the session", func() bool { return app2.PacketsFrom(M, "audio") > 20 && app2.PacketsFrom(R, "audio") > 20 })
	if p, ok := ls.svc.participant(se.Room, A); !ok || p.Space != jointSpace {
		t.Errorf("reconnected applicant in %q", p.Space)
	}

	// End: everyone is disconnected; the timeline has every step.
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	waitFor(t, "everyone disconnected", func() bool {
		return app2.Room.ConnectionState() == lksdk.ConnectionStateDisconnected && res.Room.ConnectionState() == lksdk.ConnectionStateDisconnected
	})
	tl, err := ls.st.Timeline(ls.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range tl {
		kinds[e.Kind]++
	}
	for k, want := range map[string]int{"join": 3, "admit": 2, "move": 4, "end": 1, "consent": 2} {
		if kinds[k] < want {
			t.Errorf("timeline has %d %q events, want %d: %v", kinds[k], k, want, kinds)
		}
	}
}

// TestReceptionQueue: a leader's reception with three petitioners; each is admitted in
// arrival order by "next", the others wait in the lobby hearing nothing, and each
// conversation ends with an outcome filed into a case.
func TestReceptionQueue(t *testing.T) {
	ls := newLiveServer(t)
	var c caseJSON
	ls.call("leader", "POST", "/api/cases", `{"title":"接访日","category":"other","risk":"blue"}`, 201, &c)
	var se sessionJSON
	ls.call("leader", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"reception","title":"镇长接访"}`, 201, &se)
	if !store.OneOf("lead", se.Hosts) {
		t.Fatalf("leader is not a host: %v", se.Hosts)
	}
	var leadJ joinJSON
	ls.call("leader", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &leadJ)
	leader := ls.connect(leadJ)
	publishAV(t, leader)

	names := []string{"甲", "乙", "丙"}
	var pets []*lktest.Client
	for i, n := range names {
		var inv invitationJSON
		ls.call("leader", "POST", fmt.Sprintf("/api/sessions/%d/invitations", se.ID), `{"role":"party","side":"applicant","name":"`+n+`"}`, 201, &inv)
		var j joinJSON
		ls.call("party", "POST", "/api/join/"+inv.Code, `{"consent":true}`, 200, &j)
		p := ls.connect(j)
		publishAV(t, p)
		pets = append(pets, p)
		waitFor(t, "arrival "+n, func() bool {
			q, _ := ls.st.Queue(ls.ctx, se.ID)
			return len(q) == i+1
		})
	}
	if st, b := ls.do("leader", "POST", fmt.Sprintf("/api/sessions/%d/outcome", se.ID), `{"identity":"staff-lead","note":"x"}`); st != 400 {
		t.Fatalf("outcome for a non-guest: %d %s", st, b)
	}
	var caseIDs []int64
	for i, p := range pets {
		var admitted participantJSON
		ls.call("leader", "POST", fmt.Sprintf("/api/sessions/%d/next", se.ID), ``, 200, &admitted)
		if admitted.Identity != p.Identity || admitted.Space != jointSpace {
			t.Fatalf("next admitted %+v, want %s", admitted, p.Identity)
		}
		if st, b := ls.do("leader", "POST", fmt.Sprintf("/api/sessions/%d/next", se.ID), ``); st != 409 || !strings.Contains(b, "petitioner_present") {
			t.Fatalf("second next while %s talks: %d %s", names[i], st, b)
		}
		waitFor(t, "leader and "+names[i]+" talk", func() bool {
			return p.PacketsFrom(leader.Identity, "audio") > 20 && leader.PacketsFrom(p.Identity, "audio") > 20
		})
		var waiting []func() int64
		for _, q := range pets[i+1:] {
			waiting = append(waiting, packets(q, leader.Identity), packets(q, p.Identity), packets(leader, q.Identity), packets(p, q.Identity))
		}
		if len(waiting) > 0 {
			quiet(t, "the queue while "+names[i]+" talks", waiting...)
		}
		body := `{"identity":"` + p.Identity + `","note":"听取诉求，转司法所办理","category":"labour_wages","risk":"yellow","supervise":{"unit":"东镇司法所","deadline":"2026-12-31"}}`
		if i == 2 {
			body = fmt.Sprintf(`{"identity":"%s","note":"并入已有案件","case":%d}`, p.Identity, c.ID)
		}
		var out struct {
			Case        caseJSON         `json:"case"`
			Supervision *supervisionJSON `json:"supervision"`
		}
		ls.call("leader", "POST", fmt.Sprintf("/api/sessions/%d/outcome", se.ID), body, 201, &out)
		if (i < 2) != (out.Supervision != nil) || out.Case.ID == 0 {
			t.Fatalf("outcome %d: %+v", i, out)
		}
		caseIDs = append(caseIDs, out.Case.ID)
		waitFor(t, names[i]+" leaves after the outcome", func() bool {
			return p.Room.ConnectionState() == lksdk.ConnectionStateDisconnected
		})
	}
	if caseIDs[0] == caseIDs[1] || caseIDs[2] != c.ID {
		t.Fatalf("outcome cases %v", caseIDs)
	}
	nc, _ := ls.st.Case(ls.ctx, caseIDs[0])
	if nc.Category != "labour_wages" || nc.Centre != "east" || len(nc.Parties) != 1 || nc.Parties[0].Name != "甲" {
		t.Errorf("new case %+v", nc)
	}
	if st, b := ls.do("leader", "POST", fmt.Sprintf("/api/sessions/%d/next", se.ID), ``); st != 409 || !strings.Contains(b, "queue_empty") {
		t.Fatalf("next on an empty queue: %d %s", st, b)
	}
	if q, _ := ls.st.Queue(ls.ctx, se.ID); len(q) != 0 {
		t.Fatalf("queue not empty: %+v", q)
	}
}

// TestRecordingCaseFile: with the case-file recorder (recording/recorder), the joint space is recorded once
// everyone in it consented, not while someone declined, not in an unrecorded caucus, not
// while a host stopped it; ending the session seals a case file that verifies, whose
// files download (ranges work) and export, every read in the custody log.
func TestRecordingCaseFile(t *testing.T) {
	dataDir := t.TempDir()
	key, err := recording.LoadOrCreateKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ls := newLiveServerWith(t, func(sig *signaling.Server) Config {
		cfg, _ := withRecorder(t, dataDir, key, sig)
		return cfg
	})
	var c caseJSON
	ls.call("mediator", "POST", "/api/cases", `{"title":"录像","category":"contracts","risk":"blue","mediator":"med",
		"parties":[{"name":"张三","side":"applicant"},{"name":"李四","side":"respondent"}]}`, 201, &c)
	var se sessionJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), `{"kind":"mediation","title":"录像调解"}`, 201, &se)
	appInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[0].ID))
	resInv := ls.invite(se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, c.Parties[1].ID))
	var medJ, appJ, resJ joinJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", se.ID), ``, 200, &medJ)
	ls.call("party", "POST", "/api/join/"+appInv.Code, `{"consent":true}`, 200, &appJ)
	ls.call("party", "POST", "/api/join/"+resInv.Code, `{"consent":false}`, 200, &resJ)
	med, app := ls.connect(medJ), ls.connect(appJ)
	publishAV(t, med)
	publishAV(t, app)
	liveURL := fmt.Sprintf("/api/sessions/%d/live", se.ID)
	recStatus := func() recordingJSON {
		var l struct {
			Recording recordingJSON `json:"recording"`
		}
		ls.call("mediator", "GET", liveURL, "", 200, &l)
		return l.Recording
	}
	waitFor(t, "mediator records alone in joint", func() bool { return recStatus().Active })
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+appJ.Identity+`"}`, 200, nil)
	waitFor(t, "mediator hears the applicant", func() bool { return med.PacketsFrom(appJ.Identity, "video") > 30 })
	time.Sleep(2 * time.Second) // two seconds of joint media on file

	// the respondent declined: while in joint, nothing is recorded
	res := ls.connect(resJ)
	publishAV(t, res)
	waitFor(t, "respondent knocks", func() bool { _, ok := ls.svc.participant(se.Room, resJ.Identity); return ok })
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", se.ID), `{"identity":"`+resJ.Identity+`"}`, 200, nil)
	waitFor(t, "recording stops for want of consent", func() bool { return !recStatus().Active })
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/lobby", se.ID), `{"identity":"`+resJ.Identity+`"}`, 200, nil)
	waitFor(t, "recording resumes", func() bool { return recStatus().Active })

	// a host stops recording with a reason, then resumes
	var rj recordingJSON
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/recording", se.ID), `{"action":"stop","reason":"当事人要求休息"}`, 200, &rj)
	if !strings.Contains(rj.Stopped, "当事人要求休息") || rj.Active {
		t.Errorf("stop answer %+v", rj)
	}
	waitFor(t, "stopped by the host", func() bool { return !recStatus().Active })
	waitFor(t, "the room says so", func() bool { m := recMeta(app); return !m.Recording && !m.Spaces[jointSpace].Recording })
	rj = recordingJSON{}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/recording", se.ID), `{"action":"start"}`, 200, &rj)
	if !rj.Active || rj.Stopped != "" {
		t.Errorf("start answer %+v", rj)
	}
	waitFor(t, "resumed", func() bool { return recStatus().Active })
	waitFor(t, "the room says recording, in the joint space", func() bool { m := recMeta(app); return m.Recording && m.Spaces[jointSpace].Recording })
	time.Sleep(time.Second)

	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/end", se.ID), ``, 200, nil)
	var cf struct {
		Manifest json.RawMessage      `json:"manifest"`
		Events   []recording.Event    `json:"events"`
		Sealed   bool                 `json:"sealed"`
		Files    []recording.CaseFile `json:"files"`
	}
	waitFor(t, "case file sealed", func() bool {
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/casefile", se.ID), "", 200, &cf)
		return cf.Sealed
	})
	kinds := map[string]int{}
	for _, e := range cf.Events {
		kinds[e.Kind]++
	}
	for _, k := range []string{"session_opened", "participant", "consented", "declined", "recording_started", "recording_stopped", "track_started", "track_stopped", "admitted", "ended", "sealed"} {
		if kinds[k] == 0 {
			t.Errorf("case file events lack %q: %v", k, kinds)
		}
	}
	var webm []string
	for _, f := range cf.Files {
		if strings.HasSuffix(f.Path, ".webm") {
			webm = append(webm, f.Path)
			if strings.Contains(f.Path, resJ.Identity) {
				t.Errorf("the respondent, who declined, was recorded: %s", f.Path)
			}
		}
	}
	if len(webm) < 4 {
		t.Fatalf("recorded files %v", cf.Files)
	}
	var rep struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/casefile/verify", se.ID), ``, 200, &rep)
	if !rep.OK {
		t.Fatalf("verify: %v", rep.Problems)
	}
	// a range request on a track file, then the export
	req, _ := http.NewRequest("GET", ls.srv.URL+fmt.Sprintf("/api/sessions/%d/casefile/files/%s", se.ID, webm[0]), nil)
	req.Header.Set("Range", "bytes=0-3")
	req.AddCookie(ls.cookies["mediator"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(b) != "\x1a\x45\xdf\xa3" {
		t.Fatalf("range: %d %x", resp.StatusCode, b)
	}
	st, body := ls.do("mediator", "GET", fmt.Sprintf("/api/sessions/%d/casefile/export", se.ID), "")
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if st != 200 || err != nil || len(zr.File) < len(webm)+2 {
		t.Fatalf("export: %d %v", st, err)
	}
	custody, err := recording.ReadEvents(filepath.Join(dataDir, "cases", recording.CaseFolder(c.ID, c.Number), "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ck := map[string]int{}
	for _, e := range custody {
		ck[e.Kind]++
	}
	if ck["viewed"] < 2 || ck["exported"] != 1 {
		t.Errorf("custody %v", ck)
	}
	// staff of another centre see nothing
	ls.cookies["other-mediator"] = ls.login("westmed", fixturePassword)
	if st, _ := ls.do("other-mediator", "GET", fmt.Sprintf("/api/sessions/%d/casefile", se.ID), ""); st != 404 {
		t.Errorf("other centre read the case file: %d", st)
	}
}
