package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The centre's loop (issue 11): accept -> assess -> dispatch -> resolve -> supervise -> feed
// back. Policy (who may, which centres an alert goes to) is mediation's; the store keeps
// what must hold in one transaction: a closed case changes only by a reopen, one transfer
// pending per case, an assessment and its alerts together.

// Vocabulary of the loop.
var (
	Boards          = []string{"dispute", "petition", "livelihood", "security", "litigation_source", "business"}
	Channels        = []string{"qr", "video", "booking", "walk_in", "phone"}
	InformedBy      = []string{"phone", "sms", "in_person", "visit", "letter", "video", "tracking_page"}
	DepartmentKinds = []string{"court", "police", "petitions", "justice", "labour", "women", "procuratorate", "civil_affairs", "other"}
	AlertKinds      = []string{"red", "yellow", "major"}
)

// DefaultResolveWithin is a case's due date after acceptance when none is given (the
// People's Mediation Law's customary 30 days).
const DefaultResolveWithin = 30 * 24 * time.Hour

// CaseNumber is the readable network-wide number: (2026)东城调字第0001号.
func CaseNumber(year int, abbr string, seq int) string {
	return fmt.Sprintf("(%d)%s调字第%04d号", year, abbr, seq)
}

// CentreAbbr derives a centre's short name: 东城镇综治中心 -> 东城; the code when nothing is left.
func CentreAbbr(name, code string) string {
	a := strings.ReplaceAll(strings.ReplaceAll(name, "综治中心", ""), "中心", "")
	a = strings.TrimRight(a, "镇村乡 ")
	if a == "" {
		return code
	}
	return a
}

func caseDefaults(c Case) Case {
	if c.Board == "" {
		c.Board = "dispute"
	}
	if c.Channel == "" {
		c.Channel = "walk_in"
	}
	if c.Kind == "" {
		c.Kind = "case"
	}
	return c
}

type Alert struct {
	ID        int64
	CaseID    int64
	Centre    string // whose screen shows it
	Kind      string // red, yellow, major
	CreatedAt time.Time
	AckBy     time.Time
	AckedBy   string
	AckedAt   time.Time
	Overdue   bool // the timer found it unacknowledged past AckBy
}

// Assessment is one 研判 of a case, filed with the alerts it raises.
type Assessment struct {
	CaseID          int64
	Notes           string
	Board, Category string
	Risk            string
	Major           bool
	Actor           string
	Alerts          []Alert // Centre, Kind, AckBy; an open alert of the same case, centre and kind is not repeated
}

type Department struct {
	ID     int64
	Centre string
	Kind   string
	Name   string
}

type Transfer struct {
	ID           int64
	CaseID       int64
	FromCentre   string
	ToCentre     string
	Department   int64 // 0 = to the centre itself
	Reason       string
	Deadline     time.Time
	State        string // pending, accepted, returned
	CreatedBy    string
	CreatedAt    time.Time
	DecidedBy    string
	DecidedAt    time.Time
	ReturnReason string
	Overdue      bool
}

// SupervisionItem is a supervision row with everything the loop keeps on it.
type SupervisionItem struct {
	Supervision
	Owner    string
	Note     string
	DoneNote string
	DoneBy   string
	DoneAt   time.Time
	Overdue  bool
}

type FollowUp struct {
	ID           int64
	CaseID       int64
	Method       string
	Note         string
	Satisfaction int
	CreatedBy    string
	CreatedAt    time.Time
}

// Overdue is what one pass of the timer newly found overdue.
type Overdue struct {
	Supervisions []SupervisionItem
	Alerts       []Alert
	Transfers    []Transfer
}

