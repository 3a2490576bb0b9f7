package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// One screen for the whole city (issue 11): statistics by period and key, and the case
// list paged and filtered in SQL.

// StatsFilter selects the requests counted: cases (not reception holders) of centre Under
// and below, accepted in [From, To) (zero = open).
type StatsFilter struct {
	Under    string
	From, To time.Time
	Now      time.Time // for overdue
}

// StatLine is one group of a statistics query, per centre: Key is the grouping value.
type StatLine struct {
	Key, Centre      string
	Accepted, Closed int
	Overdue          int // open past their due date, or with an overdue supervision item
	OnTime           int // closed by their due date
	Rated, SatSum    int // rated by the citizen, and the sum of ratings
	RedOpen          int // red alerts not yet acknowledged
}

var statKeys = map[string]string{
	"centre": "ca.centre", "tier": "ca.centre", "board": "ca.board", "category": "ca.category",
	"risk": "ca.risk", "status": "ca.status", "channel": "ca.channel",
}

// StatKeys are the groupings StatLines knows.
var StatKeys = []string{"centre", "tier", "board", "category", "risk", "status", "channel"}

// Statistics is the store side of the city screen; embedded in Store.
type Statistics interface {
	// StatLines counts requests grouped by (key, centre); mediation rolls centres up the tree.
	StatLines(ctx context.Context, by string, f StatsFilter) ([]StatLine, error)
	// FindCases is one page of the cases q selects, newest first, and how many it selects.
	FindCases(ctx context.Context, q CaseQuery) ([]Case, int, error)
}

func (s *SQLite) StatLines(ctx context.Context, by string, f StatsFilter) ([]StatLine, error) {
	key, ok := statKeys[by]
	if !ok {
		return nil, fmt.Errorf("stats by %q: %w", by, ErrInvalid)
	}
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	// tier is the centre's: grouped by centre here and named below, so no join per case;
	// the few overdue supervision items are one IN list
	q := `SELECT ` + key + `, ca.centre, COUNT(*),
		COALESCE(SUM(ca.status = 'closed'), 0),
		COALESCE(SUM(ca.status <> 'closed' AND (ca.due_at < ?1 OR ca.id IN (SELECT case_id FROM supervision WHERE done = 0 AND deadline < ?1))), 0),
		COALESCE(SUM(ca.status = 'closed' AND ca.closed_at <= ca.due_at), 0),
		COALESCE(SUM(ca.satisfaction IS NOT NULL), 0), COALESCE(SUM(ca.satisfaction), 0),
		COALESCE(SUM((SELECT COUNT(*) FROM alerts al WHERE al.case_id = ca.id AND al.kind = 'red' AND al.acked_at IS NULL)), 0)
		FROM cases ca
		WHERE ca.kind = 'case' AND +ca.created_at >= ?2 AND +ca.created_at < ?3` // +: a range over most rows reads faster in table order than through the index
	to := int64(math.MaxInt64)
	if !f.To.IsZero() {
		to = ms(f.To)
	}
	args := []any{ms(f.Now), ms(f.From), to}
	in, inArgs, err := s.centresUnder(ctx, f.Under)
	if err != nil {
		return nil, err
	}
	q += strings.ReplaceAll(in, " centre IN", " ca.centre IN")
	args = append(args, inArgs...)
	rows, err := s.db.QueryContext(ctx, q+` GROUP BY 1, 2 ORDER BY 1, 2`, args...)
	lines, err := scanAll(rows, err, func(sc interface{ Scan(...any) error }) (StatLine, error) {
		var l StatLine
		err := sc.Scan(&l.Key, &l.Centre, &l.Accepted, &l.Closed, &l.Overdue, &l.OnTime, &l.Rated, &l.SatSum, &l.RedOpen)
		return l, err
	})
	if err != nil || by != "tier" {
		return lines, err
	}
	cs, err := s.Centres(ctx)
	tier := map[string]string{}
	for _, c := range cs {
		tier[c.Code] = c.Tier
	}
	for i := range lines {
		lines[i].Key = tier[lines[i].Centre]
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Key < lines[j].Key })
	return lines, err
}

