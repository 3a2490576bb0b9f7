package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

func (s *SQLite) CreateSession(ctx context.Context, se Session) (Session, error) {
	switch {
	case !OneOf(se.Kind, SessionKinds):
		return Session{}, fmt.Errorf("unknown session kind %q: %w", se.Kind, ErrInvalid)
	case strings.TrimSpace(se.Title) == "":
		return Session{}, fmt.Errorf("session title is required: %w", ErrInvalid)
	case se.Room == "":
		return Session{}, fmt.Errorf("session room is required: %w", ErrInvalid)
	}
	if se.CaucusPolicy == "" {
		se.CaucusPolicy = "off"
	}
	if !OneOf(se.CaucusPolicy, CaucusPolicy) {
		return Session{}, fmt.Errorf("unknown caucus policy %q: %w", se.CaucusPolicy, ErrInvalid)
	}
	se.State = "scheduled"
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (case_id, kind, title, scheduled_at, room, state, caucus_policy, record_on_open, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			se.CaseID, se.Kind, se.Title, nullMS(se.ScheduledAt), se.Room, se.State, se.CaucusPolicy, b2i(se.RecordOnOpen), se.CreatedBy, ms(now))
		if err != nil {
			return constraint(err, "create session")
		}
		id, _ = res.LastInsertId()
		if se.Kind == "reception" { // a reception day's case (no parties) holds petitioners, it is not a request
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET kind = 'reception' WHERE id = ? AND NOT EXISTS (SELECT 1 FROM parties WHERE case_id = ?)`, se.CaseID, se.CaseID); err != nil {
				return fmt.Errorf("mark reception case: %w", err)
			}
		}
		for _, h := range se.Hosts {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO session_hosts (session_id, username) VALUES (?, ?)`, id, h); err != nil {
				return constraint(err, "add host "+h)
			}
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: se.CaseID, Time: now, Kind: "session_created", Actor: se.CreatedBy, SessionID: id,
			Detail: fmt.Sprintf("%s session %q, hosts %s", se.Kind, se.Title, strings.Join(se.Hosts, ","))})
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return s.Session(ctx, id)
}

const sessionCols = `id, case_id, kind, title, scheduled_at, room, state, caucus_policy, record_on_open, created_by, created_at, started_at, ended_at,
	COALESCE((SELECT group_concat(username, ',') FROM (SELECT username FROM session_hosts h WHERE h.session_id = sessions.id ORDER BY username)), '')`

func scanSession(sc interface{ Scan(...any) error }) (Session, error) {
	var se Session
	var sched, started, ended sql.NullInt64
	var created int64
	var rec int
	var hosts string
	err := sc.Scan(&se.ID, &se.CaseID, &se.Kind, &se.Title, &sched, &se.Room, &se.State, &se.CaucusPolicy, &rec, &se.CreatedBy, &created, &started, &ended, &hosts)
	se.ScheduledAt, se.StartedAt, se.EndedAt, se.CreatedAt = fromNull(sched), fromNull(started), fromNull(ended), fromMS(created)
	se.RecordOnOpen = rec != 0
	if hosts != "" {
		se.Hosts = strings.Split(hosts, ",")
	}
	return se, err
}

func (s *SQLite) Session(ctx context.Context, id int64) (Session, error) {
	se, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	return se, notFound(err, fmt.Sprintf("session %d", id))
}

func (s *SQLite) SessionByRoom(ctx context.Context, room string) (Session, error) {
	se, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE room = ?`, room))
	return se, notFound(err, "session in room "+room)
}

func (s *SQLite) ListSessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	q := `SELECT ` + sessionCols + ` FROM sessions WHERE 1=1`
	var args []any
	if f.Under != "" || f.OrUser != "" {
		var or []string
		if f.Under != "" {
			q = underCTE + " " + q
			args = append(args, f.Under)
			or = append(or, `case_id IN (SELECT id FROM cases WHERE centre IN (SELECT code FROM sub))`)
		}
		if f.OrUser != "" {
			or = append(or, `id IN (SELECT session_id FROM session_hosts WHERE username = ?)`,
				`id IN (SELECT session_id FROM session_staff WHERE username = ?)`)
			args = append(args, f.OrUser, f.OrUser)
		}
		q += ` AND (` + strings.Join(or, " OR ") + `)`
	}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.CaseID != 0 {
		q += ` AND case_id = ?`
		args = append(args, f.CaseID)
	}
	q += newestFirst(f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// SetSessionState moves a session to live or ended. Ended is final; live records started_at once.
func (s *SQLite) SetSessionState(ctx context.Context, id int64, state string) error {
	if !OneOf(state, SessionStates) {
		return fmt.Errorf("unknown session state %q: %w", state, ErrInvalid)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM sessions WHERE id = ?`, id).Scan(&cur); err != nil {
			return notFound(err, fmt.Sprintf("session %d", id))
		}
		if cur == state {
			return nil
		}
		if cur == "ended" {
			return fmt.Errorf("session %d has ended: %w", id, ErrIllegalTransition)
		}
		now := ms(time.Now())
		var err error
		switch state {
		case "live":
			_, err = tx.ExecContext(ctx, `UPDATE sessions SET state = 'live', started_at = COALESCE(started_at, ?) WHERE id = ?`, now, id)
		case "ended":
			_, err = tx.ExecContext(ctx, `UPDATE sessions SET state = 'ended', ended_at = ? WHERE id = ?`, now, id)
		default:
			return fmt.Errorf("session %d is %s, cannot go back to %s: %w", id, cur, state, ErrIllegalTransition)
		}
		return err
	})
}

