package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Lectures persists rule-of-law lectures (issue 15): a session kind of its own that
// belongs to a centre, not a case, with its viewers, questions and attendance.
type Lectures interface {
	// CreateLecture stores l with its speakers; l.Room must be unique.
	CreateLecture(ctx context.Context, l Lecture) (Lecture, error)
	Lecture(ctx context.Context, id int64) (Lecture, error)
	LectureByRoom(ctx context.Context, room string) (Lecture, error)
	// ListLectures lists the lectures of centre under and every centre below it, newest
	// scheduled first.
	ListLectures(ctx context.Context, under string, limit int) ([]Lecture, error)
	// SetLectureState moves scheduled -> live -> ended (ErrIllegalTransition otherwise).
	SetLectureState(ctx context.Context, id int64, state string, at time.Time) error
	SetLectureArchive(ctx context.Context, id int64, archive string) error

	// AddViewer records a viewer token handed out; Viewer finds it again.
	AddViewer(ctx context.Context, v Viewer) error
	Viewer(ctx context.Context, lectureID int64, identity string) (Viewer, error)
	// ViewerJoined and ViewerLeft record a viewer's connection (the first join counts).
	ViewerJoined(ctx context.Context, lectureID int64, identity string, at time.Time) error
	ViewerLeft(ctx context.Context, lectureID int64, identity string, at time.Time) error
	// RaisePeak keeps the most viewers seen at once, for the lecture ("" centre) or a centre.
	RaisePeak(ctx context.Context, lectureID int64, centre string, n int) error

	AddQuestion(ctx context.Context, q Question) (Question, error)
	Questions(ctx context.Context, lectureID int64) ([]Question, error)
	AnswerQuestion(ctx context.Context, lectureID, id int64, at time.Time) (Question, error)

	// Attendance is per centre: viewers who connected, people reached (a centre's screen
	// counts the people in its room), and the peak at once. lectureID != 0: that lecture;
	// 0: the lectures of centres under under, and the viewers from centres under under
	// of any lecture.
	Attendance(ctx context.Context, under string, lectureID int64) ([]AttendanceRow, error)
}

// LectureStates are the states a lecture goes through, in order.
var LectureStates = []string{"scheduled", "live", "ended"}

type Lecture struct {
	ID          int64
	Centre      string
	Title       string
	Room        string
	State       string
	ScheduledAt time.Time
	Speakers    []string // usernames, sorted
	CreatedBy   string
	CreatedAt   time.Time
	StartedAt   time.Time
	EndedAt     time.Time
	Peak        int
	Archive     string
}

// Viewer is one viewer token handed out: a phone, or a centre's screen (Kind "screen")
// watched by People.
type Viewer struct {
	LectureID int64
	Identity  string
	Name      string
	Centre    string
	Kind      string // viewer, screen
	People    int
	TokenHash string
	IssuedAt  time.Time
	JoinedAt  time.Time
	LeftAt    time.Time
}

type Question struct {
	ID         int64
	LectureID  int64
	Identity   string
	Name       string
	Centre     string
	Text       string
	Hand       bool // a raised hand
	AskedAt    time.Time
	AnsweredAt time.Time
}

type AttendanceRow struct {
	Centre  string
	Viewers int // connections that joined
	People  int // people reached
	Peak    int // most at once (per lecture, summed over lectures)
}

const lectureCols = `id, centre, title, room, state, scheduled_at, created_by, created_at, started_at, ended_at, peak, archive`

func scanLecture(sc interface{ Scan(...any) error }) (Lecture, error) {
	var l Lecture
	var sched, created int64
	var started, ended sql.NullInt64
	err := sc.Scan(&l.ID, &l.Centre, &l.Title, &l.Room, &l.State, &sched, &l.CreatedBy, &created, &started, &ended, &l.Peak, &l.Archive)
	l.ScheduledAt, l.CreatedAt, l.StartedAt, l.EndedAt = fromMS(sched), fromMS(created), fromNull(started), fromNull(ended)
	return l, err
}

