package mediation

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/signaling"
	"yizhan/store"
)

// watchedStore is the real store seen through two checks: every call made on a
// goroutine that is running signaling code is counted (there must be none: signaling's
// hooks only enqueue), and while a session is held, every call about that session, its
// case or its room waits until it is released (a stuck disk, for one room).
type watchedStore struct {
	store.Store

	mu       sync.Mutex // guards held*, release
	heldSess int64
	heldCase int64
	heldRoom string
	release  chan struct{}

	onSignaling atomic.Int64 // calls from a goroutine with signaling frames
	firstStack  atomic.Value // string: the first such stack
	waiting     atomic.Int64 // calls waiting on a held session now
}

func (ws *watchedStore) hold(sessID, caseID int64, room string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.heldSess, ws.heldCase, ws.heldRoom, ws.release = sessID, caseID, room, make(chan struct{})
}

func (ws *watchedStore) letGo() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.release != nil {
		close(ws.release)
	}
	ws.heldSess, ws.heldCase, ws.heldRoom, ws.release = 0, 0, "", nil
}

func (ws *watchedStore) sessionKey(id int64) bool {
	return ws.is(func() bool { return id != 0 && id == ws.heldSess })
}
func (ws *watchedStore) caseKey(id int64) bool {
	return ws.is(func() bool { return id != 0 && id == ws.heldCase })
}
func (ws *watchedStore) roomKey(r string) bool {
	return ws.is(func() bool { return r != "" && r == ws.heldRoom })
}

func (ws *watchedStore) is(f func() bool) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return f()
}

// enter checks the caller's goroutine and waits while its call is about the held session.
func (ws *watchedStore) enter(held bool) {
	buf := make([]byte, 64<<10)
	stack := string(buf[:runtime.Stack(buf, false)])
	if strings.Contains(stack, "yizhan/signaling.") {
		if ws.onSignaling.Add(1) == 1 {
			ws.firstStack.Store(stack)
		}
	}
	if !held {
		return
	}
	ws.mu.Lock()
	ch := ws.release
	ws.mu.Unlock()
	if ch == nil {
		return
	}
	ws.waiting.Add(1)
	<-ch
	ws.waiting.Add(-1)
}

func (ws *watchedStore) AddCentre(ctx context.Context, c store.Centre) error {
	ws.enter(false)
	return ws.Store.AddCentre(ctx, c)
}

func (ws *watchedStore) Centre(ctx context.Context, code string) (store.Centre, error) {
	ws.enter(false)
	return ws.Store.Centre(ctx, code)
}

func (ws *watchedStore) Centres(ctx context.Context) ([]store.Centre, error) {
	ws.enter(false)
	return ws.Store.Centres(ctx)
}

func (ws *watchedStore) Under(ctx context.Context, root string, code string) (bool, error) {
	ws.enter(false)
	return ws.Store.Under(ctx, root, code)
}

func (ws *watchedStore) AddStaff(ctx context.Context, s store.Staff) error {
	ws.enter(false)
	return ws.Store.AddStaff(ctx, s)
}

func (ws *watchedStore) Staff(ctx context.Context, username string) (store.Staff, error) {
	ws.enter(false)
	return ws.Store.Staff(ctx, username)
}

func (ws *watchedStore) ListStaff(ctx context.Context, f store.StaffFilter) ([]store.Staff, error) {
	ws.enter(false)
	return ws.Store.ListStaff(ctx, f)
}

func (ws *watchedStore) SetPassword(ctx context.Context, username string, hash string) error {
	ws.enter(false)
	return ws.Store.SetPassword(ctx, username, hash)
}

func (ws *watchedStore) CreateAuthSession(ctx context.Context, tokenHash string, username string, expires time.Time) error {
	ws.enter(false)
	return ws.Store.CreateAuthSession(ctx, tokenHash, username, expires)
}

