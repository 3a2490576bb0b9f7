package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Supervision items, closing, reopening, follow-ups and the overdue timer's pass.

const supCols = `id, case_id, unit, deadline, done, created_by, created_at, owner, note, done_note, done_by, done_at, overdue`

func scanSup(sc interface{ Scan(...any) error }) (SupervisionItem, error) {
	var sp SupervisionItem
	var dl, created int64
	var doneAt sql.NullInt64
	err := sc.Scan(&sp.ID, &sp.CaseID, &sp.Unit, &dl, &sp.Done, &sp.CreatedBy, &created, &sp.Owner, &sp.Note, &sp.DoneNote, &sp.DoneBy, &doneAt, &sp.Overdue)
	sp.Deadline, sp.CreatedAt, sp.DoneAt = fromMS(dl), fromMS(created), fromNull(doneAt)
	return sp, err
}

func (s *SQLite) AddSupervision(ctx context.Context, sp SupervisionItem) (SupervisionItem, error) {
	if strings.TrimSpace(sp.Unit) == "" || sp.Deadline.IsZero() {
		return sp, fmt.Errorf("supervision needs a unit and a deadline: %w", ErrInvalid)
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := openCaseTx(ctx, tx, sp.CaseID); err != nil {
			return err
		}
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO supervision (case_id, unit, deadline, done, created_by, created_at, owner, note) VALUES (?, ?, ?, 0, ?, ?, ?, ?)`,
			sp.CaseID, sp.Unit, ms(sp.Deadline), sp.CreatedBy, ms(now), sp.Owner, sp.Note)
		if err != nil {
			return constraint(err, "add supervision")
		}
		id, _ = res.LastInsertId()
		_, err = addEventTx(ctx, tx, Event{CaseID: sp.CaseID, Time: now, Kind: "supervise", Actor: sp.CreatedBy, Subject: sp.Owner,
			Detail: fmt.Sprintf("supervised by %s until %s: %s", sp.Unit, sp.Deadline.UTC().Format("2006-01-02"), sp.Note)})
		return err
	})
	if err != nil {
		return SupervisionItem{}, err
	}
	return s.SupervisionItem(ctx, id)
}

func (s *SQLite) SupervisionItem(ctx context.Context, id int64) (SupervisionItem, error) {
	sp, err := scanSup(s.db.QueryRowContext(ctx, `SELECT `+supCols+` FROM supervision WHERE id = ?`, id))
	return sp, notFound(err, fmt.Sprintf("supervision %d", id))
}

func (s *SQLite) SupervisionItems(ctx context.Context, caseID int64) ([]SupervisionItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+supCols+` FROM supervision WHERE case_id = ? ORDER BY id`, caseID)
	return scanAll(rows, err, scanSup)
}

func (s *SQLite) SetSupervisionDone(ctx context.Context, id int64, done bool, note, by string) (SupervisionItem, error) {
	if done && strings.TrimSpace(note) == "" {
		return SupervisionItem{}, fmt.Errorf("marking a supervision item done needs a note: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sp, err := scanSup(tx.QueryRowContext(ctx, `SELECT `+supCols+` FROM supervision WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("supervision %d", id))
		}
		if _, err := openCaseTx(ctx, tx, sp.CaseID); err != nil {
			return err
		}
		if sp.Done == done {
			return fmt.Errorf("supervision %d is already %s: %w", id, map[bool]string{true: "done", false: "open"}[done], ErrIllegalTransition)
		}
		now := time.Now().UTC()
		doneAt, kind := nullMS(now), "supervision_done"
		if !done {
			doneAt, kind = sql.NullInt64{}, "supervision_reopened"
		}
		// overdue is recomputed from the deadline: an item reopened after its deadline is overdue again
		if _, err := tx.ExecContext(ctx, `UPDATE supervision SET done = ?, done_note = ?, done_by = ?, done_at = ?, overdue = (? = 0 AND deadline < ?) WHERE id = ?`,
			b2i(done), note, by, doneAt, b2i(done), ms(now), id); err != nil {
			return fmt.Errorf("supervision done: %w", err)
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: sp.CaseID, Time: now, Kind: kind, Actor: by, Subject: sp.Unit, Detail: note})
		return err
	})
	if err != nil {
		return SupervisionItem{}, err
	}
	return s.SupervisionItem(ctx, id)
}