func (s *SQLite) CreateLecture(ctx context.Context, l Lecture) (Lecture, error) {
	if strings.TrimSpace(l.Title) == "" || l.Centre == "" || l.Room == "" || l.ScheduledAt.IsZero() {
		return l, fmt.Errorf("a lecture needs a title, a centre, a room and a scheduled time: %w", ErrInvalid)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = time.Now().UTC()
	}
	l.State = "scheduled"
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO lectures (centre, title, room, state, scheduled_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, l.Centre, l.Title, l.Room, l.State, ms(l.ScheduledAt), l.CreatedBy, ms(l.CreatedAt))
		if err != nil {
			return constraint(err, "create lecture")
		}
		l.ID, _ = res.LastInsertId()
		for _, u := range l.Speakers {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO lecture_speakers (lecture_id, username) VALUES (?, ?)`, l.ID, u); err != nil {
				return constraint(err, "lecture speaker "+u)
			}
		}
		return nil
	})
	if err != nil {
		return Lecture{}, err
	}
	return s.Lecture(ctx, l.ID)
}

func (s *SQLite) Lecture(ctx context.Context, id int64) (Lecture, error) {
	return s.lectureWhere(ctx, `id = ?`, id)
}

func (s *SQLite) LectureByRoom(ctx context.Context, room string) (Lecture, error) {
	return s.lectureWhere(ctx, `room = ?`, room)
}

func (s *SQLite) lectureWhere(ctx context.Context, where string, arg any) (Lecture, error) {
	l, err := scanLecture(s.db.QueryRowContext(ctx, `SELECT `+lectureCols+` FROM lectures WHERE `+where, arg))
	if err != nil {
		return l, notFound(err, "lecture")
	}
	l.Speakers, err = s.lectureSpeakers(ctx, l.ID)
	return l, err
}

func (s *SQLite) lectureSpeakers(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username FROM lecture_speakers WHERE lecture_id = ? ORDER BY username`, id)
	if err != nil {
		return nil, fmt.Errorf("lecture speakers: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *SQLite) ListLectures(ctx context.Context, under string, limit int) ([]Lecture, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := s.db.QueryContext(ctx, underCTE+` SELECT `+lectureCols+` FROM lectures WHERE centre IN (SELECT code FROM sub)
		ORDER BY scheduled_at DESC, id DESC LIMIT ?`, under, limit)
	if err != nil {
		return nil, fmt.Errorf("list lectures: %w", err)
	}
	var out []Lecture
	for rows.Next() {
		l, err := scanLecture(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Speakers, err = s.lectureSpeakers(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *SQLite) SetLectureState(ctx context.Context, id int64, state string, at time.Time) error {
	var from, col string
	switch state {
	case "live":
		from, col = "scheduled", "started_at"
	case "ended":
		from, col = "live", "ended_at"
	default:
		return fmt.Errorf("lecture state %q: %w", state, ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE lectures SET state = ?, `+col+` = ? WHERE id = ? AND state = ?`, state, ms(at), id, from)
	if err != nil {
		return fmt.Errorf("set lecture state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		l, err := s.Lecture(ctx, id)
		if err != nil {
			return err
		}
		return fmt.Errorf("lecture is %s, cannot become %s: %w", l.State, state, ErrIllegalTransition)
	}
	return nil
}

func (s *SQLite) SetLectureArchive(ctx context.Context, id int64, archive string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE lectures SET archive = ? WHERE id = ?`, archive, id)
	return err
}

func (s *SQLite) AddViewer(ctx context.Context, v Viewer) error {
	if v.Kind == "" {
		v.Kind = "viewer"
	}
	if v.People < 1 {
		v.People = 1
	}
	if v.IssuedAt.IsZero() {
		v.IssuedAt = time.Now().UTC()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lecture_viewers (lecture_id, identity, name, centre, kind, people, token_hash, issued_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (lecture_id, identity) DO UPDATE SET name = excluded.name, centre = excluded.centre, kind = excluded.kind,
			people = excluded.people, token_hash = excluded.token_hash, issued_at = excluded.issued_at`,
		v.LectureID, v.Identity, v.Name, v.Centre, v.Kind, v.People, v.TokenHash, ms(v.IssuedAt))
	return constraint(err, "lecture viewer")
}

func (s *SQLite) Viewer(ctx context.Context, lectureID int64, identity string) (Viewer, error) {
	v := Viewer{LectureID: lectureID, Identity: identity}
	var issued int64
	var joined, left sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT name, centre, kind, people, token_hash, issued_at, joined_at, left_at
		FROM lecture_viewers WHERE lecture_id = ? AND identity = ?`, lectureID, identity).
		Scan(&v.Name, &v.Centre, &v.Kind, &v.People, &v.TokenHash, &issued, &joined, &left)
	if err != nil {
		return v, notFound(err, "lecture viewer")
	}
	v.IssuedAt, v.JoinedAt, v.LeftAt = fromMS(issued), fromNull(joined), fromNull(left)
	return v, nil
}

func (s *SQLite) ViewerJoined(ctx context.Context, lectureID int64, identity string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE lecture_viewers SET joined_at = COALESCE(joined_at, ?), left_at = NULL
		WHERE lecture_id = ? AND identity = ?`, ms(at), lectureID, identity)
	return err
}