// Loop is the store side of the case loop; embedded in Store.
type Loop interface {
	Assess(ctx context.Context, a Assessment) (Case, []Alert, error)
	Alert(ctx context.Context, id int64) (Alert, error)
	// Alerts lists the alerts of centre under and below (open only when open), newest first.
	Alerts(ctx context.Context, under string, open bool) ([]Alert, error)
	AckAlert(ctx context.Context, id int64, by string) (Alert, error)

	AddDepartment(ctx context.Context, d Department) (Department, error)
	Department(ctx context.Context, id int64) (Department, error)
	Departments(ctx context.Context, centre string) ([]Department, error)

	CreateTransfer(ctx context.Context, t Transfer) (Transfer, error)
	Transfer(ctx context.Context, id int64) (Transfer, error)
	// Transfers lists the transfers of a case (caseID != 0) or those addressed to centre
	// under and below (pending only when pending).
	Transfers(ctx context.Context, caseID int64, under string, pending bool) ([]Transfer, error)
	// DecideTransfer accepts (the case moves to the receiver) or returns a pending transfer.
	DecideTransfer(ctx context.Context, id int64, accept bool, by, reason string) (Transfer, error)

	AddSupervision(ctx context.Context, s SupervisionItem) (SupervisionItem, error)
	SupervisionItem(ctx context.Context, id int64) (SupervisionItem, error)
	SupervisionItems(ctx context.Context, caseID int64) ([]SupervisionItem, error)
	SetSupervisionDone(ctx context.Context, id int64, done bool, note, by string) (SupervisionItem, error)

	// CloseCase closes a case from any open status; open supervision items refuse it.
	CloseCase(ctx context.Context, id int64, outcome, informedBy, actor string) (Case, error)
	// ReopenCase brings a closed case back to assessed, with the reason on its timeline.
	ReopenCase(ctx context.Context, id int64, reason, actor string) (Case, error)
	AddFollowUp(ctx context.Context, f FollowUp) (FollowUp, error)
	FollowUps(ctx context.Context, caseID int64) ([]FollowUp, error)

	// MarkOverdue flags what passed its deadline by now and returns what it newly flagged.
	MarkOverdue(ctx context.Context, now time.Time) (Overdue, error)
}

// openCaseTx loads a case in tx and answers ErrIllegalTransition for a closed case: read-only until reopened.
func openCaseTx(ctx context.Context, tx *sql.Tx, id int64) (Case, error) {
	c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
	if err != nil {
		return c, notFound(err, fmt.Sprintf("case %d", id))
	}
	if c.Status == "closed" {
		return c, fmt.Errorf("case %s is closed and read-only; reopen it first: %w", c.Number, ErrIllegalTransition)
	}
	return c, nil
}

func (s *SQLite) Assess(ctx context.Context, a Assessment) (Case, []Alert, error) {
	switch {
	case !OneOf(a.Board, Boards):
		return Case{}, nil, fmt.Errorf("unknown board %q: %w", a.Board, ErrInvalid)
	case !OneOf(a.Category, Categories):
		return Case{}, nil, fmt.Errorf("unknown category %q: %w", a.Category, ErrInvalid)
	case !OneOf(a.Risk, Risks):
		return Case{}, nil, fmt.Errorf("unknown risk %q: %w", a.Risk, ErrInvalid)
	}
	var made []Alert
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := openCaseTx(ctx, tx, a.CaseID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		status := c.Status
		if status == "accepted" {
			status = "assessed"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET notes = ?, board = ?, category = ?, risk = ?, major = ?, status = ?, assessed_at = ?, updated_at = ? WHERE id = ?`,
			a.Notes, a.Board, a.Category, a.Risk, b2i(a.Major), status, ms(now), ms(now), a.CaseID); err != nil {
			return constraint(err, "assess")
		}
		detail := fmt.Sprintf("board %s, category %s, risk %s -> %s", a.Board, a.Category, c.Risk, a.Risk)
		if a.Major {
			detail += ", major"
		}
		if _, err := addEventTx(ctx, tx, Event{CaseID: a.CaseID, Time: now, Kind: "assessed", Actor: a.Actor, Detail: detail}); err != nil {
			return err
		}
		if status != c.Status {
			if _, err := addEventTx(ctx, tx, Event{CaseID: a.CaseID, Time: now, Kind: "status", Actor: a.Actor, Detail: c.Status + " -> " + status}); err != nil {
				return err
			}
		}
		for _, al := range a.Alerts {
			var open int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE case_id = ? AND centre = ? AND kind = ? AND acked_at IS NULL`,
				a.CaseID, al.Centre, al.Kind).Scan(&open); err != nil {
				return fmt.Errorf("alerts: %w", err)
			}
			if open > 0 {
				continue
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO alerts (case_id, centre, kind, created_at, ack_by) VALUES (?, ?, ?, ?, ?)`,
				a.CaseID, al.Centre, al.Kind, ms(now), ms(al.AckBy))
			if err != nil {
				return constraint(err, "add alert")
			}
			al.ID, _ = res.LastInsertId()
			al.CaseID, al.CreatedAt = a.CaseID, now
			made = append(made, al)
			if _, err := addEventTx(ctx, tx, Event{CaseID: a.CaseID, Time: now, Kind: "alert", Actor: a.Actor, Subject: al.Centre,
				Detail: fmt.Sprintf("%s alert to %s, acknowledge by %s", al.Kind, al.Centre, al.AckBy.UTC().Format(time.RFC3339))}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Case{}, nil, err
	}
	c, err := s.Case(ctx, a.CaseID)
	return c, made, err
}

const alertCols = `id, case_id, centre, kind, created_at, ack_by, acked_by, acked_at, overdue`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var created, ackBy int64
	var acked sql.NullInt64
	err := sc.Scan(&a.ID, &a.CaseID, &a.Centre, &a.Kind, &created, &ackBy, &a.AckedBy, &acked, &a.Overdue)
	a.CreatedAt, a.AckBy, a.AckedAt = fromMS(created), fromMS(ackBy), fromNull(acked)
	return a, err
}

func (s *SQLite) Alert(ctx context.Context, id int64) (Alert, error) {
	a, err := scanAlert(s.db.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, id))
	return a, notFound(err, fmt.Sprintf("alert %d", id))
}

func (s *SQLite) Alerts(ctx context.Context, under string, open bool) ([]Alert, error) {
	q := underCTE + ` SELECT ` + alertCols + ` FROM alerts WHERE centre IN (SELECT code FROM sub)`
	if open {
		q += ` AND acked_at IS NULL`
	}
	rows, err := s.db.QueryContext(ctx, q+newestFirst(500), under)
	return scanAll(rows, err, scanAlert)
}

func (s *SQLite) AckAlert(ctx context.Context, id int64, by string) (Alert, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("alert %d", id))
		}
		if !a.AckedAt.IsZero() {
			return nil // acknowledging twice changes nothing
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ?`, by, ms(now), id); err != nil {
			return fmt.Errorf("ack alert: %w", err)
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: a.CaseID, Time: now, Kind: "alert_acked", Actor: by, Subject: a.Centre,
			Detail: fmt.Sprintf("%s alert at %s acknowledged", a.Kind, a.Centre)})
		return err
	})
	if err != nil {
		return Alert{}, err
	}
	return s.Alert(ctx, id)
}

