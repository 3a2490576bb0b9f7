package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

func (s *SQLite) AddCentre(ctx context.Context, c Centre) error {
	if c.Code == "" || c.Name == "" || !OneOf(c.Tier, Tiers) {
		return fmt.Errorf("add centre %q: code, name and tier (city|township|village) are required: %w", c.Code, ErrInvalid)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		abbr := c.Abbr
		if abbr == "" {
			abbr = CentreAbbr(c.Name, c.Code)
			var taken int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM centres WHERE abbr = ?`, abbr).Scan(&taken); err != nil {
				return fmt.Errorf("add centre: %w", err)
			}
			if taken > 0 { // two 桃园村 in one county: the code tells them apart
				abbr += c.Code
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO centres (code, name, tier, parent, created_at, abbr) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Code, c.Name, c.Tier, nullStr(c.Parent), ms(time.Now()), abbr)
		return constraint(err, "add centre "+c.Code)
	})
}

func (s *SQLite) Centre(ctx context.Context, code string) (Centre, error) {
	var c Centre
	var parent sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT code, name, tier, parent, abbr FROM centres WHERE code = ?`, code).
		Scan(&c.Code, &c.Name, &c.Tier, &parent, &c.Abbr)
	c.Parent = parent.String
	return c, notFound(err, "centre "+code)
}

func (s *SQLite) Centres(ctx context.Context) ([]Centre, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT code, name, tier, COALESCE(parent, ''), abbr FROM centres
		ORDER BY CASE tier WHEN 'city' THEN 0 WHEN 'township' THEN 1 ELSE 2 END, code`)
	if err != nil {
		return nil, fmt.Errorf("list centres: %w", err)
	}
	defer rows.Close()
	var out []Centre
	for rows.Next() {
		var c Centre
		if err := rows.Scan(&c.Code, &c.Name, &c.Tier, &c.Parent, &c.Abbr); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// underCTE is a recursive CTE "sub(code)" of centre ?1 and every centre below it.
const underCTE = `WITH RECURSIVE sub(code) AS (
	SELECT code FROM centres WHERE code = ?
	UNION SELECT c.code FROM centres c JOIN sub ON c.parent = sub.code)`

func (s *SQLite) Under(ctx context.Context, root, code string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, underCTE+` SELECT COUNT(*) FROM sub WHERE code = ?`, root, code).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("centre under: %w", err)
	}
	return n > 0, nil
}

func (s *SQLite) AddStaff(ctx context.Context, st Staff) error {
	if st.Username == "" || st.Name == "" || st.Centre == "" || st.PasswordHash == "" {
		return fmt.Errorf("add staff %q: username, name, centre and password are required: %w", st.Username, ErrInvalid)
	}
	if len(st.Roles) == 0 {
		return fmt.Errorf("add staff %q: at least one role: %w", st.Username, ErrInvalid)
	}
	for _, r := range st.Roles {
		if !OneOf(r, Roles) {
			return fmt.Errorf("add staff %q: unknown role %q: %w", st.Username, r, ErrInvalid)
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff (username, name, centre, gold, password_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, st.Username, st.Name, st.Centre, b2i(st.Gold), st.PasswordHash, b2i(st.Disabled), ms(time.Now()))
		if err != nil {
			return constraint(err, "add staff "+st.Username)
		}
		for _, r := range st.Roles {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO staff_roles (username, role) VALUES (?, ?)`, st.Username, r); err != nil {
				return constraint(err, "add staff role")
			}
		}
		return nil
	})
}

const staffCols = `s.username, s.name, s.centre, s.gold, s.password_hash, s.disabled, s.created_at,
	COALESCE((SELECT group_concat(role, ',') FROM (SELECT role FROM staff_roles r WHERE r.username = s.username ORDER BY role)), '')`

func scanStaff(sc interface{ Scan(...any) error }) (Staff, error) {
	var st Staff
	var gold, disabled int
	var created int64
	var roles string
	if err := sc.Scan(&st.Username, &st.Name, &st.Centre, &gold, &st.PasswordHash, &disabled, &created, &roles); err != nil {
		return st, err
	}
	st.Gold, st.Disabled, st.CreatedAt = gold != 0, disabled != 0, fromMS(created)
	if roles != "" {
		st.Roles = strings.Split(roles, ",")
		sort.Strings(st.Roles)
	}
	return st, nil
}

func (s *SQLite) Staff(ctx context.Context, username string) (Staff, error) {
	st, err := scanStaff(s.db.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff s WHERE s.username = ?`, username))
	return st, notFound(err, "staff "+username)
}

func (s *SQLite) ListStaff(ctx context.Context, f StaffFilter) ([]Staff, error) {
	q := `SELECT ` + staffCols + ` FROM staff s JOIN centres c ON c.code = s.centre WHERE s.disabled = 0`
	var args []any
	if f.Tier != "" {
		q += ` AND c.tier = ?`
		args = append(args, f.Tier)
	}
	if f.Role != "" {
		q += ` AND EXISTS (SELECT 1 FROM staff_roles r WHERE r.username = s.username AND r.role = ?)`
		args = append(args, f.Role)
	}
	if f.Query != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Query) + "%"
		q += ` AND (s.username LIKE ? ESCAPE '\' OR s.name LIKE ? ESCAPE '\' OR c.name LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	q += ` ORDER BY CASE c.tier WHEN 'city' THEN 0 WHEN 'township' THEN 1 ELSE 2 END, s.centre, s.username LIMIT 1000`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *SQLite) SetPassword(ctx context.Context, username, hash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE staff SET password_hash = ? WHERE username = ?`, hash, username)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("staff %s: %w", username, ErrNotFound)
	}
	return nil
}

func (s *SQLite) CreateAuthSession(ctx context.Context, tokenHash, username string, expires time.Time) error {
	now := time.Now()
	// Expired sessions are swept here, on the rare write path, not by a goroutine.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at < ?`, ms(now)); err != nil {
		return fmt.Errorf("sweep auth sessions: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, username, ms(now), ms(expires))
	return constraint(err, "create auth session")
}

func (s *SQLite) AuthSession(ctx context.Context, tokenHash string) (string, time.Time, error) {
	var user string
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT username, expires_at FROM auth_sessions WHERE token_hash = ?`, tokenHash).Scan(&user, &exp)
	return user, fromMS(exp), notFound(err, "auth session")
}

func (s *SQLite) DeleteAuthSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE token_hash = ?`, tokenHash)
	return err
}
