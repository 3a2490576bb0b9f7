package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The citizen's way in (issue 11): requests with tracking codes, photos, feedback, each
// centre's standing duty reception for video calls, leaders' slots and bookings.

type Slot struct {
	ID        int64
	Centre    string
	Leader    string
	StartsAt  time.Time
	EndsAt    time.Time
	Capacity  int
	SessionID int64
	Booked    int // bookings so far (read only)
	CreatedBy string
}

// Booking books one place of a slot: a new case (the request) and an invitation into the
// slot's reception session for its applicant, made in one transaction with the capacity
// check.
type Booking struct {
	SlotID     int64
	Case       Case       // the new case; its first party is the booker
	Invitation Invitation // Code, Name, ExpiresAt; session, role, side and party are filled in
}

// Intake is the store side of the citizen's entrance; embedded in Store.
type Intake interface {
	CaseByTracking(ctx context.Context, code string) (Case, error)
	// SetFeedback records the citizen's rating of a closed case, once.
	SetFeedback(ctx context.Context, caseID int64, satisfaction int, comment string) (Case, error)
	AddPhoto(ctx context.Context, caseID int64, name string, size int) error
	Photos(ctx context.Context, caseID int64) ([]string, error)
	PhotoCase(ctx context.Context, name string) (int64, error)

	// DutySession returns the centre's standing reception, making it (a holder case and a
	// reception session in room) on first use.
	DutySession(ctx context.Context, centre, caseTitle, sessionTitle, room string) (Session, error)
	// DutyCentre is the centre whose duty reception session is, "" if none.
	DutyCentre(ctx context.Context, sessionID int64) (string, error)
	SetHost(ctx context.Context, sessionID int64, username string, on bool) error

	// AddSlot publishes a leader's slot with its reception session (and a holder case).
	AddSlot(ctx context.Context, sl Slot, caseTitle, sessionTitle, room string) (Slot, error)
	Slot(ctx context.Context, id int64) (Slot, error)
	Slots(ctx context.Context, centre string, endsAfter time.Time) ([]Slot, error)
	Book(ctx context.Context, b Booking) (Case, Invitation, error)
	// BookingOf returns the slot and invitation of a booked case (ErrNotFound if none).
	BookingOf(ctx context.Context, caseID int64) (Slot, Invitation, error)
	// BookedCase is the case booked with invitation id (0 if none).
	BookedCase(ctx context.Context, invitationID int64) (int64, error)
}

func (s *SQLite) CaseByTracking(ctx context.Context, code string) (Case, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM cases WHERE tracking_code = ?`, code).Scan(&id)
	if err != nil {
		return Case{}, notFound(err, "tracking code")
	}
	return s.Case(ctx, id)
}

func (s *SQLite) SetFeedback(ctx context.Context, caseID int64, satisfaction int, comment string) (Case, error) {
	if satisfaction < 1 || satisfaction > 5 {
		return Case{}, fmt.Errorf("satisfaction is 1 to 5: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, caseID))
		if err != nil {
			return notFound(err, fmt.Sprintf("case %d", caseID))
		}
		if c.Status != "closed" {
			return fmt.Errorf("the request is not resolved yet: %w", ErrIllegalTransition)
		}
		if c.Satisfaction != 0 {
			return fmt.Errorf("the request was already rated: %w", ErrIllegalTransition)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET satisfaction = ?, feedback = ?, feedback_at = ? WHERE id = ?`, satisfaction, comment, ms(now), caseID); err != nil {
			return constraint(err, "feedback")
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "feedback", Actor: "citizen", Subject: fmt.Sprint(satisfaction), Detail: comment})
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return s.Case(ctx, caseID)
}

func (s *SQLite) AddPhoto(ctx context.Context, caseID int64, name string, size int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO photos (case_id, name, bytes, created_at) VALUES (?, ?, ?, ?)`, caseID, name, size, ms(time.Now()))
	return constraint(err, "add photo")
}

func (s *SQLite) Photos(ctx context.Context, caseID int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM photos WHERE case_id = ? ORDER BY id`, caseID)
	return scanAll(rows, err, func(sc interface{ Scan(...any) error }) (string, error) {
		var n string
		return n, sc.Scan(&n)
	})
}

