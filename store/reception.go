package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

func (s *SQLite) Arrive(ctx context.Context, e ReceptionEntry) (ReceptionEntry, error) {
	if e.ArrivedAt.IsZero() {
		e.ArrivedAt = time.Now().UTC()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryCols+` FROM reception_entries
			WHERE session_id = ? AND identity = ? AND done_at IS NULL ORDER BY id LIMIT 1`, e.SessionID, e.Identity))
		if err == nil {
			e = cur
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO reception_entries (session_id, identity, name, arrived_at) VALUES (?, ?, ?, ?)`,
			e.SessionID, e.Identity, e.Name, ms(e.ArrivedAt))
		if err != nil {
			return constraint(err, "reception arrival")
		}
		e.ID, _ = res.LastInsertId()
		return nil
	})
	return e, err
}

const entryCols = `id, session_id, identity, name, arrived_at, admitted_at, done_at, COALESCE(case_id, 0), note`

func scanEntry(sc interface{ Scan(...any) error }) (ReceptionEntry, error) {
	var e ReceptionEntry
	var arrived int64
	var admitted, done sql.NullInt64
	err := sc.Scan(&e.ID, &e.SessionID, &e.Identity, &e.Name, &arrived, &admitted, &done, &e.CaseID, &e.Note)
	e.ArrivedAt, e.AdmittedAt, e.DoneAt = fromMS(arrived), fromNull(admitted), fromNull(done)
	return e, err
}

func (s *SQLite) Queue(ctx context.Context, sessionID int64) ([]ReceptionEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM reception_entries WHERE session_id = ? AND done_at IS NULL ORDER BY arrived_at, id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("reception queue: %w", err)
	}
	defer rows.Close()
	var out []ReceptionEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *SQLite) MarkAdmitted(ctx context.Context, sessionID int64, identity string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE reception_entries SET admitted_at = COALESCE(admitted_at, ?) WHERE session_id = ? AND identity = ? AND done_at IS NULL`,
		ms(at), sessionID, identity)
	return err
}

func (s *SQLite) FileOutcome(ctx context.Context, o Outcome) (Case, *Supervision, error) {
	if strings.TrimSpace(o.Note) == "" {
		return Case{}, nil, fmt.Errorf("an outcome needs a note: %w", ErrInvalid)
	}
	if o.Supervise != nil && (strings.TrimSpace(o.Supervise.Unit) == "" || o.Supervise.Deadline.IsZero()) {
		return Case{}, nil, fmt.Errorf("supervision needs a unit and a deadline: %w", ErrInvalid)
	}
	if o.CaseID == 0 {
		if err := validCase(o.NewCase); err != nil {
			return Case{}, nil, err
		}
	}
	var caseID int64
	var sup *Supervision
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC()
		caseID = o.CaseID
		if caseID == 0 && o.Identity != "" {
			// one petitioner, one case: a second outcome for them goes into the case the
			// first one opened (issue 12 row 6)
			err := tx.QueryRowContext(ctx, `SELECT case_id FROM reception_entries WHERE session_id = ? AND identity = ? AND case_id IS NOT NULL
				ORDER BY id DESC LIMIT 1`, o.SessionID, o.Identity).Scan(&caseID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("earlier outcome: %w", err)
			}
		}
		if caseID == 0 {
			var err error
			if caseID, err = createCaseTx(ctx, tx, o.NewCase); err != nil {
				return err
			}
			if err := ownWordsTx(ctx, tx, o.SessionID, o.Identity, caseID, now); err != nil {
				return err
			}
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE id = ?`, caseID).Scan(&n); err != nil || n == 0 {
				return fmt.Errorf("case %d: %w", caseID, ErrNotFound)
			}
		}
		if _, err := addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "outcome", Actor: o.Actor, SessionID: o.SessionID,
			Subject: o.Identity, Detail: o.Note}); err != nil {
			return err
		}
		if o.Supervise != nil {
			res, err := tx.ExecContext(ctx, `INSERT INTO supervision (case_id, unit, deadline, done, created_by, created_at) VALUES (?, ?, ?, 0, ?, ?)`,
				caseID, o.Supervise.Unit, ms(o.Supervise.Deadline), o.Actor, ms(now))
			if err != nil {
				return constraint(err, "add supervision")
			}
			id, _ := res.LastInsertId()
			sup = &Supervision{ID: id, CaseID: caseID, Unit: o.Supervise.Unit, Deadline: o.Supervise.Deadline.UTC(), CreatedBy: o.Actor, CreatedAt: now}
			if _, err := addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "supervise", Actor: o.Actor, SessionID: o.SessionID,
				Detail: fmt.Sprintf("supervised by %s until %s", o.Supervise.Unit, o.Supervise.Deadline.UTC().Format("2006-01-02"))}); err != nil {
				return err
			}
		}
		if o.Identity != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE reception_entries SET done_at = ?, case_id = ?, note = ? WHERE session_id = ? AND identity = ? AND done_at IS NULL`,
				ms(now), caseID, o.Note, o.SessionID, o.Identity); err != nil {
				return fmt.Errorf("close reception entry: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Case{}, nil, err
	}
	c, err := s.Case(ctx, caseID)
	return c, sup, err
}

func (s *SQLite) Supervisions(ctx context.Context, caseID int64) ([]Supervision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, case_id, unit, deadline, done, created_by, created_at FROM supervision WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("supervisions: %w", err)
	}
	defer rows.Close()
	var out []Supervision
	for rows.Next() {
		var sp Supervision
		var dl, created int64
		var done int
		if err := rows.Scan(&sp.ID, &sp.CaseID, &sp.Unit, &dl, &done, &sp.CreatedBy, &created); err != nil {
			return nil, err
		}
		sp.Deadline, sp.CreatedAt, sp.Done = fromMS(dl), fromMS(created), done != 0
		out = append(out, sp)
	}
	return out, rows.Err()
}

// ownWordsTx copies what a petitioner wrote on arrival from the reception's case into the
// case opened for them, points that case at the session's recording, and marks the
// reception's case as a holder (not a request: statistics leave it out).
func ownWordsTx(ctx context.Context, tx *sql.Tx, sessionID int64, identity string, caseID int64, now time.Time) error {
	if sessionID == 0 || identity == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_events (case_id, time, kind, actor, session_id, subject, detail, fields)
		SELECT ?, time, kind, actor, session_id, subject, detail, fields FROM case_events
		WHERE case_id = (SELECT case_id FROM sessions WHERE id = ?) AND session_id = ? AND subject = ? AND kind IN ('note', 'consent') ORDER BY id`,
		caseID, sessionID, sessionID, identity); err != nil {
		return fmt.Errorf("copy the petitioner's words: %w", err)
	}
	if _, err := addEventTx(ctx, tx, Event{CaseID: caseID, Time: now, Kind: "recording", SessionID: sessionID, Subject: identity,
		Detail: fmt.Sprintf("the conversation is in the case file of session %d", sessionID)}); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE cases SET kind = 'reception' WHERE id = (SELECT case_id FROM sessions WHERE id = ?) AND id <> ?
		AND NOT EXISTS (SELECT 1 FROM parties WHERE parties.case_id = cases.id)`, sessionID, caseID)
	return err
}