// CaseQuery selects cases for the paged list. Under limits to a centre and every centre
// below it; Query matches number, title, description, address and parties' names and
// phones; Kind "" lists every kind.
type CaseQuery struct {
	Under, Centre, Status, Risk, Board, Category, Channel, Kind, Query string
	From, To                                                           time.Time // accepted in [From, To)
	Overdue                                                            bool      // open and past due
	Now                                                                time.Time
	Offset, Limit                                                      int // Limit 0 = 50
}

func (s *SQLite) FindCases(ctx context.Context, cq CaseQuery) ([]Case, int, error) {
	where, args := ` WHERE 1=1`, []any{}
	if cq.Under != "" {
		in, inArgs, err := s.centresUnder(ctx, cq.Under)
		if err != nil {
			return nil, 0, err
		}
		where += in
		args = append(args, inArgs...)
	}
	for _, kv := range [][2]string{{"centre", cq.Centre}, {"status", cq.Status}, {"risk", cq.Risk}, {"board", cq.Board},
		{"category", cq.Category}, {"channel", cq.Channel}, {"kind", cq.Kind}} {
		if kv[1] != "" {
			where += ` AND ` + kv[0] + ` = ?`
			args = append(args, kv[1])
		}
	}
	if !cq.From.IsZero() {
		where += ` AND +created_at >= ?` // +: not through the index; most pages span most rows
		args = append(args, ms(cq.From))
	}
	if !cq.To.IsZero() {
		where += ` AND +created_at < ?`
		args = append(args, ms(cq.To))
	}
	if cq.Overdue {
		if cq.Now.IsZero() {
			cq.Now = time.Now()
		}
		where += ` AND status <> 'closed' AND due_at < ?`
		args = append(args, ms(cq.Now))
	}
	if q := strings.TrimSpace(cq.Query); q != "" {
		// instr, not LIKE: a plain substring search, several times faster per row and
		// nothing to escape
		where += ` AND (instr(number, ?1q) OR instr(title, ?1q) OR instr(description, ?1q) OR instr(address, ?1q)
			OR id IN (SELECT case_id FROM parties WHERE instr(name, ?1q) OR instr(phone, ?1q)))`
		where = strings.ReplaceAll(where, "?1q", "?")
		for i := 0; i < 6; i++ {
			args = append(args, q)
		}
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count cases: %w", err)
	}
	if cq.Limit <= 0 {
		cq.Limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseCols+` FROM cases`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, cq.Limit, max(cq.Offset, 0))...)
	out, err := scanAll(rows, err, scanCase)
	if err != nil {
		return nil, 0, err
	}
	return out, total, s.loadParties(ctx, out)
}

// centresUnder is a filter on column centre for root and every centre below it: nothing
// when that is every centre (the city's view), else an IN list, which SQLite checks with
// one lookup per row (the recursive CTE inside the query was re-read row by row).
func (s *SQLite) centresUnder(ctx context.Context, root string) (string, []any, error) {
	rows, err := s.db.QueryContext(ctx, underCTE+` SELECT code, (SELECT COUNT(*) FROM centres) FROM sub`, root)
	var all int
	codes, err := scanAll(rows, err, func(sc interface{ Scan(...any) error }) (any, error) {
		var c string
		return c, sc.Scan(&c, &all)
	})
	if err != nil {
		return "", nil, fmt.Errorf("centres under %s: %w", root, err)
	}
	if len(codes) == all && all > 0 {
		return "", nil, nil
	}
	if len(codes) == 0 {
		return ` AND 0`, nil, nil
	}
	return ` AND centre IN (?` + strings.Repeat(",?", len(codes)-1) + `)`, codes, nil
}
