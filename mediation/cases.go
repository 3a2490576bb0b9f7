package mediation

import (
	"context"
	"errors"

	"net/http"
	"strings"

	"yizhan/store"
)

// casesAPI creates, lists and changes cases, and counts them.
type casesAPI struct{ *core }

// canSee: staff see their own centre and every centre below it.
func (s *core) canSee(ctx context.Context, a *actor, centre string) (bool, error) {
	return s.st.Under(ctx, a.Centre, centre)
}

// editor: may create and change cases and schedule sessions (of visible cases).
func (a *actor) editor() bool {
	return a.Has("mediator") || a.Has("leader") || a.Has("clerk") || a.Has("admin")
}

// visibleCase loads case id, answering 404 for cases the actor may not see.
func (s *core) visibleCase(ctx context.Context, a *actor, id int64) (store.Case, error) {
	c, err := s.st.Case(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, notFound("case")
	}
	if err != nil {
		return c, err
	}
	ok, err := s.canSee(ctx, a, c.Centre)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, notFound("case")
	}
	return c, nil
}

func (s *core) names(ctx context.Context, cs ...store.Case) (names, error) {
	n := names{staff: map[string]string{}}
	var err error
	if n.centres, err = s.centreMap(ctx); err != nil {
		return n, err
	}
	for _, c := range cs {
		if c.Mediator == "" || n.staff[c.Mediator] != "" {
			continue
		}
		if st, err := s.st.Staff(ctx, c.Mediator); err == nil {
			n.staff[c.Mediator] = st.Name
		}
	}
	return n, nil
}

type partyReq struct {
	Name  string `json:"name"`
	Side  string `json:"side"`
	Phone string `json:"phone"`
}

type createCaseReq struct {
	Title       string     `json:"title"`
	Category    string     `json:"category"`
	Risk        string     `json:"risk"`
	Description string     `json:"description"`
	Centre      string     `json:"centre"`
	Mediator    string     `json:"mediator"`
	Parties     []partyReq `json:"parties"`
}

func (s *casesAPI) createCase(w http.ResponseWriter, r *http.Request, a *actor) error {
	if !a.editor() {
		return errForbidden
	}
	var req createCaseReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	if req.Centre == "" {
		req.Centre = a.Centre
	}
	if ok, err := s.canSee(ctx, a, req.Centre); err != nil {
		return err
	} else if !ok {
		return badRequest("centre %q is not yours or below yours", req.Centre)
	}
	if err := checkLen("title", req.Title, 200); err != nil {
		return err
	}
	if err := checkLen("description", req.Description, 10000); err != nil {
		return err
	}
	if len(req.Parties) > 50 {
		return badRequest("at most 50 parties")
	}
	c := store.Case{Title: strings.TrimSpace(req.Title), Category: req.Category, Risk: req.Risk, Description: req.Description,
		Centre: req.Centre, CreatedBy: a.Username}
	if err := validateCaseFields(c); err != nil {
		return err
	}
	if req.Mediator != "" {
		if err := s.checkMediator(ctx, req.Mediator, req.Centre); err != nil {
			return err
		}
		c.Mediator = req.Mediator
	}
	for _, p := range req.Parties {
		if strings.TrimSpace(p.Name) == "" || !store.OneOf(p.Side, store.Sides) {
			return badRequest("every party needs a name and side applicant or respondent")
		}
		if err := checkLen("party name", p.Name, 100); err != nil {
			return err
		}
		if err := checkLen("phone", p.Phone, 40); err != nil {
			return err
		}
		c.Parties = append(c.Parties, store.Party{Name: strings.TrimSpace(p.Name), Side: p.Side, Phone: strings.TrimSpace(p.Phone)})
	}
	c, err := s.st.CreateCase(ctx, c)
	if err != nil {
		return err
	}
	s.publishCase(c, "created")
	n, err := s.names(ctx, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, caseView(c, n))
	return nil
}

func validateCaseFields(c store.Case) error {
	switch {
	case c.Title == "":
		return badRequest("title is required")
	case !store.OneOf(c.Category, store.Categories):
		return badRequest("category must be one of %s", strings.Join(store.Categories, ", "))
	case !store.OneOf(c.Risk, store.Risks):
		return badRequest("risk must be red, yellow or blue")
	}
	return nil
}

func checkLen(field, v string, max int) error {
	if len(v) > max {
		return badRequest("%s is longer than %d bytes", field, max)
	}
	return nil
}

// checkMediator: a mediator of a case is staff with the mediator role at the case's
// centre or above it (a city mediator may take a village case).
func (s *casesAPI) checkMediator(ctx context.Context, username, centre string) error {
	st, err := s.st.Staff(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!st.Has("mediator") || st.Disabled)) {
		return badRequest("mediator %q is not a mediator", username)
	}
	if err != nil {
		return err
	}
	ok, err := s.st.Under(ctx, st.Centre, centre)
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("mediator %q belongs to a centre that does not cover this case", username)
	}
	return nil
}