// scanAll scans every row of a query with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *SQLite) AddDepartment(ctx context.Context, d Department) (Department, error) {
	if !OneOf(d.Kind, DepartmentKinds) || strings.TrimSpace(d.Name) == "" {
		return d, fmt.Errorf("a department needs a kind (%s) and a name: %w", strings.Join(DepartmentKinds, ", "), ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO departments (centre, kind, name) VALUES (?, ?, ?)`, d.Centre, d.Kind, strings.TrimSpace(d.Name))
	if err != nil {
		return d, constraint(err, "add department")
	}
	d.ID, _ = res.LastInsertId()
	return d, nil
}

func scanDept(sc interface{ Scan(...any) error }) (Department, error) {
	var d Department
	err := sc.Scan(&d.ID, &d.Centre, &d.Kind, &d.Name)
	return d, err
}

func (s *SQLite) Department(ctx context.Context, id int64) (Department, error) {
	d, err := scanDept(s.db.QueryRowContext(ctx, `SELECT id, centre, kind, name FROM departments WHERE id = ?`, id))
	return d, notFound(err, fmt.Sprintf("department %d", id))
}

func (s *SQLite) Departments(ctx context.Context, centre string) ([]Department, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, centre, kind, name FROM departments WHERE centre = ? ORDER BY id`, centre)
	return scanAll(rows, err, scanDept)
}

const transferCols = `id, case_id, from_centre, to_centre, COALESCE(department, 0), reason, deadline, state, created_by, created_at, decided_by, decided_at, return_reason, overdue`

func scanTransfer(sc interface{ Scan(...any) error }) (Transfer, error) {
	var t Transfer
	var dl, created int64
	var decided sql.NullInt64
	err := sc.Scan(&t.ID, &t.CaseID, &t.FromCentre, &t.ToCentre, &t.Department, &t.Reason, &dl, &t.State, &t.CreatedBy, &created, &t.DecidedBy, &decided, &t.ReturnReason, &t.Overdue)
	t.Deadline, t.CreatedAt, t.DecidedAt = fromMS(dl), fromMS(created), fromNull(decided)
	return t, err
}