func (ws *watchedStore) AuthSession(ctx context.Context, tokenHash string) (username string, expires time.Time, err error) {
	ws.enter(false)
	return ws.Store.AuthSession(ctx, tokenHash)
}

func (ws *watchedStore) DeleteAuthSession(ctx context.Context, tokenHash string) error {
	ws.enter(false)
	return ws.Store.DeleteAuthSession(ctx, tokenHash)
}

func (ws *watchedStore) CreateCase(ctx context.Context, c store.Case) (store.Case, error) {
	ws.enter(false)
	return ws.Store.CreateCase(ctx, c)
}

func (ws *watchedStore) Case(ctx context.Context, id int64) (store.Case, error) {
	ws.enter(ws.caseKey(id))
	return ws.Store.Case(ctx, id)
}

func (ws *watchedStore) ListCases(ctx context.Context, f store.CaseFilter) ([]store.Case, error) {
	ws.enter(false)
	return ws.Store.ListCases(ctx, f)
}

func (ws *watchedStore) UpdateCase(ctx context.Context, id int64, u store.CaseUpdate, actor string) (store.Case, error) {
	ws.enter(false)
	return ws.Store.UpdateCase(ctx, id, u, actor)
}

func (ws *watchedStore) AddEvent(ctx context.Context, ev store.Event) (store.Event, error) {
	ws.enter(ws.sessionKey(ev.SessionID))
	return ws.Store.AddEvent(ctx, ev)
}

func (ws *watchedStore) Timeline(ctx context.Context, caseID int64) ([]store.Event, error) {
	ws.enter(false)
	return ws.Store.Timeline(ctx, caseID)
}

func (ws *watchedStore) Stats(ctx context.Context, by string, under string) ([]store.StatRow, error) {
	ws.enter(false)
	return ws.Store.Stats(ctx, by, under)
}

func (ws *watchedStore) CreateSession(ctx context.Context, s store.Session) (store.Session, error) {
	ws.enter(false)
	return ws.Store.CreateSession(ctx, s)
}

func (ws *watchedStore) Session(ctx context.Context, id int64) (store.Session, error) {
	ws.enter(ws.sessionKey(id))
	return ws.Store.Session(ctx, id)
}

func (ws *watchedStore) SessionByRoom(ctx context.Context, room string) (store.Session, error) {
	ws.enter(ws.roomKey(room))
	return ws.Store.SessionByRoom(ctx, room)
}

func (ws *watchedStore) ListSessions(ctx context.Context, f store.SessionFilter) ([]store.Session, error) {
	ws.enter(false)
	return ws.Store.ListSessions(ctx, f)
}

func (ws *watchedStore) SetSessionState(ctx context.Context, id int64, state string) error {
	ws.enter(ws.sessionKey(id))
	return ws.Store.SetSessionState(ctx, id, state)
}

func (ws *watchedStore) AddSessionStaff(ctx context.Context, ss store.SessionStaff) error {
	ws.enter(ws.sessionKey(ss.SessionID))
	return ws.Store.AddSessionStaff(ctx, ss)
}

func (ws *watchedStore) SessionStaff(ctx context.Context, sessionID int64) ([]store.SessionStaff, error) {
	ws.enter(ws.sessionKey(sessionID))
	return ws.Store.SessionStaff(ctx, sessionID)
}

func (ws *watchedStore) CreateInvitation(ctx context.Context, inv store.Invitation) (store.Invitation, error) {
	ws.enter(false)
	return ws.Store.CreateInvitation(ctx, inv)
}

func (ws *watchedStore) Invitation(ctx context.Context, code string) (store.Invitation, error) {
	ws.enter(false)
	return ws.Store.Invitation(ctx, code)
}

func (ws *watchedStore) InvitationByID(ctx context.Context, id int64) (store.Invitation, error) {
	ws.enter(false)
	return ws.Store.InvitationByID(ctx, id)
}

