package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "yizhan.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seed makes city > t1 > v1, city > t2; staff alice (mediator at t1).
func seed(t *testing.T, s *SQLite) {
	t.Helper()
	ctx := ctxT(t)
	for _, c := range []Centre{
		{Code: "city", Name: "市中心", Tier: "city"},
		{Code: "t1", Name: "东镇", Tier: "township", Parent: "city"},
		{Code: "t2", Name: "西镇", Tier: "township", Parent: "city"},
		{Code: "v1", Name: "东村", Tier: "village", Parent: "t1"},
	} {
		if err := s.AddCentre(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddStaff(ctx, Staff{Username: "alice", Name: "Alice", Centre: "t1", Roles: []string{"mediator", "clerk"}, Gold: true, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "y.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	c, err := s.CreateCase(ctx, Case{Title: "t", Category: "land", Risk: "red", Centre: "t1", CreatedBy: "alice",
		Parties: []Party{{Name: "A", Side: "applicant"}, {Name: "B", Side: "respondent", Phone: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, nil) // migrations must not run twice
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != c.Number || len(got.Parties) != 2 || got.Parties[1].Phone != "1" {
		t.Fatalf("after reopen: %+v", got)
	}
	st, err := s2.Staff(ctx, "alice")
	if err != nil || !st.Gold || len(st.Roles) != 2 || !st.Has("clerk") {
		t.Fatalf("staff after reopen: %+v %v", st, err)
	}
	var v int
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	last, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(names[len(names)-1], "migrations/"), "_", 2)[0])
	if err := s2.db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != last {
		t.Fatalf("schema version %d %v", v, err)
	}
	for _, p := range []struct{ pragma, want string }{{"journal_mode", "wal"}, {"foreign_keys", "1"}, {"synchronous", "2"}} {
		var got string
		if err := s2.db.QueryRow("PRAGMA " + p.pragma).Scan(&got); err != nil || got != p.want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", p.pragma, got, err, p.want)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("秘密 secret")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("秘密 secret")
	// the dummy hash has today's parameters and parses (so checking against it costs a hash)
	if !strings.HasPrefix(DummyHash, h[:strings.LastIndex(h[:strings.LastIndex(h, "$")], "$")+1]) || CheckPassword(DummyHash, "") || CheckPassword(DummyHash, "x") {
		t.Fatalf("dummy hash %s vs %s", DummyHash, h)
	}
	if h == h2 {
		t.Fatal("same hash twice: salt missing")
	}
	for _, tc := range []struct {
		hash, pw string
		ok       bool
	}{
		{h, "秘密 secret", true},
		{h, "秘密 secreT", false},
		{h, "", false},
		{"", "x", false},
		{"$argon2id$v=19$m=1,t=1,p=1$$", "x", false},
		{"$bcrypt$...", "x", false},
	} {
		if got := CheckPassword(tc.hash, tc.pw); got != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v", tc.hash, tc.pw, got)
		}
	}
}

func TestCentresAndStaff(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s)
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		c    Centre
		err  error
	}{
		{"duplicate", Centre{Code: "t1", Name: "x", Tier: "township", Parent: "city"}, ErrExists},
		{"bad tier", Centre{Code: "x", Name: "x", Tier: "county"}, ErrInvalid},
		{"unknown parent", Centre{Code: "x", Name: "x", Tier: "village", Parent: "nope"}, ErrInvalid},
		{"no name", Centre{Code: "x", Tier: "village", Parent: "t1"}, ErrInvalid},
	} {
		if err := s.AddCentre(ctx, tc.c); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	for _, tc := range []struct {
		centre, code string
		want         bool
	}{{"city", "v1", true}, {"t1", "v1", true}, {"t2", "v1", false}, {"v1", "t1", false}, {"v1", "v1", true}} {
		if got, err := s.Under(ctx, tc.centre, tc.code); err != nil || got != tc.want {
			t.Errorf("Under(%s,%s)=%v %v", tc.centre, tc.code, got, err)
		}
	}
	h, _ := HashPassword("x")
	for _, tc := range []struct {
		name string
		st   Staff
		err  error
	}{
		{"duplicate", Staff{Username: "alice", Name: "A", Centre: "t1", Roles: []string{"judge"}, PasswordHash: h}, ErrExists},
		{"bad role", Staff{Username: "bob", Name: "B", Centre: "t1", Roles: []string{"king"}, PasswordHash: h}, ErrInvalid},
		{"no role", Staff{Username: "bob", Name: "B", Centre: "t1", PasswordHash: h}, ErrInvalid},
		{"bad centre", Staff{Username: "bob", Name: "B", Centre: "zz", Roles: []string{"judge"}, PasswordHash: h}, ErrInvalid},
		{"ok", Staff{Username: "bob", Name: "Bob Judge", Centre: "city", Roles: []string{"judge"}, PasswordHash: h}, nil},
	} {
		if err := s.AddStaff(ctx, tc.st); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if _, err := s.Staff(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    StaffFilter
		want int
	}{{StaffFilter{}, 2}, {StaffFilter{Tier: "city"}, 1}, {StaffFilter{Role: "mediator"}, 1}, {StaffFilter{Query: "judge"}, 1}, {StaffFilter{Query: "东镇"}, 1}, {StaffFilter{Query: "%"}, 0}} {
		got, err := s.ListStaff(ctx, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("ListStaff(%+v) = %d %v, want %d", tc.f, len(got), err, tc.want)
		}
	}
	if err := s.CreateAuthSession(ctx, "h1", "alice", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if u, exp, err := s.AuthSession(ctx, "h1"); err != nil || u != "alice" || exp.Before(time.Now()) {
		t.Fatalf("auth session %q %v %v", u, exp, err)
	}
	s.DeleteAuthSession(ctx, "h1")
	if _, _, err := s.AuthSession(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestCaseNumbersConcurrent(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	numbers := make(chan string, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			centre := []string{"t1", "t2"}[i%2]
			c, err := s.CreateCase(ctx, Case{Title: "x", Category: "other", Risk: "blue", Centre: centre})
			if err != nil {
				t.Error(err)
				return
			}
			numbers <- c.Number
		}(i)
	}
	wg.Wait()
	close(numbers)
	seen := map[string]bool{}
	for n := range numbers {
		if seen[n] {
			t.Fatalf("duplicate number %s", n)
		}
		seen[n] = true
	}
	year := time.Now().UTC().Year()
	// numbers are unique across the network: each centre's short name is in them
	for _, want := range []string{"(%d)东调字第0001号", "(%d)东调字第0020号", "(%d)西调字第0020号"} {
		if k := fmtYear(want, year); !seen[k] {
			t.Errorf("missing %s", k)
		}
	}
}

func fmtYear(f string, y int) string {
	return fmt.Sprintf(f, y)
}

func TestStatusTransitions(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s)
	ctx := ctxT(t)
	c, err := s.CreateCase(ctx, Case{Title: "x", Category: "land", Risk: "blue", Centre: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	steps := []struct {
		name string
		u    CaseUpdate
		err  error
		want string
	}{
		{"skip", CaseUpdate{Status: str("mediating")}, ErrIllegalTransition, "accepted"},
		{"unknown", CaseUpdate{Status: str("lost")}, ErrInvalid, "accepted"},
		{"assess", CaseUpdate{Status: str("assessed")}, nil, "assessed"},
		{"back", CaseUpdate{Status: str("accepted")}, ErrIllegalTransition, "assessed"},
		{"assign", CaseUpdate{Status: str("assigned"), Mediator: str("alice")}, nil, "assigned"},
		{"bad mediator", CaseUpdate{Mediator: str("ghost")}, ErrInvalid, "assigned"},
		{"mediate", CaseUpdate{Status: str("mediating")}, nil, "mediating"},
		{"supervise", CaseUpdate{Status: str("supervised"), Risk: str("red")}, nil, "supervised"},
		{"close without outcome", CaseUpdate{Status: str("closed")}, ErrInvalid, "supervised"},
		{"bad risk and status", CaseUpdate{Status: str("closed"), Outcome: str("ok"), Risk: str("pink")}, ErrInvalid, "supervised"},
		{"close", CaseUpdate{Status: str("closed"), Outcome: str("agreement signed")}, nil, "closed"},
		{"reopen", CaseUpdate{Status: str("accepted")}, ErrIllegalTransition, "closed"},
		{"change outcome", CaseUpdate{Outcome: str("other")}, ErrIllegalTransition, "closed"},
	}
	for _, st := range steps {
		before, _ := s.Timeline(ctx, c.ID)
		_, err := s.UpdateCase(ctx, c.ID, st.u, "alice")
		if !errors.Is(err, st.err) {
			t.Fatalf("%s: err %v, want %v", st.name, err, st.err)
		}
		got, _ := s.Case(ctx, c.ID)
		if got.Status != st.want {
			t.Fatalf("%s: status %s, want %s", st.name, got.Status, st.want)
		}
		after, _ := s.Timeline(ctx, c.ID)
		if err != nil && len(after) != len(before) {
			t.Fatalf("%s: failed update changed the timeline", st.name)
		}
	}
	got, _ := s.Case(ctx, c.ID)
	if got.Risk != "red" || got.Mediator != "alice" || got.Outcome != "agreement signed" {
		t.Fatalf("case %+v", got)
	}
	if _, err := s.UpdateCase(ctx, 999, CaseUpdate{Risk: str("red")}, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestSessionsInvitationsReception(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s)
	ctx := ctxT(t)
	c, _ := s.CreateCase(ctx, Case{Title: "x", Category: "land", Risk: "blue", Centre: "v1", Parties: []Party{{Name: "A", Side: "applicant"}}})
	c2, _ := s.CreateCase(ctx, Case{Title: "y", Category: "land", Risk: "blue", Centre: "t2", Parties: []Party{{Name: "Z", Side: "applicant"}}})
	se, err := s.CreateSession(ctx, Session{CaseID: c.ID, Kind: "mediation", Title: "first", Room: "r1", Hosts: []string{"alice"}, RecordOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if se.State != "scheduled" || se.CaucusPolicy != "off" || len(se.Hosts) != 1 || !se.RecordOnOpen {
		t.Fatalf("session %+v", se)
	}
	if _, err := s.CreateSession(ctx, Session{CaseID: c.ID, Kind: "party", Title: "x", Room: "r2"}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, Session{CaseID: c.ID, Kind: "mediation", Title: "x", Room: "r1"}); !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
	if got, _ := s.SessionByRoom(ctx, "r1"); got.ID != se.ID {
		t.Fatal("by room")
	}
	for _, tc := range []struct {
		f    SessionFilter
		want int
	}{{SessionFilter{Under: "t1"}, 1}, {SessionFilter{Under: "t2"}, 0}, {SessionFilter{Under: "t2", OrUser: "alice"}, 1}, {SessionFilter{State: "live"}, 0}} {
		if got, err := s.ListSessions(ctx, tc.f); err != nil || len(got) != tc.want {
			t.Errorf("ListSessions(%+v) = %d %v", tc.f, len(got), err)
		}
	}
	// state machine
	for _, tc := range []struct {
		state string
		err   error
	}{{"live", nil}, {"scheduled", ErrIllegalTransition}, {"ended", nil}, {"live", ErrIllegalTransition}, {"gone", ErrInvalid}} {
		if err := s.SetSessionState(ctx, se.ID, tc.state); !errors.Is(err, tc.err) {
			t.Errorf("-> %s: %v", tc.state, err)
		}
	}
	exp := time.Now().Add(time.Hour)
	code := "abcdefghijklmnopqrstuvwxyz"
	for _, tc := range []struct {
		name string
		inv  Invitation
		err  error
	}{
		{"ok", Invitation{Code: code, SessionID: se.ID, Role: "party", Side: "applicant", Name: "A", PartyID: c.Parties[0].ID, ExpiresAt: exp}, nil},
		{"dup", Invitation{Code: code, SessionID: se.ID, Role: "party", Name: "A", ExpiresAt: exp}, ErrExists},
		{"short", Invitation{Code: "abc", SessionID: se.ID, Role: "party", Name: "A", ExpiresAt: exp}, ErrInvalid},
		{"role", Invitation{Code: code + "1", SessionID: se.ID, Role: "king", Name: "A", ExpiresAt: exp}, ErrInvalid},
		{"other case party", Invitation{Code: code + "2", SessionID: se.ID, Role: "agent", Name: "A", PartyID: c2.Parties[0].ID, ExpiresAt: exp}, ErrInvalid},
		{"no session", Invitation{Code: code + "3", SessionID: 99, Role: "party", Name: "A", ExpiresAt: exp}, ErrInvalid},
	} {
		if _, err := s.CreateInvitation(ctx, tc.inv); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	inv, err := s.Invitation(ctx, code)
	if err != nil || !inv.Valid(time.Now()) || inv.PartyID != c.Parties[0].ID {
		t.Fatalf("%+v %v", inv, err)
	}
	if err := s.RevokeInvitation(ctx, code); err != nil {
		t.Fatal(err)
	}
	if inv, _ := s.Invitation(ctx, code); inv.Valid(time.Now()) {
		t.Fatal("revoked invitation valid")
	}
	if err := s.RevokeInvitation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.AddSessionStaff(ctx, SessionStaff{SessionID: se.ID, Username: "alice", Role: "judge", InvitedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	if ss, _ := s.SessionStaff(ctx, se.ID); len(ss) != 1 {
		t.Fatal("session staff")
	}

	// reception: three arrivals, a reconnect keeps its place, outcomes new and existing
	rec, _ := s.CreateSession(ctx, Session{CaseID: c.ID, Kind: "reception", Title: "接访", Room: "r3"})
	t0 := time.Now()
	for i, id := range []string{"p1", "p2", "p3", "p1"} {
		if _, err := s.Arrive(ctx, ReceptionEntry{SessionID: rec.ID, Identity: id, Name: id, ArrivedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := s.Queue(ctx, rec.ID)
	if len(q) != 3 || q[0].Identity != "p1" || q[2].Identity != "p3" {
		t.Fatalf("queue %+v", q)
	}
	if err := s.MarkAdmitted(ctx, rec.ID, "p1", time.Now()); err != nil {
		t.Fatal(err)
	}
	dl := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	nc, sup, err := s.FileOutcome(ctx, Outcome{SessionID: rec.ID, Identity: "p1", Note: "heard", Actor: "alice",
		NewCase:   Case{Title: "来访", Category: "other", Risk: "blue", Centre: "t1", Parties: []Party{{Name: "p1", Side: "applicant"}}},
		Supervise: &Supervision{Unit: "司法所", Deadline: dl}})
	if err != nil || sup == nil || nc.ID == 0 || nc.Centre != "t1" {
		t.Fatalf("outcome %+v %+v %v", nc, sup, err)
	}
	if sv, _ := s.Supervisions(ctx, nc.ID); len(sv) != 1 || !sv[0].Deadline.Equal(dl) {
		t.Fatalf("supervisions %+v", sv)
	}
	if _, _, err := s.FileOutcome(ctx, Outcome{SessionID: rec.ID, Identity: "p2", Note: "", CaseID: c.ID}); !errors.Is(err, ErrInvalid) {
		t.Fatal("empty note accepted")
	}
	if _, _, err := s.FileOutcome(ctx, Outcome{SessionID: rec.ID, Identity: "p2", Note: "x", CaseID: 999}); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, _, err := s.FileOutcome(ctx, Outcome{SessionID: rec.ID, Identity: "p2", Note: "into existing", CaseID: c.ID}); err != nil {
		t.Fatal(err)
	}
	q, _ = s.Queue(ctx, rec.ID)
	if len(q) != 1 || q[0].Identity != "p3" {
		t.Fatalf("queue after outcomes %+v", q)
	}
	tl, _ := s.Timeline(ctx, c.ID)
	kinds := map[string]int{}
	for _, e := range tl {
		kinds[e.Kind]++
	}
	if kinds["created"] != 1 || kinds["session_created"] != 2 || kinds["outcome"] != 1 {
		t.Fatalf("timeline kinds %v", kinds)
	}
}

func TestStats(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s)
	ctx := ctxT(t)
	str := func(v string) *string { return &v }
	mk := func(centre, cat, risk string, closed bool) {
		c, err := s.CreateCase(ctx, Case{Title: "x", Category: cat, Risk: risk, Centre: centre})
		if err != nil {
			t.Fatal(err)
		}
		if closed {
			s.UpdateCase(ctx, c.ID, CaseUpdate{Outcome: str("done"), Mediator: str("alice")}, "")
			for _, st := range Statuses[1:] {
				if _, err := s.UpdateCase(ctx, c.ID, CaseUpdate{Status: str(st)}, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	mk("city", "land", "red", true)
	mk("t1", "land", "blue", false)
	mk("v1", "labour_wages", "blue", true)
	mk("t2", "land", "yellow", true)
	for _, tc := range []struct {
		by, under string
		want      map[string][2]int
	}{
		{"tier", "city", map[string][2]int{"city": {1, 1}, "township": {2, 1}, "village": {1, 1}}},
		{"tier", "t1", map[string][2]int{"township": {1, 0}, "village": {1, 1}}},
		{"category", "city", map[string][2]int{"land": {3, 2}, "labour_wages": {1, 1}}},
		{"risk", "t1", map[string][2]int{"blue": {2, 1}}},
	} {
		rows, err := s.Stats(ctx, tc.by, tc.under)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int{}
		for _, r := range rows {
			got[r.Key] = [2]int{r.Accepted, r.Closed}
		}
		if len(got) != len(tc.want) {
			t.Errorf("stats %s under %s = %v, want %v", tc.by, tc.under, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("stats %s under %s = %v, want %v", tc.by, tc.under, got, tc.want)
			}
		}
	}
	if _, err := s.Stats(ctx, "colour", "city"); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}