func (s *SQLite) CreateTransfer(ctx context.Context, t Transfer) (Transfer, error) {
	if strings.TrimSpace(t.Reason) == "" || t.ToCentre == "" || t.Deadline.IsZero() {
		return t, fmt.Errorf("a transfer needs a receiver, a reason and a deadline: %w", ErrInvalid)
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := openCaseTx(ctx, tx, t.CaseID)
		if err != nil {
			return err
		}
		if t.ToCentre == c.Centre && t.Department == 0 {
			return fmt.Errorf("the case is already at %s: %w", c.Centre, ErrInvalid)
		}
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO transfers (case_id, from_centre, to_centre, department, reason, deadline, state, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`, t.CaseID, c.Centre, t.ToCentre, nullID(t.Department), t.Reason, ms(t.Deadline), t.CreatedBy, ms(now))
		if err != nil {
			if errors.Is(constraint(err, ""), ErrExists) {
				return fmt.Errorf("case %s already has a transfer waiting for an answer: %w", c.Number, ErrIllegalTransition)
			}
			return constraint(err, "create transfer")
		}
		id, _ = res.LastInsertId()
		to := t.ToCentre
		if t.Department != 0 {
			to = fmt.Sprintf("%s department %d", t.ToCentre, t.Department)
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: t.CaseID, Time: now, Kind: "transfer", Actor: t.CreatedBy, Subject: t.ToCentre,
			Detail: fmt.Sprintf("handed to %s: %s (answer by %s)", to, t.Reason, t.Deadline.UTC().Format(time.RFC3339))})
		return err
	})
	if err != nil {
		return Transfer{}, err
	}
	return s.Transfer(ctx, id)
}

func (s *SQLite) Transfer(ctx context.Context, id int64) (Transfer, error) {
	t, err := scanTransfer(s.db.QueryRowContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ?`, id))
	return t, notFound(err, fmt.Sprintf("transfer %d", id))
}

func (s *SQLite) Transfers(ctx context.Context, caseID int64, under string, pending bool) ([]Transfer, error) {
	q, args := `SELECT `+transferCols+` FROM transfers WHERE case_id = ?`, []any{caseID}
	if caseID == 0 {
		q, args = underCTE+` SELECT `+transferCols+` FROM transfers WHERE to_centre IN (SELECT code FROM sub)`, []any{under}
	}
	if pending {
		q += ` AND state = 'pending'`
	}
	rows, err := s.db.QueryContext(ctx, q+newestFirst(500), args...)
	return scanAll(rows, err, scanTransfer)
}

func (s *SQLite) DecideTransfer(ctx context.Context, id int64, accept bool, by, reason string) (Transfer, error) {
	if !accept && strings.TrimSpace(reason) == "" {
		return Transfer{}, fmt.Errorf("returning a case needs a reason: %w", ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ?`, id))
		if err != nil {
			return notFound(err, fmt.Sprintf("transfer %d", id))
		}
		if t.State != "pending" {
			return fmt.Errorf("transfer %d was already %s: %w", id, t.State, ErrIllegalTransition)
		}
		c, err := openCaseTx(ctx, tx, t.CaseID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		state, kind, detail := "returned", "transfer_returned", fmt.Sprintf("%s returned the case: %s", t.ToCentre, reason)
		if accept {
			state, kind, detail = "accepted", "transfer_accepted", fmt.Sprintf("%s accepted the case (from %s)", t.ToCentre, c.Centre)
			// the receiver assigns its own mediator: an assigned case goes back to assessed
			status := c.Status
			if status == "assigned" || status == "mediating" {
				status = "assessed"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET centre = ?, department = ?, mediator = NULL, status = ?, updated_at = ? WHERE id = ?`,
				t.ToCentre, nullID(t.Department), status, ms(now), t.CaseID); err != nil {
				return constraint(err, "move case")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transfers SET state = ?, decided_by = ?, decided_at = ?, return_reason = ? WHERE id = ?`,
			state, by, ms(now), reason, id); err != nil {
			return fmt.Errorf("decide transfer: %w", err)
		}
		_, err = addEventTx(ctx, tx, Event{CaseID: t.CaseID, Time: now, Kind: kind, Actor: by, Subject: t.ToCentre, Detail: detail})
		return err
	})
	if err != nil {
		return Transfer{}, err
	}
	return s.Transfer(ctx, id)
}
