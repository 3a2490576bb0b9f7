package mediation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
)

// The roles of the authorization matrix, in column order.
var matrixRoles = []string{"anonymous", "party", "observer", "other-mediator", "mediator", "leader", "admin"}

// users of the fixture: centres city > east > east-v, city > west.
var fixtureUsers = map[string]UserSpec{
	"observer":       {Username: "obs", Name: "Observer", Centre: "east", Roles: []string{"observer"}},
	"other-mediator": {Username: "westmed", Name: "West Mediator", Centre: "west", Roles: []string{"mediator"}},
	"mediator":       {Username: "med", Name: "Mediator", Centre: "east", Roles: []string{"mediator"}, Gold: true},
	"leader":         {Username: "lead", Name: "Leader", Centre: "east", Roles: []string{"leader"}},
	"admin":          {Username: "adm", Name: "Admin", Centre: "city", Roles: []string{"admin"}},
	"judge":          {Username: "judge", Name: "Judge", Centre: "city", Roles: []string{"judge"}},
}

const fixturePassword = "correct horse battery"

type fixture struct {
	t       *testing.T
	st      *store.SQLite
	rooms   *fakeRooms
	svc     *Service
	srv     *httptest.Server
	cookies map[string]*http.Cookie
	ctx     context.Context
	dataDir string   // case files
	holds   *holdLog // failure answers held back (throttle_test.go)
}

// withRecorder is a Config recording into dataDir, sealed with key, wired as
// cmd/yizhan wires it (with wireRecorder after New).
func withRecorder(t *testing.T, dataDir string, key *recording.Signer, rooms SinkRooms) (Config, *recorder.Recorder) {
	rec := recorder.New(recorder.Config{DataDir: dataDir, Key: key, Rooms: RecorderRooms(rooms), Logger: testLogger(t)})
	pub := key.Public()
	return Config{Recorder: rec, CaseDir: dataDir, CaseKey: &pub}, rec
}