func (s *SQLite) AddSessionStaff(ctx context.Context, ss SessionStaff) error {
	if ss.InvitedAt.IsZero() {
		ss.InvitedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO session_staff (session_id, username, role, invited_by, invited_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session_id, username) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by, invited_at = excluded.invited_at`,
		ss.SessionID, ss.Username, ss.Role, ss.InvitedBy, ms(ss.InvitedAt))
	return constraint(err, "add session staff")
}

func (s *SQLite) SessionStaff(ctx context.Context, sessionID int64) ([]SessionStaff, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id, username, role, invited_by, invited_at FROM session_staff WHERE session_id = ? ORDER BY invited_at`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("session staff: %w", err)
	}
	defer rows.Close()
	var out []SessionStaff
	for rows.Next() {
		var ss SessionStaff
		var at int64
		if err := rows.Scan(&ss.SessionID, &ss.Username, &ss.Role, &ss.InvitedBy, &at); err != nil {
			return nil, err
		}
		ss.InvitedAt = fromMS(at)
		out = append(out, ss)
	}
	return out, rows.Err()
}

func (s *SQLite) CreateInvitation(ctx context.Context, inv Invitation) (Invitation, error) {
	switch {
	case len(inv.Code) < 22:
		return Invitation{}, fmt.Errorf("invitation code too short: %w", ErrInvalid)
	case !OneOf(inv.Role, InviteRoles):
		return Invitation{}, fmt.Errorf("unknown invitation role %q: %w", inv.Role, ErrInvalid)
	case inv.Side != "" && !OneOf(inv.Side, Sides):
		return Invitation{}, fmt.Errorf("unknown side %q: %w", inv.Side, ErrInvalid)
	case strings.TrimSpace(inv.Name) == "":
		return Invitation{}, fmt.Errorf("invitation name is required: %w", ErrInvalid)
	case inv.ExpiresAt.IsZero():
		return Invitation{}, fmt.Errorf("invitation expiry is required: %w", ErrInvalid)
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = time.Now().UTC()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if inv.PartyID != 0 {
			// the linked party must belong to the session's case
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM parties p JOIN sessions s ON s.case_id = p.case_id WHERE p.id = ? AND s.id = ?`,
				inv.PartyID, inv.SessionID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("party %d is not a party of this session's case: %w", inv.PartyID, ErrInvalid)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO invitations (code, session_id, role, side, name, party_id, expires_at, revoked, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			inv.Code, inv.SessionID, inv.Role, inv.Side, inv.Name, nullID(inv.PartyID), ms(inv.ExpiresAt), inv.CreatedBy, ms(inv.CreatedAt))
		if err != nil {
			return constraint(err, "create invitation")
		}
		inv.ID, _ = res.LastInsertId()
		return nil
	})
	return inv, err
}

const invCols = `id, code, session_id, role, side, name, COALESCE(party_id, 0), expires_at, revoked, created_by, created_at`

func scanInv(sc interface{ Scan(...any) error }) (Invitation, error) {
	var inv Invitation
	var exp, created int64
	var rev int
	err := sc.Scan(&inv.ID, &inv.Code, &inv.SessionID, &inv.Role, &inv.Side, &inv.Name, &inv.PartyID, &exp, &rev, &inv.CreatedBy, &created)
	inv.ExpiresAt, inv.CreatedAt, inv.Revoked = fromMS(exp), fromMS(created), rev != 0
	return inv, err
}

func (s *SQLite) Invitation(ctx context.Context, code string) (Invitation, error) {
	inv, err := scanInv(s.db.QueryRowContext(ctx, `SELECT `+invCols+` FROM invitations WHERE code = ?`, code))
	return inv, notFound(err, "invitation")
}

func (s *SQLite) InvitationByID(ctx context.Context, id int64) (Invitation, error) {
	inv, err := scanInv(s.db.QueryRowContext(ctx, `SELECT `+invCols+` FROM invitations WHERE id = ?`, id))
	return inv, notFound(err, "invitation")
}

func (s *SQLite) ListInvitations(ctx context.Context, sessionID int64) ([]Invitation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+invCols+` FROM invitations WHERE session_id = ? ORDER BY id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := scanInv(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

func (s *SQLite) RevokeInvitation(ctx context.Context, code string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE invitations SET revoked = 1, revoked_at = COALESCE(revoked_at, ?) WHERE code = ?`, ms(time.Now()), code)
	if err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("invitation: %w", ErrNotFound)
	}
	return nil
}
