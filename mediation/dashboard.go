package mediation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"yizhan/store"
)

// dashboard is one screen for the whole city (issue 11): statistics by period and key,
// rolled up the centre tree; the case list paged and filtered on the server; the export.
type dashboard struct {
	svc *Service // static: login, visibility, views
	st  store.Store
}

func (d *dashboard) routes(m *http.ServeMux) {
	s := d.svc
	m.Handle("GET /api/cases", s.staff(d.listCases))
	m.Handle("GET /api/stats", s.staff(d.stats))
	m.Handle("GET /api/stats/export.xlsx", s.staff(d.export))
	m.Handle("GET /api/centres/{code}/qr.svg", s.open(d.qr))
}

// parseDay is a YYYY-MM-DD day at the centres' midnight (UTC+8), or an RFC 3339 time.
func parseDay(v string) (time.Time, bool, error) {
	if t, err := time.ParseInLocation("2006-01-02", v, chinaTime); err == nil {
		return t, true, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, false, err
}

// period reads from, to and period (day, week, month, year: the current one) of q.
func period(q url.Values, now time.Time) (from, to time.Time, err error) {
	n := now.In(chinaTime)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, chinaTime)
	switch q.Get("period") {
	case "":
	case "day":
		from = day
	case "week":
		from = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
	case "month":
		from = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, chinaTime)
	case "year":
		from = time.Date(n.Year(), 1, 1, 0, 0, 0, 0, chinaTime)
	default:
		return from, to, badRequest("period must be day, week, month or year")
	}
	if v := q.Get("from"); v != "" {
		if from, _, err = parseDay(v); err != nil {
			return from, to, badRequest("from must be YYYY-MM-DD or RFC 3339")
		}
	}
	if v := q.Get("to"); v != "" {
		var whole bool
		if to, whole, err = parseDay(v); err != nil {
			return from, to, badRequest("to must be YYYY-MM-DD or RFC 3339")
		}
		if whole {
			to = to.AddDate(0, 0, 1) // the whole last day
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, badRequest("to must be after from")
	}
	return from, to, nil
}

// rootParam is ?centre= (a centre the actor sees, 404 otherwise) or the actor's own.
func (d *dashboard) rootParam(ctx context.Context, a *actor, code string) (string, error) {
	if code == "" {
		return a.Centre, nil
	}
	ok, err := d.svc.canSee(ctx, a, code)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", notFound("centre")
	}
	return code, nil
}

func (d *dashboard) listCases(w http.ResponseWriter, r *http.Request, a *actor) error {
	q := r.URL.Query()
	ctx := r.Context()
	under, err := d.rootParam(ctx, a, q.Get("under"))
	if err != nil {
		return err
	}
	from, to, err := period(q, d.svc.now())
	if err != nil {
		return err
	}
	cq := store.CaseQuery{Under: under, Centre: q.Get("centre"), Status: q.Get("status"), Risk: q.Get("risk"), Board: q.Get("board"),
		Category: q.Get("category"), Channel: q.Get("channel"), Kind: q.Get("kind"), Query: q.Get("q"), From: from, To: to,
		Overdue: q.Get("overdue") == "1", Now: d.svc.now()}
	for _, f := range []struct {
		name, v string
		set     []string
	}{{"status", cq.Status, store.Statuses}, {"risk", cq.Risk, store.Risks}, {"board", cq.Board, store.Boards},
		{"category", cq.Category, store.Categories}, {"channel", cq.Channel, store.Channels}, {"kind", cq.Kind, []string{"case", "reception"}}} {
		if f.v != "" && !store.OneOf(f.v, f.set) {
			return badRequest("%s must be one of %s", f.name, strings.Join(f.set, ", "))
		}
	}
	if len(cq.Query) > 100 {
		return badRequest("q is longer than 100 bytes")
	}
	page, perPage := 1, 500 // without paging parameters: the first 500, as before paging
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 100000 {
			return badRequest("page must be a number from 1")
		}
		perPage = 50
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 500 {
			return badRequest("per_page must be 1 to 500")
		}
	}
	cq.Offset, cq.Limit = (page-1)*perPage, perPage
	cs, total, err := d.st.FindCases(ctx, cq)
	if err != nil {
		return err
	}
	n, err := d.svc.names(ctx, cs...)
	if err != nil {
		return err
	}
	out := make([]caseJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, caseView(c, n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out, "total": total, "page": page, "per_page": perPage})
	return nil
}

type statJSON struct {
	Key          string  `json:"key"`
	Name         string  `json:"name,omitempty"`   // by=centre
	Tier         string  `json:"tier,omitempty"`   // by=centre
	Parent       string  `json:"parent,omitempty"` // by=centre
	Accepted     int     `json:"accepted"`
	Closed       int     `json:"closed"`
	ClosureRate  float64 `json:"closure_rate"`
	Overdue      int     `json:"overdue"`
	OnTimeRate   float64 `json:"on_time_rate"` // closed by the due date / closed
	Satisfaction float64 `json:"satisfaction"` // mean rating 1-5, 0 = none rated
	Rated        int     `json:"rated"`
	RedOpen      int     `json:"red_alerts_open"`
}

func (v *statJSON) add(l store.StatLine) {
	v.Accepted += l.Accepted
	v.Closed += l.Closed
	v.Overdue += l.Overdue
	v.OnTimeRate += float64(l.OnTime) // a count until finish
	v.Satisfaction += float64(l.SatSum)
	v.Rated += l.Rated
	v.RedOpen += l.RedOpen
}

