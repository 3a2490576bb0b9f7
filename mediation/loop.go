package mediation

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"yizhan/store"
)

// caseLoop is the centre's loop on the staff side (issue 11): assessment and the alerts it
// raises up the tiers, dispatch to another centre or a department, supervision items,
// closing, reopening and follow-ups, and the timer that finds what is overdue.
type caseLoop struct {
	// static after construction
	svc       *Service // shared helpers: login, visibility, events, views
	st        store.Store
	log       *slog.Logger
	ackWithin time.Duration // how long a leader has to acknowledge an alert
	tick      time.Duration // how often the overdue timer runs

	stop     chan struct{} // closed by close: ends overdueLoop
	stopOnce sync.Once
	done     chan struct{} // closed when overdueLoop returned
}

func newCaseLoop(s *Service) *caseLoop {
	l := &caseLoop{svc: s, st: s.st, log: s.log.With("part", "loop"), ackWithin: 2 * time.Hour, tick: 30 * time.Second,
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.overdueLoop() // ends on close
	return l
}

func (l *caseLoop) close() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

func (l *caseLoop) routes(m *http.ServeMux) {
	s := l.svc
	m.Handle("POST /api/cases/{id}/assess", s.staff(l.assess))
	m.Handle("GET /api/cases/{id}/loop", s.staff(l.caseLoopView))
	m.Handle("GET /api/alerts", s.staff(l.listAlerts))
	m.Handle("POST /api/alerts/{id}/ack", s.staff(l.ackAlert))
	m.Handle("GET /api/centres/{code}/departments", s.staff(l.listDepartments))
	m.Handle("POST /api/centres/{code}/departments", s.staff(l.addDepartment))
	m.Handle("POST /api/cases/{id}/transfer", s.staff(l.transfer))
	m.Handle("GET /api/transfers", s.staff(l.listTransfers))
	m.Handle("POST /api/transfers/{id}/accept", s.staff(l.decideTransfer(true)))
	m.Handle("POST /api/transfers/{id}/return", s.staff(l.decideTransfer(false)))
	m.Handle("POST /api/cases/{id}/supervisions", s.staff(l.addSupervision))
	m.Handle("PATCH /api/supervisions/{id}", s.staff(l.patchSupervision))
	m.Handle("POST /api/cases/{id}/close", s.staff(l.closeCase))
	m.Handle("POST /api/cases/{id}/reopen", s.staff(l.reopenCase))
	m.Handle("POST /api/cases/{id}/followups", s.staff(l.addFollowUp))
}

// alertTargets: red goes to every centre above the case's (its own when it has none
// above), yellow to its township, a major report to the city at the root.
func alertTargets(centres map[string]store.Centre, caseCentre, risk string, major bool) []store.Alert {
	var out []store.Alert
	var chain []store.Centre // the case's centre, then up to the root
	for code := caseCentre; code != ""; code = centres[code].Parent {
		c, ok := centres[code]
		if !ok || len(chain) > 10 {
			break
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil
	}
	switch risk {
	case "red":
		if len(chain) == 1 {
			out = append(out, store.Alert{Centre: chain[0].Code, Kind: "red"})
		}
		for _, c := range chain[1:] {
			out = append(out, store.Alert{Centre: c.Code, Kind: "red"})
		}
	case "yellow":
		for _, c := range chain {
			if c.Tier == "township" {
				out = append(out, store.Alert{Centre: c.Code, Kind: "yellow"})
			}
		}
	}
	if major {
		out = append(out, store.Alert{Centre: chain[len(chain)-1].Code, Kind: "major"})
	}
	return out
}

type assessReq struct {
	Notes    string `json:"notes"`
	Board    string `json:"board"`
	Category string `json:"category"`
	Risk     string `json:"risk"`
	Major    bool   `json:"major"`
}

func (l *caseLoop) assess(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req assessReq
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	if req.Board == "" {
		req.Board = c.Board
	}
	if req.Category == "" {
		req.Category = c.Category
		if req.Board != "dispute" {
			req.Category = "other"
		}
	}
	switch {
	case !store.OneOf(req.Board, store.Boards):
		return badRequest("board must be one of %s", strings.Join(store.Boards, ", "))
	case !store.OneOf(req.Category, store.Categories):
		return badRequest("category must be one of %s", strings.Join(store.Categories, ", "))
	case !store.OneOf(req.Risk, store.Risks):
		return badRequest("risk must be red, yellow or blue")
	}
	if err := checkLen("notes", req.Notes, 10000); err != nil {
		return err
	}
	ctx := r.Context()
	centres, err := l.svc.centreMap(ctx)
	if err != nil {
		return err
	}
	targets := alertTargets(centres, c.Centre, req.Risk, req.Major)
	for i := range targets {
		targets[i].AckBy = l.svc.now().Add(l.ackWithin)
	}
	c, made, err := l.st.Assess(ctx, store.Assessment{CaseID: c.ID, Notes: strings.TrimSpace(req.Notes), Board: req.Board, Category: req.Category,
		Risk: req.Risk, Major: req.Major, Actor: a.Username, Alerts: targets})
	if err != nil {
		return err
	}
	l.svc.publishCase(c, "assessed")
	out := []alertJSON{}
	for _, al := range made {
		v := alertView(al, c, centres, l.svc.now())
		out = append(out, v)
		l.svc.emit(event{name: "alert", caseCentre: al.Centre, data: v})
	}
	n, err := l.svc.names(ctx, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": caseView(c, n), "alerts": out})
	return nil
}

func (l *caseLoop) listAlerts(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	open := r.URL.Query().Get("open") != "0"
	list, err := l.st.Alerts(ctx, a.Centre, open)
	if err != nil {
		return err
	}
	centres, err := l.svc.centreMap(ctx)
	if err != nil {
		return err
	}
	out := make([]alertJSON, 0, len(list))
	for _, al := range list {
		c, err := l.st.Case(ctx, al.CaseID)
		if err != nil {
			return err
		}
		out = append(out, alertView(al, c, centres, l.svc.now()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
	return nil
}

// leads: leaders and admins answer for a centre (acknowledge alerts, publish slots,
// add departments).
func (a *actor) leads() bool { return a.Has("leader") || a.Has("admin") }

func (l *caseLoop) ackAlert(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct{}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	al, err := l.st.Alert(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("alert")
	}
	if err != nil {
		return err
	}
	if ok, err := l.svc.canSee(ctx, a, al.Centre); err != nil {
		return err
	} else if !ok {
		return notFound("alert")
	}
	if !a.leads() {
		return errf(http.StatusForbidden, "forbidden", "only a leader acknowledges an alert")
	}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	al, err = l.st.AckAlert(ctx, id, a.Username)
	if err != nil {
		return err
	}
	c, err := l.st.Case(ctx, al.CaseID)
	if err != nil {
		return err
	}
	centres, err := l.svc.centreMap(ctx)
	if err != nil {
		return err
	}
	v := alertView(al, c, centres, l.svc.now())
	l.svc.emit(event{name: "alert", caseCentre: al.Centre, data: v})
	writeJSON(w, http.StatusOK, v)
	return nil
}

// centreParam resolves {code} to a centre the actor can see (else 404).
func (l *caseLoop) centreParam(ctx context.Context, r *http.Request, a *actor) (store.Centre, error) {
	code := r.PathValue("code")
	c, err := l.st.Centre(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return c, notFound("centre")
	}
	if err != nil {
		return c, err
	}
	if ok, err := l.svc.canSee(ctx, a, code); err != nil {
		return c, err
	} else if !ok {
		return c, notFound("centre")
	}
	return c, nil
}

func (l *caseLoop) listDepartments(w http.ResponseWriter, r *http.Request, a *actor) error {
	code := r.PathValue("code")
	if _, err := l.st.Centre(r.Context(), code); errors.Is(err, store.ErrNotFound) {
		return notFound("centre")
	} else if err != nil {
		return err
	}
	// every centre's departments are listed to all staff: a village sends cases up to them
	ds, err := l.st.Departments(r.Context(), code)
	if err != nil {
		return err
	}
	out := make([]departmentJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, departmentView(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": out})
	return nil
}

func (l *caseLoop) addDepartment(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	c, err := l.centreParam(ctx, r, a)
	if err != nil {
		return err
	}
	if !a.leads() {
		return errForbidden
	}
	var req struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := checkLen("name", req.Name, 100); err != nil {
		return err
	}
	if !store.OneOf(req.Kind, store.DepartmentKinds) || strings.TrimSpace(req.Name) == "" {
		return badRequest("a department needs a kind (%s) and a name", strings.Join(store.DepartmentKinds, ", "))
	}
	d, err := l.st.AddDepartment(ctx, store.Department{Centre: c.Code, Kind: req.Kind, Name: req.Name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, departmentView(d))
	return nil
}

type transferReq struct {
	Centre     string `json:"centre"`
	Department int64  `json:"department"`
	Reason     string `json:"reason"`
	Deadline   string `json:"deadline"`
}

func (l *caseLoop) transfer(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req transferReq
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	ctx := r.Context()
	req.Reason = strings.TrimSpace(req.Reason)
	if (req.Centre == "") == (req.Department == 0) {
		return badRequest("give either centre or department")
	}
	if req.Reason == "" {
		return badRequest("a reason is required")
	}
	if err := checkLen("reason", req.Reason, 2000); err != nil {
		return err
	}
	t := store.Transfer{CaseID: c.ID, ToCentre: req.Centre, Department: req.Department, Reason: req.Reason, CreatedBy: a.Username,
		Deadline: l.svc.now().Add(48 * time.Hour)}
	if req.Deadline != "" {
		if t.Deadline, err = parseDeadline(req.Deadline); err != nil {
			return badRequest("deadline must be YYYY-MM-DD or RFC 3339")
		}
	}
	if req.Department != 0 {
		d, err := l.st.Department(ctx, req.Department)
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("no department %d", req.Department)
		}
		if err != nil {
			return err
		}
		t.ToCentre = d.Centre
	} else if _, err := l.st.Centre(ctx, req.Centre); errors.Is(err, store.ErrNotFound) {
		return badRequest("no centre %q", req.Centre)
	}
	t, err = l.st.CreateTransfer(ctx, t)
	if err != nil {
		return err
	}
	v, err := l.transferView(ctx, t)
	if err != nil {
		return err
	}
	l.svc.emit(event{name: "transfer", caseCentre: t.ToCentre, data: v})
	l.svc.publishCase(c, "transfer")
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (l *caseLoop) listTransfers(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	list, err := l.st.Transfers(ctx, 0, a.Centre, r.URL.Query().Get("state") != "all")
	if err != nil {
		return err
	}
	out := make([]transferJSON, 0, len(list))
	for _, t := range list {
		v, err := l.transferView(ctx, t)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"transfers": out})
	return nil
}

// decideTransfer: the receiving centre (or one above it) accepts or returns a case.
func (l *caseLoop) decideTransfer(accept bool) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, a *actor) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		ctx := r.Context()
		t, err := l.st.Transfer(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("transfer")
		}
		if err != nil {
			return err
		}
		receiver, err := l.svc.canSee(ctx, a, t.ToCentre)
		if err != nil {
			return err
		}
		if !receiver {
			if _, err := l.svc.visibleCase(ctx, a, t.CaseID); err != nil {
				return notFound("transfer")
			}
			return errf(http.StatusForbidden, "forbidden", "only the receiving centre answers a transfer")
		}
		if !a.editor() {
			return errForbidden
		}
		var req struct {
			Reason string `json:"reason"`
		}
		if err := decode(w, r, &req, accept); err != nil {
			return err
		}
		if !accept && strings.TrimSpace(req.Reason) == "" {
			return badRequest("a reason is required to return a case")
		}
		if err := checkLen("reason", req.Reason, 2000); err != nil {
			return err
		}
		t, err = l.st.DecideTransfer(ctx, id, accept, a.Username, strings.TrimSpace(req.Reason))
		if err != nil {
			return err
		}
		v, err := l.transferView(ctx, t)
		if err != nil {
			return err
		}
		l.svc.emit(event{name: "transfer", caseCentre: t.FromCentre, data: v})
		l.svc.emit(event{name: "transfer", caseCentre: t.ToCentre, data: v})
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

type supervisionReq struct {
	Unit     string `json:"unit"`
	Owner    string `json:"owner"`
	Deadline string `json:"deadline"`
	Note     string `json:"note"`
}

func (l *caseLoop) addSupervision(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req supervisionReq
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	req.Unit, req.Owner, req.Note = strings.TrimSpace(req.Unit), strings.TrimSpace(req.Owner), strings.TrimSpace(req.Note)
	dl, err := parseDeadline(req.Deadline)
	if err != nil || req.Unit == "" {
		return badRequest("a supervision item needs a unit and a deadline (YYYY-MM-DD or RFC 3339)")
	}
	for _, f := range [][2]string{{"unit", req.Unit}, {"owner", req.Owner}, {"note", req.Note}} {
		if err := checkLen(f[0], f[1], 2000); err != nil {
			return err
		}
	}
	sp, err := l.st.AddSupervision(r.Context(), store.SupervisionItem{Supervision: store.Supervision{CaseID: c.ID, Unit: req.Unit, Deadline: dl, CreatedBy: a.Username},
		Owner: req.Owner, Note: req.Note})
	if err != nil {
		return err
	}
	l.svc.publishCase(c, "supervision")
	writeJSON(w, http.StatusCreated, supervisionItemView(sp, l.svc.now()))
	return nil
}

func (l *caseLoop) patchSupervision(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	sp, err := l.st.SupervisionItem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("supervision")
	}
	if err != nil {
		return err
	}
	c, err := l.svc.visibleCase(ctx, a, sp.CaseID)
	if err != nil {
		return notFound("supervision")
	}
	if !a.editor() && sp.Owner != a.Username {
		return errForbidden
	}
	var req struct {
		Done *bool  `json:"done"`
		Note string `json:"note"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Done == nil {
		return badRequest("done (true or false) is required")
	}
	req.Note = strings.TrimSpace(req.Note)
	if *req.Done && req.Note == "" {
		return badRequest("a note saying what was done is required")
	}
	if err := checkLen("note", req.Note, 2000); err != nil {
		return err
	}
	sp, err = l.st.SetSupervisionDone(ctx, id, *req.Done, req.Note, a.Username)
	if err != nil {
		return err
	}
	l.svc.publishCase(c, "supervision")
	writeJSON(w, http.StatusOK, supervisionItemView(sp, l.svc.now()))
	return nil
}

func (l *caseLoop) closeCase(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Outcome    string `json:"outcome"`
		InformedBy string `json:"informed_by"`
	}
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	req.Outcome = strings.TrimSpace(req.Outcome)
	if req.Outcome == "" || !store.OneOf(req.InformedBy, store.InformedBy) {
		return badRequest("closing needs an outcome and informed_by (%s)", strings.Join(store.InformedBy, ", "))
	}
	if err := checkLen("outcome", req.Outcome, 10000); err != nil {
		return err
	}
	c, err = l.st.CloseCase(r.Context(), c.ID, req.Outcome, req.InformedBy, a.Username)
	if err != nil {
		return err
	}
	return l.writeCase(w, r, c, "closed")
}

func (l *caseLoop) reopenCase(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Reason string `json:"reason"`
	}
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return badRequest("a reason is required")
	}
	if err := checkLen("reason", req.Reason, 2000); err != nil {
		return err
	}
	c, err = l.st.ReopenCase(r.Context(), c.ID, req.Reason, a.Username)
	if err != nil {
		return err
	}
	return l.writeCase(w, r, c, "reopened")
}

func (l *caseLoop) writeCase(w http.ResponseWriter, r *http.Request, c store.Case, kind string) error {
	l.svc.publishCase(c, kind)
	n, err := l.svc.names(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseView(c, n))
	return nil
}

func (l *caseLoop) addFollowUp(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Method       string `json:"method"`
		Note         string `json:"note"`
		Satisfaction int    `json:"satisfaction"`
	}
	c, err := l.svc.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	req.Note = strings.TrimSpace(req.Note)
	if req.Method == "" {
		req.Method = "phone"
	}
	if req.Note == "" || !store.OneOf(req.Method, store.InformedBy) || req.Satisfaction < 0 || req.Satisfaction > 5 {
		return badRequest("a follow-up needs a note, a method (%s) and, if given, satisfaction 1-5", strings.Join(store.InformedBy, ", "))
	}
	if err := checkLen("note", req.Note, 10000); err != nil {
		return err
	}
	f, err := l.st.AddFollowUp(r.Context(), store.FollowUp{CaseID: c.ID, Method: req.Method, Note: req.Note, Satisfaction: req.Satisfaction, CreatedBy: a.Username})
	if err != nil {
		return err
	}
	l.svc.publishCase(c, "followup")
	writeJSON(w, http.StatusCreated, followUpView(f))
	return nil
}

// caseLoopView is GET /api/cases/{id}/loop: everything of the loop on one case.
func (l *caseLoop) caseLoopView(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := l.svc.visibleCase(ctx, a, id)
	if err != nil {
		return err
	}
	centres, err := l.svc.centreMap(ctx)
	if err != nil {
		return err
	}
	now := l.svc.now()
	out := struct {
		Alerts       []alertJSON           `json:"alerts"`
		Transfers    []transferJSON        `json:"transfers"`
		Supervisions []supervisionItemJSON `json:"supervisions"`
		FollowUps    []followUpJSON        `json:"followups"`
		Photos       []string              `json:"photos"`
	}{Alerts: []alertJSON{}, Transfers: []transferJSON{}, Supervisions: []supervisionItemJSON{}, FollowUps: []followUpJSON{}, Photos: []string{}}
	all, err := l.st.Alerts(ctx, centres[rootOf(centres, c.Centre)].Code, false)
	if err != nil {
		return err
	}
	for _, al := range all {
		if al.CaseID == c.ID {
			out.Alerts = append(out.Alerts, alertView(al, c, centres, now))
		}
	}
	ts, err := l.st.Transfers(ctx, c.ID, "", false)
	if err != nil {
		return err
	}
	for _, t := range ts {
		v, err := l.transferView(ctx, t)
		if err != nil {
			return err
		}
		out.Transfers = append(out.Transfers, v)
	}
	sv, err := l.st.SupervisionItems(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, sp := range sv {
		out.Supervisions = append(out.Supervisions, supervisionItemView(sp, now))
	}
	fs, err := l.st.FollowUps(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, f := range fs {
		out.FollowUps = append(out.FollowUps, followUpView(f))
	}
	if out.Photos, err = l.svc.intake.photoURLs(ctx, c.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func rootOf(centres map[string]store.Centre, code string) string {
	for i := 0; i < 10 && centres[code].Parent != ""; i++ {
		code = centres[code].Parent
	}
	return code
}

// overdueLoop runs the timer: every tick it flags supervision items, alerts and transfers
// that passed their deadlines and tells the consoles.
func (l *caseLoop) overdueLoop() {
	defer close(l.done)
	t := time.NewTicker(l.tick)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.markOverdue()
		}
	}
}

func (l *caseLoop) markOverdue() {
	ctx, cancel := bg()
	defer cancel()
	o, err := l.st.MarkOverdue(ctx, l.svc.now())
	if err != nil {
		l.log.Error("overdue pass", "err", err)
		return
	}
	for _, sp := range o.Supervisions {
		l.svc.emit(event{name: "overdue", caseCentre: l.svc.centreOfCase(ctx, sp.CaseID), data: map[string]any{"kind": "supervision", "id": sp.ID, "case_id": sp.CaseID}})
	}
	for _, al := range o.Alerts {
		l.svc.emit(event{name: "overdue", caseCentre: al.Centre, data: map[string]any{"kind": "alert", "id": al.ID, "case_id": al.CaseID}})
	}
	for _, t := range o.Transfers {
		l.svc.emit(event{name: "overdue", caseCentre: t.FromCentre, data: map[string]any{"kind": "transfer", "id": t.ID, "case_id": t.CaseID}})
	}
}
