package store

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"
)

// seedNetwork fills a store with a county: 1 city, 20 townships, 300 villages and n
// requests spread over them and over a year, with parties, in one transaction.
func seedNetwork(b testing.TB, n int) *SQLite {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	centres := []string{"city"}
	if err := s.AddCentre(ctx, Centre{Code: "city", Name: "市综治中心", Tier: "city"}); err != nil {
		b.Fatal(err)
	}
	for t := 0; t < 20; t++ {
		tc := fmt.Sprintf("t%02d", t)
		if err := s.AddCentre(ctx, Centre{Code: tc, Name: fmt.Sprintf("镇%02d综治中心", t), Tier: "township", Parent: "city"}); err != nil {
			b.Fatal(err)
		}
		centres = append(centres, tc)
		for v := 0; v < 15; v++ {
			vc := fmt.Sprintf("%s-v%02d", tc, v)
			if err := s.AddCentre(ctx, Centre{Code: vc, Name: fmt.Sprintf("镇%02d村%02d综治中心", t, v), Tier: "village", Parent: tc}); err != nil {
				b.Fatal(err)
			}
			centres = append(centres, vc)
		}
	}
	rng := rand.New(rand.NewSource(1))
	now := time.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	seq := map[string]int{}
	for i := 0; i < n; i++ {
		c := centres[rng.Intn(len(centres))]
		seq[c]++
		created := now.Add(-time.Duration(rng.Int63n(int64(365 * 24 * time.Hour))))
		status := Statuses[rng.Intn(len(Statuses))]
		outcome, closed := "", any(nil)
		if status == "closed" {
			outcome, closed = "resolved", ms(created.Add(time.Duration(rng.Int63n(int64(40*24*time.Hour)))))
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO cases (centre, year, seq, number, title, category, risk, status, outcome, description, created_at, updated_at,
			board, channel, due_at, closed_at, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c, created.Year(), seq[c], fmt.Sprintf("(%d)%s调字第%04d号", created.Year(), c, seq[c]), fmt.Sprintf("请求 %d", i),
			Categories[rng.Intn(len(Categories))], Risks[rng.Intn(len(Risks))], status, outcome, "描述", ms(created), ms(created),
			Boards[rng.Intn(len(Boards))], Channels[rng.Intn(len(Channels))], ms(created.Add(DefaultResolveWithin)), closed, "村道")
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `INSERT INTO parties (case_id, name, side, phone) VALUES (?, ?, 'applicant', ?)`, id, fmt.Sprintf("村民%d", i), fmt.Sprintf("138%08d", i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCases25k: one filtered page of /api/cases and one statistics query over 25,000
// requests. `go test -run - -bench Cases25k ./store/` prints ms per operation.
func BenchmarkCases25k(b *testing.B) {
	s := seedNetwork(b, 25000)
	ctx := context.Background()
	year := time.Now().AddDate(0, -6, 0)
	for _, bc := range []struct {
		name string
		q    CaseQuery
	}{
		{"city-page1", CaseQuery{Under: "city"}},
		{"city-page100", CaseQuery{Under: "city", Offset: 99 * 50}},
		{"township-open-red", CaseQuery{Under: "t03", Status: "accepted", Risk: "red"}},
		{"city-board-channel-6months", CaseQuery{Under: "city", Board: "dispute", Channel: "qr", From: year}},
		{"city-overdue", CaseQuery{Under: "city", Overdue: true}},
		{"city-search-name", CaseQuery{Under: "city", Query: "村民2413"}},
	} {
		b.Run("find/"+bc.name, func(b *testing.B) {
			var total int
			for i := 0; i < b.N; i++ {
				var err error
				if _, total, err = s.FindCases(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(total), "matched")
		})
	}
	for _, by := range []string{"centre", "tier", "board"} {
		b.Run("stats/"+by, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.StatLines(ctx, by, StatsFilter{Under: "city"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
}

// TestFindCasesAndStats: paging, filters and counting on a small network.
func TestFindCasesAndStats(t *testing.T) {
	s := seedNetwork(t, 600)
	ctx := ctxT(t)
	all, total, err := s.FindCases(ctx, CaseQuery{Under: "city", Limit: 1000})
	if err != nil || total != 600 || len(all) != 600 {
		t.Fatalf("all: %d of %d, %v", len(all), total, err)
	}
	p2, total2, err := s.FindCases(ctx, CaseQuery{Under: "city", Offset: 50, Limit: 50})
	if err != nil || total2 != 600 || len(p2) != 50 || p2[0].ID != all[50].ID {
		t.Fatalf("page 2: %d %v", len(p2), err)
	}
	under, n, _ := s.FindCases(ctx, CaseQuery{Under: "t03", Status: "accepted", Limit: 1000})
	for _, c := range under {
		if c.Status != "accepted" || (c.Centre != "t03" && c.Centre[:3] != "t03") {
			t.Fatalf("t03 accepted: got %+v", c)
		}
	}
	if n != len(under) {
		t.Fatalf("count %d, listed %d", n, len(under))
	}
	hit, n, _ := s.FindCases(ctx, CaseQuery{Under: "city", Query: "村民123"})
	if n < 1 || hit[0].Parties[0].Name[:len("村民123")] != "村民123" {
		t.Fatalf("search: %d %+v", n, hit)
	}
	if _, n, _ := s.FindCases(ctx, CaseQuery{Under: "city", Query: "%"}); n != 0 {
		t.Fatalf("a literal %% matched %d", n)
	}
	lines, err := s.StatLines(ctx, "tier", StatsFilter{Under: "city"})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, l := range lines {
		sum += l.Accepted
	}
	if sum != 600 {
		t.Fatalf("stats count %d, want 600", sum)
	}
}