func (s *SQLite) CloseCase(ctx context.Context, id int64, outcome, informedBy, actor string) (Case, error) {
	if strings.TrimSpace(outcome) == "" {
		return Case{}, fmt.Errorf("closing a case needs an outcome: %w", ErrInvalid)
	}
	if !OneOf(informedBy, InformedBy) {
		return Case{}, fmt.Errorf("informed_by must be one of %s: %w", strings.Join(InformedBy, ", "), ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := openCaseTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM supervision WHERE case_id = ? AND done = 0`, id).Scan(&open); err != nil {
			return fmt.Errorf("close: %w", err)
		}
		if open > 0 {
			return fmt.Errorf("case %s has %d open supervision item(s): finish them first: %w", c.Number, open, ErrIllegalTransition)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = 'closed', outcome = ?, informed_by = ?, closed_at = ?, updated_at = ? WHERE id = ?`,
			outcome, informedBy, ms(now), ms(now), id); err != nil {
			return constraint(err, "close case")
		}
		for _, e := range []Event{
			{Kind: "status", Detail: c.Status + " -> closed"},
			{Kind: "closed", Subject: informedBy, Detail: outcome},
		} {
			e.CaseID, e.Time, e.Actor = id, now, actor
			if _, err := addEventTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	return s.Case(ctx, id)
}

func (s *SQLite) ReopenCase(ctx context.Context, id int64, reason, actor string) (Case, error) {
	if strings.TrimSpace(reason) == "" {
		return Case{}, fmt.Errorf("reopening a case needs a reason: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("case %d", id))
		}
		if c.Status != "closed" {
			return fmt.Errorf("case %s is %s, not closed: %w", c.Number, c.Status, ErrIllegalTransition)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = 'assessed', closed_at = NULL, updated_at = ? WHERE id = ?`, ms(now), id); err != nil {
			return constraint(err, "reopen case")
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: id, Time: now, Kind: "reopened", Actor: actor, Detail: reason})
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return s.Case(ctx, id)
}

func (s *SQLite) AddFollowUp(ctx context.Context, f FollowUp) (FollowUp, error) {
	if strings.TrimSpace(f.Note) == "" || !OneOf(f.Method, InformedBy) {
		return f, fmt.Errorf("a follow-up needs a note and a method (%s): %w", strings.Join(InformedBy, ", "), ErrInvalid)
	}
	if f.Satisfaction < 0 || f.Satisfaction > 5 {
		return f, fmt.Errorf("satisfaction is 1 to 5: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE id = ?`, f.CaseID).Scan(&n); err != nil || n == 0 {
			return fmt.Errorf("case %d: %w", f.CaseID, ErrNotFound)
		}
		f.CreatedAt = time.Now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO followups (case_id, method, note, satisfaction, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			f.CaseID, f.Method, f.Note, nullID(int64(f.Satisfaction)), f.CreatedBy, ms(f.CreatedAt))
		if err != nil {
			return constraint(err, "add follow-up")
		}
		f.ID, _ = res.LastInsertId()
		_, err = addEventTx(ctx, tx, Event{CaseID: f.CaseID, Time: f.CreatedAt, Kind: "followup", Actor: f.CreatedBy, Subject: f.Method, Detail: f.Note})
		return err
	})
	return f, err
}

func (s *SQLite) FollowUps(ctx context.Context, caseID int64) ([]FollowUp, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, case_id, method, note, COALESCE(satisfaction, 0), created_by, created_at FROM followups WHERE case_id = ? ORDER BY id`, caseID)
	return scanAll(rows, err, func(sc interface{ Scan(...any) error }) (FollowUp, error) {
		var f FollowUp
		var created int64
		err := sc.Scan(&f.ID, &f.CaseID, &f.Method, &f.Note, &f.Satisfaction, &f.CreatedBy, &created)
		f.CreatedAt = fromMS(created)
		return f, err
	})
}

func (s *SQLite) MarkOverdue(ctx context.Context, now time.Time) (Overdue, error) {
	var o Overdue
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE supervision SET overdue = 1 WHERE done = 0 AND overdue = 0 AND deadline < ? RETURNING `+supCols, ms(now))
		if o.Supervisions, err = scanAll(rows, err, scanSup); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `UPDATE alerts SET overdue = 1 WHERE acked_at IS NULL AND overdue = 0 AND ack_by < ? RETURNING `+alertCols, ms(now))
		if o.Alerts, err = scanAll(rows, err, scanAlert); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `UPDATE transfers SET overdue = 1 WHERE state = 'pending' AND overdue = 0 AND deadline < ? RETURNING `+transferCols, ms(now))
		if o.Transfers, err = scanAll(rows, err, scanTransfer); err != nil {
			return err
		}
		for _, sp := range o.Supervisions {
			if _, err := addEventTx(ctx, tx, Event{CaseID: sp.CaseID, Time: now, Kind: "supervision_overdue", Subject: sp.Unit,
				Detail: fmt.Sprintf("supervision by %s passed its deadline %s", sp.Unit, sp.Deadline.Format("2006-01-02"))}); err != nil {
				return err
			}
		}
		return nil
	})
	return o, err
}