func (ws *watchedStore) ListInvitations(ctx context.Context, sessionID int64) ([]store.Invitation, error) {
	ws.enter(ws.sessionKey(sessionID))
	return ws.Store.ListInvitations(ctx, sessionID)
}

func (ws *watchedStore) RevokeInvitation(ctx context.Context, code string) error {
	ws.enter(false)
	return ws.Store.RevokeInvitation(ctx, code)
}

func (ws *watchedStore) Arrive(ctx context.Context, e store.ReceptionEntry) (store.ReceptionEntry, error) {
	ws.enter(ws.sessionKey(e.SessionID))
	return ws.Store.Arrive(ctx, e)
}

func (ws *watchedStore) Queue(ctx context.Context, sessionID int64) ([]store.ReceptionEntry, error) {
	ws.enter(ws.sessionKey(sessionID))
	return ws.Store.Queue(ctx, sessionID)
}

func (ws *watchedStore) MarkAdmitted(ctx context.Context, sessionID int64, identity string, at time.Time) error {
	ws.enter(ws.sessionKey(sessionID))
	return ws.Store.MarkAdmitted(ctx, sessionID, identity, at)
}

func (ws *watchedStore) FileOutcome(ctx context.Context, o store.Outcome) (store.Case, *store.Supervision, error) {
	ws.enter(ws.sessionKey(o.SessionID))
	return ws.Store.FileOutcome(ctx, o)
}

func (ws *watchedStore) Supervisions(ctx context.Context, caseID int64) ([]store.Supervision, error) {
	ws.enter(false)
	return ws.Store.Supervisions(ctx, caseID)
}

