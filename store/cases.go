package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func validCase(c Case) error {
	switch {
	case strings.TrimSpace(c.Title) == "":
		return fmt.Errorf("case title is required: %w", ErrInvalid)
	case !OneOf(c.Category, Categories):
		return fmt.Errorf("unknown category %q: %w", c.Category, ErrInvalid)
	case !OneOf(c.Risk, Risks):
		return fmt.Errorf("unknown risk %q: %w", c.Risk, ErrInvalid)
	case c.Centre == "":
		return fmt.Errorf("case centre is required: %w", ErrInvalid)
	}
	for _, p := range c.Parties {
		if strings.TrimSpace(p.Name) == "" || !OneOf(p.Side, Sides) {
			return fmt.Errorf("party needs a name and side applicant|respondent: %w", ErrInvalid)
		}
	}
	return nil
}

func (s *SQLite) CreateCase(ctx context.Context, c Case) (Case, error) {
	if err := validCase(c); err != nil {
		return Case{}, err
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = createCaseTx(ctx, tx, c)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return s.Case(ctx, id)
}

// createCaseTx inserts c with the next number of its centre and year, its parties and a
// "created" event. The transaction began IMMEDIATE, so no other writer can take the same
// number between the SELECT and the INSERT (and UNIQUE would refuse it anyway).
func createCaseTx(ctx context.Context, tx *sql.Tx, c Case) (int64, error) {
	now := time.Now().UTC()
	if c.Status == "" {
		c.Status = "accepted"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	year := c.CreatedAt.Year()
	var seq int
	var abbr string
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1, (SELECT abbr FROM centres WHERE code = ?1) FROM cases WHERE centre = ?1 AND year = ?2`,
		c.Centre, year).Scan(&seq, &abbr); err != nil {
		return 0, fmt.Errorf("allocate case number: %w", err)
	}
	number := CaseNumber(year, abbr, seq)
	c = caseDefaults(c)
	if c.DueAt.IsZero() {
		c.DueAt = c.CreatedAt.Add(DefaultResolveWithin)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO cases (centre, year, seq, number, title, category, risk, status, mediator, outcome, description, created_by, created_at, updated_at,
			board, channel, kind, address, tracking_code, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Centre, year, seq, number, c.Title, c.Category, c.Risk, c.Status, nullStr(c.Mediator), c.Outcome, c.Description, c.CreatedBy, ms(c.CreatedAt), ms(now),
		c.Board, c.Channel, c.Kind, c.Address, nullStr(c.TrackingCode), ms(c.DueAt))
	if err != nil {
		return 0, constraint(err, "create case")
	}
	id, _ := res.LastInsertId()
	for _, p := range c.Parties {
		if _, err := tx.ExecContext(ctx, `INSERT INTO parties (case_id, name, side, phone) VALUES (?, ?, ?, ?)`, id, p.Name, p.Side, p.Phone); err != nil {
			return 0, constraint(err, "add party")
		}
	}
	if _, err := addEventTx(ctx, tx, Event{CaseID: id, Time: now, Kind: "created", Actor: c.CreatedBy, Detail: "case " + number + " accepted: " + c.Title}); err != nil {
		return 0, err
	}
	return id, nil
}

const caseCols = `id, number, title, category, risk, status, centre, COALESCE(mediator, ''), outcome, description, created_by, created_at, updated_at,
	board, channel, kind, major, notes, address, COALESCE(department, 0), informed_by, COALESCE(tracking_code, ''), due_at, closed_at, COALESCE(satisfaction, 0), feedback`

func scanCase(sc interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var created, updated int64
	var due, closed sql.NullInt64
	err := sc.Scan(&c.ID, &c.Number, &c.Title, &c.Category, &c.Risk, &c.Status, &c.Centre, &c.Mediator, &c.Outcome, &c.Description, &c.CreatedBy, &created, &updated,
		&c.Board, &c.Channel, &c.Kind, &c.Major, &c.Notes, &c.Address, &c.Department, &c.InformedBy, &c.TrackingCode, &due, &closed, &c.Satisfaction, &c.Feedback)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	c.DueAt, c.ClosedAt = fromNull(due), fromNull(closed)
	return c, err
}

func (s *SQLite) Case(ctx context.Context, id int64) (Case, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
	if err != nil {
		return Case{}, notFound(err, fmt.Sprintf("case %d", id))
	}
	cs := []Case{c}
	if err := s.loadParties(ctx, cs); err != nil {
		return Case{}, err
	}
	return cs[0], nil
}

func (s *SQLite) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	q := `SELECT ` + caseCols + ` FROM cases WHERE 1=1`
	var args []any
	if f.Under != "" {
		q = underCTE + " " + q + ` AND centre IN (SELECT code FROM sub)`
		args = append(args, f.Under)
	}
	for _, kv := range [][2]string{{"centre", f.Centre}, {"status", f.Status}, {"risk", f.Risk}} {
		if kv[1] != "" {
			q += ` AND ` + kv[0] + ` = ?`
			args = append(args, kv[1])
		}
	}
	q += newestFirst(f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.loadParties(ctx, out)
}

// loadParties fills Parties of every case in cs with one query.
func (s *SQLite) loadParties(ctx context.Context, cs []Case) error {
	if len(cs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		idx[c.ID] = i
		args[i] = c.ID
	}
	q := `SELECT id, case_id, name, side, phone FROM parties WHERE case_id IN (?` + strings.Repeat(",?", len(cs)-1) + `) ORDER BY id`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("load parties: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Party
		if err := rows.Scan(&p.ID, &p.CaseID, &p.Name, &p.Side, &p.Phone); err != nil {
			return err
		}
		i := idx[p.CaseID]
		cs[i].Parties = append(cs[i].Parties, p)
	}
	return rows.Err()
}

func (s *SQLite) UpdateCase(ctx context.Context, id int64, u CaseUpdate, actor string) (Case, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("case %d", id))
		}
		if c.Status == "closed" && (u.Risk != nil && *u.Risk != c.Risk || u.Mediator != nil && *u.Mediator != c.Mediator) {
			return fmt.Errorf("a closed case is read-only; reopen it first: %w", ErrIllegalTransition)
		}
		now := time.Now().UTC()
		var events []Event
		ev := func(kind, detail string) {
			events = append(events, Event{CaseID: id, Time: now, Kind: kind, Actor: actor, Detail: detail})
		}
		if u.Risk != nil && *u.Risk != c.Risk {
			if !OneOf(*u.Risk, Risks) {
				return fmt.Errorf("unknown risk %q: %w", *u.Risk, ErrInvalid)
			}
			ev("updated", fmt.Sprintf("risk %s -> %s", c.Risk, *u.Risk))
			c.Risk = *u.Risk
		}
		if u.Mediator != nil && *u.Mediator != c.Mediator {
			ev("updated", fmt.Sprintf("mediator %q -> %q", c.Mediator, *u.Mediator))
			c.Mediator = *u.Mediator
		}
		if u.Outcome != nil && *u.Outcome != c.Outcome {
			if c.Status == "closed" {
				return fmt.Errorf("the outcome of a closed case cannot change: %w", ErrIllegalTransition)
			}
			ev("updated", "outcome: "+*u.Outcome)
			c.Outcome = *u.Outcome
		}
		closedAt := sql.NullInt64{}
		if u.Status != nil && *u.Status != c.Status {
			if !OneOf(*u.Status, Statuses) {
				return fmt.Errorf("unknown status %q: %w", *u.Status, ErrInvalid)
			}
			if next := NextStatus(c.Status); *u.Status != next {
				if next == "" {
					return fmt.Errorf("case is %s; its status cannot change: %w", c.Status, ErrIllegalTransition)
				}
				return fmt.Errorf("case is %s; it can only move to %s, not %s: %w", c.Status, next, *u.Status, ErrIllegalTransition)
			}
			if (*u.Status == "assigned" || *u.Status == "mediating") && c.Mediator == "" {
				return fmt.Errorf("a case cannot be %s without an assigned mediator: %w", *u.Status, ErrInvalid)
			}
			if *u.Status == "closed" {
				if strings.TrimSpace(c.Outcome) == "" {
					return fmt.Errorf("closing a case needs an outcome: %w", ErrInvalid)
				}
				closedAt = nullMS(now)
			}
			ev("status", fmt.Sprintf("%s -> %s", c.Status, *u.Status))
			c.Status = *u.Status
		}
		if len(events) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE cases SET status = ?, risk = ?, mediator = ?, outcome = ?, updated_at = ?, closed_at = COALESCE(?, closed_at) WHERE id = ?`,
			c.Status, c.Risk, nullStr(c.Mediator), c.Outcome, ms(now), closedAt, id)
		if err != nil {
			return constraint(err, "update case")
		}
		for _, e := range events {
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

func addEventTx(ctx context.Context, q queryer, ev Event) (Event, error) {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	fields := ""
	if len(ev.Fields) > 0 {
		b, err := json.Marshal(ev.Fields)
		if err != nil {
			return ev, fmt.Errorf("add case event: fields: %w", err)
		}
		fields = string(b)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO case_events (case_id, time, kind, actor, session_id, subject, detail, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.CaseID, ms(ev.Time), ev.Kind, ev.Actor, nullID(ev.SessionID), ev.Subject, ev.Detail, fields)
	if err != nil {
		return ev, constraint(err, "add case event")
	}
	ev.ID, _ = res.LastInsertId()
	return ev, nil
}

func (s *SQLite) AddEvent(ctx context.Context, ev Event) (Event, error) {
	return addEventTx(ctx, s.db, ev)
}

func (s *SQLite) Timeline(ctx context.Context, caseID int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, case_id, time, kind, actor, COALESCE(session_id, 0), subject, detail, fields
		FROM case_events WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t int64
		var fields string
		if err := rows.Scan(&e.ID, &e.CaseID, &t, &e.Kind, &e.Actor, &e.SessionID, &e.Subject, &e.Detail, &fields); err != nil {
			return nil, err
		}
		if fields != "" {
			if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
				return nil, fmt.Errorf("timeline: event %d fields: %w", e.ID, err)
			}
		}
		e.Time = fromMS(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Stats counts cases of centre under and below, grouped by tier, category or risk.
func (s *SQLite) Stats(ctx context.Context, by, under string) ([]StatRow, error) {
	var key string
	switch by {
	case "tier":
		key = "ce.tier"
	case "category":
		key = "ca.category"
	case "risk":
		key = "ca.risk"
	default:
		return nil, fmt.Errorf("stats by %q: %w", by, ErrInvalid)
	}
	rows, err := s.db.QueryContext(ctx, underCTE+` SELECT `+key+`, COUNT(*), SUM(ca.status = 'closed')
		FROM cases ca JOIN centres ce ON ce.code = ca.centre
		WHERE ca.centre IN (SELECT code FROM sub) GROUP BY 1 ORDER BY 1`, under)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	var out []StatRow
	for rows.Next() {
		var r StatRow
		if err := rows.Scan(&r.Key, &r.Accepted, &r.Closed); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