func (s *SQLite) PhotoCase(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT case_id FROM photos WHERE name = ?`, name).Scan(&id)
	return id, notFound(err, "photo")
}

// holderTx makes a reception's holder case and its session.
func holderTx(ctx context.Context, tx *sql.Tx, centre, caseTitle string, se Session) (int64, error) {
	caseID, err := createCaseTx(ctx, tx, Case{Title: caseTitle, Category: "other", Risk: "blue", Centre: centre, Kind: "reception", CreatedBy: se.CreatedBy})
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO sessions (case_id, kind, title, scheduled_at, room, state, caucus_policy, record_on_open, created_by, created_at)
		VALUES (?, 'reception', ?, ?, ?, 'scheduled', 'off', 1, ?, ?)`, caseID, se.Title, nullMS(se.ScheduledAt), se.Room, se.CreatedBy, ms(now))
	if err != nil {
		return 0, constraint(err, "create reception session")
	}
	id, _ := res.LastInsertId()
	for _, h := range se.Hosts {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO session_hosts (session_id, username) VALUES (?, ?)`, id, h); err != nil {
			return 0, constraint(err, "add host")
		}
	}
	_, err = addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "session_created", Actor: se.CreatedBy, SessionID: id,
		Detail: fmt.Sprintf("reception session %q, hosts %s", se.Title, strings.Join(se.Hosts, ","))})
	return id, err
}

func (s *SQLite) DutySession(ctx context.Context, centre, caseTitle, sessionTitle, room string) (Session, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT session_id FROM duty_sessions WHERE centre = ?`, centre).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if id, err = holderTx(ctx, tx, centre, caseTitle, Session{Title: sessionTitle, Room: room}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO duty_sessions (centre, session_id) VALUES (?, ?)`, centre, id)
		return constraint(err, "duty session")
	})
	if err != nil {
		return Session{}, err
	}
	return s.Session(ctx, id)
}

func (s *SQLite) DutyCentre(ctx context.Context, sessionID int64) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, `SELECT centre FROM duty_sessions WHERE session_id = ?`, sessionID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

func (s *SQLite) SetHost(ctx context.Context, sessionID int64, username string, on bool) error {
	q := `INSERT OR IGNORE INTO session_hosts (session_id, username) VALUES (?, ?)`
	if !on {
		q = `DELETE FROM session_hosts WHERE session_id = ? AND username = ?`
	}
	_, err := s.db.ExecContext(ctx, q, sessionID, username)
	return constraint(err, "set host")
}

const slotCols = `id, centre, leader, starts_at, ends_at, capacity, session_id, created_by, (SELECT COUNT(*) FROM bookings b WHERE b.slot_id = slots.id)`

func scanSlot(sc interface{ Scan(...any) error }) (Slot, error) {
	var sl Slot
	var st, en int64
	err := sc.Scan(&sl.ID, &sl.Centre, &sl.Leader, &st, &en, &sl.Capacity, &sl.SessionID, &sl.CreatedBy, &sl.Booked)
	sl.StartsAt, sl.EndsAt = fromMS(st), fromMS(en)
	return sl, err
}

func (s *SQLite) AddSlot(ctx context.Context, sl Slot, caseTitle, sessionTitle, room string) (Slot, error) {
	if sl.Capacity <= 0 || !sl.EndsAt.After(sl.StartsAt) || sl.Leader == "" {
		return sl, fmt.Errorf("a slot needs a leader, a start before its end and a capacity: %w", ErrInvalid)
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sessID, err := holderTx(ctx, tx, sl.Centre, caseTitle, Session{Title: sessionTitle, Room: room, ScheduledAt: sl.StartsAt, Hosts: []string{sl.Leader}, CreatedBy: sl.CreatedBy})
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO slots (centre, leader, starts_at, ends_at, capacity, session_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sl.Centre, sl.Leader, ms(sl.StartsAt), ms(sl.EndsAt), sl.Capacity, sessID, sl.CreatedBy, ms(time.Now()))
		if err != nil {
			return constraint(err, "add slot")
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return Slot{}, err
	}
	return s.Slot(ctx, id)
}

func (s *SQLite) Slot(ctx context.Context, id int64) (Slot, error) {
	sl, err := scanSlot(s.db.QueryRowContext(ctx, `SELECT `+slotCols+` FROM slots WHERE id = ?`, id))
	return sl, notFound(err, fmt.Sprintf("slot %d", id))
}

func (s *SQLite) Slots(ctx context.Context, centre string, endsAfter time.Time) ([]Slot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+slotCols+` FROM slots WHERE centre = ? AND ends_at > ? ORDER BY starts_at LIMIT 200`, centre, ms(endsAfter))
	return scanAll(rows, err, scanSlot)
}

func (s *SQLite) Book(ctx context.Context, b Booking) (Case, Invitation, error) {
	if err := validCase(b.Case); err != nil {
		return Case{}, Invitation{}, err
	}
	var caseID, invID int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sl, err := scanSlot(tx.QueryRowContext(ctx, `SELECT `+slotCols+` FROM slots WHERE id = ?`, b.SlotID))
		if err != nil {
			return notFound(err, fmt.Sprintf("slot %d", b.SlotID))
		}
		if sl.Centre != b.Case.Centre {
			return fmt.Errorf("slot %d is not this centre's: %w", b.SlotID, ErrNotFound)
		}
		if !time.Now().Before(sl.EndsAt) {
			return fmt.Errorf("the slot is over: %w", ErrIllegalTransition)
		}
		if sl.Booked >= sl.Capacity {
			return fmt.Errorf("the slot is fully booked: %w", ErrIllegalTransition)
		}
		if caseID, err = createCaseTx(ctx, tx, b.Case); err != nil {
			return err
		}
		var party int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM parties WHERE case_id = ? ORDER BY id LIMIT 1`, caseID).Scan(&party); err != nil {
			return fmt.Errorf("booking needs the booker as a party: %w", ErrInvalid)
		}
		inv := b.Invitation
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO invitations (code, session_id, role, side, name, party_id, expires_at, created_by, created_at)
			VALUES (?, ?, 'party', 'applicant', ?, ?, ?, ?, ?)`, inv.Code, sl.SessionID, inv.Name, party, ms(inv.ExpiresAt), inv.CreatedBy, ms(now))
		if err != nil {
			return constraint(err, "booking invitation")
		}
		invID, _ = res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `INSERT INTO bookings (slot_id, case_id, invitation_id, created_at) VALUES (?, ?, ?, ?)`, sl.ID, caseID, invID, ms(now)); err != nil {
			return constraint(err, "booking")
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "booked", Actor: "citizen", SessionID: sl.SessionID,
			Detail: fmt.Sprintf("booked the reception of %s at %s", sl.Leader, sl.StartsAt.Format(time.RFC3339))})
		return err
	})
	if err != nil {
		return Case{}, Invitation{}, err
	}
	c, err := s.Case(ctx, caseID)
	if err != nil {
		return c, Invitation{}, err
	}
	inv, err := s.InvitationByID(ctx, invID)
	return c, inv, err
}

func (s *SQLite) BookingOf(ctx context.Context, caseID int64) (Slot, Invitation, error) {
	var slotID, invID int64
	err := s.db.QueryRowContext(ctx, `SELECT slot_id, invitation_id FROM bookings WHERE case_id = ?`, caseID).Scan(&slotID, &invID)
	if err != nil {
		return Slot{}, Invitation{}, notFound(err, "booking")
	}
	sl, err := s.Slot(ctx, slotID)
	if err != nil {
		return sl, Invitation{}, err
	}
	inv, err := s.InvitationByID(ctx, invID)
	return sl, inv, err
}

func (s *SQLite) BookedCase(ctx context.Context, invitationID int64) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT case_id FROM bookings WHERE invitation_id = ?`, invitationID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
