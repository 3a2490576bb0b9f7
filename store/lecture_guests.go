package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LectureGuests persists the guest speakers of lectures (issue 15): people without an
// account invited by name, who join from a link and may publish. Only a hash of the
// link's code is stored.
type LectureGuests interface {
	AddLectureGuest(ctx context.Context, g LectureGuest) (LectureGuest, error)
	LectureGuests(ctx context.Context, lectureID int64) ([]LectureGuest, error)
	// LectureGuestByCode finds a guest of lectureID by its code's hash (ErrNotFound if
	// none, or if revoked).
	LectureGuestByCode(ctx context.Context, lectureID int64, codeHash string) (LectureGuest, error)
	// GuestJoined records the first join of a guest (later ones keep the first time).
	GuestJoined(ctx context.Context, lectureID, id int64, at time.Time) error
	RevokeLectureGuest(ctx context.Context, lectureID, id int64, at time.Time) error
}

type LectureGuest struct {
	ID        int64
	LectureID int64
	Name      string
	CodeHash  string
	CreatedBy string
	CreatedAt time.Time
	JoinedAt  time.Time
	RevokedAt time.Time
}

const guestCols = `id, lecture_id, name, code_hash, created_by, created_at, joined_at, revoked_at`

func scanGuest(sc interface{ Scan(...any) error }) (LectureGuest, error) {
	var g LectureGuest
	var created int64
	var joined, revoked sql.NullInt64
	err := sc.Scan(&g.ID, &g.LectureID, &g.Name, &g.CodeHash, &g.CreatedBy, &created, &joined, &revoked)
	g.CreatedAt, g.JoinedAt, g.RevokedAt = fromMS(created), fromNull(joined), fromNull(revoked)
	return g, err
}

func (s *SQLite) AddLectureGuest(ctx context.Context, g LectureGuest) (LectureGuest, error) {
	if strings.TrimSpace(g.Name) == "" || g.CodeHash == "" || g.LectureID == 0 {
		return g, fmt.Errorf("a guest speaker needs a lecture, a name and a code: %w", ErrInvalid)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO lecture_guests (lecture_id, name, code_hash, created_by, created_at)
		VALUES (?, ?, ?, ?, ?)`, g.LectureID, g.Name, g.CodeHash, g.CreatedBy, ms(g.CreatedAt))
	if err != nil {
		return g, constraint(err, "lecture guest")
	}
	g.ID, _ = res.LastInsertId()
	return g, nil
}

func (s *SQLite) LectureGuests(ctx context.Context, lectureID int64) ([]LectureGuest, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+guestCols+` FROM lecture_guests WHERE lecture_id = ? ORDER BY id`, lectureID)
	if err != nil {
		return nil, fmt.Errorf("lecture guests: %w", err)
	}
	defer rows.Close()
	out := []LectureGuest{}
	for rows.Next() {
		g, err := scanGuest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *SQLite) LectureGuestByCode(ctx context.Context, lectureID int64, codeHash string) (LectureGuest, error) {
	g, err := scanGuest(s.db.QueryRowContext(ctx, `SELECT `+guestCols+` FROM lecture_guests
		WHERE lecture_id = ? AND code_hash = ? AND revoked_at IS NULL`, lectureID, codeHash))
	return g, notFound(err, "lecture guest")
}

func (s *SQLite) GuestJoined(ctx context.Context, lectureID, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE lecture_guests SET joined_at = COALESCE(joined_at, ?) WHERE lecture_id = ? AND id = ?`,
		ms(at), lectureID, id)
	return err
}

func (s *SQLite) RevokeLectureGuest(ctx context.Context, lectureID, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE lecture_guests SET revoked_at = COALESCE(revoked_at, ?) WHERE lecture_id = ? AND id = ?`,
		ms(at), lectureID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("lecture guest %d: %w", id, ErrNotFound)
	}
	return nil
}