func (v *statJSON) finish() {
	if v.Accepted > 0 {
		v.ClosureRate = float64(v.Closed) / float64(v.Accepted)
	}
	if v.Closed > 0 {
		v.OnTimeRate /= float64(v.Closed)
	} else {
		v.OnTimeRate = 0
	}
	if v.Rated > 0 {
		v.Satisfaction /= float64(v.Rated)
	} else {
		v.Satisfaction = 0
	}
}

type statsJSON struct {
	By     string     `json:"by"`
	Centre string     `json:"centre"`
	From   *string    `json:"from"`
	To     *string    `json:"to"`
	Rows   []statJSON `json:"rows"`
	Total  statJSON   `json:"total"`
}

// compute answers a stats query: rows by key; by centre, every centre of the tree under
// root with the counts of its whole subtree (rolled up), parents before children.
func (d *dashboard) compute(r *http.Request, a *actor) (statsJSON, error) {
	q := r.URL.Query()
	ctx := r.Context()
	by := q.Get("by")
	if by == "" {
		by = "tier"
	}
	if !store.OneOf(by, store.StatKeys) {
		return statsJSON{}, badRequest("by must be one of %s", strings.Join(store.StatKeys, ", "))
	}
	root, err := d.rootParam(ctx, a, q.Get("centre"))
	if err != nil {
		return statsJSON{}, err
	}
	from, to, err := period(q, d.svc.now())
	if err != nil {
		return statsJSON{}, err
	}
	lines, err := d.st.StatLines(ctx, by, store.StatsFilter{Under: root, From: from, To: to, Now: d.svc.now()})
	if err != nil {
		return statsJSON{}, err
	}
	out := statsJSON{By: by, Centre: root, From: jsonTime(from), To: jsonTime(to), Rows: []statJSON{}, Total: statJSON{Key: ""}}
	for _, l := range lines {
		out.Total.add(l)
	}
	out.Total.finish()
	if by != "centre" {
		idx := map[string]int{}
		for _, l := range lines {
			i, ok := idx[l.Key]
			if !ok {
				i = len(out.Rows)
				idx[l.Key] = i
				out.Rows = append(out.Rows, statJSON{Key: l.Key})
			}
			out.Rows[i].add(l)
		}
		for i := range out.Rows {
			out.Rows[i].finish()
		}
		return out, nil
	}
	centres, err := d.svc.centreMap(ctx)
	if err != nil {
		return out, err
	}
	cs, err := d.st.Centres(ctx) // ordered by tier: parents first
	if err != nil {
		return out, err
	}
	idx := map[string]int{}
	for _, c := range cs {
		if ok, _ := d.st.Under(ctx, root, c.Code); !ok {
			continue
		}
		idx[c.Code] = len(out.Rows)
		out.Rows = append(out.Rows, statJSON{Key: c.Code, Name: c.Name, Tier: c.Tier, Parent: c.Parent})
	}
	for _, l := range lines { // each line counts at its centre and every centre above it, up to root
		for code, n := l.Centre, 0; code != "" && n < 10; code, n = centres[code].Parent, n+1 {
			if i, ok := idx[code]; ok {
				out.Rows[i].add(l)
			}
			if code == root {
				break
			}
		}
	}
	for i := range out.Rows {
		out.Rows[i].finish()
	}
	return out, nil
}

func (d *dashboard) stats(w http.ResponseWriter, r *http.Request, a *actor) error {
	out, err := d.compute(r, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportHeads are the export's column titles. A file leaves the app, so its headings are
// written here, in the language the caller asks for (lang=en; Chinese otherwise).
var exportHeads = map[string][]string{
	"zh": {"分组", "名称", "受理", "办结", "办结率", "超期", "按期办结率", "满意度", "评价数", "未确认红色预警"},
	"en": {"group", "name", "accepted", "closed", "closure rate", "overdue", "on-time rate", "satisfaction", "rated", "red alerts open"},
}

func (d *dashboard) export(w http.ResponseWriter, r *http.Request, a *actor) error {
	out, err := d.compute(r, a)
	if err != nil {
		return err
	}
	lang := "zh"
	if r.URL.Query().Get("lang") == "en" {
		lang = "en"
	}
	rows := [][]any{}
	head := []any{}
	for _, h := range exportHeads[lang] {
		head = append(head, h)
	}
	rows = append(rows, head)
	for _, v := range append(out.Rows, out.Total) {
		key := v.Key
		if key == "" {
			key = map[string]string{"zh": "合计", "en": "total"}[lang]
		}
		rows = append(rows, []any{key, v.Name, v.Accepted, v.Closed, v.ClosureRate, v.Overdue, v.OnTimeRate, v.Satisfaction, v.Rated, v.RedOpen})
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="stats-%s-%s.xlsx"`, out.Centre, out.By))
	w.Header().Set("Cache-Control", "no-store")
	return writeXLSX(w, "stats", rows)
}

func (d *dashboard) qr(w http.ResponseWriter, r *http.Request) error {
	c, err := d.st.Centre(r.Context(), r.PathValue("code"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("centre")
	}
	if err != nil {
		return err
	}
	svg, err := qrSVG(d.svc.intake.publicURL(r, "/q/"+c.Code))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(svg)
	return nil
}