// TestStoreStallStaysInItsRoom: the store stalls on everything about session A (as a
// stuck disk would for one room's writes). Room A's owner waits, and only it: a leave in
// room A goes through signaling at once, media keeps flowing in room A and in room B, and
// in room B a newcomer is let in from the lobby and admitted by the host. No store call
// ever runs on a signaling goroutine. Once the store is released, room A catches up.
func TestStoreStallStaysInItsRoom(t *testing.T) {
	ws := &watchedStore{}
	ls := newLiveServerOn(t, func(*signaling.Server) Config { return Config{} },
		func(st store.Store) store.Store { ws.Store = st; return ws })
	// Registered after the server's cleanup, so it runs before it (cleanups run last
	// first): a test that fails while room A is held releases it before the server shuts
	// down, whatever path the failure took.
	t.Cleanup(ws.letGo)

	type room struct {
		c            caseJSON
		se           sessionJSON
		med, party   *lktest.Client
		M, P         string
		late         joinJSON // a token minted before the stall, used during it
		lateInvIdent string
	}
	open := func(title string) *room {
		r := &room{}
		ls.call("mediator", "POST", "/api/cases", `{"title":"`+title+`","category":"land","risk":"blue","mediator":"med",
			"parties":[{"name":"甲","side":"applicant"},{"name":"乙","side":"respondent"}]}`, 201, &r.c)
		ls.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", r.c.ID), `{"kind":"mediation","title":"`+title+`","record_on_open":false}`, 201, &r.se)
		inv := ls.invite(r.se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, r.c.Parties[0].ID))
		late := ls.invite(r.se.ID, fmt.Sprintf(`{"role":"party","party":%d}`, r.c.Parties[1].ID))
		var pj, mj joinJSON
		ls.call("party", "POST", "/api/join/"+inv.Code, `{"consent":true}`, 200, &pj)
		ls.call("party", "POST", "/api/join/"+late.Code, `{"consent":true}`, 200, &r.late)
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/join", r.se.ID), ``, 200, &mj)
		r.med, r.party = ls.connect(mj), ls.connect(pj)
		r.M, r.P = mj.Identity, pj.Identity
		publishAV(t, r.med)
		publishAV(t, r.party)
		waitFor(t, title+": the party knocks", func() bool { _, ok := ls.svc.participant(r.se.Room, r.P); return ok })
		ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", r.se.ID), `{"identity":"`+r.P+`"}`, 200, nil)
		waitFor(t, title+": media flows", func() bool {
			return r.party.PacketsFrom(r.M, "audio") > 20 && r.med.PacketsFrom(r.P, "video") > 20
		})
		return r
	}
	a, b := open("A"), open("B")
	// someone in room A who will leave while its store is stuck
	lateA := ls.connect(a.late)
	waitFor(t, "A: the late party knocks", func() bool {
		tl, _ := ls.st.Timeline(ls.ctx, a.c.ID)
		for _, e := range tl {
			if e.Kind == "join" && e.Subject == a.late.Identity {
				return true
			}
		}
		return false
	})

	ws.hold(a.se.ID, a.c.ID, a.se.Room)
	lateA.Close() // "left" in room A: its owner writes the timeline, and waits
	waitFor(t, "room A's owner is stuck in the store", func() bool { return ws.waiting.Load() > 0 })
	waitFor(t, "signaling let the leaver go (its goroutine is not stuck)", func() bool {
		_, ok := ls.svc.participant(a.se.Room, a.late.Identity)
		return !ok
	})

	flows := func(to *lktest.Client, from string) func() bool {
		n := to.PacketsFrom(from, "")
		return func() bool { return to.PacketsFrom(from, "") > n+50 }
	}
	waitFor(t, "media in room A", flows(a.party, a.M))
	waitFor(t, "media in room B", flows(b.party, b.M))

	// Room B works as a whole: a newcomer lands in the lobby, the host admits them.
	lateB := ls.connect(b.late)
	waitFor(t, "B: the newcomer knocks", func() bool {
		var live struct {
			Lobby []participantJSON `json:"lobby"`
		}
		ls.call("mediator", "GET", fmt.Sprintf("/api/sessions/%d/live", b.se.ID), "", 200, &live)
		return len(live.Lobby) == 1 && live.Lobby[0].Identity == b.late.Identity
	})
	ls.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/admit", b.se.ID), `{"identity":"`+b.late.Identity+`"}`, 200, nil)
	waitFor(t, "B: the newcomer hears the session", func() bool { return lateB.PacketsFrom(b.M, "audio") > 20 })
	if ws.waiting.Load() == 0 {
		t.Fatal("room A's owner was released early: the test proves nothing")
	}

	ws.letGo()
	waitFor(t, "room A catches up: the leave is on its timeline", func() bool {
		tl, _ := ls.st.Timeline(ls.ctx, a.c.ID)
		for _, e := range tl {
			if e.Kind == "leave" && e.Subject == a.late.Identity {
				return true
			}
		}
		return false
	})
	if n := ws.onSignaling.Load(); n != 0 {
		t.Errorf("%d store calls ran on a signaling goroutine; the first:\n%s", n, ws.firstStack.Load())
	}
	_ = context.Background
	_ = time.Second
}

// TestCloseLeavesAStuckRoomBehind: a room whose goroutine is stuck (in a store call that
// ignores its context, as a stuck disk does) does not hang Close: it waits CloseWait,
// logs, and goes on.
func TestCloseLeavesAStuckRoomBehind(t *testing.T) {
	rs := newLiveRooms(&core{cfg: Config{CloseWait: 200 * time.Millisecond}, log: testLogger(t)})
	stuck, entered, left := make(chan struct{}), make(chan struct{}), make(chan struct{})
	if _, ok := rs.enqueue("stuck", func(*liveRoom) { close(entered); <-stuck; close(left) }); !ok {
		t.Fatal("enqueue refused")
	}
	<-entered
	start := time.Now()
	if rs.close() {
		t.Fatal("close says every room finished, with one stuck")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("close took %v with CloseWait 200ms", d)
	}
	close(stuck) // the disk comes back: the room ends (nothing of it outlives the test)
	<-left
	ended := make(chan struct{})
	go func() { rs.wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the room did not end once released")
	}
}
