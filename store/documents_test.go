package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func docStore(t *testing.T) (*SQLite, Case) {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "d.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddCentre(ctx, Centre{Code: "c", Name: "C", Tier: "city"}); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCase(ctx, Case{Title: "t", Category: "land", Risk: "red", Centre: "c", Parties: []Party{{Name: "A", Side: "applicant"}, {Name: "B", Side: "respondent"}}})
	if err != nil {
		t.Fatal(err)
	}
	return st, c
}

// TestSessionKindConfirmation: migration 003 widened the sessions CHECK in place; the old
// kinds still pass, confirmation passes, nonsense is still refused by the database.
func TestSessionKindConfirmation(t *testing.T) {
	st, c := docStore(t)
	ctx := context.Background()
	for _, k := range []string{"mediation", "confirmation"} {
		if _, err := st.CreateSession(ctx, Session{CaseID: c.ID, Kind: k, Title: k, Room: "r-" + k}); err != nil {
			t.Fatalf("kind %s: %v", k, err)
		}
	}
	_, err := st.db.ExecContext(ctx, `INSERT INTO sessions (case_id, kind, title, room, state, caucus_policy, created_at) VALUES (?, 'bogus', 't', 'r-x', 'scheduled', 'off', 0)`, c.ID)
	if err == nil {
		t.Fatal("the CHECK constraint no longer refuses an unknown kind")
	}
	var ic string
	if err := st.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ic); err != nil || ic != "ok" {
		t.Fatalf("integrity_check: %q %v", ic, err)
	}
}

// TestSignVoidSeal: signatures of an edited version are void; a stale version signs
// nothing; the last signature seals.
func TestSignVoidSeal(t *testing.T) {
	st, c := docStore(t)
	ctx := context.Background()
	d, err := st.CreateDocument(ctx, Document{CaseID: c.ID, Kind: "agreement", Title: "t", Body: "b1", SHA256: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddStaff(ctx, Staff{Username: "u1", Name: "U1", Centre: "c", Roles: []string{"mediator"}, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddStaff(ctx, Staff{Username: "u2", Name: "U2", Centre: "c", Roles: []string{"mediator"}, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	d, sgs, err := st.SendDocument(ctx, d.ID, 1, []Signer{{Username: "u1", Name: "U1", Role: "mediator"}, {Username: "u2", Name: "U2", Role: "mediator"}})
	if err != nil || d.State != "signing" || len(sgs) != 2 {
		t.Fatalf("send: %v %s %d", err, d.State, len(sgs))
	}
	if sealed, err := st.Sign(ctx, sgs[0].ID, 1, "h1", Signer{Evidence: "login"}); err != nil || sealed {
		t.Fatalf("sign 1: %v sealed=%v", err, sealed)
	}
	d, voided, err := st.EditDocument(ctx, d.ID, 1, "t", "b2", "h2", "u1")
	if err != nil || d.Version != 2 || len(voided) != 1 || voided[0].Username != "u1" {
		t.Fatalf("edit: %v v%d voided %v", err, d.Version, voided)
	}
	all, _ := st.Signers(ctx, d.ID)
	var cur []Signer
	for _, sg := range all {
		if sg.Version == 2 {
			cur = append(cur, sg)
		}
	}
	if len(cur) != 2 || !cur[0].SignedAt.IsZero() {
		t.Fatalf("signers of v2: %+v", cur)
	}
	if _, err := st.Sign(ctx, cur[0].ID, 1, "h1", Signer{}); !errors.Is(err, ErrStale) {
		t.Fatalf("stale sign: %v, want ErrStale", err)
	}
	if _, err := st.Sign(ctx, cur[0].ID, 2, "h2", Signer{Evidence: "login"}); err != nil {
		t.Fatal(err)
	}
	if sealed, err := st.Sign(ctx, cur[1].ID, 2, "h2", Signer{Evidence: "login"}); err != nil || !sealed {
		t.Fatalf("last sign: %v sealed=%v", err, sealed)
	}
	d, _ = st.Document(ctx, d.ID)
	if d.State != "sealed" || d.SealedAt.IsZero() || time.Since(d.SealedAt) > time.Minute {
		t.Fatalf("after last signature: %s %v", d.State, d.SealedAt)
	}
	if _, _, err := st.EditDocument(ctx, d.ID, 2, "t", "b3", "h3", "u1"); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("edit sealed: %v", err)
	}
}