func (s *SQLite) ViewerLeft(ctx context.Context, lectureID int64, identity string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE lecture_viewers SET left_at = ? WHERE lecture_id = ? AND identity = ?`, ms(at), lectureID, identity)
	return err
}

func (s *SQLite) RaisePeak(ctx context.Context, lectureID int64, centre string, n int) error {
	if centre == "" {
		_, err := s.db.ExecContext(ctx, `UPDATE lectures SET peak = MAX(peak, ?) WHERE id = ?`, n, lectureID)
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lecture_centre_peaks (lecture_id, centre, peak) VALUES (?, ?, ?)
		ON CONFLICT (lecture_id, centre) DO UPDATE SET peak = MAX(peak, excluded.peak)`, lectureID, centre, n)
	return err
}

const questionCols = `id, lecture_id, identity, name, centre, text, hand, asked_at, answered_at`

func scanQuestion(sc interface{ Scan(...any) error }) (Question, error) {
	var q Question
	var asked int64
	var answered sql.NullInt64
	err := sc.Scan(&q.ID, &q.LectureID, &q.Identity, &q.Name, &q.Centre, &q.Text, &q.Hand, &asked, &answered)
	q.AskedAt, q.AnsweredAt = fromMS(asked), fromNull(answered)
	return q, err
}

func (s *SQLite) AddQuestion(ctx context.Context, q Question) (Question, error) {
	if strings.TrimSpace(q.Text) == "" && !q.Hand {
		return q, fmt.Errorf("a question needs a text: %w", ErrInvalid)
	}
	if q.AskedAt.IsZero() {
		q.AskedAt = time.Now().UTC()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO lecture_questions (lecture_id, identity, name, centre, text, hand, asked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, q.LectureID, q.Identity, q.Name, q.Centre, q.Text, b2i(q.Hand), ms(q.AskedAt))
	if err != nil {
		return q, constraint(err, "lecture question")
	}
	q.ID, _ = res.LastInsertId()
	return q, nil
}

func (s *SQLite) Questions(ctx context.Context, lectureID int64) ([]Question, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+questionCols+` FROM lecture_questions WHERE lecture_id = ? ORDER BY id`, lectureID)
	if err != nil {
		return nil, fmt.Errorf("lecture questions: %w", err)
	}
	defer rows.Close()
	out := []Question{}
	for rows.Next() {
		q, err := scanQuestion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

func (s *SQLite) AnswerQuestion(ctx context.Context, lectureID, id int64, at time.Time) (Question, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE lecture_questions SET answered_at = COALESCE(answered_at, ?) WHERE id = ? AND lecture_id = ?`,
		ms(at), id, lectureID); err != nil {
		return Question{}, fmt.Errorf("answer question: %w", err)
	}
	q, err := scanQuestion(s.db.QueryRowContext(ctx, `SELECT `+questionCols+` FROM lecture_questions WHERE id = ? AND lecture_id = ?`, id, lectureID))
	return q, notFound(err, "question")
}

func (s *SQLite) Attendance(ctx context.Context, under string, lectureID int64) ([]AttendanceRow, error) {
	// One lecture: every centre that watched it. All lectures: the viewers of the
	// lectures of centres under under (whoever they are), and the viewers from centres
	// under under of any lecture (a village watching the city's lecture).
	rows, err := s.db.QueryContext(ctx, underCTE+`,
		keep(lecture_id, centre) AS (SELECT lecture_id, centre FROM lecture_viewers
			WHERE (? != 0 AND lecture_id = ?) OR (? = 0 AND (centre IN (SELECT code FROM sub)
				OR lecture_id IN (SELECT id FROM lectures WHERE centre IN (SELECT code FROM sub))))
			GROUP BY lecture_id, centre),
		v AS (SELECT centre, COUNT(*) AS viewers, SUM(people) AS people FROM lecture_viewers
			WHERE (lecture_id, centre) IN (SELECT lecture_id, centre FROM keep) AND joined_at IS NOT NULL GROUP BY centre),
		p AS (SELECT centre, SUM(peak) AS peak FROM lecture_centre_peaks
			WHERE (lecture_id, centre) IN (SELECT lecture_id, centre FROM keep) GROUP BY centre)
		SELECT v.centre, v.viewers, v.people, COALESCE(p.peak, 0) FROM v LEFT JOIN p ON p.centre = v.centre ORDER BY v.people DESC, v.centre`,
		under, lectureID, lectureID, lectureID)
	if err != nil {
		return nil, fmt.Errorf("lecture attendance: %w", err)
	}
	defer rows.Close()
	out := []AttendanceRow{}
	for rows.Next() {
		var a AttendanceRow
		if err := rows.Scan(&a.Centre, &a.Viewers, &a.People, &a.Peak); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