// wireRecorder hands the recorder's failures and state changes to svc.
func wireRecorder(svc *Service, cfg Config) {
	if r, ok := cfg.Recorder.(*recorder.Recorder); ok {
		r.OnError(svc.RecordingFailed)
		r.OnState(svc.RecordingChanged)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type tWriter struct{ t *testing.T }

func (w *tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// newStore opens a real SQLite store in t.TempDir() with the fixture's centres and users.
func newStore(t *testing.T) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "yizhan.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, c := range []store.Centre{
		{Code: "city", Name: "City", Tier: "city"},
		{Code: "east", Name: "East", Tier: "township", Parent: "city"},
		{Code: "west", Name: "West", Tier: "township", Parent: "city"},
		{Code: "east-v", Name: "East Village", Tier: "village", Parent: "east"},
	} {
		if err := AddCentre(ctx, st, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range fixtureUsers {
		if err := AddUser(ctx, st, u, fixturePassword); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a bound for hangs, not a speed test: the matrix runs for minutes on a loaded machine
	t.Cleanup(cancel)
	fx := &fixture{t: t, st: newStore(t), rooms: newFakeRooms(), cookies: map[string]*http.Cookie{}, ctx: ctx, holds: &holdLog{}}
	key, err := recording.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx.dataDir = t.TempDir()
	cfg, rec := withRecorder(t, fx.dataDir, key, fx.rooms)
	cfg.Sleep = fx.holds.sleep
	cfg.Documents = DocumentsConfig{DataDir: fx.dataDir, Key: key} // issue 10
	fx.svc = New(cfg, fx.st, fx.rooms, testLogger(t))
	wireRecorder(fx.svc, cfg)
	mux := http.NewServeMux()
	mux.Handle("/api/", fx.svc.Handler())
	fx.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		rec.Close()
		fx.svc.Close()
		fx.srv.Close()
	})
	for role, u := range fixtureUsers {
		fx.cookies[role] = fx.login(u.Username, fixturePassword)
	}
	return fx
}

func (fx *fixture) login(user, pw string) *http.Cookie {
	fx.t.Helper()
	resp, err := http.Post(fx.srv.URL+"/api/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	if err != nil {
		fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		fx.t.Fatalf("login %s: %d %s", user, resp.StatusCode, b)
	}
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	fx.t.Fatalf("login %s: no cookie", user)
	return nil
}

// do sends a request as role (cookie of that staff member; none for anonymous/party).
func (fx *fixture) do(role, method, path, body string, hdr ...string) (int, string) {
	fx.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(fx.ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, fx.srv.URL+path, rd)
	if err != nil {
		fx.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c := fx.cookies[role]; c != nil {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp.StatusCode, "" // a stream: the status is what we test
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scene is a fresh case of centre east with a reception session hosted by the mediator,
// an invitation for the applicant and that guest waiting in the (fake) room's lobby.
type scene struct {
	caseID, sessID int64
	room, code     string
	guest          string
	parties        []store.Party
	loop           loopScene // loop_fixture_test.go (issue 11); only for the matrix's loop rows
}

func (fx *fixture) scene() scene {
	fx.t.Helper()
	ctx := fx.ctx
	c, err := fx.st.CreateCase(ctx, store.Case{Title: "boundary", Category: "land", Risk: "yellow", Centre: "east", Mediator: "med",
		Parties: []store.Party{{Name: "App", Side: "applicant"}, {Name: "Resp", Side: "respondent"}}})
	if err != nil {
		fx.t.Fatal(err)
	}
	se, err := fx.st.CreateSession(ctx, store.Session{CaseID: c.ID, Kind: "reception", Title: "s", Room: "s-" + randomCode(10), Hosts: []string{"med"}, RecordOnOpen: true})
	if err != nil {
		fx.t.Fatal(err)
	}
	inv, err := fx.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: se.ID, Role: "party", Side: "applicant", Name: "App",
		PartyID: c.Parties[0].ID, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		fx.t.Fatal(err)
	}
	g := guestIdentity(inv.ID)
	fx.rooms.add(se.Room, signaling.Participant{Identity: g, Name: "App", Attributes: map[string]string{
		"role": "party", "side": "applicant", "party": fmt.Sprint(c.Parties[0].ID), "lobby": "1", "consent": "1"},
		Tracks: []signaling.Track{{SID: "TR_a", Kind: "audio", Source: "microphone"}}})
	if _, err := fx.st.Arrive(ctx, store.ReceptionEntry{SessionID: se.ID, Identity: g, Name: "App"}); err != nil {
		fx.t.Fatal(err)
	}
	// opens the session's case file, on the recorder's goroutine
	if _, err := fx.svc.rooms.do(ctx, se.Room, func(_ context.Context, r *liveRoom) (any, error) {
		if r.session() {
			r.replan()
		}
		return nil, nil
	}); err != nil {
		fx.t.Fatal(err)
	}
	events := filepath.Join(fx.dataDir, "cases", recording.CaseFolder(c.ID, c.Number), recording.SessionFolder(se.ID), "events.jsonl")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(events); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fx.t.Fatal("case file not opened")
		}
	}
	return scene{caseID: c.ID, sessID: se.ID, room: se.Room, code: inv.Code, guest: g, parties: c.Parties}
}

// fingerprint of everything a scene's calls could change.
func (fx *fixture) fingerprint(sc scene) string {
	ctx := fx.ctx
	c, _ := fx.st.Case(ctx, sc.caseID)
	tl, _ := fx.st.Timeline(ctx, sc.caseID)
	se, _ := fx.st.Session(ctx, sc.sessID)
	invs, _ := fx.st.ListInvitations(ctx, sc.sessID)
	ss, _ := fx.st.ListSessions(ctx, store.SessionFilter{CaseID: sc.caseID})
	staff, _ := fx.st.SessionStaff(ctx, sc.sessID)
	q, _ := fx.st.Queue(ctx, sc.sessID)
	var revoked int
	for _, inv := range invs {
		if inv.Revoked {
			revoked++
		}
	}
	cases, _ := fx.st.ListCases(ctx, store.CaseFilter{})
	return fmt.Sprintf("case=%s/%s/%s/%s tl=%d sess=%s invs=%d/%d sessions=%d staff=%d queue=%d cases=%d room=%s %s",
		c.Status, c.Risk, c.Mediator, c.Outcome, len(tl), se.State, len(invs), revoked, len(ss), len(staff), len(q), len(cases), fx.rooms.state(sc.room),
		fx.loopFingerprint(sc.loop)) +
		fx.docsFingerprint(sc.caseID) // docfixture_test.go (issue 10)
}