func (s *casesAPI) listCases(w http.ResponseWriter, r *http.Request, a *actor) error {
	q := r.URL.Query()
	f := store.CaseFilter{Under: a.Centre, Centre: q.Get("centre"), Status: q.Get("status"), Risk: q.Get("risk")}
	if f.Status != "" && !store.OneOf(f.Status, store.Statuses) {
		return badRequest("status must be one of %s", strings.Join(store.Statuses, ", "))
	}
	if f.Risk != "" && !store.OneOf(f.Risk, store.Risks) {
		return badRequest("risk must be red, yellow or blue")
	}
	cs, err := s.st.ListCases(r.Context(), f)
	if err != nil {
		return err
	}
	n, err := s.names(r.Context(), cs...)
	if err != nil {
		return err
	}
	out := make([]caseJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, caseView(c, n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
	return nil
}

func (s *casesAPI) getCase(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.visibleCase(ctx, a, id)
	if err != nil {
		return err
	}
	return s.writeCaseDetail(ctx, w, http.StatusOK, c)
}

func (s *casesAPI) writeCaseDetail(ctx context.Context, w http.ResponseWriter, status int, c store.Case) error {
	n, err := s.names(ctx, c)
	if err != nil {
		return err
	}
	tl, err := s.st.Timeline(ctx, c.ID)
	if err != nil {
		return err
	}
	ss, err := s.st.ListSessions(ctx, store.SessionFilter{CaseID: c.ID})
	if err != nil {
		return err
	}
	sv, err := s.st.Supervisions(ctx, c.ID)
	if err != nil {
		return err
	}
	d := caseDetailJSON{caseJSON: caseView(c, n), Timeline: []eventJSON{}, Sessions: []sessionJSON{}, Supervisions: []supervisionJSON{}}
	for _, e := range tl {
		d.Timeline = append(d.Timeline, eventView(e))
	}
	for _, se := range ss {
		d.Sessions = append(d.Sessions, sessionView(se, c))
	}
	for _, x := range sv {
		d.Supervisions = append(d.Supervisions, supervisionView(x))
	}
	writeJSON(w, status, d)
	return nil
}

// editCase resolves {id} to a case the actor can see (else 404) and may change (else
// 403), and decodes the request body into req (else 400), in that order.
func (s *core) editCase(w http.ResponseWriter, r *http.Request, a *actor, req any) (store.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Case{}, err
	}
	c, err := s.visibleCase(r.Context(), a, id)
	if err != nil {
		return c, err
	}
	if !a.editor() {
		return c, errForbidden
	}
	return c, decode(w, r, req, false)
}

type patchCaseReq struct {
	Status   *string `json:"status"`
	Risk     *string `json:"risk"`
	Mediator *string `json:"mediator"`
	Outcome  *string `json:"outcome"`
}

func (s *casesAPI) patchCase(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req patchCaseReq
	c, err := s.editCase(w, r, a, &req)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if req.Status == nil && req.Risk == nil && req.Mediator == nil && req.Outcome == nil {
		return badRequest("nothing to change: give status, risk, mediator or outcome")
	}
	if req.Risk != nil && !store.OneOf(*req.Risk, store.Risks) {
		return badRequest("risk must be red, yellow or blue")
	}
	if req.Status != nil && !store.OneOf(*req.Status, store.Statuses) {
		return badRequest("status must be one of %s", strings.Join(store.Statuses, ", "))
	}
	if req.Outcome != nil {
		if err := checkLen("outcome", *req.Outcome, 10000); err != nil {
			return err
		}
	}
	if req.Mediator != nil && *req.Mediator != "" {
		if err := s.checkMediator(ctx, *req.Mediator, c.Centre); err != nil {
			return err
		}
	}
	c, err = s.st.UpdateCase(ctx, c.ID, store.CaseUpdate{Status: req.Status, Risk: req.Risk, Mediator: req.Mediator, Outcome: req.Outcome}, a.Username)
	if err != nil {
		return err
	}
	s.publishCase(c, "updated")
	n, err := s.names(ctx, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseView(c, n))
	return nil
}

type statJSON struct {
	Key         string  `json:"key"`
	Accepted    int     `json:"accepted"`
	Closed      int     `json:"closed"`
	ClosureRate float64 `json:"closure_rate"`
}

func statView(r store.StatRow) statJSON {
	v := statJSON{Key: r.Key, Accepted: r.Accepted, Closed: r.Closed}
	if r.Accepted > 0 {
		v.ClosureRate = float64(r.Closed) / float64(r.Accepted)
	}
	return v
}

func (s *casesAPI) stats(w http.ResponseWriter, r *http.Request, a *actor) error {
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "tier"
	}
	if by != "tier" && by != "category" && by != "risk" {
		return badRequest("by must be tier, category or risk")
	}
	rows, err := s.st.Stats(r.Context(), by, a.Centre)
	if err != nil {
		return err
	}
	out := struct {
		By    string     `json:"by"`
		Rows  []statJSON `json:"rows"`
		Total statJSON   `json:"total"`
	}{By: by, Rows: []statJSON{}}
	var total store.StatRow
	for _, row := range rows {
		out.Rows = append(out.Rows, statView(row))
		total.Accepted += row.Accepted
		total.Closed += row.Closed
	}
	out.Total = statView(total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// caseEvent records a timeline event, logging (not failing) on error: the action it
// records has already happened in the room.
func (s *core) caseEvent(ctx context.Context, ev store.Event) {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev, err := s.st.AddEvent(ctx, ev)
	if err != nil {
		s.log.Error("timeline event lost", "case", ev.CaseID, "kind", ev.Kind, "err", err)
		return
	}
	if ev.SessionID != 0 && s.cfg.Recorder != nil {
		s.cfg.Recorder.Log(ev.SessionID, caseFileEvent(ev))
	}
	s.emit(event{name: "case", caseCentre: s.centreOfCase(ctx, ev.CaseID), data: map[string]any{
		"case_id": ev.CaseID, "kind": "event", "event": ev.Kind}})
}

func (s *core) centreOfCase(ctx context.Context, id int64) string {
	c, err := s.st.Case(ctx, id)
	if err != nil {
		return ""
	}
	return c.Centre
}

func (s *core) publishCase(c store.Case, kind string) {
	s.emit(event{name: "case", caseCentre: c.Centre, data: map[string]any{
		"case_id": c.ID, "number": c.Number, "status": c.Status, "kind": kind}})
}
